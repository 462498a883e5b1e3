//! Test-only tasks (`_test_cal`, `_test_vis`, `_test_flag`): deterministic
//! fake stages for engine tests that need no casacore. Accepted only when
//! the loader is told to (the CLI: `ALMACAL_TEST_TASKS=1`); not documented.

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, TaskSpec, Ty};
use crate::value::Params;

const PARAMS: &[ParamSpec] = &[
    r("vis", Ty::Str, Def::Absent, Role::Vis),
    r("gaintable", Ty::StrList, Def::StrList(&[]), Role::Caltables),
    r("infile", Ty::Str, Def::Absent, Role::TextFile),
    p("salt", Ty::Str, Def::Str("")),
    p("sleep_ms", Ty::Int, Def::Int(0)).bounded(Bounds::Int(0, 3_600_000)),
    p("fail", Ty::Bool, Def::Bool(false)),
    p("constant", Ty::Bool, Def::Bool(false)),
    p("refant", Ty::Str, Def::Str("")),
];

pub const TEST_TASKS: &[&TaskSpec] = &[&TEST_CAL, &TEST_VIS, &TEST_FLAG];

pub const TEST_CAL: TaskSpec = TaskSpec {
    name: "_test_cal",
    params: &[PARAMS],
    reserved: &[],
    outputs: cal,
    test_only: true,
    support: &[],
    not_implemented: None,
};
pub const TEST_VIS: TaskSpec = TaskSpec {
    name: "_test_vis",
    params: &[PARAMS],
    reserved: &[],
    outputs: vis,
    test_only: true,
    support: &[],
    not_implemented: None,
};
pub const TEST_FLAG: TaskSpec = TaskSpec {
    name: "_test_flag",
    params: &[PARAMS],
    reserved: &[],
    outputs: flag,
    test_only: true,
    support: &[],
    not_implemented: None,
};

fn cal(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
fn vis(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
fn flag(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::FlagLayer]
}
