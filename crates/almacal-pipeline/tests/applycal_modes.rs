//! applycal against CASA 6.7 for every interp mode (`nearest`, `linear`, `linearflag`, B's
//! `nearest,nearestflag` / `linear,linearflag`), every applymode (`calflag`,
//! `calflagstrict`, `calonly`, `flagonly`, `trial`), gainfield ('' / a field / 'nearest'),
//! an spwmap and calwt off, applying CASA's own solved tables
//! (`refdata/sim_small/casa/sim_small.{bandpass.bcal,phase_int.gcal,flux_inf.fcal}`).
//! Reference: `fixtures/sim_small/casa_applycal_modes.json`
//! (`fixtures/sim_small/casa_applycal_modes.py`).
//!
//! What is compared is input-independent: the applied factor CORRECTED/DATA, the weight
//! factor WEIGHT_out/WEIGHT_in and the output flags. The input is CASA's own split
//! (`refdata/sim_small/casa/sim_small.split.ms`) when present,
//! else the same split made by almacal's prep chain from `refdata/sim_small/sim_small.ms`
//! (`fixtures/recipes/prep/prep.toml`; its flags are identical to CASA's and its data equal
//! within 1.1e-4, prep_stages.rs), so the comparison also runs in CI (force it with
//! `ALMACAL_OWN_SPLIT=1`). Factors to 1e-5
//! relative, weight factors to 1e-5, flags identical.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_core::chunk::VisChunk;
use almacal_pipeline::events::NullObserver;
use almacal_pipeline::{run, RunOptions, Status, TaskRegistry};
use almacal_recipe::{load, LoadOptions};
use serde_json::Value;

type Key = (u64, u32, u32, u32);

fn read(ms: &Path) -> (Vec<VisChunk>, BTreeMap<Key, (usize, usize)>) {
    let chunks: Vec<VisChunk> = ChunkReader::open(&ReadRequest::new(ms))
        .expect("open MS")
        .map(|c| c.expect("chunk"))
        .collect();
    let mut rows = BTreeMap::new();
    for (i, c) in chunks.iter().enumerate() {
        for k in 0..c.nrows() {
            rows.insert(
                (c.time_s[k].to_bits(), c.ant1[k].0, c.ant2[k].0, c.spw.0),
                (i, k),
            );
        }
    }
    (chunks, rows)
}

fn toml_list(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_list).collect::<Vec<_>>().join(", ")
        ),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The applycal stage of one case.
fn case_stage(name: &str, p: &Value, vis: &str, casa: &Path) -> String {
    let tables: Vec<String> = p["gaintable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{:?}", casa.join(t.as_str().unwrap()).display().to_string()))
        .collect();
    let mut s = format!(
        "[stage.{name}]\ntask = \"applycal\"\nvis = \"{vis}\"\ngaintable = [{}]\n",
        tables.join(", ")
    );
    for k in ["gainfield", "interp", "spwmap", "calwt"] {
        if let Some(v) = p.get(k) {
            s += &format!("{k} = {}\n", toml_list(v));
        }
    }
    if let Some(m) = p.get("applymode") {
        s += &format!("applymode = {m}\n");
    }
    s += &format!(
        "output = {{ split = \"{name}.ms\", datacolumn = \"corrected\", keepflags = true, reindex = false }}\n\n"
    );
    s
}

#[test]
fn applycal_modes_match_casa() {
    let Some(raw) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let casa = raw.parent().unwrap().join("casa");
    let reference = common::json(&common::fixture("sim_small/casa_applycal_modes.json"));
    let dir = tempfile::tempdir().unwrap();
    let casa_split = common::casa_split();
    let use_casa_split = casa_split.is_some() && std::env::var_os("ALMACAL_OWN_SPLIT").is_none();
    let casa_split = casa_split.unwrap_or_default();
    let (mut text, vis) = if use_casa_split {
        eprintln!("input: CASA's split {}", casa_split.display());
        (
            format!(
                "[recipe]\nname = \"modes\"\n\n[inputs]\nsplit = {:?}\n\n",
                casa_split.display().to_string()
            ),
            "split",
        )
    } else {
        eprintln!("input: almacal's prep chain on {}", raw.display());
        std::fs::copy(
            raw.parent().unwrap().join("sim_small.antpos.json"),
            dir.path().join("antpos.json"),
        )
        .unwrap();
        let edges = common::json(&casa.join("summary.json"))["flags"]["edge_spw_selection"]
            .as_str()
            .unwrap()
            .to_string();
        let t = std::fs::read_to_string(common::fixture("recipes/prep/prep.toml")).unwrap();
        (
            t.replace("@MS@", &raw.display().to_string())
                .replace("@ANTPOS@", "antpos.json")
                .replace("@EDGES@", &edges)
                .replace("name = \"prep\"", "name = \"modes\"")
                + "\n",
            "prep",
        )
    };
    let cases = reference["cases"].as_object().unwrap();
    for (name, c) in cases {
        text += &case_stage(name, &c["params"], vis, &casa);
    }
    let rp = dir.path().join("modes.toml");
    std::fs::write(&rp, &text).unwrap();
    let r = load(&rp, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let rep = run(
        &r,
        &TaskRegistry::builtin(),
        &RunOptions {
            jobs: 2,
            ..Default::default()
        },
        &NullObserver,
    )
    .expect("run");
    for s in &rep.stages {
        assert_eq!(s.status, Status::Ran, "{}: {}", s.name, s.reason);
    }
    let input = if use_casa_split {
        casa_split
    } else {
        r.workdir.join("prep.split.ms")
    };
    let (in_chunks, in_rows) = read(&input);

    let chans: Vec<usize> = reference["chans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect();
    let ids = &reference["rows"];
    let nsample = ids["time"].as_array().unwrap().len();
    let mut failures = Vec::new();
    for (name, c) in cases {
        let (out_chunks, out_rows) = read(&r.workdir.join(format!("{name}.ms")));
        let (mut worst, mut worst_w, mut flag_mismatch, mut checked, mut flagged) =
            (0.0f64, 0.0f64, 0usize, 0usize, 0usize);
        let mut bad = 0usize;
        for s in 0..nsample {
            let key: Key = (
                ids["time"][s].as_f64().unwrap().to_bits(),
                ids["ant1"][s].as_u64().unwrap() as u32,
                ids["ant2"][s].as_u64().unwrap() as u32,
                ids["spw"][s].as_u64().unwrap() as u32,
            );
            let (ii, ik) = in_rows[&key];
            let (oi, ok) = *out_rows.get(&key).expect("sampled row in our output");
            let (a, b) = (&in_chunks[ii], &out_chunks[oi]);
            for p in 0..2 {
                for (j, &ch) in chans.iter().enumerate() {
                    let cflag = c["flag"][s][p][j].as_bool().unwrap();
                    if cflag != b.flag_rcf[[ok, ch, p]] {
                        flag_mismatch += 1;
                        if flag_mismatch <= 3 {
                            eprintln!(
                                "{name}: flag differs at {key:?} field {} corr {p} chan {ch}: CASA {cflag}",
                                ids["field"][s]
                            );
                        }
                    }
                    if cflag {
                        flagged += 1;
                        continue;
                    }
                    let want = (
                        c["ratio_re"][s][p][j].as_f64().unwrap(),
                        c["ratio_im"][s][p][j].as_f64().unwrap(),
                    );
                    let d0 = a.data_rcf[[ik, ch, p]];
                    let d = b.data_rcf[[ok, ch, p]];
                    if d0.norm() == 0.0 {
                        continue;
                    }
                    let q = d / d0;
                    let diff = ((f64::from(q.re) - want.0).powi(2)
                        + (f64::from(q.im) - want.1).powi(2))
                    .sqrt()
                        / (want.0.hypot(want.1)).max(1e-30);
                    if diff > 1e-5 {
                        bad += 1;
                        if bad <= 3 {
                            eprintln!(
                                "{name}: factor differs at {key:?} field {} corr {p} chan {ch}: CASA {want:?}, ours {q}",
                                ids["field"][s]
                            );
                        }
                    }
                    worst = worst.max(diff);
                    checked += 1;
                }
                let w_want = c["wratio"][s][p].as_f64().unwrap();
                let w0 = f64::from(a.weight_rc[[ik, p]]);
                if w0 > 0.0 && w_want > 0.0 {
                    let w = f64::from(b.weight_rc[[ok, p]]) / w0;
                    worst_w = worst_w.max((w - w_want).abs() / w_want);
                }
            }
        }
        eprintln!(
            "{name:24} {checked} cells, {flagged} flagged: factor rel diff {worst:.2e}, weight factor {worst_w:.2e}, flag mismatches {flag_mismatch}"
        );
        if flag_mismatch > 0 || worst > 1e-5 || worst_w > 1e-5 || checked == 0 {
            failures.push(name.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "cases differing from CASA: {failures:?}"
    );
}
