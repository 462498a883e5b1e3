//! The HTML report from a synthetic workdir: run.json naming CASA's caltables as products, a
//! fluxscale summary, flag counts, a failed stage. Checks sections, QA badges and metrics,
//! that thumbnails exist on disk and that nothing is fetched from the network.

mod common;

use common::casa_table;

fn run_json() -> Option<String> {
    let bp = casa_table("sim_small.bandpass.bcal")?;
    let g = casa_table("sim_small.phase_int.gcal")?;
    let json = serde_json::json!({
        "recipe": "test-recipe",
        "almacal_version": "0.1.0",
        "wall_s": 12.5,
        "stages": [
            {"name": "flags", "task": "flagdata", "status": "ran", "reason": "never run", "wall_s": 0.1,
             "products": [], "summary": {"cells_flagged": 1234}},
            {"name": "bandpass", "task": "bandpass", "status": "ran", "reason": "never run", "wall_s": 1.0,
             "products": [{"kind": "caltable", "path": bp}]},
            {"name": "phase_int", "task": "gaincal", "status": "cached", "reason": "up to date", "wall_s": 0.0,
             "products": [{"kind": "caltable", "path": g}]},
            {"name": "flux", "task": "fluxscale", "status": "ran", "reason": "never run", "wall_s": 0.2,
             "products": [], "summary": {"1": {"fieldName": "J1700-2610",
                "16": {"fluxd": [0.79, 0.0, 0.0, 0.0], "fluxdErr": [0.08, 0.0, 0.0, 0.0], "numSol": [10.0, 0.0, 0.0, 0.0]}}}},
            {"name": "broken", "task": "flagmanager", "status": "failed", "reason": "task <flagmanager> is not implemented", "wall_s": 0.0,
             "products": []},
            {"name": "custom", "task": "renorm", "status": "ran", "reason": "never run", "wall_s": 0.0,
             "products": [], "summary": {"qa": {"score": 0.5, "metric": "renorm scaling"}}}
        ]
    });
    Some(json.to_string())
}

#[test]
fn report_has_sections_scores_tables_and_local_thumbnails() {
    let Some(run) = run_json() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.json"), run).unwrap();
    let t = std::time::Instant::now();
    let page = almacal_plot::write_report(dir.path()).expect("report");
    eprintln!("report in {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    assert_eq!(page, dir.path().join("report/index.html"));
    let html = std::fs::read_to_string(&page).unwrap();
    for id in ["flags", "bandpass", "phase_int", "flux", "broken", "custom"] {
        assert!(html.contains(&format!("id=\"stage-{id}\"")), "section {id}");
    }
    // Failed stage: score 0 (error); the stage's own QA: 0.5 (warning).
    assert!(html.contains("0.00 error"));
    assert!(html.contains("0.50 warning"));
    assert!(html.contains("renorm scaling"));
    // Markup in reasons is escaped.
    assert!(html.contains("task &lt;flagmanager&gt;"));
    // Metrics named with their values.
    assert!(html.contains("bandpass phase RMS"));
    assert!(html.contains("flagged solutions"));
    // Flux-scale table and its 10.1 % scatter → score 0.55 (warning).
    assert!(html.contains("J1700-2610") && html.contains("0.7900"));
    assert!(html.contains("flux-scale scatter"));
    assert!(html.contains("0.55 warning"));
    // Flag summary.
    assert!(html.contains("1234"));
    // Self-contained: no remote resources.
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script"));
    // Every thumbnail exists.
    let mut n = 0;
    for part in html.split("<img src=\"").skip(1) {
        let href = &part[..part.find('"').unwrap()];
        let p = dir.path().join("report").join(href);
        assert!(p.is_file(), "{}", p.display());
        n += 1;
    }
    // bandpass: 4 spws × 2 pages; gains: 2 pages × (phase, amp).
    assert_eq!(n, 12);
}

#[test]
fn report_without_run_json_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = almacal_plot::write_report(dir.path()).unwrap_err();
    assert!(e.to_string().contains("run.json"), "{e}");
}
