//! `almacal import-script` (issue 23) on archive script 01: exit 0, the recipe and the
//! `.import.json` written under `--out`, the JSON's accounting, the summary printed, and
//! the written recipe accepted by `almacal check --offline`.

mod cli_common;
use cli_common::{almacal, json, repo};

#[test]
fn import_script_writes_recipe_and_account() {
    let script =
        repo().join("../shared/scripts/01_uid___A002_Xaeaf96_X515.ms.scriptForCalibration.py");
    if !script.is_file() {
        assert!(
            std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_none(),
            "missing {}",
            script.display()
        );
        println!("note: {} is missing; test skipped", script.display());
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let script_arg = script.to_string_lossy().into_owned();
    let out_arg = out.to_string_lossy().into_owned();
    let (code, text) = almacal(
        &["import-script", &script_arg, "--out", &out_arg],
        tmp.path(),
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("44 of 47 task calls translated"), "{text}");
    let stem = "01_uid___A002_Xaeaf96_X515.ms.scriptForCalibration";
    let j = json(&out.join(format!("{stem}.import.json")));
    assert_eq!(j["task_calls"], 47);
    assert_eq!(j["translated"], 44);
    assert_eq!(j["unsupported"].as_array().map(Vec::len), Some(3));
    assert_eq!(j["unsupported"][0]["call"], "importasdm");
    assert_eq!(j["unsupported"][0]["line"], 78);
    let recipe = out.join(format!("{stem}.toml"));
    let recipe_arg = recipe.to_string_lossy().into_owned();
    let (code, text) = almacal(&["check", "--offline", &recipe_arg], tmp.path());
    assert_eq!(code, 0, "{text}");
    // A script that is not Python is refused with the input-data exit code and a line.
    let bad = tmp.path().join("bad.py");
    std::fs::write(&bad, "if x:\nprint 'a'\n  )\n").expect("write");
    let bad_arg = bad.to_string_lossy().into_owned();
    let (code, text) = almacal(&["import-script", &bad_arg, "--out", &out_arg], tmp.path());
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("bad.py:"), "{text}");
}
