//! `split`: write a selection of a vis as a new MeasurementSet.

use crate::schema::{
    p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty, COUNT_MAX,
};
use crate::value::Params;

use super::common::{VIS, WHOLE_ARRAY};

pub const DATACOLUMNS: &[&str] = &[
    "corrected",
    "data",
    "model",
    "data,model,corrected",
    "float_data",
    "all",
];

/// `vis` and `outputvis` (split, mstransform).
pub const OUTPUT: &[ParamSpec] = &[
    VIS,
    r("outputvis", Ty::OutPath, Def::Absent, Role::OutputVis),
];

/// The selection of the rows written (split, mstransform).
pub const SELECTION: &[ParamSpec] = &[
    p("field", Ty::Sel, Def::Str("")),
    p("spw", Ty::Sel, Def::Str("")),
    p("scan", Ty::Sel, Def::Str("")),
    p("antenna", Ty::Sel, Def::Str("")),
    p("correlation", Ty::Sel, Def::Str(""))
        .default_only("selects correlations; the output keeps all of them"),
    p("timerange", Ty::Sel, Def::Str("")),
    p("intent", Ty::Sel, Def::Str("")),
    p("array", Ty::Sel, Def::Str("")).supports(WHOLE_ARRAY),
    p("uvrange", Ty::Sel, Def::Str("")),
    p("observation", Ty::Sel, Def::Str("")),
    p("feed", Ty::Sel, Def::Str("")).supports(WHOLE_ARRAY),
];

/// `datacolumn` and `keepflags` (split, mstransform).
pub const COLUMNS: &[ParamSpec] =
    &[
        p("datacolumn", Ty::Choice(DATACOLUMNS), Def::Str("corrected"))
            .supports(Support::Values(&["corrected", "data", "model"])),
        p("keepflags", Ty::Bool, Def::Bool(true)),
    ];

/// `timebin` (split, mstransform): time averaging (CASA 6.7's, per baseline within a
/// scan; mstransform only with `timeaverage = true`).
pub const TIMEBIN: ParamSpec = p(
    "timebin",
    Ty::Quantity(crate::checks::TIME_UNITS),
    Def::Str("0s"),
);

const OWN: &[ParamSpec] = &[
    // almacal: CASA's split always re-indexes (as mstransform's default reindex=True);
    // `false` keeps spw ids and DDIDs (mstransform's reindex=False).
    p("reindex", Ty::Bool, Def::Bool(true)),
    p("width", Ty::IntList, Def::IntList(&[1])).bounded(Bounds::Int(1, COUNT_MAX)),
    TIMEBIN,
    p("combine", Ty::StrList, Def::StrList(&[])).supports(Support::Rule(
        crate::support::split_combine,
        "\"scan\", \"state\" (CASA crosses ALMA sub-scans anyway)",
    )),
];

pub const SPLIT: TaskSpec = TaskSpec {
    name: "split",
    params: &[OUTPUT, SELECTION, COLUMNS, OWN],
    reserved: &[("keepmms", "multi-MSs are not supported")],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
