//! `gaincal`: G/T/K gain solutions (CASA defaults).

use crate::schema::{p, Bounds, Def, ParamSpec, ProductKind, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::common::{
    NO_APPEND, NO_CALLIB, NO_CALLIB2, OUT_CALTABLE, PREAPPLY, SELECTDATA, SELECTION, VIS,
};

const OWN: &[ParamSpec] = &[
    VIS,
    p("solint", Ty::Solint { freq: false }, Def::Str("inf")),
    p("combine", Ty::StrList, Def::StrList(&[])),
    p("preavg", Ty::Float, Def::Float(-1.0)).bounded(Bounds::FINITE),
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
    ),
    p("smodel", Ty::FloatList, Def::FloatList(&[])).bounded(Bounds::FINITE),
    p("calmode", Ty::Choice(&["ap", "p", "a"]), Def::Str("ap")),
    p("solmode", Ty::Choice(&["", "L1", "R", "L1R"]), Def::Str("")),
    p("corrdepflags", Ty::Bool, Def::Bool(false)),
];

pub const GAINCAL: TaskSpec = TaskSpec {
    name: "gaincal",
    params: &[OWN, SELECTION, SELECTDATA, PREAPPLY],
    reserved: &[OUT_CALTABLE, NO_APPEND, NO_CALLIB, NO_CALLIB2],
    outputs,
    test_only: false,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
