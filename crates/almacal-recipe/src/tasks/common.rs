//! Parameter groups shared by several tasks: data selection and the
//! calibration-application parameters (gaintable/gainfield/interp/spwmap).

use crate::schema::{p, r, Def, ParamSpec, Role, Support, Ty};

/// `vis`: an input name or a vis-producing stage.
pub const VIS: ParamSpec = r("vis", Ty::Str, Def::Required, Role::Vis);

/// CASA's data-selection parameters.
pub const SELECTION: &[ParamSpec] = &[
    p("field", Ty::Sel, Def::Str("")),
    p("spw", Ty::Sel, Def::Str("")),
    p("intent", Ty::Sel, Def::Str("")),
    p("scan", Ty::Sel, Def::Str("")),
    p("antenna", Ty::Sel, Def::Str("")),
    p("timerange", Ty::Sel, Def::Str("")),
    p("uvrange", Ty::Sel, Def::Str("")),
    p("observation", Ty::Sel, Def::Str("")),
    p("msselect", Ty::Sel, Def::Str("")).default_only(
        "a TaQL selection expression; use field/spw/scan/antenna/intent/timerange/uvrange",
    ),
];

/// `array` / `feed`: only the whole array (ALMA data have one array and one feed).
pub const WHOLE_ARRAY: Support = Support::Rule(
    crate::support::whole_array_or_feed,
    "only \"\", \"0\", \"*\" (ALMA data have one array and feed)",
);

/// `selectdata` (solve tasks).
pub const SELECTDATA: &[ParamSpec] = &[p("selectdata", Ty::Bool, Def::Bool(true))];

/// Pre-application of calibration tables (gaincal, bandpass, applycal).
pub const PREAPPLY: &[ParamSpec] = &[
    r("gaintable", Ty::StrList, Def::StrList(&[]), Role::Caltables),
    p("gainfield", Ty::StrList, Def::StrList(&[])),
    p("interp", Ty::Interp, Def::StrList(&[])),
    p("spwmap", Ty::SpwMap, Def::StrList(&[])),
    p("parang", Ty::Bool, Def::Bool(false))
        .default_only("applies the parallactic-angle correction"),
];

/// Reasons shared by reserved parameters.
pub const OUT_CALTABLE: (&str, &str) = (
    "caltable",
    "almacal names the output itself: <workdir>/<stage>.cal; refer to it by the stage's name",
);
pub const NO_CALLIB: (&str, &str) = (
    "docallib",
    "cal library files are not supported; list the tables in `gaintable`",
);
pub const NO_CALLIB2: (&str, &str) = (
    "callib",
    "cal library files are not supported; list the tables in `gaintable`",
);
pub const NO_APPEND: (&str, &str) = (
    "append",
    "products are never appended to; each stage writes its own",
);
pub const NO_FLAGBACKUP: (&str, &str) = (
    "flagbackup",
    "the input is never modified: flags are layers, so no backup is needed",
);
