//! Earth-to-sky geometry for baselines: ITRF vectors rotated to J2000 at an epoch
//! (IAU 2006/2000A precession-nutation and apparent sidereal time, UT1 taken as UTC, polar
//! motion neglected) and projected on a source direction. Used for antenna-position phase
//! corrections (gencal antpos) and UVW of missing baselines.

use erfa::prenut::pn_matrix_06a;
use erfa::time::gst06;

/// Seconds per day.
const DAY_S: f64 = 86_400.0;
/// MJD 0 as a Julian date.
const MJD0_JD: f64 = 2_400_000.5;
/// TT − UTC (s) for dates between 2012-07-01 and 2017-01-01 shifted per leap second;
/// the precession-nutation matrix is insensitive to this at the 1e-9 rad level.
fn tt_minus_utc_s(mjd_s: f64) -> f64 {
    // Leap seconds (TAI − UTC) from 2009; earlier epochs are far from ALMA data.
    const STEPS: [(f64, f64); 5] = [
        (56_109.0, 35.0), // 2012-07-01
        (57_204.0, 36.0), // 2015-07-01
        (57_754.0, 37.0), // 2017-01-01
        (f64::INFINITY, 37.0),
        (f64::INFINITY, 37.0),
    ];
    let mjd = mjd_s / DAY_S;
    let mut tai_utc = 34.0;
    for (start, v) in STEPS {
        if mjd >= start {
            tai_utc = v;
        }
    }
    tai_utc + 32.184
}

/// The matrix taking an ITRF (terrestrial) vector to J2000/GCRS at `mjd_utc_s`.
pub fn itrf_to_j2000(mjd_utc_s: f64) -> [[f64; 3]; 3] {
    let ut_day = (mjd_utc_s / DAY_S).floor();
    let ut_frac = mjd_utc_s / DAY_S - ut_day;
    let tt_frac = ut_frac + tt_minus_utc_s(mjd_utc_s) / DAY_S;
    let (uta, utb) = (MJD0_JD + ut_day, ut_frac);
    let (tta, ttb) = (MJD0_JD + ut_day, tt_frac);
    let rnpb = pn_matrix_06a(tta, ttb);
    let gst = gst06(uta, utb, tta, ttb, rnpb);
    // celestial -> terrestrial = R3(gst) * rnpb; we want its transpose.
    let (s, c) = gst.sin_cos();
    let r3 = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]];
    let mut c2t = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c2t[i][j] = (0..3).map(|k| r3[i][k] * rnpb[k][j]).sum();
        }
    }
    let mut t2c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            t2c[i][j] = c2t[j][i];
        }
    }
    t2c
}

/// Apply a 3×3 matrix.
pub fn rotate(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

/// (u, v, w) axes for a source at (ra, dec): u east, v north, w toward the source.
pub fn uvw_axes(ra_rad: f64, dec_rad: f64) -> [[f64; 3]; 3] {
    let (sa, ca) = ra_rad.sin_cos();
    let (sd, cd) = dec_rad.sin_cos();
    [
        [-sa, ca, 0.0],
        [-sd * ca, -sd * sa, cd],
        [cd * ca, cd * sa, sd],
    ]
}

/// uvw (m) of an ITRF vector at an epoch toward (ra, dec) J2000.
pub fn itrf_vector_uvw(v_itrf_m: [f64; 3], mjd_utc_s: f64, ra_rad: f64, dec_rad: f64) -> [f64; 3] {
    let j = rotate(&itrf_to_j2000(mjd_utc_s), v_itrf_m);
    rotate(&uvw_axes(ra_rad, dec_rad), j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_orthonormal_and_pole_stays_near_pole() {
        let m = itrf_to_j2000(57_493.0 * DAY_S + 22_800.0);
        for i in 0..3 {
            for j in 0..3 {
                let d: f64 = (0..3).map(|k| m[i][k] * m[j][k]).sum();
                assert!((d - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        // The terrestrial pole is within ~0.2 deg of the J2000 pole in 2016 (precession).
        let z = rotate(&m, [0.0, 0.0, 1.0]);
        assert!(z[2] > (0.2f64).to_radians().cos());
        assert!(z[2] < 1.0 - 1e-7);
    }

    #[test]
    fn w_axis_points_at_the_source() {
        let a = uvw_axes(1.0, -0.5);
        let s = [
            (-0.5f64).cos() * 1.0f64.cos(),
            (-0.5f64).cos() * 1.0f64.sin(),
            (-0.5f64).sin(),
        ];
        let w = rotate(&a, s);
        assert!((w[2] - 1.0).abs() < 1e-15 && w[0].abs() < 1e-15 && w[1].abs() < 1e-15);
    }
}
