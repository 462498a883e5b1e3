//! `locate` (the tutorial's "highlight and locate"): find the points beyond N robust sigma of
//! their group, list the rows behind them, and aggregate them into the few flag commands that
//! remove them: an antenna whose baselines are mostly outliers in a (spw, scan) is one
//! command per (antenna, spw) with its scans; channels bad on most baselines are one command
//! per spw; what is left is listed row by row.
//!
//! Statistics are per group (field, spw, correlation, channel bin): median and
//! 1.4826 × MAD of the amplitude, since a point-source calibrator is flat in amplitude.

use crate::figure::{Figure, Mark, Series};
use crate::palette;
use crate::vis::figure::{vis_figure, x_of};
use crate::vis::{ColorBy, VisPoint, VisPoints, XAxis, YAxis};
use std::collections::BTreeMap;

/// Tuning of the outlier search and aggregation.
#[derive(Debug, Clone, Copy)]
pub struct LocateOptions {
    /// A point is an outlier when |amp − median| > nsigma × robust sigma.
    pub nsigma: f64,
    /// An antenna (channel) is blamed in a (spw, scan) (spw) when at least this fraction of its
    /// points are outliers ...
    pub min_fraction: f64,
    /// ... and at least this many times the median fraction over antennas (channels).
    pub contrast: f64,
}

impl Default for LocateOptions {
    fn default() -> Self {
        Self {
            nsigma: 5.0,
            min_fraction: 0.3,
            contrast: 3.0,
        }
    }
}

/// One outlying point.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlier {
    pub point: VisPoint,
    /// Deviation in robust sigma (signed).
    pub nsigma: f64,
}

/// One aggregated flag command.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagGroup {
    /// Antenna name, or empty for a channel group.
    pub antenna: String,
    /// Spw ids, ascending.
    pub spws: Vec<u32>,
    /// Channel ranges of the spw (`spw='20:0~1'`), empty for whole spws.
    pub chans: Vec<(usize, usize)>,
    /// Scans, ascending; empty = all scans.
    pub scans: Vec<i32>,
    pub n_outliers: usize,
    pub n_points: usize,
}

impl FlagGroup {
    fn spw_expr(&self) -> String {
        let spws = join(&self.spws);
        if self.chans.is_empty() {
            return spws;
        }
        let ch: Vec<String> = self
            .chans
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}~{b}")
                }
            })
            .collect();
        format!("{spws}:{}", ch.join(";"))
    }

    /// A recipe flagdata command line: `{ mode = "manual", antenna = "CM05", spw = "20", scan = "8,9,12" }`.
    pub fn recipe_line(&self) -> String {
        let mut s = String::from("{ mode = \"manual\"");
        if !self.antenna.is_empty() {
            s.push_str(&format!(", antenna = \"{}\"", self.antenna));
        }
        s.push_str(&format!(", spw = \"{}\"", self.spw_expr()));
        if !self.scans.is_empty() {
            s.push_str(&format!(", scan = \"{}\"", join(&self.scans)));
        }
        s.push_str(" }");
        s
    }

    /// The same as a CASA call.
    pub fn casa_line(&self, vis: &str) -> String {
        let mut s = format!("flagdata(vis='{vis}', mode='manual'");
        if !self.antenna.is_empty() {
            s.push_str(&format!(", antenna='{}'", self.antenna));
        }
        s.push_str(&format!(", spw='{}'", self.spw_expr()));
        if !self.scans.is_empty() {
            s.push_str(&format!(", scan='{}'", join(&self.scans)));
        }
        s.push_str(", flagbackup=False)");
        s
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// Everything `locate` found.
#[derive(Debug, Clone, Default)]
pub struct LocateResult {
    pub n_points: usize,
    /// All outliers, largest deviation first.
    pub outliers: Vec<Outlier>,
    pub groups: Vec<FlagGroup>,
    /// Outliers explained by no group, largest deviation first.
    pub unexplained: Vec<Outlier>,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// (median, robust sigma) of a group's amplitudes.
pub fn robust_stats(amps: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = amps.iter().copied().filter(|x| x.is_finite()).collect();
    let med = median(&mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&mut dev);
    (
        med,
        (1.4826 * mad).max(1e-6 * med.abs()).max(f64::MIN_POSITIVE),
    )
}

type GroupKey = (u32, u32, usize, usize);

fn group_key(p: &VisPoint) -> GroupKey {
    (p.field, p.spw, p.corr, p.chan.0)
}

/// Find outliers among the unflagged points of `v` and aggregate them.
pub fn locate(v: &VisPoints, opts: &LocateOptions) -> LocateResult {
    let pts: Vec<&VisPoint> = v.points.iter().filter(|p| !p.flagged).collect();
    let mut groups: BTreeMap<GroupKey, Vec<f64>> = BTreeMap::new();
    for p in &pts {
        groups.entry(group_key(p)).or_default().push(p.amp);
    }
    let stats: BTreeMap<GroupKey, (f64, f64)> =
        groups.iter().map(|(k, a)| (*k, robust_stats(a))).collect();
    let mut is_out = vec![false; pts.len()];
    let mut outliers = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        let (med, sig) = stats[&group_key(p)];
        let d = (p.amp - med) / sig;
        if d.abs() > opts.nsigma {
            is_out[i] = true;
            outliers.push(Outlier {
                point: (*p).clone(),
                nsigma: d,
            });
        }
    }
    let bad_ant = blame_antennas(&pts, &is_out, opts);
    let mut explained: Vec<bool> = pts
        .iter()
        .map(|p| {
            bad_ant.contains_key(&(p.ant1, p.spw, p.scan))
                || bad_ant.contains_key(&(p.ant2, p.spw, p.scan))
        })
        .collect();
    let mut result_groups = antenna_groups(v, &bad_ant);
    let chan_groups = blame_channels(&pts, &is_out, &mut explained, opts);
    result_groups.extend(chan_groups);
    let mut unexplained: Vec<Outlier> = pts
        .iter()
        .enumerate()
        .filter(|(i, _)| is_out[*i] && !explained[*i])
        .map(|(_, p)| {
            let (med, sig) = stats[&group_key(p)];
            Outlier {
                point: (*p).clone(),
                nsigma: (p.amp - med) / sig,
            }
        })
        .collect();
    let by_dev = |a: &Outlier, b: &Outlier| b.nsigma.abs().total_cmp(&a.nsigma.abs());
    outliers.sort_by(by_dev);
    unexplained.sort_by(by_dev);
    LocateResult {
        n_points: pts.len(),
        outliers,
        groups: result_groups,
        unexplained,
    }
}

/// (antenna id, spw, scan) → (outliers, points) for the antennas blamed.
type AntBlame = BTreeMap<(i32, u32, i32), (usize, usize)>;

fn blame_antennas(pts: &[&VisPoint], is_out: &[bool], opts: &LocateOptions) -> AntBlame {
    // (spw, scan) → antenna → (outliers, points)
    let mut counts: BTreeMap<(u32, i32), BTreeMap<i32, (usize, usize)>> = BTreeMap::new();
    for (p, out) in pts.iter().zip(is_out) {
        if p.ant1 < 0 {
            continue;
        }
        let m = counts.entry((p.spw, p.scan)).or_default();
        for a in [p.ant1, p.ant2] {
            let e = m.entry(a).or_default();
            e.0 += usize::from(*out);
            e.1 += 1;
        }
    }
    let mut bad = AntBlame::new();
    for ((spw, scan), per_ant) in counts {
        let mut fr: Vec<f64> = per_ant
            .values()
            .map(|(o, n)| *o as f64 / *n as f64)
            .collect();
        let med = median(&mut fr);
        for (a, (o, n)) in per_ant {
            let f = o as f64 / n as f64;
            if f >= opts.min_fraction && f >= opts.contrast * med {
                bad.insert((a, spw, scan), (o, n));
            }
        }
    }
    bad
}

/// (scans, outliers, points) of one antenna in one spw.
type ScanCounts = (Vec<i32>, usize, usize);
/// (first, last) channel → (outliers, points).
type ChanCounts = BTreeMap<(usize, usize), (usize, usize)>;

fn antenna_groups(v: &VisPoints, bad: &AntBlame) -> Vec<FlagGroup> {
    // antenna → spw → (scans, outliers, points)
    let mut per: BTreeMap<i32, BTreeMap<u32, ScanCounts>> = BTreeMap::new();
    for (&(a, spw, scan), &(o, n)) in bad {
        let e = per.entry(a).or_default().entry(spw).or_default();
        e.0.push(scan);
        e.1 += o;
        e.2 += n;
    }
    let mut out: Vec<FlagGroup> = Vec::new();
    for (a, spws) in per {
        for (spw, (scans, o, n)) in spws {
            // Same antenna and scans in another spw: one command with both spws.
            if let Some(g) = out
                .iter_mut()
                .find(|g| g.antenna == v.antenna_name(a) && g.scans == scans && g.chans.is_empty())
            {
                g.spws.push(spw);
                g.n_outliers += o;
                g.n_points += n;
                continue;
            }
            out.push(FlagGroup {
                antenna: v.antenna_name(a),
                spws: vec![spw],
                chans: Vec::new(),
                scans,
                n_outliers: o,
                n_points: n,
            });
        }
    }
    out
}

/// Channels whose remaining points are mostly outliers on all baselines (e.g. band edges).
fn blame_channels(
    pts: &[&VisPoint],
    is_out: &[bool],
    explained: &mut [bool],
    opts: &LocateOptions,
) -> Vec<FlagGroup> {
    let mut counts: BTreeMap<u32, ChanCounts> = BTreeMap::new();
    for ((p, out), ex) in pts.iter().zip(is_out).zip(explained.iter()) {
        if *ex {
            continue;
        }
        let e = counts.entry(p.spw).or_default().entry(p.chan).or_default();
        e.0 += usize::from(*out);
        e.1 += 1;
    }
    let mut groups = Vec::new();
    for (spw, per_chan) in counts {
        if per_chan.len() < 3 {
            continue;
        }
        let mut fr: Vec<f64> = per_chan
            .values()
            .map(|(o, n)| *o as f64 / *n as f64)
            .collect();
        let med = median(&mut fr);
        let mut chans = Vec::new();
        let (mut o_sum, mut n_sum) = (0, 0);
        for (ch, (o, n)) in per_chan {
            let f = o as f64 / n as f64;
            if f >= opts.min_fraction.max(0.5) && f >= opts.contrast * med {
                chans.push(ch);
                o_sum += o;
                n_sum += n;
            }
        }
        if chans.is_empty() {
            continue;
        }
        for (p, ex) in pts.iter().zip(explained.iter_mut()) {
            if p.spw == spw && chans.contains(&p.chan) {
                *ex = true;
            }
        }
        groups.push(FlagGroup {
            antenna: String::new(),
            spws: vec![spw],
            chans: merge_ranges(&chans),
            scans: Vec::new(),
            n_outliers: o_sum,
            n_points: n_sum,
        });
    }
    groups
}

/// Amplitude vs `x` of all points, the outliers in red on top (the "highlight" view).
pub fn highlight_figure(v: &VisPoints, res: &LocateResult, x: XAxis) -> Figure {
    let mut fig = vis_figure(v, x, YAxis::Amp, ColorBy::Field);
    let mut s = Series::new(
        format!("{} outliers", res.outliers.len()),
        palette::OUTLIER,
        Mark::Dots,
    );
    s.points = res
        .outliers
        .iter()
        .map(|o| (x_of(&o.point, x), o.point.amp))
        .collect();
    if let Some(p) = fig.panels.first_mut() {
        p.series.push(s);
    }
    fig.title = format!("{} (locate)", fig.title);
    fig
}

/// Merge sorted channel ranges that touch.
fn merge_ranges(r: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in r {
        match out.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_sigma_ignores_a_few_outliers() {
        let mut a: Vec<f64> = (0..100)
            .map(|i| 1.0 + 0.01 * ((i % 7) as f64 - 3.0))
            .collect();
        a.extend([10.0, 20.0, 0.0]);
        let (m, s) = robust_stats(&a);
        assert!((m - 1.0).abs() < 0.02, "{m}");
        assert!(s < 0.05, "{s}");
    }

    #[test]
    fn commands_are_formatted_for_recipe_and_casa() {
        let g = FlagGroup {
            antenna: "CM05".into(),
            spws: vec![20],
            chans: vec![],
            scans: vec![8, 9, 12],
            n_outliers: 1,
            n_points: 1,
        };
        assert_eq!(
            g.recipe_line(),
            r#"{ mode = "manual", antenna = "CM05", spw = "20", scan = "8,9,12" }"#
        );
        assert_eq!(
            g.casa_line("x.ms"),
            "flagdata(vis='x.ms', mode='manual', antenna='CM05', spw='20', scan='8,9,12', flagbackup=False)"
        );
        assert_eq!(
            merge_ranges(&[(0, 0), (1, 1), (30, 31)]),
            vec![(0, 1), (30, 31)]
        );
    }
}
