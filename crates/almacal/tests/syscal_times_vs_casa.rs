//! gencal caltype='tsys' on a SYSCAL table with ALMA's overlapping Tsys intervals, against
//! CASA 6.7 (`fixtures/syscal_times/casa_reference.json`, made by `casa_reference.py`
//! beside it). The test copies `refdata/sim_small/sim_small.ms`, breaks the same SYSCAL
//! rows the reference broke (same start with another INTERVAL; a start moved by 0.3 s),
//! and requires almacal's Tsys table to equal CASA's row for row (TIME within 1 µs,
//! spw, antenna, field, scan, flagged cells, the sum of unflagged Tsys within 1e-6
//! relative):
//! - `fixsyscaltimes = false`: CASA's gencal on the broken table (a slot per SYSCAL TIME:
//!   the same start twice, with flagged fillers);
//! - `fixsyscaltimes = true`: CASA's gencal after almahelpers' fixsyscaltimes, and the
//!   fixed SYSCAL TIME/INTERVAL values themselves, bit for bit.

mod casa_common;
mod engine_common;

use almacal_casa::caltable::{read_caltable, CalParams};
use rubbl_casatables::{Table, TableOpenMode};
use serde_json::Value;
use std::path::Path;

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read_dir") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

/// (TIME, spw, antenna, field, scan, flagged cells, sum of unflagged Tsys) per row.
type Row = (f64, i64, i64, i64, i64, i64, f64);

fn our_rows(path: &Path) -> Vec<Row> {
    let t = read_caltable(path).expect("tsys table");
    t.rows
        .iter()
        .map(|r| {
            let CalParams::Float(p) = &r.params else {
                panic!("B TSYS has FPARAM")
            };
            let sum: f64 = p
                .iter()
                .zip(r.flag.iter())
                .filter(|(_, f)| !**f)
                .map(|(v, _)| *v as f64)
                .sum();
            (
                r.time_s,
                r.spw_id as i64,
                r.antenna1 as i64,
                r.field_id as i64,
                r.scan as i64,
                r.flag.iter().filter(|f| **f).count() as i64,
                sum,
            )
        })
        .collect()
}

fn casa_rows(v: &Value) -> Vec<Row> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[0].as_f64().unwrap(),
                r[1].as_i64().unwrap(),
                r[2].as_i64().unwrap(),
                r[3].as_i64().unwrap(),
                r[4].as_i64().unwrap(),
                r[5].as_i64().unwrap(),
                r[6].as_f64().unwrap(),
            )
        })
        .collect()
}

fn compare(what: &str, ours: &[Row], theirs: &[Row]) -> Vec<String> {
    let mut bad = Vec::new();
    if ours.len() != theirs.len() {
        bad.push(format!(
            "{what}: {} rows, CASA {}",
            ours.len(),
            theirs.len()
        ));
    }
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let same = (a.0 - b.0).abs() < 1e-6
            && (a.1, a.2, a.3, a.4, a.5) == (b.1, b.2, b.3, b.4, b.5)
            && (a.6 - b.6).abs() <= 1e-6 * b.6.abs().max(1.0);
        if !same && bad.len() < 8 {
            bad.push(format!("{what} row {i}: almacal {a:?}, CASA {b:?}"));
        }
    }
    bad
}

#[test]
fn overlapping_syscal_times_match_casa() {
    let Some(refd) = casa_common::refdata("sim_small/sim_small.ms/table.dat") else {
        return;
    };
    let reference: Value = casa_common::reference("fixtures/syscal_times/casa_reference.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let ms = dir.path().join("broken.ms");
    copy_dir(&refd.join("sim_small/sim_small.ms"), &ms);
    {
        let mut t = Table::open(ms.join("SYSCAL"), TableOpenMode::ReadWrite).expect("SYSCAL");
        for b in reference["break"].as_array().expect("break") {
            let row = b[0].as_u64().unwrap();
            t.put_cell("TIME", row, &b[1].as_f64().unwrap())
                .expect("TIME");
            t.put_cell("INTERVAL", row, &b[2].as_f64().unwrap())
                .expect("INTERVAL");
        }
    }
    let recipe = format!(
        "[recipe]\nname = \"syscal\"\nworkdir = \"work\"\n\n[inputs]\nraw = \"{}\"\n\n\
         [stage.broken]\ntask = \"gencal\"\nvis = \"raw\"\ncaltype = \"tsys\"\n\n\
         [stage.fixed]\ntask = \"gencal\"\nvis = \"raw\"\ncaltype = \"tsys\"\nfixsyscaltimes = true\n",
        ms.display()
    );
    casa_common::run_recipe(dir.path(), &recipe);
    let work = dir.path().join("work");
    let mut bad = compare(
        "broken",
        &our_rows(&work.join("broken.cal")),
        &casa_rows(&reference["broken"]),
    );
    bad.extend(compare(
        "fixed",
        &our_rows(&work.join("fixed.cal")),
        &casa_rows(&reference["fixed"]),
    ));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The fix made the rows that differ: the same count of slots as an unbroken table.
    assert!(
        reference["broken"].as_array().unwrap().len()
            > reference["fixed"].as_array().unwrap().len()
    );

    // The fixed SYSCAL values themselves, bit for bit (almahelpers' arithmetic).
    let mut meta = almacal_casa::read_meta(&ms).expect("meta");
    let before = meta.syscal.clone();
    almacal_solve::prep::tsys::fix_syscal_times(&mut meta.syscal, 2.0);
    let mut changed = Vec::new();
    for (i, (a, b)) in meta.syscal.iter().zip(&before).enumerate() {
        if a.time_s != b.time_s || a.interval_s != b.interval_s {
            changed.push((i as u64, a.time_s, a.interval_s));
        }
    }
    let want: Vec<(u64, f64, f64)> = reference["fixed_syscal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_u64().unwrap(),
                r[1].as_f64().unwrap(),
                r[2].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(changed, want, "fixed SYSCAL rows (row, TIME, INTERVAL)");
    // The input MS's SYSCAL is untouched by the fixing stage.
    let meta = almacal_casa::read_meta(&ms).expect("meta");
    assert_eq!(
        meta.syscal.iter().map(|r| r.time_s).collect::<Vec<_>>(),
        before.iter().map(|r| r.time_s).collect::<Vec<_>>()
    );
}
