//! Partial reruns of `renorm` (design: partial reruns): when an upstream change touched
//! only some spws, those spws are recomputed and merged with the previous run's caltable
//! rows and report entries of the other spws. Every renorm quantity is per spw (the
//! scaling spectra, the marking against the threshold, the `fill_table` rows), so the
//! merge equals a whole rerun.

use std::collections::BTreeSet;
use std::path::Path;

use almacal_casa::caltable::{read_caltable, CalRow};
use serde_json::Value;

/// The previous run's products.
pub struct Previous {
    pub rows: Vec<CalRow>,
    pub report: Value,
}

/// Read the previous caltable (if the stage writes one) and report.
pub fn read_previous(caltable: Option<&Path>, report: &Path) -> Result<Previous, String> {
    let rows = match caltable {
        Some(p) => {
            read_caltable(p)
                .map_err(|e| format!("cannot read the previous {}: {e}", p.display()))?
                .rows
        }
        None => Vec::new(),
    };
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("cannot read the previous {}: {e}", report.display()))?;
    let report = serde_json::from_str(&text)
        .map_err(|e| format!("the previous {} is not JSON: {e}", report.display()))?;
    Ok(Previous { rows, report })
}

fn is_redone(spw: &str, redone: &BTreeSet<u32>) -> bool {
    spw.parse::<u32>().is_ok_and(|s| redone.contains(&s))
}

/// Rows of the spws not redone, followed by `new`, in the whole run's order
/// (spw, scan, field, antenna).
pub fn merge_rows(prev: Vec<CalRow>, new: Vec<CalRow>, redone: &BTreeSet<u32>) -> Vec<CalRow> {
    let mut rows: Vec<CalRow> = prev
        .into_iter()
        .filter(|r| u32::try_from(r.spw_id).map_or(true, |s| !redone.contains(&s)))
        .chain(new)
        .collect();
    rows.sort_by(|a, b| {
        (a.spw_id, a.scan, a.field_id, a.antenna1).cmp(&(b.spw_id, b.scan, b.field_id, b.antenna1))
    });
    rows
}

/// The merged marked spws: the previous ones not redone, plus the newly marked.
pub fn merge_marked(prev: &Value, new: &BTreeSet<u32>, redone: &BTreeSet<u32>) -> BTreeSet<u32> {
    let mut out: BTreeSet<u32> = prev["marked_spws"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|s| u32::try_from(s).ok())
                .filter(|s| !redone.contains(s))
                .collect()
        })
        .unwrap_or_default();
    out.extend(new.iter().copied());
    out
}

/// Merge the per-spw parts of the report (`stats` per field and spw, `atm_exclusions`,
/// the ratio-spectrum `diagnostics`, notes naming a spw) and recompute the maximum scaling. Returns it.
pub fn merge_report(new: &mut Value, prev: &Value, redone: &BTreeSet<u32>) -> f64 {
    // stats: field name → spw → entry.
    if let (Some(pstats), Some(nstats)) = (prev["stats"].as_object(), new["stats"].as_object_mut())
    {
        for (field, pentry) in pstats {
            let Some(pentry) = pentry.as_object() else {
                continue;
            };
            let nentry = nstats
                .entry(field.clone())
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(n) = nentry.as_object_mut() {
                for (spw, v) in pentry {
                    if !is_redone(spw, redone) {
                        n.insert(spw.clone(), v.clone());
                    }
                }
            }
        }
    }
    for key in ["atm_exclusions", "diagnostics"] {
        if new.get(key).is_none() {
            new[key] = Value::Object(Default::default());
        }
        if let (Some(p), Some(n)) = (prev[key].as_object(), new[key].as_object_mut()) {
            for (spw, v) in p {
                if !is_redone(spw, redone) {
                    n.insert(spw.clone(), v.clone());
                }
            }
        }
    }
    if let (Some(p), Some(n)) = (prev["notes"].as_array(), new["notes"].as_array_mut()) {
        let kept: Vec<Value> = p
            .iter()
            .filter(|v| {
                v.as_str().is_none_or(|s| {
                    !s.strip_prefix("spw ")
                        .and_then(|r| r.split(':').next())
                        .is_some_and(|spw| is_redone(spw, redone))
                })
            })
            .cloned()
            .collect();
        let mut all = kept;
        all.append(n);
        *n = all;
    }
    let mut max_all = 1.0f64;
    if let Some(stats) = new["stats"].as_object() {
        for entry in stats.values().filter_map(Value::as_object) {
            for v in entry.values() {
                if let Some(m) = v["max_rn"].as_f64() {
                    max_all = max_all.max(m);
                }
            }
        }
    }
    max_all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_merge_keeps_other_spws_and_recomputes_the_maximum() {
        let prev = json!({
            "stats": {"T": {"16": {"max_rn": 1.05}, "18": {"max_rn": 1.2}}},
            "atm_exclusions": {"16": [1], "18": [2]},
            "notes": ["spw 18: old note", "general"],
            "marked_spws": [16, 18],
            "diagnostics": {"16": {"scan": 5, "ratio": [[[1.2]]]}, "18": {"scan": 5}, "20": {"scan": 9}},
        });
        let mut new = json!({
            "stats": {"T": {"18": {"max_rn": 1.01}}},
            "atm_exclusions": {"18": [3]},
            "notes": ["spw 18: new note"],
            "diagnostics": {"18": {"scan": 7}},
        });
        let redone: BTreeSet<u32> = [18].into();
        let max = merge_report(&mut new, &prev, &redone);
        assert!((max - 1.05).abs() < 1e-12, "{max}");
        assert_eq!(new["stats"]["T"]["16"]["max_rn"], json!(1.05));
        assert_eq!(new["stats"]["T"]["18"]["max_rn"], json!(1.01));
        assert_eq!(new["atm_exclusions"]["18"], json!([3]));
        // Diagnostics: the redone spw's new entry, the others' previous ones.
        assert_eq!(
            new["diagnostics"],
            json!({"16": {"scan": 5, "ratio": [[[1.2]]]}, "18": {"scan": 7}, "20": {"scan": 9}})
        );
        // A redone spw with no new diagnostic (e.g. no longer computed) loses the old one.
        let mut bare = json!({"stats": {}, "atm_exclusions": {}, "notes": []});
        merge_report(&mut bare, &prev, &redone);
        assert_eq!(
            bare["diagnostics"],
            json!({"16": {"scan": 5, "ratio": [[[1.2]]]}, "20": {"scan": 9}})
        );
        assert_eq!(new["notes"], json!(["general", "spw 18: new note"]));
        let marked = merge_marked(&prev, &BTreeSet::new(), &redone);
        assert_eq!(marked, [16].into());
    }
}
