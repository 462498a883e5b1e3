//! Never calibrate with nothing: on the NGC5921 fixture, a selection that matches no data is
//! a stage failure naming the parameter (gaincal, applycal, split, flagdata), a solve that
//! ends with no unflagged solution writes no caltable, applying a caltable that has no
//! solution for any selected row fails unless `allow_uncalibrated = true`, implausible
//! antenna-position offsets fail naming the antenna and file, and a NaN solution is always
//! written flagged.

use std::path::{Path, PathBuf};

use almacal_casa::caltable::{read_caltable, write_caltable, CalParams};
use almacal_pipeline::events::NullObserver;
use almacal_pipeline::run::{RunReport, Status};
use almacal_pipeline::{run, RunOptions, TaskRegistry};
use almacal_recipe::{load, LoadOptions};
use num_complex::Complex32;

fn ngc5921() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ngc5921/ngc5921.ms")
}

fn run_recipe(dir: &Path, body: &str) -> RunReport {
    let text = format!(
        "[recipe]\nworkdir = \"work\"\n[defaults]\nrefant = \"15\"\n[inputs]\nraw = \"{}\"\n{body}",
        ngc5921().display()
    );
    let path = dir.join("r.toml");
    std::fs::write(&path, text).expect("write recipe");
    let r = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    run(
        &r,
        &TaskRegistry::builtin(),
        &RunOptions {
            jobs: 1,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run")
}

/// The stage's status and reason (the error of a failed stage).
fn outcome<'a>(rep: &'a RunReport, stage: &str) -> (Status, &'a str) {
    let s = rep
        .stages
        .iter()
        .find(|s| s.name == stage)
        .unwrap_or_else(|| panic!("no stage {stage}"));
    (s.status, s.reason.as_str())
}

fn assert_failed(rep: &RunReport, stage: &str, wants: &[&str]) {
    let (status, reason) = outcome(rep, stage);
    assert_eq!(status, Status::Failed, "{stage}: {reason}");
    for w in wants {
        assert!(reason.contains(w), "{stage}: {reason:?} lacks {w:?}");
    }
}

const OUTSIDE: &str = "1990/01/01/00:00:00~1990/01/01/01:00:00";

#[test]
fn empty_selections_and_empty_solves_fail() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("antpos.json"),
        r#"{"offsets": {"2": [0.001, 0.0, 0.0], "5": [1e300, 0.0, 0.0]}}"#,
    )
    .expect("antpos");
    let rep = run_recipe(
        dir.path(),
        &format!(
            r#"
[stage.gcal]
task = "gaincal"
vis = "raw"
field = "1331*"

[stage.g_none]
task = "gaincal"
vis = "raw"
field = "1331*"
antenna = "!*"

[stage.g_amp]
task = "gaincal"
vis = "raw"
antenna = "1&&&&"

[stage.g_snr]
task = "gaincal"
vis = "raw"
field = "1331*"
minsnr = 1e30

[stage.apply_sel]
task = "applycal"
vis = "raw"
gaintable = ["gcal"]
timerange = "{OUTSIDE}"

[stage.split_sel]
task = "split"
vis = "raw"
datacolumn = "data"
field = "1"
scan = "1"

[stage.antpos_bad]
task = "gencal"
vis = "raw"
caltype = "antpos"
infile = "antpos.json"

[stage.flag_bad]
task = "flagdata"
vis = "raw"
commands = [{{ mode = "manual", timerange = "{OUTSIDE}" }}]
"#
        ),
    );
    let ms = ngc5921();
    let ms_name = ms.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert_eq!(
        outcome(&rep, "gcal").0,
        Status::Ran,
        "{:?}",
        outcome(&rep, "gcal")
    );
    // `!*` keeps only the autocorrelations: nothing a solve can use.
    assert_failed(
        &rep,
        "g_none",
        &["antenna='!*'", "selects no cross-correlation data", ms_name],
    );
    assert_failed(
        &rep,
        "g_amp",
        &["antenna='1&&&&'", "nothing may follow '&&&'"],
    );
    assert_failed(
        &rep,
        "g_snr",
        &["no unflagged solution", "no caltable written"],
    );
    assert!(!dir.path().join("work/g_snr.cal").exists());
    assert_failed(
        &rep,
        "apply_sel",
        &[
            &format!("timerange='{OUTSIDE}'"),
            "selects no data",
            ms_name,
        ],
    );
    assert_failed(
        &rep,
        "split_sel",
        &[
            "field='1' scan='1'",
            "selects no data",
            "together they select none",
        ],
    );
    assert_failed(
        &rep,
        "antpos_bad",
        &["antpos.json", "antenna 5", "not plausible"],
    );
    assert_failed(
        &rep,
        "flag_bad",
        &[
            &format!("timerange='{OUTSIDE}'"),
            "selects no data",
            "flag command",
        ],
    );

    // A caltable of "another MS": the same solutions relabelled to spw 1, which NGC5921
    // does not have. Applying it calibrates nothing.
    let good = read_caltable(&dir.path().join("work/gcal.cal")).expect("gcal.cal");
    let mut other = good.clone();
    for r in &mut other.rows {
        r.spw_id = 1;
    }
    let spw0 = other.sub.spws[0].clone();
    other.sub.spws.push(spw0);
    write_caltable(&dir.path().join("other.cal"), &other).expect("write other.cal");

    // The last-line guard: a NaN solution written unflagged comes back flagged.
    let mut nan = good.clone();
    let CalParams::Complex(p) = &mut nan.rows[0].params else {
        panic!("gaincal writes CPARAM");
    };
    p[[0, 0]] = Complex32::new(f32::NAN, 0.0);
    nan.rows[0].flag[[0, 0]] = false;
    nan.rows[1].flag[[0, 0]] = false;
    write_caltable(&dir.path().join("nan.cal"), &nan).expect("write nan.cal");
    let back = read_caltable(&dir.path().join("nan.cal")).expect("read nan.cal");
    assert!(back.rows[0].flag[[0, 0]], "NaN solution written unflagged");
    assert!(
        !back.rows[1].flag[[0, 0]],
        "a finite solution stays unflagged"
    );

    let dir2 = tempfile::tempdir().expect("tmp");
    let other_path = dir.path().join("other.cal");
    let rep = run_recipe(
        dir2.path(),
        &format!(
            r#"
[stage.apply_other]
task = "applycal"
vis = "raw"
field = "1331*"
gaintable = ["{0}"]

[stage.apply_other_allowed]
task = "applycal"
vis = "raw"
field = "1331*"
gaintable = ["{0}"]
allow_uncalibrated = true
"#,
            other_path.display()
        ),
    );
    assert_failed(
        &rep,
        "apply_other",
        &["has a solution", "allow_uncalibrated = true", "other.cal"],
    );
    let (status, reason) = outcome(&rep, "apply_other_allowed");
    assert_eq!(status, Status::Ran, "{reason}");
}
