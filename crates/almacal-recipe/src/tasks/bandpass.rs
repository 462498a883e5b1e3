//! `bandpass`: B Jones solutions (CASA defaults; solint may have a
//! frequency part such as `inf,20ch`).

use crate::schema::{p, Bounds, Def, ParamSpec, ProductKind, Support, TaskSpec, Ty, COUNT_MAX};
use crate::value::Params;

use super::common::{
    NO_APPEND, NO_CALLIB, NO_CALLIB2, OUT_CALTABLE, PREAPPLY, SELECTDATA, SELECTION, VIS,
};

const OWN: &[ParamSpec] = &[
    VIS,
    p("solint", Ty::Solint { freq: true }, Def::Str("inf")),
    p("combine", Ty::StrList, Def::StrList(&["scan"])).supports(Support::Rule(
        crate::support::bandpass_combine,
        "combining over scan, field, obs (not spw)",
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
    p("bandtype", Ty::Choice(&["B", "BPOLY"]), Def::Str("B")).supports(Support::Values(&["B"])),
    p("smodel", Ty::FloatList, Def::FloatList(&[]))
        .bounded(Bounds::FINITE)
        .default_only("a point-source Stokes model instead of MODEL_DATA; use a setjy stage"),
    p("corrdepflags", Ty::Bool, Def::Bool(false))
        .default_only("keeps correlations whose partner correlation is flagged"),
    p("fillgaps", Ty::Int, Def::Int(0)).bounded(Bounds::Int(0, COUNT_MAX)),
    p("degamp", Ty::Int, Def::Int(3))
        .bounded(Bounds::Int(0, 64))
        .default_only("the amplitude polynomial degree of bandtype BPOLY"),
    p("degphase", Ty::Int, Def::Int(3))
        .bounded(Bounds::Int(0, 64))
        .default_only("the phase polynomial degree of bandtype BPOLY"),
    p("visnorm", Ty::Bool, Def::Bool(false))
        .default_only("normalises the data before a BPOLY solve"),
    p("maskcenter", Ty::Int, Def::Int(0))
        .bounded(Bounds::Int(0, COUNT_MAX))
        .default_only("excludes central channels from a BPOLY fit"),
    p("maskedge", Ty::Int, Def::Int(0))
        .bounded(Bounds::Int(0, 100))
        .default_only("excludes edge channels from a BPOLY fit"),
];

pub const BANDPASS: TaskSpec = TaskSpec {
    name: "bandpass",
    params: &[OWN, SELECTION, SELECTDATA, PREAPPLY],
    reserved: &[OUT_CALTABLE, NO_APPEND, NO_CALLIB, NO_CALLIB2],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
