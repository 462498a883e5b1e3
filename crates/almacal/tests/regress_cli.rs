//! `almacal regress` on the tutorial recipe run on the `tiny` simulation: a reference made
//! with `--update` passes, and a deliberately perturbed solution (bandpass amplitudes × 1.01
//! written back into the caltable product) makes it fail with exit code 7, a readable diff
//! naming the regressed metrics, and JUnit XML with failures.

use almacal_casa::caltable::{read_caltable, write_caltable, CalParams};

mod cli_common;
use cli_common::{almacal, tiny_setup};

#[test]
fn regress_passes_then_catches_a_perturbed_solver() {
    let tmp = tiny_setup(false);
    let dir = tmp.path();
    let (code, out) = almacal(
        &[
            "regress",
            "alma-manual-calibration.toml",
            "--reference",
            "ref.json",
            "--update",
        ],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ref.json")).unwrap()).unwrap();
    let metrics = reference["metrics"].as_object().unwrap();
    // Every kind of product is covered.
    for family in [
        "bandpass/",
        "phase_int/",
        "ampli_inf/",
        "flux_inf/J1700-2610/",
        "initial_flags/flag_fraction",
        "apply/SgrAstar/",
    ] {
        assert!(
            metrics.keys().any(|k| k.starts_with(family)),
            "no metric for {family}"
        );
    }
    // Unchanged products pass (cached run).
    let (code, out) = almacal(
        &[
            "regress",
            "alma-manual-calibration.toml",
            "--reference",
            "ref.json",
            "--junit",
            "ok.xml",
        ],
        dir,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("regress: OK"), "{out}");
    // Perturb the bandpass solutions by 1 % in amplitude.
    let bp = dir.join("work/alma-manual-calibration/bandpass.cal");
    let mut table = read_caltable(&bp).unwrap();
    for row in &mut table.rows {
        if let CalParams::Complex(a) = &mut row.params {
            a.mapv_inplace(|v| v * 1.01);
        }
    }
    let perturbed = dir.join("bandpass.perturbed.cal");
    write_caltable(&perturbed, &table).unwrap();
    std::fs::remove_dir_all(&bp).unwrap();
    std::fs::rename(&perturbed, &bp).unwrap();
    let (code, out) = almacal(
        &[
            "regress",
            "alma-manual-calibration.toml",
            "--reference",
            "ref.json",
            "--no-run",
            "--junit",
            "bad.xml",
        ],
        dir,
    );
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("REGRESSED bandpass/"), "{out}");
    let xml = std::fs::read_to_string(dir.join("bad.xml")).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
    assert!(!xml.contains("failures=\"0\""));
}
