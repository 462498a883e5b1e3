//! The annotated example in docs/recipes.md is a valid recipe.

use almacal_recipe::{load, DepKind, LoadOptions};

#[test]
fn documented_example_validates() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/recipes.md"
    ))
    .expect("docs/recipes.md");
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("block end");
    let dir = tempfile::tempdir().expect("tmp");
    let ms = dir.path().join("data/uid___A002_Xdf0444_X10bd.ms");
    std::fs::create_dir_all(&ms).expect("mkdir");
    std::fs::write(ms.join("table.dat"), "x").expect("w");
    std::fs::write(dir.path().join("antennapos.json"), "{}").expect("w");
    std::fs::write(
        dir.path().join("flags.txt"),
        "mode='manual' antenna='PM04' spw='2' reason='bad bandpass'\n",
    )
    .expect("w");
    std::fs::write(dir.path().join("recipe.toml"), &doc[start..end]).expect("w");
    let r = load(&dir.path().join("recipe.toml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stages.len(), 16);
    assert_eq!(r.workdir, dir.path().join("work"));
    let apply = r.stage("apply").expect("apply");
    assert_eq!(apply.params["groups"].as_list().map(|g| g.len()), Some(3));
    let bp = r.stage("bandpass").expect("bandpass");
    assert!(bp
        .deps
        .iter()
        .any(|d| d.stage == "known_bad" && d.kind == DepKind::FlagLayer));
    assert!(r
        .stage("phase_int")
        .expect("p")
        .deps
        .iter()
        .any(|d| d.stage == "setjy" && d.kind == DepKind::Model));
}
