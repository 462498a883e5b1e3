//! User channel exclusions (`excludechan`, algorithms.md §9.3 step 3): a spw's ranges as
//! channels (`"100~200;900~950"`) or frequencies (`"345.1GHz~345.3GHz"`, also `MHz`, `kHz`,
//! `Hz`), mapped to channel index ranges. As in ACReNorm, a range `lo~hi` excludes channels
//! `lo … hi−1` (the upper end is exclusive); frequencies map to the nearest channels.

use super::RenormError;
use std::ops::Range;

fn parse_freq_hz(s: &str) -> Option<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    for (unit, scale) in [("ghz", 1e9), ("mhz", 1e6), ("khz", 1e3), ("hz", 1.0)] {
        if let Some(num) = lower.strip_suffix(unit) {
            return num.trim().parse::<f64>().ok().map(|v| v * scale);
        }
    }
    None
}

fn nearest_chan(freqs_hz: &[f64], f: f64) -> usize {
    freqs_hz
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - f).abs().total_cmp(&(b.1 - f).abs()))
        .map_or(0, |(k, _)| k)
}

/// Parse one spw's exclusion string against its channel frequencies (storage order).
pub fn parse_exclusions(expr: &str, freqs_hz: &[f64]) -> Result<Vec<Range<usize>>, RenormError> {
    let nchan = freqs_hz.len();
    let bad = |why: &str| RenormError::BadExclusion {
        expr: expr.to_string(),
        why: why.to_string(),
    };
    let mut out = Vec::new();
    for part in expr
        .split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, b) = part.split_once('~').unwrap_or((part, part));
        let (lo, hi) =
            match (parse_freq_hz(a), parse_freq_hz(b)) {
                (Some(fa), Some(fb)) => {
                    let (ca, cb) = (nearest_chan(freqs_hz, fa), nearest_chan(freqs_hz, fb));
                    (ca.min(cb), ca.max(cb))
                }
                (None, None) => {
                    let lo = a.trim().parse::<usize>().map_err(|_| {
                        bad(&format!("'{part}' is neither channels nor frequencies"))
                    })?;
                    let hi = b.trim().parse::<usize>().map_err(|_| {
                        bad(&format!("'{part}' is neither channels nor frequencies"))
                    })?;
                    if hi < lo {
                        return Err(bad(&format!("'{part}': the range runs backwards")));
                    }
                    (lo, hi)
                }
                _ => return Err(bad(&format!("'{part}' mixes channels and frequencies"))),
            };
        if lo >= nchan {
            return Err(bad(&format!(
                "'{part}' starts beyond the last channel ({})",
                nchan.saturating_sub(1)
            )));
        }
        out.push(lo..hi.min(nchan));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_frequencies() {
        let f: Vec<f64> = (0..64).map(|c| 345.0e9 + 1e6 * c as f64).collect();
        assert_eq!(
            parse_exclusions("3~7;10~12", &f).unwrap(),
            vec![3..7, 10..12]
        );
        assert_eq!(
            parse_exclusions("345.010GHz~345020MHz", &f).unwrap(),
            vec![10..20]
        );
        // Descending (LSB) grids work too.
        let d: Vec<f64> = f.iter().rev().copied().collect();
        assert_eq!(
            parse_exclusions("345.010GHz~345.020GHz", &d).unwrap(),
            vec![43..53]
        );
        assert_eq!(parse_exclusions("60~100", &f).unwrap(), vec![60..64]);
        assert!(parse_exclusions("70~80", &f).is_err());
        assert!(parse_exclusions("5~2", &f).is_err());
        assert!(parse_exclusions("1~2GHz", &f).is_err());
        assert!(parse_exclusions("abc", &f).is_err());
        assert!(parse_exclusions("", &f).unwrap().is_empty());
    }
}
