//! Bulk reads of array columns: the cells of many rows in one casacore call, written straight
//! into our buffers (C++ glue in `cpp/bulk.cc`, built by `build.rs`). rubbl's per-cell reads
//! rebuild a column object and allocate for every cell; for a visibility chunk (hundreds of
//! rows × DATA, FLAG, WEIGHT, SIGMA, UVW) that overhead was most of the reader thread's time,
//! spent holding the casacore lock. Every call here takes that lock.

use crate::table::casacore_lock;
use num_complex::Complex32;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};

extern "C" {
    fn almacal_bulk_open(path: *const c_char, err: *mut c_char, errlen: usize) -> *mut c_void;
    fn almacal_bulk_close(t: *mut c_void);
    fn almacal_bulk_get(
        t: *mut c_void,
        col: *const c_char,
        kind: c_int,
        rows: *const u64,
        nrows: usize,
        out: *mut c_void,
        out_len: usize,
        err: *mut c_char,
        errlen: usize,
    ) -> c_int;
}

/// An element type the glue can read into.
pub trait BulkElem: Copy + Default {
    const KIND: c_int;
}
impl BulkElem for Complex32 {
    const KIND: c_int = 0;
}
impl BulkElem for bool {
    const KIND: c_int = 1;
}
impl BulkElem for f32 {
    const KIND: c_int = 2;
}
impl BulkElem for f64 {
    const KIND: c_int = 3;
}

/// A failed bulk operation: the table, the column (if any) and casacore's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkError {
    pub path: PathBuf,
    pub column: String,
    pub msg: String,
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "{}: {}", self.path.display(), self.msg)
        } else {
            write!(
                f,
                "{}, column {}: {}",
                self.path.display(),
                self.column,
                self.msg
            )
        }
    }
}

impl std::error::Error for BulkError {}

fn message(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// A table opened read-only (no read locks) for bulk reads. Not `Send`: casacore objects
/// stay on the thread that opened them.
pub struct BulkTable {
    ptr: *mut c_void,
    path: PathBuf,
}

impl BulkTable {
    pub fn open(path: &Path) -> Result<Self, BulkError> {
        let err = |msg: String| BulkError {
            path: path.to_path_buf(),
            column: String::new(),
            msg,
        };
        let c = CString::new(crate::table::casa_path(path).to_string_lossy().as_bytes())
            .map_err(|_| err("the path contains a NUL byte".into()))?;
        crate::isolate::ensure_safe(path, crate::isolate::ProbeKind::Tree)
            .map_err(|e| err(e.to_string()))?;
        let mut buf = [0u8; 512];
        let ptr = {
            let _g = casacore_lock();
            // SAFETY: valid C string and error buffer of the stated length.
            unsafe { almacal_bulk_open(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) }
        };
        if ptr.is_null() {
            return Err(err(message(&buf)));
        }
        Ok(Self {
            ptr,
            path: path.to_path_buf(),
        })
    }

    /// The cells of `rows` of array column `column`, which must all have the same shape of
    /// `cell_len` elements, row after row (each cell in casacore's order: first axis fastest).
    pub fn cells<T: BulkElem>(
        &mut self,
        column: &str,
        rows: &[u64],
        cell_len: usize,
    ) -> Result<Vec<T>, BulkError> {
        let mut out = vec![T::default(); rows.len() * cell_len];
        self.cells_into(column, rows, &mut out)?;
        Ok(out)
    }

    /// As [`cells`](Self::cells), into `out` (its length fixes the cell size).
    pub fn cells_into<T: BulkElem>(
        &mut self,
        column: &str,
        rows: &[u64],
        out: &mut [T],
    ) -> Result<(), BulkError> {
        let err = |msg: String| BulkError {
            path: self.path.clone(),
            column: column.to_string(),
            msg,
        };
        let c = CString::new(column).map_err(|_| err("NUL in the column name".into()))?;
        let mut buf = [0u8; 512];
        let rc = {
            let _g = casacore_lock();
            // SAFETY: `out` holds `out.len()` elements of the kind the glue writes (checked
            // there against the cells' shape before writing); strings and buffers are valid.
            unsafe {
                almacal_bulk_get(
                    self.ptr,
                    c.as_ptr(),
                    T::KIND,
                    rows.as_ptr(),
                    rows.len(),
                    out.as_mut_ptr().cast(),
                    out.len(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            }
        };
        if rc != 0 {
            return Err(err(message(&buf)));
        }
        Ok(())
    }
}

impl Drop for BulkTable {
    fn drop(&mut self) {
        let _g = casacore_lock();
        // SAFETY: the pointer came from almacal_bulk_open and is freed once.
        unsafe { almacal_bulk_close(self.ptr) };
    }
}
