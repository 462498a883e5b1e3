//! Tsys and antenna-position application, and the tutorial's prep chain (initial flags,
//! applycal tsys+antpos per field, split of the science spws), against CASA 6.7's output on
//! the reference MS (`fixtures/sim_small/casa_prep.json`, by `casa_prep_reference.py`).

mod common;

use almacal_casa::flagging::{compute_layer, FlagCommand, FlagMode};
use almacal_casa::read_meta;
use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::selection::SelectionParams;
use almacal_core::chunk::VisChunk;
use almacal_core::meta::MsMeta;
use almacal_solve::apply::antpos::AntposTerm;
use almacal_solve::apply::tsys::{FieldChoice, FreqMethod, TsysTerm};
use almacal_solve::apply::{apply_chunk, ApplyMode, ChunkInfo, Term};
use almacal_solve::prep::antpos::offsets_from_positions;
use almacal_solve::prep::tsys::tsys_solutions;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

const SCI: &str = "16,18,20,22";

/// Calibrated rows by (time bits, ant1, ant2, spw): the chunk and the row in it.
type Calibrated = BTreeMap<(u64, u32, u32, u32), (Arc<VisChunk>, usize)>;

fn tsys_term(meta: &MsMeta, map: &[u32], field: Option<i32>, interp: &str) -> TsysTerm {
    let sols = tsys_solutions(&meta.syscal, meta.antennas.len(), &meta.scans, true);
    let freqs: BTreeMap<u32, Vec<f64>> = sols
        .iter()
        .map(|s| (s.spw, meta.spws[s.spw as usize].chan_freq_hz.clone()))
        .collect();
    let (time, freq) = FreqMethod::parse(interp).unwrap();
    let fields = match field {
        Some(f) => FieldChoice::Ids(BTreeSet::from([f])),
        None => FieldChoice::All,
    };
    TsysTerm::new(&sols, freqs, map.to_vec(), fields, time, freq)
}

fn antpos_term(ms: &Path, meta: &MsMeta) -> AntposTerm {
    let text = std::fs::read_to_string(ms.parent().unwrap().join("sim_small.antpos.json")).unwrap();
    let almacal_solve::prep::antpos::AntposFile::Positions(new) =
        almacal_solve::prep::antpos::parse_antpos_json(&text).unwrap()
    else {
        panic!("sim_small.antpos.json holds positions");
    };
    let names: Vec<String> = meta.antennas.iter().map(|a| a.name.clone()).collect();
    let old: Vec<[f64; 3]> = meta.antennas.iter().map(|a| a.position_m).collect();
    AntposTerm {
        offsets_m: offsets_from_positions(&names, &old, &new).0,
        site_itrf_m: old[0],
    }
}

/// Calibrated chunks of one field, keyed by (time bits, ant1, ant2, spw).
fn calibrate(
    ms: &Path,
    meta: &MsMeta,
    field: &str,
    terms: &[(&dyn Term, bool)],
    layers: &[Arc<almacal_core::flaglayer::FlagLayer>],
) -> Calibrated {
    let mut req = ReadRequest::new(ms);
    req.selection = SelectionParams {
        field: field.into(),
        spw: SCI.into(),
        ..Default::default()
    };
    req.flag_layers = layers.to_vec();
    let mut out = BTreeMap::new();
    for chunk in ChunkReader::open(&req).unwrap() {
        let mut c = chunk.unwrap();
        let spw = &meta.spws[c.spw.idx()];
        let freqs: Vec<f64> = c.chans.iter().map(|&k| spw.chan_freq_hz[k]).collect();
        let corrs: Vec<_> = c.corrs.iter().map(|&p| meta.corrs_of(c.dd)[p]).collect();
        let f = &meta.fields[c.field.idx()];
        let info = ChunkInfo {
            spw: c.spw.0,
            field: c.field.0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (f.ra_rad, f.dec_rad),
        };
        apply_chunk(terms, &mut c, &info, ApplyMode::CalFlag);
        let keys: Vec<_> = (0..c.nrows())
            .map(|k| (c.time_s[k].to_bits(), c.ant1[k].0, c.ant2[k].0, c.spw.0))
            .collect();
        let shared = Arc::new(c);
        for (k, key) in keys.into_iter().enumerate() {
            out.insert(key, (Arc::clone(&shared), k));
        }
    }
    out
}

/// Our calibrated row of a CASA sample: its chunk and row index.
fn sampled_row<'a>(s: &Value, ours: &'a Calibrated) -> (&'a Arc<VisChunk>, &'a usize) {
    let key = (
        s["time"].as_f64().unwrap().to_bits(),
        s["ant1"].as_u64().unwrap() as u32,
        s["ant2"].as_u64().unwrap() as u32,
        s["spw"].as_u64().unwrap() as u32,
    );
    let (c, k) = ours.get(&key).expect("sampled row present");
    (c, k)
}

/// Worst relative difference of sampled values, and flag/weight mismatches.
fn compare(
    samples: &[Value],
    ours: &Calibrated,
    chans: &[usize],
    check_flags: bool,
) -> (f64, f64, usize) {
    let (per_chan, worst_w, flags) = compare_per_chan(samples, ours, chans, check_flags);
    (per_chan.into_iter().fold(0.0, f64::max), worst_w, flags)
}

/// As [`compare`], with the worst data difference per sampled channel.
fn compare_per_chan(
    samples: &[Value],
    ours: &Calibrated,
    chans: &[usize],
    check_flags: bool,
) -> (Vec<f64>, f64, usize) {
    let (mut worst, mut worst_w, mut flag_mismatch) = (vec![0.0f64; chans.len()], 0.0f64, 0usize);
    assert!(!samples.is_empty());
    for s in samples {
        let (c, k) = sampled_row(s, ours);
        for p in 0..2 {
            for (j, &ch) in chans.iter().enumerate() {
                let re = s["re"][p][j].as_f64().unwrap();
                let im = s["im"][p][j].as_f64().unwrap();
                let v = c.data_rcf[[*k, ch, p]];
                let d = ((f64::from(v.re) - re).powi(2) + (f64::from(v.im) - im).powi(2)).sqrt();
                let m = (re * re + im * im).sqrt().max(1e-30);
                let cflag = s["flag"][p][j].as_bool().unwrap();
                if check_flags && cflag != c.flag_rcf[[*k, ch, p]] {
                    flag_mismatch += 1;
                }
                if !cflag {
                    worst[j] = worst[j].max(d / m);
                }
            }
            let w = s["weight"][p].as_f64().unwrap();
            if w > 0.0 {
                worst_w = worst_w.max((f64::from(c.weight_rc[[*k, p]]) - w).abs() / w);
            }
        }
    }
    (worst, worst_w, flag_mismatch)
}

/// Sampled float32 values that are not bit-identical to CASA's: (DATA re/im of unflagged
/// samples, of how many; WEIGHT, of how many).
fn bit_mismatches(
    samples: &[Value],
    ours: &Calibrated,
    chans: &[usize],
) -> (usize, usize, usize, usize) {
    let (mut bad, mut n, mut wbad, mut wn) = (0, 0, 0, 0);
    for s in samples {
        let (c, k) = sampled_row(s, ours);
        for p in 0..2 {
            for (j, &ch) in chans.iter().enumerate() {
                if s["flag"][p][j].as_bool().unwrap() {
                    continue;
                }
                let v = c.data_rcf[[*k, ch, p]];
                let re = s["re"][p][j].as_f64().unwrap() as f32;
                let im = s["im"][p][j].as_f64().unwrap() as f32;
                bad += usize::from(v.re.to_bits() != re.to_bits());
                bad += usize::from(v.im.to_bits() != im.to_bits());
                n += 2;
            }
            let w = s["weight"][p].as_f64().unwrap() as f32;
            wbad += usize::from(c.weight_rc[[*k, p]].to_bits() != w.to_bits());
            wn += 1;
        }
    }
    (bad, n, wbad, wn)
}

fn reference() -> Option<(std::path::PathBuf, Value)> {
    let ms = common::refdata("sim_small/sim_small.ms")?;
    let json = common::json(&common::fixture("sim_small/casa_prep.json"));
    Some((ms, json))
}

fn chans(r: &Value) -> Vec<usize> {
    r["chans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect()
}

fn tsysmap(r: &Value) -> Vec<u32> {
    r["tsysspwmap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn tsys_linear_matches_casa() {
    let Some((ms, r)) = reference() else { return };
    let meta = read_meta(&ms).unwrap();
    let tsys = tsys_term(&meta, &tsysmap(&r), Some(1), "linear,linear");
    let ours = calibrate(&ms, &meta, "1", &[(&tsys, true)], &[]);
    let (worst, worst_w, _) = compare(
        r["tsys_linear_field1"].as_array().unwrap(),
        &ours,
        &chans(&r),
        false,
    );
    eprintln!("tsys linear: worst data rel diff {worst:.2e}, weight {worst_w:.2e}");
    assert!(worst < 1e-5, "data differ from CASA by {worst}");
    assert!(worst_w < 1e-5, "weights differ from CASA by {worst_w}");
    // applycal's float32 arithmetic is CASA's (docs/solve-numerics.md): bit for bit.
    let (bad, n, wbad, wn) = bit_mismatches(
        r["tsys_linear_field1"].as_array().unwrap(),
        &ours,
        &chans(&r),
    );
    eprintln!("tsys linear: DATA {bad} of {n}, WEIGHT {wbad} of {wn} differ from CASA's bits");
    assert_eq!(bad + wbad, 0, "not bit-identical to CASA's");
}

#[test]
fn antpos_matches_casa() {
    let Some((ms, r)) = reference() else { return };
    let meta = read_meta(&ms).unwrap();
    let antpos = antpos_term(&ms, &meta);
    let ours = calibrate(&ms, &meta, "2", &[(&antpos, false)], &[]);
    let (worst, _, _) = compare(
        r["antpos_field2"].as_array().unwrap(),
        &ours,
        &chans(&r),
        false,
    );
    eprintln!("antpos: worst data rel diff {worst:.2e}");
    // casacore's baseline route is reproduced to ~2.5e-10 rad (docs/prep-numerics.md): the
    // rest is float32 rounding, 2.8e-7 measured (2.3e-6 with the IAU 2000A nutation, 8e-5
    // with a 2e-6 rad rotation error).
    assert!(worst < 1e-6, "data differ from CASA by {worst}");
}

#[test]
fn prep_chain_matches_casa_split() {
    let Some((ms, r)) = reference() else { return };
    let meta = read_meta(&ms).unwrap();
    let cmd = |mode, sel: SelectionParams, autocorr| FlagCommand {
        mode,
        selection: sel,
        autocorr,
        origin: "t".into(),
    };
    let (layer, _) = compute_layer(
        &ms,
        &[
            cmd(
                FlagMode::Manual,
                SelectionParams {
                    spw: SCI.into(),
                    ..Default::default()
                },
                true,
            ),
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
        ],
        &[],
    )
    .unwrap();
    let layers = [Arc::new(layer)];
    let antpos = antpos_term(&ms, &meta);
    let mut all = BTreeMap::new();
    for f in 0..3 {
        let tsys = tsys_term(&meta, &tsysmap(&r), Some(f), "linear,spline");
        all.extend(calibrate(
            &ms,
            &meta,
            &f.to_string(),
            &[(&tsys, true), (&antpos, false)],
            &layers,
        ));
    }
    let chan_list = chans(&r);
    let (per_chan, worst_w, flags) =
        compare_per_chan(r["split"].as_array().unwrap(), &all, &chan_list, true);
    let first = chan_list.iter().position(|&c| c == 0);
    let worst_edge = first.map_or(0.0, |j| per_chan[j]);
    let worst = (0..per_chan.len())
        .filter(|&j| Some(j) != first)
        .map(|j| per_chan[j])
        .fold(0.0, f64::max);
    eprintln!(
        "prep chain: worst data rel diff {worst:.2e} (channel 0: {worst_edge:.2e}), weight {worst_w:.2e}, flag mismatches {flags}"
    );
    assert_eq!(flags, 0, "flags differ from CASA");
    // Limited by the antpos geometry (see antpos_matches_casa).
    assert!(worst < 1e-6, "data differ from CASA by {worst}");
    // Channel 0 of each spw lies in the first interval of the Tsys grid, where casacore's
    // spline differs from a natural one (apply/spline.rs); reproduced, it is held to the
    // same bound (it was 8.6e-5 with a natural spline).
    assert!(
        worst_edge < 1e-6,
        "channel 0 differs from CASA by {worst_edge}"
    );
    assert!(worst_w < 1e-5, "weights differ from CASA by {worst_w}");
    // WEIGHT bit for bit; DATA where the antenna-position phase is (almacal's w is within
    // 1.1e-8 of casacore's, and all bits need ~1e-12: docs/solve-numerics.md).
    let (bad, n, wbad, wn) = bit_mismatches(r["split"].as_array().unwrap(), &all, &chan_list);
    eprintln!("prep chain: DATA {bad} of {n}, WEIGHT {wbad} of {wn} differ from CASA's bits");
    assert_eq!(wbad, 0, "split weights not bit-identical to CASA's");
    // Measured: 2640 of 15168 differ (w within 1.1e-8 of casacore's; 10911 with the
    // IAU 2000A nutation almacal used before).
    assert!(
        bad * 5 < n,
        "{bad} of {n} DATA values not bit-identical to CASA's (more than 20 %)"
    );
}
