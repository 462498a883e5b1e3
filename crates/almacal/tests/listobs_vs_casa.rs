//! `almacal listobs --json` against the facts CASA 6.7 reports for the same MS
//! (`fixtures/*/casa_listobs.json`, made by `fixtures/*/casa_reference.py`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn refdata(rel: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ALMACAL_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/refdata"));
    let p = base.join(rel);
    if p.exists() {
        Some(p)
    } else if std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_some() {
        panic!("reference data {} is missing", p.display())
    } else {
        eprintln!("note: {} not present; this check runs in CI", p.display());
        None
    }
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read reference");
    serde_json::from_str(&text).expect("parse reference")
}

fn ours(ms: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(["listobs", "--json"])
        .arg(ms)
        .output()
        .expect("run almacal");
    assert!(
        out.status.success(),
        "almacal listobs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("listobs --json is JSON")
}

fn close(a: &Value, b: &Value, rel: f64) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= rel * y.abs().max(1e-300),
        _ => false,
    }
}

fn compare(ms: &Path, casa: &Value) {
    let us = ours(ms);
    let mut bad: Vec<String> = Vec::new();
    if us["nrows"] != casa["nrows"] {
        bad.push(format!("nrows {} vs CASA {}", us["nrows"], casa["nrows"]));
    }
    // Fields: ids, names, rows, directions.
    let (uf, cf) = (
        us["fields"].as_array().unwrap(),
        casa["fields"].as_array().unwrap(),
    );
    if uf.len() != cf.len() {
        bad.push(format!("{} fields vs CASA {}", uf.len(), cf.len()));
    }
    for (u, c) in uf.iter().zip(cf) {
        for k in ["id", "name", "nrows"] {
            if u[k] != c[k] {
                bad.push(format!("field {}: {k} {} vs CASA {}", c["id"], u[k], c[k]));
            }
        }
        if !close(&u["ra_rad"], &c["ra_rad"], 1e-12) || !close(&u["dec_rad"], &c["dec_rad"], 1e-12)
        {
            bad.push(format!("field {}: direction differs", c["id"]));
        }
    }
    // Spectral windows: every SPECTRAL_WINDOW row, with signed widths.
    let (us_, cs) = (
        us["spws"].as_array().unwrap(),
        casa["spws"].as_array().unwrap(),
    );
    if us_.len() != cs.len() {
        bad.push(format!("{} spws vs CASA {}", us_.len(), cs.len()));
    }
    for (u, c) in us_.iter().zip(cs) {
        for k in ["id", "nchan", "name", "frame"] {
            if u[k] != c[k] {
                bad.push(format!("spw {}: {k} {} vs CASA {}", c["id"], u[k], c[k]));
            }
        }
        for k in ["chan0_hz", "chan_width_hz", "total_bw_hz", "ref_freq_hz"] {
            if !close(&u[k], &c[k], 1e-12) {
                bad.push(format!("spw {}: {k} {} vs CASA {}", c["id"], u[k], c[k]));
            }
        }
        if !c["corrs"].as_array().unwrap().is_empty() && u["corrs"] != c["corrs"] {
            bad.push(format!(
                "spw {}: corrs {} vs CASA {}",
                c["id"], u["corrs"], c["corrs"]
            ));
        }
    }
    // Scans: number, field, intents, rows, spws.
    let (usc, csc) = (
        us["scans"].as_array().unwrap(),
        casa["scans"].as_array().unwrap(),
    );
    if usc.len() != csc.len() {
        bad.push(format!("{} scans vs CASA {}", usc.len(), csc.len()));
    }
    for (u, c) in usc.iter().zip(csc) {
        for k in ["scan", "field_id", "nrows", "spw_ids", "intents"] {
            if u[k] != c[k] {
                bad.push(format!("scan {}: {k} {} vs CASA {}", c["scan"], u[k], c[k]));
            }
        }
    }
    // Antennas.
    let (ua, ca) = (
        us["antennas"].as_array().unwrap(),
        casa["antennas"].as_array().unwrap(),
    );
    if ua.len() != ca.len() {
        bad.push(format!("{} antennas vs CASA {}", ua.len(), ca.len()));
    }
    for (u, c) in ua.iter().zip(ca) {
        for k in ["id", "name", "station", "diameter_m"] {
            if u[k] != c[k] {
                bad.push(format!(
                    "antenna {}: {k} {} vs CASA {}",
                    c["id"], u[k], c[k]
                ));
            }
        }
        for i in 0..3 {
            if !close(&u["position_m"][i], &c["position_m"][i], 1e-15) {
                bad.push(format!("antenna {}: position differs", c["id"]));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "listobs differs from CASA:\n{}",
        bad.join("\n")
    );
}

#[test]
fn ngc5921_listobs_matches_casa() {
    let ms = repo().join("fixtures/ngc5921/ngc5921.ms");
    let casa = load(&repo().join("fixtures/ngc5921/casa_listobs.json"));
    compare(&ms, &casa);
    assert_eq!(casa["nantennas_table"], 28);
    let us = ours(&ms);
    assert_eq!(us["antennas"].as_array().unwrap().len(), 28);
    assert_eq!(casa["nantennas_with_data"], 27, "27 antennas have data");
}

#[test]
fn sim_small_listobs_matches_casa() {
    let Some(ms) = refdata("sim_small/sim_small.ms") else {
        return;
    };
    let casa = load(&repo().join("fixtures/sim_small/casa_listobs.json"));
    compare(&ms, &casa);
    let us = ours(&ms);
    // ALMA features: 24 spw rows, LSB windows with negative widths, science spws 16..22.
    let spws = us["spws"].as_array().unwrap();
    assert_eq!(spws.len(), 24);
    for id in [20, 22] {
        assert!(
            spws[id]["chan_width_hz"].as_f64().unwrap() < 0.0,
            "spw {id} is LSB"
        );
    }
    let science: Vec<u64> = us["scans"][2]["spw_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_u64())
        .filter(|s| [16, 18, 20, 22].contains(s))
        .collect();
    assert_eq!(science, vec![16, 18, 20, 22]);
}

#[test]
fn listobs_text_has_casa_scan_table() {
    let Some(ms) = refdata("sim_small/sim_small.ms") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .arg("listobs")
        .arg(&ms)
        .output()
        .expect("run almacal");
    let text = String::from_utf8_lossy(&out.stdout);
    let casa = std::fs::read_to_string(ms.parent().unwrap().join("casa/listobs.txt")).unwrap();
    // The scan table (17 scan lines) is identical to CASA's.
    let scan_lines = |t: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| !l.trim_start().starts_with("Date"))
            .skip(1)
            .take(17)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(scan_lines(&text), scan_lines(&casa));
}

#[test]
fn listobs_reports_missing_ms_without_panicking() {
    let out = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(["listobs", "/nonexistent/x.ms"])
        .output()
        .expect("run almacal");
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/x.ms"), "{err}");
}
