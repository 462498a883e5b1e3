//! The truth file describes the data: with noise off, visibilities recomputed from the
//! truth alone (gains, bandpass, Tsys model, fluxes, line, antenna-position errors and
//! source direction) equal DATA; SYSCAL equals the truth's Tsys; the fault is recorded.

mod common;

use almacal_casa::table::RoTable;
use num_complex::{Complex32, Complex64};
use serde_json::Value;

const C: f64 = 299_792_458.0;

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn tau(nu: f64) -> f64 {
    let g = nu / 1e9;
    0.055 + 0.45 * 25.0 / ((g - 325.153).powi(2) + 25.0) + 0.0008 * (g - 340.0)
}

/// Tsys from the truth's documented model.
fn tsys(truth: &Value, a: usize, p: usize, nu: f64, el_deg: f64) -> f64 {
    let m = &truth["tsys"]["model"];
    let par = |k: &str| f(&m[k][a][p]);
    let dg = nu / 1e9 - 340.0;
    let trx = par("trx0")
        + par("trx_slope_k_per_ghz") * dg
        + par("trx_ripple_k")
            * (std::f64::consts::TAU * dg / par("trx_ripple_period_ghz") + par("trx_ripple_phase"))
                .sin();
    let am = 1.0 / el_deg.max(5.0).to_radians().sin();
    let ta = tau(nu) * am;
    (trx + f(&m["t_atm"]) * (1.0 - (-ta).exp()) + 2.7) * ta.exp()
}

#[test]
fn noise_free_data_equal_the_truth_model() {
    let dir = tempfile::tempdir().unwrap();
    let rep = common::tiny(dir.path(), "nf.ms", |c| c.noise = 0.0);
    let truth: Value = serde_json::from_slice(&std::fs::read(&rep.truth).unwrap()).unwrap();
    let meta = almacal_casa::read_meta(&rep.ms).unwrap();
    let mut t = RoTable::open(&rep.ms).unwrap();
    let time = t.col::<f64>("TIME").unwrap();
    let a1 = t.col::<i32>("ANTENNA1").unwrap();
    let a2 = t.col::<i32>("ANTENNA2").unwrap();
    let dd = t.col::<i32>("DATA_DESC_ID").unwrap();
    let field = t.col::<i32>("FIELD_ID").unwrap();

    let times: Vec<f64> = truth["gains"]["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let geo = truth["geometry"]["per_integration"].as_array().unwrap();
    let jyperk = f(&truth["jy_per_k_nominal"]);
    let line_spw = truth["renormalization"]["spw"].as_u64().unwrap() as usize;
    let t_line: Vec<f64> = truth["renormalization"]["t_line_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let err: Vec<[f64; 3]> = truth["antennas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let e = &a["position_error_m"];
            [f(&e[0]), f(&e[1]), f(&e[2])]
        })
        .collect();
    assert!(jyperk > 0.0);

    let mut checked_cross = 0;
    let mut checked_auto = 0;
    let mut checked_line = 0;
    for r in (0..t.nrows() as usize).step_by(7) {
        let spw = meta.data_descs[dd[r] as usize].spw.idx();
        let Some(sp) = truth["gains"]["per_spw"].get(spw.to_string()) else {
            continue;
        };
        let Some(ti) = times.iter().position(|&x| (x - time[r]).abs() < 1e-6) else {
            panic!("science row {r} at a time missing from truth.gains.times")
        };
        let g = &geo[ti];
        let el = f(&g["elevation_deg"]);
        let s_hat = [f(&g["s_itrf"][0]), f(&g["s_itrf"][1]), f(&g["s_itrf"][2])];
        let fl = field[r] as usize;
        let flux = &truth["fluxes"][format!("field{fl}")];
        let freqs = &meta.spws[spw].chan_freq_hz;
        let (i, j) = (a1[r] as usize, a2[r] as usize);
        let bp = &truth["bandpass"]["per_spw"][spw.to_string()];
        let b = |a: usize, p: usize, c: usize| {
            Complex64::new(f(&bp["re"][a][p][c]), f(&bp["im"][a][p][c]))
        };
        let gain = |a: usize, p: usize| {
            Complex64::from_polar(
                f(&sp["amp"][a][p][ti]),
                f(&sp["phase_deg"][a][p][ti]).to_radians(),
            )
        };
        let line = fl == 2 && spw == line_spw;
        let data = t.cell_vec::<Complex32>("DATA", r as u64).unwrap();
        for (c, &nu) in freqs.iter().enumerate() {
            let s = f(&flux["S0_jy"]) * (nu / f(&flux["reffreq_hz"])).powf(f(&flux["alpha"]));
            for p in 0..2 {
                let t_on =
                    |a: usize| tsys(&truth, a, p, nu, el) + if line { t_line[c] } else { 0.0 };
                let want = if i == j {
                    let mean: f64 = freqs
                        .iter()
                        .map(|&x| tsys(&truth, i, p, x, el))
                        .sum::<f64>()
                        / freqs.len() as f64;
                    Complex64::new(b(i, p, c).norm_sqr() * t_on(i) / mean, 0.0)
                } else {
                    let d = [
                        err[j][0] - err[i][0],
                        err[j][1] - err[i][1],
                        err[j][2] - err[i][2],
                    ];
                    let w = d[0] * s_hat[0] + d[1] * s_hat[1] + d[2] * s_hat[2];
                    let ph = Complex64::from_polar(1.0, -std::f64::consts::TAU * nu / C * w);
                    gain(i, p) * gain(j, p).conj() * b(i, p, c) * b(j, p, c).conj() * ph * s
                        / (t_on(i) * t_on(j)).sqrt()
                };
                let got = data[c * 2 + p];
                let got = Complex64::new(got.re as f64, got.im as f64);
                let rel = (got - want).norm() / want.norm();
                assert!(
                    rel < 2e-5,
                    "row {r} spw {spw} chan {c} pol {p}: DATA {got} truth {want} (rel {rel:e})"
                );
            }
        }
        if i == j {
            checked_auto += 1;
        } else {
            checked_cross += 1;
        }
        checked_line += usize::from(line);
    }
    assert!(
        checked_cross > 100 && checked_auto > 10 && checked_line > 10,
        "{checked_cross} {checked_auto} {checked_line}"
    );

    // SYSCAL holds the truth's Tsys spectra.
    let sys = truth["tsys"]["syscal"].as_array().unwrap();
    assert!(!sys.is_empty());
    for row in &meta.syscal {
        let m = sys
            .iter()
            .find(|s| {
                s["spw"].as_u64() == Some(row.spw.0 as u64)
                    && (f(&s["time"]) - row.time_s).abs() < 1e-6
            })
            .expect("SYSCAL row in truth");
        let spec = row.tsys_spectrum.as_ref().unwrap();
        for p in 0..2 {
            for (c, v) in spec[p].iter().enumerate() {
                let want = f(&m["tsys"][row.antenna.idx()][p][c]);
                assert!((*v as f64 - want).abs() < 1e-4 * want);
            }
        }
    }
}

#[test]
fn fault_corrupts_only_its_antenna_spw_and_scans() {
    let dir = tempfile::tempdir().unwrap();
    let clean = common::tiny(dir.path(), "clean.ms", |c| c.noise = 0.0);
    let bad = common::tiny(dir.path(), "fault.ms", |c| {
        c.noise = 0.0;
        c.fault = true;
    });
    let truth: Value = serde_json::from_slice(&std::fs::read(&bad.truth).unwrap()).unwrap();
    let scans: Vec<i64> = truth["fault"]["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(scans.len(), 3);
    assert!(truth["fault"]["suggested_flagdata"]
        .as_str()
        .unwrap()
        .contains("antenna='CM05'"));
    let meta = almacal_casa::read_meta(&bad.ms).unwrap();
    let mut a = RoTable::open(&clean.ms).unwrap();
    let mut b = RoTable::open(&bad.ms).unwrap();
    let (a1, a2) = (
        b.col::<i32>("ANTENNA1").unwrap(),
        b.col::<i32>("ANTENNA2").unwrap(),
    );
    let (dd, scan) = (
        b.col::<i32>("DATA_DESC_ID").unwrap(),
        b.col::<i32>("SCAN_NUMBER").unwrap(),
    );
    let (mut differ, mut corrupted_rows) = (0, 0);
    for r in 0..b.nrows() as usize {
        let spw = meta.data_descs[dd[r] as usize].spw.0;
        let should = spw == 20
            && scans.contains(&(scan[r] as i64))
            && a1[r] != a2[r]
            && (a1[r] == 4 || a2[r] == 4);
        let x = a.cell_vec::<Complex32>("DATA", r as u64).unwrap();
        let y = b.cell_vec::<Complex32>("DATA", r as u64).unwrap();
        if x != y {
            differ += 1;
            assert!(
                should || spw == 21,
                "row {r} (spw {spw}, scan {}) changed",
                scan[r]
            );
        }
        corrupted_rows += usize::from(should);
    }
    assert!(corrupted_rows > 0 && differ >= corrupted_rows);
}
