//! `listobs`: a summary of a vis, written as `<workdir>/<stage>.json`.

use crate::schema::{p, Def, ParamSpec, ProductKind, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::{SELECTION, VIS};

const OWN: &[ParamSpec] = &[
    VIS,
    p("selectdata", Ty::Bool, Def::Bool(true)),
    p("verbose", Ty::Bool, Def::Bool(true)).default_only("the short listing"),
    p("listunfl", Ty::Bool, Def::Bool(false)).default_only("lists unflagged row counts"),
];

/// listobs lists the whole MS: a selection would be accepted and ignored.
const SEL: Support =
    Support::DefaultOnly("lists only the selected rows; almacal lists the whole MS");

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
    support: &[
        ("field", SEL),
        ("spw", SEL),
        ("intent", SEL),
        ("scan", SEL),
        ("antenna", SEL),
        ("timerange", SEL),
        ("uvrange", SEL),
        ("observation", SEL),
    ],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Report]
}
