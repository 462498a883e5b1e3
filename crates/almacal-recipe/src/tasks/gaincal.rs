//! `gaincal`: G/T/K gain solutions (CASA defaults).

use crate::schema::{
    p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty, COUNT_MAX,
};
use crate::value::Params;

use super::common::{NO_CALLIB, NO_CALLIB2, OUT_CALTABLE, PREAPPLY, SELECTDATA, SELECTION, VIS};

const OWN: &[ParamSpec] = &[
    VIS,
    p("solint", Ty::Solint { freq: false }, Def::Str("inf")),
    p("combine", Ty::StrList, Def::StrList(&[])).supports(Support::Rule(
        crate::support::gaincal_combine,
        "combining over scan, field, spw, obs",
    )),
    p("preavg", Ty::Float, Def::Float(-1.0))
        .bounded(Bounds::FINITE)
        .supports(Support::Rule(
            crate::support::preavg,
            "only <= 0 (the whole solint)",
        )),
    p("refant", Ty::Str, Def::Str("")),
    p(
        "refantmode",
        Ty::Choice(&["flex", "strict"]),
        Def::Str("flex"),
    ),
    p("minblperant", Ty::Int, Def::Int(4)).bounded(Bounds::Int(0, COUNT_MAX)),
    p("minsnr", Ty::Float, Def::Float(3.0)).bounded(Bounds::NON_NEGATIVE),
    p("solnorm", Ty::Bool, Def::Bool(false)),
    p(
        "normtype",
        Ty::Choice(&["mean", "median"]),
        Def::Str("mean"),
    ),
    p(
        "gaintype",
        Ty::Choice(&["G", "T", "K", "KCROSS", "XY", "XYf", "GSPLINE"]),
        Def::Str("G"),
    )
    .supports(Support::Values(&["G", "T"])),
    p("smodel", Ty::FloatList, Def::FloatList(&[]))
        .bounded(Bounds::FINITE)
        .default_only("a point-source Stokes model instead of MODEL_DATA; use a setjy stage"),
    p("calmode", Ty::Choice(&["ap", "p", "a"]), Def::Str("ap")),
    p("solmode", Ty::Choice(&["", "L1", "R", "L1R"]), Def::Str(""))
        .default_only("robust (L1 / outlier-rejecting) solving"),
    p("corrdepflags", Ty::Bool, Def::Bool(false))
        .default_only("keeps correlations whose partner correlation is flagged"),
    // CASA's `append=True`: the stage writes the named table's solutions plus its own.
    r("append_to", Ty::Str, Def::Absent, Role::Caltables),
];

/// CASA's `append`: written as `append_to` (products are never changed once written).
const APPEND: (&str, &str) = (
    "append",
    "products are never changed once written: write `append_to = \"<stage>\"` to make a new table with that stage's solutions and this stage's (CASA's append = True)",
);

pub const GAINCAL: TaskSpec = TaskSpec {
    name: "gaincal",
    params: &[OWN, SELECTION, SELECTDATA, PREAPPLY],
    reserved: &[OUT_CALTABLE, APPEND, NO_CALLIB, NO_CALLIB2],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
