//! Page-cache prefaulting for a MeasurementSet being written.
//!
//! Writing a new file costs a first touch per page, and on a virtual machine whose free
//! memory goes back to the host that touch can cost several µs per page (1–3 s for a
//! 1.3 GB visibility column, measured on our 2-core VM). casacore pays it inside its writes,
//! holding the casacore lock that our reader thread needs too, so the stage serialises on
//! the kernel. A [`Prefaulter`] pays it on its own thread instead:
//!
//! - it picks the growing tiled-storage file of the new table (`table.f*_TSM*`, the largest:
//!   the visibilities' hypercube),
//! - extends it with `fallocate` to `min_bytes`, a size casacore is certain to reach (the
//!   caller's lower bound: rows × cell bytes; tiles only add padding). `fallocate` never
//!   shrinks a file nor touches written bytes, so the final size is casacore's own,
//! - and maps the range into the page cache with `MADV_POPULATE_READ`, which faults pages
//!   in without changing any content (holes read as zeros, as casacore's own new tiles are).
//!
//! Everything here is an optimisation: any failure just ends the prefaulting.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes mapped and populated per step (the stop flag is checked between steps).
const WINDOW: u64 = 32 << 20;

/// A running prefault of one table's visibility file; stopped and joined on drop.
pub struct Prefaulter {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl Prefaulter {
    /// Start prefaulting the largest `*_TSM*` file of `table_dir` up to `min_bytes`, once
    /// `written` visibility bytes have gone to the table: the file must already hold at least
    /// half of them (which tells it from the flags' file). `None` when no file qualifies
    /// yet, or no thread could be started.
    pub fn start(table_dir: &Path, written: u64, min_bytes: u64) -> Option<Self> {
        if std::env::var_os("ALMACAL_NO_PREFAULT").is_some() {
            return None;
        }
        let (len, file) = largest_tsm_file(table_dir)?;
        if len < written / 2 || len >= min_bytes {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("almacal-prefault".into())
            .spawn(move || prefault(&file, min_bytes, &flag))
            .ok()?;
        Some(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stop (if still running) and return the bytes populated.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.join()
    }

    /// Let it run to the end and return the bytes populated.
    pub fn wait(mut self) -> u64 {
        self.join()
    }

    fn join(&mut self) -> u64 {
        self.handle
            .take()
            .map(|h| h.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Prefaulter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.join();
    }
}

/// The largest `table.f<N>_TSM<M>` file directly in `dir`, with its length.
fn largest_tsm_file(dir: &Path) -> Option<(u64, PathBuf)> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("table.f") && n.contains("_TSM")
        })
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.path())))
        .max_by_key(|(len, _)| *len)
}

#[cfg(target_os = "linux")]
fn prefault(file: &Path, min_bytes: u64, stop: &AtomicBool) -> u64 {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
    else {
        return 0;
    };
    let fd = f.as_raw_fd();
    let Ok(len) = libc::off_t::try_from(min_bytes) else {
        return 0;
    };
    // SAFETY: plain syscall on an open descriptor; mode 0 only allocates and extends.
    if unsafe { libc::fallocate(fd, 0, 0, len) } != 0 {
        return 0;
    }
    let mut done = 0u64;
    let mut off = 0u64;
    while off < min_bytes && !stop.load(Ordering::Relaxed) {
        let n = WINDOW.min(min_bytes - off) as usize;
        // SAFETY: a fresh read-only shared mapping of a range inside the file (just
        // extended to min_bytes); it is only advised and unmapped, never dereferenced.
        let ok = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                n,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                off as libc::off_t,
            );
            if p == libc::MAP_FAILED {
                false
            } else {
                let r = libc::madvise(p, n, libc::MADV_POPULATE_READ);
                libc::munmap(p, n);
                r == 0
            }
        };
        if !ok {
            break;
        }
        off += n as u64;
        done = off;
    }
    done
}

#[cfg(not(target_os = "linux"))]
fn prefault(_file: &Path, _min_bytes: u64, _stop: &AtomicBool) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_and_keeps_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("table.f1_TSM1");
        std::fs::write(&p, [7u8; 1000]).unwrap();
        std::fs::write(dir.path().join("table.f2_TSM1"), [1u8; 10]).unwrap();
        std::fs::write(dir.path().join("table.f0"), [1u8; 5000]).unwrap();
        // Not yet half of what was written: not this file.
        assert!(Prefaulter::start(dir.path(), 4000, 3 << 20).is_none());
        let pf = Prefaulter::start(dir.path(), 1500, 3 << 20).unwrap();
        let n = pf.wait();
        let bytes = std::fs::read(&p).unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(n, 3 << 20);
            assert_eq!(bytes.len(), 3 << 20);
        }
        assert!(bytes[..1000].iter().all(|&b| b == 7));
        assert!(bytes[1000..].iter().all(|&b| b == 0));
        // Nothing to do once the file has reached the bound.
        assert!(Prefaulter::start(dir.path(), 100, 100).is_none());
        assert_eq!(std::fs::read(&p).unwrap().len(), bytes.len());
    }

    #[test]
    fn never_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("table.f1_TSM1");
        std::fs::write(&p, [7u8; 5000]).unwrap();
        prefault(&p, 100, &AtomicBool::new(false));
        assert_eq!(std::fs::read(&p).unwrap(), vec![7u8; 5000]);
    }

    #[test]
    fn no_tsm_file_no_prefaulter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("table.f0"), [1u8; 10]).unwrap();
        assert!(Prefaulter::start(dir.path(), 0, 100).is_none());
    }
}
