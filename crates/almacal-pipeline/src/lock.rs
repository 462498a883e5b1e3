//! One `almacal run` per workspace: an advisory `flock` on
//! `<workdir>/.almacal/lock`, which records the holder's pid, host and start
//! time. The kernel releases it when the holder dies, even on SIGKILL.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// A held workspace lock (released on drop).
#[derive(Debug)]
pub struct WorkspaceLock {
    file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("workspace is locked by another almacal run ({holder}); wait for it or pass --wait")]
    Held { holder: String },
    #[error("cannot lock workspace: {0}")]
    Io(#[from] io::Error),
}

/// `path: error`, so that every I/O error names the file it is about.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Unix seconds as a local date and time with its UTC offset, e.g.
/// `2026-12-01 14:03:11 +01:00` (`unix time N` when the C library cannot convert it).
pub fn local_datetime(unix_s: i64) -> String {
    let t: libc::time_t = unix_s as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value; `localtime_r` fills it from `t` and
    // touches nothing else (re-entrant, unlike `localtime`).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return format!("unix time {unix_s}");
    }
    let off_min = tm.tm_gmtoff / 60;
    let sign = if off_min < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        off_min.abs() / 60,
        off_min.abs() % 60
    )
}

/// The holder line as shown to users: lock files written by older versions say
/// `since unix time N`; show that as a local date too.
fn readable_holder(holder: &str) -> String {
    match holder.split_once("since unix time ") {
        Some((head, secs)) => match secs.trim().parse::<i64>() {
            Ok(s) => format!("{head}since {}", local_datetime(s)),
            Err(_) => holder.to_string(),
        },
        None => holder.to_string(),
    }
}

fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Take the exclusive advisory lock (`fs4`: flock on Unix); `false` when another
/// process holds it and `blocking` is off.
fn flock(file: &File, blocking: bool) -> io::Result<bool> {
    use fs4::FileExt;
    if blocking {
        FileExt::lock(file).map(|()| true)
    } else {
        match FileExt::try_lock(file) {
            Ok(()) => Ok(true),
            Err(fs4::TryLockError::WouldBlock) => Ok(false),
            Err(fs4::TryLockError::Error(e)) => Err(e),
        }
    }
}

impl WorkspaceLock {
    /// Take the lock at `path`; with `wait`, block until it is free.
    pub fn acquire(path: &Path, wait: bool) -> Result<Self, LockError> {
        Self::acquire_notify(path, wait, |_| {})
    }

    /// [`acquire`](Self::acquire), calling `waiting(holder)` once before blocking when
    /// another run holds the lock and `wait` is set.
    pub fn acquire_notify(
        path: &Path,
        wait: bool,
        waiting: impl FnOnce(&str),
    ) -> Result<Self, LockError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| at(path, e))?;
        if !flock(&file, false).map_err(|e| at(path, e))? {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "holder unknown".to_string(),
                h => readable_holder(h),
            };
            if !wait {
                return Err(LockError::Held { holder });
            }
            waiting(&holder);
            flock(&file, true).map_err(|e| at(path, e))?;
        }
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let write = |file: &mut File| -> io::Result<()> {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(
                file,
                "pid {} on {} since {}",
                std::process::id(),
                hostname(),
                local_datetime(started)
            )?;
            file.sync_all()
        };
        write(&mut file).map_err(|e| at(path, e))?;
        Ok(Self { file })
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_reports_holder() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join(".almacal/lock");
        let held = WorkspaceLock::acquire(&p, false).expect("first");
        match WorkspaceLock::acquire(&p, false) {
            Err(LockError::Held { holder }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                );
            }
            other => panic!("expected Held, got {other:?}"),
        }
        drop(held);
        assert!(WorkspaceLock::acquire(&p, false).is_ok());
    }

    #[test]
    fn holder_shows_a_local_date_not_unix_seconds() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("lock");
        let _held = WorkspaceLock::acquire(&p, false).expect("first");
        let Err(LockError::Held { holder }) = WorkspaceLock::acquire(&p, false) else {
            panic!("expected Held");
        };
        assert!(!holder.contains("unix time"), "{holder}");
        // `since YYYY-MM-DD HH:MM:SS +HH:MM`
        let date = holder.rsplit("since ").next().unwrap_or("");
        let b = date.as_bytes();
        assert!(
            b.len() == 26 && b[4] == b'-' && b[7] == b'-' && b[13] == b':' && b[16] == b':',
            "{holder}"
        );
        // Old lock files: converted when read.
        let old = readable_holder("pid 7 on h since unix time 0");
        assert!(old.starts_with("pid 7 on h since 19"), "{old}");
        assert!(!old.contains("unix time"), "{old}");
    }

    #[test]
    fn lock_errors_name_the_path() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("file"), "x").expect("write");
        let p = dir.path().join("file/.almacal/lock");
        let e = WorkspaceLock::acquire(&p, false).expect_err("a file is not a folder");
        assert!(
            e.to_string()
                .contains(&dir.path().join("file").display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn waiting_lock_gets_it_when_released() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("lock");
        let held = WorkspaceLock::acquire(&p, false).expect("first");
        let p2 = p.clone();
        let t = std::thread::spawn(move || WorkspaceLock::acquire(&p2, true).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
        assert!(t.join().expect("join"));
    }
}
