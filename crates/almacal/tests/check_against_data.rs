//! `almacal check` against the input data (issue 15): every recipe under
//! `fixtures/recipes/data_checks/` is checked against the tiny simulated MS (made here by
//! `almacal simulate --preset tiny`) and must print exactly the reviewed text of its
//! `.expected` file (first line: the exit code). The `ok_*` recipes (the bundled tutorial
//! recipe is copied in as `ok_tutorial.toml`) must pass; every other
//! one must fail with exit 3 (a recipe error) at a file:line:column, before anything runs
//! (no workspace is created). `UPDATE_EXPECT=1` rewrites the files (review the diff).
//!
//! Also: `--offline` checks the recipe text alone (no input needed), and a recipe that
//! loads but names an unreadable MS fails `check` with exit 4 unless `--offline`.

mod cli_common;

use cli_common::{almacal, repo};

/// Does `text` contain `<file>:<line>:<col>: error:`?
fn located(text: &str) -> bool {
    text.lines().any(|l| {
        let Some((loc, _)) = l.split_once(": error: ") else {
            return false;
        };
        let mut parts = loc.rsplitn(3, ':');
        let col = parts.next().and_then(|c| c.parse::<usize>().ok());
        let line = parts.next().and_then(|c| c.parse::<usize>().ok());
        col.is_some() && line.is_some() && parts.next().is_some_and(|f| !f.is_empty())
    })
}

fn setup() -> (tempfile::TempDir, Vec<String>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = repo().join("fixtures/recipes/data_checks");
    let mut recipes = Vec::new();
    for e in std::fs::read_dir(&src).expect("fixtures/recipes/data_checks") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".expected") {
            continue;
        }
        std::fs::copy(&p, tmp.path().join(&name)).expect("copy");
        if name.ends_with(".toml") {
            recipes.push(name);
        }
    }
    // The tutorial recipe, as bundled, must pass.
    for (from, to) in [
        ("alma-manual-calibration.toml", "ok_tutorial.toml"),
        (
            "alma-manual-calibration.flags.txt",
            "alma-manual-calibration.flags.txt",
        ),
    ] {
        std::fs::copy(repo().join("recipes").join(from), tmp.path().join(to)).expect("copy");
    }
    recipes.push("ok_tutorial.toml".into());
    recipes.sort();
    let (code, out) = almacal(
        &[
            "simulate",
            "--preset",
            "tiny",
            "--out",
            "data/sim_tiny.ms",
            "--quiet",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{out}");
    (tmp, recipes)
}

#[test]
fn check_reports_data_problems_where_they_were_written() {
    let (tmp, recipes) = setup();
    assert!(recipes.len() >= 12, "only {} recipes", recipes.len());
    let update = std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1");
    let expected_dir = repo().join("fixtures/recipes/data_checks");
    let mut failures = Vec::new();
    for r in &recipes {
        let (code, out) = almacal(&["check", r], tmp.path());
        let got = format!("exit: {code}\n{out}");
        if r.starts_with("ok_") {
            assert_eq!(code, 0, "{r}: {out}");
        } else {
            assert_eq!(code, 3, "{r}: {out}");
            assert!(located(&out), "{r}: no file:line:column in\n{out}");
        }
        assert!(
            !tmp.path().join("work").exists() && !tmp.path().join(".almacal").exists(),
            "{r}: check created a workspace"
        );
        let expected_path = expected_dir.join(r.replace(".toml", ".expected"));
        if update {
            std::fs::write(&expected_path, &got).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != got {
            failures.push(format!(
                "--- {}\n{expected}+++ got\n{got}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} snapshot(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn offline_check_needs_no_inputs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let recipe = tmp.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[inputs]\nraw = \"nowhere/raw.ms\"\n\
         [stage.flags]\ntask = \"flagdata\"\nvis = \"raw\"\ninpfile = \"nowhere/flags.txt\"\n\
         [stage.apply]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = [\"nowhere/x.tsys\"]\n",
    )
    .expect("write");
    let (code, out) = almacal(&["check", "--offline", "r.toml"], tmp.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("offline: not checked against the data"),
        "{out}"
    );
    // Online, the same recipe names inputs that do not exist: exit 4 (input data).
    let (code, out) = almacal(&["check", "r.toml"], tmp.path());
    assert_eq!(code, 4, "{out}");
    // Offline still checks the recipe itself.
    std::fs::write(
        &recipe,
        "[inputs]\nraw = \"nowhere/raw.ms\"\n[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nsolnt = \"int\"\n",
    )
    .expect("write");
    let (code, out) = almacal(&["check", "--offline", "r.toml"], tmp.path());
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("solint"), "{out}");
}

/// An input that exists but is not a readable MS: the recipe loads, the data check fails
/// (exit 4) and says which input.
#[test]
fn unreadable_input_fails_the_data_check() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("raw.ms")).expect("mkdir");
    std::fs::write(tmp.path().join("raw.ms/table.dat"), "not a table").expect("write");
    std::fs::write(
        tmp.path().join("r.toml"),
        "[inputs]\nraw = \"raw.ms\"\n[stage.l]\ntask = \"listobs\"\nvis = \"raw\"\n",
    )
    .expect("write");
    let (code, out) = almacal(&["check", "r.toml"], tmp.path());
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("input `raw`"), "{out}");
    let (code, out) = almacal(&["check", "--offline", "r.toml"], tmp.path());
    assert_eq!(code, 0, "{out}");
}

/// The sim_small recipe passes the data checks on the reference MS (when present).
#[test]
fn sim_small_recipe_passes_the_data_checks() {
    let raw = repo().join("../shared/refdata/sim_small/sim_small.ms");
    if !raw.exists() {
        assert!(
            std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_none(),
            "reference data missing: {}",
            raw.display()
        );
        eprintln!("skipped: {} not found", raw.display());
        return;
    }
    let (code, out) = almacal(&["check", "recipes/sim_small.toml"], &repo());
    assert_eq!(code, 0, "{out}");
}
