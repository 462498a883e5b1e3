//! `setjy`: the flux-density model of calibrators; the product is a model
//! that later stages reading the same vis use (no MODEL_DATA column).

use crate::schema::{p, r, Bounds, Def, ParamSpec, ProductKind, Role, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

pub const STANDARDS: &[&str] = &[
    "manual",
    "Perley-Butler 2017",
    "Perley-Butler 2013",
    "Perley-Butler 2010",
    "Perley-Taylor 99",
    "Baars",
];

const OWN: &[ParamSpec] = &[
    VIS,
    p("field", Ty::Sel, Def::Str("")),
    p("spw", Ty::Sel, Def::Str("")),
    p("selectdata", Ty::Bool, Def::Bool(false)).default_only("turns on the timerange/scan/intent/observation selection"),
    p("timerange", Ty::Sel, Def::Str("")).default_only("restricts the model to some times; the model is set for the whole field"),
    p("scan", Ty::Sel, Def::Str("")).default_only("restricts the model to some scans; the model is set for the whole field"),
    p("intent", Ty::Sel, Def::Str("")).default_only("restricts the model to some intents; select the field with `field`"),
    p("observation", Ty::Sel, Def::Str("")).default_only("restricts the model to some observation ids"),
    p("scalebychan", Ty::Bool, Def::Bool(true)),
    p(
        "standard",
        Ty::Choice(STANDARDS),
        Def::Str("Perley-Butler 2017"),
    )
    .supports(Support::Values(&["manual", "Perley-Butler 2017"])),
    p("fluxdensity", Ty::FloatList, Def::FloatList(&[-1.0])).bounded(Bounds::FINITE),
    p("spix", Ty::FloatList, Def::FloatList(&[])).bounded(Bounds::FINITE),
    p(
        "reffreq",
        Ty::Quantity(crate::checks::FREQ_UNITS),
        Def::Str("1GHz"),
    ),
    p("polindex", Ty::FloatList, Def::FloatList(&[]))
        .bounded(Bounds::FINITE).default_only("a polarized model's fractional polarization"),
    p("polangle", Ty::FloatList, Def::FloatList(&[]))
        .bounded(Bounds::FINITE).default_only("a polarized model's polarization angle"),
    p("rotmeas", Ty::Float, Def::Float(0.0))
        .bounded(Bounds::FINITE).default_only("a polarized model's rotation measure"),
    p("usescratch", Ty::Bool, Def::Bool(false)).default_only("writes MODEL_DATA; almacal keeps the model as a product instead, which later stages use either way"),
    // almacal's: the flux densities a fluxscale stage derived (the scripts parse its log
    // and call setjy manual per spw, or with the fitted spectrum).
    r("fluxscale", Ty::Str, Def::Absent, Role::Caltables),
    p("fluxscale_fit", Ty::Bool, Def::Bool(false)),
];

pub const SETJY: TaskSpec = TaskSpec {
    name: "setjy",
    params: &[OWN],
    reserved: &[
        (
            "model",
            "source models (images) are not supported; point-source models only",
        ),
        (
            "listmodels",
            "use `almacal` documentation for the available standards",
        ),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Model]
}
