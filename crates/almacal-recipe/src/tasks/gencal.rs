//! `gencal`: calibration tables specified rather than solved (`tsys` from
//! SYSCAL, `antpos` from an antenna-position file, amp/ph/delay tables).

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::{OUT_CALTABLE, VIS};

const OWN: &[ParamSpec] = &[
    VIS,
    p(
        "caltype",
        Ty::Choice(&[
            "tsys", "antpos", "amp", "ph", "sbd", "mbd", "opac", "gc", "eff", "gceff",
        ]),
        Def::Required,
    )
    .supports(Support::Values(&["tsys", "antpos"])),
    r("infile", Ty::Str, Def::Absent, Role::TextFile),
    p("spw", Ty::Sel, Def::Str("")).default_only("the spws of an amp/ph/delay table"),
    p("antenna", Ty::Sel, Def::Str("")),
    p("pol", Ty::Str, Def::Str("")).default_only("the polarizations of an amp/ph/delay table"),
    p("parameter", Ty::FloatList, Def::FloatList(&[])).bounded(Bounds::FINITE),
    p("uniform", Ty::Bool, Def::Bool(true)),
    // almacal's: almahelpers' fixsyscaltimes(vis) before gencal tsys, on a copy of SYSCAL
    // (CASA scripts call it first; it rewrites the MS, almacal never does).
    p("fixsyscaltimes", Ty::Bool, Def::Bool(false)),
];

pub const GENCAL: TaskSpec = TaskSpec {
    name: "gencal",
    params: &[OWN],
    reserved: &[OUT_CALTABLE],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Caltable]
}
