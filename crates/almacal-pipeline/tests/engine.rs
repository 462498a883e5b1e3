//! Engine behaviour with the fake `_test_*` stages: order, caching,
//! invalidation of exactly the downstream closure, early cutoff, failures,
//! concurrency, the lock, damaged products, and plan reasons.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use almacal_pipeline::events::{CollectObserver, Event, NullObserver};
use almacal_pipeline::testing::{register, TestTask};
use almacal_pipeline::{plan, run, RunError, RunOptions, RunReport, Status, TaskRegistry};
use almacal_recipe::{load, LoadOptions, Recipe};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let ms = dir.path().join("raw.ms");
        std::fs::create_dir_all(ms.join("ANTENNA")).expect("mkdir");
        std::fs::write(ms.join("table.dat"), "fake main table").expect("w");
        std::fs::write(ms.join("ANTENNA/table.dat"), "fake antenna table").expect("w");
        Self { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write");
    }
    fn recipe(&self, text: &str) -> Recipe {
        self.write("r.toml", text);
        load(
            &self.path().join("r.toml"),
            &LoadOptions {
                allow_test_tasks: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn registry() -> (TaskRegistry, Arc<TestTask>) {
    let mut r = TaskRegistry::new();
    let t = register(&mut r);
    (r, t)
}

fn opts() -> RunOptions {
    RunOptions {
        jobs: 2,
        ..Default::default()
    }
}

fn statuses(r: &RunReport) -> Vec<(String, Status)> {
    r.stages
        .iter()
        .map(|s| (s.name.clone(), s.status))
        .collect()
}

/// The stages in the order they started.
fn started_stages(obs: &CollectObserver) -> Vec<String> {
    obs.0
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|e| match e {
            Event::StageStarted { stage, .. } => Some(stage.clone()),
            _ => None,
        })
        .collect()
}

fn status_of(r: &RunReport, name: &str) -> Status {
    r.stages
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.status)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

const CHAIN: &str = r#"
[inputs]
raw = "raw.ms"

[stage.c]
task = "_test_cal"
gaintable = ["b"]
salt = "c"

[stage.b]
task = "_test_cal"
vis = "prep"
gaintable = ["a"]
salt = "SALT_B"

[stage.prep]
task = "_test_vis"
vis = "raw"

[stage.a]
task = "_test_cal"
vis = "raw"
salt = "a"

[stage.d]
task = "_test_cal"
vis = "raw"
salt = "d"
"#;

#[test]
fn runs_in_topological_order_then_all_cached() {
    let f = Fixture::new();
    let recipe = f.recipe(CHAIN);
    let (reg, t) = registry();
    let obs = CollectObserver::default();
    let r1 = run(
        &recipe,
        &reg,
        &RunOptions {
            jobs: 1,
            ..Default::default()
        },
        &obs,
    )
    .expect("run");
    let started = started_stages(&obs);
    assert_eq!(
        started,
        ["prep", "a", "b", "c", "d"],
        "deps first, the longest downstream chain first, ties in declaration order"
    );
    assert!(
        r1.stages.iter().all(|s| s.status == Status::Ran),
        "{:?}",
        statuses(&r1)
    );
    assert_eq!(t.runs.load(Ordering::SeqCst), 5);
    for p in [
        "a.cal/table.dat",
        "b.cal/table.dat",
        "c.cal/table.dat",
        "prep.ms/table.dat",
        "run.json",
    ] {
        assert!(recipe.workdir.join(p).exists(), "{p}");
    }

    let r2 = run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    assert!(
        r2.stages.iter().all(|s| s.status == Status::Cached),
        "{:?}",
        statuses(&r2)
    );
    assert_eq!(t.runs.load(Ordering::SeqCst), 5, "nothing reran");
    let json: RunReport = serde_json::from_str(
        &std::fs::read_to_string(recipe.workdir.join("run.json")).expect("read"),
    )
    .expect("parse");
    assert_eq!(json.count(Status::Cached), 5);
    assert_eq!(json.stages[0].products[0].path, PathBuf::from("prep.ms"));
}

#[test]
fn changing_a_parameter_reruns_exactly_the_downstream_closure() {
    let f = Fixture::new();
    let (reg, t) = registry();
    run(&f.recipe(CHAIN), &reg, &opts(), &NullObserver).expect("run");
    let before = std::fs::read(f.path().join("r.almacal/c.cal/table.dat")).expect("read");
    let recipe = f.recipe(&CHAIN.replace("SALT_B", "changed"));

    let p = plan(&recipe, &reg, &[]);
    let desc: Vec<(String, String)> = p.iter().map(|e| (e.stage.clone(), e.describe())).collect();
    assert_eq!(
        desc,
        [
            ("prep".to_string(), "cached".to_string()),
            ("a".into(), "cached".into()),
            (
                "b".into(),
                "run: parameter salt changed \"SALT_B\" -> \"changed\"".into()
            ),
            ("c".into(), "run: upstream b will rerun".into()),
            ("d".into(), "cached".into()),
        ]
    );

    t.runs.store(0, Ordering::SeqCst);
    let r = run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    assert_eq!(
        statuses(&r),
        [
            ("prep".into(), Status::Cached),
            ("a".into(), Status::Cached),
            ("b".into(), Status::Ran),
            ("c".into(), Status::Ran),
            ("d".into(), Status::Cached)
        ]
    );
    assert_eq!(t.runs.load(Ordering::SeqCst), 2);
    let c = r.stages.iter().find(|s| s.name == "c").expect("c");
    assert_eq!(c.reason, "upstream b changed");
    let after = std::fs::read(f.path().join("r.almacal/c.cal/table.dat")).expect("read");
    assert_ne!(before, after, "c's product reflects b's new content");
}

#[test]
fn early_cutoff_keeps_dependants_cached() {
    let f = Fixture::new();
    let text = "[stage.a]\ntask = \"_test_cal\"\nconstant = true\nsalt = \"one\"\n[stage.b]\ntask = \"_test_cal\"\ngaintable = [\"a\"]\n";
    let (reg, t) = registry();
    run(&f.recipe(text), &reg, &opts(), &NullObserver).expect("run");
    t.runs.store(0, Ordering::SeqCst);
    let r = run(
        &f.recipe(&text.replace("one", "two")),
        &reg,
        &opts(),
        &NullObserver,
    )
    .expect("run");
    assert_eq!(
        statuses(&r),
        [("a".into(), Status::Ran), ("b".into(), Status::Cached)]
    );
    assert!(r.stages[0].unchanged, "a's product digest is unchanged");
    assert_eq!(t.runs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failing_stage_does_not_poison_the_cache() {
    let f = Fixture::new();
    let text = "[stage.a]\ntask = \"_test_cal\"\n[stage.b]\ntask = \"_test_cal\"\ngaintable = [\"a\"]\nfail = FAIL\n[stage.c]\ntask = \"_test_cal\"\ngaintable = [\"b\"]\n[stage.d]\ntask = \"_test_cal\"\n";
    let (reg, t) = registry();
    let ok = f.recipe(&text.replace("FAIL", "false"));
    run(&ok, &reg, &opts(), &NullObserver).expect("run");
    let good_b = std::fs::read(f.path().join("r.almacal/b.cal/table.dat")).expect("read");

    let bad = f.recipe(&text.replace("FAIL", "true"));
    let r = run(&bad, &reg, &opts(), &NullObserver).expect("run");
    assert_eq!(status_of(&r, "b"), Status::Failed);
    assert_eq!(status_of(&r, "c"), Status::Skipped);
    assert_eq!(
        r.stages.iter().find(|s| s.name == "c").expect("c").reason,
        "upstream b failed"
    );
    assert_eq!(status_of(&r, "a"), Status::Cached);
    assert_eq!(status_of(&r, "d"), Status::Cached);
    assert!(!r.ok());
    assert_eq!(
        std::fs::read(f.path().join("r.almacal/b.cal/table.dat")).expect("read"),
        good_b,
        "old product untouched"
    );
    assert!(
        std::fs::read_dir(f.path().join("r.almacal/.almacal/tmp"))
            .expect("tmp")
            .next()
            .is_none(),
        "no leftovers"
    );

    // Still failing: it is not cached as a success.
    let r = run(&bad, &reg, &opts(), &NullObserver).expect("run");
    assert_eq!(status_of(&r, "b"), Status::Failed);

    // Back to the good parameters: the old products are valid again.
    t.runs.store(0, Ordering::SeqCst);
    let r = run(&ok, &reg, &opts(), &NullObserver).expect("run");
    assert!(
        r.stages.iter().all(|s| s.status == Status::Cached),
        "{:?}",
        statuses(&r)
    );
    assert_eq!(t.runs.load(Ordering::SeqCst), 0);
}

#[test]
fn ready_stages_start_on_the_critical_path_first() {
    let f = Fixture::new();
    // Declared first but with nothing downstream, `x` waits for `y`, whose chain is longer.
    let recipe = f.recipe(
        r#"
[inputs]
raw = "raw.ms"

[stage.x]
task = "_test_cal"
vis = "raw"
salt = "x"

[stage.y]
task = "_test_cal"
vis = "raw"
salt = "y"

[stage.z]
task = "_test_cal"
vis = "raw"
gaintable = ["y"]
salt = "z"
"#,
    );
    let (reg, _t) = registry();
    let obs = CollectObserver::default();
    run(
        &recipe,
        &reg,
        &RunOptions {
            jobs: 1,
            ..Default::default()
        },
        &obs,
    )
    .expect("run");
    let started = started_stages(&obs);
    assert_eq!(started, ["y", "x", "z"]);
}

#[test]
fn independent_stages_run_concurrently() {
    let f = Fixture::new();
    let text = "[stage.a]\ntask = \"_test_cal\"\nsleep_ms = 400\n[stage.b]\ntask = \"_test_cal\"\nsleep_ms = 400\n";
    let (reg, _) = registry();
    let t0 = Instant::now();
    run(
        &f.recipe(text),
        &reg,
        &RunOptions {
            jobs: 2,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run");
    let two = t0.elapsed().as_secs_f64();
    assert!(two < 0.75, "jobs=2 took {two:.2}s for two 0.4 s stages");
    let g = Fixture::new();
    let t0 = Instant::now();
    run(
        &g.recipe(text),
        &reg,
        &RunOptions {
            jobs: 1,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run");
    let one = t0.elapsed().as_secs_f64();
    assert!(one >= 0.8, "jobs=1 took {one:.2}s");
}

#[test]
fn second_run_on_a_locked_workspace_fails_with_holder() {
    let f = Fixture::new();
    let recipe = f.recipe("[stage.a]\ntask = \"_test_cal\"\n");
    let (reg, _) = registry();
    std::fs::create_dir_all(recipe.workdir.join(".almacal")).expect("mkdir");
    let _held = almacal_pipeline::lock::WorkspaceLock::acquire(
        &recipe.workdir.join(".almacal/lock"),
        false,
    )
    .expect("lock");
    match run(&recipe, &reg, &opts(), &NullObserver) {
        Err(RunError::Lock(e)) => assert!(
            e.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{e}"
        ),
        other => panic!("expected lock error, got {:?}", other.map(|r| statuses(&r))),
    }
}

#[test]
fn damaged_or_missing_products_rerun() {
    let f = Fixture::new();
    let recipe = f.recipe(
        "[stage.a]\ntask = \"_test_cal\"\n[stage.b]\ntask = \"_test_cal\"\ngaintable = [\"a\"]\n",
    );
    let (reg, _) = registry();
    run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    std::fs::write(recipe.workdir.join("a.cal/table.dat"), "tampered").expect("w");
    let p = plan(&recipe, &reg, &[]);
    assert_eq!(p[0].describe(), "run: product a.cal was modified");
    let r = run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    assert_eq!(
        statuses(&r),
        [("a".into(), Status::Ran), ("b".into(), Status::Cached)],
        "restored product has the old digest: early cutoff"
    );
    std::fs::remove_dir_all(recipe.workdir.join("b.cal")).expect("rm");
    assert_eq!(
        plan(&recipe, &reg, &[])[1].describe(),
        "run: product b.cal is missing"
    );
    let r = run(
        &recipe,
        &reg,
        &RunOptions {
            force: vec!["a".into()],
            ..opts()
        },
        &NullObserver,
    )
    .expect("run");
    assert_eq!(
        statuses(&r),
        [("a".into(), Status::Ran), ("b".into(), Status::Ran)]
    );
    assert_eq!(r.stages[0].reason, "forced (--force)");
}

#[test]
fn flag_file_changes_name_the_line_and_invalidate_downstream() {
    let f = Fixture::new();
    f.write(
        "flags.txt",
        "mode='manual' antenna='CM01'\nmode='manual' spw='20'\n",
    );
    let text = "[inputs]\nraw = \"raw.ms\"\n[stage.flags]\ntask = \"_test_flag\"\nvis = \"raw\"\ninfile = \"flags.txt\"\n[stage.gains]\ntask = \"_test_cal\"\nvis = \"raw\"\n[stage.other]\ntask = \"_test_cal\"\n";
    let (reg, _) = registry();
    let recipe = f.recipe(text);
    assert!(
        recipe
            .stage("gains")
            .expect("gains")
            .deps
            .iter()
            .any(|d| d.stage == "flags"),
        "flag layer applies to later stages on the same vis"
    );
    run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    f.write(
        "flags.txt",
        "mode='manual' antenna='CM01'\nmode='manual' spw='20'\nmode='manual' antenna='CM03'\n",
    );
    let recipe = f.recipe(text);
    let p = plan(&recipe, &reg, &[]);
    assert_eq!(
        p[0].describe(),
        "run: file flags.txt (infile) changed (line 3 added)"
    );
    assert_eq!(p[1].describe(), "run: upstream flags will rerun");
    assert_eq!(p[2].describe(), "cached");
    let r = run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    assert_eq!(
        statuses(&r),
        [
            ("flags".into(), Status::Ran),
            ("gains".into(), Status::Ran),
            ("other".into(), Status::Cached)
        ]
    );
}

#[test]
fn only_and_from_restrict_the_run() {
    let f = Fixture::new();
    let (reg, _) = registry();
    let recipe = f.recipe(CHAIN);
    let r = run(
        &recipe,
        &reg,
        &RunOptions {
            only: vec!["a".into(), "d".into()],
            ..opts()
        },
        &NullObserver,
    )
    .expect("run");
    assert_eq!(status_of(&r, "a"), Status::Ran);
    assert_eq!(status_of(&r, "d"), Status::Ran);
    assert_eq!(status_of(&r, "prep"), Status::Skipped);
    assert_eq!(status_of(&r, "b"), Status::Skipped);
    let r = run(
        &recipe,
        &reg,
        &RunOptions {
            from: Some("prep".into()),
            ..opts()
        },
        &NullObserver,
    )
    .expect("run");
    assert_eq!(
        statuses(&r),
        [
            ("prep".into(), Status::Ran),
            ("a".into(), Status::Cached),
            ("b".into(), Status::Ran),
            ("c".into(), Status::Ran),
            ("d".into(), Status::Cached)
        ]
    );
    assert!(matches!(
        run(
            &recipe,
            &reg,
            &RunOptions {
                only: vec!["zz".into()],
                ..opts()
            },
            &NullObserver
        ),
        Err(RunError::UnknownStage(_))
    ));
}

#[test]
fn input_ms_is_never_modified_and_its_change_invalidates() {
    let f = Fixture::new();
    let (reg, _) = registry();
    let recipe = f.recipe(CHAIN);
    let snapshot = |p: &Path| almacal_pipeline::digest::digest_product(p).expect("digest");
    let before = snapshot(&f.path().join("raw.ms"));
    run(&recipe, &reg, &opts(), &NullObserver).expect("run");
    let after = snapshot(&f.path().join("raw.ms"));
    assert_eq!(
        before, after,
        "content, sizes and mtimes of the input are unchanged"
    );
    std::fs::write(
        f.path().join("raw.ms/table.dat"),
        "fake main table, more rows",
    )
    .expect("w");
    let p = plan(&recipe, &reg, &[]);
    let a = p.iter().find(|e| e.stage == "a").expect("a");
    assert_eq!(a.describe(), "run: input raw changed");
    assert_eq!(
        p.iter().find(|e| e.stage == "d").expect("d").describe(),
        "run: input raw changed"
    );
}
