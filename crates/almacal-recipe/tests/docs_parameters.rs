//! `docs/parameters.md` is generated from the task schemas; this fails when it is stale.
//! `UPDATE_EXPECT=1 cargo test -p almacal-recipe --test docs_parameters` rewrites it.

use std::path::PathBuf;

#[test]
fn parameter_reference_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/parameters.md");
    let want = almacal_recipe::reference::parameters_md();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &want).expect("write docs/parameters.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/parameters.md is stale: run `UPDATE_EXPECT=1 cargo test -p almacal-recipe --test docs_parameters`"
    );
    // The generated text states what is not implemented, e.g. gaincal's K gaintype.
    assert!(want.contains("| `gaintype` |"), "no gaintype row");
    assert!(
        want.contains("only \"G\", \"T\""),
        "gaintype support not shown"
    );
}
