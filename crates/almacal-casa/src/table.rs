//! A thin read-only wrapper over `rubbl_casatables::Table` that turns every casacore error
//! into a [`CasaError`] naming the table path and column.
//!
//! casacore keeps process-wide state (table cache, locking) that is not thread-safe, even for
//! separate tables. Every casacore call in almacal therefore holds [`casacore_lock`]
//! (`crate::casacore_lock`); tables
//! still stay on the thread that opened them (`Table` is not `Send`).

use crate::error::{CasaError, Result};
use rubbl_casatables::{CasaScalarData, Table, TableOpenMode};
use std::mem::ManuallyDrop;
use std::path::Path;

pub use crate::casacore_lock::{casa_path, casacore_lock, CasacoreGuard};

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
        let got = std::thread::spawn(|| crate::casacore_lock::CASACORE.try_lock().is_ok())
            .join()
            .unwrap();
        assert!(!got);
        drop(b);
        // Released: another thread gets it (once other tests of this binary, which share
        // the process-wide lock, let go of it).
        let got = std::thread::spawn(|| {
            let t0 = std::time::Instant::now();
            while t0.elapsed() < std::time::Duration::from_secs(30) {
                if crate::casacore_lock::CASACORE.try_lock().is_ok() {
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
