//! QA scores on 0–1 with the ALMA pipeline's categories (< 0.33 error, < 0.66 warning,
//! < 0.9 suboptimal, else good). Each score comes from one named metric: fraction of flagged
//! solutions (any caltable), bandpass phase RMS over channels (B Jones), flux-scale relative
//! error between antennas (fluxscale), or a stage's own `summary.qa = {score, metric}`.

use crate::caldata::CalData;
use serde_json::Value;

/// One measured metric and the score derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct QaMetric {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub score: f64,
    /// How the score follows from the value.
    pub rule: String,
}

/// The ALMA pipeline category of a score.
pub fn category(score: f64) -> &'static str {
    if score < 0.33 {
        "error"
    } else if score < 0.66 {
        "warning"
    } else if score < 0.9 {
        "suboptimal"
    } else {
        "good"
    }
}

/// 1 at `x ≤ good`, 0 at `x ≥ bad`, linear between.
pub fn ramp(x: f64, good: f64, bad: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    ((bad - x) / (bad - good)).clamp(0.0, 1.0)
}

/// Flagged-solution fraction of a caltable: 1 at ≤ 5 %, 0 at ≥ 50 %.
pub fn flagged_solutions(cal: &CalData) -> QaMetric {
    let f = cal.flagged_fraction();
    QaMetric {
        name: "flagged solutions".into(),
        value: 100.0 * f,
        unit: "%".into(),
        score: ramp(f, 0.05, 0.5),
        rule: "1 at ≤ 5 %, 0 at ≥ 50 %".into(),
    }
}

/// RMS (deg) of the unflagged channel phases about their circular mean, per row and
/// parameter; `None` when no row has two unflagged channels.
pub fn phase_rms_deg(cal: &CalData) -> Vec<f64> {
    let mut out = Vec::new();
    for r in &cal.rows {
        for (ph, fl) in r.phase_deg.iter().zip(&r.flag) {
            let v: Vec<f64> = ph
                .iter()
                .zip(fl)
                .filter(|(p, f)| !**f && p.is_finite())
                .map(|(p, _)| p.to_radians())
                .collect();
            if v.len() < 2 {
                continue;
            }
            let (s, c) = v
                .iter()
                .fold((0.0, 0.0), |(s, c), p| (s + p.sin(), c + p.cos()));
            let mean = s.atan2(c);
            let ms = v
                .iter()
                .map(|p| {
                    let d = (p - mean + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
                        - std::f64::consts::PI;
                    d * d
                })
                .sum::<f64>()
                / v.len() as f64;
            out.push(ms.sqrt().to_degrees());
        }
    }
    out
}

/// Bandpass phase RMS metric: the median over antennas/polarizations; 1 at ≤ 5°, 0 at ≥ 45°.
pub fn bandpass_phase_rms(cal: &CalData) -> Option<QaMetric> {
    let mut v = phase_rms_deg(cal);
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    Some(QaMetric {
        name: "bandpass phase RMS (median over antennas/pols)".into(),
        value: med,
        unit: "deg".into(),
        score: ramp(med, 5.0, 45.0),
        rule: "1 at ≤ 5°, 0 at ≥ 45°".into(),
    })
}

/// One row of the flux-scale table.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxRow {
    pub field: String,
    pub spw: String,
    pub flux_jy: f64,
    pub err_jy: f64,
    pub nsol: f64,
}

/// Rows of a CASA-style fluxscale dictionary (`{field: {spw: {fluxd, fluxdErr, numSol}}}`);
/// spws without a solution (flux −1) are skipped.
pub fn flux_rows(dict: &Value) -> Vec<FluxRow> {
    let mut out = Vec::new();
    let Some(top) = dict.as_object() else {
        return out;
    };
    for (fid, fv) in top {
        let Some(fobj) = fv.as_object() else { continue };
        let name = fobj
            .get("fieldName")
            .and_then(Value::as_str)
            .unwrap_or(fid)
            .to_string();
        for (spw, sv) in fobj {
            let first = |k: &str| sv.get(k).and_then(|a| a.get(0)).and_then(Value::as_f64);
            if let (Some(f), Some(e)) = (first("fluxd"), first("fluxdErr")) {
                if f > 0.0 {
                    out.push(FluxRow {
                        field: name.clone(),
                        spw: spw.clone(),
                        flux_jy: f,
                        err_jy: e,
                        nsol: first("numSol").unwrap_or(0.0),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (a.field.as_str(), a.spw.parse::<i64>().unwrap_or(0))
            .cmp(&(b.field.as_str(), b.spw.parse::<i64>().unwrap_or(0)))
    });
    out
}

/// Flux-scale scatter between antennas: the largest fluxdErr/fluxd; 1 at ≤ 2 %, 0 at ≥ 20 %.
pub fn flux_scatter(rows: &[FluxRow]) -> Option<QaMetric> {
    let worst = rows
        .iter()
        .map(|r| r.err_jy / r.flux_jy)
        .filter(|x| x.is_finite())
        .reduce(f64::max)?;
    Some(QaMetric {
        name: "flux-scale scatter between antennas (max fluxdErr/fluxd)".into(),
        value: 100.0 * worst,
        unit: "%".into(),
        score: ramp(worst, 0.02, 0.2),
        rule: "1 at ≤ 2 %, 0 at ≥ 20 %".into(),
    })
}

/// A stage's own score: `summary.qa = {"score": x, "metric": "..."}`.
pub fn from_summary(summary: &Value) -> Option<QaMetric> {
    let qa = summary.get("qa")?;
    let score = qa.get("score")?.as_f64()?.clamp(0.0, 1.0);
    Some(QaMetric {
        name: qa
            .get("metric")
            .and_then(Value::as_str)
            .unwrap_or("stage QA")
            .to_string(),
        value: qa.get("value").and_then(Value::as_f64).unwrap_or(score),
        unit: qa
            .get("unit")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        score,
        rule: "reported by the stage".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caldata::SolRow;

    fn cal(phases: Vec<f64>, flags: Vec<bool>) -> CalData {
        CalData {
            table: "t".into(),
            viscal: "B Jones".into(),
            par_names: vec!["X".into()],
            rows: vec![SolRow {
                antenna: "A".into(),
                spw: 0,
                field: "f".into(),
                scan: 1,
                time_s: 0.0,
                freq_hz: vec![],
                amp: vec![vec![1.0; phases.len()]],
                phase_deg: vec![phases],
                flag: vec![flags],
            }],
        }
    }

    #[test]
    fn categories_follow_alma_thresholds() {
        assert_eq!(category(0.2), "error");
        assert_eq!(category(0.5), "warning");
        assert_eq!(category(0.8), "suboptimal");
        assert_eq!(category(0.95), "good");
        assert_eq!(ramp(0.05, 0.05, 0.5), 1.0);
        assert_eq!(ramp(0.5, 0.05, 0.5), 0.0);
    }

    #[test]
    fn phase_rms_wraps_and_skips_flags() {
        // ±179° around 180° is a 1° scatter, not 179°; the flagged 90° is ignored.
        let c = cal(vec![179.0, -179.0, 90.0], vec![false, false, true]);
        let rms = phase_rms_deg(&c);
        assert_eq!(rms.len(), 1);
        assert!((rms[0] - 1.0).abs() < 1e-9, "{rms:?}");
        let c = cal(vec![0.0, 0.0, 0.0, 0.0], vec![false, false, true, true]);
        assert!((c.flagged_fraction() - 0.5).abs() < 1e-12);
        assert!(flagged_solutions(&c).score < 0.33);
    }

    #[test]
    fn fluxscale_dict_rows_and_scatter() {
        let d = serde_json::json!({
            "1": {"fieldName": "J1700", "16": {"fluxd": [0.8, 0,0,0], "fluxdErr": [0.008,0,0,0], "numSol": [10.0,0,0,0]},
                  "18": {"fluxd": [-1.0,-1,-1,-1], "fluxdErr": [-1.0,-1,-1,-1]}},
            "freq": [1.0]
        });
        let rows = flux_rows(&d);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].field, "J1700");
        let m = flux_scatter(&rows).unwrap();
        assert!((m.value - 1.0).abs() < 1e-9);
        assert_eq!(m.score, 1.0);
    }
}
