//! Error messages that say what is wrong and where: damaged or wrong-kind caltables, bad
//! selections in a flags file, negative uv distances, I/O errors with their path.

use std::path::Path;

mod cli_common;
use cli_common::{almacal, copy_dir};

/// A temp folder with the `tiny` simulated MS at `d/s.ms` and a gaincal table `g.cal`
/// made from it.
fn with_caltable() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (code, out) = almacal(
        &["simulate", "--preset", "tiny", "--out", "d/s.ms", "--quiet"],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    recipe(
        dir,
        "g",
        "[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nspw = \"17\"\nrefant = \"CM01\"\nsolint = \"inf\"\n",
    );
    let (code, out) = almacal(&["run", "g.toml", "--no-progress", "--no-plots"], dir);
    assert_eq!(code, 0, "{out}");
    copy_dir(&dir.join("work_g/g.cal"), &dir.join("g.cal"));
    tmp
}

fn recipe(dir: &Path, name: &str, stages: &str) {
    let text = format!(
        "[recipe]\nname = \"{name}\"\nworkdir = \"work_{name}\"\n\n[inputs]\nraw = \"d/s.ms\"\n\n{stages}"
    );
    std::fs::write(dir.join(format!("{name}.toml")), text).expect("write recipe");
}

#[test]
fn damaged_caltables_say_what_is_wrong() {
    let tmp = with_caltable();
    let dir = tmp.path();

    // A truncated data file: damaged, not "not writable".
    copy_dir(&dir.join("g.cal"), &dir.join("trunc.cal"));
    let f0 = dir.join("trunc.cal/table.f0");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&f0)
        .expect("open");
    file.set_len(100).expect("truncate");
    drop(file);
    let (code, out) = almacal(&["plot", "gain", "trunc.cal"], dir);
    // Either casacore's error, explained, or the probe process's report of its crash
    // (almacal_casa::isolate); both name the table and say it is damaged.
    assert!(code == 4 || code == 1, "{out}");
    assert!(out.contains("damaged"), "{out}");
    assert!(out.contains("trunc.cal"), "{out}");
    assert!(
        !out.contains("error: trunc.cal: column TIME: FiledesIO"),
        "{out}"
    );

    // No SPECTRAL_WINDOW subtable: say so, not "NUM_CHAN 0".
    copy_dir(&dir.join("g.cal"), &dir.join("nospw.cal"));
    std::fs::remove_dir_all(dir.join("nospw.cal/SPECTRAL_WINDOW")).expect("rm");
    let (code, out) = almacal(&["plot", "gain", "nospw.cal"], dir);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("SPECTRAL_WINDOW subtable is missing"), "{out}");
    assert!(!out.contains("NUM_CHAN 0"), "{out}");
}

#[test]
fn an_ms_given_as_a_caltable_is_named_as_such() {
    let tmp = with_caltable();
    let dir = tmp.path();
    recipe(
        dir,
        "msgt",
        "[stage.a]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = [\"d/s.ms\"]\n",
    );
    let (code, out) = almacal(&["run", "msgt.toml", "--no-progress", "--no-plots"], dir);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("d/s.ms is a MeasurementSet, not a calibration table"),
        "{out}"
    );
    assert!(!out.contains("unrecognized column name"), "{out}");
}

#[test]
fn negative_uvrange_says_negative_distance() {
    let tmp = with_caltable();
    let dir = tmp.path();
    recipe(
        dir,
        "uv",
        "[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nrefant = \"CM01\"\nsolint = \"inf\"\nuvrange = \"-5m\"\n",
    );
    let (code, out) = almacal(&["run", "uv.toml", "--no-progress", "--no-plots"], dir);
    assert!(out.contains("negative distance"), "{out}");
    assert!(!out.contains("matches no rows"), "{out}");
    assert_eq!(code, 4, "{out}");
}

#[test]
fn bad_selection_in_a_flags_file_names_file_and_line() {
    let tmp = with_caltable();
    let dir = tmp.path();
    std::fs::write(
        dir.join("my.flags.txt"),
        "mode='manual' antenna='CM01'\nmode='manual' spw='99'\n",
    )
    .expect("write flags");
    recipe(
        dir,
        "fl",
        "[stage.f]\ntask = \"flagdata\"\nvis = \"raw\"\ninpfile = \"my.flags.txt\"\n",
    );
    let (code, out) = almacal(&["run", "fl.toml", "--no-progress", "--no-plots"], dir);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("my.flags.txt:2"), "{out}");
    assert!(out.contains("spw 99"), "{out}");
}

#[test]
fn io_errors_name_the_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (code, out) = almacal(
        &["simulate", "--preset", "tiny", "--out", "d/s.ms", "--quiet"],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    let long = "w".repeat(300);
    let text = format!(
        "[recipe]\nname = \"long\"\nworkdir = \"{long}\"\n\n[inputs]\nraw = \"d/s.ms\"\n\n[stage.l]\ntask = \"listobs\"\nvis = \"raw\"\n"
    );
    std::fs::write(dir.join("long.toml"), text).expect("write");
    let (code, out) = almacal(&["run", "long.toml", "--no-progress", "--no-plots"], dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("File name too long"), "{out}");
    assert!(out.contains(&long), "the path is not named: {out}");
}
