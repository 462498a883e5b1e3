//! Fake stages for engine tests (no casacore): the `_test_cal`,
//! `_test_vis` and `_test_flag` tasks. Each writes a deterministic product
//! derived from its parameters and the content of everything it reads,
//! slowly when asked (`sleep_ms`), so tests can kill it mid-write; `fail = true` fails the
//! stage, `salt = "fail_io"` fails it as a product that cannot be written.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use almacal_recipe::{ParamValue, ProductKind};

use crate::executor::{StageContext, StageError, StageExecutor, StageOutput, TaskRegistry};

/// The fake task; counts its runs.
#[derive(Default)]
pub struct TestTask {
    pub runs: AtomicUsize,
}

/// Register the test tasks; returns the shared executor (for run counts).
pub fn register(r: &mut TaskRegistry) -> Arc<TestTask> {
    let t = Arc::new(TestTask::default());
    for name in ["_test_cal", "_test_vis", "_test_flag"] {
        r.register(name, t.clone());
    }
    t
}

fn read_tree(p: &Path, out: &mut Vec<u8>) {
    if p.is_file() {
        if let Ok(b) = fs::read(p) {
            out.extend(b);
        }
    } else if let Ok(rd) = fs::read_dir(p) {
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            read_tree(&e, out);
        }
    }
}

impl StageExecutor for TestTask {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let p = &ctx.stage.params;
        if p.get("fail").and_then(ParamValue::as_bool) == Some(true) {
            return Err(StageError::Failed("asked to fail (fail = true)".into()));
        }
        if p.get("salt").and_then(ParamValue::as_str) == Some("fail_io") {
            // A product that cannot be written, as on a read-only disk (a full disk is a stage
            // failure, exit 5: see `run::diagnose_no_space`).
            let out = ctx.outputs.values().next().cloned().unwrap_or_default();
            return Err(StageError::write(
                &ctx.stage.name,
                &out,
                "Permission denied (salt = \"fail_io\")",
            ));
        }
        let sleep_ms = p
            .get("sleep_ms")
            .and_then(ParamValue::as_i64)
            .unwrap_or(0)
            .max(0) as u64;
        let mut content = Vec::new();
        if p.get("constant").and_then(ParamValue::as_bool) == Some(true) {
            content.extend(b"constant product\n");
        } else {
            writeln!(
                content,
                "stage={} task={} salt={}",
                ctx.stage.name,
                ctx.stage.task,
                p.get("salt").map(|v| v.to_compact()).unwrap_or_default()
            )?;
            if let Some(vis) = &ctx.vis {
                read_tree(&vis.path, &mut content);
                for l in &vis.flag_layers {
                    read_tree(&l.path, &mut content);
                }
            }
            for path in ctx.caltables.values() {
                read_tree(path, &mut content);
            }
            for f in &ctx.stage.files {
                content.extend(f.content.as_bytes());
            }
        }
        let digest = blake3::hash(&content).to_hex().to_string();
        for (kind, path) in &ctx.outputs {
            let file = match kind {
                ProductKind::Caltable | ProductKind::Vis | ProductKind::FlagLayer => {
                    fs::create_dir_all(path)?;
                    path.join("table.dat")
                }
                _ => path.clone(),
            };
            // Write in 8 pieces with sleeps in between: a kill leaves a
            // half-written product in the temp dir.
            let mut f = fs::File::create(&file)?;
            let chunk = 8;
            for k in 0..chunk {
                writeln!(f, "{kind} {digest} part {k}")?;
                f.flush()?;
                ctx.progress(k + 1, chunk);
                if sleep_ms > 0 {
                    std::thread::sleep(Duration::from_millis(sleep_ms / chunk));
                }
            }
        }
        Ok(StageOutput {
            summary: Some(serde_json::json!({ "digest": digest })),
        })
    }
}
