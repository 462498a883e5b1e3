//! gaincal's CASA 6 list form of `solint` (`solint = ["int", "inf"]`): CASA 6.7 solves
//! with one entry of the list (`fixtures/solint_list/casa_reference.json`, made by
//! `casa_reference.py` beside it, records which single solint gives CASA's identical
//! table), and almacal reads each list as that solint; an invalid entry anywhere is an
//! error at that entry.

use std::path::Path;

use almacal_recipe::{load, LoadOptions, ParamValue};

fn recipe(dir: &Path, solint: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("raw.ms")).expect("mkdir");
    std::fs::write(dir.join("raw.ms/table.dat"), b"x").expect("write");
    let text = format!(
        "[recipe]\nname = \"s\"\n\n[inputs]\nraw = \"raw.ms\"\n\n[stage.phase]\ntask = \"gaincal\"\nvis = \"raw\"\ncalmode = \"p\"\nrefant = \"CM12\"\nsolint = {solint}\n"
    );
    let p = dir.join("r.toml");
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn a_solint_list_is_the_solint_casa_uses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/solint_list/casa_reference.json"))
            .expect("reference"),
    )
    .expect("json");
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 3);
    for case in cases {
        let list = case["solint"].to_string();
        let want = case["equals"][0]
            .as_str()
            .expect("CASA's equivalent solint");
        let dir = tempfile::tempdir().expect("tmp");
        let r = load(&recipe(dir.path(), &list), &LoadOptions::default()).expect("loads");
        let stage = r.stages.iter().find(|s| s.name == "phase").expect("stage");
        assert_eq!(
            stage.params.get("solint"),
            Some(&ParamValue::Str(want.to_string())),
            "solint = {list}"
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    let e = load(
        &recipe(dir.path(), "[\"int\", \"fast\"]"),
        &LoadOptions::default(),
    )
    .expect_err("an invalid entry");
    let text = format!("{e}");
    assert!(text.contains("fast"), "{text}");
}
