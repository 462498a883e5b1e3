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
            FlagMode::FlagCmd { useapplied: true },
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
