//! Renormalization diagnostics (ALMA `renorm`): per antenna, the ratio spectrum (target
//! autocorrelation / bandpass-calibrator autocorrelation) per correlation, its fitted
//! baseline, and the threshold times the baseline: the scaling N = ratio / baseline is
//! corrected when it exceeds the threshold. The renorm stage records them in its report
//! (`diagnostics.<spw>`, the scan/field of maximum scaling); [`diagnostics_from_report`]
//! reads them back and [`renorm_pages`] draws them.
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
    /// `[corr][chan]` ratio spectra (NaN for flagged or excluded channels).
    pub ratio: Vec<Vec<f64>>,
    /// `[corr][chan]` fitted baselines of the ratios (NaN where the ratio is).
    pub baseline: Vec<Vec<f64>>,
}

/// The renorm diagnostics of one spw.
#[derive(Debug, Clone)]
pub struct RenormDiagnostics {
    pub ms: String,
    pub field: String,
    pub spw: u32,
    /// Scaling threshold (e.g. 1.02): the spw is corrected when ratio / baseline exceeds it.
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
                stem: format!("ratio_spw{}_page{}", d.spw, k + 1),
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
    for (i, b) in s.baseline.iter().enumerate() {
        let name = d
            .corr_names
            .get(i)
            .map_or_else(|| format!("fit {i}"), |c| format!("fit {c}"));
        let mut fit = Series::new(name, palette::REFERENCE, Mark::Thin);
        fit.points = ghz.iter().copied().zip(b.iter().copied()).collect();
        p.series.push(fit);
    }
    // The threshold on the scaling, drawn on the ratio's scale: threshold × the mean
    // baseline of the correlations (a flat line when there is no baseline).
    let level: Vec<f64> = (0..ghz.len())
        .map(|c| {
            let v: Vec<f64> = s
                .baseline
                .iter()
                .filter_map(|b| b.get(c).copied())
                .filter(|x| x.is_finite())
                .collect();
            if v.is_empty() {
                f64::NAN
            } else {
                d.threshold * v.iter().sum::<f64>() / v.len() as f64
            }
        })
        .collect();
    let mut th = Series::new(
        format!("threshold {} x fit", d.threshold),
        palette::OUTLIER,
        Mark::Thin,
    );
    if level.iter().any(|x| x.is_finite()) {
        th.points = ghz.iter().copied().zip(level).collect();
    } else if let (Some(lo), Some(hi)) = (
        ghz.iter().copied().reduce(f64::min),
        ghz.iter().copied().reduce(f64::max),
    ) {
        th.points = vec![(lo, d.threshold), (hi, d.threshold)];
    }
    p.series.push(th);
    p
}

/// The ratio-spectrum diagnostics of a renorm report (`diagnostics.<spw>`), in spw order;
/// `ms` names the data in the titles. Empty when the report has none (an older report).
pub fn diagnostics_from_report(report: &Value, ms: &str) -> Vec<RenormDiagnostics> {
    let Some(all) = report.get("diagnostics").and_then(Value::as_object) else {
        return Vec::new();
    };
    let nums = |v: &Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    let cube = |v: Option<&Value>| -> Vec<Vec<Vec<f64>>> {
        v.and_then(Value::as_array)
            .map(|ants| {
                ants.iter()
                    .map(|a| {
                        a.as_array()
                            .map(|c| c.iter().map(nums).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<RenormDiagnostics> = all
        .iter()
        .filter_map(|(spw, d)| {
            let spw: u32 = spw.parse().ok()?;
            let freq_hz = nums(d.get("freq_hz")?);
            let ratio = cube(d.get("ratio"));
            let baseline = cube(d.get("baseline"));
            let antennas = strings(d.get("antennas"));
            let spectra = ratio
                .into_iter()
                .enumerate()
                .map(|(a, ratio)| RenormSpectrum {
                    antenna: antennas.get(a).cloned().unwrap_or_else(|| a.to_string()),
                    freq_hz: freq_hz.clone(),
                    ratio,
                    baseline: baseline.get(a).cloned().unwrap_or_default(),
                })
                .collect();
            let field = d.get("field").and_then(Value::as_str).unwrap_or("?");
            let scan = d.get("scan").and_then(Value::as_i64);
            Some(RenormDiagnostics {
                ms: ms.to_string(),
                field: match scan {
                    Some(s) => format!("{field} (scan {s}, maximum scaling)"),
                    None => field.to_string(),
                },
                spw,
                threshold: d
                    .get("threshold")
                    .or_else(|| report.get("threshold"))
                    .and_then(Value::as_f64)
                    .unwrap_or(f64::NAN),
                corr_names: strings(d.get("corr_names")),
                spectra,
            })
        })
        .collect();
    out.sort_by_key(|d| d.spw);
    out
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
