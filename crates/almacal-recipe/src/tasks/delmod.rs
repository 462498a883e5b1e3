//! `delmod`: removes the flux-density model of the selected fields, so that later stages
//! reading the same vis use CASA's default (a 1 Jy point source). Models are products
//! here (setjy stages), so the product is a model layer that resets those fields.

use crate::schema::{p, Def, ParamSpec, ProductKind, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

const OWN: &[ParamSpec] = &[
    VIS,
    // otf: delete the virtual (on-the-fly) models, which almacal's setjy models are.
    p("otf", Ty::Bool, Def::Bool(true)),
    p("field", Ty::Sel, Def::Str("")),
    p("scr", Ty::Bool, Def::Bool(false)).default_only(
        "deletes a MODEL_DATA column; almacal writes none (its models are removed with otf)",
    ),
];

pub const DELMOD: TaskSpec = TaskSpec {
    name: "delmod",
    params: &[OWN],
    reserved: &[],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Model]
}
