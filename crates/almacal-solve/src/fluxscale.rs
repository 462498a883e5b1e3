//! fluxscale (algorithms.md §4): per transfer field and spw, the median over antennas and
//! polarizations of the ratio of time-averaged gain amplitudes (transfer / reference),
//! squared, with CASA's error formula; the weighted log-log spectral fit; the per-field
//! scale factors to apply to the transfer rows; and the result dictionary in the exact shape
//! CASA's `fluxscale` returns.

use crate::error::{Result, SolveError};
use crate::norm::median_even_mean;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Amplitudes of one caltable row (one antenna at one time).
#[derive(Debug, Clone, PartialEq)]
pub struct GainAmpRow {
    pub field: i32,
    pub spw: i32,
    pub antenna: usize,
    pub time_s: f64,
    /// |g| per polarization.
    pub amp: Vec<f64>,
    /// FLAG per polarization.
    pub flag: Vec<bool>,
}

/// One spw of the caltable SPECTRAL_WINDOW (for `freq`, `spwID`, `spwName`).
#[derive(Debug, Clone, PartialEq)]
pub struct FluxSpw {
    pub id: i32,
    pub name: String,
    /// CHAN_FREQ[nchan/2] of the caltable spw.
    pub freq_hz: f64,
}

/// fluxscale parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FluxscaleParams {
    pub reference: Vec<i32>,
    /// Empty = every other field in the table.
    pub transfer: Vec<i32>,
    /// refspwmap[s] = reference spw for transfer spw s; empty = identity.
    pub refspwmap: Vec<i32>,
    /// `gainthreshold` (< 0 = off).
    pub gainthreshold: f64,
    /// Polynomial order of the spectral fit (CASA default 1).
    pub fitorder: usize,
}

/// The flux of one transfer field in one spw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpwFlux {
    pub fluxd: f64,
    pub fluxd_err: f64,
    pub num_sol: usize,
    /// Median amplitude ratio; transfer rows of this field/spw are divided by it.
    pub ratio: f64,
}

/// Spectral fit of one transfer field.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralFit {
    pub fit_fluxd: f64,
    pub fit_fluxd_err: f64,
    pub fit_ref_freq_hz: f64,
    pub spidx: Vec<f64>,
    pub spidxerr: Vec<f64>,
    pub covar: Vec<Vec<f64>>,
}

/// Results for one transfer field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFlux {
    pub field: i32,
    pub name: String,
    pub spws: BTreeMap<i32, SpwFlux>,
    pub fit: Option<SpectralFit>,
}

/// Everything fluxscale computes.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxscaleResult {
    pub fields: Vec<FieldFlux>,
    pub spws: Vec<FluxSpw>,
}

type Key = (i32, i32, usize, usize); // field, spw, antenna, pol

fn mean_amps(rows: &[GainAmpRow], threshold: f64) -> BTreeMap<Key, f64> {
    // Optional gainthreshold: per (field, spw) median of unflagged amplitudes.
    let mut medians: BTreeMap<(i32, i32), f64> = BTreeMap::new();
    if threshold >= 0.0 {
        let mut all: BTreeMap<(i32, i32), Vec<f64>> = BTreeMap::new();
        for r in rows {
            for (a, f) in r.amp.iter().zip(&r.flag) {
                if !f {
                    all.entry((r.field, r.spw)).or_default().push(*a);
                }
            }
        }
        for (k, mut v) in all {
            if let Some(m) = median_even_mean(&mut v) {
                medians.insert(k, m);
            }
        }
    }
    let mut sums: BTreeMap<Key, (f64, usize)> = BTreeMap::new();
    for r in rows {
        for (p, (a, f)) in r.amp.iter().zip(&r.flag).enumerate() {
            if *f {
                continue;
            }
            if let Some(m) = medians.get(&(r.field, r.spw)) {
                let lo = if threshold >= 1.0 {
                    0.0
                } else {
                    (1.0 - threshold) * m
                };
                if *a < lo || *a > (1.0 + threshold) * m {
                    continue;
                }
            }
            let e = sums
                .entry((r.field, r.spw, r.antenna, p))
                .or_insert((0.0, 0));
            e.0 += a;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect()
}

/// Weighted polynomial fit of log10(fluxd) against log10(ν) − mean(log10 ν), per-point σ =
/// fluxdErr/fluxd (§4.7). Returns None with fewer than 2 points.
pub fn spectral_fit(
    freq_hz: &[f64],
    fluxd: &[f64],
    err: &[f64],
    order: usize,
) -> Option<SpectralFit> {
    let n = freq_hz.len();
    if n < 2 {
        return None;
    }
    let mut order = order.min(n - 1);
    if n == 2 && order > 1 {
        order = 0;
    }
    let np = order + 1;
    let lx: Vec<f64> = freq_hz.iter().map(|f| f.log10()).collect();
    let mean = lx.iter().sum::<f64>() / n as f64;
    let x: Vec<f64> = lx.iter().map(|v| v - mean).collect();
    let y: Vec<f64> = fluxd.iter().map(|f| f.log10()).collect();
    let w: Vec<f64> = err
        .iter()
        .zip(fluxd)
        .map(|(e, f)| {
            let s = e / f;
            if s > 0.0 {
                1.0 / (s * s)
            } else {
                1.0
            }
        })
        .collect();
    // Normal equations.
    let mut ata = vec![vec![0.0; np]; np];
    let mut aty = vec![0.0; np];
    for i in 0..n {
        let pw: Vec<f64> = (0..np).map(|k| x[i].powi(k as i32)).collect();
        for r in 0..np {
            aty[r] += w[i] * pw[r] * y[i];
            for c in 0..np {
                ata[r][c] += w[i] * pw[r] * pw[c];
            }
        }
    }
    let cov = invert(&ata)?;
    let coef: Vec<f64> = (0..np)
        .map(|r| (0..np).map(|c| cov[r][c] * aty[c]).sum())
        .collect();
    let chi2: f64 = (0..n)
        .map(|i| {
            let m: f64 = (0..np).map(|k| coef[k] * x[i].powi(k as i32)).sum();
            w[i] * (y[i] - m).powi(2)
        })
        .sum();
    let dof = (n as f64 - np as f64).max(1.0);
    let spidxerr: Vec<f64> = (0..np).map(|k| (cov[k][k] * chi2 / dof).sqrt()).collect();
    let fit_fluxd = 10f64.powf(coef[0]);
    Some(SpectralFit {
        fit_fluxd,
        fit_fluxd_err: std::f64::consts::LN_10 * fit_fluxd * spidxerr[0],
        fit_ref_freq_hz: 10f64.powf(mean),
        spidx: coef,
        spidxerr,
        covar: cov,
    })
}

fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for j in 0..n {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for i in 0..n {
            if i != col {
                let f = a[i][col];
                for j in 0..n {
                    a[i][j] -= f * a[col][j];
                    inv[i][j] -= f * inv[col][j];
                }
            }
        }
    }
    Some(inv)
}

/// Run fluxscale on the amplitudes of a G table. `field_names[f]` names field ids.
pub fn fluxscale(
    rows: &[GainAmpRow],
    spws: &[FluxSpw],
    field_names: &[String],
    params: &FluxscaleParams,
) -> Result<FluxscaleResult> {
    if params.reference.is_empty() {
        return Err(SolveError::Fluxscale("no reference field given".into()));
    }
    let mg = mean_amps(rows, params.gainthreshold);
    let fields_in_table: BTreeSet<i32> = rows.iter().map(|r| r.field).collect();
    for r in &params.reference {
        if !fields_in_table.contains(r) {
            return Err(SolveError::Fluxscale(format!(
                "reference field {r} has no solutions in the table"
            )));
        }
    }
    let transfer: Vec<i32> = if params.transfer.is_empty() {
        fields_in_table
            .iter()
            .copied()
            .filter(|f| !params.reference.contains(f))
            .collect()
    } else {
        params.transfer.clone()
    };
    // Reference mean amplitudes per (spw, ant, pol), averaged over reference fields.
    let mut refsum: BTreeMap<(i32, usize, usize), (f64, usize)> = BTreeMap::new();
    for (&(f, s, a, p), &v) in &mg {
        if params.reference.contains(&f) {
            let e = refsum.entry((s, a, p)).or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
    }
    let mgref: BTreeMap<(i32, usize, usize), f64> = refsum
        .into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect();
    let mut fields = Vec::new();
    for &tf in &transfer {
        let mut per_spw = BTreeMap::new();
        let spw_ids: BTreeSet<i32> = mg.keys().filter(|k| k.0 == tf).map(|k| k.1).collect();
        for s in spw_ids {
            let r = params
                .refspwmap
                .get(s as usize)
                .copied()
                .filter(|&r| r >= 0)
                .unwrap_or(s);
            let mut ratios: Vec<f64> = mg
                .iter()
                .filter(|(k, _)| k.0 == tf && k.1 == s)
                .filter_map(|(&(_, _, a, p), &v)| {
                    mgref.get(&(r, a, p)).filter(|&&m| m > 0.0).map(|m| v / m)
                })
                .collect();
            let n = ratios.len();
            if n == 0 {
                continue;
            }
            let mean = ratios.iter().sum::<f64>() / n as f64;
            let rms = if n > 1 {
                (ratios.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
            } else {
                0.0
            };
            let Some(med) = median_even_mean(&mut ratios) else {
                continue;
            };
            let err = if n > 1 {
                2.0 * rms / ((n - 1) as f64).sqrt()
            } else {
                0.0
            };
            per_spw.insert(
                s,
                SpwFlux {
                    fluxd: med * med,
                    fluxd_err: err,
                    num_sol: n,
                    ratio: med,
                },
            );
        }
        let (fr, fl, er): (Vec<f64>, Vec<f64>, Vec<f64>) = per_spw
            .iter()
            .filter_map(|(s, v)| {
                spws.iter()
                    .find(|x| x.id == *s)
                    .map(|x| (x.freq_hz, v.fluxd, v.fluxd_err))
            })
            .fold((vec![], vec![], vec![]), |mut acc, (a, b, c)| {
                acc.0.push(a);
                acc.1.push(b);
                acc.2.push(c);
                acc
            });
        let fit = if fr.len() == 1 {
            Some(SpectralFit {
                fit_fluxd: fl[0],
                fit_fluxd_err: er[0],
                fit_ref_freq_hz: fr[0],
                spidx: vec![fl[0].log10()],
                spidxerr: vec![0.0],
                covar: vec![vec![0.0]],
            })
        } else {
            spectral_fit(&fr, &fl, &er, params.fitorder)
        };
        fields.push(FieldFlux {
            field: tf,
            name: field_names.get(tf as usize).cloned().unwrap_or_default(),
            spws: per_spw,
            fit,
        });
    }
    Ok(FluxscaleResult {
        fields,
        spws: spws.to_vec(),
    })
}

impl FluxscaleResult {
    /// The factor to divide a row of (field, spw) by, if that row is rescaled.
    pub fn divisor(&self, field: i32, spw: i32) -> Option<f64> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .and_then(|f| f.spws.get(&spw))
            .map(|s| s.ratio)
    }

    /// The dictionary CASA's fluxscale returns (keys as strings, like its JSON dump).
    pub fn to_casa_dict(&self) -> Value {
        let mut top = Map::new();
        let none = json!({"fluxd": [-1.0, -1.0, -1.0, -1.0], "fluxdErr": [-1.0, -1.0, -1.0, -1.0], "numSol": [-1.0, -1.0, -1.0, -1.0]});
        for f in &self.fields {
            let mut m = Map::new();
            for s in &self.spws {
                let v = match f.spws.get(&s.id) {
                    Some(x) => json!({
                        "fluxd": [x.fluxd, 0.0, 0.0, 0.0],
                        "fluxdErr": [x.fluxd_err, 0.0, 0.0, 0.0],
                        "numSol": [x.num_sol as f64, 0.0, 0.0, 0.0],
                    }),
                    None => none.clone(),
                };
                m.insert(s.id.to_string(), v);
            }
            m.insert("fieldName".into(), json!(f.name));
            if let Some(fit) = &f.fit {
                m.insert("fitFluxd".into(), json!(fit.fit_fluxd));
                m.insert("fitFluxdErr".into(), json!(fit.fit_fluxd_err));
                m.insert("fitRefFreq".into(), json!(fit.fit_ref_freq_hz));
                m.insert("spidx".into(), json!(fit.spidx));
                m.insert("spidxerr".into(), json!(fit.spidxerr));
                m.insert("covarMat".into(), json!(fit.covar));
            }
            top.insert(f.field.to_string(), Value::Object(m));
        }
        let solved: BTreeSet<i32> = self
            .fields
            .iter()
            .flat_map(|f| f.spws.keys().copied())
            .collect();
        top.insert(
            "freq".into(),
            json!(self
                .spws
                .iter()
                .map(|s| if solved.contains(&s.id) {
                    s.freq_hz
                } else {
                    -1.0
                })
                .collect::<Vec<_>>()),
        );
        top.insert(
            "spwID".into(),
            json!(self.spws.iter().map(|s| s.id).collect::<Vec<_>>()),
        );
        top.insert(
            "spwName".into(),
            json!(self.spws.iter().map(|s| s.name.clone()).collect::<Vec<_>>()),
        );
        Value::Object(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectral_fit_reproduces_casa_fluxscale_json() {
        // CASA 6.7 fluxscale on refdata sim_small (J1700-2610): per-spw fluxes and errors
        // in, fitted values out (copied from casa/fluxscale.json).
        let nu = [345996e6, 347871e6, 333996e6, 335871e6];
        let f = [
            0.7944626790661815,
            0.7942260439397792,
            0.7923149301244676,
            0.7934176791100516,
        ];
        let e = [
            0.007084868471226406,
            0.007412424841286458,
            0.0064238855239966836,
            0.00723401159780861,
        ];
        let fit = spectral_fit(&nu, &f, &e, 1).unwrap();
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(fit.fit_fluxd, 0.7935865404455285) < 1e-10);
        assert!(rel(fit.fit_fluxd_err, 0.00024808866977243547) < 1e-6);
        assert!(rel(fit.fit_ref_freq_hz, 340879409720.5129) < 1e-12);
        assert!(rel(fit.spidx[1], 0.05640025076574841) < 1e-8);
        assert!(rel(fit.spidxerr[1], 0.017436217911695657) < 1e-6);
        assert!(rel(fit.covar[0][0], 1.9601377088133533e-05) < 1e-6);
    }

    #[test]
    fn median_ratio_squared_and_error() {
        // Reference field 0 gains 1.0; transfer field 1 gains 0.8*(1+d).
        let ds = [0.0, 0.01, -0.02, 0.03, -0.01, 0.02];
        let mut rows = Vec::new();
        for (a, d) in ds.iter().enumerate() {
            for (field, amp) in [(0, 1.0), (1, 0.8 * (1.0 + d))] {
                for t in 0..2 {
                    rows.push(GainAmpRow {
                        field,
                        spw: 0,
                        antenna: a,
                        time_s: t as f64,
                        amp: vec![amp],
                        flag: vec![false],
                    });
                }
            }
        }
        let spws = vec![FluxSpw {
            id: 0,
            name: "a".into(),
            freq_hz: 1e11,
        }];
        let names = vec!["cal".into(), "phase".into()];
        let p = FluxscaleParams {
            reference: vec![0],
            fitorder: 1,
            gainthreshold: -1.0,
            ..Default::default()
        };
        let r = fluxscale(&rows, &spws, &names, &p).unwrap();
        let s = r.fields[0].spws[&0];
        let mut ratios: Vec<f64> = ds.iter().map(|d| 0.8 * (1.0 + d)).collect();
        ratios.sort_by(f64::total_cmp);
        let med = 0.5 * (ratios[2] + ratios[3]);
        assert!((s.fluxd - med * med).abs() < 1e-12);
        let mean = ratios.iter().sum::<f64>() / 6.0;
        let sd = (ratios.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
        assert!((s.fluxd_err - 2.0 * sd / 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.num_sol, 6);
        assert!((r.divisor(1, 0).unwrap() - med).abs() < 1e-12);
        let d = r.to_casa_dict();
        assert_eq!(d["1"]["fieldName"], "phase");
        assert_eq!(d["1"]["0"]["numSol"][0], 6.0);
        assert_eq!(d["spwID"][0], 0);
        assert!(fluxscale(&rows, &spws, &names, &FluxscaleParams::default()).is_err());
    }
}
