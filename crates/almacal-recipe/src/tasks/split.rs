//! `split`: write a selection of a vis as a new MeasurementSet.

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::common::VIS;

pub const DATACOLUMNS: &[&str] = &[
    "corrected",
    "data",
    "model",
    "data,model,corrected",
    "float_data",
    "all",
];

const OWN: &[ParamSpec] = &[
    VIS,
    r("outputvis", Ty::OutPath, Def::Absent, Role::OutputVis),
    p("field", Ty::Sel, Def::Str("")),
    p("spw", Ty::Sel, Def::Str("")),
    p("scan", Ty::Sel, Def::Str("")),
    p("antenna", Ty::Sel, Def::Str("")),
    p("correlation", Ty::Sel, Def::Str("")),
    p("timerange", Ty::Sel, Def::Str("")),
    p("intent", Ty::Sel, Def::Str("")),
    p("array", Ty::Sel, Def::Str("")),
    p("uvrange", Ty::Sel, Def::Str("")),
    p("observation", Ty::Sel, Def::Str("")),
    p("feed", Ty::Sel, Def::Str("")),
    p("datacolumn", Ty::Choice(DATACOLUMNS), Def::Str("corrected")),
    p("keepflags", Ty::Bool, Def::Bool(true)),
    p("width", Ty::IntList, Def::IntList(&[1])).bounded(Bounds::Int(1, COUNT_MAX)),
    p(
        "timebin",
        Ty::Quantity(crate::checks::TIME_UNITS),
        Def::Str("0s"),
    ),
    p("combine", Ty::StrList, Def::StrList(&[])),
];

pub const SPLIT: TaskSpec = TaskSpec {
    name: "split",
    params: &[OWN],
    reserved: &[("keepmms", "multi-MSs are not supported")],
    outputs,
    test_only: false,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
