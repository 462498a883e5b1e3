//! The `renorm` stage through the engine: on the reference MS (`sim_small`, CO/H13CN/SO in
//! the target's spw 16 autocorrelations, with the science autocorrelations flagged by an
//! upstream flagdata stage as in the tutorial) the diagnostic mode flags spw 16 only, the
//! table's factors match `truth.renormalization`, and applying the table (through the apply
//! engine, as applycal does for a `B TSYS` table) removes the line-channel suppression; on
//! `almacal simulate --preset tiny` data with and without the line the decision follows.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use almacal_casa::caltable::{read_caltable, CalParams, CalTable};
use almacal_casa::read_meta;
use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::selection::{BaselineKind, SelectionParams};
use almacal_pipeline::events::NullObserver;
use almacal_pipeline::{run, RunOptions, Status, TaskRegistry};
use almacal_recipe::{load, LoadOptions, Recipe};
use almacal_solve::apply::tsys::{FieldChoice, FreqMethod, TsysTerm};
use almacal_solve::apply::{apply_chunk, ApplyMode, ChunkInfo, Term};
use almacal_solve::prep::tsys::TsysSolution;
use serde_json::Value;

const SCI: &str = "16,18,20,22";

fn recipe(dir: &Path, ms: &Path) -> Recipe {
    let text = format!(
        r#"
[inputs]
raw = "{ms}"

# As the tutorial: the science spws' autocorrelations are flagged first.
[stage.initial_flags]
task = "flagdata"
vis = "raw"
commands = [ {{ mode = "manual", spw = "{SCI}", autocorr = true }} ]

[stage.rn_check]
task = "renorm"
vis = "raw"
apply = false

[stage.rn]
task = "renorm"
vis = "raw"
apply = true
"#,
        ms = ms.display()
    );
    let p = dir.join("renorm.toml");
    std::fs::write(&p, text).expect("write recipe");
    load(&p, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn run_all(r: &Recipe) -> f64 {
    let t = Instant::now();
    let rep = run(
        r,
        &TaskRegistry::builtin(),
        &RunOptions {
            jobs: 1,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run");
    for s in &rep.stages {
        assert_ne!(s.status, Status::Failed, "{}: {}", s.name, s.reason);
    }
    t.elapsed().as_secs_f64()
}

fn report(r: &Recipe, stage: &str) -> Value {
    common::json(&r.workdir.join(format!("{stage}.json")))
}

/// Truth factors per target scan: scan → [ant][pol][chan].
fn truth_factors(truth: &Value) -> BTreeMap<i32, Vec<Vec<Vec<f64>>>> {
    truth["renormalization"]["per_scan"]
        .as_array()
        .expect("per_scan")
        .iter()
        .map(|s| {
            let scan = match &s["scan"] {
                Value::String(x) => x.parse().expect("scan"),
                v => v.as_i64().expect("scan") as i32,
            };
            let f: Vec<Vec<Vec<f64>>> =
                serde_json::from_value(s["factor_mean_over_scan"].clone()).expect("factor array");
            (scan, f)
        })
        .collect()
}

/// The same statistic as the stage (mean over antennas of the per-antenna maximum, mean
/// over pols) on the truth, maximised over scans; and the plain maximum.
fn truth_stats(f: &BTreeMap<i32, Vec<Vec<Vec<f64>>>>) -> (f64, f64) {
    let mut stat: f64 = 0.0;
    let mut plain: f64 = 0.0;
    for fa in f.values() {
        let npol = fa[0].len();
        let mut s = 0.0;
        for p in 0..npol {
            let m: f64 = fa
                .iter()
                .map(|a| a[p].iter().copied().fold(f64::MIN, f64::max))
                .sum::<f64>()
                / fa.len() as f64;
            s += m / npol as f64;
        }
        stat = stat.max(s);
        plain = plain.max(
            fa.iter()
                .flatten()
                .flatten()
                .copied()
                .fold(f64::MIN, f64::max),
        );
    }
    (stat, plain)
}

fn rows_of(t: &CalTable, spw: i32, scan: i32) -> Vec<(usize, Vec<Vec<f64>>)> {
    t.rows
        .iter()
        .filter(|r| r.spw_id == spw && r.scan == scan)
        .map(|r| {
            let CalParams::Float(a) = &r.params else {
                panic!("renorm rows hold FPARAM")
            };
            let v = (0..a.dim().0)
                .map(|p| (0..a.dim().1).map(|c| f64::from(a[[p, c]])).collect())
                .collect();
            (r.antenna1 as usize, v)
        })
        .collect()
}

/// The renorm table as the apply engine's Tsys term (`nearest,linear`, all fields pooled).
fn renorm_term(t: &CalTable) -> TsysTerm {
    let sols: Vec<TsysSolution> = t
        .rows
        .iter()
        .map(|r| {
            let CalParams::Float(a) = &r.params else {
                panic!("FPARAM")
            };
            TsysSolution {
                time_s: r.time_s,
                spw: r.spw_id as u32,
                antenna: r.antenna1 as u32,
                field: r.field_id,
                scan: r.scan,
                tsys_pc: (0..a.dim().0).map(|p| a.row(p).to_vec()).collect(),
                flag_pc: (0..a.dim().0).map(|p| r.flag.row(p).to_vec()).collect(),
            }
        })
        .collect();
    let freqs = t
        .sub
        .spws
        .iter()
        .enumerate()
        .map(|(i, s)| (i as u32, s.chan_freq_hz.clone()))
        .collect();
    let (time, freq) = FreqMethod::parse("nearest,linear").expect("interp");
    TsysTerm::new(&sols, freqs, Vec::new(), FieldChoice::All, time, freq)
}

/// Apply the renorm table to the target's cross-correlations in `spw`; per row and channel,
/// (corrected/raw) / sqrt(f_i f_j) with f the truth factor of the row's scan. Returns the
/// per-channel mean of that ratio and its worst deviation from 1 over line channels.
fn restoration(
    ms: &Path,
    table: &CalTable,
    spw: u32,
    truth: &BTreeMap<i32, Vec<Vec<Vec<f64>>>>,
) -> Vec<f64> {
    let meta = read_meta(ms).expect("meta");
    let term = renorm_term(table);
    let mut req = ReadRequest::new(ms);
    req.selection = SelectionParams {
        spw: spw.to_string(),
        intent: "*OBSERVE_TARGET*".into(),
        baselines: BaselineKind::CrossOnly,
        ..Default::default()
    };
    let nchan = meta.spws[spw as usize].nchan();
    let (mut sum, mut n) = (vec![0.0; nchan], 0usize);
    for chunk in ChunkReader::open(&req).expect("open") {
        let mut c = chunk.expect("chunk");
        let raw = c.data_rcf.clone();
        let w = &meta.spws[c.spw.idx()];
        let freqs: Vec<f64> = c.chans.iter().map(|&k| w.chan_freq_hz[k]).collect();
        let corrs: Vec<_> = c.corrs.iter().map(|&p| meta.corrs_of(c.dd)[p]).collect();
        let f = &meta.fields[c.field.idx()];
        let info = ChunkInfo {
            spw: c.spw.0,
            field: c.field.0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (f.ra_rad, f.dec_rad),
        };
        let terms: [(&dyn Term, bool); 1] = [(&term, true)];
        apply_chunk(&terms, &mut c, &info, ApplyMode::CalOnly);
        let fac = &truth[&c.scan];
        for k in 0..c.nrows() {
            let (i, j) = (c.ant1[k].idx(), c.ant2[k].idx());
            for ch in 0..nchan {
                for p in 0..2 {
                    let g = (c.data_rcf[[k, ch, p]] / raw[[k, ch, p]]).norm() as f64;
                    let want = (fac[i][p][ch] * fac[j][p][ch]).sqrt();
                    sum[ch] += g / want / 2.0;
                }
            }
            n += 1;
        }
    }
    sum.iter().map(|s| s / n as f64).collect()
}

#[test]
fn sim_small_spw16_needs_renorm_and_the_table_restores_the_line() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let truth = common::json(&ms.with_extension("truth.json"));
    let tf = truth_factors(&truth);
    let (truth_stat, truth_max) = truth_stats(&tf);
    let dir = tempfile::tempdir().expect("tmp");
    let r = recipe(dir.path(), &ms);
    let wall = run_all(&r);

    let check = report(&r, "rn_check");
    let st = &check["stats"]["SgrAstar"];
    let max16 = st["16"]["max_rn"].as_f64().expect("max_rn 16");
    eprintln!(
        "sim_small: spw16 max_rn {max16:.4} (truth statistic {truth_stat:.4}, truth max {truth_max:.4}); \
         whole run {wall:.2} s"
    );
    for spw in ["18", "20", "22"] {
        let m = st[spw]["max_rn"].as_f64().expect("max_rn");
        eprintln!("  spw {spw}: max_rn {m:.5}");
        assert!(m < 1.02, "spw {spw}: {m}");
        assert_eq!(st[spw]["needs_correction"], Value::Bool(false));
    }
    assert!((max16 - truth_stat).abs() < 0.01, "{max16} vs {truth_stat}");
    assert!(max16 > 1.25 && max16 <= truth_max, "{max16} vs {truth_max}");
    assert_eq!(st["16"]["needs_correction"], Value::Bool(true));
    assert_eq!(st["16"]["max_rn_field"], Value::from(2));
    assert_eq!(check["table_needed"], Value::Bool(true));
    assert_eq!(check["marked_spws"], serde_json::json!([16]));
    assert!(!r.workdir.join("rn_check.cal").exists());

    // The table: one row per antenna for each target scan in every science spw (fill_table).
    let table = read_caltable(&r.workdir.join("rn.cal")).expect("renorm table");
    assert_eq!(table.keywords.viscal, "B TSYS");
    assert_eq!(table.rows.len(), 4 * 4 * 12);
    let t_line: Vec<f64> =
        serde_json::from_value(truth["renormalization"]["t_line_k"].clone()).expect("t_line");
    let line: Vec<bool> = t_line.iter().map(|&t| t > 1.0).collect();
    let mut worst: f64 = 0.0;
    for (&scan, fa) in &tf {
        let rows = rows_of(&table, 16, scan);
        assert_eq!(rows.len(), 12, "scan {scan}");
        for (a, v) in rows {
            for p in 0..2 {
                for (c, &is_line) in line.iter().enumerate() {
                    if is_line {
                        let e = (v[p][c] / fa[a][p][c] - 1.0).abs();
                        if e > 0.005 {
                            eprintln!(
                                "DBG scan {scan} ant {a} pol {p} chan {c}: ours {:.4} truth {:.4}",
                                v[p][c], fa[a][p][c]
                            );
                        }
                        worst = worst.max(e);
                    }
                }
            }
        }
        for spw in [18, 20, 22] {
            assert!(rows_of(&table, spw, scan)
                .iter()
                .all(|(_, v)| v.iter().flatten().all(|&x| x == 1.0)));
        }
    }
    eprintln!(
        "  factors vs truth in line channels: worst {:.3} %",
        100.0 * worst
    );
    assert!(worst < 0.005, "worst factor error {worst}");

    // Applying it: corrected/raw equals the truth's sqrt(f_i f_j) in the line channels to the
    // same level as in the line-free channels (within 1 %).
    let ratio = restoration(&ms, &table, 16, &tf);
    let free: Vec<f64> = (0..ratio.len())
        .filter(|&c| t_line[c] < 0.01 && c > 1 && c + 2 < ratio.len())
        .map(|c| ratio[c])
        .collect();
    let level = free.iter().sum::<f64>() / free.len() as f64;
    let dev = (0..ratio.len())
        .filter(|&c| line[c])
        .map(|c| (ratio[c] / level - 1.0).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "  applied: line-free level {level:.5}, worst line-channel deviation {:.3} %",
        100.0 * dev
    );
    assert!((level - 1.0).abs() < 0.005, "line-free level {level}");
    assert!(dev < 0.01, "line channels deviate by {dev}");
}

fn simulate(dir: &Path, line: bool) -> std::path::PathBuf {
    let ms = dir.join(if line { "tiny.ms" } else { "tiny_noline.ms" });
    let mut cfg = almacal_sim::SimConfig::preset("tiny").expect("preset");
    cfg.target_line = line;
    almacal_sim::simulate(cfg, &ms, false, &mut |_| {}).expect("simulate tiny");
    ms
}

#[test]
fn tiny_simulation_with_line_is_detected_and_corrected() {
    let dir = tempfile::tempdir().expect("tmp");
    let ms = simulate(dir.path(), true);
    let (truth_path, _) = almacal_sim::sidecar_paths(&ms);
    let truth = common::json(&truth_path);
    let tf = truth_factors(&truth);
    let (truth_stat, _) = truth_stats(&tf);
    let r = recipe(dir.path(), &ms);
    run_all(&r);
    let check = report(&r, "rn_check");
    let st = &check["stats"]["SgrAstar"];
    let m16 = st["16"]["max_rn"].as_f64().expect("max_rn");
    eprintln!("tiny: spw16 max_rn {m16:.4} (truth statistic {truth_stat:.4})");
    assert!(
        m16 > 1.02 && (m16 - truth_stat).abs() < 0.02,
        "{m16} vs {truth_stat}"
    );
    for spw in ["18", "20", "22"] {
        let m = st[spw]["max_rn"].as_f64().expect("max_rn");
        assert!(m < 1.02, "spw {spw}: {m}");
    }
    assert_eq!(check["table_needed"], Value::Bool(true));
    let t_line: Vec<f64> =
        serde_json::from_value(truth["renormalization"]["t_line_k"].clone()).expect("t_line");
    diagnostics_follow_the_truth(&check, &tf, &t_line);
    let table = read_caltable(&r.workdir.join("rn.cal")).expect("renorm table");
    let ratio = restoration(&ms, &table, 16, &tf);
    let n = ratio.len();
    let free: Vec<f64> = (1..n - 1)
        .filter(|&c| t_line[c] < 0.01)
        .map(|c| ratio[c])
        .collect();
    let level = free.iter().sum::<f64>() / free.len() as f64;
    let dev = (0..n)
        .filter(|&c| t_line[c] > 1.0)
        .map(|c| (ratio[c] / level - 1.0).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "  applied: line-free level {level:.5}, worst line-channel deviation {:.3} %",
        100.0 * dev
    );
    assert!(dev < 0.01, "line channels deviate by {dev}");
}

/// The report's ratio-spectrum diagnostics (`diagnostics.<spw>`: the data behind the
/// renorm plot): per antenna and correlation `[ant][corr][chan]`, `null` where excluded.
fn diag_cube(d: &Value, key: &str) -> Vec<Vec<Vec<f64>>> {
    d[key]
        .as_array()
        .unwrap_or_else(|| panic!("diagnostics without {key}"))
        .iter()
        .map(|a| {
            a.as_array()
                .expect("corrs")
                .iter()
                .map(|c| {
                    c.as_array()
                        .expect("chans")
                        .iter()
                        .map(|x| x.as_f64().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// ratio / baseline per antenna, correlation and channel, with the spw's channel count.
fn diag_scaling(d: &Value) -> Vec<Vec<Vec<f64>>> {
    let (ratio, base) = (diag_cube(d, "ratio"), diag_cube(d, "baseline"));
    let nchan = d["freq_hz"].as_array().expect("freq_hz").len();
    assert!(nchan > 4);
    assert_eq!(ratio.len(), base.len());
    ratio
        .iter()
        .zip(&base)
        .map(|(ra, ba)| {
            ra.iter()
                .zip(ba)
                .map(|(r, b)| {
                    assert_eq!((r.len(), b.len()), (nchan, nchan));
                    r.iter().zip(b).map(|(r, b)| r / b).collect()
                })
                .collect()
        })
        .collect()
}

/// Every finite ratio / baseline of `spw` lies within the threshold of 1.
fn assert_flat_within_threshold(report: &Value, spw: &str) {
    let d = &report["diagnostics"][spw];
    let th = d["threshold"].as_f64().expect("threshold");
    let n = diag_scaling(d);
    let worst = n
        .iter()
        .flatten()
        .flatten()
        .filter(|x| x.is_finite())
        .map(|x| (x - 1.0).abs())
        .fold(0.0, f64::max);
    eprintln!("  spw {spw} diagnostics: worst |ratio/baseline - 1| {worst:.4}");
    assert!(worst < th - 1.0, "spw {spw}: ratio/baseline off by {worst}");
    assert!(n.iter().flatten().flatten().any(|x| x.is_finite()));
}

/// In spw 16 the ratio rises above its fitted baseline in the line channels by the
/// injected factor of the scan of maximum scaling (beyond the threshold), per antenna and
/// correlation; the line-free spws stay within the threshold.
fn diagnostics_follow_the_truth(
    report: &Value,
    tf: &BTreeMap<i32, Vec<Vec<Vec<f64>>>>,
    t_line: &[f64],
) {
    let d = &report["diagnostics"]["16"];
    let scan = d["scan"].as_i64().expect("scan") as i32;
    assert_eq!(
        Some(scan as i64),
        report["stats"]["SgrAstar"]["16"]["max_rn_scan"].as_i64()
    );
    let th = d["threshold"].as_f64().expect("threshold");
    let truth = &tf[&scan];
    let n = diag_scaling(d);
    assert_eq!(n.len(), truth.len(), "one diagnostic per antenna");
    let mut peaks = Vec::new();
    let mut worst: f64 = 0.0;
    for (a, (na, ta)) in n.iter().zip(truth).enumerate() {
        for (p, (np, tp)) in na.iter().zip(ta).enumerate() {
            if np.iter().all(|x| x.is_nan()) {
                continue; // a flagged antenna
            }
            let line: Vec<usize> = (0..np.len()).filter(|&c| t_line[c] > 1.0).collect();
            assert!(!line.is_empty());
            let ours = line.iter().map(|&c| np[c]).fold(f64::MIN, f64::max);
            let want = line.iter().map(|&c| tp[c]).fold(f64::MIN, f64::max);
            worst = worst.max((ours / want - 1.0).abs());
            assert!(
                (ours / want - 1.0).abs() < 0.02,
                "ant {a} corr {p}: peak ratio/baseline {ours:.4} vs truth {want:.4}"
            );
            // Off the line the ratio follows its baseline.
            for c in (0..np.len()).filter(|&c| t_line[c] < 0.01 && np[c].is_finite()) {
                assert!(
                    (np[c] - 1.0).abs() < 0.01,
                    "ant {a} corr {p} chan {c}: {}",
                    np[c]
                );
            }
            peaks.push(ours);
        }
    }
    let mean_peak = peaks.iter().sum::<f64>() / peaks.len() as f64;
    eprintln!(
        "  spw 16 diagnostics (scan {scan}): mean peak ratio/baseline {mean_peak:.4}, worst vs truth {:.3} %",
        100.0 * worst
    );
    assert!(peaks.len() >= 4, "{} live antenna/corrs", peaks.len());
    assert!(mean_peak > th, "{mean_peak} ≤ threshold {th}");
    for spw in ["18", "20", "22"] {
        assert_flat_within_threshold(report, spw);
    }
}

#[test]
fn tiny_simulation_without_line_needs_no_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let ms = simulate(dir.path(), false);
    let r = recipe(dir.path(), &ms);
    run_all(&r);
    let check = report(&r, "rn_check");
    assert_eq!(
        check["table_needed"],
        Value::Bool(false),
        "{}",
        check["message"]
    );
    let st = &check["stats"]["SgrAstar"];
    for spw in ["16", "18", "20", "22"] {
        let m = st[spw]["max_rn"].as_f64().expect("max_rn");
        assert!(m < 1.02, "spw {spw}: {m}");
    }
    assert!(check["message"]
        .as_str()
        .is_some_and(|m| m.contains("no renormalization needed")));
    for spw in ["16", "18", "20", "22"] {
        assert_flat_within_threshold(&check, spw);
    }
    // apply = true with nothing marked: fill_table rows of 1.0 only.
    let table = read_caltable(&r.workdir.join("rn.cal")).expect("renorm table");
    assert!(table.rows.iter().all(|row| match &row.params {
        CalParams::Float(a) => a.iter().all(|&x| x == 1.0),
        CalParams::Complex(_) => false,
    }));
}
