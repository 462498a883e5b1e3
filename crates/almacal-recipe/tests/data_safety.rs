//! Data safety at `check` time (issue 14, defect 1): no product path, and no workdir, may
//! equal, contain or lie inside an input MS, an external caltable or a referenced file,
//! after resolving `..`, symlinks and letter case. Each error names both recipe lines.

use std::path::{Path, PathBuf};

use almacal_recipe::{load, LoadOptions, RecipeErrors};

fn fake_table(path: &Path) {
    std::fs::create_dir_all(path).expect("mkdir");
    std::fs::write(path.join("table.dat"), b"x").expect("write");
}

/// A recipe folder with `data/sim_tiny.ms`, `cals/ext.cal` and `flags.txt`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    fake_table(&dir.path().join("data/sim_tiny.ms"));
    fake_table(&dir.path().join("cals/ext.cal"));
    std::fs::write(
        dir.path().join("flags.txt"),
        "mode='manual' antenna='CM01'\n",
    )
    .expect("w");
    dir
}

fn recipe(workdir: Option<&str>, input: &str, split_out: &str, extra: &str) -> String {
    let wd = workdir.map_or(String::new(), |w| format!("workdir = {w:?}\n"));
    format!(
        r#"[recipe]
name = "safety"
{wd}
[inputs]
raw = {input:?}

[stage.flags]
task = "flagdata"
vis = "raw"
inpfile = "flags.txt"

[stage.split]
task = "split"
vis = "raw"
outputvis = {split_out:?}
{extra}
"#
    )
}

fn load_in(dir: &Path, text: &str) -> Result<almacal_recipe::Recipe, RecipeErrors> {
    let p: PathBuf = dir.join("r.toml");
    std::fs::write(&p, text).expect("write");
    load(&p, &LoadOptions::default())
}

fn overlap_errors(dir: &Path, text: &str) -> Vec<String> {
    match load_in(dir, text) {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.iter()
                .filter(|d| d.message.contains("never writes") || d.message.contains("the workdir"))
                .map(|d| format!("{}:{}: {}", d.pos.line, d.pos.col, d.message))
                .collect()
        }
    }
}

#[test]
fn split_over_its_own_input_is_refused() {
    let d = setup();
    // workdir = "data", outputvis = "sim_tiny.ms": the split would replace the input.
    let e = overlap_errors(
        d.path(),
        &recipe(Some("data"), "data/sim_tiny.ms", "sim_tiny.ms", ""),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("stage `split` writes sim_tiny.ms"), "{e:?}");
    assert!(e[0].contains("input `raw`"), "{e:?}");
    // names both lines: the outputvis line (16) and the input line (6)
    assert!(e[0].starts_with("16:"), "{e:?}");
    assert!(e[0].contains("r.toml:6:"), "{e:?}");
    // workdir = "." and outputvis = "data/sim_tiny.ms"
    let e = overlap_errors(
        d.path(),
        &recipe(Some("."), "data/sim_tiny.ms", "data/sim_tiny.ms", ""),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    // a product inside the input MS
    let e = overlap_errors(
        d.path(),
        &recipe(Some("data"), "data/sim_tiny.ms", "sim_tiny.ms/inner.ms", ""),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("lies inside"), "{e:?}");
    // a product that contains the input MS
    let e = overlap_errors(d.path(), &recipe(Some("."), "data/sim_tiny.ms", "data", ""));
    assert!(e.iter().any(|m| m.contains("contains")), "{e:?}");
}

#[test]
fn workdir_inside_an_input_is_refused() {
    let d = setup();
    for wd in [
        "data/sim_tiny.ms",
        "data/sim_tiny.ms/work",
        "data/./sim_tiny.ms/x/..",
    ] {
        let e = overlap_errors(
            d.path(),
            &recipe(Some(wd), "data/sim_tiny.ms", "out.ms", ""),
        );
        assert!(e.iter().any(|m| m.contains("the workdir")), "{wd}: {e:?}");
    }
}

#[test]
fn dotdot_symlinks_and_case_are_resolved() {
    let d = setup();
    // `..`
    let e = overlap_errors(
        d.path(),
        &recipe(
            Some("other/../data"),
            "./data/../data/sim_tiny.ms",
            "sim_tiny.ms",
            "",
        ),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    // a symlinked workdir that points at the data folder
    std::os::unix::fs::symlink(d.path().join("data"), d.path().join("linked")).expect("ln");
    let e = overlap_errors(
        d.path(),
        &recipe(Some("linked"), "data/sim_tiny.ms", "sim_tiny.ms", ""),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    // letter case (a case-insensitive file system would make these one MS)
    let e = overlap_errors(
        d.path(),
        &recipe(Some("data"), "data/sim_tiny.ms", "SIM_TINY.ms", ""),
    );
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn referenced_files_and_caltables_are_protected() {
    let d = setup();
    // the flags file
    let e = overlap_errors(
        d.path(),
        &recipe(Some("."), "data/sim_tiny.ms", "flags.txt", ""),
    );
    assert!(e.iter().any(|m| m.contains("`inpfile` file")), "{e:?}");
    // the recipe file itself
    let e = overlap_errors(
        d.path(),
        &recipe(Some("."), "data/sim_tiny.ms", "r.toml", ""),
    );
    assert!(e.iter().any(|m| m.contains("the recipe file")), "{e:?}");
    // an external caltable applied by a stage
    let text = format!(
        "{}\n[stage.apply]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = [\"cals/ext.cal\"]\noutput = {{ split = \"cals/ext.cal\" }}\n",
        recipe(Some("."), "data/sim_tiny.ms", "out.ms", "")
    );
    let e = overlap_errors(d.path(), &text);
    assert!(
        e.iter().any(|m| m.contains("caltable \"cals/ext.cal\"")),
        "{e:?}"
    );
}

#[test]
fn separate_paths_are_accepted() {
    let d = setup();
    for (wd, out) in [
        (None, "sim_tiny.ms"),
        (Some("."), "sim_tiny.ms"),
        (Some("data"), "sim_tiny.ms.split"),
        (Some(".work"), "sim_tiny.ms"),
    ] {
        let e = overlap_errors(d.path(), &recipe(wd, "data/sim_tiny.ms", out, ""));
        assert!(e.is_empty(), "{wd:?} {out}: {e:?}");
    }
}
