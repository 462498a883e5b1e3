//! Error snapshots: `almacal check` on every malformed recipe under
//! `fixtures/recipes/invalid/` must print exactly the reviewed text in the
//! matching `.expected` file (first line: the exit code), and every message
//! must name a line and column. `UPDATE_EXPECT=1` rewrites the files (review
//! the diff before committing).

mod engine_common;

use engine_common::{almacal, repo_root, stderr, stdout};

#[test]
fn malformed_recipes_report_located_errors() {
    let root = repo_root();
    let dir = root.join("fixtures/recipes/invalid");
    let mut recipes: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/recipes/invalid")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    recipes.sort();
    assert!(
        recipes.len() >= 20,
        "only {} malformed recipes",
        recipes.len()
    );
    let update = std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for recipe in &recipes {
        let rel = recipe
            .strip_prefix(&root)
            .expect("under root")
            .display()
            .to_string();
        let out = almacal(&root, &["check", &rel]);
        let code = out.status.code().unwrap_or(-1);
        assert!(stdout(&out).is_empty(), "{rel}: check printed to stdout");
        let got = format!("exit: {code}\n{}", stderr(&out));
        let located = regex_like_location(&stderr(&out), &rel);
        assert!(located, "{rel}: no file:line:column in\n{got}");
        assert!(code == 3 || code == 4, "{rel}: exit code {code}");
        let expected_path = recipe.with_extension("expected");
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

/// Does `text` contain `<something>:<line>:<col>: error:` for the recipe or
/// a file next to it?
fn regex_like_location(text: &str, rel: &str) -> bool {
    let folder = rel.rsplit_once('/').map_or("", |(f, _)| f);
    text.lines().any(|l| {
        let Some((loc, _)) = l.split_once(": error: ") else {
            return false;
        };
        let mut parts = loc.rsplitn(3, ':');
        let col = parts.next().and_then(|c| c.parse::<usize>().ok());
        let line = parts.next().and_then(|c| c.parse::<usize>().ok());
        let file = parts.next().unwrap_or("");
        col.is_some() && line.is_some() && file.starts_with(folder)
    })
}

#[test]
fn valid_recipe_checks_ok() {
    let s = engine_common::Scratch::new(
        "[inputs]\nraw = \"raw.ms\"\n[stage.listobs]\ntask = \"listobs\"\nvis = \"raw\"\n",
    );
    // The scratch MS is fake: check the recipe alone (the data checks are in
    // check_against_data.rs).
    let out = s.run(&["check", "--offline", "r.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "r.toml: ok (1 inputs, 1 stages; offline: not checked against the data)\n"
    );
}

#[test]
fn test_tasks_are_hidden_without_the_env_var() {
    let s = engine_common::Scratch::new("[stage.a]\ntask = \"_test_cal\"\n");
    let out = std::process::Command::new(engine_common::bin())
        .args(["check", "r.toml"])
        .current_dir(s.path())
        .env_remove("ALMACAL_TEST_TASKS")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("unknown task \"_test_cal\""),
        "{}",
        stderr(&out)
    );
}
