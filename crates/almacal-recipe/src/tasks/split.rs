//! `split`: write a selection of a vis as a new MeasurementSet.

use crate::schema::{
    p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty, COUNT_MAX,
};
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
        p("width", Ty::IntList, Def::IntList(&[1]))
            .bounded(Bounds::Int(1, COUNT_MAX))
            .supports(Support::Rule(
                crate::support::no_channel_average,
                "only 1 (no channel averaging)",
            )),
        p(
            "timebin",
            Ty::Quantity(crate::checks::TIME_UNITS),
            Def::Str("0s"),
        )
        .supports(Support::Rule(
            crate::support::no_time_average,
            "only \"0s\" (no time averaging)",
        )),
        p("combine", Ty::StrList, Def::StrList(&[])).supports(Support::Rule(
            crate::support::no_combine,
            "only [] (no combining)",
        )),
    ];

pub const SPLIT: TaskSpec = TaskSpec {
    name: "split",
    params: &[OWN],
    reserved: &[("keepmms", "multi-MSs are not supported")],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
