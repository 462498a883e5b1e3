//! `mstransform`: like split, plus CASA's reindex/averaging options.

use crate::schema::{p, Bounds, Def, ParamSpec, ProductKind, Support, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::split::{COLUMNS, OUTPUT, SELECTION, TIMEBIN};

const OWN: &[ParamSpec] = &[
    p("reindex", Ty::Bool, Def::Bool(true)),
    p("chanaverage", Ty::Bool, Def::Bool(false)),
    p("chanbin", Ty::IntList, Def::IntList(&[1])).bounded(Bounds::Int(1, COUNT_MAX)),
    p("timeaverage", Ty::Bool, Def::Bool(false)),
    TIMEBIN,
    p("timespan", Ty::Str, Def::Str("")).supports(Support::Rule(
        crate::support::split_combine,
        "\"scan\", \"state\" (CASA crosses ALMA sub-scans anyway)",
    )),
];

pub const MSTRANSFORM: TaskSpec = TaskSpec {
    name: "mstransform",
    params: &[OUTPUT, SELECTION, COLUMNS, OWN],
    reserved: &[
        ("createmms", "multi-MSs are not supported"),
        ("regridms", "regridding is not supported yet"),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
