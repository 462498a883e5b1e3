//! Writable casacore tables that never end the process.
//!
//! casacore writes a changed table (`table.dat`, the storage managers' files) when its last
//! handle is destroyed, and C++ destructors are `noexcept`: when that write fails (a full
//! disk), the exception cannot leave the destructor and the process dies in
//! `std::terminate` (exit 134, nothing recorded). rubbl's `Drop for Table` cannot catch it.
//!
//! A [`WriteTable`] owns a rubbl table opened or created for writing and closes it in two
//! steps: first an explicit flush through our glue (`almacal_table_finish` in
//! `cpp/bulk.cc`), which catches the exception and returns it as an error, and then marks
//! the table (and its subtables) so that the destructor writes nothing more (casacore
//! would otherwise rewrite `table.dat` there even when nothing changed); then, only if the
//! flush succeeded, the normal drop. If the flush failed the table handle is **leaked on
//! purpose** (never destroyed): some memory and open files for the rest of the process, in
//! exchange for not running the destructor that would terminate it. The caller reports the
//! error and removes the half-written table. A table must not be modified after it was
//! flushed this way.
//!
//! [`WriteTable::close`], [`WriteTable::into_flushed`] and the drop take the (reentrant)
//! [`casacore_lock`] themselves.

use crate::space;
use crate::table::casacore_lock;
use rubbl_casatables::Table;
use std::ffi::{c_char, c_int, CString};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use thiserror::Error;

extern "C" {
    fn almacal_table_finish(path: *const c_char, err: *mut c_char, errlen: usize) -> c_int;
    fn almacal_deep_copy_no_rows(
        src: *const c_char,
        dst: *const c_char,
        err: *mut c_char,
        errlen: usize,
    ) -> c_int;
}

fn c_path(path: &Path) -> Result<CString, FlushError> {
    CString::new(crate::table::casa_path(path).to_string_lossy().as_bytes()).map_err(|_| {
        FlushError {
            path: path.display().to_string(),
            msg: "the path contains a NUL byte".into(),
        }
    })
}

fn c_message(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Create `dst` as an empty copy of table `src` (description, keywords, info, subtables
/// with their rows copied empty), as rubbl's `deep_copy_no_rows`, but with the new table
/// flushed inside a call that catches: a full disk is an error naming `dst`, not an abort.
pub fn deep_copy_no_rows(src: &Path, dst: &Path) -> Result<(), FlushError> {
    let (s, d) = (c_path(src)?, c_path(dst)?);
    space::ensure_free(dst, space::flush_need(src), "creating the table").map_err(|e| {
        FlushError {
            path: dst.display().to_string(),
            msg: e.to_string(),
        }
    })?;
    let mut buf = [0u8; 1024];
    let _g = casacore_lock();
    // SAFETY: valid C strings and an error buffer of the stated length.
    let rc = unsafe {
        almacal_deep_copy_no_rows(s.as_ptr(), d.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(FlushError {
            path: dst.display().to_string(),
            msg: c_message(&buf),
        })
    }
}

/// A table could not be written to disk.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: cannot write the table to disk: {msg}")]
pub struct FlushError {
    pub path: String,
    pub msg: String,
}

impl FlushError {
    /// Whether the failure was a full disk (or quota).
    pub fn is_no_space(&self) -> bool {
        is_no_space_message(&self.msg)
    }
}

/// Whether an error message (casacore's or the OS's) is a full disk or an exceeded quota.
pub fn is_no_space_message(msg: &str) -> bool {
    msg.contains("No space left on device") || msg.contains("Disk quota exceeded")
}

/// Flush the table at `path`, open for writing in this process, and its subtables, catching
/// casacore's exceptions.
///
/// casacore writes `table.dat` from a destructor inside its flush (where a full disk
/// terminates the process), so the flush is refused, with an error naming the space needed,
/// unless the disk has room for it ([`space::flush_need`]).
pub fn flush_table(path: &Path) -> Result<(), FlushError> {
    let c = c_path(path)?;
    space::ensure_free(path, space::flush_need(path), "closing the table").map_err(|e| {
        FlushError {
            path: path.display().to_string(),
            msg: e.to_string(),
        }
    })?;
    let mut buf = [0u8; 1024];
    let _g = casacore_lock();
    // SAFETY: a valid C string and an error buffer of the stated length.
    let rc = unsafe { almacal_table_finish(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(FlushError {
            path: path.display().to_string(),
            msg: c_message(&buf),
        })
    }
}

/// A rubbl table open for writing, flushed through a call that catches before it is
/// dropped, and leaked instead of dropped when that flush fails (see the module docs).
/// Derefs to the rubbl [`Table`] (hold the casacore lock for calls through it).
pub struct WriteTable {
    /// `None` once closed, handed over or leaked.
    table: Option<Table>,
    path: PathBuf,
}

impl WriteTable {
    /// Take ownership of `table`, which was created or opened at `path`.
    pub fn new(table: Table, path: &Path) -> Self {
        Self {
            table: Some(table),
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush and close the table. On error the table has been leaked, not closed: remove
    /// its directory and report the error.
    pub fn close(mut self) -> Result<(), FlushError> {
        self.close_inner()
    }

    /// Give the table to rubbl (e.g. to link it as a subtable keyword), flushed first so that
    /// whoever drops it last has nothing to write. On a flush error the table is leaked.
    pub fn into_flushed(mut self) -> Result<Table, FlushError> {
        let _g = casacore_lock();
        let table = self.table.take();
        match (flush_table(&self.path), table) {
            (Ok(()), Some(t)) => Ok(t),
            (Ok(()), None) => Err(self.gone()),
            (Err(e), t) => {
                std::mem::forget(t);
                Err(e)
            }
        }
    }

    fn gone(&self) -> FlushError {
        FlushError {
            path: self.path.display().to_string(),
            msg: "the table was already closed".into(),
        }
    }

    fn close_inner(&mut self) -> Result<(), FlushError> {
        let Some(t) = self.table.take() else {
            return Ok(());
        };
        let _g = casacore_lock();
        match flush_table(&self.path) {
            Ok(()) => {
                drop(t);
                Ok(())
            }
            Err(e) => {
                // Leaked on purpose: its destructor would write again, fail, and terminate.
                std::mem::forget(t);
                Err(e)
            }
        }
    }
}

impl Deref for WriteTable {
    type Target = Table;
    fn deref(&self) -> &Table {
        // Only `close`/`into_flushed` (which consume `self`) and Drop empty it.
        self.table.as_ref().expect("WriteTable used after close")
    }
}

impl DerefMut for WriteTable {
    fn deref_mut(&mut self) -> &mut Table {
        self.table.as_mut().expect("WriteTable used after close")
    }
}

impl Drop for WriteTable {
    fn drop(&mut self) {
        // An error here means an error path already being reported (or a table being
        // abandoned): the table is leaked rather than closed.
        let _ = self.close_inner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubbl_casatables::{GlueDataType, TableCreateMode, TableDesc, TableDescCreateMode};

    fn new_table(path: &Path) -> WriteTable {
        let _g = casacore_lock();
        let mut desc = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH).unwrap();
        desc.add_scalar_column(GlueDataType::TpInt, "X", None, false, false)
            .unwrap();
        let t = Table::new(path, desc, 3, TableCreateMode::NewNoReplace).unwrap();
        WriteTable::new(t, path)
    }

    #[test]
    fn close_writes_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tab");
        let mut t = new_table(&p);
        {
            let _g = casacore_lock();
            t.put_cell("X", 1, &7i32).unwrap();
        }
        t.close().unwrap();
        let _g = casacore_lock();
        let mut r = Table::open(&p, rubbl_casatables::TableOpenMode::Read).unwrap();
        assert_eq!(r.get_cell::<i32>("X", 1).unwrap(), 7);
    }

    /// casacore throws inside the flush (its directory is gone, as the space of a full disk
    /// would be): the error comes back, and neither the close nor the drop of the leaked
    /// table ends the process.
    #[test]
    fn a_failing_flush_is_an_error_not_an_abort() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tab");
        let mut t = new_table(&p);
        {
            let _g = casacore_lock();
            t.put_cell("X", 0, &1i32).unwrap();
        }
        std::fs::remove_dir_all(&p).unwrap();
        let e = t.close().unwrap_err();
        assert!(e.path.ends_with("t.tab"), "{e}");
        assert!(!e.msg.is_empty(), "{e}");

        // Dropped without an explicit close: the same, silently.
        let q = dir.path().join("u.tab");
        let t = new_table(&q);
        std::fs::remove_dir_all(&q).unwrap();
        drop(t);
    }

    #[test]
    fn flushing_a_table_that_is_not_open_fails() {
        let dir = tempfile::tempdir().unwrap();
        let e = flush_table(&dir.path().join("none")).unwrap_err();
        assert!(e.msg.contains("not open"), "{e}");
    }
}
