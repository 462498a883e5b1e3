//! Helpers shared by the CLI workflow tests (fault workflow, stage plots, regress,
//! sim_small vs CASA): the repository root, running the `almacal` binary, reading JSON
//! products, copying a folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `almacal ARGS` in `cwd`: the exit code and stdout + stderr.
pub fn almacal(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run almacal");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A JSON file, or a panic naming it.
pub fn json(p: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {}: {e}", p.display()))
}

/// Copy the folder `from` to `to` (recursively).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let t = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}

/// A temp folder with the tutorial recipe for the `tiny` preset, its flag file, and the
/// simulated MS in `data/sim_tiny.ms` (`fault`: with `simulate --fault`).
pub fn tiny_setup(fault: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    for f in [
        "alma-manual-calibration.toml",
        "alma-manual-calibration.flags.txt",
    ] {
        std::fs::copy(repo().join("recipes").join(f), tmp.path().join(f)).expect("copy");
    }
    let mut args = vec!["simulate", "--preset", "tiny"];
    if fault {
        args.push("--fault");
    }
    args.extend(["--out", "data/sim_tiny.ms", "--quiet"]);
    let (code, out) = almacal(&args, tmp.path());
    assert_eq!(code, 0, "{out}");
    tmp
}
