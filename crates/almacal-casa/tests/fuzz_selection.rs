//! Fuzz: every CASA selection parser (field, spw with channels, antenna baselines, scan,
//! intent, timerange, uvrange, correlation, observation) resolved against real metadata —
//! the committed NGC5921 MS (VLA), the CASA-made ALMA-like `sim_small` MS of the shared
//! reference data when present, and a degenerate copy (no channels, duplicate and odd names) — returns Ok or Err, never
//! panics, and a resolved selection can be applied to every row. Expressions come from a
//! grammar-ish generator over the syntax's characters, units and the MS's own names.
//! `ALMACAL_FUZZ_SECS=N` runs it for N seconds.

mod common;
#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_casa::meta_read::{read_meta_with_index, MainIndex};
use almacal_casa::selection::{BaselineKind, Selection, SelectionParams};
use almacal_core::ids::DataDescId;
use almacal_core::meta::MsMeta;
use proptest::prelude::*;

struct Ms {
    meta: MsMeta,
    idx: MainIndex,
}

fn load() -> Vec<Ms> {
    let mut out = Vec::new();
    let mut paths = vec![common::fixture("ngc5921/ngc5921.ms")];
    // The CASA-made ALMA-like reference MS (12 antennas, 24 spws, intents), when present.
    paths.extend(common::refdata("sim_small/sim_small.ms"));
    for p in paths {
        let (meta, idx) =
            read_meta_with_index(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push(Ms { meta, idx });
    }
    // Degenerate metadata: the last one with a channel-less spw, renamed antennas and
    // fields (duplicates, empty, pattern characters) and an empty intent.
    let (mut meta, idx) = {
        let m = &out[out.len() - 1];
        (m.meta.clone(), m.idx.clone())
    };
    if let Some(s) = meta.spws.first_mut() {
        s.chan_freq_hz.clear();
        s.chan_width_hz.clear();
        s.effective_bw_hz.clear();
        s.resolution_hz.clear();
    }
    let odd = ["", "*", "CM01", "CM01", "a&b", "1", "~", "é"];
    for (k, a) in meta.antennas.iter_mut().enumerate() {
        a.name = odd[k % odd.len()].to_string();
    }
    for (k, f) in meta.fields.iter_mut().enumerate() {
        f.name = odd[(k + 3) % odd.len()].to_string();
    }
    if let Some(s) = meta.states.first_mut() {
        s.obs_mode.clear();
    }
    out.push(Ms { meta, idx });
    out
}

fn names(meta: &MsMeta) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    v.extend(meta.antennas.iter().map(|a| a.name.clone()));
    v.extend(meta.antennas.iter().map(|a| a.station.clone()));
    v.extend(meta.fields.iter().map(|f| f.name.clone()));
    v.extend(meta.spws.iter().map(|s| s.name.clone()));
    for s in &meta.states {
        v.extend(s.obs_mode.split(',').map(str::to_string));
    }
    v.extend(
        [
            "RR",
            "LL",
            "RL",
            "LR",
            "XX",
            "YY",
            "XY",
            "YX",
            "I",
            "*ON_SOURCE*",
            "CALIBRATE_*",
            "OBSERVE_TARGET#ON_SOURCE",
            "CM",
            "DA",
            "DV",
            "VA",
            "ea",
            "&&*",
        ]
        .map(String::from),
    );
    v.sort();
    v.dedup();
    v
}

fn params(meta: &MsMeta) -> BoxedStrategy<SelectionParams> {
    let expr = fuzz_support::token_string(names(meta), 10);
    // Most cases set one parameter (each parser gets its share), some set several.
    let one = (0usize..9, expr.clone()).prop_map(|(k, e)| {
        let mut p = SelectionParams::default();
        set(&mut p, k, e);
        p
    });
    let several = proptest::collection::vec((0usize..9, expr), 2..5).prop_map(|v| {
        let mut p = SelectionParams::default();
        for (k, e) in v {
            set(&mut p, k, e);
        }
        p
    });
    let kind = proptest::sample::select(vec![
        BaselineKind::All,
        BaselineKind::AutoOnly,
        BaselineKind::CrossOnly,
    ]);
    (prop_oneof![3 => one, 1 => several], kind)
        .prop_map(|(mut p, k)| {
            p.baselines = k;
            p
        })
        .boxed()
}

fn set(p: &mut SelectionParams, k: usize, e: String) {
    let slot = match k {
        0 => &mut p.field,
        1 => &mut p.spw,
        2 => &mut p.antenna,
        3 => &mut p.scan,
        4 => &mut p.intent,
        5 => &mut p.timerange,
        6 => &mut p.uvrange,
        7 => &mut p.correlation,
        _ => &mut p.observation,
    };
    *slot = e;
}

fn exercise(ms: &Ms, p: &SelectionParams) {
    let Ok(sel) = Selection::resolve(&ms.meta, p) else {
        return;
    };
    let _ = p.describe();
    for s in &ms.meta.spws {
        let _ = sel.chans_of(&ms.meta, s.id.0);
    }
    for d in &ms.meta.data_descs {
        let _ = sel.corrs_of(&ms.meta, d.id);
    }
    let _ = sel.corrs_of(&ms.meta, DataDescId(9999));
    let _ = sel.nchan_per_spw(&ms.meta);
    let n = ms.idx.nrows();
    // Every 7th row, with a synthetic uvw, keeps the debug-mode test fast.
    let _ = sel.select_rows(&ms.idx, |r| {
        (r % 7 == 0).then(|| [r as f64, -(r as f64) * 0.5, 1.0])
    });
    for r in (0..n).step_by(97) {
        let _ = sel.row_matches(&ms.idx, r);
        let _ = sel.uv_matches(ms.idx.dd[r], [f64::NAN, 1e300, 0.0]);
    }
}

#[test]
fn fuzz_selection_parsers_never_panic() {
    let all = load();
    // One strategy over the three MSs, so long mode splits its time between them.
    let arms: Vec<BoxedStrategy<(usize, SelectionParams)>> = all
        .iter()
        .enumerate()
        .map(|(k, ms)| params(&ms.meta).prop_map(move |p| (k, p)).boxed())
        .collect();
    let strategy = proptest::strategy::Union::new(arms);
    fuzz_support::fuzz("selection", strategy, |(k, p)| {
        exercise(&all[k], &p);
        Ok(())
    });
}
