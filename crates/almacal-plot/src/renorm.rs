//! Renormalization diagnostics (ALMA `renorm`): per antenna, the ratio spectrum (target
//! autocorrelation / bandpass-calibrator autocorrelation), the fitted baseline and the
//! threshold above which the scaling is applied. Plain arrays: the renorm stage produces them.
//!
//! From a renorm stage's products ([`scaling_pages`], [`max_scaling_figure`]): the scaling
//! spectra of its caltable (per antenna, the maximum over the target scans, with the
//! threshold) and the per-scan maximum scaling of its report against the threshold.

use crate::caldata::CalData;
use crate::figure::{pages, Figure, Mark, NamedFigure, Panel, Series};
use crate::palette;
use serde_json::Value;
use std::collections::BTreeMap;

/// One antenna's diagnostic spectrum (per correlation).
#[derive(Debug, Clone, PartialEq)]
pub struct RenormSpectrum {
    pub antenna: String,
    pub freq_hz: Vec<f64>,
    /// `[corr][chan]` ratio spectra (NaN for flagged channels).
    pub ratio: Vec<Vec<f64>>,
    /// `[chan]` fitted baseline of the ratio.
    pub baseline: Vec<f64>,
}

/// The renorm diagnostics of one spw.
#[derive(Debug, Clone)]
pub struct RenormDiagnostics {
    pub ms: String,
    pub field: String,
    pub spw: u32,
    /// Scaling threshold (e.g. 1.02): channels whose ratio exceeds it are rescaled.
    pub threshold: f64,
    pub corr_names: Vec<String>,
    pub spectra: Vec<RenormSpectrum>,
}

/// Antennas per page.
pub const PER_PAGE: usize = 9;

/// Pages of ratio-spectrum panels.
pub fn renorm_pages(d: &RenormDiagnostics) -> Vec<NamedFigure> {
    let all = pages(&d.spectra, PER_PAGE);
    let npages = all.len();
    all.into_iter()
        .enumerate()
        .map(|(k, spectra)| {
            let panels = spectra.iter().map(|s| panel(d, s)).collect();
            NamedFigure {
                stem: format!("spw{}_page{}", d.spw, k + 1),
                figure: Figure::grid(
                    format!(
                        "{}: renorm ratio spectra, field {}, spw {} (threshold {}) (page {}/{npages})",
                        d.ms,
                        d.field,
                        d.spw,
                        d.threshold,
                        k + 1
                    ),
                    panels,
                    3,
                ),
            }
        })
        .collect()
}

fn panel(d: &RenormDiagnostics, s: &RenormSpectrum) -> Panel {
    let ghz: Vec<f64> = s.freq_hz.iter().map(|f| f * 1e-9).collect();
    let mut p = Panel::new(
        format!("Antenna {}", s.antenna),
        "Frequency (GHz)",
        "Target / bandpass autocorrelation",
    );
    p.legend = true;
    for (i, r) in s.ratio.iter().enumerate() {
        let name = d
            .corr_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("corr {i}"));
        let mut ser = Series::new(name, palette::corr(i), Mark::Line);
        ser.points = ghz.iter().copied().zip(r.iter().copied()).collect();
        p.series.push(ser);
    }
    let mut fit = Series::new("baseline fit", palette::REFERENCE, Mark::Thin);
    fit.points = ghz
        .iter()
        .copied()
        .zip(s.baseline.iter().copied())
        .collect();
    p.series.push(fit);
    if let (Some(lo), Some(hi)) = (
        ghz.iter().copied().reduce(f64::min),
        ghz.iter().copied().reduce(f64::max),
    ) {
        let mut th = Series::new(
            format!("threshold {}", d.threshold),
            palette::OUTLIER,
            Mark::Thin,
        );
        th.points = vec![(lo, d.threshold), (hi, d.threshold)];
        p.series.push(th);
    }
    p
}

/// Pages of the renorm caltable's scaling spectra: per spw, one panel per antenna with the
/// per-channel maximum over the table's scans of each correlation, and the threshold.
pub fn scaling_pages(cal: &CalData, threshold: f64) -> Vec<NamedFigure> {
    let mut out = Vec::new();
    for spw in cal.spws() {
        let ants = cal.antennas();
        let all = pages(&ants, PER_PAGE);
        let npages = all.len();
        for (k, names) in all.into_iter().enumerate() {
            let panels = names
                .iter()
                .map(|a| scaling_panel(cal, spw, a, threshold))
                .collect();
            out.push(NamedFigure {
                stem: format!("spw{spw}_page{}", k + 1),
                figure: Figure::grid(
                    format!(
                        "{}: renormalization scaling vs frequency, spw {spw}, maximum over scans (threshold {threshold}) (page {}/{npages})",
                        cal.table,
                        k + 1
                    ),
                    panels,
                    3,
                ),
            });
        }
    }
    out
}

fn scaling_panel(cal: &CalData, spw: u32, antenna: &str, threshold: f64) -> Panel {
    let mut p = Panel::new(
        format!("Antenna {antenna}, spw {spw}"),
        "Frequency (GHz)",
        "Renormalization scaling",
    );
    p.legend = true;
    let rows: Vec<_> = cal
        .rows
        .iter()
        .filter(|r| r.spw == spw && r.antenna == antenna)
        .collect();
    let Some(first) = rows.first() else {
        return p;
    };
    let ghz: Vec<f64> = if first.freq_hz.is_empty() {
        (0..first.amp.first().map_or(0, Vec::len))
            .map(|c| c as f64)
            .collect()
    } else {
        first.freq_hz.iter().map(|f| f * 1e-9).collect()
    };
    if first.freq_hz.is_empty() {
        p.x_label = "Channel".into();
    }
    for (i, name) in cal.par_names.iter().enumerate() {
        let mut max = vec![f64::NAN; ghz.len()];
        for r in &rows {
            let (Some(v), Some(f)) = (r.amp.get(i), r.flag.get(i)) else {
                continue;
            };
            for (c, m) in max.iter_mut().enumerate() {
                if let Some(&x) = v.get(c).filter(|_| !f.get(c).copied().unwrap_or(false)) {
                    *m = if m.is_nan() { x } else { m.max(x) };
                }
            }
        }
        let mut ser = Series::new(name.clone(), palette::corr(i), Mark::Line);
        ser.points = ghz.iter().copied().zip(max).collect();
        p.series.push(ser);
    }
    if let (Some(lo), Some(hi)) = (
        ghz.iter().copied().reduce(f64::min),
        ghz.iter().copied().reduce(f64::max),
    ) {
        let mut th = Series::new(
            format!("threshold {threshold}"),
            palette::OUTLIER,
            Mark::Thin,
        );
        th.points = vec![(lo, threshold), (hi, threshold)];
        p.series.push(th);
    }
    p
}

/// The maximum scaling of every target scan in a renorm report (`<stage>.json`): one panel
/// per field, scaling vs scan coloured by spw, with the threshold. `None` without stats.
pub fn max_scaling_figure(report: &Value, title: &str) -> Option<Figure> {
    let threshold = report.get("threshold").and_then(Value::as_f64)?;
    let stats = report.get("stats")?.as_object()?;
    let mut panels = Vec::new();
    for (field, spws) in stats {
        let mut p = Panel::new(format!("field {field}"), "Scan", "Maximum scaling");
        p.legend = true;
        let mut by_spw: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
        for (spw, entry) in spws.as_object().into_iter().flatten() {
            let Ok(spw) = spw.parse::<u32>() else {
                continue;
            };
            for scan in entry
                .get("scans")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
            {
                if let (Some(s), Some(v)) = (
                    scan.get("scan").and_then(Value::as_f64),
                    scan.get("scaling").and_then(Value::as_f64),
                ) {
                    by_spw.entry(spw).or_default().push((s, v));
                }
            }
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (i, (spw, mut pts)) in by_spw.into_iter().enumerate() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (s, _) in &pts {
                lo = lo.min(*s);
                hi = hi.max(*s);
            }
            let mut ser = Series::new(format!("spw {spw}"), palette::qual(i), Mark::Line);
            ser.points = pts;
            p.series.push(ser);
        }
        if lo <= hi {
            let mut th = Series::new(
                format!("threshold {threshold}"),
                palette::OUTLIER,
                Mark::Thin,
            );
            th.points = vec![(lo - 0.5, threshold), (hi + 0.5, threshold)];
            p.series.push(th);
            panels.push(p);
        }
    }
    (!panels.is_empty()).then(|| {
        let cols = panels.len().min(2);
        Figure::grid(
            format!("{title}: renorm maximum scaling per target scan (threshold {threshold})"),
            panels,
            cols,
        )
    })
}
