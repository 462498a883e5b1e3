//! The solve stages (gaincal, bandpass, setjy, fluxscale) run through the engine on real
//! data and compared with CASA 6.7:
//!
//! * sim_small: the refdata README chain steps 12–17 on CASA's own solver input (the split MS
//!   of `fixtures/sim_small/casa_split_inputs.py`, in `../shared/refdata/sim_small/casa/` or
//!   `$ALMACAL_SPLIT_DIR`), each caltable compared with CASA's from
//!   `../shared/refdata/sim_small/casa/` reference-antenna independently (like
//!   `../shared/tools/compare_caltables.py`), and J1700-2610's flux with CASA's
//!   `fluxscale.json` and the truth. Skips with a note when the split MS is absent (unless
//!   `ALMACAL_REQUIRE_REFDATA` is set).
//! * NGC5921 (committed fixture): the classic VLA chain against the committed CASA solutions
//!   `fixtures/ngc5921/casa_solve_reference.json` (made by `casa_solve_reference.py`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use almacal_casa::caltable::{read_caltable, CalParams, CalRow};
use almacal_pipeline::events::NullObserver;
use almacal_pipeline::{run, RunOptions, TaskRegistry};
use almacal_recipe::{load, LoadOptions};
use num_complex::Complex64;
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn refdata() -> Option<PathBuf> {
    let base = std::env::var_os("ALMACAL_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/refdata"));
    base.join("sim_small").exists().then_some(base)
}

fn split_ms() -> Option<PathBuf> {
    refdata()?;
    common::casa_split()
}

/// Write `recipe` into a temp dir, run it with the built-in tasks, return the workdir.
fn run_recipe(dir: &Path, recipe: &str, threads: usize) -> PathBuf {
    let path = dir.join("r.toml");
    std::fs::write(&path, recipe).expect("write recipe");
    let r = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let rep = run(
        &r,
        &TaskRegistry::builtin(),
        &RunOptions {
            jobs: threads,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run");
    for s in &rep.stages {
        println!(
            "stage {:<12} {:?} {:.2} s {}",
            s.name, s.status, s.wall_s, s.reason
        );
    }
    assert!(rep.ok(), "a stage failed: {:?}", rep.stages);
    dir.join("work")
}

/// Result of a reference-antenna independent caltable comparison.
#[derive(Debug, Default)]
struct Cmp {
    rows: usize,
    unmatched: usize,
    flag_mismatch: usize,
    /// Max |amp ratio − 1| in % over solutions unflagged in both (with SNR ≥ `min_snr`).
    amp_pct: f64,
    /// Max |phase residual| (deg) after removing the common phase per (spw, time, chan).
    phase_deg: f64,
    dt_s: f64,
}

fn cparams(r: &CalRow) -> Vec<Complex64> {
    match &r.params {
        CalParams::Complex(p) => p
            .iter()
            .map(|z| Complex64::new(f64::from(z.re), f64::from(z.im)))
            .collect(),
        CalParams::Float(_) => panic!("not a complex table"),
    }
}

/// Rows matched on (spw, field, antenna, time ±1 s); per (spw, time) group and parameter
/// element, the common phase of ours·conj(casa) is removed (as compare_caltables.py).
/// Solutions whose CASA SNR is below `min_snr` are left out of the amplitude/phase maxima.
fn compare(ours: &[CalRow], casa: &[CalRow], min_snr: f32) -> Cmp {
    let mut c = Cmp {
        rows: casa.len(),
        ..Default::default()
    };
    let mut groups: BTreeMap<(i32, i64), Vec<Vec<Complex64>>> = BTreeMap::new();
    for cr in casa {
        let Some(o) = ours.iter().find(|o| {
            (o.spw_id, o.field_id, o.antenna1) == (cr.spw_id, cr.field_id, cr.antenna1)
                && (o.time_s - cr.time_s).abs() < 1.0
        }) else {
            c.unmatched += 1;
            continue;
        };
        c.dt_s = c.dt_s.max((o.time_s - cr.time_s).abs());
        let (op, cp) = (cparams(o), cparams(cr));
        assert_eq!(op.len(), cp.len(), "cell shapes differ");
        let (of, cf): (Vec<bool>, Vec<bool>) = (
            o.flag.iter().copied().collect(),
            cr.flag.iter().copied().collect(),
        );
        let snr: Vec<f32> = cr.snr.iter().copied().collect();
        let mut zs = Vec::new();
        for k in 0..op.len() {
            if of[k] != cf[k] {
                c.flag_mismatch += 1;
            }
            if of[k] || cf[k] || snr[k] < min_snr {
                zs.push(Complex64::new(0.0, 0.0));
                continue;
            }
            c.amp_pct = c
                .amp_pct
                .max(100.0 * (op[k].norm() / cp[k].norm() - 1.0).abs());
            zs.push(op[k] * cp[k].conj());
        }
        groups
            .entry((cr.spw_id, (cr.time_s * 10.0).round() as i64))
            .or_default()
            .push(zs);
    }
    for g in groups.values() {
        for k in 0..g[0].len() {
            let common: Complex64 = g.iter().map(|z| z[k] / z[k].norm().max(1e-300)).sum();
            for z in g {
                if z[k].norm() > 0.0 {
                    c.phase_deg = c
                        .phase_deg
                        .max((z[k] * common.conj()).arg().to_degrees().abs());
                }
            }
        }
    }
    c
}

fn table_rows(p: &Path) -> Vec<CalRow> {
    read_caltable(p)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
        .rows
}

/// `ALMACAL_KEEP_TABLES=DIR` keeps the products in `DIR/<name>/`.
fn keep_products(work: &Path, name: &str) {
    if let Some(keep) = std::env::var_os("ALMACAL_KEEP_TABLES") {
        let keep = PathBuf::from(keep).join(name);
        std::fs::create_dir_all(&keep).expect("mkdir");
        for e in std::fs::read_dir(work).expect("ls").flatten() {
            let to = keep.join(e.file_name());
            let _ = std::fs::remove_dir_all(&to);
            let _ = std::process::Command::new("cp")
                .arg("-r")
                .arg(e.path())
                .arg(&to)
                .status();
        }
    }
}

const SIM_SMALL_CHAIN: &str = r#"
[defaults]
refant = "CM12"

[inputs]
split = "SPLIT"

[stage.bpphase]
task = "gaincal"
vis = "split"
field = "0"
scan = "3"
solint = "int"
calmode = "p"

[stage.bandpass]
task = "bandpass"
vis = "split"
field = "0"
scan = "3"
solint = "inf,10ch"
combine = "scan"
solnorm = true
bandtype = "B"
gaintable = ["bpphase"]

[stage.setjy]
task = "setjy"
vis = "split"
field = "0"
standard = "manual"
fluxdensity = [2.29, 0, 0, 0]
spix = [-0.585]
reffreq = "340.933GHz"

[stage.phase_int]
task = "gaincal"
vis = "split"
field = "0,1"
solint = "int"
gaintype = "G"
calmode = "p"
gaintable = ["bandpass"]

[stage.phase_inf]
task = "gaincal"
vis = "split"
field = "0,1"
solint = "inf"
gaintype = "G"
calmode = "p"
gaintable = ["bandpass"]

[stage.ampli_inf]
task = "gaincal"
vis = "split"
field = "0,1"
solint = "inf"
gaintype = "T"
calmode = "a"
gaintable = ["bandpass", "phase_int"]

[stage.flux_inf]
task = "fluxscale"
vis = "split"
caltable = "ampli_inf"
reference = "0"
"#;

#[test]
fn sim_small_chain_matches_casa() {
    let Some(split) = split_ms() else { return };
    let Some(refd) = refdata() else { return };
    let casa = refd.join("sim_small/casa");
    let dir = tempfile::tempdir().expect("tmp");
    let recipe = format!(
        "[recipe]\nworkdir = \"work\"\n{}",
        SIM_SMALL_CHAIN.replace("SPLIT", &split.display().to_string())
    );
    let t0 = std::time::Instant::now();
    let work = run_recipe(dir.path(), &recipe, 2);
    println!("chain: {:.2} s", t0.elapsed().as_secs_f64());
    keep_products(&work, "sim_small");
    let mut failures = Vec::new();
    let mut summary = serde_json::Map::new();
    // (ours, CASA's, amplitude tolerance %, phase tolerance deg, min CASA SNR for the maxima)
    for (stage, casa_name, amp_tol, ph_tol, min_snr) in [
        ("bpphase", "sim_small.bpphase.gcal", 0.1, 0.1, 0.0),
        ("bandpass", "sim_small.bandpass.bcal", 0.1, 0.1, 0.0),
        ("phase_int", "sim_small.phase_int.gcal", 0.1, 0.1, 0.0),
        ("phase_inf", "sim_small.phase_inf.gcal", 0.1, 0.1, 0.0),
        ("ampli_inf", "sim_small.ampli_inf.gcal", 0.1, 0.1, 0.0),
        ("flux_inf", "sim_small.flux_inf.fcal", 0.1, 0.1, 0.0),
    ] {
        let ours = table_rows(&work.join(format!("{stage}.cal")));
        let theirs = table_rows(&casa.join(casa_name));
        let c = compare(&ours, &theirs, min_snr);
        println!(
            "{stage:<10} vs CASA: rows ours {} casa {} unmatched {} flag mismatches {} \
             max|amp diff| {:.2e} % max|phase res| {:.2e} deg max|dt| {:.1e} s",
            ours.len(),
            c.rows,
            c.unmatched,
            c.flag_mismatch,
            c.amp_pct,
            c.phase_deg,
            c.dt_s
        );
        summary.insert(
            stage.into(),
            serde_json::json!({"rows": c.rows, "unmatched": c.unmatched, "flag_mismatch": c.flag_mismatch,
                "max_amp_pct": c.amp_pct, "max_phase_deg": c.phase_deg}),
        );
        if ours.len() != c.rows || c.unmatched > 0 || c.flag_mismatch > 0 {
            failures.push(format!(
                "{stage}: rows/flags differ ({c:?}, ours {})",
                ours.len()
            ));
        }
        if c.amp_pct > amp_tol || c.phase_deg > ph_tol {
            failures.push(format!(
                "{stage}: amplitude {} % / phase {} deg",
                c.amp_pct, c.phase_deg
            ));
        }
    }
    // fluxscale: J1700-2610 (field 1) per spw against CASA and the truth.
    let ours: Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("flux_inf.json")).expect("flux_inf.json"),
    )
    .expect("json");
    let theirs: Value = serde_json::from_str(
        &std::fs::read_to_string(casa.join("fluxscale.json")).expect("fluxscale.json"),
    )
    .expect("json");
    for spw in ["16", "18", "20", "22"] {
        let o = ours["1"][spw]["fluxd"][0].as_f64().unwrap_or(f64::NAN);
        let c = theirs["1"][spw]["fluxd"][0].as_f64().unwrap_or(f64::NAN);
        let diff = 100.0 * (o / c - 1.0);
        println!(
            "fluxscale J1700 spw {spw}: ours {o:.6} Jy CASA {c:.6} Jy ({diff:+.4} %), truth 0.8: ours {:+.3} % CASA {:+.3} %",
            100.0 * (o / 0.8 - 1.0),
            100.0 * (c / 0.8 - 1.0)
        );
        if diff.abs() > 0.2 || !diff.is_finite() {
            failures.push(format!("fluxscale spw {spw}: {diff} % from CASA"));
        }
        if (o - 0.8).abs() > (c - 0.8).abs() + 1e-4 {
            failures.push(format!(
                "fluxscale spw {spw}: farther from the truth than CASA"
            ));
        }
        summary.insert(
            format!("fluxd_spw{spw}"),
            serde_json::json!({"ours": o, "casa": c}),
        );
    }
    println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    assert!(failures.is_empty(), "{failures:#?}");
}

/// CASA rows from `casa_solve_reference.json` as caltable rows.
fn json_rows(v: &Value) -> Vec<CalRow> {
    use ndarray::Array2;
    let arr = |x: &Value| x.as_array().cloned().unwrap_or_default();
    arr(v)
        .iter()
        .map(|r| {
            let cp = arr(&r["cparam"]);
            let npar = cp.len();
            let nchan = cp.first().map_or(0, |p| arr(p).len());
            let get = |key: &str, p: usize, c: usize| r[key][p][c].clone();
            CalRow {
                time_s: r["time"].as_f64().unwrap_or(f64::NAN),
                field_id: r["field"].as_i64().unwrap_or(-9) as i32,
                spw_id: r["spw"].as_i64().unwrap_or(-9) as i32,
                antenna1: r["ant1"].as_i64().unwrap_or(-9) as i32,
                antenna2: r["ant2"].as_i64().unwrap_or(-9) as i32,
                interval_s: 0.0,
                scan: r["scan"].as_i64().unwrap_or(-9) as i32,
                obs_id: 0,
                params: CalParams::Complex(Array2::from_shape_fn((npar, nchan), |(p, c)| {
                    let z = get("cparam", p, c);
                    num_complex::Complex32::new(
                        z[0].as_f64().unwrap_or(f64::NAN) as f32,
                        z[1].as_f64().unwrap_or(f64::NAN) as f32,
                    )
                })),
                paramerr: Array2::zeros((npar, nchan)),
                flag: Array2::from_shape_fn((npar, nchan), |(p, c)| {
                    get("flag", p, c).as_bool().unwrap_or(true)
                }),
                snr: Array2::from_shape_fn((npar, nchan), |(p, c)| {
                    get("snr", p, c).as_f64().unwrap_or(0.0) as f32
                }),
                weight: None,
            }
        })
        .collect()
}

#[test]
fn ngc5921_classic_chain_matches_casa() {
    let ms = repo_root().join("fixtures/ngc5921/ngc5921.ms");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("fixtures/ngc5921/casa_solve_reference.json"))
            .expect("casa_solve_reference.json"),
    )
    .expect("json");
    let dir = tempfile::tempdir().expect("tmp");
    let recipe = format!(
        r#"
[recipe]
workdir = "work"

[defaults]
refant = "15"

[inputs]
raw = "{}"

[stage.flag_autocorr]
task = "flagdata"
vis = "raw"
mode = "manual"
autocorr = true

[stage.setjy]
task = "setjy"
vis = "raw"
field = "1331*"
standard = "Perley-Butler 2017"

[stage.bandpass]
task = "bandpass"
vis = "raw"
field = "1331*"
solint = "inf"
combine = "scan"
solnorm = true
bandtype = "B"

[stage.gaincal]
task = "gaincal"
vis = "raw"
field = "1331*,1445*"
spw = "0:6~56"
gaintype = "G"
calmode = "ap"
solint = "inf"
gaintable = ["bandpass"]

[stage.fluxscale]
task = "fluxscale"
vis = "raw"
caltable = "gaincal"
reference = "1331*"
transfer = "1445*"
"#,
        ms.display()
    );
    let t0 = std::time::Instant::now();
    let work = run_recipe(dir.path(), &recipe, 2);
    println!("chain: {:.2} s", t0.elapsed().as_secs_f64());
    keep_products(&work, "ngc5921");
    let mut failures = Vec::new();
    for (stage, key) in [
        ("bandpass", "bandpass"),
        ("gaincal", "gaincal"),
        ("fluxscale", "fluxscale_table"),
    ] {
        let ours = table_rows(&work.join(format!("{stage}.cal")));
        let theirs = json_rows(&reference[key]);
        // Acceptance: 0.1 % / 0.1° for every solution unflagged in both. With CASA's own
        // iteration (the default solver) the measured maxima are ~0.002 % / 0.0005°; the
        // exact χ² minimum would miss CASA by 0.12 % / 0.063° at the bandpass edge channel 0
        // (SNR 5-16), where CASA stops iterating early (docs/solve-numerics.md). The 0.01 %
        // / 0.01° guard catches a regression to that.
        let c = compare(&ours, &theirs, 0.0);
        let hi = compare(&ours, &theirs, 20.0);
        println!(
            "NGC5921 {stage:<9} vs CASA: rows ours {} casa {} unmatched {} flag mismatches {} \
             all unflagged: max|amp diff| {:.2e} % max|phase res| {:.2e} deg; \
             SNR >= 20: {:.2e} % {:.2e} deg",
            ours.len(),
            c.rows,
            c.unmatched,
            c.flag_mismatch,
            c.amp_pct,
            c.phase_deg,
            hi.amp_pct,
            hi.phase_deg
        );
        if ours.len() != c.rows || c.unmatched > 0 || c.flag_mismatch > 0 {
            failures.push(format!("{stage}: rows/flags differ ({c:?})"));
        }
        if c.amp_pct > 0.1 || c.phase_deg > 0.1 || !c.amp_pct.is_finite() {
            failures.push(format!(
                "{stage}: amplitude {} % / phase {} deg (acceptance 0.1 % / 0.1 deg)",
                c.amp_pct, c.phase_deg
            ));
        }
        if c.amp_pct > 0.01 || c.phase_deg > 0.01 {
            failures.push(format!(
                "{stage}: amplitude {} % / phase {} deg: no longer CASA's iteration (guard 0.01 % / 0.01 deg)",
                c.amp_pct, c.phase_deg
            ));
        }
    }
    let ours: Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("fluxscale.json")).expect("fluxscale.json"),
    )
    .expect("json");
    let o = ours["1"]["0"]["fluxd"][0].as_f64().unwrap_or(f64::NAN);
    let c = reference["fluxscale"]["1"]["0"]["fluxd"][0]
        .as_f64()
        .unwrap_or(f64::NAN);
    let diff = 100.0 * (o / c - 1.0);
    println!("NGC5921 fluxscale 1445+099: ours {o:.6} Jy CASA {c:.6} Jy ({diff:+.4} %)");
    if diff.abs() > 0.1 || !diff.is_finite() {
        failures.push(format!("fluxscale 1445+099 differs by {diff} %"));
    }
    assert!(
        (c - 2.5265).abs() < 1e-3,
        "the committed CASA reference changed: {c}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
