//! `almacal regress`: reduce a recipe's products to named scalar metrics (caltable
//! solutions per antenna/spw/time, fluxscale fluxes, flag fractions per flag stage,
//! calibrated mean amplitudes per field/spw), and compare them with a reference file under
//! per-quantity tolerances, with a readable diff and JUnit XML for CI systems.

mod compare;
mod extract;
mod junit;

pub use compare::{compare, Comparison, Failure};
pub use extract::extract;
pub use junit::junit_xml;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a metric measures; decides how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Solution amplitude (relative tolerance).
    Amp,
    /// Solution phase in degrees (absolute tolerance, wrapped).
    PhaseDeg,
    /// Real-valued solution such as Tsys (relative tolerance).
    Value,
    /// Flux density (relative tolerance).
    Flux,
    /// Fraction of flagged cells (absolute tolerance).
    FlagFraction,
    /// Calibrated mean amplitude (relative tolerance).
    MeanAmp,
    /// A count such as flagged solutions (absolute tolerance).
    Count,
}

/// One measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub kind: Kind,
    pub value: f64,
}

pub type Metrics = BTreeMap<String, Metric>;

/// Tolerances per kind, with optional overrides for metric-name prefixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tolerances {
    pub amp_rel: f64,
    pub phase_deg: f64,
    pub value_rel: f64,
    pub flux_rel: f64,
    pub flag_fraction_abs: f64,
    pub mean_amp_rel: f64,
    pub count_abs: f64,
    /// `"bandpass/": { "amp_rel": 0.01 }`: overrides for metrics whose name starts so.
    pub overrides: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Default for Tolerances {
    fn default() -> Self {
        Self {
            amp_rel: 1e-3,
            phase_deg: 0.1,
            value_rel: 1e-5,
            flux_rel: 2e-3,
            flag_fraction_abs: 1e-4,
            mean_amp_rel: 2e-3,
            count_abs: 0.0,
            overrides: BTreeMap::new(),
        }
    }
}

impl Tolerances {
    fn key(kind: Kind) -> &'static str {
        match kind {
            Kind::Amp => "amp_rel",
            Kind::PhaseDeg => "phase_deg",
            Kind::Value => "value_rel",
            Kind::Flux => "flux_rel",
            Kind::FlagFraction => "flag_fraction_abs",
            Kind::MeanAmp => "mean_amp_rel",
            Kind::Count => "count_abs",
        }
    }

    /// The tolerance for a metric (longest matching override prefix wins).
    pub fn for_metric(&self, name: &str, kind: Kind) -> f64 {
        let key = Self::key(kind);
        let best = self
            .overrides
            .iter()
            .filter(|(prefix, m)| name.starts_with(prefix.as_str()) && m.contains_key(key))
            .max_by_key(|(prefix, _)| prefix.len());
        if let Some((_, m)) = best {
            return m[key];
        }
        match kind {
            Kind::Amp => self.amp_rel,
            Kind::PhaseDeg => self.phase_deg,
            Kind::Value => self.value_rel,
            Kind::Flux => self.flux_rel,
            Kind::FlagFraction => self.flag_fraction_abs,
            Kind::MeanAmp => self.mean_amp_rel,
            Kind::Count => self.count_abs,
        }
    }
}

/// A reference file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Who made it: `almacal <version>` (self-based), `truth`, or `CASA 6.7.0-31`.
    pub made_by: String,
    pub recipe: String,
    #[serde(default)]
    pub tolerances: Tolerances,
    pub metrics: Metrics,
}

#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    #[error("{path}: {msg}")]
    Product { path: String, msg: String },
    #[error("reference {path}: {msg}")]
    Reference { path: String, msg: String },
}
