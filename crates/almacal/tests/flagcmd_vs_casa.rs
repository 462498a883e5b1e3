//! The flagcmd task against CASA 6.7 (`fixtures/flagcmd/casa_reference.json`, made by
//! `casa_reference.py` beside it) on `refdata/sim_small/sim_small.ms`: for each case (the
//! FLAG_CMD table with useapplied, reason and tablerows; a list file filtered by reason,
//! with a time bound 0.9 ms past a centroid that only CASA's millisecond truncation
//! selects, a channel range past a 1-channel spw's end, and a quack line), the rows whose
//! flags change and their flagged-cell counts are exactly CASA's. Also: action = "list"
//! reports the selected FLAG_CMD rows, action = "plot" draws them, and a reason that
//! matches nothing fails with CASA's message.

mod casa_common;
mod engine_common;

use almacal_casa::table::RoTable;
use almacal_core::flaglayer::FlagLayer;
use serde_json::Value;
use std::path::Path;

fn toml_value(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Run one flagcmd stage (`extra` parameters) on the MS; returns the workdir.
fn run_stage(dir: &Path, ms: &Path, params: &str, plots: bool) -> std::process::Output {
    let recipe = format!(
        "[recipe]\nname = \"flagcmd\"\nworkdir = \"work\"\n\n[inputs]\nraw = \"{}\"\n\n[stage.online]\ntask = \"flagcmd\"\nvis = \"raw\"\n{params}\n",
        ms.display()
    );
    std::fs::write(dir.join("r.toml"), recipe).expect("write recipe");
    let mut args = vec!["run", "r.toml"];
    if !plots {
        args.push("--no-plots");
    }
    engine_common::almacal(dir, &args)
}

/// Per row: (flagged cells of FLAG, ncorr).
fn base_flags(ms: &Path) -> Vec<(Vec<bool>, usize)> {
    let mut pol = RoTable::open(&ms.join("POLARIZATION")).expect("POLARIZATION");
    let ncorr: Vec<i32> = pol.col("NUM_CORR").expect("NUM_CORR");
    let mut dd = RoTable::open(&ms.join("DATA_DESCRIPTION")).expect("DATA_DESCRIPTION");
    let dd_pol: Vec<i32> = dd.col("POLARIZATION_ID").expect("POLARIZATION_ID");
    let mut t = RoTable::open(ms).expect("MS");
    let ddid: Vec<i32> = t.col("DATA_DESC_ID").expect("DATA_DESC_ID");
    (0..t.nrows())
        .map(|r| {
            let f: Vec<bool> = t.cell_vec("FLAG", r).expect("FLAG");
            (
                f,
                ncorr[dd_pol[ddid[r as usize] as usize] as usize] as usize,
            )
        })
        .collect()
}

#[test]
fn flagcmd_cases_match_casa() {
    let Some(refd) = casa_common::refdata("sim_small/sim_small.ms/table.dat") else {
        return;
    };
    let ms = refd.join("sim_small/sim_small.ms");
    let reference: Value = casa_common::reference("fixtures/flagcmd/casa_reference.json");
    let base = base_flags(&ms);
    let list: Vec<String> = reference["list_file"]
        .as_array()
        .expect("list_file")
        .iter()
        .map(|l| l.as_str().expect("line").to_string())
        .collect();
    let mut failures = Vec::new();
    for case in reference["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("commands.txt"), list.join("\n") + "\n").expect("list");
        let mut params: Vec<String> = case["stage"]
            .as_object()
            .expect("stage")
            .iter()
            .map(|(k, v)| format!("{k} = {}", toml_value(v)))
            .collect();
        if case["stage"]["inpmode"] == "list" {
            params.push("inpfile = \"commands.txt\"".into());
        }
        let out = run_stage(dir.path(), &ms, &params.join("\n"), false);
        assert!(
            out.status.success(),
            "{name}: run failed:\n{}\n{}",
            engine_common::stdout(&out),
            engine_common::stderr(&out)
        );
        let layer =
            FlagLayer::decode(&std::fs::read(dir.path().join("work/online.flags")).expect("layer"))
                .expect("decode");
        let mut ours = Vec::new();
        for (row, mask) in layer.iter() {
            let (f, ncorr) = &base[row as usize];
            let after = f
                .iter()
                .enumerate()
                .filter(|(i, b)| **b || mask.get(i / ncorr, i % ncorr))
                .count();
            if after != f.iter().filter(|b| **b).count() {
                ours.push((row, after));
            }
        }
        let theirs: Vec<(u64, usize)> = case["changed_rows"]
            .as_array()
            .expect("changed_rows")
            .iter()
            .map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap() as usize))
            .collect();
        assert!(!theirs.is_empty(), "{name}: the reference flags something");
        if ours != theirs {
            let only_ours: Vec<_> = ours
                .iter()
                .filter(|r| !theirs.contains(r))
                .take(5)
                .collect();
            let only_casa: Vec<_> = theirs
                .iter()
                .filter(|r| !ours.contains(r))
                .take(5)
                .collect();
            failures.push(format!(
                "{name}: {} rows changed (CASA {}); only almacal: {only_ours:?}; only CASA: {only_casa:?}",
                ours.len(),
                theirs.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn flagcmd_list_plot_and_errors() {
    let Some(refd) = casa_common::refdata("sim_small/sim_small.ms/table.dat") else {
        return;
    };
    let ms = refd.join("sim_small/sim_small.ms");
    let mut cmd = RoTable::open(&ms.join("FLAG_CMD")).expect("FLAG_CMD");
    let reasons: Vec<String> = cmd.col("REASON").expect("REASON");
    let commands: Vec<String> = cmd.col("COMMAND").expect("COMMAND");

    // list: the selected rows, as CASA's log lists them.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_stage(
        dir.path(),
        &ms,
        "action = \"list\"\nuseapplied = true",
        false,
    );
    assert!(out.status.success(), "{}", engine_common::stderr(&out));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("work/online.json")).expect("report"),
    )
    .expect("json");
    let listed = report["commands"].as_array().expect("commands");
    assert_eq!(listed.len(), commands.len());
    for (i, c) in listed.iter().enumerate() {
        assert_eq!(c["row"], i);
        assert_eq!(c["reason"], reasons[i].as_str());
        assert_eq!(c["command"], commands[i].as_str());
    }
    assert!(
        !dir.path().join("work/online.flags").exists(),
        "list flags nothing"
    );

    // plot: one bar per command (each names one antenna and one range), drawn.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_stage(
        dir.path(),
        &ms,
        "action = \"plot\"\nuseapplied = true",
        true,
    );
    assert!(out.status.success(), "{}", engine_common::stderr(&out));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("work/online.json")).expect("report"),
    )
    .expect("json");
    let bars = report["bars"].as_array().expect("bars");
    assert_eq!(bars.len(), commands.len());
    assert_eq!(bars[0]["antenna"], "CM03");
    let span = bars[0]["end_s"].as_f64().unwrap() - bars[0]["start_s"].as_f64().unwrap();
    assert!((span - 60.48).abs() < 0.01, "CM03 bar spans {span} s");
    let png = dir.path().join("work/plots/online/flagcmd.png");
    assert!(
        std::fs::metadata(&png).is_ok_and(|m| m.len() > 1000),
        "{} not drawn:\n{}",
        png.display(),
        engine_common::stdout(&out)
    );

    // A reason that matches nothing: CASA's error; unapplied rows only by default.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_stage(dir.path(), &ms, "reason = \"focuserror\"", false);
    assert!(!out.status.success());
    let said = engine_common::stdout(&out) + &engine_common::stderr(&out);
    assert!(
        said.contains("There are no unapplied flags in the input"),
        "{said}"
    );

    // Recipe checks: list mode needs inpfile; table mode takes none.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = |o: &std::process::Output| engine_common::stdout(o) + &engine_common::stderr(o);
    let out = run_stage(dir.path(), &ms, "inpmode = \"list\"", false);
    assert!(!out.status.success());
    assert!(text(&out).contains("needs `inpfile`"), "{}", text(&out));
    let out = run_stage(dir.path(), &ms, "action = \"unapply\"", false);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("`action = \"unapply\"` is a CASA value that is not implemented"),
        "{}",
        text(&out)
    );
}
