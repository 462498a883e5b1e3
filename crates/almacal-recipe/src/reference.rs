//! The parameter reference `docs/parameters.md`, generated from the task schemas: for
//! every task and parameter its type, CASA's default and what almacal implements of it
//! (`crate::support`). `tests/docs_parameters.rs` fails when the committed file is stale.

use std::fmt::Write as _;

use crate::schema::default_value;
use crate::schema::{Def, TaskSpec};
use crate::tasks::TASKS;

/// The whole generated document.
pub fn parameters_md() -> String {
    let mut out = String::from(
        "# Task parameters\n\n\
         Generated from the task schemas (`crates/almacal-recipe/src/tasks/*.rs`) by\n\
         `UPDATE_EXPECT=1 cargo test -p almacal-recipe --test docs_parameters`; do not edit.\n\n\
         Names, types and defaults are CASA's. The last column says which values almacal\n\
         implements: `almacal check` rejects any other value with \"not implemented yet\"\n\
         at its line and column, so no parameter is accepted and then ignored.\n",
    );
    for task in TASKS {
        task_section(&mut out, task);
    }
    out
}

fn task_section(out: &mut String, task: &TaskSpec) {
    let _ = write!(out, "\n## `{}`\n\n", task.name);
    if let Some(why) = task.not_implemented {
        let _ = writeln!(out, "Not implemented yet: {why}.\n");
    }
    out.push_str("| parameter | type | CASA default | almacal implements |\n|---|---|---|---|\n");
    for spec in task.all_params() {
        let default = match spec.default {
            Def::Required => "required".to_string(),
            Def::Absent => "none".to_string(),
            _ => match default_value(spec) {
                Ok(Some(v)) => format!("`{}`", v.to_compact()),
                _ => "none".to_string(),
            },
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            spec.name,
            cell(&spec.ty.describe()),
            cell(&default),
            cell(&task.support_of(spec).describe()),
        );
    }
    if !task.reserved.is_empty() {
        out.push_str("\nRejected (CASA parameters almacal decides itself):\n\n");
        for (name, why) in task.reserved {
            let _ = writeln!(out, "- `{name}`: {why}");
        }
    }
}

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
