//! Ctrl-C (SIGINT) during `almacal run`: say which stages were interrupted, then exit 130.
//!
//! The signal handler only sets a flag (async-signal-safe); a watcher thread sees it, prints
//! the stages that were running (tracked from the run's events) and exits. The cache stays
//! consistent without cleanup: the engine writes products into a temp folder and records a
//! stage only after moving them into place, so an interrupted stage simply has no record and
//! the next run redoes it (and removes the temp folder).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use almacal_pipeline::events::Event;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static RUNNING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
static INSTALL: Once = Once::new();

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Install the SIGINT handler and its watcher thread (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let handler = on_sigint as extern "C" fn(libc::c_int);
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
        let spawned = std::thread::Builder::new()
            .name("sigint-watch".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_millis(50));
                if INTERRUPTED.load(Ordering::SeqCst) {
                    eprintln!("\n{}", message(&running()));
                    std::process::exit(i32::from(crate::exit::INTERRUPTED));
                }
            });
        if spawned.is_err() {
            // No watcher: restore the default action (die on Ctrl-C, as before).
            // SAFETY: resetting a signal to its default disposition.
            unsafe {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
            }
        }
    });
}

/// Follow the run's events: which stages are running now.
pub fn note(e: &Event) {
    let Ok(mut r) = RUNNING.lock() else { return };
    match e {
        Event::StageStarted { stage, .. } => {
            r.insert(stage.clone());
        }
        Event::StageFinished { stage, .. } | Event::StageFailed { stage, .. } => {
            r.remove(stage);
        }
        _ => {}
    }
}

fn running() -> Vec<String> {
    RUNNING
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default()
}

/// What the user is told after Ctrl-C.
pub fn message(running: &[String]) -> String {
    if running.is_empty() {
        return "interrupted (Ctrl-C): no stage was running; finished stages are cached".into();
    }
    format!(
        "interrupted (Ctrl-C) while running stage{} {}: not recorded, the next run redoes {}; \
         finished stages are cached",
        if running.len() == 1 { "" } else { "s" },
        running.join(", "),
        if running.len() == 1 { "it" } else { "them" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_running_stages() {
        let m = message(&["bandpass".into(), "tsys".into()]);
        assert!(m.contains("stages bandpass, tsys"), "{m}");
        assert!(message(&[]).contains("no stage was running"));
    }
}
