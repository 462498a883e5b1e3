//! The process-wide casacore lock and the path form casacore is given. casacore keeps
//! global state (table cache, locking) that is not thread-safe even across separate
//! tables, so every call into it holds [`casacore_lock`] (reentrant on one thread).

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

pub(crate) static CASACORE: Mutex<()> = Mutex::new(());

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
