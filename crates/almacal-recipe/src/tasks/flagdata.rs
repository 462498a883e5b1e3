//! `flagdata`: a list of flag commands (inline `commands`, an `inpfile` of
//! CASA flag commands, or one command given by top-level parameters). The
//! product is a flag layer that later stages reading the same vis see.

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::{NO_FLAGBACKUP, VIS, WHOLE_ARRAY};

/// flagdata modes: the ones almacal implements, and `list` (written as `inpfile`).
/// CASA's elevation, tfcrop, rflag and extend are not offered (not implemented).
pub const MODES: &[&str] = &[
    "manual", "list", "clip", "quack", "shadow", "unflag", "summary", "flagcmd", "table",
];

/// The modes almacal implements (`list` is written as `inpfile`).
pub const IMPLEMENTED_MODES: &[&str] = &[
    "manual", "clip", "quack", "shadow", "unflag", "summary", "flagcmd", "table",
];

/// Parameters of one flag command (CASA flagdata's, minus vis).
pub const FLAG_COMMAND_PARAMS: &[ParamSpec] = &[
    p("mode", Ty::Choice(MODES), Def::Str("manual")).supports(Support::Values(IMPLEMENTED_MODES)),
    p("field", Ty::Sel, Def::Str("")),
    p("spw", Ty::Sel, Def::Str("")),
    p("antenna", Ty::Sel, Def::Str("")),
    p("timerange", Ty::Sel, Def::Str("")),
    p("correlation", Ty::Sel, Def::Str("")),
    p("scan", Ty::Sel, Def::Str("")),
    p("intent", Ty::Sel, Def::Str("")),
    p("array", Ty::Sel, Def::Str("")).supports(WHOLE_ARRAY),
    p("uvrange", Ty::Sel, Def::Str("")),
    p("observation", Ty::Sel, Def::Str("")),
    p("feed", Ty::Sel, Def::Str("")).supports(WHOLE_ARRAY),
    p("autocorr", Ty::Bool, Def::Bool(false)),
    p("reason", Ty::Str, Def::Str("any")),
    // clip
    p(
        "datacolumn",
        Ty::Choice(&[
            "data",
            "corrected",
            "model",
            "residual",
            "fparam",
            "cparam",
            "snr",
            "paramerr",
        ]),
        Def::Str("data"),
    )
    // fparam/cparam/snr/paramerr: clip on a caltable (`vis` names one).
    .supports(Support::Values(&[
        "data",
        "corrected",
        "model",
        "fparam",
        "cparam",
        "snr",
        "paramerr",
    ])),
    p("clipminmax", Ty::FloatList, Def::FloatList(&[])).bounded(Bounds::FINITE),
    p("clipoutside", Ty::Bool, Def::Bool(true)),
    p("channelavg", Ty::Bool, Def::Bool(false)).default_only("clips on channel-averaged data"),
    p("clipzeros", Ty::Bool, Def::Bool(false)),
    // quack
    p("quackinterval", Ty::Float, Def::Float(1.0)).bounded(Bounds::NON_NEGATIVE),
    p(
        "quackmode",
        Ty::Choice(&["beg", "endb", "end", "tail"]),
        Def::Str("beg"),
    ),
    p("quackincrement", Ty::Bool, Def::Bool(false))
        .default_only("quacks incrementally across flagged scan starts"),
    // shadow
    p("tolerance", Ty::Float, Def::Float(0.0)).bounded(Bounds::FINITE),
    // flagcmd / table
    p("useapplied", Ty::Bool, Def::Bool(false)),
    p("tbuff", Ty::Float, Def::Float(0.0))
        .bounded(Bounds::NON_NEGATIVE)
        .default_only("pads the time ranges of FLAG_CMD commands"),
];

const OWN: &[ParamSpec] = &[
    VIS,
    p("commands", Ty::Commands, Def::Absent),
    r("inpfile", Ty::Str, Def::Absent, Role::TextFile),
];

pub const FLAGDATA: TaskSpec = TaskSpec {
    name: "flagdata",
    params: &[OWN, FLAG_COMMAND_PARAMS],
    reserved: &[
        NO_FLAGBACKUP,
        ("savepars", "the recipe is the record of flag commands"),
        (
            "action",
            "flag stages always apply their commands (use mode = \"summary\" for counts)",
        ),
        ("display", "flagdata's GUI is not available"),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(params: &Params) -> Vec<ProductKind> {
    let only_summary = params
        .get("commands")
        .and_then(|c| c.as_list())
        .is_some_and(|cmds| {
            !cmds.is_empty()
                && cmds.iter().all(|c| {
                    c.as_table()
                        .and_then(|t| t.get("mode"))
                        .and_then(|m| m.as_str())
                        == Some("summary")
                })
        })
        && !params.contains_key("inpfile");
    if only_summary {
        vec![ProductKind::Report]
    } else {
        vec![ProductKind::FlagLayer, ProductKind::Report]
    }
}
