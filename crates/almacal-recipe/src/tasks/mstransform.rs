//! `mstransform`: like split, plus CASA's reindex/averaging options.

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::common::VIS;
use super::split::DATACOLUMNS;

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
    p("reindex", Ty::Bool, Def::Bool(true)),
    p("chanaverage", Ty::Bool, Def::Bool(false)),
    p("chanbin", Ty::IntList, Def::IntList(&[1])).bounded(Bounds::Int(1, COUNT_MAX)),
    p("timeaverage", Ty::Bool, Def::Bool(false)),
    p(
        "timebin",
        Ty::Quantity(crate::checks::TIME_UNITS),
        Def::Str("0s"),
    ),
];

pub const MSTRANSFORM: TaskSpec = TaskSpec {
    name: "mstransform",
    params: &[OWN],
    reserved: &[
        ("createmms", "multi-MSs are not supported"),
        ("regridms", "regridding is not supported yet"),
    ],
    outputs,
    test_only: false,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
