//! The `uvrange` selection: `a~b`, `<a`, `>a` with units m (default), km, lambda,
//! klambda, Mlambda; uv-distance is sqrt(u²+v²).

use super::error::SelectionError;
use super::ids::split_commas;

/// One uv-distance interval, in metres or in wavelengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UvSel {
    pub lo: f64,
    pub hi: f64,
    /// True if the bounds are in wavelengths (converted with the spw's reference frequency).
    pub in_wavelengths: bool,
}

impl UvSel {
    /// `uvdist_m` in metres; `freq_hz` converts it to wavelengths when needed.
    pub fn matches(&self, uvdist_m: f64, freq_hz: f64) -> bool {
        let d = if self.in_wavelengths {
            uvdist_m * freq_hz / 299_792_458.0
        } else {
            uvdist_m
        };
        d >= self.lo && d <= self.hi
    }
}

fn split_unit(s: &str) -> (&str, &str) {
    let s = s.trim();
    let idx = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    (s[..idx].trim(), s[idx..].trim())
}

/// Units are case-insensitive in CASA (`mlambda` is megalambda).
fn unit_scale(unit: &str) -> Option<(f64, bool)> {
    Some(match unit.to_lowercase().as_str() {
        "" | "m" => (1.0, false),
        "km" => (1e3, false),
        "lambda" | "λ" => (1.0, true),
        "klambda" | "kλ" => (1e3, true),
        "mlambda" | "mλ" => (1e6, true),
        "glambda" => (1e9, true),
        _ => return None,
    })
}

/// Resolve a `uvrange` expression.
pub fn resolve_uvrange(expr: &str) -> Result<Vec<UvSel>, SelectionError> {
    let bad =
        |tok: &str, why: &str| SelectionError::new("uvrange", expr, format!("'{tok}': {why}"));
    let mut out = Vec::new();
    for tok in split_commas(expr) {
        let (body, unit) = split_unit(tok.trim_start_matches(['<', '>']));
        let (scale, wl) = unit_scale(unit)
            .ok_or_else(|| bad(tok, "unknown unit (use m, km, lambda, klambda, Mlambda)"))?;
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad(tok, "not a number"))
                .and_then(|v| {
                    if v < 0.0 {
                        Err(bad(tok, "negative distance (a uv distance is at least 0)"))
                    } else {
                        Ok(v * scale)
                    }
                })
        };
        let (lo, hi) = if tok.starts_with('<') {
            (0.0, num(body)?)
        } else if tok.starts_with('>') {
            (num(body)?, f64::INFINITY)
        } else if let Some((a, b)) = body.split_once('~') {
            let (a, b) = (num(a)?, num(b)?);
            if b < a {
                return Err(bad(tok, "range is reversed"));
            }
            (a, b)
        } else {
            let v = num(body)?;
            (v, v)
        };
        out.push(UvSel {
            lo,
            hi,
            in_wavelengths: wl,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_forms() {
        let r = resolve_uvrange("0~20m").unwrap();
        assert_eq!(
            r[0],
            UvSel {
                lo: 0.0,
                hi: 20.0,
                in_wavelengths: false
            }
        );
        let r = resolve_uvrange("10~30klambda").unwrap();
        assert!(r[0].in_wavelengths && r[0].lo == 1e4 && r[0].hi == 3e4);
        // 10 m at 300 GHz is ~10 kλ.
        assert!(r[0].matches(10.01, 299_792_458.0 * 1e3));
        let r = resolve_uvrange(">1km").unwrap();
        assert!(r[0].matches(1500.0, 1e9) && !r[0].matches(900.0, 1e9));
        assert!(resolve_uvrange("5~2").is_err());
        assert_eq!(resolve_uvrange("<1Mlambda").unwrap()[0].hi, 1e6);
        assert_eq!(resolve_uvrange("<1mlambda").unwrap()[0].hi, 1e6);
        assert!(resolve_uvrange("1~2parsec").is_err());
    }

    #[test]
    fn negative_distances_are_named() {
        for expr in ["-5m", "-5~10m", "<-1km", ">-2klambda"] {
            let e = resolve_uvrange(expr).expect_err(expr).to_string();
            assert!(e.contains("negative distance"), "{expr}: {e}");
        }
        assert!(resolve_uvrange("0~5m").is_ok());
    }
}
