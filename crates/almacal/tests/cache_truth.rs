//! No false cache hits (issue 14, defect 3): (a) an external caltable replaced by one of
//! the same sizes with other solutions, (b) an input MS edited in place (one DATA value)
//! or replaced by another simulation of the same shape, (c) a product edited with its
//! mtime restored (`touch -r`) — each must make `plan` rerun what read it.

mod cli_common;

use std::fs;
use std::path::Path;

use cli_common::{almacal, copy_dir};

const RECIPE_A: &str = r#"[recipe]
name = "cache"
workdir = "work"

[inputs]
raw = "data/x.ms"

[stage.flags]
task = "flagdata"
vis = "raw"
commands = [{ mode = "manual", autocorr = true }]

[stage.phase]
task = "gaincal"
vis = "raw"
field = "0"
spw = "16"
solint = "inf"
calmode = "p"
refant = "CM01"
"#;

const APPLY: &str = r#"
[stage.apply]
task = "applycal"
vis = "raw"
field = "0"
spw = "16"
gaintable = ["cals/ext.cal"]
output = { split = "applied.ms", spw = "16", datacolumn = "corrected", reindex = false }
"#;

/// `plan` output lines, stage → reasons.
fn plan(dir: &Path) -> Vec<(String, String)> {
    let (code, out) = almacal(&["plan", "r.toml"], dir);
    assert_eq!(code, 0, "{out}");
    out.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn reason<'a>(p: &'a [(String, String)], stage: &str) -> &'a str {
    p.iter()
        .find(|(s, _)| s == stage)
        .map_or("", |(_, r)| r.as_str())
}

fn run(dir: &Path) {
    let (code, out) = almacal(&["run", "r.toml", "--no-plots"], dir);
    assert_eq!(code, 0, "{out}");
    let p = plan(dir);
    assert!(
        p.iter()
            .all(|(s, r)| r == "cached" || s.contains("stages would run")),
        "after a run everything is cached: {p:?}"
    );
}

/// Flip one byte in the middle of `file`, keeping its size; restore its mtime.
fn flip_byte_keep_mtime(file: &Path) {
    let before = fs::metadata(file).expect("stat").modified().expect("mtime");
    let mut bytes = fs::read(file).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    fs::write(file, &bytes).expect("write");
    let f = fs::File::options().write(true).open(file).expect("open");
    f.set_modified(before).expect("touch -r");
    assert_eq!(
        fs::metadata(file).expect("stat").modified().expect("mtime"),
        before
    );
}

/// Copy every file of `from` over the same file of `to` without replacing it (same
/// inode), restoring each file's mtime afterwards (`touch -r`).
fn overwrite_in_place_keep_mtimes(from: &Path, to: &Path) {
    for e in fs::read_dir(from).expect("ls").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            overwrite_in_place_keep_mtimes(&src, &dst);
        } else if dst.is_file() && e.file_name() != "table.lock" {
            let before = fs::metadata(&dst).expect("stat").modified().expect("mtime");
            fs::write(&dst, fs::read(&src).expect("read")).expect("write");
            let f = fs::File::options().write(true).open(&dst).expect("open");
            f.set_modified(before).expect("touch -r");
        }
    }
}

/// The largest file of a table (its bulk data).
fn largest_file(dir: &Path) -> std::path::PathBuf {
    fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .max_by_key(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a file")
}

fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let (code, out) = almacal(
        &[
            "simulate",
            "--preset",
            "tiny",
            "--out",
            "data/x.ms",
            "--quiet",
        ],
        d,
    );
    assert_eq!(code, 0, "{out}");
    fs::write(d.join("r.toml"), RECIPE_A).expect("w");
    run(d);
    // The solved table becomes an external caltable for an applycal stage.
    copy_dir(&d.join("work/phase.cal"), &d.join("cals/ext.cal"));
    fs::write(d.join("r.toml"), format!("{RECIPE_A}{APPLY}")).expect("w");
    run(d);
    tmp
}

#[test]
fn external_caltable_with_other_solutions_reruns_its_users() {
    let tmp = setup();
    let d = tmp.path();
    // Other solutions, same sizes: re-solve with another reference antenna into a copy.
    let other = RECIPE_A.replace("refant = \"CM01\"", "refant = \"CM02\"");
    let o = d.join("other");
    fs::create_dir_all(&o).expect("mkdir");
    fs::write(o.join("r.toml"), other.replace("data/x.ms", "../data/x.ms")).expect("w");
    let (code, out) = almacal(&["run", "r.toml", "--no-plots"], &o);
    assert_eq!(code, 0, "{out}");
    let (a, b) = (d.join("cals/ext.cal"), o.join("work/phase.cal"));
    let sizes = |p: &Path| -> Vec<u64> {
        let mut v: Vec<(String, u64)> = fs::read_dir(p)
            .expect("ls")
            .flatten()
            .filter(|e| e.path().is_file() && e.file_name() != "table.lock")
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().map(|m| m.len()).unwrap_or(0),
                )
            })
            .collect();
        v.sort();
        v.into_iter().map(|x| x.1).collect()
    };
    assert_eq!(sizes(&a), sizes(&b), "the replacement has the same sizes");
    fs::remove_dir_all(&a).expect("rm");
    copy_dir(&b, &a);
    let p = plan(d);
    assert!(
        reason(&p, "apply").contains("caltable cals/ext.cal changed"),
        "{p:?}"
    );
    assert_eq!(reason(&p, "phase"), "cached", "{p:?}");
}

#[test]
fn input_edited_in_place_or_replaced_reruns_every_reader() {
    let tmp = setup();
    let d = tmp.path();
    // One DATA value: a byte of the tiled DATA column, size and mtime unchanged.
    let ms = d.join("data/x.ms");
    let data_file = largest_file(&ms);
    flip_byte_keep_mtime(&data_file);
    let p = plan(d);
    for st in ["flags", "phase", "apply"] {
        assert!(reason(&p, st).contains("input raw changed"), "{st}: {p:?}");
    }
    // Put it back: the identity is the content's, so everything is cached again.
    flip_byte_keep_mtime(&data_file);
    let p = plan(d);
    assert!(
        ["flags", "phase", "apply"]
            .iter()
            .all(|s| reason(&p, s) == "cached"),
        "{p:?}"
    );
    // Replaced by another simulation of the same shape (the faulty one).
    fs::remove_dir_all(&ms).expect("rm");
    let (code, out) = almacal(
        &[
            "simulate",
            "--preset",
            "tiny",
            "--fault",
            "--out",
            "data/x.ms",
            "--quiet",
        ],
        d,
    );
    assert_eq!(code, 0, "{out}");
    let p = plan(d);
    for st in ["flags", "phase", "apply"] {
        assert!(reason(&p, st).contains("input raw changed"), "{st}: {p:?}");
    }
}

#[test]
fn products_edited_with_mtime_restored_are_noticed() {
    let tmp = setup();
    let d = tmp.path();
    // A caltable product: one SNR value changed, written over the files in place (same
    // inodes), every mtime restored.
    let cal = d.join("work/phase.cal");
    let mut t = almacal_casa::caltable::read_caltable(&cal).expect("read");
    t.rows[0].snr[[0, 0]] += 1.0;
    let edited = d.join("edited.cal");
    almacal_casa::caltable::write_caltable(&edited, &t).expect("write");
    overwrite_in_place_keep_mtimes(&edited, &cal);
    let p = plan(d);
    assert!(reason(&p, "phase").contains("was modified"), "{p:?}");
    run(d);
    // A vis product (the split).
    let split = largest_file(&d.join("work/applied.ms"));
    flip_byte_keep_mtime(&split);
    let p = plan(d);
    assert!(reason(&p, "apply").contains("was modified"), "{p:?}");
    run(d);
    // A flag layer (single-file product).
    let layer = d.join("work/flags.flags");
    assert!(layer.is_file(), "flag layer at {}", layer.display());
    flip_byte_keep_mtime(&layer);
    let p = plan(d);
    assert!(reason(&p, "flags").contains("was modified"), "{p:?}");
}

/// Defect 4: the almacal build is part of every fingerprint, and `plan` says so.
#[test]
fn products_of_another_build_rerun() {
    let tmp = setup();
    let d = tmp.path();
    let rec = d.join("work/.almacal/records/phase.json");
    let mut r = cli_common::json(&rec);
    assert!(
        r["components"]["build"]
            .as_str()
            .is_some_and(|b| b.starts_with(env!("CARGO_PKG_VERSION")) && b.contains('+')),
        "record carries the build: {}",
        r["components"]["build"]
    );
    r["components"]["build"] = "0.0.1+0123456789ab".into();
    fs::write(&rec, serde_json::to_vec_pretty(&r).expect("json")).expect("w");
    let p = plan(d);
    assert!(
        reason(&p, "phase").contains("almacal build changed 0.0.1+0123456789ab -> "),
        "{p:?}"
    );
    let (code, out) = almacal(&["explain", "r.toml", "phase"], d);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("recorded by almacal build 0.0.1+0123456789ab"),
        "{out}"
    );
}

#[test]
fn caltable_history_records_the_stage_fingerprint() {
    // Issue 15: HISTORY printed an empty "fingerprint"; it must be the stage's cache key
    // as run.json records it.
    let tmp = setup();
    let d = tmp.path();
    let run: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("work/run.json")).expect("run.json"))
            .expect("json");
    let fp = run["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"] == "phase")
        .and_then(|s| s["fingerprint"].as_str())
        .expect("phase fingerprint")
        .to_string();
    assert!(fp.len() >= 16, "{fp}");
    let t = almacal_casa::caltable::read_caltable(&d.join("work/phase.cal")).expect("read");
    let msgs: Vec<&str> = t.sub.history.iter().map(|h| h.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("stage 'phase'") && m.ends_with(&format!("fingerprint {fp}"))),
        "{msgs:?} should name fingerprint {fp}"
    );
}
