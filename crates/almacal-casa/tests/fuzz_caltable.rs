//! Fuzz: `read_caltable` on mutated tables must return Ok or Err, never panic, abort or
//! crash. Two small caltables are written from the committed NGC5921 MS (a complex G table
//! with one channel, a float B TSYS-like table with 63 channels); each case copies them into
//! a tempdir and mutates their files: truncation at random lengths, byte flips, appended
//! garbage, emptied or deleted files, deleted subtables (SPECTRAL_WINDOW, ...), a file or
//! `table.dat` swapped in from another table.
//!
//! casacore is C++: an escaping exception aborts the process and corrupt data can make it
//! segfault. almacal reads every table it did not check yet in a probe process first
//! (`almacal_casa::isolate`); here the prober is this test binary itself (the ignored test
//! `probe_child_entry`). Every read runs in a forked child too, and the parent checks how
//! it ended (exit code, signal, a 90 s hang limit (the probe gives up after 60 s)): any crash, panic or hang fails. This
//! file holds exactly one test: `fork` in a single-test binary copies no thread that could
//! hold the casacore lock. `ALMACAL_FUZZ_SECS=N` runs it for N seconds.

mod common;
#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_casa::caltable::{
    read_caltable, write_caltable, CalKeywords, CalParams, CalRow, CalSubtables, CalTable, ParType,
    CASA_VERSION,
};
use ndarray::Array2;
use num_complex::Complex32;
use proptest::prelude::*;
use proptest::sample::Index;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn table(par: ParType, single_channel: bool) -> CalTable {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let sub = CalSubtables::from_ms(&ms, single_channel).expect("subtables of ngc5921.ms");
    let nchan = sub.spws.first().map_or(1, |s| s.chan_freq_hz.len()).max(1);
    let rows = (0..4)
        .map(|a| CalRow {
            time_s: 4.47e9 + a as f64,
            field_id: 0,
            spw_id: 0,
            antenna1: a,
            antenna2: if par == ParType::Complex { 3 } else { -1 },
            interval_s: 0.0,
            scan: 1,
            obs_id: 0,
            params: match par {
                ParType::Complex => CalParams::Complex(Array2::from_elem(
                    (2, nchan),
                    Complex32::new(1.0, 0.1 * a as f32),
                )),
                ParType::Float => CalParams::Float(Array2::from_elem((2, nchan), 50.0)),
            },
            paramerr: Array2::from_elem((2, nchan), 0.01),
            flag: Array2::from_shape_fn((2, nchan), |(p, c)| {
                (p + c + a as usize).is_multiple_of(5)
            }),
            snr: Array2::from_elem((2, nchan), 30.0),
            weight: None,
        })
        .collect();
    CalTable {
        keywords: CalKeywords {
            par_type: par,
            ms_name: "ngc5921.ms".into(),
            viscal: if par == ParType::Complex {
                "G Jones".into()
            } else {
                "B TSYS".into()
            },
            pol_basis: "unknown".into(),
            casa_version: CASA_VERSION.into(),
        },
        rows,
        sub,
    }
}

/// Every file (relative path) of the tree at `root`, sorted.
fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Every table directory (relative; "" = a main table) that holds a table.dat.
fn tables(all: &[PathBuf]) -> Vec<PathBuf> {
    all.iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "table.dat"))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for rel in files(from) {
        let dst = to.join(&rel);
        if let Some(d) = dst.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::copy(from.join(&rel), dst).expect("copy");
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index, Index),
    FlipBytes(Index, Vec<(Index, u8)>),
    Append(Index, Vec<u8>),
    Empty(Index),
    DeleteFile(Index),
    DeleteTable(Index),
    /// Copy table b's table.dat over table a's.
    SwapTableDat(Index, Index),
    /// Copy file b over file a.
    SwapFile(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let flips = proptest::collection::vec((any::<Index>(), 1u8..=255), 1..8);
    prop_oneof![
        3 => (any::<Index>(), any::<Index>()).prop_map(|(f, l)| Mutation::Truncate(f, l)),
        4 => (any::<Index>(), flips).prop_map(|(f, v)| Mutation::FlipBytes(f, v)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(f, v)| Mutation::Append(f, v)),
        1 => any::<Index>().prop_map(Mutation::Empty),
        1 => any::<Index>().prop_map(Mutation::DeleteFile),
        1 => any::<Index>().prop_map(Mutation::DeleteTable),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapTableDat(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapFile(a, b)),
    ]
}

/// Apply `m` to the tree at `root` (both tables live under it: `g/` and `b/`); says what
/// it did, for the crash report.
fn apply(root: &Path, m: &Mutation) -> std::io::Result<String> {
    let all = files(root);
    let tabs = tables(&all);
    if all.is_empty() {
        return Ok(String::new());
    }
    let file = |i: &Index| root.join(&all[i.index(all.len())]);
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let what = match m {
        Mutation::Truncate(f, l) => {
            let p = file(f);
            let len = std::fs::metadata(&p)?.len() as usize;
            let f = std::fs::OpenOptions::new().write(true).open(&p)?;
            let n = l.index(len.max(1));
            f.set_len(n as u64)?;
            format!("truncate {} from {len} to {n} bytes", rel(&p))
        }
        Mutation::FlipBytes(f, flips) => {
            let p = file(f);
            let mut b = std::fs::read(&p)?;
            if !b.is_empty() {
                for (i, x) in flips {
                    let k = i.index(b.len());
                    b[k] ^= x;
                }
                std::fs::write(&p, b)?;
            }
            format!("flip {} bytes of {}", flips.len(), rel(&p))
        }
        Mutation::Append(f, bytes) => {
            let p = file(f);
            let mut f = std::fs::OpenOptions::new().append(true).open(&p)?;
            f.write_all(bytes)?;
            format!("append {} bytes to {}", bytes.len(), rel(&p))
        }
        Mutation::Empty(f) => {
            std::fs::write(file(f), b"")?;
            format!("empty {}", rel(&file(f)))
        }
        Mutation::DeleteFile(f) => {
            std::fs::remove_file(file(f))?;
            format!("delete {}", rel(&file(f)))
        }
        Mutation::DeleteTable(t) if !tabs.is_empty() => {
            let rel = &tabs[t.index(tabs.len())];
            // Never the two main tables themselves (nothing left to read).
            if rel.components().count() <= 1 {
                return Ok(String::new());
            }
            std::fs::remove_dir_all(root.join(rel))?;
            format!("delete table {}", rel.display())
        }
        Mutation::SwapTableDat(a, b) if !tabs.is_empty() => {
            let a = root.join(&tabs[a.index(tabs.len())]).join("table.dat");
            let b = root.join(&tabs[b.index(tabs.len())]).join("table.dat");
            std::fs::copy(&b, &a)?;
            format!("copy {} over {}", rel(&b), rel(&a))
        }
        Mutation::SwapFile(a, b) => {
            let (a, b) = (file(a), file(b));
            if a == b {
                return Ok(String::new());
            }
            std::fs::copy(&b, &a)?;
            format!("copy {} over {}", rel(&b), rel(&a))
        }
        _ => String::new(),
    };
    Ok(what)
}

/// Mutations on which casacore itself crashes when it opens the table in-process (found by
/// this fuzzer before `isolate` existed); they must now come out as errors:
/// - a `table.lock` of another table: SIGABRT "double free or corruption (out)", e.g.
///   "copy b/table.lock over b/ANTENNA/table.lock";
/// - one flipped bit inside a (sub)table's `table.dat` description: SIGABRT "terminate
///   called without an active exception", e.g. "flip 1 bytes of g/OBSERVATION/table.dat".
fn casacore_crasher(done: &[String]) -> bool {
    done.iter()
        .any(|m| m.contains("table.lock") || (m.starts_with("flip") && m.ends_with("table.dat")))
}

/// The prober's side: started by `isolate` with its environment set, it probes and exits.
#[test]
#[ignore = "entry point of the probe process, started by the fuzz test itself"]
fn probe_child_entry() {
    if let Some(code) = almacal_casa::isolate::child_main() {
        std::process::exit(code);
    }
}

fn use_this_binary_as_prober() {
    almacal_casa::isolate::set_prober(almacal_casa::isolate::Prober {
        program: std::env::current_exe().expect("test binary path"),
        args: [
            "--exact",
            "probe_child_entry",
            "--ignored",
            "--test-threads=1",
            "-q",
        ]
        .iter()
        .map(Into::into)
        .collect(),
    });
}

/// How a read in a child process ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Err,
    /// Panicked, aborted, crashed or hung: the message says which.
    Crash(String),
}

/// `read_caltable(table)` in a forked child; its stderr goes to `log`.
fn read_in_child(table: &Path, log: &Path) -> Outcome {
    let log_file = std::fs::File::create(log).expect("create log");
    // SAFETY: this binary runs one test, so the child has no other thread's locks to
    // inherit; it only reads the table, writes its log and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Outcome::Crash("fork failed".into());
    }
    if pid == 0 {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto stderr of a file we own; _exit never returns.
        unsafe {
            libc::dup2(log_file.as_raw_fd(), 2);
        }
        let hook_log = log_file.try_clone().expect("log handle");
        let log_file_for_err = log_file;
        std::panic::set_hook(Box::new(move |info| {
            let _ = writeln!(&hook_log, "panic: {info}");
        }));
        let code = match std::panic::catch_unwind(|| read_caltable(table)) {
            Ok(Ok(t)) => {
                let _ = format!("{t:?}");
                0
            }
            Ok(Err(e)) => {
                let _ = writeln!(&log_file_for_err, "{e}");
                1
            }
            Err(_) => 101,
        };
        unsafe { libc::_exit(code) }
    }
    let started = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if r < 0 || started.elapsed() > Duration::from_secs(90) {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Outcome::Crash("hung for 90 s (killed)".into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let log_text = || {
        let s = std::fs::read_to_string(log).unwrap_or_default();
        s.lines().take(5).collect::<Vec<_>>().join(" | ")
    };
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => Outcome::Ok,
            1 => Outcome::Err,
            c => Outcome::Crash(format!("exit code {c}: {}", log_text())),
        }
    } else if libc::WIFSIGNALED(status) {
        Outcome::Crash(format!(
            "killed by signal {}: {}",
            libc::WTERMSIG(status),
            log_text()
        ))
    } else {
        Outcome::Crash(format!("wait status {status}"))
    }
}

#[test]
fn fuzz_read_caltable_on_mutated_tables() {
    use_this_binary_as_prober();
    let template = tempfile::tempdir().expect("tempdir");
    write_caltable(&template.path().join("g"), &table(ParType::Complex, true))
        .expect("write G table");
    write_caltable(&template.path().join("b"), &table(ParType::Float, false))
        .expect("write B table");
    let work = tempfile::tempdir().expect("tempdir");
    let log = work.path().join("child.log");

    // The unmutated tables read fine in a child (the harness works), and a missing one
    // is an error, not a crash.
    for t in ["g", "b"] {
        assert_eq!(
            read_in_child(&template.path().join(t), &log),
            Outcome::Ok,
            "{t}"
        );
    }
    assert_eq!(read_in_child(&work.path().join("none"), &log), Outcome::Err);

    let case = std::cell::Cell::new(0u64);
    // Cases whose mutations made casacore crash in-process before `isolate`, and how many of
    // them the probe reported as damaged tables.
    let (risky, caught) = (std::cell::Cell::new(0u64), std::cell::Cell::new(0u64));
    let strategy = (any::<bool>(), proptest::collection::vec(mutation(), 1..4));
    let name = "caltable::read_caltable (mutated tables)";
    // A few mutations make casacore work for seconds (huge sizes read from a flipped
    // table.dat): 64 cases keep the default run short.
    fuzz_support::fuzz_cases(name, 64, strategy, |(g, muts)| {
        case.set(case.get() + 1);
        let root = work.path().join(format!("case{}", case.get()));
        copy_tree(template.path(), &root);
        // A mutation that does not apply (e.g. a file already deleted) is skipped.
        let done: Vec<String> = muts
            .iter()
            .filter_map(|m| apply(&root, m).ok())
            .filter(|w| !w.is_empty())
            .collect();
        let outcome = read_in_child(&root.join(if g { "g" } else { "b" }), &log);
        let _ = std::fs::remove_dir_all(&root);
        if casacore_crasher(&done) {
            risky.set(risky.get() + 1);
        }
        match outcome {
            Outcome::Crash(msg) => Err(fuzz_support::fail(format!(
                "{msg}\nmutations: {}",
                done.join("; ")
            ))),
            Outcome::Err => {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                if said.contains("the table is damaged: casacore") {
                    caught.set(caught.get() + 1);
                }
                Ok(())
            }
            Outcome::Ok => Ok(()),
        }
    });
    eprintln!(
        "fuzz {name}: {} cases had mutations that crash casacore in-process; {} tables were \
         reported damaged by the probe process (0 crashes)",
        risky.get(),
        caught.get()
    );
}
