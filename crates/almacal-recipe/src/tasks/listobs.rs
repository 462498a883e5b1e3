//! `listobs`: a summary of a vis, written as `<workdir>/<stage>.json`.

use crate::schema::{p, Def, ParamSpec, ProductKind, TaskSpec, Ty};
use crate::value::Params;

use super::common::{SELECTION, VIS};

const OWN: &[ParamSpec] = &[
    VIS,
    p("selectdata", Ty::Bool, Def::Bool(true)),
    p("verbose", Ty::Bool, Def::Bool(true)),
    p("listunfl", Ty::Bool, Def::Bool(false)),
];

pub const LISTOBS: TaskSpec = TaskSpec {
    name: "listobs",
    params: &[OWN, SELECTION],
    reserved: &[
        (
            "listfile",
            "the listing is written to <workdir>/<stage>.json",
        ),
        ("overwrite", "products are always replaced atomically"),
    ],
    outputs,
    test_only: false,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Report]
}
