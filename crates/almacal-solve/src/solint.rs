//! Solution intervals: parsing CASA `solint` strings (`inf`, `int`, `30s`, `2min`,
//! `inf,20ch`, `inf,7.8MHz`) and `combine`, gridding integrations into time solution
//! intervals exactly as CASA's iterator does (algorithms.md §1.4), and binning channels for
//! frequency solints plus the caltable frequency metadata of solved spws (§1.4, §2.3).

use crate::error::{Result, SolveError};
use crate::not_positive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;

/// The time part of a solint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TimeSolint {
    /// `inf` or empty: one solution per iteration chunk (scan/field/spw unless combined).
    Inf,
    /// Anything containing `int`: one solution per integration.
    Int,
    /// A finite interval in seconds.
    Seconds(f64),
}

/// The frequency part of a solint (bandpass only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum FreqSolint {
    /// One solution per data channel.
    PerChannel,
    /// `Nch` (or a bare number): N data channels per solution channel.
    Chans(usize),
    /// A width in Hz; converted with the first channel's |width| (floor, min 1).
    Hz(f64),
}

/// A parsed `solint`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Solint {
    pub time: TimeSolint,
    pub freq: FreqSolint,
}

fn parse_number_unit(s: &str) -> Option<(f64, String)> {
    let s = s.trim();
    let split = s
        .find(|c: char| {
            !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')
        })
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    Some((v, unit.trim().to_ascii_lowercase()))
}

fn parse_time_part(full: &str, t: &str) -> Result<TimeSolint> {
    let t = t.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("inf") {
        return Ok(TimeSolint::Inf);
    }
    if t.to_ascii_lowercase().contains("int") {
        return Ok(TimeSolint::Int);
    }
    let (v, unit) = parse_number_unit(t)
        .ok_or_else(|| SolveError::Solint(full.into(), format!("cannot parse time '{t}'")))?;
    let scale = match unit.as_str() {
        "" | "s" | "sec" => 1.0,
        "ms" => 1e-3,
        "min" | "m" => 60.0,
        "h" | "hr" => 3600.0,
        "d" => 86400.0,
        other => {
            return Err(SolveError::Solint(
                full.into(),
                format!("unknown time unit '{other}'"),
            ))
        }
    };
    let secs = v * scale;
    if not_positive(secs) || !secs.is_finite() {
        return Err(SolveError::Solint(
            full.into(),
            "interval must be positive".into(),
        ));
    }
    Ok(TimeSolint::Seconds(secs))
}

fn parse_freq_part(full: &str, f: &str) -> Result<FreqSolint> {
    let f = f.trim();
    if f.is_empty() {
        return Ok(FreqSolint::PerChannel);
    }
    let (v, unit) = parse_number_unit(f).ok_or_else(|| {
        SolveError::Solint(full.into(), format!("cannot parse frequency part '{f}'"))
    })?;
    if not_positive(v) {
        return Err(SolveError::Solint(
            full.into(),
            "frequency solint must be positive".into(),
        ));
    }
    let hz = match unit.as_str() {
        "" | "ch" | "chan" | "chans" => {
            if v.fract() != 0.0 {
                return Err(SolveError::Solint(
                    full.into(),
                    "channel count must be an integer".into(),
                ));
            }
            return Ok(FreqSolint::Chans(v as usize));
        }
        "hz" => v,
        "khz" => v * 1e3,
        "mhz" => v * 1e6,
        "ghz" => v * 1e9,
        other => {
            return Err(SolveError::Solint(
                full.into(),
                format!("unknown frequency unit '{other}'"),
            ))
        }
    };
    Ok(FreqSolint::Hz(hz))
}

impl Solint {
    /// Parse a CASA solint string such as `int`, `inf`, `30s`, `2min`, `inf,20ch`, `int,7.8MHz`.
    pub fn parse(s: &str) -> Result<Self> {
        let mut parts = s.splitn(2, ',');
        let t = parts.next().unwrap_or("");
        let time = parse_time_part(s, t)?;
        let freq = match parts.next() {
            Some(f) => parse_freq_part(s, f)?,
            None => FreqSolint::PerChannel,
        };
        Ok(Self { time, freq })
    }
}

/// `combine`: which iteration axes are merged into one solution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combine {
    pub scan: bool,
    pub field: bool,
    pub spw: bool,
    pub obs: bool,
}

impl Combine {
    /// Parse `''`, `'scan'`, `'scan,spw'`, ...
    pub fn parse(s: &str) -> Result<Self> {
        let mut c = Self::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "scan" => c.scan = true,
                "field" => c.field = true,
                "spw" => c.spw = true,
                "obs" => c.obs = true,
                other => return Err(SolveError::Combine(s.into(), other.into())),
            }
        }
        Ok(c)
    }
}

/// One integration (a distinct TIME of one scan/field/spw) to be assigned to an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSample {
    pub time_s: f64,
    pub obs: i32,
    pub scan: i32,
    pub field: i32,
    pub spw: i32,
}

/// A solution interval: its members and the metadata CASA writes (from its first chunk).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Indices into the input samples, in time order.
    pub samples: Vec<usize>,
    pub obs: i32,
    pub scan: i32,
    pub field: i32,
    pub spw: i32,
    /// Distinct spws in the interval (ascending); more than one only with `combine` spw.
    pub spws: Vec<i32>,
}

type GroupKey = (Option<i32>, Option<i32>, Option<i32>, Option<i32>);

/// Grid samples into solution intervals (algorithms.md §1.4).
///
/// Groups are the CASA iteration chunks (obs, scan, field, spw minus the combined axes),
/// sorted in that order; within a group, `Inf` makes one interval, `Int` one per distinct
/// time, and a finite solint a regular grid anchored 0.01 s before the first time of the
/// scan (a new anchor at each field change, and with combined scans at a scan change whose
/// gap exceeds the solint). Intervals are returned in group order, then time order.
pub fn grid_intervals(
    samples: &[TimeSample],
    solint: TimeSolint,
    combine: Combine,
) -> Vec<Interval> {
    let key = |s: &TimeSample| -> GroupKey {
        (
            (!combine.obs).then_some(s.obs),
            (!combine.scan).then_some(s.scan),
            (!combine.field).then_some(s.field),
            (!combine.spw).then_some(s.spw),
        )
    };
    let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        groups.entry(key(s)).or_default().push(i);
    }
    let mut out = Vec::new();
    for (_, mut idx) in groups {
        idx.sort_by(|&a, &b| {
            samples[a]
                .time_s
                .total_cmp(&samples[b].time_s)
                .then(a.cmp(&b))
        });
        // (bound index, bin) -> interval, keeping order of first appearance.
        let mut cells: Vec<((usize, i64), Vec<usize>)> = Vec::new();
        let mut bound_idx = 0usize;
        let mut bound = f64::NAN;
        let mut prev: Option<&TimeSample> = None;
        for &i in &idx {
            let s = &samples[i];
            let cell_key = match solint {
                TimeSolint::Inf => (0, 0),
                TimeSolint::Int => {
                    // One per distinct time: use the time's bit pattern order via position.
                    let new = match prev {
                        Some(p) => p.time_s != s.time_s,
                        None => true,
                    };
                    if new {
                        bound_idx += 1;
                    }
                    (bound_idx, 0)
                }
                TimeSolint::Seconds(sol) => {
                    let new_bound = match prev {
                        None => true,
                        Some(p) => {
                            p.field != s.field
                                || (p.scan != s.scan
                                    && (!combine.scan || s.time_s - p.time_s > sol))
                                || p.obs != s.obs
                        }
                    };
                    if new_bound {
                        bound_idx += 1;
                        bound = s.time_s - 0.01;
                    }
                    (bound_idx, ((s.time_s - bound) / sol).floor() as i64)
                }
            };
            prev = Some(s);
            match cells.last_mut() {
                Some((k, v)) if *k == cell_key => v.push(i),
                _ => {
                    if let Some((_, v)) = cells.iter_mut().find(|(k, _)| *k == cell_key) {
                        v.push(i)
                    } else {
                        cells.push((cell_key, vec![i]))
                    }
                }
            }
        }
        for (_, members) in cells {
            let first = samples[members[0]];
            let mut spws: Vec<i32> = members.iter().map(|&m| samples[m].spw).collect();
            spws.sort_unstable();
            spws.dedup();
            out.push(Interval {
                samples: members,
                obs: first.obs,
                scan: first.scan,
                field: first.field,
                spw: first.spw,
                spws,
            });
        }
    }
    out
}

/// Number of data channels per solution channel for a frequency solint.
pub fn chans_per_bin(freq: FreqSolint, chan_width0_hz: f64) -> usize {
    match freq {
        FreqSolint::PerChannel => 1,
        FreqSolint::Chans(n) => n.max(1),
        FreqSolint::Hz(hz) => {
            let w = chan_width0_hz.abs();
            if w > 0.0 {
                ((hz / w).floor() as usize).max(1)
            } else {
                1
            }
        }
    }
}

/// Channel bins (ranges into the selected channels) starting at the first selected channel;
/// the last bin may be partial and is kept (§2.3).
pub fn freq_bins(nchan: usize, per_bin: usize) -> Vec<Range<usize>> {
    let n = per_bin.max(1);
    (0..nchan)
        .step_by(n)
        .map(|s| s..(s + n).min(nchan))
        .collect()
}

/// Frequency axis of a solution channel as written to the caltable SPECTRAL_WINDOW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolChan {
    pub freq_hz: f64,
    /// Always positive (CASA sums |width|, also for LSB windows).
    pub width_hz: f64,
}

/// Bandpass bins: arithmetic mean of the bin's channel frequencies, summed |widths|.
pub fn bin_channels(freq_hz: &[f64], width_hz: &[f64], bins: &[Range<usize>]) -> Vec<SolChan> {
    bins.iter()
        .map(|b| {
            let n = b.len().max(1) as f64;
            SolChan {
                freq_hz: freq_hz[b.clone()].iter().sum::<f64>() / n,
                width_hz: width_hz[b.clone()].iter().map(|w| w.abs()).sum(),
            }
        })
        .collect()
}

/// A G/T solution channel: width-weighted mean frequency, summed |widths|.
pub fn single_channel(freq_hz: &[f64], width_hz: &[f64]) -> SolChan {
    let wsum: f64 = width_hz.iter().map(|w| w.abs()).sum();
    let freq = if wsum > 0.0 {
        freq_hz
            .iter()
            .zip(width_hz)
            .map(|(f, w)| f * w.abs())
            .sum::<f64>()
            / wsum
    } else if freq_hz.is_empty() {
        0.0
    } else {
        freq_hz.iter().sum::<f64>() / freq_hz.len() as f64
    };
    SolChan {
        freq_hz: freq,
        width_hz: wsum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(times: &[f64], scan: i32, field: i32) -> Vec<TimeSample> {
        times
            .iter()
            .map(|&t| TimeSample {
                time_s: t,
                obs: 0,
                scan,
                field,
                spw: 0,
            })
            .collect()
    }

    #[test]
    fn parses_casa_solints() {
        assert_eq!(Solint::parse("inf").unwrap().time, TimeSolint::Inf);
        assert_eq!(Solint::parse("").unwrap().time, TimeSolint::Inf);
        assert_eq!(Solint::parse("int").unwrap().time, TimeSolint::Int);
        assert_eq!(
            Solint::parse("30s").unwrap().time,
            TimeSolint::Seconds(30.0)
        );
        assert_eq!(
            Solint::parse("2min").unwrap().time,
            TimeSolint::Seconds(120.0)
        );
        assert_eq!(Solint::parse("45").unwrap().time, TimeSolint::Seconds(45.0));
        let s = Solint::parse("inf,20ch").unwrap();
        assert_eq!((s.time, s.freq), (TimeSolint::Inf, FreqSolint::Chans(20)));
        let s = Solint::parse("int,7.8MHz").unwrap();
        assert_eq!(s.freq, FreqSolint::Hz(7.8e6));
        assert!(Solint::parse("abc").is_err());
        assert!(Solint::parse("10parsec").is_err());
        assert!(Solint::parse("inf,0ch").is_err());
        assert!(Solint::parse("-5s").is_err());
    }

    #[test]
    fn parses_combine() {
        let c = Combine::parse("scan, spw").unwrap();
        assert!(c.scan && c.spw && !c.field && !c.obs);
        assert!(Combine::parse("time").is_err());
    }

    #[test]
    fn finite_solint_grid_matches_casa_example() {
        // Integrations at 0..50 s, solint 25 s -> 3 intervals of 3, 2, 1 integrations.
        let s = samples(&[0., 10., 20., 30., 40., 50.], 1, 0);
        let iv = grid_intervals(&s, TimeSolint::Seconds(25.0), Combine::default());
        let sizes: Vec<usize> = iv.iter().map(|i| i.samples.len()).collect();
        assert_eq!(sizes, vec![3, 2, 1]);
    }

    #[test]
    fn inf_int_and_combine_scan() {
        let mut s = samples(&[0., 10., 20.], 1, 0);
        s.extend(samples(&[300., 310.], 2, 0));
        s.extend(samples(&[600., 610.], 3, 0));
        assert_eq!(
            grid_intervals(&s, TimeSolint::Inf, Combine::default()).len(),
            3
        );
        assert_eq!(
            grid_intervals(&s, TimeSolint::Int, Combine::default()).len(),
            7
        );
        let cs = Combine::parse("scan").unwrap();
        let one = grid_intervals(&s, TimeSolint::Inf, cs);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].scan, 1);
        // Scans separated by gaps > solint restart the grid: one interval per scan.
        assert_eq!(grid_intervals(&s, TimeSolint::Seconds(130.0), cs).len(), 3);
    }

    #[test]
    fn combine_spw_merges_and_reports_spws() {
        let mut s = samples(&[0., 10.], 1, 0);
        for x in samples(&[0., 10.], 1, 0) {
            s.push(TimeSample { spw: 3, ..x });
        }
        let iv = grid_intervals(&s, TimeSolint::Inf, Combine::parse("spw").unwrap());
        assert_eq!(iv.len(), 1);
        assert_eq!(iv[0].spws, vec![0, 3]);
        assert_eq!(
            grid_intervals(&s, TimeSolint::Inf, Combine::default()).len(),
            2
        );
    }

    #[test]
    fn frequency_bins_and_metadata() {
        assert_eq!(chans_per_bin(FreqSolint::Chans(4), 1.0), 4);
        assert_eq!(chans_per_bin(FreqSolint::Hz(7.8e6), -1.953125e6), 3);
        assert_eq!(chans_per_bin(FreqSolint::Hz(1.0), 1e6), 1);
        let b = freq_bins(16, 5);
        assert_eq!(b, vec![0..5, 5..10, 10..15, 15..16]);
        // 16 x 15.625 MHz from 100 GHz, 'inf,4ch' -> offsets 23.4375 MHz etc.
        let f: Vec<f64> = (0..16).map(|i| 100e9 + 15.625e6 * i as f64).collect();
        let w = vec![15.625e6; 16];
        let m = bin_channels(&f, &w, &freq_bins(16, 4));
        assert!((m[0].freq_hz - (100e9 + 23.4375e6)).abs() < 1e-3);
        assert_eq!(m[0].width_hz, 62.5e6);
        // LSB: descending frequencies, negative widths -> positive summed width.
        let fl: Vec<f64> = f.iter().rev().copied().collect();
        let wl = vec![-15.625e6; 16];
        let ml = bin_channels(&fl, &wl, &freq_bins(16, 4));
        assert!(ml[0].freq_hz > ml[1].freq_hz);
        assert!(ml.iter().all(|c| c.width_hz == 62.5e6));
        let g = single_channel(&fl, &wl);
        assert!((g.freq_hz - (100e9 + 7.5 * 15.625e6)).abs() < 1e-3);
        assert_eq!(g.width_hz, 250e6);
    }
}
