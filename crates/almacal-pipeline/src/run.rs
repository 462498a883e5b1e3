//! The run loop: take the workspace lock, walk the DAG, skip stages whose
//! fingerprint and products are current, run the others (independent stages
//! concurrently, up to `jobs`), commit products crash-safely, propagate
//! failures as skips, and write `<workdir>/run.json`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use almacal_recipe::{CalRef, DepKind, ProductKind, Recipe, Stage};

use crate::assess::{Assessor, Digests};
use crate::dag::Dag;
use crate::digest::{digest_product, digest_vis_product, flag_layer_spw_digests};
use crate::events::{Event, Observer};
use crate::executor::{PartialMode, PartialRun, StageContext, StageError, TaskRegistry};
use crate::fingerprint::{Components, Reason};
use crate::lock::{LockError, WorkspaceLock};
use crate::workspace::{write_atomic, ProductRecord, Record, RECORD_FORMAT};
use almacal_casa::space;

/// Options of `almacal run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Concurrent stages.
    pub jobs: usize,
    /// Run only these stages (others are used from the cache if current).
    pub only: Vec<String>,
    /// Run only this stage and its downstream closure.
    pub from: Option<String>,
    /// Rerun these stages even if cached.
    pub force: Vec<String>,
    /// Wait for the workspace lock instead of failing.
    pub wait: bool,
    /// Make the stages' `plots = [...]` (false: `--no-plots`).
    pub plots: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            only: Vec::new(),
            from: None,
            force: Vec::new(),
            wait: false,
            plots: true,
        }
    }
}

pub use crate::report::{ProductReport, RunReport, StageReport, Status};

/// Errors that stop a run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("workspace I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("unknown stage `{0}` in --only/--from/--force")]
    UnknownStage(String),
}

enum Done {
    Ok {
        products: Vec<ProductRecord>,
        unchanged: bool,
        wall_s: f64,
        summary: Option<serde_json::Value>,
    },
    Err {
        error: StageError,
        wall_s: f64,
    },
}

/// Run the recipe.
pub fn run(
    recipe: &Recipe,
    registry: &TaskRegistry,
    opts: &RunOptions,
    obs: &dyn Observer,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let dag = Dag::build(recipe);
    for name in opts.only.iter().chain(&opts.force).chain(opts.from.iter()) {
        if recipe.stage(name).is_none() {
            return Err(RunError::UnknownStage(name.clone()));
        }
    }
    let a = Assessor::new(recipe, registry);
    a.ws.ensure()?;
    let _lock = WorkspaceLock::acquire_notify(&a.ws.lock_path(), opts.wait, |holder| {
        obs.event(&Event::WaitingForLock {
            holder: holder.to_string(),
        })
    })?;
    a.ws.clean_tmp()?;

    let mut selected: HashSet<usize> = (0..recipe.stages.len()).collect();
    if !opts.only.is_empty() {
        selected.retain(|i| opts.only.contains(&recipe.stages[*i].name));
    }
    if let Some(from) = &opts.from {
        let closure = dag
            .index_of(from)
            .map(|i| dag.downstream_closure(i))
            .unwrap_or_default();
        selected.retain(|i| closure.contains(i));
    }

    let jobs = opts.jobs.max(1);
    obs.event(&Event::RunStarted {
        recipe: recipe.name.clone(),
        stages: recipe.stages.len(),
        jobs,
    });
    let (_, records) = a.recorded_digests();
    let mut digests = Digests::new();
    let mut reports: BTreeMap<usize, StageReport> = BTreeMap::new();
    let mut started_set: HashSet<usize> = HashSet::new();
    let (tx, rx) = mpsc::channel::<(usize, Done, Components, Vec<Reason>, Option<String>)>();

    let start_order = dag.start_order();
    std::thread::scope(|scope| {
        let plotter = crate::plots::Plotter::start(scope, &a, opts.plots);
        let mut running = 0usize;
        loop {
            // Start or settle every stage whose upstream is resolved.
            let mut progressed = true;
            while progressed {
                progressed = false;
                for &i in &start_order {
                    if started_set.contains(&i) || reports.contains_key(&i) {
                        continue;
                    }
                    let ups = dag.upstream(i);
                    if ups.iter().any(|(u, _)| !reports.contains_key(u)) {
                        continue;
                    }
                    let stage = &recipe.stages[i];
                    let mut report = StageReport {
                        name: stage.name.clone(),
                        task: stage.task.clone(),
                        status: Status::Skipped,
                        reason: String::new(),
                        wall_s: 0.0,
                        products: Vec::new(),
                        fingerprint: None,
                        unchanged: false,
                        invalid_input: false,
                        io_error: false,
                        summary: None,
                        plots: None,
                    };
                    if let Some((u, _)) = ups.iter().find(|(u, k)| {
                        *k != DepKind::After
                            && !matches!(reports[u].status, Status::Ran | Status::Cached)
                    }) {
                        let up = &recipe.stages[*u].name;
                        report.reason = format!(
                            "upstream {up} {}",
                            if reports[u].status == Status::Failed {
                                "failed"
                            } else {
                                "was not run"
                            }
                        );
                        obs.event(&Event::StageSkipped {
                            stage: stage.name.clone(),
                            reason: report.reason.clone(),
                        });
                        reports.insert(i, report);
                        progressed = true;
                        continue;
                    }
                    let comps = match a.components(stage, &digests) {
                        Ok(c) => c,
                        Err(e) => {
                            report.status = Status::Failed;
                            report.invalid_input = true;
                            report.reason = format!("invalid input data: {e}");
                            obs.event(&Event::StageFailed {
                                stage: stage.name.clone(),
                                error: report.reason.clone(),
                                wall_s: 0.0,
                            });
                            reports.insert(i, report);
                            progressed = true;
                            continue;
                        }
                    };
                    let record = records.get(&stage.name);
                    let reasons =
                        a.reasons(stage, &comps, record, opts.force.contains(&stage.name));
                    if reasons.is_empty() || !selected.contains(&i) {
                        if reasons.is_empty() {
                            if let Some(r) = record {
                                report.status = Status::Cached;
                                report.reason = "fingerprint unchanged".into();
                                report.fingerprint = Some(r.fingerprint.clone());
                                report.products = product_reports(&r.products);
                                report.summary = r.summary.clone();
                                a.note_spws(&stage.name, &r.products);
                                digests.insert(
                                    stage.name.clone(),
                                    r.products
                                        .iter()
                                        .map(|p| (p.kind, p.digest.digest.clone()))
                                        .collect(),
                                );
                                plotter.stage_done(i, stage, &r.products, &mut report);
                                obs.event(&Event::StageCached {
                                    stage: stage.name.clone(),
                                    reason: report.reason.clone(),
                                });
                            }
                        } else {
                            report.reason =
                                format!("not selected (out of date: {})", join(&reasons));
                            obs.event(&Event::StageSkipped {
                                stage: stage.name.clone(),
                                reason: report.reason.clone(),
                            });
                        }
                        reports.insert(i, report);
                        progressed = true;
                        continue;
                    }
                    if running >= jobs {
                        continue;
                    }
                    running += 1;
                    started_set.insert(i);
                    progressed = true;
                    let spw_scope = partial_scope(
                        &a,
                        stage,
                        &comps,
                        record,
                        &reasons,
                        opts.force.contains(&stage.name),
                    );
                    let mut shown: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
                    if let Some((_, spws)) = &spw_scope {
                        shown.push(partial_note(spws));
                    }
                    obs.event(&Event::StageStarted {
                        stage: stage.name.clone(),
                        task: stage.task.clone(),
                        reasons: shown,
                    });
                    let tx = tx.clone();
                    let a = &a;
                    let old = record.cloned();
                    // Compute threads per stage: cores / jobs. Measured on the tutorial
                    // (2 cores): giving a lone applycal 2 compute threads made it slower
                    // (3.5-3.9 s vs 2.4 s), as they preempt its reader and writer threads,
                    // which take turns holding the casacore lock.
                    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                    let threads = (cores / jobs).max(1);
                    scope.spawn(move || {
                        let note = spw_scope.as_ref().map(|(_, s)| partial_note(s));
                        let done = execute(a, stage, &comps, old.as_ref(), spw_scope, threads, obs);
                        let _ = tx.send((i, done, comps, reasons, note));
                    });
                }
            }
            if running == 0 {
                break;
            }
            let Ok((i, done, comps, reasons, note)) = rx.recv() else {
                break;
            };
            running -= 1;
            started_set.remove(&i);
            let stage = &recipe.stages[i];
            let mut report = StageReport {
                name: stage.name.clone(),
                task: stage.task.clone(),
                status: Status::Ran,
                reason: match note {
                    Some(n) => format!("{}; {n}", join(&reasons)),
                    None => join(&reasons),
                },
                wall_s: 0.0,
                products: Vec::new(),
                fingerprint: Some(comps.fingerprint()),
                unchanged: false,
                invalid_input: false,
                io_error: false,
                summary: None,
                plots: None,
            };
            match done {
                Done::Ok {
                    products,
                    unchanged,
                    wall_s,
                    summary,
                } => {
                    report.wall_s = wall_s;
                    report.unchanged = unchanged;
                    report.products = product_reports(&products);
                    report.summary = summary;
                    a.note_spws(&stage.name, &products);
                    digests.insert(
                        stage.name.clone(),
                        products
                            .iter()
                            .map(|p| (p.kind, p.digest.digest.clone()))
                            .collect(),
                    );
                    plotter.stage_done(i, stage, &products, &mut report);
                    obs.event(&Event::StageFinished {
                        stage: stage.name.clone(),
                        wall_s,
                        products: report
                            .products
                            .iter()
                            .map(|p| p.path.display().to_string())
                            .collect(),
                        unchanged,
                    });
                }
                Done::Err { error, wall_s } => {
                    report.status = Status::Failed;
                    report.wall_s = wall_s;
                    report.fingerprint = None;
                    report.invalid_input = matches!(error, StageError::InvalidInput(_));
                    report.io_error = matches!(error, StageError::Io(_));
                    report.reason = error.to_string();
                    obs.event(&Event::StageFailed {
                        stage: stage.name.clone(),
                        error: report.reason.clone(),
                        wall_s,
                    });
                }
            }
            reports.insert(i, report);
        }
        plotter.finish(&mut reports);
    });

    let report = RunReport {
        recipe: recipe.name.clone(),
        almacal_version: env!("CARGO_PKG_VERSION").to_string(),
        wall_s: started.elapsed().as_secs_f64(),
        stages: dag.order.iter().filter_map(|i| reports.remove(i)).collect(),
    };
    let json = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?;
    write_atomic(&a.ws.run_json(), &json)?;
    let _ = a.ws.clean_tmp();
    obs.event(&Event::RunFinished {
        ok: report.ok(),
        ran: report.count(Status::Ran),
        cached: report.count(Status::Cached),
        failed: report.count(Status::Failed),
        skipped: report.count(Status::Skipped),
        wall_s: report.wall_s,
    });
    Ok(report)
}

fn join(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn product_reports(p: &[ProductRecord]) -> Vec<ProductReport> {
    p.iter()
        .map(|p| ProductReport {
            kind: p.kind,
            path: p.rel_path.clone(),
        })
        .collect()
}

/// "partial rerun: spws 20" for reasons and reports.
fn partial_note(spws: &BTreeSet<u32>) -> String {
    if spws.is_empty() {
        return "partial rerun: no spw's data changed".into();
    }
    let list: Vec<String> = spws.iter().map(|s| s.to_string()).collect();
    format!(
        "partial rerun: only spw{} {} changed",
        if spws.len() > 1 { "s" } else { "" },
        list.join(",")
    )
}

/// Can `stage` rerun only some spws? Yes when its only reasons are upstream changes
/// narrowed to spws by per-spw digests, and its task supports it.
fn partial_scope(
    a: &Assessor<'_>,
    stage: &Stage,
    comps: &Components,
    record: Option<&Record>,
    reasons: &[Reason],
    forced: bool,
) -> Option<(PartialMode, BTreeSet<u32>)> {
    let record = record?;
    if forced
        || reasons.is_empty()
        || !reasons
            .iter()
            .all(|r| matches!(r, Reason::UpstreamChanged { .. }))
    {
        return None;
    }
    let mode = a.registry.get(&stage.task)?.partial_mode(stage);
    if mode == PartialMode::No {
        return None;
    }
    comps.changed_spws(&record.components).map(|s| (mode, s))
}

/// Run one stage in a temp dir and commit its products.
fn execute(
    a: &Assessor<'_>,
    stage: &Stage,
    comps: &Components,
    old: Option<&Record>,
    scope: Option<(PartialMode, BTreeSet<u32>)>,
    threads: usize,
    obs: &dyn Observer,
) -> Done {
    let t0 = Instant::now();
    let fail = |error: StageError| Done::Err {
        error,
        wall_s: t0.elapsed().as_secs_f64(),
    };
    let Some(exec) = a.registry.get(&stage.task) else {
        return fail(StageError::Failed(format!(
            "task {} is not implemented in this build",
            stage.task
        )));
    };
    let tmp = match a.ws.new_tmp_dir(&stage.name) {
        Ok(t) => t,
        Err(e) => return fail(e.into()),
    };
    // A stage needs at least casacore's reserve: without it a table's close could not
    // complete (and would end the process), so fail here with the numbers instead.
    if let Err(e) = space::ensure_free(&tmp, space::RESERVE_BYTES, &format!("stage {}", stage.name))
    {
        let _ = std::fs::remove_dir_all(&tmp);
        return fail(StageError::Failed(format!("{e}{RERUN_HINT}")));
    }
    let scratch = tmp.join("scratch");
    let outdir = tmp.join("out");
    if let Err(e) = std::fs::create_dir_all(&scratch).and_then(|_| std::fs::create_dir_all(&outdir))
    {
        return fail(e.into());
    }
    let outputs: BTreeMap<ProductKind, PathBuf> = stage
        .outputs
        .iter()
        .map(|o| {
            (
                o.kind,
                outdir.join(o.rel_path.file_name().unwrap_or(o.rel_path.as_os_str())),
            )
        })
        .collect();
    let partial = match (scope, old) {
        (Some((mode, spws)), Some(old)) => {
            let mut previous = BTreeMap::new();
            let mut ok = true;
            if mode == PartialMode::InPlace {
                // From here on the stage counts as never run: a crash reruns it whole.
                if let Err(e) = a.ws.remove_record(&stage.name) {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return fail(e.into());
                }
            }
            for o in &stage.outputs {
                let here = a.ws.product_path(&o.rel_path);
                match mode {
                    PartialMode::InPlace => {
                        let to = &outputs[&o.kind];
                        if std::fs::rename(&here, to).is_err() {
                            ok = false;
                        }
                        previous.insert(o.kind, to.clone());
                    }
                    _ => {
                        previous.insert(o.kind, here);
                    }
                }
            }
            if ok {
                Some(PartialRun {
                    spws,
                    previous,
                    previous_summary: old.summary.clone(),
                })
            } else {
                // A product could not be moved: run whole into a clean output folder.
                let _ = std::fs::remove_dir_all(&outdir);
                if let Err(e) = std::fs::create_dir_all(&outdir) {
                    return fail(e.into());
                }
                None
            }
        }
        _ => None,
    };
    let progress = |done: u64, total: u64| {
        obs.event(&Event::StageProgress {
            stage: stage.name.clone(),
            done,
            total,
        })
    };
    let ctx = StageContext {
        recipe: a.recipe,
        stage,
        vis: crate::assess::vis_input(a, stage),
        caltables: stage
            .caltables
            .iter()
            .filter_map(|(w, r)| match r {
                CalRef::Stage { name } => a
                    .recipe
                    .stage(name)
                    .and_then(|s| s.output(ProductKind::Caltable))
                    .map(|o| (w.clone(), a.ws.product_path(&o.rel_path))),
                CalRef::Path { path, .. } => Some((w.clone(), path.clone())),
            })
            .collect(),
        outputs: outputs.clone(),
        scratch,
        threads,
        partial,
        fingerprint: comps.fingerprint(),
        progress: &progress,
    };
    let result = catch_unwind(AssertUnwindSafe(|| exec.run(&ctx)));
    let output = match result {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            let e = diagnose_no_space(e, &tmp);
            let _ = std::fs::remove_dir_all(&tmp);
            return fail(e);
        }
        Err(panic) => {
            let _ = std::fs::remove_dir_all(&tmp);
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            return fail(StageError::Failed(format!("stage panicked: {msg}")));
        }
    };
    let mut staged = Vec::new();
    for o in &stage.outputs {
        let path = &outputs[&o.kind];
        if !path.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
            return fail(StageError::Failed(format!(
                "stage {} did not write its {} ({})",
                stage.name,
                o.kind,
                o.rel_path.display()
            )));
        }
        let digest = if o.kind == ProductKind::Vis {
            digest_vis_product(path, &comps.fingerprint())
        } else {
            digest_product(path).map(|mut d| {
                if o.kind == ProductKind::FlagLayer {
                    d.spws = ctx
                        .vis
                        .as_ref()
                        .and_then(|v| row_spws(&v.path))
                        .and_then(|rs| flag_layer_spw_digests(path, &rs))
                        .map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
                }
                d
            })
        };
        match digest {
            Ok(d) => staged.push((
                ProductRecord {
                    kind: o.kind,
                    rel_path: o.rel_path.clone(),
                    digest: d,
                },
                path.clone(),
            )),
            Err(e) => return fail(e.into()),
        }
    }
    let unchanged = old.is_some_and(|old| {
        staged.len() == old.products.len()
            && staged.iter().all(|(p, _)| {
                old.product(p.kind)
                    .is_some_and(|q| q.digest.digest == p.digest.digest && q.rel_path == p.rel_path)
            })
    });
    let wall_s = t0.elapsed().as_secs_f64();
    let record = Record {
        format: RECORD_FORMAT,
        stage: stage.name.clone(),
        fingerprint: comps.fingerprint(),
        components: comps.clone(),
        products: staged.iter().map(|(p, _)| p.clone()).collect(),
        wall_s,
        summary: output.summary.clone(),
    };
    if let Err(e) = a.ws.commit(&record, &staged) {
        let e = diagnose_no_space(e.into(), &tmp);
        let _ = std::fs::remove_dir_all(&tmp);
        return fail(e);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Done::Ok {
        products: record.products,
        unchanged,
        wall_s,
        summary: output.summary,
    }
}

const RERUN_HINT: &str = "; free some space and run again: the stages that finished stay cached";

/// A stage error that is a full disk, said so with the free space of the stage's temp dir
/// `tmp` (measured before it is removed) and what to do. casacore loses the errno of some
/// write errors ("write error in <file>: Success"): a write error with less than the reserve
/// left is a full disk too.
fn diagnose_no_space(e: StageError, tmp: &Path) -> StageError {
    let msg = e.to_string();
    let enospc = almacal_casa::write_table::is_no_space_message(&msg);
    let write_error = msg.contains("write error") || msg.contains("os error 28");
    if !enospc && !write_error {
        return e;
    }
    let free = space::free_bytes(tmp);
    if !enospc && free.is_none_or(|f| f >= space::RESERVE_BYTES) {
        return e;
    }
    let free = free.map_or_else(|| "unknown".to_string(), space::mb);
    let root = tmp.parent().unwrap_or(tmp);
    let head = if enospc {
        String::new()
    } else {
        "No space left on device while writing: ".to_string()
    };
    StageError::Failed(format!(
        "{head}{msg} ({free} free in {}){RERUN_HINT}",
        root.display()
    ))
}

/// The spw of every main-table row of `ms` (for per-spw digests of flag layers).
fn row_spws(ms: &Path) -> Option<Vec<u32>> {
    let (meta, idx) = almacal_casa::meta_read::read_meta_with_index(ms).ok()?;
    let spw_of_dd: Vec<u32> = meta.data_descs.iter().map(|d| d.spw.0).collect();
    idx.dd
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .ok()
                .and_then(|d| spw_of_dd.get(d).copied())
        })
        .collect()
}
