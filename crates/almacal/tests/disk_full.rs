//! A full disk is a stage failure, never an abort: the tutorial recipe on the `tiny`
//! simulation with its workdir on small tmpfs mounts (root only). Each run must exit 5
//! (stage failed), not 134 (casacore's std::terminate) or 101 (panic), name the path and
//! the missing space, leave consistent records (every recorded product exists, no temp
//! files) and a run.json; after the mount is grown, the rerun succeeds and keeps the stages
//! that had finished cached.

use std::path::{Path, PathBuf};
use std::process::Command;

mod cli_common;
use cli_common::{almacal, json, tiny_setup};

/// A tmpfs mounted at a folder, unmounted on drop (also when an assertion fails).
struct Mount(PathBuf);

impl Mount {
    fn new(at: &Path, mb: u32) -> Result<Self, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(Self(at.to_path_buf()))
    }

    fn resize(&self, mb: u32) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={mb}m")])
            .arg(&self.0)
            .output()
            .expect("run mount");
        assert!(out.status.success(), "remount: {:?}", out);
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_some()
}

/// Stage name → status of a run.json.
fn statuses(run_json: &Path) -> Vec<(String, String)> {
    json(run_json)["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("").to_string(),
                s["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every record names products that exist; no temp files are left anywhere.
fn assert_consistent(work: &Path) {
    let records = work.join(".almacal/records");
    for e in std::fs::read_dir(&records).expect("records dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "temp file left: {}", p.display());
        let r = json(&p);
        for prod in r["products"].as_array().expect("products") {
            let rel = prod["rel_path"].as_str().expect("rel_path");
            assert!(
                work.join(rel).exists(),
                "{name} records {rel}, which does not exist"
            );
        }
    }
    let tmp = work.join(".almacal/tmp");
    if tmp.exists() {
        let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
        assert!(left.is_empty(), "stage temp dirs left: {left:?}");
    }
}

#[test]
fn a_full_disk_fails_the_stage_and_the_rerun_resumes() {
    let setup = tiny_setup(false);
    let dir = setup.path();
    // The recipe's workdir is work/alma-manual-calibration: the mount is its parent.
    let mnt = dir.join("work");
    let work = mnt.join("alma-manual-calibration");
    let args = [
        "run",
        "alma-manual-calibration.toml",
        "--no-progress",
        "--no-plots",
    ];
    // Sizes that fail in the MS writer before it starts (3), in its close (8), in a
    // caltable (10) and in the final applycal (16); the full run needs about 18 MB.
    for mb in [3u32, 8, 10, 16] {
        let m = match Mount::new(&mnt, mb) {
            Ok(m) => m,
            Err(e) if required() => panic!("cannot mount a tmpfs (root needed): {e}"),
            Err(e) => {
                eprintln!("note: disk_full skipped, cannot mount a tmpfs (not root?): {e}");
                return;
            }
        };
        let (code, out) = almacal(&args, dir);
        assert!(
            !out.contains("terminate called"),
            "{mb} MB: casacore aborted:\n{out}"
        );
        assert_eq!(code, 5, "{mb} MB: expected a stage failure:\n{out}");
        assert!(
            out.contains("No space left on device"),
            "{mb} MB: no ENOSPC message:\n{out}"
        );
        // The recipe's workdir is relative; the messages name paths as the recipe does.
        assert!(
            out.contains("work/alma-manual-calibration/"),
            "{mb} MB: the message names no path in the workdir:\n{out}"
        );
        assert!(
            out.contains("MB free"),
            "{mb} MB: the free space is not said:\n{out}"
        );
        let first = statuses(&work.join("run.json"));
        assert!(first.iter().any(|(_, s)| s == "failed"), "{first:?}");
        assert_consistent(&work);
        let finished: Vec<&String> = first
            .iter()
            .filter(|(_, s)| s == "ran")
            .map(|(n, _)| n)
            .collect();

        m.resize(64);
        let (code, out) = almacal(&args, dir);
        assert_eq!(code, 0, "{mb} MB, rerun after growing the disk:\n{out}");
        let second = statuses(&work.join("run.json"));
        for n in &finished {
            assert!(
                second.iter().any(|(m, s)| m == *n && s == "cached"),
                "{mb} MB: {n} finished before the disk was full but was not cached: {second:?}"
            );
        }
        assert!(second.iter().all(|(_, s)| s == "ran" || s == "cached"));
        assert_consistent(&work);
        drop(m);
    }
}
