//! Data safety: no path almacal writes may equal, contain or lie inside a path it only
//! reads (an input MS, an external caltable, a referenced text file, the recipe itself).
//! Paths are compared after making them absolute, resolving symlinks of the part that
//! exists, folding `.`/`..`, and ignoring letter case (a case-insensitive file system
//! would make `Data/X.ms` and `data/x.ms` one MS: refusing both is the safe side).

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::diag::Diagnostic;
use crate::source::SourceFile;

/// Something the recipe only reads.
pub(crate) struct ReadPath {
    /// What it is, for messages: "input `raw`", "caltable \"x.cal\"", "`inpfile`".
    pub what: String,
    pub path: PathBuf,
    pub span: Range<usize>,
}

/// Something almacal writes (a stage's product, relative to the workdir).
pub(crate) struct WritePath {
    /// "stage `split` writes x.ms"
    pub what: String,
    pub rel: PathBuf,
    pub span: Range<usize>,
}

/// Absolute, symlink-resolved (as far as the path exists), `..`-folded form of `p`.
pub fn resolve(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `x/..` where x is a symlink means the symlink target's parent: resolve
                // what exists so far before stepping up.
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    // Resolve symlinks of the longest existing prefix.
    let mut tail = Vec::new();
    let mut head = out.clone();
    loop {
        if let Ok(real) = std::fs::canonicalize(&head) {
            let mut r = real;
            for t in tail.iter().rev() {
                r.push(t);
            }
            return r;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                head = parent.to_path_buf();
            }
            _ => return out,
        }
    }
}

/// `p` as lower-case components, for a case-insensitive comparison.
fn key(p: &Path) -> Vec<String> {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().to_lowercase())
        .collect()
}

fn within(inner: &[String], outer: &[String]) -> bool {
    inner.len() >= outer.len() && inner[..outer.len()] == *outer
}

/// How two paths relate, if they overlap.
fn relation(w: &[String], r: &[String]) -> Option<&'static str> {
    if w == r {
        Some("is")
    } else if within(w, r) {
        Some("lies inside")
    } else if within(r, w) {
        Some("contains")
    } else {
        None
    }
}

/// The workspace's own folders, written by every run.
const WORKSPACE_DIRS: &[&str] = &[".almacal", "plots", "report"];

/// Check that nothing written overlaps anything read; push one diagnostic per clash,
/// located at the written path and naming the line of the read one.
pub(crate) fn check(
    src: &SourceFile,
    workdir: &Path,
    workdir_span: Range<usize>,
    reads: &[ReadPath],
    writes: &[WritePath],
    diags: &mut Vec<Diagnostic>,
) {
    let wd = resolve(workdir);
    let wd_key = key(&wd);
    let recipe_read = ReadPath {
        what: "the recipe file".into(),
        path: src.path.clone(),
        span: 0..0,
    };
    let reads_all: Vec<(&ReadPath, Vec<String>)> = reads
        .iter()
        .chain(std::iter::once(&recipe_read))
        .map(|r| (r, key(&resolve(&r.path))))
        .collect();
    let line_of = |r: &ReadPath| -> String {
        if r.span == (0..0) && r.what == "the recipe file" {
            format!("{}", src.path.display())
        } else {
            let lc = src.line_col(r.span.start);
            format!("{}:{}:{}", src.path.display(), lc.line, lc.col)
        }
    };
    // The workdir itself may contain inputs (workdir = "."), but never be or lie inside one.
    for (r, rk) in &reads_all {
        if wd_key == *rk || within(&wd_key, rk) {
            let rel = if wd_key == *rk { "is" } else { "lies inside" };
            diags.push(
                Diagnostic::at(
                    src,
                    workdir_span.clone(),
                    format!(
                        "the workdir {} {rel} {} ({}, declared at {}): almacal would write into data it only reads",
                        wd.display(),
                        r.what,
                        r.path.display(),
                        line_of(r)
                    ),
                )
                .with_help("choose a workdir outside every input MeasurementSet and caltable"),
            );
        }
    }
    let mut all_writes: Vec<(String, PathBuf, Range<usize>)> = writes
        .iter()
        .map(|w| (w.what.clone(), w.rel.clone(), w.span.clone()))
        .collect();
    for d in WORKSPACE_DIRS {
        all_writes.push((
            format!("the workspace folder {d}"),
            PathBuf::from(d),
            workdir_span.clone(),
        ));
    }
    for (what, rel, span) in &all_writes {
        let full = resolve(&wd.join(rel));
        let wk = key(&full);
        for (r, rk) in &reads_all {
            if let Some(how) = relation(&wk, rk) {
                diags.push(
                    Diagnostic::at(
                        src,
                        span.clone(),
                        format!(
                            "{what}: {} {how} {} {} (declared at {}); almacal never writes over data it reads",
                            full.display(),
                            r.what,
                            r.path.display(),
                            line_of(r)
                        ),
                    )
                    .with_help("give the product another name or choose another workdir"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_folds_dots_and_symlinks() {
        let t = tempfile::tempdir().expect("tmp");
        let real = t.path().join("real");
        std::fs::create_dir_all(real.join("a")).expect("mkdir");
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let base = std::fs::canonicalize(t.path()).expect("canon");
        assert_eq!(resolve(&link.join("a")), base.join("real/a"));
        assert_eq!(resolve(&link.join("a/../b/./c")), base.join("real/b/c"));
        assert_eq!(resolve(&t.path().join("x/../real")), base.join("real"));
        assert_eq!(
            resolve(&t.path().join(".hidden/y")),
            base.join(".hidden/y"),
            "a leading dot is part of the name"
        );
    }

    #[test]
    fn relations() {
        let k = |s: &str| key(Path::new(s));
        assert_eq!(relation(&k("/a/b"), &k("/A/B")), Some("is"));
        assert_eq!(relation(&k("/a/b/c"), &k("/a/b")), Some("lies inside"));
        assert_eq!(relation(&k("/a"), &k("/a/b")), Some("contains"));
        assert_eq!(relation(&k("/a/bc"), &k("/a/b")), None);
    }
}
