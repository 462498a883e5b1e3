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
        for (k, row) in chunk.rows.iter().enumerate() {
            let Some(mask) = self.rows.get(row) else {
                continue;
            };
            for (ci, &c) in chunk.chans.iter().enumerate() {
                for (pi, &p) in chunk.corrs.iter().enumerate() {
                    if mask.get(c, p) {
                        chunk.flag_rcf[[k, ci, pi]] = true;
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
                    // Alternating run lengths, starting with unflagged.
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
                                for j in i..i + len {
                                    bits[j / 64] |= 1 << (j % 64);
                                }
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
