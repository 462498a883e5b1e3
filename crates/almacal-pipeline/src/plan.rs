//! `plan` and `explain`: what a run would do and why, without running
//! anything or taking the lock.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use almacal_recipe::{Recipe, Stage};

use crate::assess::{dep_product, Assessor};
use crate::dag::Dag;
use crate::executor::TaskRegistry;
use crate::fingerprint::Reason;

/// One stage of a plan.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub stage: String,
    pub task: String,
    /// True if the stage would run.
    pub run: bool,
    pub reasons: Vec<Reason>,
    /// Set when the stage cannot be assessed (e.g. unreadable input).
    pub error: Option<String>,
}

impl PlanEntry {
    /// "cached" / "run: reason; reason".
    pub fn describe(&self) -> String {
        if let Some(e) = &self.error {
            return format!("error: {e}");
        }
        if !self.run {
            return "cached".into();
        }
        let r: Vec<String> = self.reasons.iter().map(|r| r.to_string()).collect();
        format!("run: {}", r.join("; "))
    }
}

/// What `almacal run` would do now, in topological order.
pub fn plan(recipe: &Recipe, registry: &TaskRegistry, force: &[String]) -> Vec<PlanEntry> {
    let dag = Dag::build(recipe);
    let a = Assessor::new(recipe, registry);
    let (digests, records) = a.recorded_digests();
    let mut will_run: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for &i in &dag.order {
        let stage = &recipe.stages[i];
        let entry = plan_stage(
            &a,
            stage,
            &digests,
            records.get(&stage.name),
            force.contains(&stage.name),
            &will_run,
        );
        if entry.run || entry.error.is_some() {
            will_run.insert(stage.name.clone());
        }
        out.push(entry);
    }
    out
}

fn plan_stage(
    a: &Assessor<'_>,
    stage: &Stage,
    digests: &crate::assess::Digests,
    record: Option<&crate::workspace::Record>,
    forced: bool,
    will_run: &HashSet<String>,
) -> PlanEntry {
    let comps = match a.components(stage, digests) {
        Ok(c) => c,
        Err(e) => {
            return PlanEntry {
                stage: stage.name.clone(),
                task: stage.task.clone(),
                run: true,
                reasons: vec![],
                error: Some(e),
            };
        }
    };
    let mut ups: Vec<&str> = Vec::new();
    for d in &stage.deps {
        if dep_product(d.kind).is_some()
            && will_run.contains(&d.stage)
            && !ups.contains(&d.stage.as_str())
        {
            ups.push(&d.stage);
        }
    }
    let mut reasons = a.reasons(stage, &comps, record, forced);
    reasons.retain(
        |r| !matches!(r, Reason::UpstreamChanged { stage } if ups.contains(&stage.as_str())),
    );
    if record.is_some() {
        reasons.extend(ups.iter().map(|s| Reason::UpstreamWillRun {
            stage: s.to_string(),
        }));
    }
    PlanEntry {
        stage: stage.name.clone(),
        task: stage.task.clone(),
        run: !reasons.is_empty(),
        reasons,
        error: None,
    }
}

/// The full fingerprint comparison of one stage, as text.
pub fn explain(recipe: &Recipe, registry: &TaskRegistry, stage_name: &str) -> Option<String> {
    let stage = recipe.stage(stage_name)?;
    let a = Assessor::new(recipe, registry);
    let (digests, records) = a.recorded_digests();
    let record = records.get(stage_name);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "stage {} (task {}, algorithm version {}, almacal build {})",
        stage.name,
        stage.task,
        registry.version(&stage.task),
        crate::BUILD_ID
    );
    if let Some(r) = record.filter(|r| r.components.build != crate::BUILD_ID) {
        let old = &r.components.build;
        let _ = writeln!(
            out,
            "recorded by almacal build {}: a new build reruns the stage",
            if old.is_empty() {
                "(older, unrecorded)"
            } else {
                old
            }
        );
    }
    let entry = plan(recipe, registry, &[])
        .into_iter()
        .find(|e| e.stage == stage_name);
    if let Some(e) = &entry {
        let _ = writeln!(out, "status: {}", e.describe());
    }
    let comps = match a.components(stage, &digests) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "cannot fingerprint: {e}");
            return Some(out);
        }
    };
    let old = record.map(|r| &r.components);
    let _ = writeln!(
        out,
        "fingerprint: {} (recorded: {})",
        short(&comps.fingerprint()),
        record.map_or("none".to_string(), |r| short(&r.fingerprint))
    );
    let mark = |same: bool| {
        if old.is_none() {
            "new"
        } else if same {
            "same"
        } else {
            "CHANGED"
        }
    };
    let _ = writeln!(out, "parameters:");
    let names: std::collections::BTreeSet<&String> = comps
        .params
        .keys()
        .chain(old.map(|o| o.params.keys()).into_iter().flatten())
        .collect();
    for name in names {
        let new = comps
            .params
            .get(name)
            .map_or("(absent)".to_string(), |v| v.to_compact());
        let was = old.and_then(|o| o.params.get(name)).map(|v| v.to_compact());
        let same = was.as_deref() == Some(new.as_str());
        match (&was, same) {
            (Some(w), false) => {
                let _ = writeln!(out, "  {name:<16} {w} -> {new}  {}", mark(false));
            }
            _ => {
                let _ = writeln!(out, "  {name:<16} {new}  {}", mark(same));
            }
        }
    }
    let section = |out: &mut String,
                   title: &str,
                   new: BTreeMap<String, String>,
                   old: Option<BTreeMap<String, String>>| {
        if new.is_empty() && old.as_ref().is_none_or_empty() {
            return;
        }
        let _ = writeln!(out, "{title}:");
        let keys: std::collections::BTreeSet<String> = new
            .keys()
            .cloned()
            .chain(old.iter().flat_map(|o| o.keys().cloned()))
            .collect();
        for k in keys {
            let n = new.get(&k).map_or("(absent)".to_string(), |d| short(d));
            let o = old.as_ref().and_then(|o| o.get(&k)).map(|d| short(d));
            let same = o.as_deref() == Some(n.as_str());
            let _ = match (o, same) {
                (Some(o), false) => writeln!(out, "  {k:<24} {o} -> {n}  {}", mark(false)),
                _ => writeln!(out, "  {k:<24} {n}  {}", mark(same)),
            };
        }
    };
    let flat_up = |c: &crate::fingerprint::Components| -> BTreeMap<String, String> {
        c.upstream
            .iter()
            .flat_map(|(s, m)| {
                m.iter()
                    .map(move |(k, d)| (format!("{s} ({k})"), d.clone()))
            })
            .collect()
    };
    section(
        &mut out,
        "upstream products",
        flat_up(&comps),
        old.map(flat_up),
    );
    section(
        &mut out,
        "inputs",
        comps.inputs.clone(),
        old.map(|o| o.inputs.clone()),
    );
    section(
        &mut out,
        "external caltables",
        comps.caltable_paths.clone(),
        old.map(|o| o.caltable_paths.clone()),
    );
    let files = |c: &crate::fingerprint::Components| -> BTreeMap<String, String> {
        c.files
            .iter()
            .map(|(p, f)| (format!("{p} = {}", f.written), f.digest.clone()))
            .collect()
    };
    section(&mut out, "files", files(&comps), old.map(files));
    if let Some(e) = &entry {
        for r in &e.reasons {
            if let Reason::FileChanged { .. }
            | Reason::ProductMissing { .. }
            | Reason::ProductModified { .. }
            | Reason::UpstreamWillRun { .. } = r
            {
                let _ = writeln!(out, "note: {r}");
            }
        }
    }
    let _ = writeln!(out, "products:");
    for o in &stage.outputs {
        let state = match record {
            Some(r) if r.product(o.kind).is_some() => {
                if a.product_problems(stage, r).is_empty() {
                    "intact"
                } else {
                    "missing or modified"
                }
            }
            _ => "not produced yet",
        };
        let _ = writeln!(
            out,
            "  {:<24} {:<10} {state}",
            a.ws.product_path(&o.rel_path).display(),
            o.kind.to_string()
        );
    }
    Some(out)
}

trait EmptyOpt {
    fn is_none_or_empty(&self) -> bool;
}
impl EmptyOpt for Option<&BTreeMap<String, String>> {
    fn is_none_or_empty(&self) -> bool {
        self.is_none_or(|m| m.is_empty())
    }
}

fn short(d: &str) -> String {
    d.chars().take(12).collect()
}
