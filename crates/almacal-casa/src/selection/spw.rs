//! The `spw` selection: spw ids/ranges/names/wildcards, each optionally with channel
//! ranges (`16:0~6;1019~1023,18`, `0~2:5~10^2`, `*:100~200`, `16:345.9~346.0GHz`).

use super::error::{list_ids, SelectionError};
use super::glob::{glob_match, is_pattern};
use super::ids::{parse_id_token, split_commas};
use almacal_core::meta::{MsMeta, SpectralWindow};
use std::collections::BTreeMap;

/// Selected channel indices per selected spw id (ascending, unique).
pub type SpwChans = BTreeMap<u32, Vec<usize>>;

/// Spw ids that can be selected: those referenced by DATA_DESCRIPTION.
pub fn selectable_spws(meta: &MsMeta) -> Vec<u32> {
    let mut ids: Vec<u32> = meta.data_descs.iter().map(|d| d.spw.0).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Resolve a `spw` expression to channel selections per spw.
pub fn resolve_spw(meta: &MsMeta, expr: &str) -> Result<SpwChans, SelectionError> {
    let valid = selectable_spws(meta);
    let err = |msg: String| SelectionError::new("spw", expr, msg);
    let mut out: SpwChans = BTreeMap::new();
    for tok in split_commas(expr) {
        let (spw_part, chan_part) = match tok.split_once(':') {
            Some((s, c)) => (s.trim(), Some(c.trim())),
            None => (tok, None),
        };
        let ids: Vec<u32> = if spw_part == "*" || spw_part.is_empty() {
            valid.clone()
        } else if let Some(id) = parse_id_token(spw_part) {
            let hits: Vec<u32> = valid
                .iter()
                .copied()
                .filter(|&s| id.contains(s as i64))
                .collect();
            if hits.is_empty() {
                return Err(err(format!(
                    "spw {spw_part} is not in this MS; spws are {}",
                    list_ids(&valid)
                )));
            }
            hits
        } else {
            let hits: Vec<u32> = valid
                .iter()
                .copied()
                .filter(|&s| {
                    let name = &meta.spws[s as usize].name;
                    if is_pattern(spw_part) {
                        glob_match(spw_part, name)
                    } else {
                        name == spw_part
                    }
                })
                .collect();
            if hits.is_empty() {
                return Err(err(format!(
                    "'{spw_part}' is neither a spw id nor a spw name of this MS; spws are {}",
                    list_ids(&valid)
                )));
            }
            hits
        };
        let wildcard = ids.len() > 1 || spw_part == "*" || spw_part.is_empty();
        for id in ids {
            let spw = &meta.spws[id as usize];
            let chans = match chan_part {
                None => (0..spw.nchan()).collect(),
                Some(c) => match resolve_chans(spw, c).map_err(&err)? {
                    Some(ch) => ch,
                    // Spws that a wildcard brought in and the channel spec misses are dropped.
                    None if wildcard => continue,
                    None => {
                        return Err(err(format!(
                            "'{c}' selects no channel of spw {id} ({} channels)",
                            spw.nchan()
                        )))
                    }
                },
            };
            let entry = out.entry(id).or_default();
            entry.extend(chans);
            entry.sort_unstable();
            entry.dedup();
        }
    }
    Ok(out)
}

fn parse_num(s: &str) -> Result<i64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a channel number"))
}

fn freq_unit(s: &str) -> Option<(f64, f64)> {
    let s = s.trim();
    for (unit, scale) in [("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0)] {
        if let Some(num) = s.strip_suffix(unit) {
            return num.trim().parse::<f64>().ok().map(|v| (v, scale));
        }
    }
    None
}

/// Channel index range of a frequency interval, as CASA computes it: fractional channel
/// positions from channel 0 and the (signed) width, rounded inwards (swapped if they cross),
/// then clipped to the window. `None` if the interval misses the window.
fn freq_to_chans(spw: &SpectralWindow, f0: f64, f1: f64) -> Option<(i64, i64)> {
    let c0 = *spw.chan_freq_hz.first()?;
    let w = *spw.chan_width_hz.first()?;
    if w == 0.0 {
        return None;
    }
    let (a, b) = ((f0 - c0) / w, (f1 - c0) / w);
    let (lo, hi) = (a.min(b), a.max(b));
    let (mut s, mut e) = (lo.ceil() as i64, hi.floor() as i64);
    if s > e {
        std::mem::swap(&mut s, &mut e);
    }
    let n = spw.nchan() as i64;
    if e < 0 || s > n - 1 {
        return None;
    }
    Some((s.max(0), e.min(n - 1)))
}

/// Channel indices for one spw's `;`-separated channel list; `None` if it selects nothing
/// of this spw. Range ends beyond the window are clipped, as CASA does for `*:0~3`.
fn resolve_chans(spw: &SpectralWindow, spec: &str) -> Result<Option<Vec<usize>>, String> {
    let n = spw.nchan() as i64;
    let mut out: Vec<usize> = Vec::new();
    let mut push = |a: i64, b: i64, step: usize| {
        let (a, b) = (a.max(0), b.min(n - 1));
        if a <= b {
            out.extend((a as usize..=b as usize).step_by(step));
        }
    };
    for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "*" {
            push(0, n - 1, 1);
            continue;
        }
        let (range, step) = match item.split_once('^') {
            Some((r, s)) => (
                r,
                s.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| format!("'{s}' is not a channel step"))?,
            ),
            None => (item, 1),
        };
        if let Some((a, b)) = range.split_once('~') {
            // A frequency range carries its unit on the upper end (`345.9~346.0GHz`).
            if let Some((hi, scale)) = freq_unit(b) {
                let lo = freq_unit(a)
                    .map(|(v, s)| v * s)
                    .or_else(|| a.trim().parse::<f64>().ok().map(|v| v * scale))
                    .ok_or_else(|| format!("'{a}' is not a frequency"))?;
                if let Some((s, e)) = freq_to_chans(spw, lo, hi * scale) {
                    push(s, e, step);
                }
                continue;
            }
            let (a, b) = (parse_num(a)?, parse_num(b)?);
            if a > b {
                return Err(format!("channel range {a}~{b}: start is greater than end"));
            }
            if a < 0 {
                return Err(format!("channel {a} is negative"));
            }
            push(a, b, step);
        } else if let Some(rest) = range.strip_prefix('<') {
            push(0, parse_num(rest)? - 1, step);
        } else if let Some(rest) = range.strip_prefix('>') {
            push(parse_num(rest)? + 1, n - 1, step);
        } else {
            let c = parse_num(range)?;
            if c < 0 || c >= n {
                return Err(format!(
                    "channel {c} is out of range for spw {} (channels 0~{})",
                    spw.id,
                    n - 1
                ));
            }
            push(c, c, 1);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok((!out.is_empty()).then_some(out))
}
