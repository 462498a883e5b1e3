//! One `almacal run` per workspace: an advisory `flock` on
//! `<workdir>/.almacal/lock`, which records the holder's pid, host and start
//! time. The kernel releases it when the holder dies, even on SIGKILL.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::io::AsRawFd;
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

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for buf.len() bytes; gethostname NUL-terminates
    // on success (we also bound the read by the buffer length).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn flock(file: &File, blocking: bool) -> io::Result<bool> {
    let op = libc::LOCK_EX | if blocking { 0 } else { libc::LOCK_NB };
    loop {
        // SAFETY: the fd is owned by `file`, which outlives this call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(err),
        }
    }
}

impl WorkspaceLock {
    /// Take the lock at `path`; with `wait`, block until it is free.
    pub fn acquire(path: &Path, wait: bool) -> Result<Self, LockError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !flock(&file, false)? {
            if !wait {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            flock(&file, true)?;
        }
        file.set_len(0)?;
        file.rewind()?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        writeln!(
            file,
            "pid {} on {} since unix time {started}",
            std::process::id(),
            hostname()
        )?;
        file.sync_all()?;
        Ok(Self { file })
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        // SAFETY: the fd is owned by self.file.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
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
