//! Plain per-solution data extracted from a calibration table: one [`SolRow`] per caltable
//! row with amplitude, phase (degrees) and flags per (parameter, channel), plus the names the
//! plot titles need. The gain, bandpass and Tsys plots are functions of [`CalData`].

use crate::error::Result;
use crate::plotants::ms_display_name;
use almacal_casa::caltable::{read_caltable, CalParams, CalTable};
use std::path::Path;

/// One solution row.
#[derive(Debug, Clone, PartialEq)]
pub struct SolRow {
    pub antenna: String,
    pub spw: u32,
    pub field: String,
    pub scan: i32,
    pub time_s: f64,
    /// Channel frequencies (Hz) of the solution channels (empty when unknown).
    pub freq_hz: Vec<f64>,
    /// `[par][chan]`: |value| (Complex tables) or the value itself (Float tables, e.g. Tsys K).
    pub amp: Vec<Vec<f64>>,
    /// `[par][chan]` phase in degrees (−180..180); empty for Float tables.
    pub phase_deg: Vec<Vec<f64>>,
    pub flag: Vec<Vec<bool>>,
}

/// A caltable reduced to what the plots need.
#[derive(Debug, Clone)]
pub struct CalData {
    /// Table file name, for titles.
    pub table: String,
    /// `VisCal` keyword (`G Jones`, `B Jones`, `B TSYS`, ...).
    pub viscal: String,
    /// Parameter names (`X`, `Y`), by index.
    pub par_names: Vec<String>,
    pub rows: Vec<SolRow>,
}

impl CalData {
    /// Read a caltable from disk.
    pub fn load(path: &Path) -> Result<Self> {
        let t = read_caltable(path)?;
        Ok(Self::from_table(
            &t,
            &ms_display_name(&path.to_string_lossy()),
        ))
    }

    /// Convert an in-memory caltable.
    pub fn from_table(t: &CalTable, table_name: &str) -> Self {
        let mut npar = 0;
        let rows = t
            .rows
            .iter()
            .map(|r| {
                let (np, nchan) = r.params.shape();
                npar = npar.max(np);
                let (amp, phase_deg) = match &r.params {
                    CalParams::Complex(a) => (
                        a.outer_iter()
                            .map(|p| p.iter().map(|c| f64::from(c.norm())).collect())
                            .collect(),
                        a.outer_iter()
                            .map(|p| p.iter().map(|c| f64::from(c.arg()).to_degrees()).collect())
                            .collect(),
                    ),
                    CalParams::Float(a) => (
                        a.outer_iter()
                            .map(|p| p.iter().map(|v| f64::from(*v)).collect())
                            .collect(),
                        Vec::new(),
                    ),
                };
                let flag = r
                    .flag
                    .outer_iter()
                    .map(|p| p.iter().copied().collect())
                    .collect();
                let freq_hz = usize::try_from(r.spw_id)
                    .ok()
                    .and_then(|s| t.sub.spws.get(s))
                    .map(|s| s.chan_freq_hz.clone())
                    .filter(|f| f.len() == nchan)
                    .unwrap_or_default();
                SolRow {
                    antenna: name_of(
                        t.sub.antennas.get(idx(r.antenna1)).map(|a| &a.name),
                        r.antenna1,
                    ),
                    spw: u32::try_from(r.spw_id).unwrap_or(0),
                    field: name_of(
                        t.sub.fields.get(idx(r.field_id)).map(|f| &f.name),
                        r.field_id,
                    ),
                    scan: r.scan,
                    time_s: r.time_s,
                    freq_hz,
                    amp,
                    phase_deg,
                    flag,
                }
            })
            .collect();
        let par_names = if npar == 1 {
            vec!["X+Y".to_string()]
        } else {
            (0..npar)
                .map(|i| ["X", "Y", "p3", "p4"].get(i).unwrap_or(&"p").to_string())
                .collect()
        };
        Self {
            table: table_name.to_string(),
            viscal: t.keywords.viscal.clone(),
            par_names,
            rows,
        }
    }

    /// Antenna names in order of first appearance.
    pub fn antennas(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &self.rows {
            if !v.contains(&r.antenna) {
                v.push(r.antenna.clone());
            }
        }
        v
    }

    /// Spw ids present, ascending.
    pub fn spws(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.rows.iter().map(|r| r.spw).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Keep only rows of these spws (empty = all).
    pub fn with_spws(mut self, spws: &[u32]) -> Self {
        if !spws.is_empty() {
            self.rows.retain(|r| spws.contains(&r.spw));
        }
        self
    }

    /// Keep only rows of these antennas (empty = all).
    pub fn with_antennas(mut self, names: &[String]) -> Self {
        if !names.is_empty() {
            self.rows.retain(|r| names.contains(&r.antenna));
        }
        self
    }

    /// Fraction of flagged solutions (over every par/chan cell).
    pub fn flagged_fraction(&self) -> f64 {
        let (mut n, mut f) = (0usize, 0usize);
        for r in &self.rows {
            for p in &r.flag {
                n += p.len();
                f += p.iter().filter(|x| **x).count();
            }
        }
        if n == 0 {
            0.0
        } else {
            f as f64 / n as f64
        }
    }
}

fn idx(i: i32) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

fn name_of(name: Option<&String>, id: i32) -> String {
    match name {
        Some(n) if !n.is_empty() => n.clone(),
        _ => id.to_string(),
    }
}

/// Mean of the unflagged values of one parameter row, or `None` when all are flagged.
pub fn mean_unflagged(v: &[f64], flag: &[bool]) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for (x, f) in v.iter().zip(flag.iter().chain(std::iter::repeat(&false))) {
        if !*f && x.is_finite() {
            s += x;
            n += 1;
        }
    }
    (n > 0).then(|| s / n as f64)
}
