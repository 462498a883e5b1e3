//! The `flagcmd` plot (CASA's flagcmd `action='plot'`): one horizontal bar per (antenna,
//! time range) of the selected flag commands, antenna on the y axis against UTC time,
//! coloured by REASON. Drawn from the stage's report (`bars`: antenna, reason, start_s,
//! end_s), so the plot never re-reads the MS.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::figure::{AxisFmt, Figure, Mark, Panel, Series};
use crate::palette;

/// The figure of a flagcmd report; `None` when it has no bars.
pub fn flagcmd_figure(report: &Value, title: &str) -> Option<Figure> {
    let bars = report.get("bars")?.as_array()?;
    let mut antennas: Vec<String> = bars
        .iter()
        .filter_map(|b| b.get("antenna")?.as_str().map(str::to_string))
        .collect();
    antennas.sort();
    antennas.dedup();
    let y_of = |a: &str| antennas.iter().position(|x| x == a).unwrap_or(0) as f64;
    // Bars of one reason form one series, separated by NaN gaps.
    let mut by_reason: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut labels = Series::new("antenna", palette::REFERENCE, Mark::Labelled);
    let mut t_lo = f64::INFINITY;
    for b in bars {
        let (Some(a), Some(t0), Some(t1)) = (
            b.get("antenna").and_then(Value::as_str),
            b.get("start_s").and_then(Value::as_f64),
            b.get("end_s").and_then(Value::as_f64),
        ) else {
            continue;
        };
        let reason = b.get("reason").and_then(Value::as_str).unwrap_or("");
        let y = y_of(a);
        let pts = by_reason.entry(reason.to_string()).or_default();
        pts.extend([(t0, y), (t1, y), (f64::NAN, f64::NAN)]);
        t_lo = t_lo.min(t0);
    }
    if by_reason.is_empty() {
        return None;
    }
    for (i, a) in antennas.iter().enumerate() {
        labels.points.push((t_lo, i as f64));
        labels.point_labels.push(a.clone());
    }
    let mut p = Panel::new(title, "Time (UTC)", "Antenna");
    p.x_fmt = AxisFmt::TimeUtc;
    p.legend = true;
    p.y_range = Some((-1.0, antennas.len() as f64));
    for (i, (reason, pts)) in by_reason.into_iter().enumerate() {
        let label = if reason.is_empty() {
            "(no reason)".to_string()
        } else {
            reason
        };
        let mut s = Series::new(label, palette::qual(i), Mark::Line);
        s.points = pts;
        p.series.push(s);
    }
    p.series.push(labels);
    Some(Figure::single(title, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_antenna_and_range() {
        let report = serde_json::json!({ "bars": [
            { "antenna": "CM03", "reason": "Focus", "start_s": 10.0, "end_s": 20.0 },
            { "antenna": "CM08", "reason": "Focus", "start_s": 30.0, "end_s": 35.0 },
            { "antenna": "CM03", "reason": "Motor", "start_s": 40.0, "end_s": 41.0 },
        ]});
        let f = flagcmd_figure(&report, "t").expect("figure");
        let p = &f.panels[0];
        // Two reasons and the antenna labels.
        assert_eq!(p.series.len(), 3);
        assert_eq!(p.series[0].label, "Focus");
        let focus: Vec<_> = p.series[0]
            .points
            .iter()
            .filter(|p| p.0.is_finite())
            .collect();
        assert_eq!(
            focus,
            vec![&(10.0, 0.0), &(20.0, 0.0), &(30.0, 1.0), &(35.0, 1.0)]
        );
        assert_eq!(p.series[2].point_labels, vec!["CM03", "CM08"]);
        assert!(flagcmd_figure(&serde_json::json!({ "bars": [] }), "t").is_none());
    }
}
