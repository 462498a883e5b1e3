//! Shared test helpers: where the fixtures and the CASA reference data are.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// A path under the shared reference data (`../shared/refdata` beside the clone, or
/// `$ALMACAL_REFDATA`). Returns `None` when it is absent, unless `ALMACAL_REQUIRE_REFDATA`
/// is set (CI), in which case the test fails loudly.
pub fn refdata(rel: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ALMACAL_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/refdata"));
    let p = base.join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_some() {
        panic!(
            "reference data {} is missing (ALMACAL_REQUIRE_REFDATA is set)",
            p.display()
        );
    }
    eprintln!("note: {} not present; this check runs in CI", p.display());
    None
}

/// Read a JSON fixture.
pub fn json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {}: {e}", path.display()))
}

/// CASA's own solver input, `refdata/sim_small/casa/sim_small.split.ms` (or
/// `$ALMACAL_SPLIT_DIR/sim_small.split.ms`). Read-only: copy it before writing.
/// `None` when absent, unless `ALMACAL_REQUIRE_REFDATA` is set (then the test fails).
pub fn casa_split() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ALMACAL_SPLIT_DIR") {
        let p = PathBuf::from(dir).join("sim_small.split.ms");
        if p.join("table.dat").exists() {
            return Some(p);
        }
    }
    refdata("sim_small/casa/sim_small.split.ms")
}
