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
        for id in ids {
            let spw = &meta.spws[id as usize];
            let chans = match chan_part {
                None => (0..spw.nchan()).collect(),
                Some(c) => resolve_chans(spw, c).map_err(|m| err(m))?,
            };
            let entry = out.entry(id).or_default();
            entry.extend(chans);
            entry.sort_unstable();
            entry.dedup();
        }
    }
    Ok(out)
}

fn parse_chan(s: &str, spw: &SpectralWindow) -> Result<usize, String> {
    let v: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a channel number"))?;
    if v < 0 || v as usize >= spw.nchan() {
        return Err(format!(
            "channel {v} is out of range for spw {} (channels 0~{})",
            spw.id,
            spw.nchan().saturating_sub(1)
        ));
    }
    Ok(v as usize)
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

/// Channel indices for one spw's `;`-separated channel list.
fn resolve_chans(spw: &SpectralWindow, spec: &str) -> Result<Vec<usize>, String> {
    let n = spw.nchan();
    let mut out = Vec::new();
    for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "*" {
            out.extend(0..n);
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
                let (f0, f1) = (lo.min(hi * scale), lo.max(hi * scale));
                let hits: Vec<usize> = (0..n)
                    .filter(|&c| {
                        let f = spw.chan_freq_hz[c];
                        f >= f0 && f <= f1
                    })
                    .collect();
                if hits.is_empty() {
                    return Err(format!(
                        "frequency range {item} selects no channel of spw {}",
                        spw.id
                    ));
                }
                out.extend(hits);
                continue;
            }
            let (a, b) = (parse_chan(a, spw)?, parse_chan(b, spw)?);
            if a > b {
                return Err(format!("channel range {a}~{b} is reversed"));
            }
            out.extend((a..=b).step_by(step));
        } else if let Some(rest) = range.strip_prefix('<') {
            let a = rest
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("'{rest}' is not a channel number"))?;
            out.extend(0..a.min(n));
        } else if let Some(rest) = range.strip_prefix('>') {
            let a = parse_chan(rest, spw)?;
            out.extend(a + 1..n);
        } else {
            out.push(parse_chan(range, spw)?);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
