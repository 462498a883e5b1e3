//! flagdata mode='clip' against CASA 6.7's flag counts (`fixtures/flagging/casa_clip.json`,
//! made by `fixtures/flagging/casa_clip_reference.py`) on a copy of the reference MS
//! `refdata/sim_small/sim_small.ms` with a few DATA cells set to 0, NaN and ±Inf. Each case's
//! parameters go through the flagdata stage's parser (`stages::flag_commands::step_of`) and
//! `compute_layer`, like a recipe command; the counts of `flag_summary` (total, per antenna,
//! per spw, per correlation) must equal CASA's flagdata summary exactly.

mod common;

use almacal_casa::flagging::{compute_layer, flag_summary};
use almacal_casa::selection::SelectionParams;
use almacal_casa::table::casacore_lock;
use almacal_pipeline::stages::flag_commands::{step_of, Step};
use almacal_recipe::{ParamValue, Params};
use ndarray::Array2;
use num_complex::Complex32;
use rubbl_casatables::{Table, TableOpenMode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// The reference MS copied to `dir` with the cells the CASA script overwrote.
fn modified_copy(raw: &Path, dir: &Path, cells: &[Value]) -> std::path::PathBuf {
    let ms = dir.join("clip.ms");
    copy_dir(raw, &ms);
    let _g = casacore_lock();
    let mut t = Table::open(&ms, TableOpenMode::ReadWrite).unwrap();
    for c in cells {
        let row = c["row"].as_u64().unwrap();
        let (chan, corr) = (
            c["chan"].as_u64().unwrap() as usize,
            c["corr"].as_u64().unwrap() as usize,
        );
        let value = match c["value"].as_str().unwrap() {
            "zero" => Complex32::new(0.0, 0.0),
            "nan" => Complex32::new(f32::NAN, f32::NAN),
            "inf" => Complex32::new(f32::INFINITY, 0.0),
            "-inf" => Complex32::new(f32::NEG_INFINITY, 1.0),
            "nan_re" => Complex32::new(f32::NAN, 1e-4),
            other => panic!("unknown modification {other}"),
        };
        let v: Vec<Complex32> = t.get_cell_as_vec("DATA", row).unwrap();
        // casacore's [ncorr, nchan] cell is (nchan, ncorr) in row-major order; the MS has
        // one polarization setup (XX, YY).
        let ncorr = 2;
        let nchan = v.len() / ncorr;
        let mut a = Array2::from_shape_vec((nchan, ncorr), v).unwrap();
        a[[chan, corr]] = value;
        t.put_cell("DATA", row, &a).unwrap();
    }
    drop(t);
    ms
}

fn json_to_param(v: &Value) -> ParamValue {
    match v {
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Number(n) if n.is_i64() => ParamValue::Int(n.as_i64().unwrap()),
        Value::Number(n) => ParamValue::Float(n.as_f64().unwrap()),
        Value::String(s) => ParamValue::Str(s.clone()),
        Value::Array(a) => ParamValue::List(a.iter().map(json_to_param).collect()),
        other => panic!("unexpected parameter {other}"),
    }
}

fn casa_counts(v: &Value) -> BTreeMap<String, (u64, u64)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, c)| {
            (
                k.clone(),
                (c["flagged"].as_u64().unwrap(), c["total"].as_u64().unwrap()),
            )
        })
        .collect()
}

fn ours(m: &BTreeMap<String, almacal_casa::flagging::FlagCounts>) -> BTreeMap<String, (u64, u64)> {
    m.iter()
        .map(|(k, c)| (k.clone(), (c.flagged, c.total)))
        .collect()
}

#[test]
fn clip_counts_match_casa() {
    let Some(raw) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let reference = common::json(&common::fixture("flagging/casa_clip.json"));
    let dir = tempfile::tempdir().unwrap();
    let ms = modified_copy(
        &raw,
        dir.path(),
        reference["modified_cells"].as_array().unwrap(),
    );
    let mut mismatches = Vec::new();
    for case in reference["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut params: Params = case["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json_to_param(v)))
            .collect();
        params.insert("mode".into(), ParamValue::Str("clip".into()));
        params.insert("datacolumn".into(), ParamValue::Str("data".into()));
        let Step::Flag(cmd) = step_of(&params, name.into()).unwrap() else {
            panic!("{name}: not a flag command");
        };
        let (layer, _) = compute_layer(&ms, &[cmd], &[]).unwrap();
        let s = flag_summary(&ms, &[Arc::new(layer)], &SelectionParams::default()).unwrap();
        let checks = [
            (
                "total",
                BTreeMap::from([(
                    String::new(),
                    (
                        case["flagged"].as_u64().unwrap(),
                        case["total"].as_u64().unwrap(),
                    ),
                )]),
                BTreeMap::from([(String::new(), (s.flagged, s.total))]),
            ),
            ("antenna", casa_counts(&case["antenna"]), ours(&s.antenna)),
            ("spw", casa_counts(&case["spw"]), ours(&s.spw)),
            (
                "correlation",
                casa_counts(&case["correlation"]),
                ours(&s.correlation),
            ),
        ];
        for (what, casa, us) in checks {
            if casa != us {
                let diff: Vec<String> = casa
                    .iter()
                    .filter(|(k, v)| us.get(*k) != Some(v))
                    .map(|(k, v)| format!("{k}: CASA {v:?} almacal {:?}", us.get(k)))
                    .collect();
                mismatches.push(format!("{name} {what}: {}", diff.join("; ")));
            }
        }
        eprintln!(
            "{name:32} flagged {:>9} (CASA {:>9})",
            s.flagged,
            case["flagged"].as_u64().unwrap()
        );
    }
    assert!(
        mismatches.is_empty(),
        "clip counts differ from CASA:\n{}",
        mismatches.join("\n")
    );
}
