//! Earth-to-sky geometry for baselines: ITRF vectors rotated to J2000 at an epoch
//! (IAU 2006/2000A precession-nutation, apparent sidereal time, and optionally the IERS
//! UT1−UTC and polar motion; for antenna positions, casacore's own chain with IAU 1976/1980
//! precession-nutation, see [`itrf_baseline_to_j2000_casa`]) and projected on a source direction.
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

/// IAU 1980 nutation series (Seidelmann 1982; 106 terms, the series casacore's default
/// `Nutation::IAU1980` sums): multipliers of (l, l', F, D, Ω) and the coefficients
/// (Δψ: A + A'·T, Δε: B + B'·T) in units of 0.1 mas (A, B) and 0.01 mas per century
/// (A', B'). Checked against ERFA `nut80` to 1e-18 rad.
#[rustfmt::skip]
const NUT80: [([i8; 5], [f64; 4]); 106] = [
    ([0, 0, 0, 0, 1], [-171996.0, -1742.0, 92025.0, 89.0]),
    ([0, 0, 0, 0, 2], [2062.0, 2.0, -895.0, 5.0]),
    ([-2, 0, 2, 0, 1], [46.0, 0.0, -24.0, 0.0]),
    ([2, 0, -2, 0, 0], [11.0, 0.0, 0.0, 0.0]),
    ([-2, 0, 2, 0, 2], [-3.0, 0.0, 1.0, 0.0]),
    ([1, -1, 0, -1, 0], [-3.0, 0.0, 0.0, 0.0]),
    ([0, -2, 2, -2, 1], [-2.0, 0.0, 1.0, 0.0]),
    ([2, 0, -2, 0, 1], [1.0, 0.0, 0.0, 0.0]),
    ([0, 0, 2, -2, 2], [-13187.0, -16.0, 5736.0, -31.0]),
    ([0, 1, 0, 0, 0], [1426.0, -34.0, 54.0, -1.0]),
    ([0, 1, 2, -2, 2], [-517.0, 12.0, 224.0, -6.0]),
    ([0, -1, 2, -2, 2], [217.0, -5.0, -95.0, 3.0]),
    ([0, 0, 2, -2, 1], [129.0, 1.0, -70.0, 0.0]),
    ([2, 0, 0, -2, 0], [48.0, 0.0, 1.0, 0.0]),
    ([0, 0, 2, -2, 0], [-22.0, 0.0, 0.0, 0.0]),
    ([0, 2, 0, 0, 0], [17.0, -1.0, 0.0, 0.0]),
    ([0, 1, 0, 0, 1], [-15.0, 0.0, 9.0, 0.0]),
    ([0, 2, 2, -2, 2], [-16.0, 1.0, 7.0, 0.0]),
    ([0, -1, 0, 0, 1], [-12.0, 0.0, 6.0, 0.0]),
    ([-2, 0, 0, 2, 1], [-6.0, 0.0, 3.0, 0.0]),
    ([0, -1, 2, -2, 1], [-5.0, 0.0, 3.0, 0.0]),
    ([2, 0, 0, -2, 1], [4.0, 0.0, -2.0, 0.0]),
    ([0, 1, 2, -2, 1], [4.0, 0.0, -2.0, 0.0]),
    ([1, 0, 0, -1, 0], [-4.0, 0.0, 0.0, 0.0]),
    ([2, 1, 0, -2, 0], [1.0, 0.0, 0.0, 0.0]),
    ([0, 0, -2, 2, 1], [1.0, 0.0, 0.0, 0.0]),
    ([0, 1, -2, 2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 1, 0, 0, 2], [1.0, 0.0, 0.0, 0.0]),
    ([-1, 0, 0, 1, 1], [1.0, 0.0, 0.0, 0.0]),
    ([0, 1, 2, -2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 0, 2, 0, 2], [-2274.0, -2.0, 977.0, -5.0]),
    ([1, 0, 0, 0, 0], [712.0, 1.0, -7.0, 0.0]),
    ([0, 0, 2, 0, 1], [-386.0, -4.0, 200.0, 0.0]),
    ([1, 0, 2, 0, 2], [-301.0, 0.0, 129.0, -1.0]),
    ([1, 0, 0, -2, 0], [-158.0, 0.0, -1.0, 0.0]),
    ([-1, 0, 2, 0, 2], [123.0, 0.0, -53.0, 0.0]),
    ([0, 0, 0, 2, 0], [63.0, 0.0, -2.0, 0.0]),
    ([1, 0, 0, 0, 1], [63.0, 1.0, -33.0, 0.0]),
    ([-1, 0, 0, 0, 1], [-58.0, -1.0, 32.0, 0.0]),
    ([-1, 0, 2, 2, 2], [-59.0, 0.0, 26.0, 0.0]),
    ([1, 0, 2, 0, 1], [-51.0, 0.0, 27.0, 0.0]),
    ([0, 0, 2, 2, 2], [-38.0, 0.0, 16.0, 0.0]),
    ([2, 0, 0, 0, 0], [29.0, 0.0, -1.0, 0.0]),
    ([1, 0, 2, -2, 2], [29.0, 0.0, -12.0, 0.0]),
    ([2, 0, 2, 0, 2], [-31.0, 0.0, 13.0, 0.0]),
    ([0, 0, 2, 0, 0], [26.0, 0.0, -1.0, 0.0]),
    ([-1, 0, 2, 0, 1], [21.0, 0.0, -10.0, 0.0]),
    ([-1, 0, 0, 2, 1], [16.0, 0.0, -8.0, 0.0]),
    ([1, 0, 0, -2, 1], [-13.0, 0.0, 7.0, 0.0]),
    ([-1, 0, 2, 2, 1], [-10.0, 0.0, 5.0, 0.0]),
    ([1, 1, 0, -2, 0], [-7.0, 0.0, 0.0, 0.0]),
    ([0, 1, 2, 0, 2], [7.0, 0.0, -3.0, 0.0]),
    ([0, -1, 2, 0, 2], [-7.0, 0.0, 3.0, 0.0]),
    ([1, 0, 2, 2, 2], [-8.0, 0.0, 3.0, 0.0]),
    ([1, 0, 0, 2, 0], [6.0, 0.0, 0.0, 0.0]),
    ([2, 0, 2, -2, 2], [6.0, 0.0, -3.0, 0.0]),
    ([0, 0, 0, 2, 1], [-6.0, 0.0, 3.0, 0.0]),
    ([0, 0, 2, 2, 1], [-7.0, 0.0, 3.0, 0.0]),
    ([1, 0, 2, -2, 1], [6.0, 0.0, -3.0, 0.0]),
    ([0, 0, 0, -2, 1], [-5.0, 0.0, 3.0, 0.0]),
    ([1, -1, 0, 0, 0], [5.0, 0.0, 0.0, 0.0]),
    ([2, 0, 2, 0, 1], [-5.0, 0.0, 3.0, 0.0]),
    ([0, 1, 0, -2, 0], [-4.0, 0.0, 0.0, 0.0]),
    ([1, 0, -2, 0, 0], [4.0, 0.0, 0.0, 0.0]),
    ([0, 0, 0, 1, 0], [-4.0, 0.0, 0.0, 0.0]),
    ([1, 1, 0, 0, 0], [-3.0, 0.0, 0.0, 0.0]),
    ([1, 0, 2, 0, 0], [3.0, 0.0, 0.0, 0.0]),
    ([1, -1, 2, 0, 2], [-3.0, 0.0, 1.0, 0.0]),
    ([-1, -1, 2, 2, 2], [-3.0, 0.0, 1.0, 0.0]),
    ([-2, 0, 0, 0, 1], [-2.0, 0.0, 1.0, 0.0]),
    ([3, 0, 2, 0, 2], [-3.0, 0.0, 1.0, 0.0]),
    ([0, -1, 2, 2, 2], [-3.0, 0.0, 1.0, 0.0]),
    ([1, 1, 2, 0, 2], [2.0, 0.0, -1.0, 0.0]),
    ([-1, 0, 2, -2, 1], [-2.0, 0.0, 1.0, 0.0]),
    ([2, 0, 0, 0, 1], [2.0, 0.0, -1.0, 0.0]),
    ([1, 0, 0, 0, 2], [-2.0, 0.0, 1.0, 0.0]),
    ([3, 0, 0, 0, 0], [2.0, 0.0, 0.0, 0.0]),
    ([0, 0, 2, 1, 2], [2.0, 0.0, -1.0, 0.0]),
    ([-1, 0, 0, 0, 2], [1.0, 0.0, -1.0, 0.0]),
    ([1, 0, 0, -4, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([-2, 0, 2, 2, 2], [1.0, 0.0, -1.0, 0.0]),
    ([-1, 0, 2, 4, 2], [-2.0, 0.0, 1.0, 0.0]),
    ([2, 0, 0, -4, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([1, 1, 2, -2, 2], [1.0, 0.0, -1.0, 0.0]),
    ([1, 0, 2, 2, 1], [-1.0, 0.0, 1.0, 0.0]),
    ([-2, 0, 2, 4, 2], [-1.0, 0.0, 1.0, 0.0]),
    ([-1, 0, 4, 0, 2], [1.0, 0.0, 0.0, 0.0]),
    ([1, -1, 0, -2, 0], [1.0, 0.0, 0.0, 0.0]),
    ([2, 0, 2, -2, 1], [1.0, 0.0, -1.0, 0.0]),
    ([2, 0, 2, 2, 2], [-1.0, 0.0, 0.0, 0.0]),
    ([1, 0, 0, 2, 1], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 0, 4, -2, 2], [1.0, 0.0, 0.0, 0.0]),
    ([3, 0, 2, -2, 2], [1.0, 0.0, 0.0, 0.0]),
    ([1, 0, 2, -2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 1, 2, 0, 1], [1.0, 0.0, 0.0, 0.0]),
    ([-1, -1, 0, 2, 1], [1.0, 0.0, 0.0, 0.0]),
    ([0, 0, -2, 0, 1], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 0, 2, -1, 2], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 1, 0, 2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([1, 0, -2, -2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([0, -1, 2, 0, 1], [-1.0, 0.0, 0.0, 0.0]),
    ([1, 1, 0, -2, 1], [-1.0, 0.0, 0.0, 0.0]),
    ([1, 0, -2, 2, 0], [-1.0, 0.0, 0.0, 0.0]),
    ([2, 0, 0, 2, 0], [1.0, 0.0, 0.0, 0.0]),
    ([0, 0, 2, 4, 2], [-1.0, 0.0, 0.0, 0.0]),
    ([0, 1, 0, 1, 0], [1.0, 0.0, 0.0, 0.0]),
];

/// Delaunay arguments (l, l', F, D, Ω) of the IAU 1980 theory (rad) at `t` Julian
/// centuries of TT since J2000 (the cubic polynomials of the IAU 1980 nutation).
fn delaunay_iau1980(t: f64) -> [f64; 5] {
    const FUND: [[f64; 4]; 5] = [
        [485_866.733, 1_717_915_922.633, 31.310, 0.064],
        [1_287_099.804, 129_596_581.224, -0.577, -0.012],
        [335_778.877, 1_739_527_263.137, -13.257, 0.011],
        [1_072_261.307, 1_602_961_601.328, -6.891, 0.019],
        [450_160.280, -6_962_890.539, 7.455, 0.008],
    ];
    FUND.map(|c| (c[0] + (c[1] + (c[2] + c[3] * t) * t) * t) * ARCSEC)
}

/// IAU 1980 nutation (Δψ, Δε) in rad at MJD(TT) `mjd_tt`: casacore's default nutation
/// model (`measures.iau2000.b_use` false), used by its J2000 ↔ apparent conversions and
/// in its equation of the equinoxes. The IAU 2000A series we used before differs by
/// ~1.5e-8 rad, which was the bulk (3.9e-7 relative) of the w difference to CASA.
fn nutation_iau1980(mjd_tt: f64) -> (f64, f64) {
    let t = centuries_j2000(mjd_tt);
    let fa = delaunay_iau1980(t);
    let (mut dpsi, mut deps) = (0.0, 0.0);
    for (m, c) in NUT80.iter() {
        let a: f64 = (0..5).map(|j| f64::from(m[j]) * fa[j]).sum();
        dpsi += (c[0] * 1e-4 + c[1] * 1e-5 * t) * a.sin();
        deps += (c[2] * 1e-4 + c[3] * 1e-5 * t) * a.cos();
    }
    (dpsi * ARCSEC, deps * ARCSEC)
}

/// IAU 1980 mean obliquity of the ecliptic (rad).
fn obliquity_iau1980(mjd_tt: f64) -> f64 {
    let t = centuries_j2000(mjd_tt);
    (84_381.448 + (-46.8150 + (-0.00059 + 0.001813 * t) * t) * t) * ARCSEC
}

/// Mean obliquity as casacore's `MeasTable::fundArg(0)` has it: the IAU 1980 polynomial but
/// with −0.0059″ T² (the IAU value is −0.00059″); only used in casacore's equation of the
/// equinoxes, where it matters below 1e-15 rad.
fn obliquity_casacore(mjd_tt: f64) -> f64 {
    let t = centuries_j2000(mjd_tt);
    (84_381.448 + (-46.8150 + (-0.0059 + 0.001813 * t) * t) * t) * ARCSEC
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

/// Earth's rotation rate (rad/s) and the speed of light (m/s).
const EARTH_OMEGA: f64 = 7.292_115_146_706_979e-5;
const C_M_S: f64 = 299_792_458.0;

/// casacore's conversion of an ITRF *baseline* to J2000 (`MBaseline` ITRF → J2000) for a
/// frame at `site_itrf_m` (CASA uses antenna 0) whose reference direction is (ra, dec)
/// J2000. casacore's route is ITRF → HADEC → TOPO → APP → JNAT → J2000 (MCBaseline); each
/// step is a rigid rotation (MeasMath, `rotateShift` with the frame direction). Checked with
/// casatools 6.7 `me.measure` through those frames (see docs/prep-numerics.md):
///
/// 1. ITRF → apparent: rotation by −GAST about the pole, GAST = GMST(IAU 1982, with the
///    IERS UT1) + Δψ cos(ε + Δε), the IAU 1980 nutation taken at the UT1 epoch (as
///    casacore's MCEpoch does; no complementary terms);
/// 2. then two small rotations that casacore applies in the apparent frame: polar motion as
///    the rotation vector (−y_p, −x_p, 0) (in the celestial, not the terrestrial, frame) and
///    a rotation of the reference direction d by (Ω/c)·(d × r) where r is the site
///    position (a 0.3" "diurnal" term, toward the nadir, not along the site velocity);
/// 3. apparent → J2000 axes: IAU 1980 nutation (106 terms) and IAU 1976 precession,
///    casacore's defaults, without frame bias;
/// 4. then, in J2000 axes, the rotations that undo the annual aberration (relativistic
///    form, Earth velocity from ERFA epv00) and the solar light deflection, each defined
///    by taking d0 = the J2000 reference direction as the aberrated (deflected) place and
///    rotating it onto its solution x of f(x) = d0.
///
/// Against casatools the rotation agrees to ~2e-10 rad; what is left is the Earth's
/// barycentric velocity: casacore sums its own (Stumpff) series, which differs from epv00
/// by ~7 cm/s. `eop.ut1_minus_utc_s` must be what casacore uses (see
/// [`super::eop::Dut1Hold`]).
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
    // casacore evaluates precession and nutation at TDB; TDB − TT (≤1.7 ms) changes them
    // by <1e-13 rad.
    let (dpsi, deps) = nutation_iau1980(mjd_tt);
    let eps = obliquity_iau1980(mjd_tt);
    let nut = mat_mul(&r1(-(eps + deps)), &mat_mul(&r3(-dpsi), &r1(eps)));
    let np = mat_mul(&nut, &precession_iau1976(mjd_tt));
    // Step 1.
    // casacore's UT1 -> GAST adds the equation of the equinoxes Δψ cos(ε + Δε) with the
    // nutation evaluated at the UT1 epoch (MCEpoch passes the UT1 MJD to Nutation::eqox),
    // not at TDB; the 69 s difference is worth ~2e-10 rad here.
    let (dpsi_u, deps_u) = nutation_iau1980(mjd_ut1);
    let gast = gmst_iau1982(mjd_ut1) + dpsi_u * (obliquity_casacore(mjd_ut1) + deps_u).cos();
    let itrf_to_app = r3(-gast);
    // The reference direction and the Sun and the Earth's velocity, all in J2000 axes
    // (BCRS from epv00; the frame bias, 2e-8 rad, acts on the 1e-4 rad corrections only).
    let (_, pvh, pvb) = erfa::earth::position_velocity_00(MJD0_JD, mjd_tt);
    let d0 = [
        dec_rad.cos() * ra_rad.cos(),
        dec_rad.cos() * ra_rad.sin(),
        dec_rad.sin(),
    ];
    let em = norm(pvh[0]);
    let sun = pvh[0].map(|x| -x / em);
    let beta = pvb[1].map(|v| v * 149_597_870_700.0 / DAY_S / C_M_S);
    // The apparent place of the reference direction (casacore's APP direction: deflection,
    // then aberration, then precession-nutation), for the axes of the diurnal term.
    let d_app = rotate(&np, aberrate(deflect(d0, sun, em), beta));
    // Step 2.
    let pm = rotation_by_vector([-eop.yp_rad, -eop.xp_rad, 0.0]);
    let r_app = rotate(&itrf_to_app, site_itrf_m);
    let b = r_app.map(|x| -EARTH_OMEGA / C_M_S * x);
    let diurnal = rotation_by_vector(cross(d_app, b));
    // Steps 3 and 4 as casacore orders them (APP → JNAT: precession-nutation back to J2000
    // axes, then aberration; JNAT → J2000: light deflection). casacore undoes aberration and
    // deflection as rotations defined by the frame's J2000 direction d0 taken as the
    // *apparent* (resp. deflected) place: it solves f(x) = d0 and rotates d0 onto x. Taking
    // d0 as the true place instead (our earlier form) differs by O(β²), 1e-9 rad.
    let unaberrate = rotation_taking(d0, invert(d0, |x| aberrate(x, beta)));
    let undeflect = rotation_taking(d0, invert(d0, |x| deflect(x, sun, em)));
    mat_mul(
        &undeflect,
        &mat_mul(
            &unaberrate,
            &mat_mul(
                &transpose(&np),
                &mat_mul(&pm, &mat_mul(&diurnal, &itrf_to_app)),
            ),
        ),
    )
}

/// Annual aberration of unit direction `d` for the observer velocity `beta` (units of c),
/// in the relativistic form casacore uses (MeasMath::applyAberration):
/// (g1 d + (1 + g2/(1 + g1)) β)/(1 + g2), g1 = √(1 − β²), g2 = d·β, normalised.
fn aberrate(d: [f64; 3], beta: [f64; 3]) -> [f64; 3] {
    let g1 = (1.0 - dot(beta, beta)).sqrt();
    let g2 = dot(d, beta);
    unit([0, 1, 2].map(|i| g1 * d[i] + (1.0 + g2 / (1.0 + g1)) * beta[i]))
}

/// Solar light deflection of unit direction `d` (casacore's MeasMath::applySolarPos):
/// d + (−1.974e-8/R)(s − (s·d) d)/(1 − s·d), s the unit geocentric direction of the Sun at
/// R AU (casacore's rounded 2GM/c² in AU).
fn deflect(d: [f64; 3], sun: [f64; 3], r_au: f64) -> [f64; 3] {
    let g1 = -1.974e-8 / r_au;
    let g2 = dot(d, sun);
    [0, 1, 2].map(|i| d[i] + g1 * (sun[i] - g2 * d[i]) / (1.0 - g2))
}

/// The unit x with f(x) = y (fixed-point iteration; f is within 1e-4 of the identity).
fn invert(y: [f64; 3], f: impl Fn([f64; 3]) -> [f64; 3]) -> [f64; 3] {
    let mut x = y;
    for _ in 0..8 {
        let fx = f(x);
        x = unit([0, 1, 2].map(|i| x[i] - (fx[i] - y[i])));
    }
    x
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
        // motion in the apparent frame and the diurnal term, 2.2e-6 rad; with the IAU 2000A
        // nutation instead of IAU 1980 and the first-order aberration, 3e-8 rad.
        // 1.6e-10 now (the residual is casacore's own Earth-velocity series, see above).
        assert!(worst < 5e-10, "worst element difference {worst:e}");
    }
}
