//! Helpers of the end-to-end CASA comparisons (`*_vs_casa.rs`): the reference data
//! (`../shared/refdata`, skipped with a note when absent unless ALMACAL_REQUIRE_REFDATA is
//! set), the committed CASA references (`fixtures/<name>/casa_reference.json`), running a
//! recipe that must succeed, and an MS's rows by (TIME, ANTENNA1, ANTENNA2, spw).
//! A test that uses it declares `mod engine_common;` too.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use almacal_casa::table::RoTable;
use serde_json::Value;

use crate::engine_common;

/// The reference data folder, if `marker` (a path inside it) exists.
pub fn refdata(marker: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ALMACAL_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| engine_common::repo_root().join("../shared/refdata"));
    if base.join(marker).exists() {
        return Some(base);
    }
    assert!(
        std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_none(),
        "reference data missing under {} (ALMACAL_REQUIRE_REFDATA is set)",
        base.display()
    );
    eprintln!("note: reference data not found; this check runs in CI");
    None
}

/// A committed JSON file of the repository (`fixtures/...`).
pub fn reference(rel: &str) -> Value {
    let path = engine_common::repo_root().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Write `recipe` as `dir/r.toml` and run it (no plots); it must succeed.
pub fn run_recipe(dir: &Path, recipe: &str) {
    std::fs::write(dir.join("r.toml"), recipe).expect("write recipe");
    let out = engine_common::almacal(dir, &["run", "r.toml", "--no-plots"]);
    assert!(
        out.status.success(),
        "run failed:\n{}\n{}",
        engine_common::stdout(&out),
        engine_common::stderr(&out)
    );
}

/// The key of a row: TIME to the millisecond, ANTENNA1, ANTENNA2, spw id.
pub fn row_key(time_s: f64, a1: i64, a2: i64, spw: i64) -> String {
    format!("{},{a1},{a2},{spw}", (time_s * 1000.0).round() as i64)
}

/// An MS's main table with its rows by [`row_key`].
pub struct KeyedMs {
    pub table: RoTable,
    pub rows: HashMap<String, usize>,
}

impl KeyedMs {
    pub fn open(ms: &Path) -> Self {
        let mut dd = RoTable::open(&ms.join("DATA_DESCRIPTION")).expect("DATA_DESCRIPTION");
        let dd_spw: Vec<i32> = dd.col("SPECTRAL_WINDOW_ID").expect("SPECTRAL_WINDOW_ID");
        let mut table = RoTable::open(ms).expect("main table");
        let time: Vec<f64> = table.col("TIME").expect("TIME");
        let a1: Vec<i32> = table.col("ANTENNA1").expect("ANTENNA1");
        let a2: Vec<i32> = table.col("ANTENNA2").expect("ANTENNA2");
        let ddid: Vec<i32> = table.col("DATA_DESC_ID").expect("DATA_DESC_ID");
        let rows = (0..time.len())
            .map(|r| {
                let spw = dd_spw[ddid[r] as usize] as i64;
                (row_key(time[r], a1[r] as i64, a2[r] as i64, spw), r)
            })
            .collect();
        Self { table, rows }
    }

    /// The row of a reference entry `[TIME, ANTENNA1, ANTENNA2, spw, ...]`.
    pub fn row_of(&self, entry: &Value) -> Option<usize> {
        let k = row_key(
            entry[0].as_f64()?,
            entry[1].as_i64()?,
            entry[2].as_i64()?,
            entry[3].as_i64()?,
        );
        self.rows.get(&k).copied()
    }
}
