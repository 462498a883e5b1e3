//! The `field`, `scan`, `intent`, `observation` and `correlation` selections.

use super::error::{list_ids, SelectionError};
use super::glob::{glob_match, is_pattern};
use super::ids::{parse_id_token, split_commas};
use almacal_core::corr::CorrType;
use almacal_core::meta::MsMeta;
use std::collections::BTreeSet;

/// Field ids selected by a `field` expression: ids, ranges, names, wildcards.
pub fn resolve_field(meta: &MsMeta, expr: &str) -> Result<BTreeSet<i32>, SelectionError> {
    let mut out = BTreeSet::new();
    for tok in split_commas(expr) {
        let id = parse_id_token(tok);
        let hits: Vec<i32> = meta
            .fields
            .iter()
            .filter(|f| {
                let by_id = id.is_some_and(|id| id.contains(f.id.0 as i64));
                let by_name = if is_pattern(tok) {
                    glob_match(tok, &f.name)
                } else {
                    f.name == tok
                };
                by_id || by_name
            })
            .map(|f| f.id.0 as i32)
            .collect();
        if hits.is_empty() {
            let fields: Vec<String> = meta
                .fields
                .iter()
                .map(|f| format!("{} {}", f.id, f.name))
                .collect();
            return Err(SelectionError::new(
                "field",
                expr,
                format!("'{tok}' matches no field; fields are {}", fields.join(", ")),
            ));
        }
        out.extend(hits);
    }
    Ok(out)
}

/// Scan numbers selected by a `scan` expression.
pub fn resolve_scan(meta: &MsMeta, expr: &str) -> Result<BTreeSet<i32>, SelectionError> {
    let existing: BTreeSet<i32> = meta.scans.iter().map(|s| s.scan).collect();
    let mut out = BTreeSet::new();
    for tok in split_commas(expr) {
        let id = parse_id_token(tok).ok_or_else(|| {
            SelectionError::new(
                "scan",
                expr,
                format!("'{tok}' is not a scan number or range"),
            )
        })?;
        let hits: Vec<i32> = existing
            .iter()
            .copied()
            .filter(|&s| id.contains(s as i64))
            .collect();
        if hits.is_empty() {
            let ids: Vec<u32> = existing.iter().map(|&s| s.max(0) as u32).collect();
            return Err(SelectionError::new(
                "scan",
                expr,
                format!("'{tok}' matches no scan; scans are {}", list_ids(&ids)),
            ));
        }
        out.extend(hits);
    }
    Ok(out)
}

/// STATE ids whose OBS_MODE matches any of the comma-separated intent patterns.
pub fn resolve_intent(meta: &MsMeta, expr: &str) -> Result<BTreeSet<i32>, SelectionError> {
    let mut out = BTreeSet::new();
    for tok in split_commas(expr) {
        let hits: Vec<i32> = meta
            .states
            .iter()
            .filter(|st| {
                // A pattern may match the whole OBS_MODE or any one of its intents
                // (CASA selects `CALIBRATE_FLUX*` in `CALIBRATE_BANDPASS#ON_SOURCE,CALIBRATE_FLUX#ON_SOURCE`).
                if is_pattern(tok) {
                    glob_match(tok, &st.obs_mode) || st.intents().iter().any(|i| glob_match(tok, i))
                } else {
                    st.obs_mode == tok || st.intents().iter().any(|i| i == tok)
                }
            })
            .map(|st| st.id as i32)
            .collect();
        if hits.is_empty() {
            let mut intents: Vec<String> = meta.states.iter().flat_map(|s| s.intents()).collect();
            intents.sort();
            intents.dedup();
            return Err(SelectionError::new(
                "intent",
                expr,
                format!(
                    "'{tok}' matches no intent; intents are {}",
                    if intents.is_empty() {
                        "none (no STATE table)".into()
                    } else {
                        intents.join(", ")
                    }
                ),
            ));
        }
        out.extend(hits);
    }
    Ok(out)
}

/// Observation ids.
pub fn resolve_observation(meta: &MsMeta, expr: &str) -> Result<BTreeSet<i32>, SelectionError> {
    let mut out = BTreeSet::new();
    for tok in split_commas(expr) {
        let id = parse_id_token(tok).ok_or_else(|| {
            SelectionError::new("observation", expr, format!("'{tok}' is not an id"))
        })?;
        let hits: Vec<i32> = meta
            .observations
            .iter()
            .filter(|o| id.contains(o.id as i64))
            .map(|o| o.id as i32)
            .collect();
        if hits.is_empty() {
            return Err(SelectionError::new(
                "observation",
                expr,
                format!(
                    "'{tok}' matches no observation; there are {}",
                    meta.observations.len()
                ),
            ));
        }
        out.extend(hits);
    }
    Ok(out)
}

/// Correlation types named in a `correlation` expression (`XX,YY`, `RR`).
pub fn resolve_correlation(meta: &MsMeta, expr: &str) -> Result<Vec<CorrType>, SelectionError> {
    let present: BTreeSet<String> = meta
        .pols
        .iter()
        .flat_map(|p| p.corr_types.iter().map(|c| c.name()))
        .collect();
    let mut out = Vec::new();
    for tok in split_commas(expr) {
        let c = CorrType::from_name(tok).filter(|c| present.contains(&c.name()));
        match c {
            Some(c) => {
                if !out.contains(&c) {
                    out.push(c)
                }
            }
            None => {
                return Err(SelectionError::new(
                    "correlation",
                    expr,
                    format!(
                        "'{tok}' is not a correlation of this MS; it has {}",
                        present.into_iter().collect::<Vec<_>>().join(",")
                    ),
                ))
            }
        }
    }
    Ok(out)
}
