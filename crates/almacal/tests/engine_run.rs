//! `almacal run/plan/explain/graph/status/clean` end to end with the hidden
//! test tasks: exit codes, run.json, events, the plan snapshot, the lock.

mod engine_common;

use std::time::{Duration, Instant};

use engine_common::{repo_root, stderr, stdout, Scratch};

const RECIPE: &str = r#"
[recipe]
name = "engine-test"

[inputs]
raw = "raw.ms"

[stage.flag_split]
task = "_test_flag"
vis = "raw"
infile = "flags.txt"

[stage.prep]
task = "_test_vis"
vis = "raw"

[stage.bandpass]
task = "_test_cal"
vis = "prep"
salt = "inf"

[stage.phase_inf]
task = "_test_cal"
vis = "prep"
gaintable = ["bandpass"]

[stage.listing]
task = "_test_cal"
vis = "raw"
after = ["prep"]
"#;

fn scratch() -> Scratch {
    let s = Scratch::new(RECIPE);
    s.write(
        "flags.txt",
        "mode='manual' antenna='CM01'\nmode='manual' spw='20'\n",
    );
    s
}

#[test]
fn run_writes_products_and_run_json_then_noop_is_fast() {
    let s = scratch();
    let out = s.run(&["run", "r.toml", "--events", "events.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("5 ran, 0 cached, 0 failed, 0 skipped"),
        "{table}"
    );
    for p in [
        "bandpass.cal",
        "phase_inf.cal",
        "prep.ms",
        "flag_split.flags",
        "run.json",
    ] {
        assert!(s.path().join("r.almacal").join(p).exists(), "{p}");
    }
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join("r.almacal/run.json")).expect("run.json"),
    )
    .expect("json");
    let stages = run["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 5);
    assert_eq!(stages[0]["status"], "ran");
    assert_eq!(stages[0]["reason"], "never run");
    assert!(stages[0]["wall_s"].as_f64().is_some());
    assert_eq!(
        run["stages"]
            .as_array()
            .expect("s")
            .iter()
            .find(|s| s["name"] == "bandpass")
            .expect("bp")["products"][0]["path"],
        "bandpass.cal"
    );

    let events: Vec<serde_json::Value> = std::fs::read_to_string(s.path().join("events.jsonl"))
        .expect("events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "stage_started").count(), 5);
    assert_eq!(kinds.iter().filter(|k| **k == "stage_finished").count(), 5);

    let t0 = Instant::now();
    let out = s.run(&["run", "r.toml", "--events", "events2.jsonl"]);
    let elapsed = t0.elapsed();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("0 ran, 5 cached"), "{}", stdout(&out));
    assert!(
        elapsed < Duration::from_secs(1),
        "no-op run took {elapsed:?}"
    );
    let ev2 = std::fs::read_to_string(s.path().join("events2.jsonl")).expect("events");
    assert_eq!(
        ev2.matches("\"event\":\"stage_cached\"").count(),
        5,
        "{ev2}"
    );
}

#[test]
fn plan_output_matches_snapshot_after_edits() {
    let s = scratch();
    assert_eq!(s.run(&["run", "r.toml"]).status.code(), Some(0));
    s.write(
        "r.toml",
        &RECIPE.replace("salt = \"inf\"", "salt = \"inf,20ch\""),
    );
    s.write(
        "flags.txt",
        "mode='manual' antenna='CM01'\nmode='manual' spw='20'\nmode='manual' antenna='CM03'\n",
    );
    let out = s.run(&["plan", "r.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected_path = repo_root().join("fixtures/recipes/plan_after_edit.expected");
    if std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1") {
        std::fs::write(&expected_path, stdout(&out)).expect("write");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("snapshot");
    assert_eq!(stdout(&out), expected);

    let out = s.run(&["explain", "r.toml", "bandpass"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("salt             \"inf\" -> \"inf,20ch\"  CHANGED"),
        "{text}"
    );
    assert!(text.contains("prep (vis)"), "{text}");

    let out = s.run(&["explain", "r.toml", "bandpas"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `bandpass`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn graph_status_and_clean() {
    let s = scratch();
    let out = s.run(&["graph", "r.toml"]);
    assert_eq!(out.status.code(), Some(0));
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph \"engine-test\" {"), "{dot}");
    assert!(
        dot.contains("\"bandpass\" -> \"phase_inf\" [label=\"caltable\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"flag_split\" -> \"prep\" [label=\"flag_layer\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"prep\" -> \"listing\" [label=\"after\", style=dashed];"),
        "{dot}"
    );
    assert!(
        dot.contains("fillcolor=\"#e0e0e0\""),
        "never-run stages are grey"
    );
    assert_eq!(s.run(&["run", "r.toml"]).status.code(), Some(0));
    let dot = stdout(&s.run(&["graph", "r.toml"]));
    assert_eq!(
        dot.matches("fillcolor=\"#a6e3a6\"").count(),
        5,
        "all cached: green\n{dot}"
    );

    let st = stdout(&s.run(&["status", "r.toml"]));
    assert!(
        st.lines()
            .any(|l| l.starts_with("bandpass") && l.ends_with("up to date")),
        "{st}"
    );

    let out = s.run(&["clean", "r.toml", "bandpass"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!s.path().join("r.almacal/bandpass.cal").exists());
    let plan = stdout(&s.run(&["plan", "r.toml"]));
    assert!(plan.contains("bandpass: never run"), "{plan}");
    assert!(
        plan.contains("phase_inf: upstream bandpass will rerun"),
        "{plan}"
    );
    assert_eq!(s.run(&["clean", "r.toml", "--yes"]).status.code(), Some(0));
    assert!(!s.path().join("r.almacal").exists());
}

#[test]
fn failing_stage_exits_5_and_skips_dependants() {
    let s = Scratch::new("[stage.a]\ntask = \"_test_cal\"\nfail = true\n[stage.b]\ntask = \"_test_cal\"\ngaintable = [\"a\"]\n[stage.c]\ntask = \"_test_cal\"\n");
    let out = s.run(&["run", "r.toml"]);
    assert_eq!(out.status.code(), Some(5), "{}", stdout(&out));
    let t = stdout(&out);
    assert!(
        t.lines()
            .any(|l| l.starts_with("a ") && l.contains("failed") && l.contains("asked to fail")),
        "{t}"
    );
    assert!(
        t.lines().any(|l| l.starts_with("b ")
            && l.contains("skipped")
            && l.contains("upstream a failed")),
        "{t}"
    );
    assert!(
        t.lines().any(|l| l.starts_with("c ") && l.contains("ran")),
        "{t}"
    );
}

#[test]
fn invalid_input_exits_4() {
    let s = Scratch::new(
        "[inputs]\nraw = \"missing.ms\"\n[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\n",
    );
    let out = s.run(&["run", "r.toml"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("r.toml:2:7: error: input `raw`: no such MeasurementSet"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn second_run_reports_lock_holder_or_waits() {
    let s = Scratch::new("[stage.slow]\ntask = \"_test_cal\"\nsleep_ms = 1500\n");
    let mut first = std::process::Command::new(engine_common::bin())
        .args(["run", "r.toml"])
        .current_dir(s.path())
        .env("ALMACAL_TEST_TASKS", "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until the first run holds the lock (it writes the holder line).
    let lock = s.path().join("r.almacal/.almacal/lock");
    let t0 = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |t| t.is_empty()) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = s.run(&["run", "r.toml"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let msg = stderr(&out);
    assert!(
        msg.contains(&format!(
            "locked by another almacal run (pid {} on ",
            first.id()
        )),
        "{msg}"
    );
    let out = s.run(&["run", "r.toml", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 ran, 1 cached"),
        "waited for the first run, then found it cached: {}",
        stdout(&out)
    );
    assert!(first.wait().expect("wait").success());
}
