//! [`FlagLayer`]: the flags one flag stage adds to one MS, per main-table row, stored
//! compactly (run-length encoded) and deterministically so its digest identifies it.
//! Stages see the MS's own FLAG column OR'ed with every upstream layer; the input MS is
//! never written.

use crate::chunk::VisChunk;
use std::collections::BTreeMap;
use thiserror::Error;

const MAGIC: &[u8; 8] = b"ALMFLAG1";

#[derive(Debug, Error, PartialEq)]
pub enum FlagLayerError {
    #[error("not an almacal flag layer (bad header)")]
    BadMagic,
    #[error("flag layer is truncated or corrupt at byte {0}")]
    Corrupt(usize),
    #[error("flag layer is for an MS of {layer} rows, this MS has {ms}")]
    RowCount { layer: u64, ms: u64 },
}

/// Flags of one row: the whole row, or a (channel, correlation) bit mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowMask {
    All,
    Cells {
        nchan: u32,
        ncorr: u32,
        /// Bit `chan * ncorr + corr`.
        bits: Vec<u64>,
    },
}

impl RowMask {
    fn cells(nchan: usize, ncorr: usize) -> Self {
        Self::Cells {
            nchan: nchan as u32,
            ncorr: ncorr as u32,
            bits: vec![0; (nchan * ncorr).div_ceil(64)],
        }
    }

    /// Is (chan, corr) flagged?
    pub fn get(&self, chan: usize, corr: usize) -> bool {
        match self {
            Self::All => true,
            Self::Cells { ncorr, bits, .. } => {
                let i = chan * *ncorr as usize + corr;
                bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
            }
        }
    }

    fn count(&self, ncells: usize) -> usize {
        match self {
            Self::All => ncells,
            Self::Cells { bits, .. } => bits.iter().map(|w| w.count_ones() as usize).sum(),
        }
    }
}

/// Flags added to an MS of `nrows` rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagLayer {
    nrows: u64,
    rows: BTreeMap<u64, RowMask>,
}

impl FlagLayer {
    pub fn new(nrows: u64) -> Self {
        Self {
            nrows,
            rows: BTreeMap::new(),
        }
    }

    pub fn nrows(&self) -> u64 {
        self.nrows
    }

    /// Number of rows with any flag in this layer.
    pub fn rows_touched(&self) -> usize {
        self.rows.len()
    }

    pub fn row(&self, row: u64) -> Option<&RowMask> {
        self.rows.get(&row)
    }

    /// Flagged rows and their masks, in row order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &RowMask)> {
        self.rows.iter().map(|(r, m)| (*r, m))
    }

    /// Flag a whole row.
    pub fn flag_row(&mut self, row: u64) {
        self.rows.insert(row, RowMask::All);
    }

    /// Flag the cells (chans × corrs) of a row whose full shape is nchan × ncorr.
    pub fn flag_cells(
        &mut self,
        row: u64,
        nchan: usize,
        ncorr: usize,
        chans: &[usize],
        corrs: &[usize],
    ) {
        if chans.len() == nchan && corrs.len() == ncorr {
            self.flag_row(row);
            return;
        }
        let entry = self
            .rows
            .entry(row)
            .or_insert_with(|| RowMask::cells(nchan, ncorr));
        if let RowMask::Cells { bits, .. } = entry {
            for &c in chans {
                for &p in corrs {
                    let i = c * ncorr + p;
                    if let Some(w) = bits.get_mut(i / 64) {
                        *w |= 1 << (i % 64);
                    }
                }
            }
            if bits.iter().enumerate().all(|(wi, w)| {
                let bits_in_word = (nchan * ncorr - wi * 64).min(64);
                w.count_ones() as usize == bits_in_word
            }) {
                *entry = RowMask::All;
            }
        }
    }

    /// OR another layer into this one.
    pub fn merge(&mut self, other: &FlagLayer) {
        for (&row, mask) in &other.rows {
            match mask {
                RowMask::All => self.flag_row(row),
                RowMask::Cells { nchan, ncorr, bits } => match self.rows.get_mut(&row) {
                    Some(RowMask::All) => {}
                    Some(RowMask::Cells { bits: mine, .. }) => {
                        for (a, b) in mine.iter_mut().zip(bits) {
                            *a |= b;
                        }
                    }
                    None => {
                        self.rows.insert(
                            row,
                            RowMask::Cells {
                                nchan: *nchan,
                                ncorr: *ncorr,
                                bits: bits.clone(),
                            },
                        );
                    }
                },
            }
        }
    }

    /// Clear the flags that `other` sets (flagdata's `unflag` within one stage).
    pub fn subtract(&mut self, other: &FlagLayer) {
        for (&row, mask) in &other.rows {
            match mask {
                RowMask::All => {
                    self.rows.remove(&row);
                }
                RowMask::Cells { nchan, ncorr, bits } => {
                    let mine = match self.rows.get(&row) {
                        None => continue,
                        Some(RowMask::All) => {
                            let mut full = RowMask::cells(*nchan as usize, *ncorr as usize);
                            if let RowMask::Cells { bits: fb, .. } = &mut full {
                                let n = (*nchan as usize) * (*ncorr as usize);
                                for i in 0..n {
                                    fb[i / 64] |= 1 << (i % 64);
                                }
                            }
                            full
                        }
                        Some(m) => m.clone(),
                    };
                    if let RowMask::Cells {
                        nchan,
                        ncorr,
                        bits: mut mb,
                    } = mine
                    {
                        for (a, b) in mb.iter_mut().zip(bits) {
                            *a &= !b;
                        }
                        if mb.iter().all(|w| *w == 0) {
                            self.rows.remove(&row);
                        } else {
                            self.rows.insert(
                                row,
                                RowMask::Cells {
                                    nchan,
                                    ncorr,
                                    bits: mb,
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// OR this layer into a chunk's flags (chunk rows are main-table rows).
    pub fn apply(&self, chunk: &mut VisChunk) {
        let (_, nc, np) = chunk.flag_rcf.dim();
        let whole = chunk.chans.iter().copied().eq(0..nc) && chunk.corrs.iter().copied().eq(0..np);
        for (k, row) in chunk.rows.iter().enumerate() {
            let Some(mask) = self.rows.get(row) else {
                continue;
            };
            let mut out = chunk.flag_rcf.index_axis_mut(ndarray::Axis(0), k);
            match (mask, out.as_slice_mut()) {
                (RowMask::All, _) => {
                    out.fill(true);
                    continue;
                }
                // Whole cells of the mask's own shape: bit i is cell i of the row.
                (RowMask::Cells { nchan, ncorr, bits }, Some(dst))
                    if whole && *nchan as usize == nc && *ncorr as usize == np =>
                {
                    for (wi, &w) in bits.iter().enumerate() {
                        let mut w = w;
                        while w != 0 {
                            let i = wi * 64 + w.trailing_zeros() as usize;
                            if let Some(d) = dst.get_mut(i) {
                                *d = true;
                            }
                            w &= w - 1;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            for (ci, &c) in chunk.chans.iter().enumerate() {
                for (pi, &p) in chunk.corrs.iter().enumerate() {
                    if mask.get(c, p) {
                        out[[ci, pi]] = true;
                    }
                }
            }
        }
    }

    /// Flagged cells of a row of nchan × ncorr in this layer.
    pub fn count_row(&self, row: u64, nchan: usize, ncorr: usize) -> usize {
        self.rows.get(&row).map_or(0, |m| m.count(nchan * ncorr))
    }

    /// Deterministic compact encoding (varints, run-length bit masks).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.rows.len() * 4);
        out.extend_from_slice(MAGIC);
        put_varint(&mut out, self.nrows);
        put_varint(&mut out, self.rows.len() as u64);
        let mut prev = 0u64;
        for (&row, mask) in &self.rows {
            put_varint(&mut out, row - prev);
            prev = row;
            match mask {
                RowMask::All => out.push(0),
                RowMask::Cells { nchan, ncorr, bits } => {
                    out.push(1);
                    put_varint(&mut out, u64::from(*nchan));
                    put_varint(&mut out, u64::from(*ncorr));
                    let n = (*nchan as usize) * (*ncorr as usize);
                    let runs = runs_of(bits, n);
                    put_varint(&mut out, runs.len() as u64);
                    for r in runs {
                        put_varint(&mut out, r);
                    }
                }
            }
        }
        out
    }

    /// Decode [`FlagLayer::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, FlagLayerError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(FlagLayerError::BadMagic);
        }
        let mut pos = MAGIC.len();
        let nrows = get_varint(bytes, &mut pos)?;
        let count = get_varint(bytes, &mut pos)?;
        let mut rows = BTreeMap::new();
        let mut row = 0u64;
        for _ in 0..count {
            row = row
                .checked_add(get_varint(bytes, &mut pos)?)
                .ok_or(FlagLayerError::Corrupt(pos))?;
            if row >= nrows {
                return Err(FlagLayerError::Corrupt(pos));
            }
            let kind = *bytes.get(pos).ok_or(FlagLayerError::Corrupt(pos))?;
            pos += 1;
            let mask = match kind {
                0 => RowMask::All,
                1 => {
                    let nchan = get_varint(bytes, &mut pos)? as usize;
                    let ncorr = get_varint(bytes, &mut pos)? as usize;
                    let n = nchan
                        .checked_mul(ncorr)
                        .ok_or(FlagLayerError::Corrupt(pos))?;
                    if n > 1 << 28 {
                        return Err(FlagLayerError::Corrupt(pos));
                    }
                    let mut m = RowMask::cells(nchan, ncorr);
                    let nruns = get_varint(bytes, &mut pos)?;
                    let (mut i, mut cur) = (0usize, false);
                    if let RowMask::Cells { bits, .. } = &mut m {
                        for _ in 0..nruns {
                            let len = get_varint(bytes, &mut pos)? as usize;
                            if i + len > n {
                                return Err(FlagLayerError::Corrupt(pos));
                            }
                            if cur {
                                set_range(bits, i, i + len);
                            }
                            i += len;
                            cur = !cur;
                        }
                    }
                    if i != n {
                        return Err(FlagLayerError::Corrupt(pos));
                    }
                    m
                }
                _ => return Err(FlagLayerError::Corrupt(pos)),
            };
            rows.insert(row, mask);
        }
        if pos != bytes.len() {
            return Err(FlagLayerError::Corrupt(pos));
        }
        Ok(Self { nrows, rows })
    }
}

/// Alternating run lengths of the first `n` bits, starting with an unflagged run (maybe
/// empty); a word at a time.
fn runs_of(bits: &[u64], n: usize) -> Vec<u64> {
    let mut runs = Vec::new();
    let (mut cur, mut len, mut i) = (false, 0u64, 0usize);
    while i < n {
        let w = bits.get(i / 64).copied().unwrap_or(0) >> (i % 64);
        let avail = (64 - i % 64).min(n - i);
        // Ones where the bit differs from the current run's value.
        let differ = if cur { !w } else { w };
        let same = (differ.trailing_zeros() as usize).min(avail);
        len += same as u64;
        i += same;
        if same < avail {
            runs.push(len);
            cur = !cur;
            len = 0;
        }
    }
    runs.push(len);
    runs
}

/// Set bits `from..to`.
fn set_range(bits: &mut [u64], from: usize, to: usize) {
    let mut i = from;
    while i < to {
        let (w, b) = (i / 64, i % 64);
        let k = (64 - b).min(to - i);
        let mask = if k == 64 {
            u64::MAX
        } else {
            ((1u64 << k) - 1) << b
        };
        if let Some(x) = bits.get_mut(w) {
            *x |= mask;
        }
        i += k;
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, FlagLayerError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos).ok_or(FlagLayerError::Corrupt(*pos))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(FlagLayerError::Corrupt(*pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic mix of masks: runs crossing word boundaries, whole words, single
    /// bits, a first and a last bit, cell counts that are not multiples of 64.
    fn mixed_layer() -> FlagLayer {
        let mut l = FlagLayer::new(50);
        let mut x = 12345u64;
        for row in 0..40u64 {
            let (nchan, ncorr) = [(1024, 2), (63, 2), (37, 1), (64, 4)][row as usize % 4];
            for _ in 0..(row % 7) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let start = (x >> 33) as usize % nchan;
                let len = 1 + (x >> 20) as usize % 150;
                let chans: Vec<usize> = (start..(start + len).min(nchan)).collect();
                let corrs: Vec<usize> = if x & 1 == 0 {
                    (0..ncorr).collect()
                } else {
                    vec![0]
                };
                l.flag_cells(row, nchan, ncorr, &chans, &corrs);
            }
            if row % 9 == 0 {
                l.flag_cells(row, nchan, ncorr, &[0, nchan - 1], &[ncorr - 1]);
            }
        }
        l
    }

    #[test]
    fn word_runs_equal_bitwise_runs() {
        let naive = |bits: &[u64], n: usize| {
            let mut runs = Vec::new();
            let (mut cur, mut len) = (false, 0u64);
            for i in 0..n {
                let b = bits[i / 64] >> (i % 64) & 1 == 1;
                if b == cur {
                    len += 1;
                } else {
                    runs.push(len);
                    cur = b;
                    len = 1;
                }
            }
            runs.push(len);
            runs
        };
        let l = mixed_layer();
        let mut checked = 0;
        for (_, m) in l.iter() {
            if let RowMask::Cells { nchan, ncorr, bits } = m {
                let n = (*nchan * *ncorr) as usize;
                assert_eq!(runs_of(bits, n), naive(bits, n));
                checked += 1;
            }
        }
        assert!(checked > 20);
        let all = vec![u64::MAX; 3];
        assert_eq!(runs_of(&all, 150), vec![0, 150]);
        assert_eq!(runs_of(&[0, 0], 100), vec![100]);
        let round = FlagLayer::decode(&l.encode()).unwrap();
        assert_eq!(round, l);
    }

    #[test]
    fn apply_fast_path_equals_cell_lookup() {
        use crate::ids::{AntennaId, DataDescId, FieldId, SpwId};
        use ndarray::{Array1, Array2, Array3};
        let l = mixed_layer();
        let rows: Vec<u64> = (0..40).filter(|r| r % 4 == 0).collect();
        let n = rows.len();
        let mk = |chans: Vec<usize>| VisChunk {
            dd: DataDescId(0),
            spw: SpwId(0),
            field: FieldId(0),
            scan: 1,
            rows: rows.clone(),
            corrs: vec![0, 1],
            time_s: Array1::zeros(n),
            interval_s: Array1::zeros(n),
            ant1: vec![AntennaId(0); n],
            ant2: vec![AntennaId(1); n],
            uvw_m: Array2::zeros((n, 3)),
            data_rcf: Array3::zeros((n, 0, 0)),
            flag_rcf: Array3::from_elem((n, chans.len(), 2), false),
            weight_rc: Array2::zeros((n, 2)),
            sigma_rc: Array2::zeros((n, 2)),
            weight_spectrum_rcf: None,
            flag_row: vec![false; n],
            chans,
        };
        let mut whole = mk((0..1024).collect());
        l.apply(&mut whole);
        let mut expect = 0;
        for (k, &r) in rows.iter().enumerate() {
            for c in 0..1024 {
                for p in 0..2 {
                    let want = l.row(r).is_some_and(|m| m.get(c, p));
                    assert_eq!(whole.flag_rcf[[k, c, p]], want, "row {r} chan {c} corr {p}");
                    expect += usize::from(want);
                }
            }
        }
        assert!(expect > 100);
        // A channel subset goes through the per-cell lookup and agrees.
        let mut sub = mk((100..300).collect());
        l.apply(&mut sub);
        for k in 0..n {
            for c in 0..200 {
                assert_eq!(sub.flag_rcf[[k, c, 1]], whole.flag_rcf[[k, c + 100, 1]]);
            }
        }
    }

    #[test]
    fn cells_rows_merge_and_round_trip() {
        let mut a = FlagLayer::new(100);
        a.flag_cells(3, 64, 2, &[0, 1, 2, 3, 60, 61, 62, 63], &[0, 1]);
        a.flag_row(7);
        assert!(a.row(3).unwrap().get(61, 1));
        assert!(!a.row(3).unwrap().get(30, 0));
        assert_eq!(a.count_row(3, 64, 2), 16);
        assert_eq!(a.count_row(7, 64, 2), 128);
        let mut b = FlagLayer::new(100);
        b.flag_cells(3, 64, 2, &(4..60).collect::<Vec<_>>(), &[0, 1]);
        b.flag_cells(9, 64, 2, &[5], &[1]);
        a.merge(&b);
        assert_eq!(a.count_row(3, 64, 2), 128);
        assert_eq!(a.count_row(9, 64, 2), 1);
        let bytes = a.encode();
        assert_eq!(FlagLayer::decode(&bytes).unwrap(), a);
        // Deterministic bytes for equal content.
        assert_eq!(a.clone().encode(), bytes);
    }

    #[test]
    fn subtract_clears_cells() {
        let mut a = FlagLayer::new(5);
        a.flag_row(1);
        a.flag_cells(2, 4, 2, &[0, 1], &[0]);
        let mut b = FlagLayer::new(5);
        b.flag_cells(1, 4, 2, &[0], &[0, 1]);
        b.flag_cells(2, 4, 2, &[0, 1], &[0]);
        a.subtract(&b);
        assert_eq!(a.count_row(1, 4, 2), 6);
        assert_eq!(a.row(2), None);
    }

    #[test]
    fn full_cell_selection_becomes_whole_row() {
        let mut a = FlagLayer::new(5);
        a.flag_cells(1, 4, 2, &[0, 1], &[0, 1]);
        a.flag_cells(1, 4, 2, &[2, 3], &[0, 1]);
        assert_eq!(a.row(1), Some(&RowMask::All));
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        assert_eq!(FlagLayer::decode(b"nope"), Err(FlagLayerError::BadMagic));
        let mut a = FlagLayer::new(10);
        a.flag_cells(2, 8, 2, &[1, 2], &[0]);
        let bytes = a.encode();
        for cut in MAGIC.len()..bytes.len() {
            assert!(FlagLayer::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
