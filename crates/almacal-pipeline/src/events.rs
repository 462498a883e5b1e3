//! Run events: what the run loop reports (stage started / cached / finished
//! / failed / skipped, progress). The CLI turns them into progress bars and
//! JSON lines (`--events FILE`); the engine itself never prints.

use serde::Serialize;

/// One event, serialised as a JSON object with an `event` tag.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        recipe: String,
        stages: usize,
        jobs: usize,
    },
    /// `run --wait`: another run holds the workspace lock; this one waits for it.
    WaitingForLock {
        holder: String,
    },
    StageStarted {
        stage: String,
        task: String,
        reasons: Vec<String>,
    },
    StageProgress {
        stage: String,
        done: u64,
        total: u64,
    },
    StageCached {
        stage: String,
        reason: String,
    },
    StageFinished {
        stage: String,
        wall_s: f64,
        products: Vec<String>,
        unchanged: bool,
    },
    StageFailed {
        stage: String,
        error: String,
        wall_s: f64,
    },
    StageSkipped {
        stage: String,
        reason: String,
    },
    RunFinished {
        ok: bool,
        ran: usize,
        cached: usize,
        failed: usize,
        skipped: usize,
        wall_s: f64,
    },
}

/// Receives events (from several threads).
pub trait Observer: Send + Sync {
    fn event(&self, e: &Event);
}

/// Ignores everything.
pub struct NullObserver;

impl Observer for NullObserver {
    fn event(&self, _: &Event) {}
}

/// Collects events (tests).
#[derive(Default)]
pub struct CollectObserver(pub std::sync::Mutex<Vec<Event>>);

impl Observer for CollectObserver {
    fn event(&self, e: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e.clone());
        }
    }
}
