//! `almacal check` against the input data: every stage's parameters checked against the
//! metadata of the MeasurementSet it will read, before anything runs, so that a recipe
//! `check` passes does not fail at `run` on a selection. Only metadata is opened (the
//! subtables, read-only; no visibilities).
//!
//! Checked for every stage: each selection parameter (`field`, `spw`, `antenna`, `scan`,
//! `intent`, `timerange`, `uvrange`, `correlation`, `observation`) of the stage, of each
//! inline or file flag command and of each applycal group resolves, alone, as `run`
//! resolves it (`almacal_casa::selection`); each `gainfield` entry names fields of the MS;
//! each `refant` entry is an antenna of it. Then each executor's own
//! [`StageExecutor::validate`](crate::StageExecutor::validate) (e.g. setjy's standard
//! knows the selected sources; a split keeps whole spws). A stage that reads another
//! stage's output is checked against the input MS that output derives from, as each
//! re-indexing split / mstransform / applycal `output` upstream renumbers it
//! ([`crate::stages::reindex::reindexed_meta`]: a stage reading the output of a split of
//! spws 17,19 selects `spw = "0,1"`); `reindex = false` keeps spw and field ids. A
//! channel-averaging split (`width`, mstransform `chanbin`) changes NUM_CHAN / CHAN_FREQ
//! of its spws ([`crate::stages::average::average_spw_meta`]).
//!
//! Every problem is reported where the parameter was written (the stage, `[defaults]`, a
//! flag file line, or the stage header for CASA's default), as load-time errors are.

use std::collections::BTreeMap;
use std::path::Path;

use almacal_casa::read_meta;
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_core::meta::MsMeta;
use almacal_recipe::{
    DiagKind, Diagnostic, ParamSite, ParamValue, Params, Recipe, SiteOrigin, Stage, VisSource,
};

use crate::executor::{ParamProblem, TaskRegistry};
use crate::stages::solve_common::resolve_refants;

const SELECTION_HELP: &str =
    "select what the MS has: `almacal listobs <ms>` lists its fields, spws, scans and antennas";

/// Check every stage of `recipe` against the metadata of its input MS. Inputs that cannot
/// be read are reported once, at the recipe (the run would fail on them too).
pub fn check_against_inputs(recipe: &Recipe, reg: &TaskRegistry) -> Vec<Diagnostic> {
    let mut metas: BTreeMap<String, Result<MsMeta, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for stage in &recipe.stages {
        let Some(input) = root_input(recipe, stage) else {
            continue;
        };
        let Some(inp) = recipe.input(&input) else {
            continue;
        };
        let meta = metas
            .entry(input.clone())
            .or_insert_with(|| read_meta(&inp.path).map_err(|e| e.to_string()));
        let Ok(meta) = meta else {
            continue;
        };
        let derived = derived_meta(recipe, stage, meta);
        let meta = derived.as_ref().unwrap_or(meta);
        let mut problems = stage_selection_problems(stage, meta);
        if let Some(exec) = reg.get(&stage.task) {
            problems.extend(exec.validate(stage, meta));
        }
        for p in problems {
            out.push(diagnostic(recipe, stage, &inp.path, p));
        }
    }
    for (name, m) in &metas {
        if let (Err(e), Some(inp)) = (m, recipe.input(name)) {
            out.push(Diagnostic {
                kind: DiagKind::InputData,
                file: recipe.path.clone(),
                pos: almacal_recipe::source::LineCol { line: 1, col: 1 },
                message: format!(
                    "input `{name}` ({}) cannot be read: {e}",
                    inp.path.display()
                ),
                snippet: None,
                help: Some("point [inputs] at a readable MeasurementSet".into()),
            });
        }
    }
    out
}

/// Whether `stage` writes a re-indexed vis, and the selection of what it writes.
fn reindexing(stage: &Stage) -> Option<SelectionParams> {
    let get = |p: &Params, k: &str| {
        p.get(k)
            .and_then(ParamValue::as_str)
            .unwrap_or("")
            .to_string()
    };
    let sel = |p: &Params| SelectionParams {
        spw: get(p, "spw"),
        field: get(p, "field"),
        intent: get(p, "intent"),
        ..Default::default()
    };
    let on = |p: &Params| {
        p.get("reindex")
            .and_then(ParamValue::as_bool)
            .unwrap_or(true)
    };
    match stage.task.as_str() {
        "split" | "mstransform" => on(&stage.params).then(|| sel(&stage.params)),
        "applycal" => {
            let out = stage.params.get("output").and_then(ParamValue::as_table)?;
            on(out).then(|| sel(out))
        }
        _ => None,
    }
}

/// The metadata of what `stage` reads when re-indexing stages lie between it and its
/// `[inputs]` MS (`meta`): `None` when there are none.
fn derived_meta(recipe: &Recipe, stage: &Stage, meta: &MsMeta) -> Option<MsMeta> {
    let mut chain = Vec::new();
    let mut vis = stage.vis.as_ref()?;
    for _ in 0..=recipe.stages.len() {
        match vis {
            VisSource::Input(_) => break,
            VisSource::Stage(s) => {
                let up = recipe.stage(s)?;
                chain.push(up);
                vis = up.vis.as_ref()?;
            }
        }
    }
    let mut out: Option<MsMeta> = None;
    for up in chain.iter().rev() {
        let cur = out.as_ref().unwrap_or(meta);
        // Channel averaging (split / mstransform): input spw id → bin.
        let widths = match up.task.as_str() {
            "split" | "mstransform" => {
                crate::stages::split::average_spec(&up.task, &up.params, cur)
                    .map(|a| a.chanbin)
                    .unwrap_or_default()
            }
            _ => Default::default(),
        };
        let width = |spw: u32| widths.get(&spw).copied().unwrap_or(1);
        let mut next = None;
        if let Some(sel) = reindexing(up) {
            // A selection that does not resolve is reported at that stage.
            if let Ok(plan) = crate::stages::reindex::plan(cur, &sel) {
                let mut m = crate::stages::reindex::reindexed_meta(cur, &plan);
                for (s, (old, _)) in m.spws.iter_mut().zip(&plan.spws) {
                    crate::stages::average::average_spw_meta(s, width(*old));
                }
                next = Some(m);
            }
        } else if widths.values().any(|&w| w > 1) {
            let mut m = cur.clone();
            for s in &mut m.spws {
                crate::stages::average::average_spw_meta(s, width(s.id.0));
            }
            next = Some(m);
        }
        if next.is_some() {
            out = next;
        }
    }
    out
}

/// The `[inputs]` entry whose MS a stage reads, following stage outputs upstream.
fn root_input(recipe: &Recipe, stage: &Stage) -> Option<String> {
    let mut vis = stage.vis.as_ref()?;
    for _ in 0..=recipe.stages.len() {
        match vis {
            VisSource::Input(name) => return Some(name.clone()),
            VisSource::Stage(s) => vis = recipe.stage(s)?.vis.as_ref()?,
        }
    }
    None
}

/// The problem at its parameter's site, worded by where the value came from.
fn diagnostic(recipe: &Recipe, stage: &Stage, ms: &Path, p: ParamProblem) -> Diagnostic {
    let on = format!(
        "stage `{}` ({}) on {}",
        stage.name,
        stage.task,
        ms.display()
    );
    let site = stage.site(&p.param).cloned().unwrap_or(ParamSite {
        file: recipe.path.clone(),
        pos: almacal_recipe::source::LineCol { line: 1, col: 1 },
        snippet: None,
        origin: SiteOrigin::Stage,
    });
    let message = match site.origin {
        SiteOrigin::Stage => format!("{on}: {}", p.message),
        SiteOrigin::Defaults => format!("[defaults] for {on}: {}", p.message),
        SiteOrigin::CasaDefault => {
            let param = p.param.rsplit('.').next().unwrap_or(&p.param);
            format!("{on}: CASA's default `{param}`: {}", p.message)
        }
    };
    site.error(message).with_help_opt(p.help)
}

fn str_of<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key)
        .and_then(ParamValue::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Each selection parameter of `params` resolved alone against `meta`; problems keyed
/// `{prefix}{param}`.
pub fn selection_problems(params: &Params, prefix: &str, meta: &MsMeta) -> Vec<ParamProblem> {
    let mut out = Vec::new();
    for key in SelectionParams::NAMES {
        let Some(expr) = str_of(params, key) else {
            continue;
        };
        let Some(one) = SelectionParams::only(key, expr) else {
            continue;
        };
        if let Err(e) = Selection::resolve(meta, &one) {
            out.push(ParamProblem {
                param: format!("{prefix}{key}"),
                message: e.to_string(),
                help: Some(SELECTION_HELP.into()),
            });
        }
    }
    out
}

/// The entries of a list-of-tables parameter (`commands`, `groups`).
fn tables<'a>(p: &'a Params, key: &str) -> Vec<&'a BTreeMap<String, ParamValue>> {
    match p.get(key) {
        Some(ParamValue::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                ParamValue::Table(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The `gainfield` entries that must name fields ('' and 'nearest' are choices, not
/// selections).
fn gainfield_problems(p: &Params, prefix: &str, meta: &MsMeta) -> Vec<ParamProblem> {
    let entries: Vec<&str> = match p.get("gainfield") {
        Some(ParamValue::Str(s)) => vec![s.as_str()],
        Some(ParamValue::List(l)) => l.iter().filter_map(ParamValue::as_str).collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("nearest"))
        .filter_map(|e| {
            let one = SelectionParams::only("field", e)?;
            Selection::resolve(meta, &one)
                .err()
                .map(|err| ParamProblem {
                    param: format!("{prefix}gainfield"),
                    message: format!("gainfield {e:?}: {err}"),
                    help: Some(
                        "gainfield entries select fields of the MS (or are '' / 'nearest')".into(),
                    ),
                })
        })
        .collect()
}

/// Every check of [`check_against_inputs`] that applies to all stages alike.
fn stage_selection_problems(stage: &Stage, meta: &MsMeta) -> Vec<ParamProblem> {
    let p = &stage.params;
    let mut out = selection_problems(p, "", meta);
    for (i, cmd) in tables(p, "commands").into_iter().enumerate() {
        out.extend(selection_problems(cmd, &format!("commands[{i}]."), meta));
    }
    for (i, g) in tables(p, "groups").into_iter().enumerate() {
        let prefix = format!("groups[{i}].");
        out.extend(selection_problems(g, &prefix, meta));
        out.extend(gainfield_problems(g, &prefix, meta));
    }
    out.extend(gainfield_problems(p, "", meta));
    if let Some(refant) = str_of(p, "refant") {
        if let Err(e) = resolve_refants(meta, refant) {
            out.push(ParamProblem {
                param: "refant".into(),
                message: e,
                help: Some("refant lists antenna names (or ids) of the MS, best first".into()),
            });
        }
    }
    for (i, cmd) in stage.file_commands.iter().enumerate() {
        for mut problem in selection_problems(&cmd.params, "", meta) {
            problem.param = format!("file_commands[{i}]");
            problem.message = format!("flag file line {}: {}", cmd.line, problem.message);
            out.push(problem);
        }
    }
    out
}
