//! CASA selection syntax (`field`, `spw` with channels, `antenna` baselines, `scan`,
//! `intent`, `timerange`, `uvrange`, `correlation`, `observation`, auto/cross-only),
//! resolved against an MS's metadata into a row predicate plus channel and correlation
//! choices. Pure: no casacore calls here; `crate::reader` applies it to tables.

mod antenna;
pub mod error;
mod glob;
mod ids;
mod simple;
mod spw;
mod timerange;
mod uvrange;

pub(crate) use antenna::resolve_antenna;
pub use antenna::BaselineSel;
pub use error::SelectionError;
pub use glob::glob_match;
pub(crate) use simple::{resolve_field, resolve_scan};
pub(crate) use spw::resolve_spw;
pub use spw::{selectable_spws, SpwChans};
pub(crate) use timerange::resolve_timerange;
pub use timerange::TimeSel;
pub use uvrange::UvSel;

use crate::meta_read::MainIndex;
use almacal_core::corr::CorrType;
use almacal_core::ids::DataDescId;
use almacal_core::meta::MsMeta;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which correlations by baseline kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineKind {
    #[default]
    All,
    /// Autocorrelations only (flagdata's `autocorr=True`).
    AutoOnly,
    /// Cross-correlations only.
    CrossOnly,
}

/// Selection parameters exactly as a CASA task takes them; empty string = everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionParams {
    pub field: String,
    pub spw: String,
    pub antenna: String,
    pub scan: String,
    pub intent: String,
    pub timerange: String,
    pub uvrange: String,
    pub correlation: String,
    pub observation: String,
    pub baselines: BaselineKind,
}

impl SelectionParams {
    /// The CASA selection parameters this struct carries, by name.
    pub const NAMES: [&'static str; 9] = [
        "field",
        "spw",
        "antenna",
        "scan",
        "intent",
        "timerange",
        "uvrange",
        "correlation",
        "observation",
    ];

    /// The parameters with only `name` (one of [`Self::NAMES`]) set to `expr`.
    pub fn only(name: &str, expr: &str) -> Option<Self> {
        let mut p = Self::default();
        let slot = match name {
            "field" => &mut p.field,
            "spw" => &mut p.spw,
            "antenna" => &mut p.antenna,
            "scan" => &mut p.scan,
            "intent" => &mut p.intent,
            "timerange" => &mut p.timerange,
            "uvrange" => &mut p.uvrange,
            "correlation" => &mut p.correlation,
            "observation" => &mut p.observation,
            _ => return None,
        };
        *slot = expr.to_string();
        Some(p)
    }

    /// `field='0' spw='16:0~6'` for messages: the non-empty parameters in CASA syntax.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("field", &self.field),
            ("spw", &self.spw),
            ("antenna", &self.antenna),
            ("scan", &self.scan),
            ("intent", &self.intent),
            ("timerange", &self.timerange),
            ("uvrange", &self.uvrange),
            ("correlation", &self.correlation),
            ("observation", &self.observation),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}='{v}'"))
        .collect();
        match self.baselines {
            BaselineKind::All => parts.join(" "),
            k => format!("{} baselines={k:?}", parts.join(" ")),
        }
    }
}

/// A selection resolved against one MS.
#[derive(Debug, Clone)]
pub struct Selection {
    pub fields: Option<BTreeSet<i32>>,
    /// Selected channels per spw id; `None` = all spws, all channels.
    pub spw_chans: Option<SpwChans>,
    pub baselines: BaselineSel,
    pub baseline_kind: BaselineKind,
    pub scans: Option<BTreeSet<i32>>,
    pub states: Option<BTreeSet<i32>>,
    pub observations: Option<BTreeSet<i32>>,
    pub times: Vec<TimeSel>,
    pub uv: Vec<UvSel>,
    pub corrs: Option<Vec<CorrType>>,
    /// Per DDID: selected? (derived from spw_chans)
    dd_ok: Vec<bool>,
    /// Reference frequency per DDID, for uvrange in wavelengths.
    dd_ref_freq_hz: Vec<f64>,
}

impl Selection {
    /// Resolve `p` against `meta`; every error names the parameter and token.
    pub fn resolve(meta: &MsMeta, p: &SelectionParams) -> Result<Self, SelectionError> {
        let opt = |s: &str| !s.trim().is_empty();
        let fields = opt(&p.field)
            .then(|| simple::resolve_field(meta, &p.field))
            .transpose()?;
        let spw_chans = opt(&p.spw)
            .then(|| spw::resolve_spw(meta, &p.spw))
            .transpose()?;
        let baselines = if opt(&p.antenna) {
            antenna::resolve_antenna(meta, &p.antenna)?
        } else {
            BaselineSel::default()
        };
        let scans = opt(&p.scan)
            .then(|| simple::resolve_scan(meta, &p.scan))
            .transpose()?;
        let states = opt(&p.intent)
            .then(|| simple::resolve_intent(meta, &p.intent))
            .transpose()?;
        let observations = opt(&p.observation)
            .then(|| simple::resolve_observation(meta, &p.observation))
            .transpose()?;
        let first = meta.time_span_s().map_or(0.0, |(a, _)| a);
        let times = if opt(&p.timerange) {
            timerange::resolve_timerange(&p.timerange, first)?
        } else {
            Vec::new()
        };
        let uv = if opt(&p.uvrange) {
            uvrange::resolve_uvrange(&p.uvrange)?
        } else {
            Vec::new()
        };
        let corrs = opt(&p.correlation)
            .then(|| simple::resolve_correlation(meta, &p.correlation))
            .transpose()?;
        let dd_ok = meta
            .data_descs
            .iter()
            .map(|d| {
                spw_chans
                    .as_ref()
                    .is_none_or(|m| m.get(&d.spw.0).is_some_and(|c| !c.is_empty()))
            })
            .collect();
        let dd_ref_freq_hz = meta
            .data_descs
            .iter()
            .map(|d| meta.spw(d.spw).map_or(0.0, |s| s.ref_freq_hz))
            .collect();
        Ok(Self {
            fields,
            spw_chans,
            baselines,
            baseline_kind: p.baselines,
            scans,
            states,
            observations,
            times,
            uv,
            corrs,
            dd_ok,
            dd_ref_freq_hz,
        })
    }

    /// Everything.
    pub fn all(meta: &MsMeta) -> Self {
        // Resolving the empty selection cannot fail.
        match Self::resolve(meta, &SelectionParams::default()) {
            Ok(s) => s,
            Err(_) => unreachable!("empty selection always resolves"),
        }
    }

    /// True if the selection needs UVW to decide on rows.
    pub fn needs_uvw(&self) -> bool {
        !self.uv.is_empty()
    }

    /// Row test on the scalar index columns (everything but uvrange).
    pub fn row_matches(&self, idx: &MainIndex, r: usize) -> bool {
        let dd = idx.dd[r];
        if !usize::try_from(dd)
            .ok()
            .and_then(|d| self.dd_ok.get(d))
            .copied()
            .unwrap_or(false)
        {
            return false;
        }
        let (a1, a2) = (idx.ant1[r], idx.ant2[r]);
        match self.baseline_kind {
            BaselineKind::AutoOnly if a1 != a2 => return false,
            BaselineKind::CrossOnly if a1 == a2 => return false,
            _ => {}
        }
        if self
            .fields
            .as_ref()
            .is_some_and(|f| !f.contains(&idx.field[r]))
            || self
                .scans
                .as_ref()
                .is_some_and(|s| !s.contains(&idx.scan[r]))
            || self
                .states
                .as_ref()
                .is_some_and(|s| !s.contains(&idx.state[r]))
            || self
                .observations
                .as_ref()
                .is_some_and(|o| !o.contains(&idx.obs[r]))
        {
            return false;
        }
        if !self.times.is_empty()
            && !self
                .times
                .iter()
                .any(|t| t.matches(idx.time_s[r], idx.interval_s[r]))
        {
            return false;
        }
        self.baselines.matches(a1, a2)
    }

    /// uvrange test for a row of DDID `dd` with baseline vector `uvw_m`.
    pub fn uv_matches(&self, dd: i32, uvw_m: [f64; 3]) -> bool {
        if self.uv.is_empty() {
            return true;
        }
        let d = (uvw_m[0] * uvw_m[0] + uvw_m[1] * uvw_m[1]).sqrt();
        let f = usize::try_from(dd)
            .ok()
            .and_then(|i| self.dd_ref_freq_hz.get(i))
            .copied()
            .unwrap_or(0.0);
        self.uv.iter().any(|u| u.matches(d, f))
    }

    /// Selected channel indices of `spw` (all of them if no spw selection).
    pub fn chans_of(&self, meta: &MsMeta, spw: u32) -> Vec<usize> {
        match &self.spw_chans {
            Some(m) => m.get(&spw).cloned().unwrap_or_default(),
            None => (0..meta.spws.get(spw as usize).map_or(0, |s| s.nchan())).collect(),
        }
    }

    /// Selected correlation indices of DDID `dd`.
    pub fn corrs_of(&self, meta: &MsMeta, dd: DataDescId) -> Vec<usize> {
        let types = meta.corrs_of(dd);
        match &self.corrs {
            None => (0..types.len()).collect(),
            Some(sel) => types
                .iter()
                .enumerate()
                .filter(|(_, c)| sel.contains(c))
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// Rows selected, given a UVW lookup for rows that need it.
    pub fn select_rows(
        &self,
        idx: &MainIndex,
        mut uvw: impl FnMut(usize) -> Option<[f64; 3]>,
    ) -> Vec<u64> {
        (0..idx.nrows())
            .filter(|&r| {
                self.row_matches(idx, r)
                    && (!self.needs_uvw() || uvw(r).is_some_and(|u| self.uv_matches(idx.dd[r], u)))
            })
            .map(|r| r as u64)
            .collect()
    }

    /// Selected channel count per selected spw (for reports).
    pub fn nchan_per_spw(&self, meta: &MsMeta) -> BTreeMap<u32, usize> {
        selectable_spws(meta)
            .into_iter()
            .filter_map(|s| {
                let n = self.chans_of(meta, s).len();
                (n > 0).then_some((s, n))
            })
            .collect()
    }
}

/// The error for a selection `p` that matched no rows of the MS at `ms`: it names the
/// parameter responsible when one alone selects nothing (`antenna='!*': selects no data in
/// X.ms`), else the whole combination. `cross_only` judges only cross-correlations (what a
/// solve can use). uvrange is judged on the scalar columns only, so it is named only when
/// every other parameter alone selects something.
pub fn empty_selection_error(
    meta: &MsMeta,
    idx: &MainIndex,
    p: &SelectionParams,
    ms: &std::path::Path,
    cross_only: bool,
) -> SelectionError {
    let what = if cross_only {
        "cross-correlation data"
    } else {
        "data"
    };
    let msg = format!("selects no {what} in {}", ms.display());
    let any_row = |q: &SelectionParams| -> bool {
        let Ok(sel) = Selection::resolve(meta, q) else {
            return false;
        };
        (0..idx.nrows())
            .any(|r| sel.row_matches(idx, r) && !(cross_only && idx.ant1[r] == idx.ant2[r]))
    };
    let alone = |name: &str, value: &str| -> SelectionParams {
        let mut q = SelectionParams {
            baselines: p.baselines,
            ..Default::default()
        };
        match name {
            "field" => q.field = value.into(),
            "spw" => q.spw = value.into(),
            "antenna" => q.antenna = value.into(),
            "scan" => q.scan = value.into(),
            "intent" => q.intent = value.into(),
            "timerange" => q.timerange = value.into(),
            "correlation" => q.correlation = value.into(),
            "observation" => q.observation = value.into(),
            _ => {}
        }
        q
    };
    let given = [
        ("field", &p.field),
        ("spw", &p.spw),
        ("antenna", &p.antenna),
        ("scan", &p.scan),
        ("intent", &p.intent),
        ("timerange", &p.timerange),
        ("correlation", &p.correlation),
        ("observation", &p.observation),
    ];
    for (name, value) in given.iter().filter(|(_, v)| !v.trim().is_empty()) {
        if !any_row(&alone(name, value)) {
            return SelectionError::new(name, value, msg);
        }
    }
    let only_uv = given.iter().all(|(_, v)| v.trim().is_empty());
    if !p.uvrange.trim().is_empty()
        && (only_uv
            || any_row(&SelectionParams {
                uvrange: String::new(),
                ..p.clone()
            }))
    {
        return SelectionError::new("uvrange", &p.uvrange, msg);
    }
    if given.iter().all(|(_, v)| v.trim().is_empty()) && p.baselines != BaselineKind::All {
        let kind = match p.baselines {
            BaselineKind::AutoOnly => "autocorr=true (autocorrelations only)",
            _ => "cross-correlations only",
        };
        return SelectionError::new("baselines", kind, msg);
    }
    SelectionError::new(
        "selection",
        &p.describe(),
        format!("{msg} (each parameter alone selects some; together they select none)"),
    )
}
