//! `tsysspwmap`: which Tsys spw calibrates each MS spw — the one on the same baseband whose
//! frequency range covers it (casarecipes/analysisUtils semantics, algorithms.md §5.3).

use almacal_core::meta::SpectralWindow;

/// Frequency range of a spw as tsysspwmap computes it: [min f − ½w, max f + ½w] with the
/// *signed* first channel width w (so LSB ranges shrink, as in CASA).
fn ms_range(spw: &SpectralWindow) -> Option<(f64, f64)> {
    let fmin = spw.chan_freq_hz.iter().copied().reduce(f64::min)?;
    let fmax = spw.chan_freq_hz.iter().copied().reduce(f64::max)?;
    let w = *spw.chan_width_hz.first()?;
    Some((fmin - 0.5 * w, fmax + 0.5 * w))
}

/// The map for every MS spw (index = MS spw id): the Tsys spw whose baseband matches and
/// whose range (widened by `chan_tol` Tsys channels) contains the spw; unmatched spws map
/// to themselves. `tsys_spws` are the spws present in the Tsys table, with their channel
/// frequencies (from the caltable's SPECTRAL_WINDOW).
pub fn tsysspwmap(
    ms_spws: &[SpectralWindow],
    tsys_spws: &[(u32, Vec<f64>)],
    chan_tol: f64,
) -> Vec<u32> {
    let mut map: Vec<u32> = (0..ms_spws.len() as u32).collect();
    let mut matched = vec![false; ms_spws.len()];
    let bbc_row0 = ms_spws.first().and_then(|s| s.bbc_no);
    for (t, freqs) in tsys_spws {
        let Some(tspw) = ms_spws.get(*t as usize) else {
            continue;
        };
        let (Some(lo), Some(hi)) = (
            freqs.iter().copied().reduce(f64::min),
            freqs.iter().copied().reduce(f64::max),
        ) else {
            continue;
        };
        let dnu = if freqs.len() > 1 {
            (freqs[1] - freqs[0]).abs()
        } else {
            tspw.chan_width_hz.first().map_or(0.0, |w| w.abs())
        };
        let (lo, hi) = (
            lo - 0.5 * dnu - chan_tol * dnu,
            hi + 0.5 * dnu + chan_tol * dnu,
        );
        let bb = tspw.bbc_no;
        for (i, spw) in ms_spws.iter().enumerate() {
            if spw.bbc_no != bb {
                continue;
            }
            let Some((fmin, fmax)) = ms_range(spw) else {
                continue;
            };
            if fmin >= lo && fmax <= hi {
                // First match wins; casarecipes lets a later one replace it only when the
                // baseband of MS row 0 equals this Tsys baseband (a quirk kept for parity).
                if !matched[i] || bbc_row0 == bb {
                    map[i] = *t;
                    matched[i] = true;
                }
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use almacal_core::ids::SpwId;

    fn spw(id: u32, f0: f64, w: f64, n: usize, bbc: i32) -> SpectralWindow {
        SpectralWindow {
            id: SpwId(id),
            name: String::new(),
            chan_freq_hz: (0..n).map(|k| f0 + w * k as f64).collect(),
            chan_width_hz: vec![w; n],
            effective_bw_hz: vec![w.abs(); n],
            resolution_hz: vec![w.abs(); n],
            ref_freq_hz: f0,
            total_bw_hz: w.abs() * n as f64,
            meas_freq_ref: 5,
            net_sideband: if w < 0.0 { 1 } else { 2 },
            bbc_no: Some(bbc),
            flag_row: false,
        }
    }

    #[test]
    fn maps_science_to_tsys_on_the_same_baseband() {
        // 0: WVR; 1: Tsys BB1 USB; 2: Tsys BB3 LSB; 3: science BB1; 4: science BB3 (LSB);
        // 5: science BB1 outside the Tsys window.
        let spws = vec![
            spw(0, 180e9, 1e9, 4, 0),
            spw(1, 345.0e9, 62.5e6, 32, 1),
            spw(2, 335.0e9, -62.5e6, 32, 3),
            spw(3, 345.1e9, 29.3e6, 64, 1),
            spw(4, 334.9e9, -29.3e6, 64, 3),
            spw(5, 350.0e9, 29.3e6, 64, 1),
        ];
        let tsys = vec![
            (1, spws[1].chan_freq_hz.clone()),
            (2, spws[2].chan_freq_hz.clone()),
        ];
        assert_eq!(tsysspwmap(&spws, &tsys, 0.0), vec![0, 1, 2, 1, 2, 5]);
    }

    #[test]
    fn tolerance_widens_the_tsys_window() {
        let spws = vec![
            spw(0, 180e9, 1e9, 4, 0),
            spw(1, 345.0e9, 62.5e6, 32, 1),
            // Sticks out by half a Tsys channel below.
            spw(2, 345.0e9 - 62.5e6, 31.25e6, 10, 1),
        ];
        let tsys = vec![(1, spws[1].chan_freq_hz.clone())];
        assert_eq!(tsysspwmap(&spws, &tsys, 0.0)[2], 2);
        assert_eq!(tsysspwmap(&spws, &tsys, 1.0)[2], 1);
    }
}
