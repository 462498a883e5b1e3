//! `mstransform`: like split, plus CASA's reindex/averaging options.

use crate::schema::{
    p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty, COUNT_MAX,
};
use crate::value::Params;

use super::common::VIS;
use super::split::DATACOLUMNS;

const OWN: &[ParamSpec] =
    &[
        VIS,
        r("outputvis", Ty::OutPath, Def::Absent, Role::OutputVis),
        p("field", Ty::Sel, Def::Str("")),
        p("spw", Ty::Sel, Def::Str("")),
        p("scan", Ty::Sel, Def::Str("")),
        p("antenna", Ty::Sel, Def::Str("")),
        p("correlation", Ty::Sel, Def::Str(""))
            .default_only("selects correlations; the output keeps all of them"),
        p("timerange", Ty::Sel, Def::Str("")),
        p("intent", Ty::Sel, Def::Str("")),
        p("array", Ty::Sel, Def::Str("")).supports(Support::Rule(
            crate::support::whole_array_or_feed,
            "only \"\", \"0\", \"*\" (ALMA data have one array and feed)",
        )),
        p("uvrange", Ty::Sel, Def::Str("")),
        p("observation", Ty::Sel, Def::Str("")),
        p("feed", Ty::Sel, Def::Str("")).supports(Support::Rule(
            crate::support::whole_array_or_feed,
            "only \"\", \"0\", \"*\" (ALMA data have one array and feed)",
        )),
        p("datacolumn", Ty::Choice(DATACOLUMNS), Def::Str("corrected"))
            .supports(Support::Values(&["corrected", "data", "model"])),
        p("keepflags", Ty::Bool, Def::Bool(true)),
        p("reindex", Ty::Bool, Def::Bool(true)).supports(Support::Rule(
            crate::support::no_reindex,
            "only false (spw ids kept)",
        )),
        p("chanaverage", Ty::Bool, Def::Bool(false)).default_only("averages channels"),
        p("chanbin", Ty::IntList, Def::IntList(&[1]))
            .bounded(Bounds::Int(1, COUNT_MAX))
            .supports(Support::Rule(
                crate::support::no_channel_average,
                "only 1 (no channel averaging)",
            )),
        p("timeaverage", Ty::Bool, Def::Bool(false)).default_only("averages in time"),
        p(
            "timebin",
            Ty::Quantity(crate::checks::TIME_UNITS),
            Def::Str("0s"),
        )
        .supports(Support::Rule(
            crate::support::no_time_average,
            "only \"0s\" (no time averaging)",
        )),
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
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
