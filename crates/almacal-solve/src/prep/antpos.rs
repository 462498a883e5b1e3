//! gencal caltype='antpos' (KAntPos Jones, algorithms.md §6): ITRF position offsets per
//! antenna, and the phase correction applycal applies with them:
//! `V_corr = V_obs · exp(−i·2π·ν·(dw_i − dw_j)/c)`, dw_k = w component of antenna k's
//! offset toward the phase centre at the row's time. UVW and weights are untouched.

use super::eop::{eop_at, Dut1Hold, Eop};
use super::geometry::{itrf_baseline_to_j2000_casa, rotate, uvw_axes};
use num_complex::Complex64;

/// Speed of light (m/s).
pub const C_M_S: f64 = 299_792_458.0;

/// Offsets (new − old ITRF position, m) per antenna from corrected positions given by name;
/// antennas not listed get zero. Returns the offsets and the names not found in the MS.
pub fn offsets_from_positions(
    antenna_names: &[String],
    old_positions_m: &[[f64; 3]],
    new_positions: &[(String, [f64; 3])],
) -> (Vec<[f64; 3]>, Vec<String>) {
    let mut out = vec![[0.0; 3]; antenna_names.len()];
    let mut unknown = Vec::new();
    for (name, p) in new_positions {
        match antenna_names.iter().position(|n| n == name) {
            Some(k) => {
                let o = old_positions_m[k];
                out[k] = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
            }
            None => unknown.push(name.clone()),
        }
    }
    (out, unknown)
}

/// The content of an antenna-position file (gencal caltype='antpos' `infile`).
#[derive(Debug, Clone, PartialEq)]
pub enum AntposFile {
    /// getantposalma's `{"data": {name: [x, y, z]}}`: corrected ITRF positions (m).
    Positions(Vec<(String, [f64; 3])>),
    /// `{"offsets": {name: [dx, dy, dz]}}`: ITRF offsets (m), new − old.
    Offsets(Vec<(String, [f64; 3])>),
}

fn triplets(v: &serde_json::Value, what: &str) -> Result<Vec<(String, [f64; 3])>, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("`{what}` must be an object {{antenna name: [x, y, z]}}"))?;
    let mut out = Vec::new();
    for (name, xyz) in obj {
        let p: Vec<f64> = xyz
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default();
        if p.len() != 3 {
            return Err(format!(
                "`{what}.{name}` must be three numbers [x, y, z] in metres"
            ));
        }
        out.push((name.clone(), [p[0], p[1], p[2]]));
    }
    Ok(out)
}

/// Parse an antenna-position JSON file; the error says what is wrong and what is expected.
pub fn parse_antpos_json(text: &str) -> Result<AntposFile, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    if let Some(d) = json.get("data") {
        Ok(AntposFile::Positions(triplets(d, "data")?))
    } else if let Some(d) = json.get("offsets") {
        Ok(AntposFile::Offsets(triplets(d, "offsets")?))
    } else {
        Err("expected a `data` object of ITRF positions (getantposalma format) or an `offsets` object".into())
    }
}

/// Per-antenna delays dw_k (m) of the offsets toward (ra, dec) at `mjd_utc_s`, with the
/// IERS Earth orientation casacore uses (zero outside the embedded table; UT1−UTC
/// interpolated at the epoch) and casacore's baseline conversion; `site_itrf_m` is the
/// frame position (antenna 0, as in CASA).
pub fn antenna_delays_m(
    offsets_m: &[[f64; 3]],
    site_itrf_m: [f64; 3],
    mjd_utc_s: f64,
    ra_rad: f64,
    dec_rad: f64,
) -> Vec<f64> {
    let eop = eop_at(mjd_utc_s / 86_400.0).unwrap_or(Eop::ZERO);
    antenna_delays_m_eop(offsets_m, site_itrf_m, mjd_utc_s, ra_rad, dec_rad, eop)
}

/// As [`antenna_delays_m`], with UT1−UTC held as casacore's `MeasTable::dUT1` holds it
/// (see [`Dut1Hold`]): closer to CASA (to 7e-9 instead of 1.1e-8 relative in w on the
/// casatools comparison of 90 time-ordered keys) when called in CASA's order.
pub fn antenna_delays_m_held(
    offsets_m: &[[f64; 3]],
    site_itrf_m: [f64; 3],
    mjd_utc_s: f64,
    ra_rad: f64,
    dec_rad: f64,
    hold: &Dut1Hold,
) -> Vec<f64> {
    let eop = hold.eop_at(mjd_utc_s / 86_400.0).unwrap_or(Eop::ZERO);
    antenna_delays_m_eop(offsets_m, site_itrf_m, mjd_utc_s, ra_rad, dec_rad, eop)
}

fn antenna_delays_m_eop(
    offsets_m: &[[f64; 3]],
    site_itrf_m: [f64; 3],
    mjd_utc_s: f64,
    ra_rad: f64,
    dec_rad: f64,
    eop: Eop,
) -> Vec<f64> {
    let m = itrf_baseline_to_j2000_casa(mjd_utc_s, eop, site_itrf_m, ra_rad, dec_rad);
    let axes = uvw_axes(ra_rad, dec_rad);
    offsets_m
        .iter()
        .map(|&d| rotate(&axes, rotate(&m, d))[2])
        .collect()
}

/// The factor that corrects baseline (i, j) at frequency `freq_hz`.
pub fn correction(dw_i_m: f64, dw_j_m: f64, freq_hz: f64) -> Complex64 {
    let phase = -std::f64::consts::TAU * freq_hz * (dw_i_m - dw_j_m) / C_M_S;
    Complex64::from_polar(1.0, phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_file_forms() {
        let p = parse_antpos_json(r#"{"data": {"CM01": [1.0, 2.0, 3.0]}, "metadata": {}}"#);
        assert_eq!(
            p,
            Ok(AntposFile::Positions(vec![(
                "CM01".into(),
                [1.0, 2.0, 3.0]
            )]))
        );
        let o = parse_antpos_json(r#"{"offsets": {"CM02": [0.001, 0.0, -0.002]}}"#);
        assert_eq!(
            o,
            Ok(AntposFile::Offsets(vec![(
                "CM02".into(),
                [0.001, 0.0, -0.002]
            )]))
        );
        assert!(parse_antpos_json(r#"{"data": {"CM01": [1.0, 2.0]}}"#)
            .unwrap_err()
            .contains("three numbers"));
        assert!(parse_antpos_json("{}")
            .unwrap_err()
            .contains("getantposalma"));
        assert!(parse_antpos_json("nope").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn offsets_by_name() {
        let names = vec!["CM01".to_string(), "CM02".to_string()];
        let old = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let (off, unknown) = offsets_from_positions(
            &names,
            &old,
            &[
                ("CM02".into(), [4.001, 5.0, 5.998]),
                ("DV99".into(), [0.0; 3]),
            ],
        );
        assert_eq!(off[0], [0.0; 3]);
        assert!((off[1][0] - 0.001).abs() < 1e-12 && (off[1][2] + 0.002).abs() < 1e-12);
        assert_eq!(unknown, vec!["DV99".to_string()]);
    }

    #[test]
    fn correction_cancels_the_position_error_phase() {
        // A visibility corrupted by exp(-2πiν/c (dX_j − dX_i)·ŝ) is restored.
        let t = 57_493.0 * 86_400.0 + 22_800.0;
        let (ra, dec) = (4.65, -0.506);
        let offsets = [[0.003, -0.001, 0.002], [-0.004, 0.0025, 0.001]];
        let dw = antenna_delays_m(&offsets, [2.2e6, -5.44e6, -2.48e6], t, ra, dec);
        let nu = 345.9e9;
        let corrupt =
            Complex64::from_polar(1.0, -std::f64::consts::TAU * nu / C_M_S * (dw[1] - dw[0]));
        let fixed = corrupt * correction(dw[0], dw[1], nu);
        assert!((fixed - Complex64::new(1.0, 0.0)).norm() < 1e-12);
        // Millimetre offsets at 346 GHz are worth tens of degrees: the test is not trivial.
        assert!(corrupt.arg().abs() > 0.1);
    }
}
