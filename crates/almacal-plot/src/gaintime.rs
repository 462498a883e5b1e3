//! Gain amplitude or phase vs time, one panel per antenna, 3×3 antennas per page (plotms
//! `iteraxis='antenna'`), coloured by correlation; phase on −180..180°. Flagged solutions
//! are hidden, or drawn in grey with `show_flagged`.

use crate::caldata::{mean_unflagged, CalData};
use crate::figure::{pages, AxisFmt, Figure, Mark, NamedFigure, Panel, Series};
use crate::palette;

/// What to plot on y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GainAxis {
    Amp,
    Phase,
}

impl GainAxis {
    pub fn name(self) -> &'static str {
        match self {
            GainAxis::Amp => "amp",
            GainAxis::Phase => "phase",
        }
    }
}

/// Antennas per page (3×3).
pub const PER_PAGE: usize = 9;

/// Pages of gain-vs-time panels.
pub fn gain_vs_time(cal: &CalData, axis: GainAxis, show_flagged: bool) -> Vec<NamedFigure> {
    let ants = cal.antennas();
    let spws = cal.spws();
    let spw_txt = spws
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let fields = {
        let mut f: Vec<&str> = cal.rows.iter().map(|r| r.field.as_str()).collect();
        f.sort_unstable();
        f.dedup();
        f.join(",")
    };
    // Common time axis on every panel (empty panels included).
    let t_range = cal
        .rows
        .iter()
        .map(|r| (r.time_s, r.time_s))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
        .map(|(a, b)| crate::render::padded(a, b));
    let all_pages = pages(&ants, PER_PAGE);
    let npages = all_pages.len();
    all_pages
        .into_iter()
        .enumerate()
        .map(|(k, names)| {
            let panels = names
                .iter()
                .map(|a| {
                    let mut p = antenna_panel(cal, a, axis, show_flagged);
                    p.x_range = t_range;
                    if p.series.iter().all(|s| s.points.is_empty()) {
                        p.title = format!("{} (all solutions flagged)", p.title);
                    }
                    p
                })
                .collect();
            let title = format!(
                "{} ({}): gain {} vs time, field {fields}, spw {spw_txt} (page {}/{npages})",
                cal.table,
                cal.viscal,
                axis.name(),
                k + 1
            );
            NamedFigure {
                stem: format!("{}_page{}", axis.name(), k + 1),
                figure: Figure::grid(title, panels, 3),
            }
        })
        .collect()
}

fn antenna_panel(cal: &CalData, ant: &str, axis: GainAxis, show_flagged: bool) -> Panel {
    let (ylabel, yr) = match axis {
        GainAxis::Amp => ("Gain amplitude", None),
        GainAxis::Phase => ("Gain phase (deg)", Some((-180.0, 180.0))),
    };
    let mut p = Panel::new(format!("Antenna {ant}"), "Time (UTC)", ylabel);
    p.x_fmt = AxisFmt::TimeUtc;
    p.y_range = yr;
    p.legend = true;
    let mut flagged = Series::new("flagged", palette::FLAGGED, Mark::Dots);
    let mut per_par: Vec<Series> = cal
        .par_names
        .iter()
        .enumerate()
        .map(|(i, n)| Series::new(n.clone(), palette::corr(i), Mark::Dots))
        .collect();
    for r in cal.rows.iter().filter(|r| r.antenna == ant) {
        let vals = match axis {
            GainAxis::Amp => &r.amp,
            GainAxis::Phase => &r.phase_deg,
        };
        for (ip, v) in vals.iter().enumerate() {
            let fl = r.flag.get(ip).map(Vec::as_slice).unwrap_or(&[]);
            match mean_unflagged(v, fl) {
                Some(y) => {
                    if let Some(s) = per_par.get_mut(ip) {
                        s.points.push((r.time_s, y));
                    }
                }
                None if show_flagged => {
                    let all = vec![false; v.len()];
                    if let Some(y) = mean_unflagged(v, &all) {
                        flagged.points.push((r.time_s, y));
                    }
                }
                None => {}
            }
        }
    }
    p.series.extend(per_par);
    if !flagged.points.is_empty() {
        p.series.push(flagged);
    }
    p
}
