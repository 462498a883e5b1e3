//! CASA selection syntax against CASA 6.7's own row and channel counts (recorded by
//! `fixtures/*/casa_reference.py` with `casatools.ms.msselect`).

mod common;

use almacal_casa::reader::count_selected_rows;
use almacal_casa::selection::SelectionParams;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn params(v: &Value) -> SelectionParams {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    SelectionParams {
        field: s("field"),
        spw: s("spw"),
        antenna: s("antenna"),
        scan: s("scan"),
        intent: s("intent"),
        timerange: s("timerange"),
        uvrange: s("uvrange"),
        correlation: s("correlation"),
        ..Default::default()
    }
}

fn check_cases(ms: &Path, reference: &Value) {
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 25, "need at least 25 selection cases");
    // Where CASA's msselect and its tasks (mstransform) disagree, almacal follows the task.
    let task_wins: Vec<&str> = reference["cases_where_msselect_and_mstransform_disagree"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let p = params(&case["params"]);
        let want_rows = if task_wins.contains(&name) {
            case["mstransform"]["nrows"]
                .as_u64()
                .expect("mstransform nrows")
        } else {
            case["nrows"].as_u64().expect("nrows")
        };
        match count_selected_rows(ms, &p) {
            Err(e) => failures.push(format!(
                "{name}: {p:?}: error {e}, CASA gives {want_rows} rows"
            )),
            Ok((n, sel, meta)) => {
                if n != want_rows {
                    failures.push(format!("{name}: {p:?}: {n} rows, CASA {want_rows}"));
                    continue;
                }
                if want_rows == 0 {
                    continue;
                }
                let want: BTreeMap<u32, usize> = case["nchan_per_spw"]
                    .as_object()
                    .expect("nchan_per_spw")
                    .iter()
                    .map(|(k, v)| (k.parse().expect("spw"), v.as_u64().expect("n") as usize))
                    .collect();
                // Only spws that have selected rows are comparable.
                let got: BTreeMap<u32, usize> = sel
                    .nchan_per_spw(&meta)
                    .into_iter()
                    .filter(|(s, _)| want.contains_key(s))
                    .collect();
                if got != want {
                    failures.push(format!("{name}: channels {got:?}, CASA {want:?}"));
                }
                if let Some(ncorr) = case["ncorr"].as_u64() {
                    let dd = meta.data_descs[0].id;
                    let got = sel.corrs_of(&meta, dd).len() as u64;
                    if got != ncorr {
                        failures.push(format!("{name}: {got} correlations, CASA {ncorr}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} selections differ from CASA:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every case CASA's tasks reject must be rejected here too, with a message naming the
/// parameter. (Where `msselect` alone only warns, e.g. an unknown antenna, almacal follows
/// the tasks: a typo in a recipe must not silently select everything.)
fn check_errors(ms: &Path, reference: &Value) {
    let errors = reference["errors"].as_array().expect("errors");
    assert!(!errors.is_empty());
    let mut failures = Vec::new();
    for case in errors {
        let name = case["name"].as_str().unwrap_or("?");
        let p = params(&case["params"]);
        assert_eq!(case["task_raises"].as_bool(), Some(true), "{name}");
        match count_selected_rows(ms, &p) {
            Ok((n, ..)) => {
                failures.push(format!("{name}: {p:?}: accepted ({n} rows), CASA rejects"))
            }
            Err(e) => {
                let msg = e.to_string();
                let named = [
                    "spw",
                    "field",
                    "antenna",
                    "scan",
                    "intent",
                    "timerange",
                    "uvrange",
                    "correlation",
                    "selection",
                ]
                .iter()
                .any(|k| msg.starts_with(k));
                if !named {
                    failures.push(format!(
                        "{name}: message does not name the parameter: {msg}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "error cases differ:\n{}",
        failures.join("\n")
    );
}

#[test]
fn ngc5921_selections_match_casa() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let reference = common::json(&common::fixture("ngc5921/casa_selections.json"));
    check_cases(&ms, &reference);
}

#[test]
fn ngc5921_selection_errors_match_casa() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let reference = common::json(&common::fixture("ngc5921/casa_selections.json"));
    check_errors(&ms, &reference);
}

#[test]
fn sim_small_selections_match_casa() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let reference = common::json(&common::fixture("sim_small/casa_selections.json"));
    check_cases(&ms, &reference);
}

#[test]
fn sim_small_selection_errors_match_casa() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let reference = common::json(&common::fixture("sim_small/casa_selections.json"));
    check_errors(&ms, &reference);
}
