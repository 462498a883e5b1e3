//! The arithmetic of split / mstransform averaging, CASA 6.7's rules: channel averaging of a
//! chunk ([`average_channels`]) and of a spw's channel axis ([`average_spw_axis`]), and time
//! averaging of a chunk ([`average_time`]). No I/O: `vis_out` feeds chunks through these.
//!
//! The rules, found by experiment with CASA 6.7.0-31's split on sim_small
//! (fixtures/split_average/casa_reference.py, MSs without WEIGHT_SPECTRUM):
//!
//! Channel averaging (`split(width=N)`, `mstransform(chanaverage=True, chanbin=N)`):
//! - output channel k averages input channels kN .. kN+N-1; a remainder of fewer than N
//!   channels is dropped (CASA warns "The channel will be dropped in order to have an
//!   uniform grid"); N larger than the spw makes one channel of all.
//! - DATA = mean of the unflagged inputs (equal weights: without WEIGHT_SPECTRUM every
//!   channel of a row and correlation carries WEIGHT); all inputs flagged: the mean of all,
//!   and the output channel is flagged (flagged only when all its inputs are).
//! - the output weight of a channel is n·WEIGHT and its sigma SIGMA·√n/n, n the inputs
//!   averaged; the row's WEIGHT (SIGMA) is the mean of those over the unflagged output
//!   channels of the correlation, over all its channels when all are flagged.
//! - SPECTRAL_WINDOW: CHAN_FREQ the mean of the group, CHAN_WIDTH / EFFECTIVE_BW /
//!   RESOLUTION the sums, NUM_CHAN the groups; REF_FREQUENCY the lowest of the output
//!   CHAN_FREQs and the dropped remainder's mean frequency (so for a descending,
//!   lower-sideband spw with a remainder: that remainder's); TOTAL_BANDWIDTH the sum of
//!   the output |CHAN_WIDTH|, plus twice the remainder's for a descending spw (CASA 6.7's
//!   figures, e.g. 65 input widths for 64 channels averaged by 3).
//!
//! Time averaging (`timebin`), per baseline within a (DDID, field, scan) group, or a
//! (DDID, field) group with split `combine = 'scan'` / mstransform `timespan = 'scan'`
//! (the output row then has the SCAN_NUMBER of its bin's first row). States are crossed:
//! CASA adds `state` to `combine` for ALMA data ("Operating with ALMA data, automatically
//! adding state to timespan"), and the MSs this tool reads are ALMA's.
//! - a bin opens at a row's TIME t0 and takes the following rows while
//!   TIME − t0 ≤ 0.999·timebin.
//! - each (channel, correlation) cell accumulates WEIGHT·DATA and WEIGHT over its unflagged
//!   inputs; while all its inputs so far are flagged it accumulates those, and the first
//!   unflagged input restarts it. DATA = ΣwD / Σw; the cell is flagged only when all its
//!   inputs are; its output weight is Σw. WEIGHT = the mean of those over the unflagged
//!   channels of the correlation (all channels when all are flagged); SIGMA = 1/√WEIGHT.
//! - rows: a row all of whose cells are flagged is skipped once the bin holds an unflagged
//!   row (the bin restarts its row sums at its first unflagged row). TIME_CENTROID and UVW
//!   are means weighted by the row's Σ_corr WEIGHT (plain means while all are flagged),
//!   EXPOSURE the sum; TIME = t_first + (t_last − t_first)/2 and INTERVAL =
//!   (t_last − t_first) + interval_first/2 + interval_last/2 (interval_first when only one
//!   time), t_first the bin's first row, t_last its last accumulated row.
//! - the ids (FEED, STATE_ID, OBSERVATION_ID, ...) are those of the bin's first row.

use almacal_core::chunk::VisChunk;
use ndarray::{Array1, Array2, Array3, Axis};
use num_complex::{Complex32, Complex64};

/// Output channels of `nchan` input channels averaged `width` at a time.
pub fn averaged_nchan(nchan: usize, width: usize) -> usize {
    let w = width.clamp(1, nchan.max(1));
    nchan / w
}

/// A spw channel axis averaged: `mean` (CHAN_FREQ) or summed (CHAN_WIDTH, EFFECTIVE_BW,
/// RESOLUTION), remainder dropped.
pub fn average_spw_axis(v: &[f64], width: usize, mean: bool) -> Vec<f64> {
    let w = width.clamp(1, v.len().max(1));
    (0..averaged_nchan(v.len(), width))
        .map(|k| {
            let s: f64 = v[k * w..(k + 1) * w].iter().sum();
            if mean {
                s / w as f64
            } else {
                s
            }
        })
        .collect()
}

/// (REF_FREQUENCY, TOTAL_BANDWIDTH) of a spw of channel frequencies `freq` and widths
/// `chan_width` averaged `width` at a time (see the module doc).
pub fn averaged_ref_and_total(freq: &[f64], chan_width: &[f64], width: usize) -> (f64, f64) {
    let w = width.clamp(1, freq.len().max(1));
    let kept = averaged_nchan(freq.len(), width) * w;
    let out = average_spw_axis(freq, width, true);
    let rest = &freq[kept.min(freq.len())..];
    let mut reference = out.iter().copied().fold(f64::INFINITY, f64::min);
    if !rest.is_empty() {
        reference = reference.min(rest.iter().sum::<f64>() / rest.len() as f64);
    }
    let abs_sum = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>();
    let mut total = abs_sum(&chan_width[..kept.min(chan_width.len())]);
    let descending = freq.len() > 1 && freq[freq.len() - 1] < freq[0];
    if descending {
        total += 2.0 * abs_sum(&chan_width[kept.min(chan_width.len())..]);
    }
    (reference, total)
}

/// A spw's description after channel averaging by `width` (the SPECTRAL_WINDOW row the
/// output gets; see the module doc).
pub fn average_spw_meta(s: &mut almacal_core::meta::SpectralWindow, width: usize) {
    if width <= 1 {
        return;
    }
    let (reference, total) = averaged_ref_and_total(&s.chan_freq_hz, &s.chan_width_hz, width);
    s.chan_freq_hz = average_spw_axis(&s.chan_freq_hz, width, true);
    s.chan_width_hz = average_spw_axis(&s.chan_width_hz, width, false);
    s.effective_bw_hz = average_spw_axis(&s.effective_bw_hz, width, false);
    s.resolution_hz = average_spw_axis(&s.resolution_hz, width, false);
    if reference.is_finite() {
        s.ref_freq_hz = reference;
    }
    s.total_bw_hz = total;
}

/// Mean over the unflagged output channels of a correlation (all of them when all are
/// flagged) of `per_chan`.
fn mean_over_unflagged(per_chan: &[f64], flagged: &[bool]) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for (v, f) in per_chan.iter().zip(flagged) {
        if !f {
            s += v;
            n += 1;
        }
    }
    if n > 0 {
        s / n as f64
    } else if per_chan.is_empty() {
        0.0
    } else {
        per_chan.iter().sum::<f64>() / per_chan.len() as f64
    }
}

/// Average the channels of `c` `width` at a time (see the module doc). `c.chans` becomes
/// the output channel indices; a WEIGHT_SPECTRUM the chunk carries is dropped.
pub fn average_channels(c: &mut VisChunk, width: usize) {
    let (nrow, nchan, ncorr) = c.data_rcf.dim();
    let w = width.clamp(1, nchan.max(1));
    if w == 1 {
        return;
    }
    let nout = nchan / w;
    let mut data = Array3::<Complex32>::zeros((nrow, nout, ncorr));
    let mut flag = Array3::<bool>::from_elem((nrow, nout, ncorr), false);
    let mut weight = Array2::<f32>::zeros((nrow, ncorr));
    let mut sigma = Array2::<f32>::zeros((nrow, ncorr));
    let mut wfac = vec![0.0f64; nout];
    let mut sfac = vec![0.0f64; nout];
    let mut fout = vec![false; nout];
    for r in 0..nrow {
        for p in 0..ncorr {
            for k in 0..nout {
                let (mut s, mut n) = (Complex64::new(0.0, 0.0), 0usize);
                let (mut sa, mut na) = (Complex64::new(0.0, 0.0), 0usize);
                for ch in k * w..(k + 1) * w {
                    let d = c.data_rcf[[r, ch, p]];
                    let d = Complex64::new(f64::from(d.re), f64::from(d.im));
                    sa += d;
                    na += 1;
                    if !c.flag_rcf[[r, ch, p]] {
                        s += d;
                        n += 1;
                    }
                }
                let (sum, cnt, flagged) = if n > 0 { (s, n, false) } else { (sa, na, true) };
                let m = sum / cnt as f64;
                data[[r, k, p]] = Complex32::new(m.re as f32, m.im as f32);
                flag[[r, k, p]] = flagged;
                fout[k] = flagged;
                wfac[k] = cnt as f64;
                sfac[k] = 1.0 / (cnt as f64).sqrt();
            }
            weight[[r, p]] =
                (f64::from(c.weight_rc[[r, p]]) * mean_over_unflagged(&wfac, &fout)) as f32;
            sigma[[r, p]] =
                (f64::from(c.sigma_rc[[r, p]]) * mean_over_unflagged(&sfac, &fout)) as f32;
        }
    }
    c.data_rcf = data;
    c.flag_rcf = flag;
    c.weight_rc = weight;
    c.sigma_rc = sigma;
    c.weight_spectrum_rcf = None;
    c.chans = (0..nout).collect();
}

/// The rows `keep` of `c` (split `keepflags = false` drops fully flagged rows before CASA
/// averages).
pub fn select_rows(c: &VisChunk, keep: &[usize]) -> VisChunk {
    VisChunk {
        rows: keep.iter().map(|&k| c.rows[k]).collect(),
        time_s: c.time_s.select(Axis(0), keep),
        interval_s: c.interval_s.select(Axis(0), keep),
        ant1: keep.iter().map(|&k| c.ant1[k]).collect(),
        ant2: keep.iter().map(|&k| c.ant2[k]).collect(),
        uvw_m: c.uvw_m.select(Axis(0), keep),
        data_rcf: c.data_rcf.select(Axis(0), keep),
        flag_rcf: c.flag_rcf.select(Axis(0), keep),
        weight_rc: c.weight_rc.select(Axis(0), keep),
        sigma_rc: c.sigma_rc.select(Axis(0), keep),
        weight_spectrum_rcf: c
            .weight_spectrum_rcf
            .as_ref()
            .map(|w| w.select(Axis(0), keep)),
        flag_row: keep.iter().map(|&k| c.flag_row[k]).collect(),
        dd: c.dd,
        spw: c.spw,
        field: c.field,
        scan: c.scan,
        chans: c.chans.clone(),
        corrs: c.corrs.clone(),
    }
}

/// Per-row values of the input that a chunk does not carry, for [`average_time`].
#[derive(Debug, Clone, Default)]
pub struct RowTimes {
    pub time_centroid: Vec<f64>,
    pub exposure: Vec<f64>,
}

/// One open time bin of one baseline.
struct Bin {
    first: usize,
    t_first: f64,
    t_last: f64,
    int_first: f64,
    int_last: f64,
    cell_flag: Vec<bool>,
    cell_n: Vec<u32>,
    sum_wd: Vec<Complex64>,
    sum_w: Vec<f64>,
    row_flag: bool,
    nrow: u32,
    exposure: f64,
    tc: f64,
    uvw: [f64; 3],
    row_w: f64,
}

impl Bin {
    fn open(c: &VisChunk, r: usize) -> Self {
        let (_, nchan, ncorr) = c.data_rcf.dim();
        let n = nchan * ncorr;
        Self {
            first: r,
            t_first: c.time_s[r],
            t_last: c.time_s[r],
            int_first: c.interval_s[r],
            int_last: c.interval_s[r],
            cell_flag: vec![true; n],
            cell_n: vec![0; n],
            sum_wd: vec![Complex64::new(0.0, 0.0); n],
            sum_w: vec![0.0; n],
            row_flag: true,
            nrow: 0,
            exposure: 0.0,
            tc: 0.0,
            uvw: [0.0; 3],
            row_w: 0.0,
        }
    }

    fn add(&mut self, c: &VisChunk, r: usize, rt: &RowTimes) {
        let (_, nchan, ncorr) = c.data_rcf.dim();
        let mut row_flagged = true;
        for ch in 0..nchan {
            for p in 0..ncorr {
                let i = ch * ncorr + p;
                let f = c.flag_rcf[[r, ch, p]];
                row_flagged &= f;
                if !self.cell_flag[i] && f {
                    continue;
                }
                if self.cell_flag[i] != f || self.cell_n[i] == 0 {
                    self.cell_n[i] = 0;
                    self.sum_wd[i] = Complex64::new(0.0, 0.0);
                    self.sum_w[i] = 0.0;
                }
                let w = f64::from(c.weight_rc[[r, p]]);
                let d = c.data_rcf[[r, ch, p]];
                self.sum_wd[i] += Complex64::new(f64::from(d.re), f64::from(d.im)) * w;
                self.sum_w[i] += w;
                self.cell_n[i] += 1;
                self.cell_flag[i] &= f;
            }
        }
        if !self.row_flag && row_flagged {
            return;
        }
        if self.row_flag != row_flagged || self.nrow == 0 {
            self.nrow = 0;
            self.exposure = 0.0;
            self.tc = 0.0;
            self.uvw = [0.0; 3];
            self.row_w = 0.0;
        }
        self.row_flag &= row_flagged;
        let wu = if self.row_flag {
            1.0
        } else {
            c.weight_rc
                .index_axis(Axis(0), r)
                .iter()
                .map(|&x| f64::from(x))
                .sum()
        };
        self.nrow += 1;
        self.exposure += rt.exposure[r];
        self.tc += rt.time_centroid[r] * wu;
        for (k, u) in self.uvw.iter_mut().enumerate() {
            *u += c.uvw_m[[r, k]] * wu;
        }
        self.row_w += wu;
        self.t_last = c.time_s[r];
        self.int_last = c.interval_s[r];
    }
}

/// The output rows of `c` averaged in time bins of `timebin_s` (see the module doc), with
/// their TIME_CENTROID and EXPOSURE. `rt` holds the input's per chunk row. Output rows are
/// ordered by (bin start time, first input row); `rows` are those first input rows.
pub fn average_time(c: &VisChunk, rt: &RowTimes, timebin_s: f64) -> (VisChunk, RowTimes) {
    let (nrow, nchan, ncorr) = c.data_rcf.dim();
    let max_dt = timebin_s * 0.999;
    // Rows of each baseline in time order (the chunk is in time order).
    let mut order: Vec<usize> = (0..nrow).collect();
    order.sort_by(|&a, &b| {
        c.time_s[a]
            .partial_cmp(&c.time_s[b])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut open: std::collections::HashMap<(u32, u32), Bin> = std::collections::HashMap::new();
    let mut done: Vec<Bin> = Vec::new();
    for &r in &order {
        let key = (c.ant1[r].0, c.ant2[r].0);
        if let Some(b) = open.get(&key) {
            if c.time_s[r] - b.t_first > max_dt {
                if let Some(b) = open.remove(&key) {
                    done.push(b);
                }
            }
        }
        open.entry(key)
            .or_insert_with(|| Bin::open(c, r))
            .add(c, r, rt);
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| {
        a.t_first
            .partial_cmp(&b.t_first)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.first.cmp(&b.first))
    });
    let n = done.len();
    let mut out = VisChunk {
        dd: c.dd,
        spw: c.spw,
        field: c.field,
        scan: c.scan,
        rows: Vec::with_capacity(n),
        chans: c.chans.clone(),
        corrs: c.corrs.clone(),
        time_s: Array1::zeros(n),
        interval_s: Array1::zeros(n),
        ant1: Vec::with_capacity(n),
        ant2: Vec::with_capacity(n),
        uvw_m: Array2::zeros((n, 3)),
        data_rcf: Array3::zeros((n, nchan, ncorr)),
        flag_rcf: Array3::from_elem((n, nchan, ncorr), false),
        weight_rc: Array2::zeros((n, ncorr)),
        sigma_rc: Array2::zeros((n, ncorr)),
        weight_spectrum_rcf: None,
        flag_row: vec![false; n],
    };
    let mut times = RowTimes {
        time_centroid: Vec::with_capacity(n),
        exposure: Vec::with_capacity(n),
    };
    let mut ws = vec![0.0f64; nchan];
    let mut fl = vec![false; nchan];
    for (o, b) in done.iter().enumerate() {
        out.rows.push(c.rows[b.first]);
        out.ant1.push(c.ant1[b.first]);
        out.ant2.push(c.ant2[b.first]);
        let dt = b.t_last - b.t_first;
        out.time_s[o] = b.t_first + dt / 2.0;
        out.interval_s[o] = if dt != 0.0 {
            dt + b.int_first / 2.0 + b.int_last / 2.0
        } else {
            b.int_first
        };
        let rw = if b.row_w != 0.0 { b.row_w } else { 1.0 };
        for k in 0..3 {
            out.uvw_m[[o, k]] = b.uvw[k] / rw;
        }
        times.time_centroid.push(b.tc / rw);
        times.exposure.push(b.exposure);
        for p in 0..ncorr {
            for ch in 0..nchan {
                let i = ch * ncorr + p;
                let d = if b.sum_w[i] != 0.0 {
                    b.sum_wd[i] / b.sum_w[i]
                } else {
                    Complex64::new(0.0, 0.0)
                };
                out.data_rcf[[o, ch, p]] = Complex32::new(d.re as f32, d.im as f32);
                out.flag_rcf[[o, ch, p]] = b.cell_flag[i];
                ws[ch] = b.sum_w[i];
                fl[ch] = b.cell_flag[i];
            }
            let w = mean_over_unflagged(&ws, &fl);
            out.weight_rc[[o, p]] = w as f32;
            out.sigma_rc[[o, p]] = if w > 0.0 {
                (1.0 / w.sqrt()) as f32
            } else {
                0.0
            };
        }
    }
    (out, times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use almacal_core::ids::{AntennaId, DataDescId, FieldId, SpwId};

    fn chunk(nrow: usize, nchan: usize) -> VisChunk {
        VisChunk {
            dd: DataDescId(0),
            spw: SpwId(0),
            field: FieldId(0),
            scan: 1,
            rows: (0..nrow as u64).collect(),
            chans: (0..nchan).collect(),
            corrs: vec![0, 1],
            time_s: Array1::from_iter((0..nrow).map(|r| 10.0 * r as f64)),
            interval_s: Array1::from_elem(nrow, 10.0),
            ant1: vec![AntennaId(0); nrow],
            ant2: vec![AntennaId(1); nrow],
            uvw_m: Array2::from_shape_fn((nrow, 3), |(r, k)| (r * 3 + k) as f64),
            data_rcf: Array3::from_shape_fn((nrow, nchan, 2), |(r, ch, p)| {
                Complex32::new((r * 100 + ch) as f32, p as f32)
            }),
            flag_rcf: Array3::from_elem((nrow, nchan, 2), false),
            weight_rc: Array2::from_elem((nrow, 2), 2.0),
            sigma_rc: Array2::from_elem((nrow, 2), 0.5),
            weight_spectrum_rcf: None,
            flag_row: vec![false; nrow],
        }
    }

    #[test]
    fn spw_axis_drops_the_remainder() {
        let f: Vec<f64> = (0..10).map(|k| 100.0 + k as f64).collect();
        assert_eq!(average_spw_axis(&f, 4, true), vec![101.5, 105.5]);
        assert_eq!(average_spw_axis(&[1.0; 10], 4, false), vec![4.0, 4.0]);
        assert_eq!(average_spw_axis(&f, 20, true), vec![104.5]);
        assert_eq!(averaged_nchan(64, 7), 9);
    }

    #[test]
    fn reference_frequency_and_total_bandwidth_as_casa_writes_them() {
        // Ascending, 10 channels by 4 (2 dropped): the first output channel; 8 widths.
        let up: Vec<f64> = (0..10).map(|k| 100.0 + k as f64).collect();
        assert_eq!(averaged_ref_and_total(&up, &[1.0; 10], 4), (101.5, 8.0));
        // Descending, 64 by 3 (1 dropped): the dropped channel's frequency; 65 widths.
        let down: Vec<f64> = (0..64).map(|k| 1000.0 - k as f64).collect();
        assert_eq!(averaged_ref_and_total(&down, &[-1.0; 64], 3), (937.0, 65.0));
        // Descending, 64 by 5 (60..63 dropped): their mean; 68 widths.
        assert_eq!(averaged_ref_and_total(&down, &[-1.0; 64], 5), (938.5, 68.0));
        // Descending without a remainder: the lowest output channel; 64 widths.
        assert_eq!(averaged_ref_and_total(&down, &[-1.0; 64], 8), (940.5, 64.0));
    }

    #[test]
    fn channel_average_of_unflagged_inputs_and_its_weights() {
        let mut c = chunk(1, 7);
        // Output channel 0 = inputs 0..2: input 1 flagged; channel 1 = 3..5 all flagged.
        c.flag_rcf[[0, 1, 0]] = true;
        for ch in 3..6 {
            c.flag_rcf[[0, ch, 0]] = true;
        }
        average_channels(&mut c, 3);
        assert_eq!(c.data_rcf.dim(), (1, 2, 2));
        assert_eq!(c.data_rcf[[0, 0, 0]], Complex32::new(1.0, 0.0)); // (0 + 2) / 2
        assert_eq!(c.data_rcf[[0, 1, 0]], Complex32::new(4.0, 0.0)); // all: (3+4+5)/3
        assert!(!c.flag_rcf[[0, 0, 0]] && c.flag_rcf[[0, 1, 0]]);
        // Correlation 0: the only unflagged output channel has 2 inputs.
        assert_eq!(c.weight_rc[[0, 0]], 4.0);
        assert!((c.sigma_rc[[0, 0]] - 0.5 / 2f32.sqrt()).abs() < 1e-7);
        // Correlation 1: both channels of 3 inputs.
        assert_eq!(c.weight_rc[[0, 1]], 6.0);
        assert!((c.sigma_rc[[0, 1]] - 0.5 / 3f32.sqrt()).abs() < 1e-7);
        assert_eq!(c.chans, vec![0, 1]);
    }

    #[test]
    fn time_bins_weights_and_flagged_rows() {
        // Rows at 0, 10, 20, 30, 40 s; timebin 30 s: bins {0,10,20} and {30,40}.
        let mut c = chunk(5, 1);
        c.weight_rc[[1, 0]] = 6.0;
        c.weight_rc[[1, 1]] = 6.0;
        // Row 2 entirely flagged: skipped by the first bin.
        c.flag_rcf.index_axis_mut(Axis(0), 2).fill(true);
        let rt = RowTimes {
            time_centroid: (0..5).map(|r| 10.0 * r as f64 + 0.5).collect(),
            exposure: vec![9.0; 5],
        };
        let (o, t) = average_time(&c, &rt, 30.0);
        assert_eq!(o.nrows(), 2);
        assert_eq!(o.rows, vec![0, 3]);
        // Bin 1: rows 0 (w 2) and 1 (w 6): TIME = 0 + 10/2, INTERVAL = 10 + 5 + 5.
        assert_eq!(o.time_s[0], 5.0);
        assert_eq!(o.interval_s[0], 20.0);
        assert_eq!(t.exposure[0], 18.0);
        assert!((t.time_centroid[0] - (0.5 * 4.0 + 10.5 * 12.0) / 16.0).abs() < 1e-12);
        assert!((o.uvw_m[[0, 0]] - (0.0 * 4.0 + 3.0 * 12.0) / 16.0).abs() < 1e-12);
        let d = (0.0 * 2.0 + 100.0 * 6.0) / 8.0;
        assert!((o.data_rcf[[0, 0, 0]].re - d as f32).abs() < 1e-4);
        assert_eq!(o.weight_rc[[0, 0]], 8.0);
        assert!((o.sigma_rc[[0, 0]] - 1.0 / 8f32.sqrt()).abs() < 1e-7);
        // Bin 2: rows 3 and 4.
        assert_eq!(o.time_s[1], 35.0);
        assert_eq!(o.weight_rc[[1, 1]], 4.0);
        assert!(!o.flag_rcf[[1, 0, 0]]);
    }

    /// Rows `r` of `c` as a chunk of their own.
    fn rows_of(c: &VisChunk, r: std::ops::Range<usize>) -> VisChunk {
        use ndarray::s;
        VisChunk {
            rows: c.rows[r.clone()].to_vec(),
            time_s: c.time_s.slice(s![r.clone()]).to_owned(),
            interval_s: c.interval_s.slice(s![r.clone()]).to_owned(),
            ant1: c.ant1[r.clone()].to_vec(),
            ant2: c.ant2[r.clone()].to_vec(),
            uvw_m: c.uvw_m.slice(s![r.clone(), ..]).to_owned(),
            data_rcf: c.data_rcf.slice(s![r.clone(), .., ..]).to_owned(),
            flag_rcf: c.flag_rcf.slice(s![r.clone(), .., ..]).to_owned(),
            weight_rc: c.weight_rc.slice(s![r.clone(), ..]).to_owned(),
            sigma_rc: c.sigma_rc.slice(s![r.clone(), ..]).to_owned(),
            flag_row: c.flag_row[r].to_vec(),
            ..c.clone()
        }
    }

    #[test]
    fn chunks_cut_at_the_readers_bin_boundaries_average_as_one() {
        // Two baselines every 10 s, (0, 2) missing at 70 s; bins of 25 s: cuts at 30, 60, 90 s.
        let mut c = chunk(0, 2);
        let mut rows = Vec::new();
        for k in 0..12 {
            for b in [1u32, 2] {
                if !(b == 2 && k == 7) {
                    rows.push((10.0 * k as f64, b));
                }
            }
        }
        let n = rows.len();
        c.rows = (0..n as u64).collect();
        c.time_s = Array1::from_iter(rows.iter().map(|r| r.0));
        c.interval_s = Array1::from_elem(n, 10.0);
        c.ant1 = vec![AntennaId(0); n];
        c.ant2 = rows.iter().map(|r| AntennaId(r.1)).collect();
        c.uvw_m = Array2::from_shape_fn((n, 3), |(r, k)| (r + k) as f64);
        c.data_rcf = Array3::from_shape_fn((n, 2, 2), |(r, ch, p)| {
            Complex32::new(r as f32, (ch + p) as f32)
        });
        c.flag_rcf = Array3::from_elem((n, 2, 2), false);
        c.weight_rc = Array2::from_shape_fn((n, 2), |(r, p)| 1.0 + (r + p) as f32);
        c.sigma_rc = Array2::ones((n, 2));
        c.flag_row = vec![false; n];
        let rt = RowTimes {
            time_centroid: c.time_s.to_vec(),
            exposure: vec![10.0; n],
        };
        let bl: Vec<(i32, i32)> = rows.iter().map(|r| (0, r.1 as i32)).collect();
        let cuts = almacal_casa::reader::bin_boundaries(&c.time_s.to_vec(), &bl, 25.0);
        assert_eq!(cuts.len(), 3);
        let (whole, wt) = average_time(&c, &rt, 25.0);
        let mut bounds = vec![0];
        bounds.extend(&cuts);
        bounds.push(n);
        let (mut time, mut data, mut tc) = (Vec::new(), Vec::new(), Vec::new());
        for w in bounds.windows(2) {
            let part = rows_of(&c, w[0]..w[1]);
            let prt = RowTimes {
                time_centroid: rt.time_centroid[w[0]..w[1]].to_vec(),
                exposure: rt.exposure[w[0]..w[1]].to_vec(),
            };
            let (o, t) = average_time(&part, &prt, 25.0);
            time.extend(o.time_s.iter().copied());
            data.extend(o.data_rcf.iter().copied());
            tc.extend(t.time_centroid);
        }
        assert_eq!(time, whole.time_s.to_vec());
        assert_eq!(data, whole.data_rcf.iter().copied().collect::<Vec<_>>());
        assert_eq!(tc, wt.time_centroid);
    }

    #[test]
    fn an_all_flagged_bin_is_a_flagged_plain_average() {
        let mut c = chunk(2, 1);
        c.flag_rcf.fill(true);
        c.weight_rc[[1, 0]] = 6.0;
        let rt = RowTimes {
            time_centroid: vec![0.0, 10.0],
            exposure: vec![10.0, 10.0],
        };
        let (o, t) = average_time(&c, &rt, 60.0);
        assert_eq!(o.nrows(), 1);
        assert!(o.flag_rcf.iter().all(|&f| f));
        assert_eq!(t.time_centroid[0], 5.0);
        assert_eq!(t.exposure[0], 20.0);
        // Cells: weighted by WEIGHT even when flagged; WEIGHT = Σw of the flagged inputs.
        assert_eq!(o.weight_rc[[0, 0]], 8.0);
        assert!((o.data_rcf[[0, 0, 0]].re - 600.0 / 8.0).abs() < 1e-4);
    }
}
