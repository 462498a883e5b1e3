//! almacal's split with CASA's re-indexing (`reindex = true`, the default) against CASA 6.7
//! (`fixtures/split_reindex/casa_reference.json`, made by `casa_reference.py` beside it):
//! on `refdata/sim_small/sim_small.ms`, for each of the reference's selections (spws and a
//! field; Tsys spws with SYSCAL; spws listed out of order; a spw range over spws without a
//! DDID; channel ranges, ascending and descending; several ranges in one spw; fields listed
//! out of order; an intent; channels of a Tsys spw, whose SYSCAL spectra CASA leaves
//! whole; an antenna and scan selection, which renumbers nothing), the output has CASA's SPECTRAL_WINDOW (names, NUM_CHAN,
//! REF_FREQUENCY, TOTAL_BANDWIDTH, first/last CHAN_FREQ), DATA_DESCRIPTION, FIELD, STATE,
//! SOURCE rows, SYSCAL/FEED spw histograms, row count, DATA_DESC_ID/FIELD_ID/STATE_ID
//! histograms (all identical) and per-DDID DATA sums (re, im, |z|) within 1e-6 relative and
//! FLAG counts. One case also runs as mstransform (same default), and an applycal output
//! with `reindex = true` is checked against the same case's structure.

mod casa_common;
mod engine_common;

use almacal_casa::table::RoTable;
use num_complex::Complex32;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn hist(v: &[i32]) -> Value {
    let mut m: BTreeMap<i32, u64> = BTreeMap::new();
    for &x in v {
        *m.entry(x).or_default() += 1;
    }
    Value::Object(
        m.into_iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect::<Map<_, _>>(),
    )
}

fn sub(ms: &Path, name: &str) -> RoTable {
    RoTable::open_sub(ms, name)
        .expect("open subtable")
        .unwrap_or_else(|| panic!("{} has no {name}", ms.display()))
}

/// The same description of an MS as `casa_reference.py`'s `describe`.
fn describe(ms: &Path) -> Value {
    let mut r = Map::new();
    let mut t = sub(ms, "SPECTRAL_WINDOW");
    let names = t.col_string("NAME").unwrap();
    let mut spws = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let cf: Vec<f64> = t.cell_vec("CHAN_FREQ", i as u64).unwrap();
        spws.push(json!({
            "name": name,
            "num_chan": t.cell::<i32>("NUM_CHAN", i as u64).unwrap(),
            "ref_frequency": t.cell::<f64>("REF_FREQUENCY", i as u64).unwrap(),
            "total_bandwidth": t.cell::<f64>("TOTAL_BANDWIDTH", i as u64).unwrap(),
            "chan_freq_first": cf[0],
            "chan_freq_last": cf[cf.len() - 1],
        }));
    }
    r.insert("spectral_window".into(), Value::Array(spws));
    let mut t = sub(ms, "DATA_DESCRIPTION");
    let (s, p) = (
        t.col::<i32>("SPECTRAL_WINDOW_ID").unwrap(),
        t.col::<i32>("POLARIZATION_ID").unwrap(),
    );
    r.insert(
        "data_description".into(),
        json!(s.iter().zip(&p).map(|(a, b)| [*a, *b]).collect::<Vec<_>>()),
    );
    let mut t = sub(ms, "FIELD");
    let (n, s) = (
        t.col_string("NAME").unwrap(),
        t.col::<i32>("SOURCE_ID").unwrap(),
    );
    r.insert(
        "field".into(),
        json!(n
            .iter()
            .zip(&s)
            .map(|(a, b)| json!([a, b]))
            .collect::<Vec<_>>()),
    );
    r.insert(
        "state".into(),
        json!(sub(ms, "STATE").col_string("OBS_MODE").unwrap()),
    );
    let mut t = sub(ms, "SOURCE");
    let (a, b) = (
        t.col::<i32>("SOURCE_ID").unwrap(),
        t.col::<i32>("SPECTRAL_WINDOW_ID").unwrap(),
    );
    r.insert(
        "source".into(),
        json!(a.iter().zip(&b).map(|(x, y)| [*x, *y]).collect::<Vec<_>>()),
    );
    r.insert(
        "syscal_spw".into(),
        hist(&sub(ms, "SYSCAL").col::<i32>("SPECTRAL_WINDOW_ID").unwrap()),
    );
    r.insert(
        "feed_spw".into(),
        hist(&sub(ms, "FEED").col::<i32>("SPECTRAL_WINDOW_ID").unwrap()),
    );
    let mut t = RoTable::open(ms).unwrap();
    let dd = t.col::<i32>("DATA_DESC_ID").unwrap();
    r.insert("nrows".into(), json!(t.nrows()));
    r.insert("data_desc_id".into(), hist(&dd));
    r.insert("field_id".into(), hist(&t.col::<i32>("FIELD_ID").unwrap()));
    r.insert("state_id".into(), hist(&t.col::<i32>("STATE_ID").unwrap()));
    // Per DDID: sums of DATA and FLAG counts.
    let mut sums: BTreeMap<i32, [f64; 3]> = BTreeMap::new();
    let mut flags: BTreeMap<i32, [u64; 2]> = BTreeMap::new();
    for (row, &d) in dd.iter().enumerate() {
        let v: Vec<Complex32> = t.cell_vec("DATA", row as u64).unwrap();
        let f: Vec<bool> = t.cell_vec("FLAG", row as u64).unwrap();
        let s = sums.entry(d).or_default();
        for z in &v {
            s[0] += f64::from(z.re);
            s[1] += f64::from(z.im);
            s[2] += f64::from(z.norm());
        }
        let c = flags.entry(d).or_default();
        c[0] += f.iter().filter(|&&x| x).count() as u64;
        c[1] += f.len() as u64;
    }
    r.insert(
        "data_sums".into(),
        Value::Object(
            sums.iter()
                .map(|(d, s)| {
                    let c = flags[d];
                    (
                        d.to_string(),
                        json!({"re": s[0], "im": s[1], "abs": s[2], "flagged": c[0], "cells": c[1]}),
                    )
                })
                .collect(),
        ),
    );
    Value::Object(r)
}

/// `ours` equals `casa`: floats within `rel` relative (`data_sums` within
/// [`DATA_REL`]), integers and the rest identical. Returns the largest relative difference
/// of the data sums.
fn same(what: &str, ours: &Value, casa: &Value, rel: f64, problems: &mut Vec<String>) -> f64 {
    let mut worst = 0.0f64;
    match (ours, casa) {
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            if ka != kb {
                problems.push(format!("{what}: keys {ka:?}, CASA {kb:?}"));
                return worst;
            }
            for (k, v) in a {
                let r = if k == "data_sums" { DATA_REL } else { rel };
                worst = worst.max(same(&format!("{what}.{k}"), v, &b[k], r, problems));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                problems.push(format!(
                    "{what}: {} entries, CASA {}: {ours} vs {casa}",
                    a.len(),
                    b.len()
                ));
                return worst;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                worst = worst.max(same(&format!("{what}[{i}]"), x, y, rel, problems));
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            let d = (x - y).abs() / y.abs().max(1e-300);
            if d > rel && x != y {
                problems.push(format!("{what}: {x} vs CASA {y}"));
            }
            if rel == DATA_REL {
                worst = worst.max(d);
            }
        }
        _ => {
            if ours != casa {
                problems.push(format!("{what}: {ours} vs CASA {casa}"));
            }
        }
    }
    worst
}

/// Relative tolerance of the DATA sums (float32 data summed in float64 in another order).
const DATA_REL: f64 = 1e-6;
/// Frequencies and bandwidths: equal (to the last bits of a float64).
const FREQ_REL: f64 = 1e-14;

#[test]
fn reindexed_splits_match_casa() {
    let Some(refd) = casa_common::refdata("sim_small/sim_small.ms/table.dat") else {
        return;
    };
    let reference: Value = casa_common::reference("fixtures/split_reindex/casa_reference.json");
    assert!(
        reference["casa_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("6.7")),
        "made by CASA 6.7"
    );
    let cases = reference["cases"].as_object().expect("cases");
    let mut recipe = format!(
        "[recipe]\nname = \"split_reindex\"\nworkdir = \"work\"\n\n[inputs]\nraw = \"{}\"\n",
        refd.join("sim_small/sim_small.ms").display()
    );
    let params = |sel: &Value| -> String {
        sel.as_object()
            .expect("selection")
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    };
    for (name, c) in cases {
        recipe.push_str(&format!(
            "\n[stage.{name}]\ntask = \"split\"\nvis = \"raw\"\ndatacolumn = \"data\"\noutputvis = \"{name}.ms\"\n{}",
            params(&c["selection"])
        ));
    }
    // mstransform's default is the same re-indexing.
    let sf = &cases["spw_field"];
    recipe.push_str(&format!(
        "\n[stage.mst]\ntask = \"mstransform\"\nvis = \"raw\"\ndatacolumn = \"data\"\noutputvis = \"mst.ms\"\n{}",
        params(&sf["selection"])
    ));
    // applycal's `output` re-indexes by default too (CASA split's behaviour).
    recipe.push_str(
        "\n[stage.tsys_table]\ntask = \"gencal\"\nvis = \"raw\"\ncaltype = \"tsys\"\n\n[stage.apply]\ntask = \"applycal\"\nvis = \"raw\"\nfield = \"1\"\nspw = \"16,18\"\ngaintable = [\"tsys_table\"]\nspwmap = [\"auto\"]\ninterp = [\"linear,spline\"]\noutput = { split = \"apply.ms\", spw = \"16,18\", field = \"1\", datacolumn = \"corrected\" }\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.toml"), &recipe).expect("write");
    let out = engine_common::almacal(dir.path(), &["run", "r.toml", "--no-plots"]);
    assert!(
        out.status.success(),
        "run failed:\n{}\n{}",
        engine_common::stdout(&out),
        engine_common::stderr(&out)
    );
    let work = dir.path().join("work");
    let mut problems = Vec::new();
    let mut worst = 0.0f64;
    for (name, c) in cases {
        let ours = describe(&work.join(format!("{name}.ms")));
        worst = worst.max(same(name, &ours, &c["output"], FREQ_REL, &mut problems));
    }
    let ours = describe(&work.join("mst.ms"));
    same(
        "mstransform spw_field",
        &ours,
        &sf["output"],
        FREQ_REL,
        &mut problems,
    );
    eprintln!("largest relative difference of the DATA sums: {worst:.2e}");
    // The calibrated output: the same tables as CASA's split of that selection.
    let mut ours = describe(&work.join("apply.ms"));
    let mut casa = sf["output"].clone();
    for v in [&mut ours, &mut casa] {
        v.as_object_mut().expect("object").remove("data_sums");
    }
    same(
        "applycal output spw_field",
        &ours,
        &casa,
        FREQ_REL,
        &mut problems,
    );
    assert!(
        problems.is_empty(),
        "differences from CASA:\n{}",
        problems.join("\n")
    );
}
