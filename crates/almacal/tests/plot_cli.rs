//! `almacal plot`, `almacal locate` and `almacal report` through the binary.

use std::path::Path;
use std::process::Command;

fn almacal(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_almacal"))
        .args(args)
        .output()
        .expect("run almacal");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn locate_prints_the_fault_as_one_recipe_command() {
    let dir = tempfile::tempdir().unwrap();
    let ms = dir.path().join("f.ms");
    let ms_s = ms.to_str().unwrap();
    let (ok, _, err) = almacal(&[
        "simulate", "--preset", "tiny", "--out", ms_s, "--fault", "--quiet",
    ]);
    assert!(ok, "{err}");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{ms_s}.truth.json")).unwrap())
            .unwrap();
    let f = &truth["fault"];
    let scans: Vec<String> = f["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let want = format!(
        "{{ mode = \"manual\", antenna = \"{}\", spw = \"{}\", scan = \"{}\" }}",
        f["antenna"].as_str().unwrap(),
        f["spw"],
        scans.join(",")
    );
    let png = dir.path().join("loc.png");
    let (ok, out, err) = almacal(&[
        "locate",
        ms_s,
        "--nsigma",
        "5",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains(&want), "expected {want} in\n{out}");
    assert!(
        out.contains("flagdata(vis='f.ms', mode='manual', antenna='CM05'"),
        "{out}"
    );
    assert!(png.is_file());
    // Plots from the same MS.
    let (ok, out, err) = almacal(&[
        "plot",
        "ants",
        ms_s,
        "--refant",
        "CM12",
        "--out",
        dir.path().join("a.png").to_str().unwrap(),
    ]);
    assert!(ok && out.contains("a.png"), "{err}");
    let (ok, out, err) = almacal(&[
        "plot",
        "tsys",
        ms_s,
        "--average",
        "--out-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(ok && out.lines().count() == 4, "{out}{err}");
    let v = dir.path().join("v.png");
    let (ok, _, err) = almacal(&[
        "plot",
        "vis",
        ms_s,
        "--xaxis",
        "uvdist",
        "--field",
        "0",
        "--avgchannel",
        "all",
        "--out",
        v.to_str().unwrap(),
    ]);
    assert!(ok && v.is_file(), "{err}");
    // Usage errors.
    let (ok, _, err) = almacal(&["plot", "vis", ms_s, "--avgchannel", "many"]);
    assert!(!ok && err.contains("--avgchannel"), "{err}");
    let (ok, _, err) = almacal(&["report", dir.path().to_str().unwrap()]);
    assert!(!ok && err.contains("run.json"), "{err}");
    assert!(Path::new(&format!("{ms_s}.truth.json")).is_file());
}
