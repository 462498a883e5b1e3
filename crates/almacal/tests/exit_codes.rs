//! One test per documented exit code (README "Exit codes"), on tiny recipes over the `tiny`
//! simulated observation or the engine's fake test tasks.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod cli_common;
use cli_common::almacal;

/// A temp folder with the `tiny` simulated MS at `d/s.ms`.
fn sim_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, out) = almacal(
        &["simulate", "--preset", "tiny", "--out", "d/s.ms", "--quiet"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{out}");
    tmp
}

/// A recipe over `d/s.ms` with the given stage sections.
fn recipe(dir: &Path, name: &str, stages: &str) {
    let text = format!(
        "[recipe]\nname = \"{name}\"\nworkdir = \"work_{name}\"\n\n[inputs]\nraw = \"d/s.ms\"\n\n{stages}"
    );
    std::fs::write(dir.join(format!("{name}.toml")), text).expect("write recipe");
}

const GAINCAL: &str = "[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nspw = \"17\"\nrefant = \"CM01\"\nsolint = \"inf\"\n";

/// A folder with a fake MS and a recipe of the engine's test tasks (`ALMACAL_TEST_TASKS=1`).
fn fake_dir(stages: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("raw.ms/ANTENNA")).expect("mkdir");
    std::fs::write(tmp.path().join("raw.ms/table.dat"), "fake").expect("write");
    std::fs::write(tmp.path().join("raw.ms/ANTENNA/table.dat"), "fake").expect("write");
    std::fs::write(
        tmp.path().join("r.toml"),
        format!("[inputs]\nraw = \"raw.ms\"\n\n{stages}"),
    )
    .expect("write");
    tmp
}

fn test_tasks(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(args)
        .current_dir(dir)
        .env("ALMACAL_TEST_TASKS", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run almacal")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Wait until `f` holds (at most 30 s).
fn wait_for(what: &str, f: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(30), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exit_0_ok() {
    let tmp = sim_dir();
    recipe(tmp.path(), "ok", GAINCAL);
    let (code, out) = almacal(
        &["run", "ok.toml", "--no-progress", "--no-plots"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 ran"), "{out}");
}

/// [`fake_dir`] with a `[recipe]` header.
fn fake_dir_with(header: &str, stages: &str) -> tempfile::TempDir {
    let tmp = fake_dir("");
    std::fs::write(
        tmp.path().join("r.toml"),
        format!("[recipe]\n{header}\n\n[inputs]\nraw = \"raw.ms\"\n\n{stages}"),
    )
    .expect("write");
    tmp
}

const ONE_STAGE: &str = "[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\n";

#[test]
fn exit_1_workspace_not_writable_names_the_path() {
    let f = fake_dir_with("workdir = \"plain/work\"", ONE_STAGE);
    std::fs::write(f.path().join("plain"), "a file, not a folder").expect("write");
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("plain/work"), "{}", text(&out));
}

#[test]
fn exit_1_product_that_cannot_be_written() {
    let f = fake_dir(
        "[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\nsalt = \"fail_io\"\n\n[stage.b]\ntask = \"_test_cal\"\nvis = \"raw\"\nfail = true\n",
    );
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cannot write"), "{}", text(&out));
    assert!(text(&out).contains("a.cal"), "{}", text(&out));
}

#[test]
fn exit_1_io_errors_name_their_path() {
    let f = fake_dir_with("workdir = \"/proc/x\"", ONE_STAGE);
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("/proc/x"), "{}", text(&out));
}

#[test]
fn exit_2_usage() {
    let f = fake_dir("[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\n");
    for args in [
        &["run", "r.toml", "--only", "nosuch"][..],
        &["run", "r.toml", "--force", "bogus"][..],
        &["run", "r.toml", "--from", "nope"][..],
        &["explain", "r.toml", "nope"][..],
        &["run", "r.toml", "--no-such-option"][..],
    ] {
        let out = test_tasks(f.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

#[test]
fn exit_2_clean_of_a_whole_workspace_needs_yes_without_a_terminal() {
    let f = fake_dir("[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\n");
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = test_tasks(f.path(), &["clean", "r.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--yes"), "{}", text(&out));
    // Nothing was removed: the stage is still cached.
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert!(text(&out).contains("1 cached"), "{}", text(&out));

    let out = test_tasks(f.path(), &["clean", "r.toml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("removed"), "{}", text(&out));
    // One stage needs no confirmation.
    let out = test_tasks(f.path(), &["clean", "r.toml", "a"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn exit_3_invalid_recipe() {
    let f = fake_dir("[stage.a]\ntask = \"_test_cal\"\nvis = \"nosuch_input\"\n");
    let out = test_tasks(f.path(), &["run", "r.toml"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn exit_4_missing_ms_is_the_same_for_every_command() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        &["listobs", "nosuch.ms"][..],
        &["plot", "ants", "nosuch.ms"][..],
        &["plot", "gain", "nosuch.cal"][..],
        &["plot", "vis", "nosuch.ms"][..],
        &["locate", "nosuch.ms"][..],
    ] {
        let (code, out) = almacal(args, tmp.path());
        assert_eq!(code, 4, "{args:?}: {out}");
        assert!(out.contains("nosuch."), "{args:?}: {out}");
    }
}

#[test]
fn exit_4_selection_matching_nothing_in_the_data_for_every_task() {
    let tmp = sim_dir();
    recipe(
        tmp.path(),
        "gsel",
        "[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nspw = \"99\"\nrefant = \"CM01\"\nsolint = \"inf\"\n",
    );
    recipe(
        tmp.path(),
        "asel",
        &format!("{GAINCAL}\n[stage.a]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = [\"g\"]\nspw = \"99\"\n"),
    );
    for name in ["gsel", "asel"] {
        let (code, out) = almacal(
            &[
                "run",
                &format!("{name}.toml"),
                "--no-progress",
                "--no-plots",
            ],
            tmp.path(),
        );
        assert_eq!(code, 4, "{name}: {out}");
        assert!(out.contains("spw 99"), "{name}: {out}");
    }
}

#[test]
fn exit_5_stage_failed() {
    let f = fake_dir("[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\nfail = true\n");
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
}

/// Start a run whose stage sleeps, and wait until it holds the lock and runs the stage.
fn start_slow_run(dir: &Path) -> std::process::Child {
    let events = dir.join("events.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(["run", "r.toml", "--no-plots", "--events"])
        .arg(&events)
        .current_dir(dir)
        .env("ALMACAL_TEST_TASKS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the slow stage to start", || {
        std::fs::read_to_string(&events).is_ok_and(|t| t.contains("stage_started"))
    });
    child
}

#[test]
fn exit_6_locked_and_wait_says_who_holds_the_lock() {
    let f = fake_dir("[stage.slow]\ntask = \"_test_cal\"\nvis = \"raw\"\nsleep_ms = 2500\n");
    let mut first = start_slow_run(f.path());
    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains(&format!("pid {}", first.id())), "{msg}");
    assert!(!msg.contains("unix time"), "{msg}");

    let out = test_tasks(f.path(), &["run", "r.toml", "--no-plots", "--wait"]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(0), "{msg}");
    assert!(msg.contains("waiting for the workspace lock"), "{msg}");
    assert!(msg.contains(&format!("pid {}", first.id())), "{msg}");
    assert!(first.wait().expect("wait").success());
}

#[test]
fn exit_7_regression() {
    let tmp = sim_dir();
    recipe(tmp.path(), "rg", GAINCAL);
    let (code, out) = almacal(
        &["regress", "rg.toml", "--reference", "ref.json", "--update"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = almacal(
        &["regress", "rg.toml", "--reference", "ref.json"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{out}");
    let path = tmp.path().join("ref.json");
    let mut reference = cli_common::json(&path);
    for m in reference["metrics"]
        .as_object_mut()
        .expect("metrics")
        .values_mut()
    {
        if m["kind"] == "amp" {
            let v = m["value"].as_f64().expect("value");
            m["value"] = (v * 2.0).into();
        }
    }
    std::fs::write(&path, reference.to_string()).expect("write");
    let (code, out) = almacal(
        &["regress", "rg.toml", "--reference", "ref.json"],
        tmp.path(),
    );
    assert_eq!(code, 7, "{out}");
}

#[test]
fn exit_130_ctrl_c_names_the_running_stages() {
    let f = fake_dir("[stage.slow]\ntask = \"_test_cal\"\nvis = \"raw\"\nsleep_ms = 20000\n");
    let child = start_slow_run(f.path());
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("slow"), "{err}");
    // The cache is consistent: the interrupted stage was not recorded, so it would rerun.
    let plan = text(&test_tasks(f.path(), &["plan", "r.toml"]));
    assert!(plan.contains("1 of 1 stages would run"), "{plan}");
}

/// `almacal CMD | head -1`: the reader goes away before almacal writes.
fn closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(args)
        .current_dir(dir)
        .env("ALMACAL_TEST_TASKS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait")
}

#[test]
fn closed_stdout_exits_quietly() {
    let f = fake_dir("[stage.a]\ntask = \"_test_cal\"\nvis = \"raw\"\n");
    for args in [
        &["run", "r.toml", "--no-plots"][..],
        &["status", "r.toml"][..],
        &["plan", "r.toml"][..],
        &["graph", "r.toml"][..],
    ] {
        let out = closed_stdout(f.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            // Killed by SIGPIPE like other tools (a shell shows 141).
            assert!(
                out.status.signal() == Some(libc_sigpipe()) || out.status.code() == Some(0),
                "{args:?}: {:?} {err}",
                out.status
            );
        }
    }
}

fn libc_sigpipe() -> i32 {
    13
}

/// The exit-code tables of README.md and docs/recipes.md are the same.
#[test]
fn exit_code_tables_agree() {
    let table = |file: &str| -> String {
        let text = std::fs::read_to_string(cli_common::repo().join(file)).expect("read the docs");
        let start = text.find("| code | meaning |").expect("exit-code table");
        text[start..]
            .lines()
            .take_while(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let readme = table("README.md");
    assert_eq!(readme, table("docs/recipes.md"));
    for code in [0, 1, 2, 3, 4, 5, 6, 7, 130] {
        assert!(
            readme.contains(&format!("\n| {code} |")),
            "code {code} undocumented"
        );
    }
}
