//! `fluxscale`: bootstrap the flux scale of `transfer` fields from the
//! `reference` fields; writes the rescaled caltable and a JSON report with
//! the dictionary CASA returns.

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, TaskSpec, Ty};
use crate::value::Params;

use super::common::{NO_APPEND, VIS};

const OWN: &[ParamSpec] = &[
    VIS,
    r("caltable", Ty::Str, Def::Required, Role::Caltables),
    p("reference", Ty::Sel, Def::Required),
    p("transfer", Ty::Sel, Def::Str("")),
    p("refspwmap", Ty::IntList, Def::IntList(&[-1])).bounded(Bounds::Int(-1, i32::MAX as i64)),
    p("gainthreshold", Ty::Float, Def::Float(-1.0)).bounded(Bounds::FINITE),
    p("antenna", Ty::Sel, Def::Str("")),
    p("timerange", Ty::Sel, Def::Str("")).default_only("restricts the gains used to some times"),
    p("scan", Ty::Sel, Def::Str("")),
    p("incremental", Ty::Bool, Def::Bool(false))
        .default_only("writes only the scale factors as a separate table"),
    p("fitorder", Ty::Int, Def::Int(1)).bounded(Bounds::Int(0, 16)),
];

pub const FLUXSCALE: TaskSpec = TaskSpec {
    name: "fluxscale",
    params: &[OWN],
    reserved: &[
        (
            "fluxtable",
            "almacal names the output itself: <workdir>/<stage>.cal",
        ),
        (
            "listfile",
            "the results are written to <workdir>/<stage>.json",
        ),
        NO_APPEND,
        ("display", "use the run report's plots"),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable, ProductKind::Report]
}
