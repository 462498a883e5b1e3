//! `plotants`: the antenna layout, written as `<workdir>/<stage>.png`.

use crate::schema::{p, Def, ParamSpec, ProductKind, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

const OWN: &[ParamSpec] = &[
    VIS,
    p("antindex", Ty::Bool, Def::Bool(false)),
    p("logpos", Ty::Bool, Def::Bool(false)),
    p("exclude", Ty::Sel, Def::Str("")),
    p("checkbaselines", Ty::Bool, Def::Bool(false)),
    p("title", Ty::Str, Def::Str("")),
];

pub const PLOTANTS: TaskSpec = TaskSpec {
    name: "plotants",
    params: &[OWN],
    reserved: &[
        ("figfile", "the plot is written to <workdir>/<stage>.png"),
        ("showgui", "plots are files; there is no GUI"),
    ],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: Some(
        "a plotants stage has no executor yet; plot the layout with `almacal plot ants <ms>` and remove the stage",
    ),
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Plot]
}
