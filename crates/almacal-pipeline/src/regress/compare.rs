//! Comparing current metrics with a reference: per-kind tolerances, wrapped phases,
//! missing and unexpected metrics, and a readable diff.

use super::{Kind, Metrics, Reference};
use std::fmt::Write as _;

/// One metric outside its tolerance (or missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub name: String,
    pub kind: Kind,
    pub expected: Option<f64>,
    pub got: Option<f64>,
    /// |difference| in the tolerance's unit (relative or absolute).
    pub deviation: f64,
    pub tolerance: f64,
}

/// The result of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub checked: usize,
    pub failures: Vec<Failure>,
    /// Metrics present now but not in the reference (informational).
    pub unexpected: Vec<String>,
    /// Largest deviation per kind: (metric, deviation, tolerance).
    pub worst: std::collections::BTreeMap<Kind, (String, f64, f64)>,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// A readable summary: the worst failures first, grouped counts by metric family.
    pub fn report(&self, limit: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} metrics checked, {} outside tolerance, {} new",
            self.checked,
            self.failures.len(),
            self.unexpected.len()
        );
        let mut worst: Vec<&Failure> = self.failures.iter().collect();
        worst.sort_by(|a, b| {
            (b.deviation / b.tolerance.max(1e-300))
                .total_cmp(&(a.deviation / a.tolerance.max(1e-300)))
        });
        for (kind, (name, d, tol)) in &self.worst {
            let _ = writeln!(
                s,
                "  worst {kind:?}: {name} deviation {d:.3e} (tolerance {tol:.3e})"
            );
        }
        for f in worst.iter().take(limit) {
            let fmt =
                |v: Option<f64>| v.map_or_else(|| "missing".to_string(), |x| format!("{x:.6}"));
            let _ = writeln!(
                s,
                "  REGRESSED {}: expected {}, got {} ({:?} deviation {:.3e} > tolerance {:.3e})",
                f.name,
                fmt(f.expected),
                fmt(f.got),
                f.kind,
                f.deviation,
                f.tolerance
            );
        }
        if worst.len() > limit {
            let _ = writeln!(s, "  ... and {} more", worst.len() - limit);
        }
        s
    }
}

fn deviation(kind: Kind, expected: f64, got: f64) -> f64 {
    match kind {
        Kind::PhaseDeg => {
            let d = (got - expected).rem_euclid(360.0);
            d.min(360.0 - d)
        }
        Kind::FlagFraction | Kind::Count => (got - expected).abs(),
        _ => {
            if expected == 0.0 {
                got.abs()
            } else {
                ((got - expected) / expected).abs()
            }
        }
    }
}

/// Compare `current` with `reference`.
pub fn compare(reference: &Reference, current: &Metrics) -> Comparison {
    let mut c = Comparison::default();
    for (name, want) in &reference.metrics {
        let tol = reference.tolerances.for_metric(name, want.kind);
        c.checked += 1;
        match current.get(name) {
            None => c.failures.push(Failure {
                name: name.clone(),
                kind: want.kind,
                expected: Some(want.value),
                got: None,
                deviation: f64::INFINITY,
                tolerance: tol,
            }),
            Some(got) => {
                let d = deviation(want.kind, want.value, got.value);
                let e = c
                    .worst
                    .entry(want.kind)
                    .or_insert_with(|| (name.clone(), 0.0, tol));
                if d.is_nan() || d > e.1 {
                    *e = (name.clone(), d, tol);
                }
                if d.is_nan() || d > tol {
                    c.failures.push(Failure {
                        name: name.clone(),
                        kind: want.kind,
                        expected: Some(want.value),
                        got: Some(got.value),
                        deviation: d,
                        tolerance: tol,
                    });
                }
            }
        }
    }
    c.unexpected = current
        .keys()
        .filter(|k| !reference.metrics.contains_key(*k))
        .cloned()
        .collect();
    c
}

#[cfg(test)]
mod tests {
    use super::super::{Metric, Tolerances};
    use super::*;

    fn m(kind: Kind, value: f64) -> Metric {
        Metric { kind, value }
    }

    #[test]
    fn tolerances_wrapping_and_missing() {
        let mut metrics = Metrics::new();
        metrics.insert("g/CM01/amp".into(), m(Kind::Amp, 1.0));
        metrics.insert("g/CM01/phase".into(), m(Kind::PhaseDeg, 179.95));
        metrics.insert("flux/J1700/16".into(), m(Kind::Flux, 0.8));
        metrics.insert("flags/x".into(), m(Kind::FlagFraction, 0.30));
        let mut tol = Tolerances::default();
        tol.overrides
            .insert("flux/".into(), [("flux_rel".to_string(), 0.01)].into());
        let reference = Reference {
            made_by: "test".into(),
            recipe: "r".into(),
            tolerances: tol,
            metrics: metrics.clone(),
        };
        let mut now = metrics.clone();
        now.insert("g/CM01/phase".into(), m(Kind::PhaseDeg, -179.98)); // 0.07 deg apart
        now.insert("flux/J1700/16".into(), m(Kind::Flux, 0.805)); // 0.6 % < 1 % override
        now.insert("new".into(), m(Kind::Count, 1.0));
        let c = compare(&reference, &now);
        assert!(c.passed(), "{}", c.report(10));
        assert_eq!(c.unexpected, vec!["new".to_string()]);
        now.insert("g/CM01/amp".into(), m(Kind::Amp, 1.002)); // 0.2 % > 0.1 %
        now.remove("flags/x");
        let c = compare(&reference, &now);
        assert_eq!(c.failures.len(), 2);
        assert!(c.report(10).contains("REGRESSED g/CM01/amp"));
        assert!(c.report(10).contains("missing"));
        // NaN never passes.
        now.insert("g/CM01/amp".into(), m(Kind::Amp, f64::NAN));
        assert!(!compare(&reference, &now).passed());
    }
}
