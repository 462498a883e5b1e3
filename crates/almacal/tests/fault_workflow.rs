//! The tutorial's "look at the plots, add a flag command, rerun" loop on a simulated
//! observation with an injected fault (`simulate --fault`: CM05, spw 20, three scans):
//! adding the truth's flag command to the recipe's "other flags" file makes `plan` list
//! exactly the stages downstream of that flag stage (never the data preparation), `run`
//! reruns only those, and the fault's damage to the phase calibrator's flux disappears.

use std::collections::BTreeSet;
use std::path::Path;

mod cli_common;
use cli_common::{almacal, copy_dir, json, tiny_setup};

/// J1700-2610's fluxscale result in spw 20 (Jy).
fn flux_spw20(dir: &Path) -> f64 {
    let fs = json(&dir.join("work/alma-manual-calibration/flux_inf.json"));
    let field = fs
        .as_object()
        .unwrap()
        .values()
        .find(|v| v["fieldName"] == "J1700-2610")
        .expect("J1700 in fluxscale");
    field["20"]["fluxd"][0].as_f64().unwrap()
}

fn ran(dir: &Path) -> BTreeSet<String> {
    let run = json(&dir.join("work/alma-manual-calibration/run.json"));
    run["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "ran")
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn adding_a_flag_command_reruns_only_downstream_and_removes_the_fault() {
    let tmp = tiny_setup(true);
    let dir = tmp.path();
    let (code, out) = almacal(
        &["run", "alma-manual-calibration.toml", "--no-progress"],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    let truth = json(&dir.join("data/sim_tiny.ms.truth.json"));
    let with_fault = flux_spw20(dir);

    // The flag command the truth suggests, in CASA flag-command syntax.
    let fault = &truth["fault"];
    let scans: Vec<String> = fault["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let line = format!(
        "mode='manual' antenna='{}' spw='{}' scan='{}' reason='fault seen in the plots'\n",
        fault["antenna"].as_str().unwrap(),
        fault["spw"],
        scans.join(",")
    );
    let flags = dir.join("alma-manual-calibration.flags.txt");
    let mut text = std::fs::read_to_string(&flags).unwrap();
    text.push_str(&line);
    std::fs::write(&flags, text).unwrap();

    let downstream: BTreeSet<String> = [
        "other_flags",
        "pre_bandpass_phase",
        "bandpass",
        "setjy",
        "phase_int",
        "phase_inf",
        "ampli_inf",
        "flux_inf",
        "renorm",
        "apply",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, plan) = almacal(&["plan", "alma-manual-calibration.toml"], dir);
    assert_eq!(code, 0, "{plan}");
    for line in plan.lines() {
        let Some((stage, reason)) = line.split_once(':') else {
            continue;
        };
        let stage = stage.trim();
        if !downstream.contains(stage) && !stage.contains(' ') {
            assert!(
                reason.contains("cached")
                    || reason.contains("unchanged")
                    || reason.contains("up to date"),
                "stage {stage} should stay cached: {line}\n{plan}"
            );
        }
    }
    assert!(
        plan.contains("other_flags: flag commands changed"),
        "{plan}"
    );
    let (code, out) = almacal(
        &["run", "alma-manual-calibration.toml", "--no-progress"],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    let reran = ran(dir);
    for prep in [
        "initial_flags",
        "tsys",
        "antpos",
        "prep",
        "save_original_flags",
        "shadow_and_edges",
    ] {
        assert!(!reran.contains(prep), "{prep} reran:\n{out}");
    }
    assert!(
        reran.contains("other_flags") && reran.contains("flux_inf"),
        "{out}"
    );
    assert!(reran.is_subset(&downstream), "{reran:?}");

    // The fault is in one spw, so every spw-separable stage redid only that spw ...
    let run = json(&dir.join("work/alma-manual-calibration/run.json"));
    let reason = |name: &str| -> String {
        run["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["reason"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let partial = format!("partial rerun: only spw {} changed", fault["spw"]);
    for st in [
        "pre_bandpass_phase",
        "bandpass",
        "phase_int",
        "phase_inf",
        "ampli_inf",
        "renorm",
        "apply",
    ] {
        assert!(
            reason(st).contains(&partial),
            "{st} should be a partial rerun: {}",
            reason(st)
        );
    }
    // ... and its products equal a whole run with the same flags, in a fresh workspace.
    let fresh = tempfile::tempdir().unwrap();
    let fdir = fresh.path();
    for f in [
        "alma-manual-calibration.toml",
        "alma-manual-calibration.flags.txt",
    ] {
        std::fs::copy(dir.join(f), fdir.join(f)).unwrap();
    }
    std::fs::create_dir_all(fdir.join("data")).unwrap();
    for f in ["sim_tiny.ms", "sim_tiny.antpos.json"] {
        let from = dir.join("data").join(f);
        let to = fdir.join("data").join(f);
        if from.is_dir() {
            copy_dir(&from, &to);
        } else if from.exists() {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    let (code, out) = almacal(
        &["run", "alma-manual-calibration.toml", "--no-progress"],
        fdir,
    );
    assert_eq!(code, 0, "{out}");
    for st in [
        "pre_bandpass_phase",
        "bandpass",
        "phase_int",
        "phase_inf",
        "ampli_inf",
        "flux_inf",
        "renorm",
    ] {
        let rec = |d: &Path| {
            json(&d.join(format!(
                "work/alma-manual-calibration/.almacal/records/{st}.json"
            )))
        };
        let (a, b) = (rec(dir), rec(fdir));
        let cal = |r: &serde_json::Value| -> String {
            r["products"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["kind"] == "caltable")
                .map(|p| p["digest"].as_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(cal(&a), cal(&b), "{st}: partial and whole reruns differ");
        assert!(cal(&a).starts_with("caltable:"), "{st}: {}", cal(&a));
    }
    // renorm's report (issue 14, defect 10): the partial rerun kept the other spws'
    // entries and recomputed spw 20's; the file must be the whole rerun's, byte for byte
    // (the one line naming the vis path differs only because the fresh workspace lies
    // elsewhere).
    let report = |d: &Path| -> String {
        let p = d.join("work/alma-manual-calibration/renorm.json");
        let text = std::fs::read_to_string(&p).unwrap();
        text.lines()
            .filter(|l| !l.trim_start().starts_with("\"vis\":"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (ra, rb) = (report(dir), report(fdir));
    assert!(ra.contains("\"diagnostics\""), "no renorm diagnostics");
    if ra != rb {
        let first = ra
            .lines()
            .zip(rb.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "renorm.json: partial and whole reruns differ from line {}:\n{}\n{}",
            first + 1,
            ra.lines().nth(first).unwrap_or(""),
            rb.lines().nth(first).unwrap_or("")
        );
    }
    let output = |d: &Path| {
        json(&d.join("work/alma-manual-calibration/.almacal/records/apply.json"))["summary"]
            ["output"]["per_spw"]
            .clone()
    };
    assert_eq!(output(dir), output(fdir), "apply output counts per spw");
    let ms = "work/alma-manual-calibration/sim_tiny.ms.split.cal";
    assert_eq!(
        column_digest(&dir.join(ms)),
        column_digest(&fdir.join(ms)),
        "the calibrated split updated in place differs from a whole rewrite"
    );

    // The fault's damage to the transferred flux is gone.
    let truth_flux = truth["per_spw_flux_jy"]["20"]["J1700-2610"]
        .as_f64()
        .unwrap();
    let flagged = flux_spw20(dir);
    let (before, after) = (
        (with_fault / truth_flux - 1.0).abs(),
        (flagged / truth_flux - 1.0).abs(),
    );
    eprintln!(
        "J1700 spw 20 flux: with fault {with_fault:.4}, flagged {flagged:.4}, truth {truth_flux}"
    );
    assert!(
        after < 0.02,
        "flux after flagging still {after:.3} off the truth"
    );
    assert!(
        after < before,
        "flagging did not help: {before:.4} -> {after:.4}"
    );
}

/// blake3 over DATA, FLAG, WEIGHT and SIGMA of every row (as read by casacore).
fn column_digest(ms: &Path) -> String {
    use almacal_casa::table::RoTable;
    let mut t = RoTable::open(ms).unwrap();
    let mut h = blake3::Hasher::new();
    for r in 0..t.nrows() {
        let d: Vec<num_complex::Complex32> = t.cell_vec("DATA", r).unwrap();
        let f: Vec<bool> = t.cell_vec("FLAG", r).unwrap();
        let w: Vec<f32> = t.cell_vec("WEIGHT", r).unwrap();
        let s: Vec<f32> = t.cell_vec("SIGMA", r).unwrap();
        h.update(format!("{d:?}{f:?}{w:?}{s:?}").as_bytes());
    }
    h.finalize().to_hex().to_string()
}
