//! Free disk space, checked before casacore writes what it cannot fail to write.
//!
//! Some of casacore's writes happen in destructors (the `table.dat` buffer is written when
//! its `AipsIO` closes, inside `PlainTable::putFile`), where a full disk ends the process
//! in `std::terminate` whatever the caller catches. So before a table is flushed or created
//! we check that the file system has room for it ([`ensure_free`]), and a stage checks its
//! estimated product size up front, which turns "disk full" into an error naming the
//! directory, the space needed and the space free.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Room kept free for casacore's own small writes (table.dat, storage-manager headers,
/// lock files) beyond an estimate.
pub const RESERVE_BYTES: u64 = 1 << 20;

/// Not enough free space for a write.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("No space left on device: {what} needs ~{} in {}, {} free", mb(*.need), .dir.display(), mb(*.free))]
pub struct NoSpace {
    pub what: String,
    pub dir: PathBuf,
    pub need: u64,
    pub free: u64,
}

/// Bytes as MB with one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Bytes available to us (not root's reserve) on the file system holding `path`, or of its
/// nearest existing ancestor. `None` when it cannot be told.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let mut p = path;
    loop {
        if p.exists() {
            break;
        }
        p = p.parent()?;
    }
    statvfs_avail(if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    })
}

#[cfg(unix)]
fn statvfs_avail(p: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    // SAFETY: a valid C string and a zeroed out-parameter of the right type.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(not(unix))]
fn statvfs_avail(_p: &Path) -> Option<u64> {
    None
}

/// Fail unless the file system of `dir` has `need` bytes free. Unknown free space passes.
pub fn ensure_free(dir: &Path, need: u64, what: &str) -> Result<(), NoSpace> {
    match free_bytes(dir) {
        Some(free) if free < need => Err(NoSpace {
            what: what.to_string(),
            dir: dir.to_path_buf(),
            need,
            free,
        }),
        _ => Ok(()),
    }
}

/// What flushing the table at `table_dir` may still write outside its data files: every
/// `table.dat` of it and its subtables rewritten (through a temp file), plus the reserve.
pub fn flush_need(table_dir: &Path) -> u64 {
    fn walk(dir: &Path, depth: usize) -> u64 {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut n = 0;
        for e in rd.flatten() {
            let p = e.path();
            if depth < 4 && p.is_dir() {
                n += walk(&p, depth + 1);
            } else if e.file_name() == "table.dat" {
                n += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        n
    }
    2 * walk(table_dir, 0) + RESERVE_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_missing_path_is_its_ancestors() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        let f = free_bytes(&deep);
        if cfg!(unix) {
            assert!(f.is_some_and(|f| f > 0));
        }
        assert!(ensure_free(&deep, 0, "nothing").is_ok());
        let e = ensure_free(&deep, u64::MAX, "the split").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("No space left on device: the split needs ~"),
            "{msg}"
        );
        assert!(msg.contains(&deep.display().to_string()), "{msg}");
    }

    #[test]
    fn flush_need_counts_table_dat_twice() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("table.dat"), [0u8; 1000]).unwrap();
        std::fs::create_dir(dir.path().join("ANTENNA")).unwrap();
        std::fs::write(dir.path().join("ANTENNA/table.dat"), [0u8; 500]).unwrap();
        std::fs::write(dir.path().join("table.f0"), [0u8; 7777]).unwrap();
        assert_eq!(flush_need(dir.path()), 3000 + RESERVE_BYTES);
    }
}
