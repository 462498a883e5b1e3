//! `bandpass`: B Jones solutions (CASA defaults; solint may have a
//! frequency part such as `inf,20ch`).

use crate::schema::{p, Bounds, Def, ParamSpec, ProductKind, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::common::{
    NO_APPEND, NO_CALLIB, NO_CALLIB2, OUT_CALTABLE, PREAPPLY, SELECTDATA, SELECTION, VIS,
};

const OWN: &[ParamSpec] = &[
    VIS,
    p("solint", Ty::Solint { freq: true }, Def::Str("inf")),
    p("combine", Ty::StrList, Def::StrList(&["scan"])),
    p("refant", Ty::Str, Def::Str("")),
    p(
        "refantmode",
        Ty::Choice(&["flex", "strict"]),
        Def::Str("flex"),
    ),
    p("minblperant", Ty::Int, Def::Int(4)).bounded(Bounds::Int(0, COUNT_MAX)),
    p("minsnr", Ty::Float, Def::Float(3.0)).bounded(Bounds::NON_NEGATIVE),
    p("solnorm", Ty::Bool, Def::Bool(false)),
    p("bandtype", Ty::Choice(&["B", "BPOLY"]), Def::Str("B")),
    p("smodel", Ty::FloatList, Def::FloatList(&[])).bounded(Bounds::FINITE),
    p("corrdepflags", Ty::Bool, Def::Bool(false)),
    p("fillgaps", Ty::Int, Def::Int(0)).bounded(Bounds::Int(0, COUNT_MAX)),
    p("degamp", Ty::Int, Def::Int(3)).bounded(Bounds::Int(0, 64)),
    p("degphase", Ty::Int, Def::Int(3)).bounded(Bounds::Int(0, 64)),
    p("visnorm", Ty::Bool, Def::Bool(false)),
    p("maskcenter", Ty::Int, Def::Int(0)).bounded(Bounds::Int(0, COUNT_MAX)),
    p("maskedge", Ty::Int, Def::Int(0)).bounded(Bounds::Int(0, 100)),
];

pub const BANDPASS: TaskSpec = TaskSpec {
    name: "bandpass",
    params: &[OWN, SELECTION, SELECTDATA, PREAPPLY],
    reserved: &[OUT_CALTABLE, NO_APPEND, NO_CALLIB, NO_CALLIB2],
    outputs,
    test_only: false,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
