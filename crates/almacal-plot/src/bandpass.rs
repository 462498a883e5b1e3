//! `plotbandpass`-style pages: per antenna, bandpass amplitude (top) and phase (bottom) vs
//! frequency, coloured by correlation, one figure per spw with up to 6 antennas (3 per
//! row, each row pair = amplitude row + phase row). Flagged channels are hidden.

use crate::caldata::{CalData, SolRow};
use crate::figure::{pages, Figure, Mark, NamedFigure, Panel, Series};
use crate::palette;

/// Antennas per page.
pub const PER_PAGE: usize = 6;
const COLS: usize = 3;

/// Pages of bandpass amplitude+phase panels, per spw.
pub fn bandpass_pages(cal: &CalData) -> Vec<NamedFigure> {
    let mut out = Vec::new();
    for spw in cal.spws() {
        let ants = cal.antennas();
        let all = pages(&ants, PER_PAGE);
        let npages = all.len();
        for (k, names) in all.into_iter().enumerate() {
            let mut panels = Vec::new();
            for row in names.chunks(COLS) {
                let rows: Vec<Vec<&SolRow>> = row
                    .iter()
                    .map(|a| {
                        cal.rows
                            .iter()
                            .filter(|r| r.spw == spw && &r.antenna == a)
                            .collect()
                    })
                    .collect();
                let mut amp: Vec<Panel> = Vec::new();
                let mut phase: Vec<Panel> = Vec::new();
                for (a, rs) in row.iter().zip(&rows) {
                    let (pa, pp) = antenna_panels(cal, a, rs);
                    amp.push(pa);
                    phase.push(pp);
                }
                // Pad short rows so amplitude and phase rows stay aligned.
                while amp.len() < COLS {
                    amp.push(Panel::new("", "", ""));
                    phase.push(Panel::new("", "", ""));
                }
                panels.extend(amp);
                panels.extend(phase);
            }
            let title = format!(
                "{} ({}): bandpass amplitude and phase, spw {spw} (page {}/{npages})",
                cal.table,
                cal.viscal,
                k + 1
            );
            let xr = cal
                .rows
                .iter()
                .filter(|r| r.spw == spw)
                .flat_map(|r| (0..r.amp.first().map_or(0, Vec::len)).map(move |c| x_of(r, c)))
                .map(|x| (x, x))
                .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
                .map(|(a, b)| crate::render::padded(a, b));
            for p in &mut panels {
                p.x_range = xr;
            }
            let mut fig = Figure::grid(title, panels, COLS);
            fig.height = (fig.rows as u32) * 260 + 50;
            out.push(NamedFigure {
                stem: format!("spw{spw}_page{}", k + 1),
                figure: fig,
            });
        }
    }
    out
}

/// x of channel `c`: frequency in GHz, or the channel number when frequencies are unknown.
fn x_of(r: &SolRow, c: usize) -> f64 {
    r.freq_hz.get(c).map_or(c as f64, |f| f * 1e-9)
}

fn antenna_panels(cal: &CalData, ant: &str, rows: &[&SolRow]) -> (Panel, Panel) {
    let have_freq = rows.iter().all(|r| !r.freq_hz.is_empty());
    let xlabel = if have_freq {
        "Frequency (GHz)"
    } else {
        "Channel"
    };
    let mut pa = Panel::new(format!("{ant} amplitude"), xlabel, "Amplitude");
    let mut pp = Panel::new(format!("{ant} phase"), xlabel, "Phase (deg)");
    pa.legend = true;
    for (ip, name) in cal.par_names.iter().enumerate() {
        let mut sa = Series::new(name.clone(), palette::corr(ip), Mark::Line);
        let mut sp = Series::new(name.clone(), palette::corr(ip), Mark::Dots);
        for r in rows {
            let (Some(a), Some(f)) = (r.amp.get(ip), r.flag.get(ip)) else {
                continue;
            };
            let ph = r.phase_deg.get(ip);
            for (c, &amp) in a.iter().enumerate() {
                if f.get(c).copied().unwrap_or(false) {
                    // Break the line at flagged channels.
                    sa.points.push((x_of(r, c), f64::NAN));
                    continue;
                }
                sa.points.push((x_of(r, c), amp));
                if let Some(v) = ph.and_then(|p| p.get(c)) {
                    sp.points.push((x_of(r, c), *v));
                }
            }
            sa.points.push((f64::NAN, f64::NAN));
        }
        pa.series.push(sa);
        pp.series.push(sp);
    }
    if pa.data_bounds().is_none() {
        pa.title = format!("{ant} amplitude (all flagged)");
        pp.title = format!("{ant} phase (all flagged)");
    }
    // Phases that barely move would fill the panel with noise: show at least ±10°.
    if let Some((_, (lo, hi))) = pp.data_bounds() {
        let mid = 0.5 * (lo + hi);
        let half = (0.5 * (hi - lo) * 1.1).max(10.0);
        pp.y_range = Some((mid - half, mid + half));
    }
    (pa, pp)
}
