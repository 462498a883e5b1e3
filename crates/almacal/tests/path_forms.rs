//! Paths reach casacore as the user wrote them (issue 14, defect 2): an input `.data/x.ms`
//! was opened as `data/x.ms` (another MS, silently), a workdir `.work` failed every table
//! write, and likewise for `listobs` and external caltables `.cals/ext.cal`. Each form here
//! (`.x`, `./x`, `../x`, spaces, non-ASCII) simulates an MS there, runs a recipe whose
//! input, workdir and external caltable use that form, and checks what was read.

mod cli_common;

use std::path::Path;

use cli_common::{almacal, copy_dir};

/// gaincal on the input; with `ext`, also an applycal of the external caltable + split.
fn recipe(input: &str, workdir: &str, ext: Option<&str>) -> String {
    let mut r = format!(
        r#"[recipe]
name = "paths"
workdir = {workdir:?}

[inputs]
raw = {input:?}

[stage.phase]
task = "gaincal"
vis = "raw"
field = "0"
spw = "16"
solint = "inf"
calmode = "p"
refant = "CM01"
"#
    );
    if let Some(ext) = ext {
        r.push_str(&format!(
            r#"
[stage.apply]
task = "applycal"
vis = "raw"
field = "0"
spw = "16"
gaintable = [{ext:?}]
output = {{ split = "applied.ms", spw = "16", datacolumn = "corrected", reindex = false }}
"#
        ));
    }
    r
}

fn rows_of(listobs: &str) -> Option<u64> {
    let line = listobs.lines().find(|l| l.contains("Data records:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// `dir` is the recipe folder; `input`, `workdir`, `cals` relative to it.
fn check_form(root: &Path, dir: &str, input: &str, workdir: &str, cals: &str) {
    let rdir = root.join(dir);
    std::fs::create_dir_all(&rdir).expect("mkdir");
    // the MS, written through the path form
    let (code, out) = almacal(
        &["simulate", "--preset", "tiny", "--out", input, "--quiet"],
        &rdir,
    );
    assert_eq!(code, 0, "simulate {input}: {out}");
    let (code, out) = almacal(&["listobs", input], &rdir);
    assert_eq!(code, 0, "listobs {input}: {out}");
    assert_eq!(rows_of(&out), Some(40560), "listobs {input}: {out}");

    std::fs::write(rdir.join("a.toml"), recipe(input, workdir, None)).expect("w");
    let (code, out) = almacal(&["run", "a.toml", "--no-plots"], &rdir);
    assert_eq!(code, 0, "run with input {input}, workdir {workdir}: {out}");
    let cal = rdir.join(workdir).join("phase.cal");
    assert!(cal.join("table.dat").is_file(), "{}: {out}", cal.display());
    let t = almacal_casa::caltable::read_caltable(&cal).expect("read caltable");
    assert!(!t.rows.is_empty(), "{input}: empty caltable");

    // the external caltable under the path form
    copy_dir(&cal, &rdir.join(cals));
    std::fs::write(rdir.join("b.toml"), recipe(input, workdir, Some(cals))).expect("w");
    let (code, out) = almacal(&["run", "b.toml", "--no-plots"], &rdir);
    assert_eq!(code, 0, "run with caltable {cals}: {out}");
    let split = rdir.join(workdir).join("applied.ms");
    let (code, out) = almacal(&["listobs", &split.to_string_lossy()], &rdir);
    assert_eq!(code, 0, "{out}");
    assert!(rows_of(&out).is_some_and(|n| n > 0), "{out}");
}

#[test]
fn dot_relative_spaced_and_non_ascii_paths() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    check_form(root, "r1", ".data/x.ms", ".work", ".cals/ext.cal");
    check_form(root, "r2", "./d/x.ms", "./w", "./c/ext.cal");
    check_form(root, "r3/sub", "../up/x.ms", "../upw", "../upc/ext.cal");
    check_form(root, "r4", "sp ace/x y.ms", "w s", "c s/ext.cal");
    check_form(root, "r5", "dätä/x.ms", "wörk", "çal/ext.cal");
}
