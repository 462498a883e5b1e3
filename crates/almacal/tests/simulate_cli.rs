//! `almacal simulate` end to end: the tiny preset writes an MS, its truth and antpos
//! files; `almacal listobs` reads it back with the tutorial's scans and intents; bad
//! arguments fail with a usage exit code.

use std::process::Command;

fn almacal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_almacal"))
}

#[test]
fn tiny_preset_then_listobs() {
    let dir = tempfile::tempdir().unwrap();
    let ms = dir.path().join("tiny.ms");
    let out = almacal()
        .args([
            "simulate",
            "--preset",
            "tiny",
            "--antennas",
            "6",
            "--fault",
            "--out",
        ])
        .arg(&ms)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("MB/s"), "{stdout}");
    assert!(dir.path().join("tiny.ms.truth.json").is_file());
    let antpos: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tiny.antpos.json")).unwrap())
            .unwrap();
    assert_eq!(antpos["metadata"]["product_code"], "antposalma");
    assert_eq!(antpos["data"].as_object().unwrap().len(), 6);
    assert_eq!(antpos["data"]["CM01"].as_array().unwrap().len(), 3);

    let lo = almacal().arg("listobs").arg(&ms).output().unwrap();
    assert!(
        lo.status.success(),
        "{}",
        String::from_utf8_lossy(&lo.stderr)
    );
    let text = String::from_utf8_lossy(&lo.stdout);
    for want in [
        "J1924-2914",
        "J1700-2610",
        "SgrAstar",
        "CALIBRATE_BANDPASS#ON_SOURCE",
        "CALIBRATE_ATMOSPHERE#OFF_SOURCE",
        "OBSERVE_TARGET#ON_SOURCE",
        "ALMA_RB_07#BB_3",
    ] {
        assert!(text.contains(want), "listobs lacks {want}:\n{text}");
    }

    // An existing MS is not replaced without --overwrite.
    let again = almacal()
        .args(["simulate", "--preset", "tiny", "--quiet", "--out"])
        .arg(&ms)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    let over = almacal()
        .args([
            "simulate",
            "--preset",
            "tiny",
            "--antennas",
            "3",
            "--quiet",
            "--overwrite",
            "--out",
        ])
        .arg(&ms)
        .output()
        .unwrap();
    assert!(
        over.status.success(),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--preset", "huge"],
        vec!["--preset", "tiny", "--antennas", "13"],
        vec!["--preset", "tiny", "--duration-min", "-3"],
        vec!["--preset", "tiny", "--nchan", "2"],
    ] {
        let out = almacal()
            .arg("simulate")
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("x.ms"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
    }
    assert!(!dir.path().join("x.ms").exists());
}
