//! The engine's commands: `run`, `plan`, `explain`, `graph`, `status`,
//! `clean`, `check`. Parses arguments, loads the recipe, calls
//! `almacal-pipeline`, prints, and maps outcomes to documented exit codes.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use almacal_pipeline::events::{Event, Observer};
use almacal_pipeline::{RunOptions, RunReport, Status, TaskRegistry};
use almacal_recipe::{LoadOptions, Recipe};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use crate::exit::{
    ERROR as EXIT_ERROR, INVALID_INPUT as EXIT_INVALID_INPUT, OK as EXIT_OK, USAGE as EXIT_USAGE,
};

/// Environment variable enabling the hidden test tasks.
const TEST_TASKS_ENV: &str = "ALMACAL_TEST_TASKS";

#[derive(clap::Subcommand, Debug)]
pub enum EngineCommand {
    /// Run a recipe: only the stages whose inputs or parameters changed.
    Run(RunArgs),
    /// Show what `run` would do, and why.
    Plan(RecipeArg),
    /// Show the full fingerprint comparison of one stage.
    Explain(ExplainArgs),
    /// Print the stage graph as Graphviz DOT (coloured by status).
    Graph(RecipeArg),
    /// Show the state of every stage in the workspace.
    Status(RecipeArg),
    /// Remove the products of one stage, or the whole workspace.
    Clean(CleanArgs),
    /// Validate a recipe, and every stage against its input MS, without running anything.
    ///
    /// First the recipe itself, then every stage's selections and values against the
    /// metadata of the MS it reads (`--offline`: the recipe alone).
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
pub struct RecipeArg {
    /// The recipe (TOML).
    pub recipe: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The recipe (TOML).
    pub recipe: PathBuf,
    /// Validate the recipe alone: inputs, caltable paths and flag files need not exist,
    /// and nothing is checked against the data.
    #[arg(long)]
    pub offline: bool,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The recipe (TOML).
    pub recipe: PathBuf,
    /// Run only these stages (comma-separated); others are used if cached.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Run only this stage and the stages downstream of it.
    #[arg(long)]
    pub from: Option<String>,
    /// Rerun these stages even if cached (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub force: Vec<String>,
    /// Stages to run concurrently (default: number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Hide progress bars (they are hidden anyway when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Write JSON-lines events (started, cached, finished, failed) to FILE.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Wait for another run on the same workspace to finish instead of failing.
    #[arg(long)]
    pub wait: bool,
    /// Do not make the stages' `plots = [...]` (up-to-date plots are still listed).
    #[arg(long)]
    pub no_plots: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The recipe (TOML).
    pub recipe: PathBuf,
    /// The stage to explain.
    pub stage: String,
}

#[derive(clap::Args, Debug)]
pub struct CleanArgs {
    /// The recipe (TOML).
    pub recipe: PathBuf,
    /// Only this stage (default: the whole workspace).
    pub stage: Option<String>,
    /// Wait for a running `almacal run` instead of failing.
    #[arg(long)]
    pub wait: bool,
    /// Remove the whole workspace without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Run an engine command; returns the process exit code.
pub fn dispatch(cmd: EngineCommand) -> u8 {
    match cmd {
        EngineCommand::Run(a) => cmd_run(&a),
        EngineCommand::Plan(a) => with_recipe(&a.recipe, cmd_plan),
        EngineCommand::Explain(a) => with_recipe(&a.recipe, |r, reg| cmd_explain(r, reg, &a.stage)),
        EngineCommand::Graph(a) => with_recipe(&a.recipe, |r, reg| {
            print!("{}", almacal_pipeline::dot(r, reg));
            EXIT_OK
        }),
        EngineCommand::Status(a) => with_recipe(&a.recipe, cmd_status),
        EngineCommand::Clean(a) => with_recipe(&a.recipe, |r, _| {
            cmd_clean(r, a.stage.as_deref(), a.wait, a.yes)
        }),
        EngineCommand::Check(a) => cmd_check(&a),
    }
}

/// `almacal check`: load the recipe, then (unless `--offline`) check every stage against
/// the metadata of its input MS.
fn cmd_check(a: &CheckArgs) -> u8 {
    let opts = LoadOptions {
        allow_test_tasks: test_tasks_enabled(),
        skip_input_checks: a.offline,
    };
    let r = match almacal_recipe::load(&a.recipe, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return crate::exit::of_load_error(&e);
        }
    };
    if !a.offline {
        let diags = almacal_pipeline::check_against_inputs(&r, &registry());
        if !diags.is_empty() {
            let e = almacal_recipe::RecipeErrors(diags);
            eprintln!("{e}");
            return crate::exit::of_load_error(&e);
        }
    }
    println!(
        "{}: ok ({} inputs, {} stages{})",
        r.path.display(),
        r.inputs.len(),
        r.stages.len(),
        if a.offline {
            "; offline: not checked against the data"
        } else {
            ""
        }
    );
    EXIT_OK
}

fn test_tasks_enabled() -> bool {
    std::env::var(TEST_TASKS_ENV).is_ok_and(|v| v == "1")
}

fn registry() -> TaskRegistry {
    let mut r = TaskRegistry::builtin();
    if test_tasks_enabled() {
        almacal_pipeline::testing::register(&mut r);
    }
    r
}

/// Load the recipe (printing every error) and call `f`.
pub(crate) fn with_recipe(path: &Path, f: impl FnOnce(&Recipe, &TaskRegistry) -> u8) -> u8 {
    let opts = LoadOptions {
        allow_test_tasks: test_tasks_enabled(),
        ..Default::default()
    };
    match almacal_recipe::load(path, &opts) {
        Ok(r) => f(&r, &registry()),
        Err(e) => {
            eprintln!("{e}");
            crate::exit::of_load_error(&e)
        }
    }
}

fn cmd_run(a: &RunArgs) -> u8 {
    with_recipe(&a.recipe, |recipe, reg| {
        let events = match &a.events {
            None => None,
            Some(p) => match std::fs::File::create(p) {
                Ok(f) => Some(Mutex::new(std::io::BufWriter::new(f))),
                Err(e) => {
                    eprintln!("error: cannot write events to {}: {e}", p.display());
                    return EXIT_ERROR;
                }
            },
        };
        let show = !a.no_progress && std::io::stderr().is_terminal();
        let obs = CliObserver::new(show, events);
        let opts = RunOptions {
            jobs: a.jobs.unwrap_or_else(|| RunOptions::default().jobs),
            only: a.only.clone(),
            from: a.from.clone(),
            force: a.force.clone(),
            wait: a.wait,
            plots: !a.no_plots,
        };
        crate::interrupt::install();
        let result = almacal_pipeline::run(recipe, reg, &opts, &obs);
        obs.finish();
        match result {
            Ok(report) => {
                print_report(&report);
                if opts.plots {
                    write_html_report(&recipe.workdir, &report);
                }
                crate::exit::of_report(&report)
            }
            Err(e) => {
                eprintln!("error: {e}");
                crate::exit::of_run_error(&e)
            }
        }
    })
}

/// The run's HTML report, `<workdir>/report/index.html` (with the stages' plots as
/// thumbnails). Remade after every run that ran or failed a stage or made plots; a no-op
/// run keeps the existing one. A report that cannot be written is a warning, not a failed run.
fn write_html_report(workdir: &std::path::Path, r: &RunReport) {
    let index = workdir.join("report").join("index.html");
    let nothing_new = r.count(Status::Ran) == 0
        && r.count(Status::Failed) == 0
        && r.stages
            .iter()
            .all(|s| s.plots.as_ref().is_none_or(|p| p.status != "made"));
    if nothing_new && index.is_file() {
        println!("report: {} (unchanged)", index.display());
        return;
    }
    match almacal_plot::write_report(workdir) {
        Ok(p) => println!("report: {}", p.display()),
        Err(e) => eprintln!("warning: the HTML report was not written: {e}"),
    }
}

/// Run a recipe quietly (no progress bars), print the stage table, return the exit code.
pub(crate) fn run_recipe(recipe: &Recipe, reg: &TaskRegistry, jobs: Option<usize>) -> u8 {
    let obs = CliObserver::new(false, None);
    let opts = RunOptions {
        jobs: jobs.unwrap_or_else(|| RunOptions::default().jobs),
        ..RunOptions::default()
    };
    let result = almacal_pipeline::run(recipe, reg, &opts, &obs);
    obs.finish();
    match result {
        Ok(report) => {
            print_report(&report);
            crate::exit::of_report(&report)
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::exit::of_run_error(&e)
        }
    }
}

fn print_report(r: &RunReport) {
    let w = r
        .stages
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let tw = r
        .stages
        .iter()
        .map(|s| s.task.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<w$}  {:<tw$}  {:<7}  {:>8}  reason",
        "stage", "task", "status", "time"
    );
    for s in &r.stages {
        let status = match s.status {
            Status::Ran => "ran",
            Status::Cached => "cached",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        };
        let mut reason = s.reason.clone();
        if s.unchanged {
            reason.push_str(" (products unchanged)");
        }
        println!(
            "{:<w$}  {:<tw$}  {:<7}  {:>7.2}s  {reason}",
            s.name, s.task, status, s.wall_s
        );
    }
    print_plots(r);
    println!(
        "{} ran, {} cached, {} failed, {} skipped in {:.2}s",
        r.count(Status::Ran),
        r.count(Status::Cached),
        r.count(Status::Failed),
        r.count(Status::Skipped),
        r.wall_s
    );
}

/// One line per stage with `plots = [...]`: how many PNGs, made or cached, or why not.
fn print_plots(r: &RunReport) {
    let disabled: Vec<&str> = r
        .stages
        .iter()
        .filter(|s| s.plots.as_ref().is_some_and(|p| p.status == "disabled"))
        .map(|s| s.name.as_str())
        .collect();
    if !disabled.is_empty() {
        println!(
            "plots not made (--no-plots) for {} stage{}",
            disabled.len(),
            if disabled.len() == 1 { "" } else { "s" }
        );
    }
    for s in &r.stages {
        let Some(p) = &s.plots else { continue };
        let folder = p
            .files
            .first()
            .and_then(|f| f.parent())
            .map(|d| format!(" in {}", d.display()))
            .unwrap_or_default();
        match (&p.error, p.status.as_str()) {
            (Some(e), _) => println!("plots {}: FAILED: {e}", s.name),
            (None, "made") => println!(
                "plots {}: {} made ({:.2}s){folder}",
                s.name,
                p.files.len(),
                p.wall_s
            ),
            (None, "disabled") => {}
            (None, st) => println!("plots {}: {} {st}{folder}", s.name, p.files.len()),
        }
    }
}

fn cmd_plan(recipe: &Recipe, reg: &TaskRegistry) -> u8 {
    let entries = almacal_pipeline::plan(recipe, reg, &[]);
    let mut runs = 0;
    let mut bad_input = false;
    for e in &entries {
        if let Some(err) = &e.error {
            bad_input = true;
            println!("{}: cannot assess: {err}", e.stage);
        } else if e.run {
            runs += 1;
            let r: Vec<String> = e.reasons.iter().map(|r| r.to_string()).collect();
            println!("{}: {}", e.stage, r.join("; "));
        } else {
            println!("{}: cached", e.stage);
        }
    }
    println!("{runs} of {} stages would run", entries.len());
    if bad_input {
        EXIT_INVALID_INPUT
    } else {
        EXIT_OK
    }
}

fn cmd_explain(recipe: &Recipe, reg: &TaskRegistry, stage: &str) -> u8 {
    match almacal_pipeline::explain(recipe, reg, stage) {
        Some(text) => {
            print!("{text}");
            EXIT_OK
        }
        None => {
            let names: Vec<&str> = recipe.stages.iter().map(|s| s.name.as_str()).collect();
            eprintln!("error: no stage `{stage}` in {}", recipe.path.display());
            if let Some(h) = almacal_recipe::suggest::did_you_mean(stage, names) {
                eprintln!("  = help: {h}");
            }
            EXIT_USAGE
        }
    }
}

fn cmd_status(recipe: &Recipe, reg: &TaskRegistry) -> u8 {
    let rows = almacal_pipeline::status(recipe, reg);
    let w = rows.iter().map(|s| s.stage.len()).max().unwrap_or(5).max(5);
    let tw = rows.iter().map(|s| s.task.len()).max().unwrap_or(4).max(4);
    println!("workspace {}", recipe.workdir.display());
    println!("{:<w$}  {:<tw$}  {:<9}  state", "stage", "task", "last run");
    for s in rows {
        let last = match s.last_run {
            Some(Status::Ran) => "ran",
            Some(Status::Cached) => "cached",
            Some(Status::Failed) => "failed",
            Some(Status::Skipped) => "skipped",
            None => "-",
        };
        println!("{:<w$}  {:<tw$}  {:<9}  {}", s.stage, s.task, last, s.state);
    }
    EXIT_OK
}

fn cmd_clean(recipe: &Recipe, stage: Option<&str>, wait: bool, yes: bool) -> u8 {
    if stage.is_none() && !yes && recipe.workdir.exists() {
        let ws = recipe.workdir.display();
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: `clean` without a stage removes the whole workspace {ws}; \
                 pass --yes to confirm (stdin is not a terminal, so almacal cannot ask)"
            );
            return EXIT_USAGE;
        }
        eprint!("remove the whole workspace {ws} (every stage's products and records)? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err()
            || !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        {
            eprintln!("nothing removed");
            return EXIT_OK;
        }
    }
    match almacal_pipeline::clean(recipe, stage, wait) {
        Ok(removed) => {
            for p in &removed {
                println!("removed {}", p.display());
            }
            if removed.is_empty() {
                println!("nothing to remove");
            }
            EXIT_OK
        }
        Err(almacal_pipeline::CleanError::UnknownStage(s)) => {
            eprintln!("error: no stage `{s}` in {}", recipe.path.display());
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::exit::of_clean_error(&e)
        }
    }
}

/// Progress bars (one per running stage) and the JSON-lines event file.
struct CliObserver {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    events: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    show: bool,
    /// Event lines carry `t_s`, seconds since this instant (the run's start).
    start: std::time::Instant,
}

impl CliObserver {
    fn new(show: bool, events: Option<Mutex<std::io::BufWriter<std::fs::File>>>) -> Self {
        let target = if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
            events,
            show,
            start: std::time::Instant::now(),
        }
    }

    fn finish(&self) {
        if let Some(ev) = &self.events {
            if let Ok(mut f) = ev.lock() {
                let _ = f.flush();
            }
        }
    }

    fn bar(&self, stage: &str, f: impl FnOnce(&ProgressBar)) {
        if let Ok(bars) = self.bars.lock() {
            if let Some(b) = bars.get(stage) {
                f(b);
            }
        }
    }
}

impl Observer for CliObserver {
    fn event(&self, e: &Event) {
        if let Some(ev) = &self.events {
            if let (Ok(mut f), Ok(mut v)) = (ev.lock(), serde_json::to_value(e)) {
                if let Some(o) = v.as_object_mut() {
                    let t = (self.start.elapsed().as_secs_f64() * 1e3).round() / 1e3;
                    o.insert("t_s".into(), t.into());
                }
                let _ = writeln!(f, "{v}");
                let _ = f.flush();
            }
        }
        crate::interrupt::note(e);
        if let Event::WaitingForLock { holder } = e {
            eprintln!("waiting for the workspace lock: held by another almacal run ({holder})");
        }
        if !self.show {
            return;
        }
        match e {
            Event::StageStarted { stage, task, .. } => {
                let bar = self.multi.add(ProgressBar::new(0));
                let style = ProgressStyle::with_template(
                    "{spinner} {prefix:24} {wide_bar} {pos}/{len} {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_prefix(format!("{stage} ({task})"));
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                if let Ok(mut bars) = self.bars.lock() {
                    bars.insert(stage.clone(), bar);
                }
            }
            Event::StageProgress { stage, done, total } => self.bar(stage, |b| {
                b.set_length(*total);
                b.set_position(*done);
            }),
            Event::StageFinished { stage, wall_s, .. } => {
                self.bar(stage, |b| b.finish_and_clear());
                let _ = self
                    .multi
                    .println(format!("  done   {stage} ({wall_s:.2}s)"));
            }
            Event::StageFailed { stage, error, .. } => {
                self.bar(stage, |b| b.finish_and_clear());
                let _ = self.multi.println(format!("  FAILED {stage}: {error}"));
            }
            _ => {}
        }
    }
}
