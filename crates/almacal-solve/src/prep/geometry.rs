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

/// Rotation about `x` by `a` (the frame turned by `a`, as ERFA's `Rx`).
fn r1(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]]
}

/// Rotation about `y` by `a` (ERFA's `Ry`).
fn r2(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]]
}

/// Rotation about `z` by `a` (ERFA's `Rz`).
fn r3(a: f64) -> [[f64; 3]; 3] {
    let (s, c) = a.sin_cos();
    [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// The rotation `v → v + w × v` for a small rotation vector `w` (exact Rodrigues form).
fn rotation_by_vector(w: [f64; 3]) -> [[f64; 3]; 3] {
    let t = norm(w);
    if t == 0.0 {
        return IDENTITY;
    }
    axis_angle([w[0] / t, w[1] / t, w[2] / t], t)
}

/// The rigid rotation taking unit vector `a` onto unit vector `b` (about `a × b`).
fn rotation_taking(a: [f64; 3], b: [f64; 3]) -> [[f64; 3]; 3] {
    let w = cross(a, b);
    let s = norm(w);
    if s == 0.0 {
        return IDENTITY;
    }
    axis_angle([w[0] / s, w[1] / s, w[2] / s], s.min(1.0).asin())
}

const IDENTITY: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);
/// Julian centuries of TT since J2000 at MJD(TT) `mjd_tt`.
fn centuries_j2000(mjd_tt: f64) -> f64 {
    (mjd_tt - 51_544.5) / 36_525.0
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = norm(v);
    [v[0] / n, v[1] / n, v[2] / n]
}

/// IAU 1976 precession (Lieske et al. 1977) from J2000 to the mean equator and equinox of
/// `mjd_tt` (casacore's default precession model).
fn precession_iau1976(mjd_tt: f64) -> [[f64; 3]; 3] {
    let t = centuries_j2000(mjd_tt);
    let zeta = (2306.2181 + (0.30188 + 0.017998 * t) * t) * t * ARCSEC;
    let z = (2306.2181 + (1.09468 + 0.018203 * t) * t) * t * ARCSEC;
    let theta = (2004.3109 + (-0.42665 - 0.041833 * t) * t) * t * ARCSEC;
    mat_mul(&r3(-z), &mat_mul(&r2(theta), &r3(-zeta)))
}

/// IAU 1980 mean obliquity of the ecliptic (rad).
fn obliquity_iau1980(mjd_tt: f64) -> f64 {
    let t = centuries_j2000(mjd_tt);
    (84_381.448 + (-46.8150 + (-0.00059 + 0.001813 * t) * t) * t) * ARCSEC
}

/// Greenwich mean sidereal time, IAU 1982 (rad), at UT1 `mjd_ut1`.
fn gmst_iau1982(mjd_ut1: f64) -> f64 {
    let t = (mjd_ut1 - 51_544.5) / 36_525.0;
    // Seconds of sidereal time; the day fraction counts from 0h UT1.
    let s = 24_110.548_41
        + (8_640_184.812_866 + (0.093_104 - 6.2e-6 * t) * t) * t
        + DAY_S * mjd_ut1.rem_euclid(1.0);
    (s / DAY_S).rem_euclid(1.0) * std::f64::consts::TAU
}

/// Schwarzschild radius of the Sun in AU (2GM/c²), for light deflection.
const SUN_SCHWARZSCHILD_AU: f64 = 1.974_125_743_36e-8;
/// Earth's rotation rate (rad/s) and the speed of light (m/s).
const EARTH_OMEGA: f64 = 7.292_115_146_706_979e-5;
const C_M_S: f64 = 299_792_458.0;

/// casacore's conversion of an ITRF *baseline* to J2000 (`MBaseline` ITRF → J2000) for a
/// frame at `site_itrf_m` (CASA uses antenna 0) whose reference direction is (ra, dec)
/// J2000. Decomposed with casatools 6.7 `me.measure` through the frames HADEC, APP, JTRUE,
/// JMEAN (see docs/prep-numerics.md); reproduced to ~3e-8 rad:
///
/// 1. ITRF → apparent: rotation by −GAST about the pole, GAST = GMST(IAU 1982, with the
///    IERS UT1) + Δψ cos ε (no complementary terms);
/// 2. then two small rotations that casacore applies in the apparent frame: polar motion as
///    the rotation vector (−y_p, −x_p, 0) (in the celestial, not the terrestrial, frame) and
///    a rotation of the reference direction d by (Ω/c)·(d × r) where r is the site
///    position (a 0.3" "diurnal" term, toward the nadir, not along the site velocity);
/// 3. apparent → true: the rigid rotation that takes the reference direction's apparent
///    place (solar light deflection, then annual aberration with the barycentric velocity)
///    back to its true place;
/// 4. true → J2000: IAU 1980 nutation (here the IAU 2000A series, within 1.5e-8 rad) and
///    IAU 1976 precession, casacore's defaults, without frame bias.
pub fn itrf_baseline_to_j2000_casa(
    mjd_utc_s: f64,
    eop: Eop,
    site_itrf_m: [f64; 3],
    ra_rad: f64,
    dec_rad: f64,
) -> [[f64; 3]; 3] {
    let mjd_utc = mjd_utc_s / DAY_S;
    let mjd_tt = mjd_utc + tt_minus_utc_s(mjd_utc_s) / DAY_S;
    let mjd_ut1 = mjd_utc + eop.ut1_minus_utc_s / DAY_S;
    // Precession-nutation J2000 -> true equator and equinox of date.
    let (dpsi, deps) = erfa::prenut::nut00a(MJD0_JD, mjd_tt);
    let eps = obliquity_iau1980(mjd_tt);
    let nut = mat_mul(&r1(-(eps + deps)), &mat_mul(&r3(-dpsi), &r1(eps)));
    let np = mat_mul(&nut, &precession_iau1976(mjd_tt));
    // Step 1.
    let gast = gmst_iau1982(mjd_ut1) + dpsi * eps.cos();
    let itrf_to_app = r3(-gast);
    // Apparent place of the reference direction.
    let (_, pvh, pvb) = erfa::earth::position_velocity_00(MJD0_JD, mjd_tt);
    let d_true = rotate(
        &np,
        [
            dec_rad.cos() * ra_rad.cos(),
            dec_rad.cos() * ra_rad.sin(),
            dec_rad.sin(),
        ],
    );
    let sun_to_earth = rotate(&np, pvh[0]);
    let em = norm(sun_to_earth);
    let e = unit(sun_to_earth);
    let de = dot(d_true, e);
    let w = SUN_SCHWARZSCHILD_AU / em / (1.0 + de);
    let d_defl = unit([0, 1, 2].map(|i| d_true[i] + w * (e[i] - de * d_true[i])));
    let k = 149_597_870_700.0 / DAY_S / C_M_S;
    let beta = rotate(&np, pvb[1].map(|v| v * k));
    let db = dot(d_defl, beta);
    let d_app = unit([0, 1, 2].map(|i| d_defl[i] + beta[i] - db * d_defl[i]));
    // Step 2.
    let pm = rotation_by_vector([-eop.yp_rad, -eop.xp_rad, 0.0]);
    let r_app = rotate(&itrf_to_app, site_itrf_m);
    let b = r_app.map(|x| -EARTH_OMEGA / C_M_S * x);
    let diurnal = rotation_by_vector(cross(d_app, b));
    // Step 3 and 4.
    let app_to_true = rotation_taking(d_app, d_true);
    mat_mul(
        &transpose(&np),
        &mat_mul(
            &app_to_true,
            &mat_mul(&pm, &mat_mul(&diurnal, &itrf_to_app)),
        ),
    )
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
        // Without the aberration rotation the difference was 3.5e-5 rad; without polar
        // motion in the apparent frame and the diurnal term, 2.2e-6 rad.
        assert!(worst < 3e-8, "worst element difference {worst:e}");
    }
}
