//! Helpers shared by the engine integration tests: locating the repository
//! and the binary, running it with the test tasks enabled.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (holds `fixtures/`). `ALMACAL_REPO_ROOT` overrides.
pub fn repo_root() -> PathBuf {
    if let Ok(p) = std::env::var("ALMACAL_REPO_ROOT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("fixtures/recipes").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_almacal"))
}

/// `almacal ARGS` in `cwd` with the hidden test tasks enabled.
pub fn almacal(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env("ALMACAL_TEST_TASKS", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin().display()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch folder with a fake MS `raw.ms` and a recipe `r.toml`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new(recipe: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("raw.ms/ANTENNA")).expect("mkdir");
        std::fs::write(dir.path().join("raw.ms/table.dat"), "fake main table").expect("write");
        std::fs::write(
            dir.path().join("raw.ms/ANTENNA/table.dat"),
            "fake antenna table",
        )
        .expect("write");
        let s = Self { dir };
        s.write("r.toml", recipe);
        s
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write");
    }
    pub fn run(&self, args: &[&str]) -> Output {
        almacal(self.path(), args)
    }
}

/// Every file under `root` with its bytes, sorted by relative path.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.is_file() {
            let rel = d
                .strip_prefix(root)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            out.push((rel, std::fs::read(&d).expect("read")));
            continue;
        }
        for e in std::fs::read_dir(&d).expect("read_dir") {
            stack.push(e.expect("entry").path());
        }
    }
    out.sort();
    out
}
