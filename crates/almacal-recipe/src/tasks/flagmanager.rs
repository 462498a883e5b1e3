//! `flagmanager`: named flag versions of a vis. `save` writes the flags the stage sees as a
//! CASA `.flagversions` directory (`<workdir>/<vis product>.flagversions` when the vis is a
//! stage's MS, else `<workdir>/<stage>.flagversions`) plus a report; `list` reports the
//! versions saved upstream on the same vis; `restore` produces a flag layer equal to a saved
//! version (layers OR, so this is CASA's `merge='or'`).

use crate::schema::{p, Def, ParamSpec, ProductKind, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

const OWN: &[ParamSpec] = &[
    VIS,
    p(
        "mode",
        Ty::Choice(&["list", "save", "restore", "delete", "rename"]),
        Def::Str("list"),
    )
    .supports(Support::Values(&["list", "save", "restore"])),
    p("versionname", Ty::Str, Def::Str("")),
    p("oldname", Ty::Str, Def::Str("")).default_only("the old name of mode rename"),
    p("comment", Ty::Str, Def::Str("")),
    p(
        "merge",
        Ty::Choice(&["replace", "and", "or"]),
        Def::Str("replace"),
    )
    .supports(Support::Values(&["replace", "or"])),
];

pub const FLAGMANAGER: TaskSpec = TaskSpec {
    name: "flagmanager",
    params: &[OWN],
    reserved: &[],
    outputs,
    test_only: false,
    support: &[],
    not_implemented: None,
};

fn outputs(params: &Params) -> Vec<ProductKind> {
    match params.get("mode").and_then(|m| m.as_str()) {
        Some("restore") => vec![ProductKind::FlagLayer, ProductKind::Report],
        Some("save") => vec![ProductKind::FlagVersions, ProductKind::Report],
        _ => vec![ProductKind::Report],
    }
}
