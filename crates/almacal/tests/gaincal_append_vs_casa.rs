//! gaincal `append_to` (CASA's `append=True`) against CASA 6.7
//! (`fixtures/gaincal_append/casa_reference.json`, made by `casa_reference.py` beside it):
//! the archive scripts' phase-calibrator bootstrap on CASA's own solver input
//! (`refdata/sim_small/casa/sim_small.split.ms`, CASA's bandpass pre-applied). A first
//! gaincal solves field 0 per integration; a second solves field 1 per scan and appends.
//! The appended table holds exactly CASA's solutions (same (TIME, field, spw, antenna)
//! keys, identical flags, phases within 0.01°), the first table is unchanged, and the
//! SPECTRAL_WINDOW FLAG_ROW column is CASA's. The recipe checks: applying the table a
//! stage appends to, or two stages appending to one table, is an error.

mod casa_common;
mod engine_common;

use almacal_casa::caltable::{read_caltable, CalParams};
use almacal_casa::table::RoTable;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

fn stage(name: &str, p: &Value, extra: &str) -> String {
    stage_applying(name, p, extra, "")
}

/// A gaincal stage pre-applying CASA's bandpass (`BP`, replaced by `recipe`) and `more`.
fn stage_applying(name: &str, p: &Value, extra: &str, more: &str) -> String {
    let kv: Vec<String> = p
        .as_object()
        .expect("params")
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    format!(
        "[stage.{name}]\ntask = \"gaincal\"\nvis = \"ms\"\ngaintable = [\"BP\"{more}]\n{}\n{extra}\n",
        kv.join("\n")
    )
}

fn recipe(refd: &Path, stages: &str) -> String {
    format!(
        "[recipe]\nname = \"append\"\nworkdir = \"work\"\n\n[inputs]\nms = \"{}\"\n\n{}",
        refd.join("sim_small/casa/sim_small.split.ms").display(),
        stages.replace(
            "\"BP\"",
            &format!(
                "\"{}\"",
                refd.join("sim_small/casa/sim_small.bandpass.bcal")
                    .display()
            )
        ),
    )
}

type Key = (i64, i32, i32, i32);

/// (TIME in ms, field, spw, antenna) -> (flags, phases in degrees) of a table.
fn ours(path: &Path) -> HashMap<Key, (Vec<bool>, Vec<f64>)> {
    let t = read_caltable(path).expect("caltable");
    t.rows
        .iter()
        .map(|r| {
            let CalParams::Complex(p) = &r.params else {
                panic!("G Jones has CPARAM")
            };
            (
                (
                    (r.time_s * 1000.0).round() as i64,
                    r.field_id,
                    r.spw_id,
                    r.antenna1,
                ),
                (
                    (0..p.shape()[0]).map(|k| r.flag[[k, 0]]).collect(),
                    (0..p.shape()[0])
                        .map(|k| (p[[k, 0]].arg() as f64).to_degrees())
                        .collect(),
                ),
            )
        })
        .collect()
}

fn compare(what: &str, ours: &HashMap<Key, (Vec<bool>, Vec<f64>)>, rows: &Value) -> Vec<String> {
    let rows = rows.as_array().expect("rows");
    let mut bad = Vec::new();
    if ours.len() != rows.len() {
        bad.push(format!("{what}: {} rows, CASA {}", ours.len(), rows.len()));
    }
    let mut worst = 0.0f64;
    for r in rows {
        let key = (
            (r[0].as_f64().unwrap() * 1000.0).round() as i64,
            r[1].as_i64().unwrap() as i32,
            r[2].as_i64().unwrap() as i32,
            r[3].as_i64().unwrap() as i32,
        );
        let Some((flag, phase)) = ours.get(&key) else {
            bad.push(format!("{what}: no row {key:?}"));
            continue;
        };
        let f: Vec<bool> = r[7]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_bool().unwrap())
            .collect();
        if *flag != f {
            bad.push(format!("{what} {key:?}: flags {flag:?}, CASA {f:?}"));
        }
        for (k, want) in r[8].as_array().unwrap().iter().enumerate() {
            if !f[k] {
                let d = (phase[k] - want.as_f64().unwrap() + 540.0).rem_euclid(360.0) - 180.0;
                worst = worst.max(d.abs());
            }
        }
    }
    println!(
        "{what}: {} rows, worst phase difference {worst:.2e} deg",
        rows.len()
    );
    if worst > 0.01 {
        bad.push(format!(
            "{what}: phases differ from CASA's by up to {worst} deg"
        ));
    }
    bad
}

#[test]
fn appended_gaincal_table_matches_casa() {
    let Some(refd) = casa_common::refdata("sim_small/casa/sim_small.split.ms/table.dat") else {
        return;
    };
    let reference: Value = casa_common::reference("fixtures/gaincal_append/casa_reference.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = stage("first", &reference["first"]["params"], "")
        + &stage(
            "second",
            &reference["second"]["params"],
            "append_to = \"first\"",
        );
    casa_common::run_recipe(dir.path(), &recipe(&refd, &stages));
    let work = dir.path().join("work");
    let mut bad = compare(
        "first",
        &ours(&work.join("first.cal")),
        &reference["first"]["rows"],
    );
    bad.extend(compare(
        "appended",
        &ours(&work.join("second.cal")),
        &reference["appended"]["rows"],
    ));
    let mut spw = RoTable::open(&work.join("second.cal/SPECTRAL_WINDOW")).expect("SPECTRAL_WINDOW");
    let flag_row: Vec<bool> = spw.col("FLAG_ROW").expect("FLAG_ROW");
    let want: Vec<bool> = reference["appended"]["spw_flag_row"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect();
    if flag_row != want {
        bad.push(format!(
            "SPECTRAL_WINDOW FLAG_ROW {flag_row:?}, CASA {want:?}"
        ));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn recipes_keep_the_meaning_of_an_appended_table() {
    let Some(refd) = casa_common::refdata("sim_small/casa/sim_small.split.ms/table.dat") else {
        return;
    };
    let p = serde_json::json!({ "field": "0", "solint": "inf", "calmode": "p", "refant": "CM12" });
    let check = |stages: String| {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("r.toml"), recipe(&refd, &stages)).expect("recipe");
        let out = engine_common::almacal(dir.path(), &["check", "r.toml"]);
        assert!(!out.status.success(), "check passed:\n{stages}");
        engine_common::stdout(&out) + &engine_common::stderr(&out)
    };
    // A later stage applying the table another stage appends to.
    let said = check(
        stage("first", &p, "")
            + &stage("second", &p, "append_to = \"first\"")
            + &stage_applying("third", &p, "", ", \"first\""),
    );
    assert!(
        said.contains("applies caltable `first`, but stage `second` appends to it"),
        "{said}"
    );
    // Two stages appending to one table.
    let said = check(
        stage("first", &p, "")
            + &stage("second", &p, "append_to = \"first\"")
            + &stage("third", &p, "append_to = \"first\""),
    );
    assert!(
        said.contains("chain them: `append_to = \"second\"`"),
        "{said}"
    );
    // CASA's own parameter names the replacement.
    let said = check(stage("first", &p, "append = true"));
    assert!(said.contains("append_to"), "{said}");
}
