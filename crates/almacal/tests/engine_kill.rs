//! Crash safety: SIGKILL `almacal run` at random moments (at least 20
//! times, mid-stage), check after every kill that each recorded product is
//! intact, then finish the run and compare every product with a clean run.

mod engine_common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine_common::{bin, tree, Scratch};

const RECIPE: &str = r#"
[inputs]
raw = "raw.ms"

[stage.flags]
task = "_test_flag"
vis = "raw"
sleep_ms = 60

[stage.prep]
task = "_test_vis"
vis = "raw"
sleep_ms = 80

[stage.bp]
task = "_test_cal"
vis = "prep"
sleep_ms = 80

[stage.ph]
task = "_test_cal"
vis = "prep"
gaintable = ["bp"]
sleep_ms = 80

[stage.side]
task = "_test_cal"
vis = "raw"
sleep_ms = 120
"#;

const STAGES: &[(&str, &str)] = &[
    ("flags", "flags.flags"),
    ("prep", "prep.ms"),
    ("bp", "bp.cal"),
    ("ph", "ph.cal"),
    ("side", "side.cal"),
];

/// A tiny deterministic PRNG (xorshift), seeded from the clock.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run_to_end(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(["run", "r.toml", "--jobs", "2"])
        .args(extra)
        .current_dir(dir)
        .env("ALMACAL_TEST_TASKS", "1")
        .output()
        .expect("run")
}

/// Every stage that has a record must have exactly the reference product.
fn check_consistent(work: &Path, reference: &Path, trial: usize, seed: u64) {
    for (stage, product) in STAGES {
        let record = work.join(".almacal/records").join(format!("{stage}.json"));
        if !record.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&record).expect("record");
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "trial {trial} (seed {seed}): torn record for {stage}"
        );
        assert_eq!(
            tree(&work.join(product)),
            tree(&reference.join(product)),
            "trial {trial} (seed {seed}): {stage} has a record but its product differs from a clean run"
        );
    }
}

#[test]
fn sigkill_at_random_moments_always_recovers() {
    let t_start = Instant::now();
    let clean = Scratch::new(RECIPE);
    let out = run_to_end(clean.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = clean.path().join("r.almacal");

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    let s = Scratch::new(RECIPE);
    let work = s.path().join("r.almacal");
    let force = STAGES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",");
    let mut killed_mid_run = 0;
    let mut trial = 0;
    while killed_mid_run < 22 && trial < 60 {
        trial += 1;
        // Mostly forced full reruns (killed mid-stage), sometimes plain runs
        // (which must redo only what the previous kill left undone).
        let mut cmd = Command::new(bin());
        cmd.args(["run", "r.toml", "--jobs", "2"])
            .current_dir(s.path())
            .env("ALMACAL_TEST_TASKS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if trial % 4 != 0 {
            cmd.args(["--force", &force]);
        }
        let mut child = cmd.spawn().expect("spawn");
        let delay = Duration::from_millis(5 + rng.next() % 300);
        std::thread::sleep(delay);
        if child.try_wait().expect("try_wait").is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check_consistent(&work, &reference, trial, seed);
    }
    assert!(
        killed_mid_run >= 20,
        "only {killed_mid_run} kills hit a running process (seed {seed})"
    );

    let out = run_to_end(s.path(), &[]);
    assert!(
        out.status.success(),
        "seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (stage, product) in STAGES {
        assert_eq!(
            tree(&work.join(product)),
            tree(&reference.join(product)),
            "seed {seed}: {stage} differs from a clean run"
        );
    }
    let again = run_to_end(s.path(), &[]);
    let table = String::from_utf8_lossy(&again.stdout);
    assert!(
        table.contains("0 ran, 5 cached"),
        "seed {seed}: second run after recovery is not all cached:\n{table}"
    );
    assert!(
        t_start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t_start.elapsed()
    );
}
