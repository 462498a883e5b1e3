//! [`VisPoints`] → [`Figure`]: one panel, x/y as asked, a series per colour group (field, spw,
//! correlation, scan or antenna), flagged points in grey underneath.

use super::{ColorBy, VisPoint, VisPoints, XAxis, YAxis};
use crate::figure::{AxisFmt, Figure, Mark, Panel, Series};
use crate::palette;
use std::collections::BTreeMap;

/// x value and axis label of a point.
pub fn x_of(p: &VisPoint, x: XAxis) -> f64 {
    match x {
        XAxis::Time => p.time_s,
        XAxis::UvDist => p.uvdist_m,
        XAxis::Freq => p.freq_hz * 1e-9,
        XAxis::Channel => 0.5 * (p.chan.0 + p.chan.1) as f64,
    }
}

pub fn y_of(p: &VisPoint, y: YAxis) -> f64 {
    match y {
        YAxis::Amp => p.amp,
        YAxis::Phase => p.phase_deg,
    }
}

fn x_label(x: XAxis) -> &'static str {
    match x {
        XAxis::Time => "Time (UTC)",
        XAxis::UvDist => "UV distance (m)",
        XAxis::Freq => "Frequency (GHz)",
        XAxis::Channel => "Channel",
    }
}

fn group_label(v: &VisPoints, p: &VisPoint, by: ColorBy) -> (i64, String) {
    match by {
        ColorBy::Field => (i64::from(p.field), v.field_name(p.field)),
        ColorBy::Spw => (i64::from(p.spw), format!("spw {}", p.spw)),
        ColorBy::Corr => (
            p.corr as i64,
            v.corr_names.get(p.corr).cloned().unwrap_or_default(),
        ),
        ColorBy::Scan => (i64::from(p.scan), format!("scan {}", p.scan)),
        ColorBy::Antenna1 => (i64::from(p.ant1), v.antenna_name(p.ant1)),
    }
}

/// The figure of `v` with `x`, `y`, coloured by `by`.
pub fn vis_figure(v: &VisPoints, x: XAxis, y: YAxis, by: ColorBy) -> Figure {
    let y_label = match (y, v.column.as_str()) {
        (YAxis::Amp, "DATA") => "Amplitude (uncalibrated)",
        (YAxis::Amp, _) => "Amplitude (Jy)",
        (YAxis::Phase, _) => "Phase (deg)",
    };
    let mut groups: BTreeMap<i64, Series> = BTreeMap::new();
    let mut flagged = Series::new("flagged", palette::FLAGGED, Mark::Dots);
    for p in &v.points {
        let pt = (x_of(p, x), y_of(p, y));
        if p.flagged {
            flagged.points.push(pt);
            continue;
        }
        let (k, label) = group_label(v, p, by);
        let n = groups.len();
        groups
            .entry(k)
            .or_insert_with(|| Series::new(label, palette::qual(n), Mark::Dots))
            .points
            .push(pt);
    }
    // Colours in key order, not first-seen order.
    let mut series: Vec<Series> = groups.into_values().collect();
    for (i, s) in series.iter_mut().enumerate() {
        s.color = palette::qual(i);
    }
    let y_name = match y {
        YAxis::Amp => "Amp",
        YAxis::Phase => "Phase",
    };
    let x_name = match x {
        XAxis::Time => "Time",
        XAxis::UvDist => "UVdist",
        XAxis::Freq => "Frequency",
        XAxis::Channel => "Channel",
    };
    let mut p = Panel::new(
        if v.description.is_empty() {
            "all data".to_string()
        } else {
            v.description.clone()
        },
        x_label(x),
        y_label,
    );
    if x == XAxis::Time {
        p.x_fmt = AxisFmt::TimeUtc;
    }
    if y == YAxis::Phase {
        p.y_range = Some((-180.0, 180.0));
    }
    if !flagged.points.is_empty() {
        p.series.push(flagged);
    }
    p.series.extend(series);
    p.legend = true;
    Figure::single(format!("{} {}: {y_name} vs {x_name}", v.ms, v.column), p)
}
