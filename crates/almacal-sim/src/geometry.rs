//! Site and sky geometry: the ALMA site, local pad offsets to ITRF, sidereal time, J2000 →
//! of-date precession (IAU 1976), source directions in ITRF, elevation, (u, v, w) in the
//! J2000 frame and geometric shadowing. Accurate to about an arcsecond, which keeps the
//! antenna-position phase within a fraction of a degree of CASA's own computation.

use std::f64::consts::PI;

/// Speed of light (m/s).
pub const C_M_S: f64 = 299_792_458.0;

/// ALMA array reference point (WGS84): longitude, latitude (rad) and height (m).
pub const SITE_LON_RAD: f64 = -67.754_929_f64 * PI / 180.0;
pub const SITE_LAT_RAD: f64 = -23.022_886_f64 * PI / 180.0;
pub const SITE_HEIGHT_M: f64 = 5_050.0;

pub type V3 = [f64; 3];

pub fn dot(a: &V3, b: &V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn sub(a: &V3, b: &V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

type M3 = [[f64; 3]; 3];

fn mat_vec(m: &M3, v: &V3) -> V3 {
    [dot(&m[0], v), dot(&m[1], v), dot(&m[2], v)]
}

fn mat_mul(a: &M3, b: &M3) -> M3 {
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

/// Rotation of the coordinate frame about z by `t` (vectors rotate by −t).
fn r3(t: f64) -> M3 {
    let (s, c) = t.sin_cos();
    [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Rotation of the coordinate frame about y by `t`.
fn r2(t: f64) -> M3 {
    let (s, c) = t.sin_cos();
    [[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]]
}

/// WGS84 geodetic → ITRF (m).
pub fn geodetic_to_itrf(lon: f64, lat: f64, h: f64) -> V3 {
    let a = 6_378_137.0;
    let f = 1.0 / 298.257_223_563;
    let e2 = f * (2.0 - f);
    let n = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
    [
        (n + h) * lat.cos() * lon.cos(),
        (n + h) * lat.cos() * lon.sin(),
        (n * (1.0 - e2) + h) * lat.sin(),
    ]
}

/// Local east/north/up unit vectors at the site, in ITRF.
pub fn enu_axes() -> [V3; 3] {
    let (so, co) = SITE_LON_RAD.sin_cos();
    let (sa, ca) = SITE_LAT_RAD.sin_cos();
    [
        [-so, co, 0.0],
        [-sa * co, -sa * so, ca],
        [ca * co, ca * so, sa],
    ]
}

/// ITRF position of a pad given in the site's local tangent plane (east, north, up; m).
pub fn local_to_itrf(enu: V3) -> V3 {
    let origin = geodetic_to_itrf(SITE_LON_RAD, SITE_LAT_RAD, SITE_HEIGHT_M);
    let ax = enu_axes();
    let mut p = origin;
    for (k, axis) in ax.iter().enumerate() {
        for i in 0..3 {
            p[i] += enu[k] * axis[i];
        }
    }
    p
}

/// Julian centuries of TT-ish time since J2000.0 from MJD seconds (UTC; the 68 s TT−UTC
/// offset is irrelevant at this accuracy for precession).
fn centuries(mjd_s: f64) -> f64 {
    (mjd_s / 86_400.0 - 51_544.5) / 36_525.0
}

/// Greenwich mean sidereal time (rad) at MJD seconds (UT1 ≈ UTC), IAU 1982.
pub fn gmst_rad(mjd_s: f64) -> f64 {
    let d = mjd_s / 86_400.0 - 51_544.5;
    let t = d / 36_525.0;
    let deg =
        280.460_618_37 + 360.985_647_366_29 * d + 0.000_387_933 * t * t - t * t * t / 38_710_000.0;
    deg.rem_euclid(360.0).to_radians()
}

/// Local sidereal time at the site (hours).
pub fn lst_hours(mjd_s: f64) -> f64 {
    ((gmst_rad(mjd_s) + SITE_LON_RAD).rem_euclid(2.0 * PI)) * 12.0 / PI
}

/// IAU 1976 precession matrix, J2000 → mean equator of date.
fn precession(mjd_s: f64) -> M3 {
    let t = centuries(mjd_s);
    let as2r = PI / (180.0 * 3600.0);
    let zeta = (2306.2181 * t + 0.30188 * t * t + 0.017998 * t * t * t) * as2r;
    let z = (2306.2181 * t + 1.09468 * t * t + 0.018203 * t * t * t) * as2r;
    let theta = (2004.3109 * t - 0.42665 * t * t - 0.041833 * t * t * t) * as2r;
    mat_mul(&r3(-z), &mat_mul(&r2(theta), &r3(-zeta)))
}

/// The matrix taking J2000 celestial vectors to ITRF at `mjd_s`.
pub fn j2000_to_itrf(mjd_s: f64) -> M3 {
    mat_mul(&r3(gmst_rad(mjd_s)), &precession(mjd_s))
}

/// The (u, v, w) axes of a J2000 phase centre, expressed in ITRF at `mjd_s`
/// (w points at the source).
pub fn uvw_axes_itrf(ra: f64, dec: f64, mjd_s: f64) -> [V3; 3] {
    let (sa, ca) = ra.sin_cos();
    let (sd, cd) = dec.sin_cos();
    let u = [-sa, ca, 0.0];
    let v = [-sd * ca, -sd * sa, cd];
    let w = [cd * ca, cd * sa, sd];
    let m = j2000_to_itrf(mjd_s);
    [mat_vec(&m, &u), mat_vec(&m, &v), mat_vec(&m, &w)]
}

/// Elevation (rad) of the ITRF unit direction `s` at the site (geometric, no refraction).
pub fn elevation_rad(s_itrf: &V3) -> f64 {
    let up = enu_axes()[2];
    dot(s_itrf, &up).clamp(-1.0, 1.0).asin()
}

/// MJD seconds on the UTC day starting at `day_start_s` when the site's LST is `lst_h`.
pub fn time_of_lst(day_start_s: f64, lst_h: f64) -> f64 {
    let mut t = day_start_s;
    for _ in 0..4 {
        let dh = (lst_h - lst_hours(t) + 36.0).rem_euclid(24.0) - 12.0;
        t += dh * 3600.0 / 1.002_737_909_35;
    }
    // Move into the requested day if the solution fell before it.
    if t < day_start_s {
        t += 86_164.090_5;
    }
    t
}

/// Antennas shadowed at one instant: antenna k is shadowed when another antenna m lies in
/// front of it (closer to the source) with a projected separation below the mean dish
/// diameter. Returns one flag per antenna.
pub fn shadowed(positions: &[V3], dish_m: &[f64], axes: &[V3; 3]) -> Vec<bool> {
    let n = positions.len();
    let mut out = vec![false; n];
    for k in 0..n {
        for m in 0..n {
            if m == k {
                continue;
            }
            let b = sub(&positions[m], &positions[k]);
            let (u, v, w) = (dot(&b, &axes[0]), dot(&b, &axes[1]), dot(&b, &axes[2]));
            if w > 0.0 && (u * u + v * v).sqrt() < 0.5 * (dish_m[k] + dish_m[m]) {
                out[k] = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmst_at_j2000_noon() {
        // GMST at 2000-01-01 12:00 UT1 is 280.46061837 degrees.
        let g = gmst_rad(51_544.5 * 86_400.0).to_degrees();
        assert!((g - 280.460_618_37).abs() < 1e-6, "{g}");
    }

    #[test]
    fn lst_solver_hits_target() {
        let day = 57_493.0 * 86_400.0; // 2016-04-15
        let t = time_of_lst(day, 15.3);
        assert!((lst_hours(t) - 15.3).abs() < 1e-6);
        assert!(t >= day && t < day + 86_400.0);
    }

    #[test]
    fn site_is_on_the_ellipsoid_near_alma() {
        let p = local_to_itrf([0.0, 0.0, 0.0]);
        let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        assert!((r - 6_380_000.0).abs() < 10_000.0, "{r}");
        assert!(p[0] > 2.2e6 && p[1] < -5.4e6 && p[2] < -2.4e6);
    }

    #[test]
    fn uvw_axes_are_orthonormal() {
        let ax = uvw_axes_itrf(4.65, -0.506, 4.967e9);
        for i in 0..3 {
            assert!((dot(&ax[i], &ax[i]) - 1.0).abs() < 1e-12);
            for j in 0..i {
                assert!(dot(&ax[i], &ax[j]).abs() < 1e-12);
            }
        }
    }
}
