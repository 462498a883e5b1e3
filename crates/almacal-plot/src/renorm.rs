//! Renormalization diagnostics (ALMA `renorm`): per antenna, the ratio spectrum (target
//! autocorrelation / bandpass-calibrator autocorrelation), the fitted baseline and the
//! threshold above which the scaling is applied. Plain arrays: the renorm stage produces them.

use crate::figure::{pages, Figure, Mark, NamedFigure, Panel, Series};
use crate::palette;

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
