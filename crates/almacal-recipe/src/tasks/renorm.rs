//! `renorm`: ALMA's ACReNorm spectral renormalization. With `apply = false`
//! it only reports the maximum scaling per field and spw.

use crate::schema::{p, Bounds, Def, ParamSpec, ProductKind, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

const OWN: &[ParamSpec] = &[
    VIS,
    p("apply", Ty::Bool, Def::Bool(false)),
    p("threshold", Ty::Float, Def::Float(1.02)).bounded(Bounds::Float(1.0, f64::MAX)),
    p("excludechan", Ty::StrMap, Def::Absent),
    p("atm_auto_exclude", Ty::Bool, Def::Bool(true)),
    p("spw", Ty::Sel, Def::Str("")),
    p("field", Ty::Sel, Def::Str("")),
    p("fill_table", Ty::Bool, Def::Bool(true)),
    // almacal: divide the AC ratio by Tsys(target)/Tsys(bandpass) from SYSCAL before the
    // baseline fits when that flattens it (docs/renorm.md).
    p("tsys_template", Ty::Bool, Def::Bool(true)),
    p(
        "datacolumn",
        Ty::Choice(&["data", "corrected"]),
        Def::Str("data"),
    ),
];

pub const RENORM: TaskSpec = TaskSpec {
    name: "renorm",
    params: &[OWN],
    reserved: &[],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(params: &Params) -> Vec<ProductKind> {
    if params.get("apply").and_then(|a| a.as_bool()) == Some(true) {
        vec![ProductKind::Caltable, ProductKind::Report]
    } else {
        vec![ProductKind::Report]
    }
}
