//! Tsys spectra (the tutorial's "Tsys table, all baselines, colorize by scan"): Tsys vs
//! frequency per spw, coloured by scan, one panel per antenna (or one panel averaged over
//! antennas). Data come from a `B TSYS` caltable or from the MS's SYSCAL table.

use crate::caldata::{CalData, SolRow};
use crate::figure::{pages, Figure, Mark, NamedFigure, Panel, Series};
use crate::palette;
use crate::plotants::ms_display_name;
use almacal_core::MsMeta;

/// Antennas per page.
pub const PER_PAGE: usize = 12;

/// One panel per antenna, or one panel of the antenna average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsysLayout {
    PerAntenna,
    Averaged,
}

/// SYSCAL rows of an MS as Tsys "solutions" (`amp` = Tsys in K).
pub fn from_syscal(meta: &MsMeta) -> CalData {
    let rows = meta
        .syscal
        .iter()
        .filter_map(|s| {
            let spec = s.tsys_spectrum.as_ref()?;
            let spw = meta.spw(s.spw)?;
            let scan = meta
                .scans
                .iter()
                .find(|sc| s.time_s >= sc.start_s - 1.0 && s.time_s <= sc.end_s + 1.0);
            let field = scan
                .and_then(|sc| meta.fields.get(sc.field.idx()))
                .map_or_else(String::new, |f| f.name.clone());
            Some(SolRow {
                antenna: meta
                    .antennas
                    .get(s.antenna.idx())
                    .map_or_else(|| s.antenna.to_string(), |a| a.name.clone()),
                spw: s.spw.0,
                field,
                scan: scan.map_or(-1, |sc| sc.scan),
                time_s: s.time_s,
                freq_hz: spw.chan_freq_hz.clone(),
                amp: spec
                    .iter()
                    .map(|p| p.iter().map(|v| f64::from(*v)).collect())
                    .collect(),
                phase_deg: Vec::new(),
                flag: spec.iter().map(|p| vec![false; p.len()]).collect(),
            })
        })
        .collect();
    CalData {
        table: format!("{} SYSCAL", ms_display_name(&meta.path)),
        viscal: "SYSCAL".into(),
        par_names: vec!["X".into(), "Y".into()],
        rows,
    }
}

fn scans_of(rows: &[&SolRow]) -> Vec<i32> {
    let mut v: Vec<i32> = rows.iter().map(|r| r.scan).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Series per scan of `rows` (both correlations, same colour; unflagged channels only).
fn scan_series(rows: &[&SolRow], scans: &[i32], average: bool) -> Vec<Series> {
    scans
        .iter()
        .enumerate()
        .map(|(k, scan)| {
            let mut s = Series::new(format!("scan {scan}"), palette::qual(k), Mark::Line);
            let rs: Vec<&&SolRow> = rows.iter().filter(|r| r.scan == *scan).collect();
            if average {
                // Mean over antennas and correlations, per channel.
                let nchan = rs.iter().map(|r| r.freq_hz.len()).max().unwrap_or(0);
                for c in 0..nchan {
                    let (mut sum, mut n, mut x) = (0.0, 0usize, f64::NAN);
                    for r in &rs {
                        x = r.freq_hz.get(c).map_or(x, |f| f * 1e-9);
                        for (p, f) in r.amp.iter().zip(&r.flag) {
                            if let (Some(v), Some(false)) = (p.get(c), f.get(c)) {
                                sum += v;
                                n += 1;
                            }
                        }
                    }
                    if n > 0 {
                        s.points.push((x, sum / n as f64));
                    }
                }
            } else {
                for r in rs {
                    for (p, f) in r.amp.iter().zip(&r.flag) {
                        for (c, v) in p.iter().enumerate() {
                            let x = r.freq_hz.get(c).map_or(c as f64, |f| f * 1e-9);
                            let y = if f.get(c).copied().unwrap_or(false) {
                                f64::NAN
                            } else {
                                *v
                            };
                            s.points.push((x, y));
                        }
                        s.points.push((f64::NAN, f64::NAN));
                    }
                }
            }
            s
        })
        .collect()
}

/// Figures of Tsys spectra: per spw (and page of antennas for [`TsysLayout::PerAntenna`]).
pub fn tsys_pages(cal: &CalData, layout: TsysLayout) -> Vec<NamedFigure> {
    let mut out = Vec::new();
    for spw in cal.spws() {
        let rows: Vec<&SolRow> = cal.rows.iter().filter(|r| r.spw == spw).collect();
        let scans = scans_of(&rows);
        let panel = |title: String, rs: &[&SolRow], average: bool| {
            let mut p = Panel::new(title, "Frequency (GHz)", "Tsys (K)");
            p.series = scan_series(rs, &scans, average);
            p.legend = true;
            p
        };
        match layout {
            TsysLayout::Averaged => {
                let title = format!(
                    "{}: Tsys vs frequency, spw {spw}, mean of {} antennas, coloured by scan",
                    cal.table,
                    cal.antennas().len()
                );
                out.push(NamedFigure {
                    stem: format!("spw{spw}"),
                    figure: Figure::single(title, panel(format!("spw {spw}"), &rows, true)),
                });
            }
            TsysLayout::PerAntenna => {
                let ants = cal.antennas();
                let all = pages(&ants, PER_PAGE);
                let npages = all.len();
                for (k, names) in all.into_iter().enumerate() {
                    let panels = names
                        .iter()
                        .map(|a| {
                            let rs: Vec<&SolRow> =
                                rows.iter().copied().filter(|r| &r.antenna == a).collect();
                            panel(format!("Antenna {a}, spw {spw}"), &rs, false)
                        })
                        .collect();
                    let title = format!(
                        "{}: Tsys vs frequency, spw {spw}, coloured by scan (page {}/{npages})",
                        cal.table,
                        k + 1
                    );
                    out.push(NamedFigure {
                        stem: format!("spw{spw}_page{}", k + 1),
                        figure: Figure::grid(title, panels, 4),
                    });
                }
            }
        }
    }
    out
}
