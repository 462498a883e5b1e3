//! Opening tables almacal did not check yet in a child process first, so that a damaged
//! table cannot crash almacal.
//!
//! casacore is C++ and trusts what it reads: a flipped bit in a `table.dat` description or
//! a `table.lock` copied from another table makes it abort or free memory twice, which no
//! `catch` can stop (found by `tests/fuzz_caltable.rs`). So before the first in-process open
//! of a table tree (a MeasurementSet with its subtables, a caltable), a *prober* — the
//! almacal binary itself, started with `ALMACAL_PROBE_PATH` set — opens every table of the
//! tree (and, for a caltable, reads it whole) and exits. If it crashed or hung, the table
//! is reported as damaged and almacal never opens it. A tree that passed is remembered with
//! the stat signature (inode, size, mtime, ctime) of its files, so it is probed again only
//! when one of them changed; a probe costs one process start (~30 ms).
//!
//! Without a prober ([`set_prober`] not called: library use and unit tests) tables are
//! opened directly, as before.

use crate::error::{CasaError, Result};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Set in a probe child: the table tree to probe.
pub const PROBE_PATH_ENV: &str = "ALMACAL_PROBE_PATH";
/// Set in a probe child: `tree` or `caltable`.
pub const PROBE_KIND_ENV: &str = "ALMACAL_PROBE_KIND";

/// How long a probe may take before the table counts as one casacore cannot read.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The address space a probe may use: a size read from a damaged description can make
/// casacore allocate without bound; the probe then fails instead of swapping the machine.
const PROBE_MEMORY: u64 = 4 << 30;

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// Open every table of the tree read-only: descriptions, keywords, row counts, locks.
    Tree,
    /// `Tree`, then read the caltable whole with [`crate::caltable::read_caltable`].
    CalTable,
}

impl ProbeKind {
    fn name(self) -> &'static str {
        match self {
            ProbeKind::Tree => "tree",
            ProbeKind::CalTable => "caltable",
        }
    }
}

/// The command that probes: a program and the arguments before the environment is set.
#[derive(Debug, Clone)]
pub struct Prober {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

static PROBER: OnceLock<Prober> = OnceLock::new();

/// Probe every table tree before opening it, with `prober` (the almacal binary calls this
/// with itself; its `main` must call [`child_main`] first). Only the first call counts.
pub fn set_prober(prober: Prober) {
    let _ = PROBER.set(prober);
}

/// One file of a tree: relative path, inode, size, mtime and ctime in ns.
type FileSig = (PathBuf, u64, u64, i128, i128);

/// Root (absolute) → (kinds that passed, signature when they passed).
type Memo = HashMap<PathBuf, (Vec<ProbeKind>, Vec<FileSig>)>;

static PASSED: OnceLock<Mutex<Memo>> = OnceLock::new();

fn memo() -> &'static Mutex<Memo> {
    PASSED.get_or_init(|| Mutex::new(HashMap::new()))
}

fn signature(root: &Path) -> Vec<FileSig> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<FileSig>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                walk(root, &p, out);
                continue;
            }
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
            out.push((
                rel,
                m.ino(),
                m.size(),
                ns(m.mtime(), m.mtime_nsec()),
                ns(m.ctime(), m.ctime_nsec()),
            ));
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The outermost table directory holding `path` (itself if no parent is a table).
fn tree_root(path: &Path) -> PathBuf {
    let abs = crate::casacore_lock::casa_path(path);
    let mut root = abs.clone();
    let mut cur = abs.as_path();
    while let Some(parent) = cur.parent() {
        if parent.join("table.dat").is_file() {
            root = parent.to_path_buf();
        }
        cur = parent;
    }
    root
}

/// Make sure the table tree holding `path` can be opened without crashing: a no-op without
/// a prober or when it passed before unchanged; otherwise a probe in a child process.
pub fn ensure_safe(path: &Path, kind: ProbeKind) -> Result<()> {
    let Some(prober) = PROBER.get() else {
        return Ok(());
    };
    if !path.join("table.dat").is_file() {
        return Ok(()); // nothing casacore could misread; the open reports the path
    }
    let root = match kind {
        ProbeKind::Tree => tree_root(path),
        ProbeKind::CalTable => crate::casacore_lock::casa_path(path),
    };
    let sig = signature(&root);
    let passed = |m: &Memo| {
        m.get(&root)
            .is_some_and(|(kinds, s)| s == &sig && kinds.contains(&kind))
    };
    if memo().lock().map(|m| passed(&m)).unwrap_or(false) {
        return Ok(());
    }
    run_probe(prober, &root, kind)?;
    if let Ok(mut m) = memo().lock() {
        let e = m.entry(root).or_insert_with(|| (Vec::new(), sig.clone()));
        if e.1 != sig {
            *e = (Vec::new(), sig);
        }
        if !e.0.contains(&kind) {
            e.0.push(kind);
        }
        if kind == ProbeKind::CalTable && !e.0.contains(&ProbeKind::Tree) {
            e.0.push(ProbeKind::Tree);
        }
    }
    Ok(())
}

/// Record the table tree at `root` as safe to open as it is now: almacal wrote it in this
/// process, or verified it is unchanged since it did (a cached product whose manifest
/// matches its record). Saves the probe of tables almacal made itself.
pub fn trust(root: &Path) {
    if PROBER.get().is_none() || !root.join("table.dat").is_file() {
        return;
    }
    let root = crate::casacore_lock::casa_path(root);
    let sig = signature(&root);
    if let Ok(mut m) = memo().lock() {
        m.insert(root, (vec![ProbeKind::Tree, ProbeKind::CalTable], sig));
    }
}

fn damaged(root: &Path, how: String) -> CasaError {
    CasaError::Invalid {
        path: root.display().to_string(),
        msg: format!(
            "the table is damaged: {how}. almacal read it in a separate process and will not \
             open it; restore it from its source (if it was copied while in use, deleting its \
             table.lock files may be enough)"
        ),
    }
}

fn run_probe(prober: &Prober, root: &Path, kind: ProbeKind) -> Result<()> {
    let mut cmd = Command::new(&prober.program);
    cmd.args(&prober.args)
        .env(PROBE_PATH_ENV, root)
        .env(PROBE_KIND_ENV, kind.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit and prctl are async-signal-safe. A crashing probe writes no core
    // file, a runaway one hits its memory limit, and it dies with the process that started it.
    unsafe {
        cmd.pre_exec(|| {
            let zero = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
            let mem = libc::rlimit {
                rlim_cur: PROBE_MEMORY,
                rlim_max: PROBE_MEMORY,
            };
            libc::setrlimit(libc::RLIMIT_AS, &mem);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| CasaError::Invalid {
        path: root.display().to_string(),
        msg: format!(
            "cannot start the table check {}: {e}",
            prober.program.display()
        ),
    })?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => break None,
        }
    };
    let said = reader.join().unwrap_or_default();
    let said = said.trim();
    let Some(status) = status else {
        return Err(damaged(
            root,
            format!(
                "casacore did not finish opening it within {} s",
                PROBE_TIMEOUT.as_secs()
            ),
        ));
    };
    if status.success() {
        return Ok(());
    }
    if let (Some(1), Some(msg)) = (status.code(), said.lines().last()) {
        // An ordinary error, the same the in-process open would give.
        return Err(CasaError::Invalid {
            path: root.display().to_string(),
            msg: msg
                .strip_prefix(&format!("{}: ", root.display()))
                .unwrap_or(msg)
                .to_string(),
        });
    }
    let how = match status.signal() {
        Some(sig) => format!("casacore crashed reading it ({})", signal_name(sig)),
        None if said.contains("bad_alloc") || said.contains("memory") => format!(
            "casacore ran out of memory reading it (more than {} GiB)",
            PROBE_MEMORY >> 30
        ),
        None => format!(
            "casacore failed reading it (exit code {})",
            status.code().unwrap_or(-1)
        ),
    };
    let first = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let how = if first.is_empty() {
        how
    } else {
        format!("{how}: \"{}\"", first.chars().take(200).collect::<String>())
    };
    Err(damaged(root, how))
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGABRT => "SIGABRT, an abort".into(),
        libc::SIGSEGV => "SIGSEGV, an invalid memory access".into(),
        libc::SIGBUS => "SIGBUS, a bad memory access".into(),
        libc::SIGFPE => "SIGFPE, an arithmetic fault".into(),
        libc::SIGKILL => "SIGKILL, killed (out of memory?)".into(),
        s => format!("signal {s}"),
    }
}

/// The probe itself: when this process was started as a prober (the environment says so),
/// probe and return the exit code (0 readable, 1 an ordinary error printed on stderr);
/// otherwise `None`. Call it first thing in `main`.
pub fn child_main() -> Option<i32> {
    let path = PathBuf::from(std::env::var_os(PROBE_PATH_ENV)?);
    let kind = std::env::var(PROBE_KIND_ENV).unwrap_or_default();
    let result = probe_tree(&path).and_then(|()| {
        if kind == ProbeKind::CalTable.name() {
            crate::caltable::read_caltable(&path).map(|_| ())
        } else {
            Ok(())
        }
    });
    Some(match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    })
}

/// Every table directory of the tree at `root`, root first.
fn tables_of(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if dir.join("table.dat").is_file() {
            out.push(dir.to_path_buf());
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut subs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        subs.sort();
        for s in subs {
            walk(&s, out);
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// Tables up to this many rows have their scalar columns read whole by the probe; larger
/// ones (an MS main table) only some cells.
const READ_WHOLE_ROWS: u64 = 100_000;

/// Open every table of the tree read-only, ask for every column's description and read
/// some of its cells: what almacal's own reads ask of casacore first.
fn probe_tree(root: &Path) -> Result<()> {
    use rubbl_casatables::{Table, TableOpenMode};
    let _guard = crate::casacore_lock::casacore_lock();
    for t in tables_of(root) {
        let fail = |what: &str, e: &dyn std::fmt::Display| CasaError::Open {
            path: t.display().to_string(),
            msg: format!("{what}: {e}"),
        };
        let mut table = Table::open(&t, TableOpenMode::Read).map_err(|e| fail("open", &e))?;
        let nrows = table.n_rows();
        let columns = table.column_names().map_err(|e| fail("columns", &e))?;
        table
            .get_keyword_record()
            .map_err(|e| fail("keywords", &e))?;
        for c in &columns {
            let desc = table.get_col_desc(c).map_err(|e| fail(c, &e))?;
            // The first error ends the probe, as it would end the in-process read: casacore
            // reading on after an exception on a damaged file is what crashes.
            probe_column(&mut table, c, &desc, nrows).map_err(|e| CasaError::Column {
                path: t.display().to_string(),
                column: c.clone(),
                msg: crate::error::explain_casacore(&e),
            })?;
        }
    }
    Ok(())
}

/// Read some cells of column `name`; the first error, as casacore says it.
fn probe_column(
    t: &mut rubbl_casatables::Table,
    name: &str,
    desc: &rubbl_casatables::ColumnDescription,
    nrows: u64,
) -> std::result::Result<(), String> {
    use rubbl_casatables::GlueDataType as D;
    use rubbl_casatables::{CasaScalarData, Table};
    fn read<T: CasaScalarData>(
        t: &mut Table,
        name: &str,
        scalar: bool,
        nrows: u64,
    ) -> std::result::Result<(), String> {
        let e = |e: rubbl_casatables::TableError| e.to_string();
        if scalar && nrows <= READ_WHOLE_ROWS {
            return t.get_col_as_vec::<T>(name).map(|_| ()).map_err(e);
        }
        let mut rows = vec![0, nrows / 2, nrows.saturating_sub(1)];
        rows.dedup();
        for r in rows.into_iter().filter(|&r| r < nrows) {
            // An undefined cell of a variable-shape column is not damage: skip it.
            let res = if scalar {
                t.get_cell::<T>(name, r).map(|_| ())
            } else {
                t.get_cell_as_vec::<T>(name, r).map(|_| ())
            };
            if let Err(err) = res {
                let msg = e(err);
                if !msg.contains("not defined") && !msg.contains("no array") {
                    return Err(msg);
                }
            }
        }
        Ok(())
    }
    let s = desc.is_scalar();
    match desc.data_type() {
        D::TpBool | D::TpArrayBool => read::<bool>(t, name, s, nrows),
        D::TpChar | D::TpArrayChar => read::<i8>(t, name, s, nrows),
        D::TpUChar | D::TpArrayUChar => read::<u8>(t, name, s, nrows),
        D::TpShort | D::TpArrayShort => read::<i16>(t, name, s, nrows),
        D::TpUShort | D::TpArrayUShort => read::<u16>(t, name, s, nrows),
        D::TpInt | D::TpArrayInt => read::<i32>(t, name, s, nrows),
        D::TpUInt | D::TpArrayUInt => read::<u32>(t, name, s, nrows),
        D::TpInt64 | D::TpArrayInt64 => read::<i64>(t, name, s, nrows),
        D::TpFloat | D::TpArrayFloat => read::<f32>(t, name, s, nrows),
        D::TpDouble | D::TpArrayDouble => read::<f64>(t, name, s, nrows),
        D::TpComplex | D::TpArrayComplex => {
            read::<rubbl_casatables::Complex<f32>>(t, name, s, nrows)
        }
        D::TpDComplex | D::TpArrayDComplex => {
            read::<rubbl_casatables::Complex<f64>>(t, name, s, nrows)
        }
        D::TpString | D::TpArrayString => read::<String>(t, name, s, nrows),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_of_a_subtable_is_its_outermost_table() {
        let d = tempfile::tempdir().expect("tempdir");
        let ms = d.path().join("x.ms");
        std::fs::create_dir_all(ms.join("ANTENNA")).expect("mkdir");
        std::fs::write(ms.join("table.dat"), b"").expect("write");
        std::fs::write(ms.join("ANTENNA/table.dat"), b"").expect("write");
        assert_eq!(tree_root(&ms.join("ANTENNA")), ms);
        assert_eq!(tree_root(&ms), ms);
        assert_eq!(tables_of(&ms), vec![ms.clone(), ms.join("ANTENNA")]);
    }

    #[test]
    fn a_changed_file_changes_the_signature() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("table.dat"), b"abc").expect("write");
        let a = signature(d.path());
        std::fs::write(d.path().join("table.dat"), b"abcd").expect("write");
        assert_ne!(a, signature(d.path()), "ctime/mtime must differ");
    }
}
