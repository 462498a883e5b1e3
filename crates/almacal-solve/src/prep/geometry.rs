//! Earth-to-sky geometry for baselines: ITRF vectors rotated to J2000 at an epoch
//! (IAU 2006/2000A precession-nutation, apparent sidereal time, and optionally the IERS
//! UT1−UTC and polar motion that casacore applies) and projected on a source direction.
//! Used for antenna-position phase corrections (gencal antpos) and UVW of missing baselines.

use super::eop::Eop;
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

fn mat_mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    c
}

/// The matrix taking an ITRF (terrestrial) vector to J2000/GCRS at `mjd_utc_s`, with UT1
/// taken as UTC and no polar motion.
pub fn itrf_to_j2000(mjd_utc_s: f64) -> [[f64; 3]; 3] {
    itrf_to_j2000_eop(mjd_utc_s, Eop::ZERO)
}

/// As [`itrf_to_j2000`] with Earth-orientation parameters.
pub fn itrf_to_j2000_eop(mjd_utc_s: f64, eop: Eop) -> [[f64; 3]; 3] {
    let ut_day = (mjd_utc_s / DAY_S).floor();
    let tt_frac = mjd_utc_s / DAY_S - ut_day + tt_minus_utc_s(mjd_utc_s) / DAY_S;
    let ut_frac = mjd_utc_s / DAY_S - ut_day + eop.ut1_minus_utc_s / DAY_S;
    let (uta, utb) = (MJD0_JD + ut_day, ut_frac);
    let (tta, ttb) = (MJD0_JD + ut_day, tt_frac);
    let rnpb = pn_matrix_06a(tta, ttb);
    let gst = gst06(uta, utb, tta, ttb, rnpb);
    // celestial -> terrestrial = RPOM * R3(gst) * rnpb, RPOM = R1(-yp) R2(-xp); we want
    // its transpose.
    let (s, c) = gst.sin_cos();
    let r3 = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]];
    let (sx, cx) = (-eop.xp_rad).sin_cos();
    let ry = [[cx, 0.0, -sx], [0.0, 1.0, 0.0], [sx, 0.0, cx]];
    let (sy, cy) = (-eop.yp_rad).sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cy, sy], [0.0, -sy, cy]];
    let rpom = mat_mul(&rx, &ry);
    let c2t = mat_mul(&rpom, &mat_mul(&r3, &rnpb));
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

fn transpose(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut t = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            t[i][j] = m[j][i];
        }
    }
    t
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Rotation matrix about unit axis `k` by angle `theta` (Rodrigues).
fn axis_angle(k: [f64; 3], theta: f64) -> [[f64; 3]; 3] {
    let (s, c) = theta.sin_cos();
    let v = 1.0 - c;
    [
        [
            c + k[0] * k[0] * v,
            k[0] * k[1] * v - k[2] * s,
            k[0] * k[2] * v + k[1] * s,
        ],
        [
            k[1] * k[0] * v + k[2] * s,
            c + k[1] * k[1] * v,
            k[1] * k[2] * v - k[0] * s,
        ],
        [
            k[2] * k[0] * v - k[1] * s,
            k[2] * k[1] * v + k[0] * s,
            c + k[2] * k[2] * v,
        ],
    ]
}

/// casacore's conversion of an ITRF *baseline* to J2000 for a frame whose reference
/// direction is (ra, dec) J2000: polar motion and apparent sidereal time (with the IERS
/// UT1−UTC) to the apparent frame, then the rigid rotation that removes the annual
/// aberration of the reference direction, then nutation and precession. The aberration
/// step is what casacore does for baselines (a rotation, not a per-vector aberration);
/// it was identified by comparing casatools `me.measure(baseline, frame)` for the frames
/// APP, JTRUE, JMEAN and J2000. A residual of ~2e-6 rad (0.45") against casacore remains
/// (not polar-motion sign, not diurnal aberration; see docs/prep-numerics.md). `site_itrf_m`
/// is the frame position (casacore uses antenna 0); it does not enter yet.
pub fn itrf_baseline_to_j2000_casa(
    mjd_utc_s: f64,
    eop: Eop,
    _site_itrf_m: [f64; 3],
    ra_rad: f64,
    dec_rad: f64,
) -> [[f64; 3]; 3] {
    let day = (mjd_utc_s / DAY_S).floor();
    let tt_frac = mjd_utc_s / DAY_S - day + tt_minus_utc_s(mjd_utc_s) / DAY_S;
    let ut_frac = mjd_utc_s / DAY_S - day + eop.ut1_minus_utc_s / DAY_S;
    let jd = MJD0_JD + day;
    let rbpn = pn_matrix_06a(jd, tt_frac);
    let gst = gst06(jd, ut_frac, jd, tt_frac, rbpn);
    let (s, c) = gst.sin_cos();
    let r3 = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]];
    // Polar motion: terrestrial = R2(-xp) R1(-yp) applied to the intermediate frame.
    let (sx, cx) = eop.xp_rad.sin_cos();
    let ry = [[cx, 0.0, sx], [0.0, 1.0, 0.0], [-sx, 0.0, cx]];
    let (sy, cy) = eop.yp_rad.sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cy, -sy], [0.0, sy, cy]];
    let c2t = mat_mul(&mat_mul(&rx, &ry), &r3);
    let t2app = transpose(&c2t);
    // Aberration of the reference direction, in the true frame of date.
    let (_, _, pvb) = erfa::earth::position_velocity_00(jd, tt_frac);
    let k = 149_597_870_700.0 / DAY_S / 299_792_458.0;
    let beta = rotate(&rbpn, [pvb[1][0] * k, pvb[1][1] * k, pvb[1][2] * k]);
    let d_true = rotate(
        &rbpn,
        [
            dec_rad.cos() * ra_rad.cos(),
            dec_rad.cos() * ra_rad.sin(),
            dec_rad.sin(),
        ],
    );
    let db: f64 = (0..3).map(|i| d_true[i] * beta[i]).sum();
    let mut d_app = [0.0; 3];
    for i in 0..3 {
        d_app[i] = d_true[i] + beta[i] - db * d_true[i];
    }
    let n = (d_app[0] * d_app[0] + d_app[1] * d_app[1] + d_app[2] * d_app[2]).sqrt();
    d_app.iter_mut().for_each(|x| *x /= n);
    let w = cross(d_app, d_true);
    let sin_t = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
    let r_ab = if sin_t > 0.0 {
        axis_angle([w[0] / sin_t, w[1] / sin_t, w[2] / sin_t], sin_t.asin())
    } else {
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    };
    mat_mul(&transpose(&rbpn), &mat_mul(&r_ab, &t2app))
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

    /// casatools 6.7 `me.measure(me.baseline('ITRF', unit vectors), 'J2000')` with frame
    /// epoch 2016-04-15 06:20:00 UTC, the CM01 position and SgrA* as direction.
    #[test]
    fn casa_baseline_rotation_is_reproduced() {
        let casa = [
            [4.791916960374e-01, 8.777088178115e-01, 1.596741905862e-03],
            [-8.777098955444e-01, 4.791923794625e-01, -5.223608785878e-05],
            [-8.109946281702e-04, -1.376445071856e-03, 9.999987238425e-01],
        ];
        let t = 57_493.0 * 86_400.0 + 22_800.0;
        let eop = crate::prep::eop::eop_at(t / 86_400.0).unwrap();
        // 17h45m40.038s, -29d00m28.07s
        let ra = (17.0 + 45.0 / 60.0 + 40.038 / 3600.0) * 15f64.to_radians();
        let dec = -(29.0 + 28.07 / 3600.0f64).to_radians();
        let site = [2_225_025.392_5, -5_440_119.608_5, -2_481_536.911_6];
        let m = itrf_baseline_to_j2000_casa(t, eop, site, ra, dec);
        let mut worst: f64 = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                worst = worst.max((m[i][j] - casa[i][j]).abs());
            }
        }
        // Without the aberration rotation the difference is 3.5e-5 rad.
        assert!(worst < 2.5e-6, "worst element difference {worst:e}");
    }
}
