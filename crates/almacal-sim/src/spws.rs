//! The spectral-window layout of an ALMA Band 7 ACA execution: WVR, pointing (+CH_AVG),
//! Tsys (TDM-like, +CH_AVG) and science (FDM-like, +CH_AVG) windows on four basebands,
//! with lower-sideband windows (BB_3, BB_4) having negative channel widths.

use almacal_core::ids::SpwId;
use almacal_core::meta::SpectralWindow;

/// What a spw is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpwRole {
    Unobserved,
    Pointing,
    Tsys,
    Science,
    /// 1-channel average of a science window (observed alongside it).
    ChAvg,
}

impl SpwRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SpwRole::Unobserved => "unobserved",
            SpwRole::Pointing => "pointing",
            SpwRole::Tsys => "tsys",
            SpwRole::Science => "science",
            SpwRole::ChAvg => "chavg",
        }
    }
}

/// One spw with its simulation role.
#[derive(Debug, Clone)]
pub struct SimSpw {
    pub spw: SpectralWindow,
    pub role: SpwRole,
    /// Baseband index 0..3 (BB_1..BB_4); `None` for the WVR window.
    pub baseband: Option<usize>,
}

/// Baseband centres (Hz): the tutorial's science windows.
pub const BB_CENTRES_HZ: [f64; 4] = [345.996e9, 347.871e9, 333.996e9, 335.871e9];
/// Basebands 3 and 4 are lower sideband.
pub fn is_lsb(bb: usize) -> bool {
    bb >= 2
}
/// Bandwidth of the science and Tsys windows (Hz).
pub const BW_HZ: f64 = 2.0e9;
/// Ids of the science windows, one per baseband.
pub const SCIENCE_SPWS: [u32; 4] = [16, 18, 20, 22];
/// Ids of the Tsys windows, one per baseband.
pub const TSYS_SPWS: [u32; 4] = [9, 11, 13, 15];
/// Ids of the pointing windows, one per baseband.
pub const POINTING_SPWS: [u32; 4] = [1, 3, 5, 7];
/// Channels of the pointing windows.
pub const POINTING_NCHAN: usize = 4;

fn window(
    id: u32,
    name: String,
    centre: f64,
    nchan: usize,
    width: f64,
    lsb: bool,
    bbc: i32,
) -> SpectralWindow {
    // Channel k is at centre + (k − (n−1)/2)·w; LSB windows run downwards in frequency.
    let w = if lsb { -width } else { width };
    let chan_freq_hz: Vec<f64> = (0..nchan)
        .map(|k| centre + (k as f64 - (nchan as f64 - 1.0) / 2.0) * w)
        .collect();
    SpectralWindow {
        id: SpwId(id),
        name,
        ref_freq_hz: chan_freq_hz[0],
        chan_freq_hz,
        chan_width_hz: vec![w; nchan],
        effective_bw_hz: vec![width; nchan],
        resolution_hz: vec![width; nchan],
        total_bw_hz: width * nchan as f64,
        meas_freq_ref: 5,
        net_sideband: if lsb { 1 } else { 2 },
        bbc_no: Some(bbc),
        flag_row: false,
    }
}

/// All 24 spectral windows, in id order.
pub fn spectral_windows(nchan: usize, nchan_tsys: usize) -> Vec<SimSpw> {
    let mut out = Vec::with_capacity(24);
    out.push(SimSpw {
        spw: window(0, "WVR#NOMINAL".into(), 184.55e9, 4, 1.875e9, false, 0),
        role: SpwRole::Unobserved,
        baseband: None,
    });
    let groups: [(u32, SpwRole, usize); 3] = [
        (1, SpwRole::Pointing, POINTING_NCHAN),
        (9, SpwRole::Tsys, nchan_tsys),
        (16, SpwRole::Science, nchan),
    ];
    for (g, &(first, role, n)) in groups.iter().enumerate() {
        for (bb, &c) in BB_CENTRES_HZ.iter().enumerate() {
            let id = first + 2 * bb as u32;
            let name = |kind: &str| format!("X{:010}#ALMA_RB_07#BB_{}#SW-01#{kind}", g, bb + 1);
            let lsb = is_lsb(bb);
            out.push(SimSpw {
                spw: window(
                    id,
                    name("FULL_RES"),
                    c,
                    n,
                    BW_HZ / n as f64,
                    lsb,
                    bb as i32 + 1,
                ),
                role,
                baseband: Some(bb),
            });
            // Like real ALMA data (and the tutorial's spw ids), the last Tsys window has no
            // CH_AVG partner, so the science windows start at id 16.
            if role == SpwRole::Tsys && bb == 3 {
                continue;
            }
            let avg_role = if role == SpwRole::Science {
                SpwRole::ChAvg
            } else {
                SpwRole::Unobserved
            };
            out.push(SimSpw {
                spw: window(
                    id + 1,
                    name("CH_AVG"),
                    c,
                    1,
                    0.9 * BW_HZ,
                    lsb,
                    bb as i32 + 1,
                ),
                role: avg_role,
                baseband: Some(bb),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_alma_ids() {
        let s = spectral_windows(1024, 128);
        assert_eq!(s.len(), 24);
        for (i, w) in s.iter().enumerate() {
            assert_eq!(w.spw.id.0 as usize, i);
        }
        assert_eq!(s[16].role, SpwRole::Science);
        assert_eq!(s[17].role, SpwRole::ChAvg);
        assert_eq!(s[9].role, SpwRole::Tsys);
        assert_eq!(s[10].role, SpwRole::Unobserved);
        // LSB science window: negative width, descending frequencies, centred.
        let w20 = &s[20].spw;
        assert!(w20.chan_width_hz[0] < 0.0);
        assert!(w20.chan_freq_hz[0] > w20.chan_freq_hz[1023]);
        assert!((w20.centre_hz() - 333.996e9).abs() < 1.0);
        assert_eq!(w20.net_sideband, 1);
        // The science window fits inside its Tsys window (tsysspwmap needs it).
        let lo = |w: &SpectralWindow| {
            w.chan_freq_hz.iter().cloned().fold(f64::MAX, f64::min) - 0.5 * w.chan_width_hz[0].abs()
        };
        assert!(lo(&s[16].spw) >= lo(&s[9].spw));
    }
}
