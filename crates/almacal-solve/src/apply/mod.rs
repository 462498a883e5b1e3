//! applycal's composition (algorithms.md §7.1, §7.5, §7.6): each calibration term turns a
//! chunk's (row, channel, correlation) cells into a multiplicative correction, a weight
//! factor per (row, correlation) and solution flags; terms apply in VisCal order, factors
//! multiply, flags OR. Weights restart from SIGMA (w = 1/σ²). Pure numerics: the terms are
//! built from caltable contents by the caller.

pub mod antenna;
pub mod antpos;
pub mod jones;
pub mod spline;
pub mod tsys;

use almacal_core::chunk::VisChunk;
use almacal_core::CorrType;
use ndarray::{Array2, Array3};
use num_complex::Complex32;
use std::collections::{BTreeMap, BTreeSet};

/// Which caltable fields are used for a data field (applycal `gainfield`, §7.3).
#[derive(Debug, Clone, PartialEq)]
pub enum GainField {
    /// `''`: every field pooled.
    All,
    /// A selection: these caltable fields, pooled.
    Ids(BTreeSet<i32>),
    /// `'nearest'`: data field → caltable field.
    Map(BTreeMap<u32, i32>),
}

impl GainField {
    /// Whether the solutions of caltable field `cal_field` apply to data field `data_field`.
    pub fn allows(&self, data_field: u32, cal_field: i32) -> bool {
        match self {
            Self::All => true,
            Self::Ids(ids) => ids.contains(&cal_field),
            Self::Map(m) => m.get(&data_field) == Some(&cal_field),
        }
    }
}

/// What a term needs to know about a chunk besides its arrays.
#[derive(Debug, Clone)]
pub struct ChunkInfo<'a> {
    pub spw: u32,
    pub field: u32,
    /// Frequencies (Hz) of the chunk's channels.
    pub chan_freq_hz: &'a [f64],
    /// Correlation types of the chunk's correlations.
    pub corrs: &'a [CorrType],
    /// Phase centre of the field (J2000, rad).
    pub field_dir_rad: (f64, f64),
}

/// The receptor indices (p, q) of a correlation (X/R = 0, Y/L = 1).
pub fn receptors(c: CorrType) -> (usize, usize) {
    match c {
        CorrType::YY | CorrType::LL => (1, 1),
        CorrType::XY | CorrType::RL => (0, 1),
        CorrType::YX | CorrType::LR => (1, 0),
        _ => (0, 0),
    }
}

/// Buffers a term writes into for one chunk.
pub struct Corrections {
    /// Multiplicative correction per (row, chan, corr).
    pub factor_rcf: Array3<Complex32>,
    /// Weight factor per (row, corr).
    pub wscale_rc: Array2<f32>,
    /// Solution flags per (row, chan, corr).
    pub flag_rcf: Array3<bool>,
}

impl Corrections {
    pub fn identity(nrow: usize, nchan: usize, ncorr: usize) -> Self {
        Self {
            factor_rcf: Array3::from_elem((nrow, nchan, ncorr), Complex32::new(1.0, 0.0)),
            wscale_rc: Array2::from_elem((nrow, ncorr), 1.0),
            flag_rcf: Array3::from_elem((nrow, nchan, ncorr), false),
        }
    }
}

/// One calibration table prepared for application.
pub trait Term: Send + Sync {
    /// Position in CASA's application order (§1.2): KAntPos 0, B TSYS 10, B 20, G 30, T 40.
    fn order(&self) -> u32;
    /// Whether this term has solutions for (the mapped) `spw`; if any term lacks them, the
    /// chunk is not calibrated (§7.1 "calibratable").
    fn covers(&self, spw: u32) -> bool;
    /// Multiply this term's correction into `c` (factors, weight factors if `calwt`, flags).
    fn accumulate(&self, chunk: &VisChunk, info: &ChunkInfo<'_>, calwt: bool, c: &mut Corrections);
    /// The same correction in antenna-based form ([`antenna`]): this term's factor for every
    /// (time, antenna) of the chunk, such that [`accumulate`](Term::accumulate) multiplies row
    /// (i, j), correlation (p, q) by `A_i[p] · conj(A_j[q])`. `None`: not antenna-based.
    fn antenna_factors(
        &self,
        _chunk: &VisChunk,
        _info: &ChunkInfo<'_>,
    ) -> Option<antenna::AntFactors> {
        None
    }
}

/// applycal's `applymode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    CalFlag,
    CalFlagStrict,
    CalOnly,
    FlagOnly,
    Trial,
}

impl ApplyMode {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "" | "calflag" => Self::CalFlag,
            "calflagstrict" => Self::CalFlagStrict,
            "calonly" => Self::CalOnly,
            "flagonly" => Self::FlagOnly,
            "trial" => Self::Trial,
            _ => return None,
        })
    }
}

impl ApplyMode {
    /// (writes the corrected data and weights, ORs the solution flags).
    pub fn writes(self) -> (bool, bool) {
        (
            matches!(self, Self::CalFlag | Self::CalFlagStrict | Self::CalOnly),
            matches!(self, Self::CalFlag | Self::CalFlagStrict | Self::FlagOnly),
        )
    }
}

/// What happened to a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Calibrated,
    /// Some term has no solutions for this spw: left as it was (or flagged, strict modes).
    Uncalibratable,
}

/// Apply `terms` to a chunk in place: `data_rcf` becomes the corrected data, `weight_rc` is
/// rebuilt from SIGMA and scaled (when any term has calwt), flags are OR'ed per `mode`.
/// `calwt[k]` belongs to `terms[k]`.
pub fn apply_chunk(
    terms: &[(&dyn Term, bool)],
    chunk: &mut VisChunk,
    info: &ChunkInfo<'_>,
    mode: ApplyMode,
) -> Outcome {
    if !terms.iter().all(|(t, _)| t.covers(info.spw)) {
        if mode == ApplyMode::CalFlagStrict {
            chunk.flag_rcf.fill(true);
        }
        return Outcome::Uncalibratable;
    }
    let mut order: Vec<&(&dyn Term, bool)> = terms.iter().collect();
    order.sort_by_key(|(t, _)| t.order());
    // The fast path when every term is antenna-based (all of ours are).
    let fused: Option<Vec<(antenna::AntFactors, bool)>> = order
        .iter()
        .map(|(t, w)| t.antenna_factors(chunk, info).map(|f| (f, *w)))
        .collect();
    if let Some(f) = fused {
        antenna::apply_fused(&f, chunk, info, mode);
        return Outcome::Calibrated;
    }
    apply_per_term(&order, chunk, info, mode);
    Outcome::Calibrated
}

/// The reference path: each term multiplies its correction into every visibility.
pub fn apply_per_term(
    order: &[&(&dyn Term, bool)],
    chunk: &mut VisChunk,
    info: &ChunkInfo<'_>,
    mode: ApplyMode,
) {
    let (n, nc, np) = chunk.flag_rcf.dim();
    let mut c = Corrections::identity(n, nc, np);
    for (t, calwt) in order {
        t.accumulate(chunk, info, *calwt, &mut c);
    }
    let any_calwt = order.iter().any(|(_, w)| *w);
    let (write_data, write_flags) = mode.writes();
    if write_data {
        if chunk.data_rcf.len() == c.factor_rcf.len() {
            chunk.data_rcf.zip_mut_with(&c.factor_rcf, |d, f| *d *= *f);
        }
        if any_calwt {
            for ((w, s), f) in chunk
                .weight_rc
                .iter_mut()
                .zip(chunk.sigma_rc.iter())
                .zip(c.wscale_rc.iter())
            {
                *w = if *s > 0.0 { (1.0 / (s * s)) * f } else { 0.0 };
            }
        }
    }
    if write_flags {
        chunk.flag_rcf.zip_mut_with(&c.flag_rcf, |a, b| *a |= *b);
    }
}
