//! `flagmanager`: named flag versions of a vis. `save`/`list` write a report;
//! `restore` produces a flag layer that replaces the flags later stages see.

use crate::schema::{p, Def, ParamSpec, ProductKind, TaskSpec, Ty};
use crate::value::Params;

use super::common::VIS;

const OWN: &[ParamSpec] = &[
    VIS,
    p(
        "mode",
        Ty::Choice(&["list", "save", "restore", "delete", "rename"]),
        Def::Str("list"),
    ),
    p("versionname", Ty::Str, Def::Str("")),
    p("oldname", Ty::Str, Def::Str("")),
    p("comment", Ty::Str, Def::Str("")),
    p(
        "merge",
        Ty::Choice(&["replace", "and", "or"]),
        Def::Str("replace"),
    ),
];

pub const FLAGMANAGER: TaskSpec = TaskSpec {
    name: "flagmanager",
    params: &[OWN],
    reserved: &[],
    outputs,
    test_only: false,
};

fn outputs(params: &Params) -> Vec<ProductKind> {
    match params.get("mode").and_then(|m| m.as_str()) {
        Some("restore") => vec![ProductKind::FlagLayer, ProductKind::Report],
        _ => vec![ProductKind::Report],
    }
}
