//! A thin read-only wrapper over `rubbl_casatables::Table` that turns every casacore error
//! into a [`CasaError`] naming the table path and column.
//!
//! casacore keeps process-wide state (table cache, locking) that is not thread-safe, even for
//! separate tables. Every casacore call in almacal therefore holds [`casacore_lock`]; tables
//! still stay on the thread that opened them (`Table` is not `Send`).

use crate::error::{CasaError, Result};
use rubbl_casatables::{CasaScalarData, Table, TableOpenMode};
use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

static CASACORE: Mutex<()> = Mutex::new(());

/// The form of `path` to hand to casacore: absolute, with `.` components removed.
/// casacore rewrites relative names itself and drops the dot of a leading `.name`
/// (`.data/x.ms` became `data/x.ms`: another table, or a failed write), so every path
/// almacal passes to casacore goes through here.
pub fn casa_path(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

thread_local! {
    /// How many [`CasacoreGuard`]s this thread holds, and the mutex guard while it is > 0.
    static HELD: RefCell<(usize, Option<MutexGuard<'static, ()>>)> = const { RefCell::new((0, None)) };
}

/// The process-wide casacore lock, held while any guard of this thread lives. Reentrant on
/// one thread: a function that takes it may be called with it already held (e.g. a table's
/// drop on an error path, under its caller's lock). Not `Send`.
pub struct CasacoreGuard {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for CasacoreGuard {
    fn drop(&mut self) {
        let released = HELD.with(|h| {
            let mut h = h.borrow_mut();
            h.0 = h.0.saturating_sub(1);
            if h.0 == 0 {
                h.1.take()
            } else {
                None
            }
        });
        drop(released);
    }
}

/// The process-wide casacore lock. Hold it for every call into casacore.
pub fn casacore_lock() -> CasacoreGuard {
    let first = HELD.with(|h| h.borrow().0 == 0);
    // Taken outside the RefCell borrow: waiting here must not hold it.
    let inner = first.then(|| {
        CASACORE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    });
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        h.0 += 1;
        if inner.is_some() {
            h.1 = inner;
        }
    });
    CasacoreGuard {
        _not_send: std::marker::PhantomData,
    }
}

/// An open, read-only casacore table. Not `Send`: keep it on the thread that opened it.
pub struct RoTable {
    table: ManuallyDrop<Table>,
    path: String,
    columns: Vec<String>,
}

impl RoTable {
    /// Open `path` read-only.
    pub fn open(path: &Path) -> Result<Self> {
        let p = path.display().to_string();
        if !path.is_dir() {
            return Err(CasaError::Open {
                path: p,
                msg: "no such table directory".into(),
            });
        }
        crate::isolate::ensure_safe(path, crate::isolate::ProbeKind::Tree)?;
        let _guard = casacore_lock();
        let mut table =
            Table::open(casa_path(path), TableOpenMode::Read).map_err(|e| CasaError::Open {
                path: p.clone(),
                msg: e.to_string(),
            })?;
        let columns = table.column_names().map_err(|e| CasaError::Open {
            path: p.clone(),
            msg: e.to_string(),
        })?;
        Ok(Self {
            table: ManuallyDrop::new(table),
            path: p,
            columns,
        })
    }

    /// Open the subtable `name` of the table at `ms`, or `None` if it does not exist.
    pub fn open_sub(ms: &Path, name: &str) -> Result<Option<Self>> {
        let p = ms.join(name);
        if p.join("table.dat").is_file() {
            Self::open(&p).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn nrows(&self) -> u64 {
        let _guard = casacore_lock();
        self.table.n_rows()
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    fn col_err(&self, column: &str, e: impl std::fmt::Display) -> CasaError {
        CasaError::Column {
            path: self.path.clone(),
            column: column.into(),
            msg: crate::error::explain_casacore(&e.to_string()),
        }
    }

    /// A whole scalar column.
    pub fn col<T: CasaScalarData>(&mut self, name: &str) -> Result<Vec<T>> {
        if self.nrows() == 0 {
            return Ok(Vec::new());
        }
        if !self.has_column(name) {
            return Err(self.col_err(name, "missing column"));
        }
        let _guard = casacore_lock();
        self.table
            .get_col_as_vec::<T>(name)
            .map_err(|e| self.col_err(name, e))
    }

    /// A whole scalar column, or `None` if the column does not exist.
    pub fn col_opt<T: CasaScalarData>(&mut self, name: &str) -> Result<Option<Vec<T>>> {
        if self.has_column(name) {
            self.col(name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A whole string column.
    pub fn col_string(&mut self, name: &str) -> Result<Vec<String>> {
        if self.nrows() == 0 {
            return Ok(Vec::new());
        }
        if !self.has_column(name) {
            return Err(self.col_err(name, "missing column"));
        }
        let _guard = casacore_lock();
        self.table
            .get_col_as_vec::<String>(name)
            .map_err(|e| self.col_err(name, e))
    }

    /// One array cell, flattened in casacore order (first axis fastest).
    pub fn cell_vec<T: CasaScalarData>(&mut self, name: &str, row: u64) -> Result<Vec<T>> {
        let _guard = casacore_lock();
        self.table
            .get_cell_as_vec::<T>(name, row)
            .map_err(|e| self.col_err(name, format!("row {row}: {e}")))
    }

    /// One scalar cell.
    pub fn cell<T: rubbl_casatables::CasaDataType>(&mut self, name: &str, row: u64) -> Result<T> {
        let _guard = casacore_lock();
        self.table
            .get_cell::<T>(name, row)
            .map_err(|e| self.col_err(name, format!("row {row}: {e}")))
    }
}

impl Drop for RoTable {
    fn drop(&mut self) {
        let _guard = casacore_lock();
        // SAFETY: the table is never used again; it is dropped once, under the lock.
        unsafe { ManuallyDrop::drop(&mut self.table) };
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn reentrant_on_one_thread_exclusive_across_threads() {
        let a = casacore_lock();
        let b = casacore_lock();
        drop(a);
        // Still held by `b`: another thread must not get it.
        let got = std::thread::spawn(|| CASACORE.try_lock().is_ok())
            .join()
            .unwrap();
        assert!(!got);
        drop(b);
        // Released: another thread gets it (once other tests of this binary, which share
        // the process-wide lock, let go of it).
        let got = std::thread::spawn(|| {
            let t0 = std::time::Instant::now();
            while t0.elapsed() < std::time::Duration::from_secs(30) {
                if CASACORE.try_lock().is_ok() {
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            false
        })
        .join()
        .unwrap();
        assert!(got);
    }
}
