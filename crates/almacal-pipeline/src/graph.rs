//! `almacal graph`: the DAG as Graphviz DOT, nodes coloured by status
//! (green cached, orange will run, grey never run, red failed last run),
//! inputs as boxes, edges labelled with the dependency kind.

use std::fmt::Write as _;

use almacal_recipe::{Recipe, VisSource};

use crate::dag::Dag;
use crate::executor::TaskRegistry;
use crate::fingerprint::Reason;
use crate::plan::plan;
use crate::run::{RunReport, Status};

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// DOT text of the recipe's DAG with the current status of each stage.
pub fn dot(recipe: &Recipe, registry: &TaskRegistry) -> String {
    let dag = Dag::build(recipe);
    let entries = plan(recipe, registry, &[]);
    let last: Option<RunReport> = std::fs::read_to_string(recipe.workdir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&recipe.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [style=filled, fontname=\"Helvetica\"];");
    for input in &recipe.inputs {
        let _ = writeln!(
            out,
            "  {} [shape=box, fillcolor=\"#dddddd\", label={}];",
            quote(&format!("input:{}", input.name)),
            quote(&format!("{}\n{}", input.name, input.written))
        );
    }
    for e in &entries {
        let failed = last.as_ref().is_some_and(|l| {
            l.stages
                .iter()
                .any(|s| s.name == e.stage && s.status == Status::Failed)
        });
        let (color, status) = if failed && e.run {
            ("#f4a6a6", "failed")
        } else if e.error.is_some() {
            ("#f4a6a6", "error")
        } else if !e.run {
            ("#a6e3a6", "cached")
        } else if e.reasons.iter().any(|r| matches!(r, Reason::NeverRun)) {
            ("#e0e0e0", "never run")
        } else {
            ("#f8d49a", "will run")
        };
        let _ = writeln!(
            out,
            "  {} [shape=ellipse, fillcolor={}, label={}];",
            quote(&e.stage),
            quote(color),
            quote(&format!("{}\n{} ({status})", e.stage, e.task))
        );
    }
    for s in &recipe.stages {
        if let Some(VisSource::Input(name)) = &s.vis {
            let _ = writeln!(
                out,
                "  {} -> {} [label=\"vis\"];",
                quote(&format!("input:{name}")),
                quote(&s.name)
            );
        }
    }
    for edge in dag.graph.edge_indices() {
        if let Some((a, b)) = dag.graph.edge_endpoints(edge) {
            let kind = serde_json::to_value(dag.graph[edge])
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let style = if kind == "after" {
                ", style=dashed"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}{style}];",
                quote(&recipe.stages[dag.graph[a]].name),
                quote(&recipe.stages[dag.graph[b]].name),
                quote(&kind)
            );
        }
    }
    out.push_str("}\n");
    out
}
