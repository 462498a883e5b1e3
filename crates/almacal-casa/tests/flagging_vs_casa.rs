//! flagdata modes against CASA's flag counts for the tutorial's flagging steps on the
//! CASA-made ALMA reference MS (`refdata/sim_small/casa/summary.json`: counts on the split
//! science-spw MS, reproduced here on the raw MS restricted to the science spws).

mod common;

use almacal_casa::flagging::{compute_layer, flag_summary, FlagCommand, FlagMode};
use almacal_casa::selection::SelectionParams;
use almacal_core::flaglayer::FlagLayer;
use std::sync::Arc;

fn cmd(mode: FlagMode, sel: SelectionParams, autocorr: bool) -> FlagCommand {
    FlagCommand {
        mode,
        selection: sel,
        autocorr,
        origin: "test".into(),
    }
}

fn sci() -> SelectionParams {
    SelectionParams {
        spw: "16,18,20,22".into(),
        ..Default::default()
    }
}

#[test]
fn tutorial_flag_steps_match_casa_counts() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let summary = common::json(&ms.parent().unwrap().join("casa/summary.json"));
    let flags = &summary["flags"];

    // Steps 1-3: autocorrelations of the science spws, POINTING/ATMOSPHERE intents,
    // online flags from FLAG_CMD.
    let initial = vec![
        cmd(FlagMode::Manual, sci(), true),
        cmd(
            FlagMode::Manual,
            SelectionParams {
                intent: "*POINTING*,*ATMOSPHERE*".into(),
                ..Default::default()
            },
            false,
        ),
        cmd(
            FlagMode::FlagCmd {
                useapplied: true,
                reason: Vec::new(),
            },
            SelectionParams::default(),
            false,
        ),
    ];
    let (l1, reports) = compute_layer(&ms, &initial, &[]).unwrap();
    assert_eq!(reports.len(), 3);
    let l1 = Arc::new(l1);
    let s = flag_summary(&ms, std::slice::from_ref(&l1), &sci()).unwrap();
    assert_eq!(
        s.total as f64,
        flags["after_split"]["total"].as_f64().unwrap()
    );
    assert_eq!(
        s.flagged as f64,
        flags["after_split"]["flagged"].as_f64().unwrap(),
        "flags after autocorr + intent + online flags"
    );

    // Step 10: shadow.
    let (l2, _) = compute_layer(
        &ms,
        &[cmd(FlagMode::Shadow { tolerance_m: 0.0 }, sci(), false)],
        std::slice::from_ref(&l1),
    )
    .unwrap();
    let l2 = Arc::new(l2);
    let s2 = flag_summary(&ms, &[l1.clone(), l2.clone()], &sci()).unwrap();
    assert_eq!(
        (s2.flagged - s.flagged) as f64,
        flags["shadow_new_flags"].as_f64().unwrap(),
        "new shadow flags"
    );

    // Step 11: edge channels.
    let edge = SelectionParams {
        spw: flags["edge_spw_selection"].as_str().unwrap().into(),
        ..Default::default()
    };
    let (l3, _) = compute_layer(&ms, &[cmd(FlagMode::Manual, edge, false)], &[]).unwrap();
    let s3 = flag_summary(&ms, &[l1, l2, Arc::new(l3)], &sci()).unwrap();
    assert_eq!(
        s3.flagged as f64,
        flags["after_edges"]["flagged"].as_f64().unwrap(),
        "flags after edges"
    );
}

#[test]
fn layers_survive_encoding_and_unflag_clears() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let commands = vec![
        cmd(
            FlagMode::Manual,
            SelectionParams {
                antenna: "*&&&".into(),
                ..Default::default()
            },
            false,
        ),
        cmd(
            FlagMode::Manual,
            SelectionParams {
                spw: "0:0~5".into(),
                ..Default::default()
            },
            false,
        ),
        cmd(
            FlagMode::Unflag,
            SelectionParams {
                spw: "0:0~2".into(),
                ..Default::default()
            },
            false,
        ),
    ];
    let (layer, reports) = compute_layer(&ms, &commands, &[]).unwrap();
    // The 1619 autocorrelation rows keep 60 of 63 channels (unflag cleared 0~2 everywhere),
    // the 21034 cross rows keep channels 3~5.
    let s = flag_summary(&ms, &[Arc::new(layer.clone())], &SelectionParams::default()).unwrap();
    assert_eq!(s.flagged, 1619 * 60 * 2 + 21034 * 3 * 2);
    assert_eq!(reports[0].rows_selected, 1619);
    let back = FlagLayer::decode(&layer.encode()).unwrap();
    assert_eq!(back, layer);
}

// ---- flagdata on calibration tables (issue 16) ----------------------------------------
//
// `fixtures/caltable_flags/casa_reference.json` (casa_reference.py beside it, CASA
// 6.7.0-31): CASA's flagdata run on copies of its own sim_small caltables, one case per
// command list. almacal's `flag_caltable` must flag exactly the same cells, raise where
// CASA raises, and its summary must give CASA's counts.

mod caltable_cases {
    use super::common;
    use almacal_casa::caltable::read_caltable;
    use almacal_casa::flagging::caltable::{caltable_summary, flag_caltable};
    use almacal_casa::flagging::{FlagCommand, FlagMode};
    use almacal_casa::selection::SelectionParams;
    use serde_json::Value;

    fn command(c: &Value, origin: String) -> FlagCommand {
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        let mode = match c["mode"].as_str().unwrap_or("manual") {
            "manual" => FlagMode::Manual,
            "unflag" => FlagMode::Unflag,
            "clip" => FlagMode::Clip {
                minmax: c["clipminmax"]
                    .as_array()
                    .map(|v| (v[0].as_f64().unwrap() as f32, v[1].as_f64().unwrap() as f32)),
                clipoutside: c["clipoutside"].as_bool().unwrap_or(true),
                clipzeros: c["clipzeros"].as_bool().unwrap_or(false),
                // CASA's flagdata default; the reference shows it fails on a caltable.
                datacolumn: c["datacolumn"].as_str().unwrap_or("DATA").to_string(),
            },
            other => panic!("mode {other} not in this test"),
        };
        FlagCommand {
            mode,
            selection: SelectionParams {
                field: s("field"),
                spw: s("spw"),
                antenna: s("antenna"),
                scan: s("scan"),
                intent: s("intent"),
                timerange: s("timerange"),
                correlation: s("correlation"),
                ..Default::default()
            },
            autocorr: c["autocorr"].as_bool().unwrap_or(false),
            origin,
        }
    }

    fn flat_flags(t: &almacal_casa::caltable::CalTable) -> Vec<bool> {
        let mut out = Vec::new();
        for r in &t.rows {
            let (npar, nchan) = r.params.shape();
            for k in 0..npar {
                for c in 0..nchan {
                    out.push(r.flag[[k, c]]);
                }
            }
        }
        out
    }

    #[test]
    fn flagdata_on_caltables_matches_casa() {
        let Some(casa_dir) = common::refdata("sim_small/casa") else {
            return;
        };
        let reference = common::json(&common::fixture("caltable_flags/casa_reference.json"));
        let mut failures = Vec::new();
        let cases = reference["cases"].as_array().expect("cases");
        assert!(cases.len() >= 20, "reference has {} cases", cases.len());
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let path = casa_dir.join(case["table"].as_str().unwrap());
            let mut t = read_caltable(&path).expect("CASA caltable");
            let cmds: Vec<FlagCommand> = case["commands"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, c)| command(c, format!("{name}[{i}]")))
                .collect();
            let shown = path.display().to_string();
            let result = flag_caltable(&mut t, &shown, &cmds);
            if let Some(err) = case["error"].as_str() {
                if result.is_ok() {
                    failures.push(format!("{name}: CASA raised ({err}) but almacal flagged"));
                }
                continue;
            }
            // CASA warns and flags nothing where almacal refuses (correlation outside clip).
            if let Err(e) = &result {
                let unchanged = case["flag_ranges"] == reference_unflagged(&path);
                if unchanged && e.to_string().contains("correlation") {
                    continue;
                }
                failures.push(format!("{name}: almacal failed: {e}"));
                continue;
            }
            let ours = flat_flags(&t);
            let mut theirs = vec![false; ours.len()];
            for r in case["flag_ranges"].as_array().unwrap() {
                let (a, b) = (
                    r[0].as_u64().unwrap() as usize,
                    r[1].as_u64().unwrap() as usize,
                );
                assert!(b <= theirs.len(), "{name}: range beyond the table");
                theirs[a..b].iter_mut().for_each(|x| *x = true);
            }
            let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
            if differ > 0 {
                failures.push(format!(
                    "{name}: {differ} of {} FLAG cells differ (almacal {} flagged, CASA {})",
                    ours.len(),
                    ours.iter().filter(|x| **x).count(),
                    theirs.iter().filter(|x| **x).count()
                ));
                continue;
            }
            let sum = caltable_summary(&t, &shown, &SelectionParams::default()).expect("summary");
            let cs = &case["summary"];
            let pair = |v: &Value| (v[0].as_f64().unwrap() as u64, v[1].as_f64().unwrap() as u64);
            if (sum.flagged, sum.total)
                != (
                    cs["flagged"].as_f64().unwrap() as u64,
                    cs["total"].as_f64().unwrap() as u64,
                )
            {
                failures.push(format!(
                    "{name}: summary total {}/{} vs CASA {}/{}",
                    sum.flagged, sum.total, cs["flagged"], cs["total"]
                ));
            }
            for (key, ours) in [
                ("spw", &sum.spw),
                ("antenna", &sum.antenna),
                ("correlation", &sum.correlation),
            ] {
                for (k, v) in cs[key].as_object().unwrap() {
                    let got = ours.get(k).map(|c| (c.flagged, c.total));
                    if got != Some(pair(v)) {
                        failures.push(format!(
                            "{name}: summary {key} {k}: almacal {got:?}, CASA {:?}",
                            pair(v)
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} cases differ from CASA:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// The FLAG ranges of the unmodified CASA table (as the reference stores them).
    fn reference_unflagged(path: &std::path::Path) -> Value {
        let t = read_caltable(path).expect("CASA caltable");
        let f = flat_flags(&t);
        let mut out = Vec::new();
        let mut start = None;
        for (i, &v) in f.iter().enumerate() {
            match (v, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push(serde_json::json!([s, i]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            out.push(serde_json::json!([s, f.len()]));
        }
        Value::Array(out)
    }
}
