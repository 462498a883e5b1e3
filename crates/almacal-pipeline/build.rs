//! The build identity that goes into every stage fingerprint: the package version plus a
//! hash of the sources that decide what a stage writes (the recipe, core, casa, solve and
//! pipeline crates, and the C++ glue). A rebuilt almacal with different sources therefore
//! reruns every stage instead of keeping products an older build made.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let crates = here.join("..");
    let mut list = Vec::new();
    for c in [
        "almacal-recipe/src",
        "almacal-core/src",
        "almacal-casa/src",
        "almacal-casa/cpp",
        "almacal-solve/src",
        "almacal-solve/data",
        "almacal-pipeline/src",
    ] {
        let d = crates.join(c);
        println!("cargo:rerun-if-changed={}", d.display());
        files(&d, &mut list);
    }
    list.sort();
    let mut h = blake3::Hasher::new();
    for p in &list {
        let rel = p.strip_prefix(&crates).unwrap_or(p);
        h.update(rel.to_string_lossy().as_bytes());
        h.update(&[0]);
        if let Ok(b) = std::fs::read(p) {
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(&b);
        }
    }
    let hex = h.finalize().to_hex();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env=ALMACAL_BUILD_ID={version}+{}", &hex[..12]);
}
