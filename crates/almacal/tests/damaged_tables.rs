//! A damaged table never crashes almacal (issue 14). Single flipped bits in a subtable's
//! `table.dat` make casacore abort in-process ("terminate called without an active
//! exception") or segfault; almacal opens unchecked tables in a probe process first
//! (`almacal_casa::isolate`), so `listobs` and `run` end with an error naming the table.

mod cli_common;

use std::fs;
use std::path::Path;

use cli_common::{almacal, copy_dir};

/// Copy `x.ms` to `z.ms` with bit 4 of byte `at` of `OBSERVATION/table.dat` flipped.
fn damaged_copy(dir: &Path, at: usize) -> bool {
    let z = dir.join("z.ms");
    let _ = fs::remove_dir_all(&z);
    copy_dir(&dir.join("x.ms"), &z);
    let f = z.join("OBSERVATION/table.dat");
    let mut b = fs::read(&f).expect("read table.dat");
    if at >= b.len() {
        return false;
    }
    b[at] ^= 0x10;
    fs::write(&f, b).expect("write table.dat");
    true
}

fn assert_no_crash(code: i32, out: &str, what: &str) {
    assert!(
        (0..=7).contains(&code),
        "{what}: exit {code} (a signal or panic): {out}"
    );
    // What a crash in-process prints, at the start of a line (the damaged-table error
    // quotes casacore's message after a colon).
    for bad in [
        "thread 'main' panicked",
        "terminate called",
        "double free",
        "free():",
    ] {
        assert!(
            !out.lines().any(|l| l.trim_start().starts_with(bad)),
            "{what}: {bad:?} in {out}"
        );
    }
}

#[test]
fn flipped_bits_in_a_subtable_description_never_crash_listobs_or_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let (code, out) = almacal(
        &["simulate", "--preset", "tiny", "--out", "x.ms", "--quiet"],
        d,
    );
    assert_eq!(code, 0, "{out}");

    // Every 11th byte of the description: some flips are harmless, some give ordinary
    // errors, some crash casacore (caught by the probe).
    let mut damaged_at = None;
    let mut errors = 0;
    for at in (0..1200).step_by(11) {
        if !damaged_copy(d, at) {
            break;
        }
        let (code, out) = almacal(&["listobs", "z.ms"], d);
        assert_no_crash(code, &out, &format!("listobs, byte {at} flipped"));
        if out.contains("the table is damaged: casacore crashed") {
            assert_eq!(code, 4, "a damaged input is an input error: {out}");
            assert!(out.contains("z.ms"), "names the table: {out}");
            damaged_at.get_or_insert(at);
        } else if code != 0 {
            errors += 1;
        }
    }
    let at = damaged_at.expect("some flipped bit crashes casacore (and is caught)");
    assert!(errors > 0, "some flips are ordinary open errors");

    // The same damaged MS as a recipe's input: the run stops with an error, no crash.
    damaged_copy(d, at);
    fs::write(
        d.join("r.toml"),
        "[recipe]\nname = \"d\"\nworkdir = \"work\"\n\n[inputs]\nraw = \"z.ms\"\n\n\
         [stage.flags]\ntask = \"flagdata\"\nvis = \"raw\"\n\
         commands = [{ mode = \"manual\", autocorr = true }]\n",
    )
    .expect("write recipe");
    let (code, out) = almacal(&["run", "r.toml", "--no-plots"], d);
    assert_no_crash(code, &out, "run");
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("the table is damaged"), "{out}");
}
