//! Tsys templates for `renorm` (almacal's addition, `tsys_template = true`): the ratio of the
//! target's to the bandpass calibrator's Tsys spectra per antenna and polarisation, from the
//! SYSCAL measurements (the Tsys spw mapped to each science spw by tsysspwmap, the
//! measurement nearest in time on the target field and on the bandpass field), linearly
//! interpolated onto the science channels. The AC ratio's smooth baseline is this ratio (or
//! its square once Tsys has been applied to the data); dividing it out before the polynomial
//! fits removes receiver ripple that a 4th-order polynomial cannot follow.

use almacal_core::meta::MsMeta;
use almacal_solve::apply::tsys::{freq_interp, FreqMethod};
use almacal_solve::prep::tsys::{tsys_solutions, TsysSolution};
use almacal_solve::prep::tsysspwmap::tsysspwmap;
use ndarray::Array3;
use std::collections::BTreeSet;

/// SYSCAL spectra and the spw map.
pub struct TsysTemplates {
    sols: Vec<TsysSolution>,
    map: Vec<u32>,
    tsys_spws: BTreeSet<u32>,
}

impl TsysTemplates {
    /// `None` when the MS has no SYSCAL spectra.
    pub fn new(meta: &MsMeta, _bandpass_scans: &BTreeSet<i32>) -> Option<Self> {
        let sols = tsys_solutions(&meta.syscal, meta.antennas.len(), &meta.scans, true);
        if sols.is_empty() {
            return None;
        }
        let tsys_spws: BTreeSet<u32> = sols.iter().map(|s| s.spw).collect();
        let list: Vec<(u32, Vec<f64>)> = tsys_spws
            .iter()
            .filter_map(|&t| {
                meta.spws
                    .get(t as usize)
                    .map(|w| (t, w.chan_freq_hz.clone()))
            })
            .collect();
        let map = tsysspwmap(&meta.spws, &list, 0.0);
        Some(Self {
            sols,
            map,
            tsys_spws,
        })
    }

    /// Tsys spectra `[pol][chan]` of antenna `ant` in Tsys spw `t`, on `field`, nearest to `time_s`.
    fn nearest(&self, t: u32, field: i32, ant: u32, time_s: f64) -> Option<&TsysSolution> {
        self.sols
            .iter()
            .filter(|s| s.spw == t && s.field == field && s.antenna == ant)
            .filter(|s| s.flag_pc.iter().flatten().any(|f| !f))
            .min_by(|a, b| {
                (a.time_s - time_s)
                    .abs()
                    .total_cmp(&(b.time_s - time_s).abs())
            })
    }

    /// The template (pol, ant, chan) for science `spw`, target `field` at `time_s`; `None`
    /// if the spw has no Tsys spw or a field has no measurement.
    pub fn template(
        &self,
        meta: &MsMeta,
        spw: u32,
        field: u32,
        time_s: f64,
        bandpass_scans: &BTreeSet<i32>,
    ) -> Option<Array3<f64>> {
        let t = *self.map.get(spw as usize)?;
        if !self.tsys_spws.contains(&t) {
            return None;
        }
        let bp = meta
            .scans
            .iter()
            .find(|s| bandpass_scans.contains(&s.scan))?;
        let bp_time = 0.5 * (bp.start_s + bp.end_s);
        let src = &meta.spws.get(t as usize)?.chan_freq_hz;
        let dst = &meta.spws.get(spw as usize)?.chan_freq_hz;
        let nant = meta.antennas.len();
        let npol = 2;
        let mut out = Array3::<f64>::ones((npol, nant, dst.len()));
        for a in 0..nant {
            let (Some(tt), Some(tb)) = (
                self.nearest(t, field as i32, a as u32, time_s),
                self.nearest(t, bp.field.0 as i32, a as u32, bp_time),
            ) else {
                continue;
            };
            for p in 0..npol.min(tt.tsys_pc.len()).min(tb.tsys_pc.len()) {
                let (it, ft) =
                    freq_interp(src, &tt.tsys_pc[p], &tt.flag_pc[p], dst, FreqMethod::Linear);
                let (ib, fb) =
                    freq_interp(src, &tb.tsys_pc[p], &tb.flag_pc[p], dst, FreqMethod::Linear);
                for c in 0..dst.len() {
                    if !ft[c] && !fb[c] && it[c] > 0.0 && ib[c] > 0.0 {
                        out[[p, a, c]] = f64::from(it[c]) / f64::from(ib[c]);
                    }
                }
            }
        }
        Some(out)
    }
}
