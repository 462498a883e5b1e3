//! `flagcmd`: CASA's flag-command task. It applies (or lists, or plots) the online flags of
//! the vis's FLAG_CMD table (`inpmode = "table"`, selected by `tablerows`, `useapplied` and
//! `reason`) or the commands of a text file (`inpmode = "list"`, `inpfile`). Applying gives
//! a flag layer, as flagdata does; the input's FLAG_CMD table is never changed, so CASA's
//! APPLIED bookkeeping is the recipe itself (a stage applies what it selects, every run).

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::{NO_FLAGBACKUP, VIS};

/// flagcmd actions, and the ones almacal implements.
pub const ACTIONS: &[&str] = &["apply", "unapply", "list", "plot", "clear", "extract"];
const IMPLEMENTED_ACTIONS: &[&str] = &["apply", "list", "plot"];

const OWN: &[ParamSpec] = &[
    VIS,
    p(
        "inpmode",
        Ty::Choice(&["table", "list", "xml"]),
        Def::Str("table"),
    )
    .supports(Support::Values(&["table", "list"])),
    // inpmode = "list": a file of flag commands, one per line (flagdata's list format).
    r("inpfile", Ty::Str, Def::Absent, Role::TextFile),
    p("tablerows", Ty::IntList, Def::IntList(&[])).bounded(Bounds::Int(0, i64::MAX)),
    p("reason", Ty::StrList, Def::StrList(&["any"])),
    p("useapplied", Ty::Bool, Def::Bool(false)),
    p("action", Ty::Choice(ACTIONS), Def::Str("apply"))
        .supports(Support::Values(IMPLEMENTED_ACTIONS)),
    // CASA passes tbuff only to the Flag.xml reader: no effect with table or list input.
    p("tbuff", Ty::FloatList, Def::FloatList(&[0.0]))
        .bounded(Bounds::NON_NEGATIVE)
        .default_only("pads the time ranges of Flag.xml commands (inpmode = \"xml\")"),
];

pub const FLAGCMD: TaskSpec = TaskSpec {
    name: "flagcmd",
    params: &[OWN],
    reserved: &[
        NO_FLAGBACKUP,
        (
            "plotfile",
            "the plot of action = \"plot\" is written to <workdir>/plots/<stage>/flagcmd.png",
        ),
        (
            "savepars",
            "the recipe is the record of flag commands; FLAG_CMD of the input is never written",
        ),
        (
            "outfile",
            "the stage's report (<workdir>/<stage>.json) lists the commands",
        ),
        (
            "overwrite",
            "products are written by almacal; there is nothing to overwrite",
        ),
        ("ants", "the plot shows every antenna the commands flag"),
        ("clearall", "the input's FLAG_CMD table is never modified"),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(params: &Params) -> Vec<ProductKind> {
    match params.get("action").and_then(|a| a.as_str()) {
        Some("list") | Some("plot") => vec![ProductKind::Report],
        _ => vec![ProductKind::FlagLayer, ProductKind::Report],
    }
}
