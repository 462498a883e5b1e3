//! The `flagmanager` stage on `almacal simulate --preset tiny` data: `save` writes a CASA
//! `.flagversions` directory beside the split (`<vis product>.flagversions`, with a
//! FLAG_VERSION_LIST and `flags.<name>` holding the flags the stage sees, row for row); a
//! second save on the same vis falls back to `<stage>.flagversions` and carries both
//! versions; `list` reports them; `restore` produces a flag layer equal to the saved flags.

use std::path::Path;

use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::table::RoTable;
use almacal_core::flaglayer::FlagLayer;
use almacal_pipeline::events::NullObserver;
use almacal_pipeline::{run, RunOptions, Status, TaskRegistry};
use almacal_recipe::{load, LoadOptions};
use ndarray::Array2;

const RECIPE: &str = r#"
[recipe]
name = "fm"

[inputs]
raw = "tiny.ms"

[stage.autocorr]
task = "flagdata"
vis = "raw"
mode = "manual"
autocorr = true

[stage.sp]
task = "split"
vis = "raw"
outputvis = "tiny.split.ms"
datacolumn = "data"
spw = "16,18"
# Re-indexed (CASA split): spws 16, 18 are 0, 1 of the split.

[stage.save_orig]
task = "flagmanager"
vis = "sp"
mode = "save"
versionname = "Original"
comment = "after split"

[stage.edges]
task = "flagdata"
vis = "sp"
mode = "manual"
spw = "0:0~3,1:28~31"

[stage.save_edges]
task = "flagmanager"
vis = "sp"
mode = "save"
versionname = "edges"

[stage.versions]
task = "flagmanager"
vis = "sp"
mode = "list"

[stage.back]
task = "flagmanager"
vis = "sp"
mode = "restore"
versionname = "edges"
"#;

/// Every row's FLAG cell (shaped like the vis's rows) and FLAG_ROW of a flag-version table.
fn saved(table: &Path, like: &[Array2<bool>]) -> (Vec<Array2<bool>>, Vec<bool>) {
    let mut t = RoTable::open(table).expect("open flag version");
    assert!(t.has_column("FLAG") && t.has_column("FLAG_ROW"));
    assert_eq!(t.nrows() as usize, like.len(), "one row per vis row");
    let flags = like
        .iter()
        .enumerate()
        .map(|(r, l)| {
            let v = t.cell_vec::<bool>("FLAG", r as u64).expect("FLAG cell");
            Array2::from_shape_vec(l.dim(), v).expect("cell shape")
        })
        .collect();
    (flags, t.col("FLAG_ROW").expect("FLAG_ROW"))
}

/// The split's flags per row as read (FLAG OR FLAG_ROW).
fn ms_flags(ms: &Path) -> Vec<Array2<bool>> {
    let n = RoTable::open(ms).unwrap().nrows() as usize;
    let mut out = vec![Array2::from_elem((0, 0), false); n];
    let mut req = ReadRequest::new(ms);
    req.read_data = false;
    for c in ChunkReader::open(&req).unwrap() {
        let c = c.unwrap();
        for (k, &r) in c.rows.iter().enumerate() {
            out[r as usize] = c.flag_rcf.slice(ndarray::s![k, .., ..]).to_owned();
        }
    }
    out
}

fn count(f: &[Array2<bool>]) -> usize {
    f.iter().map(|c| c.iter().filter(|&&x| x).count()).sum()
}

#[test]
fn save_list_restore_on_a_split() {
    let dir = tempfile::tempdir().unwrap();
    let ms = dir.path().join("tiny.ms");
    let cfg = almacal_sim::SimConfig::preset("tiny").unwrap();
    almacal_sim::simulate(cfg, &ms, false, &mut |_| {}).expect("simulate tiny");
    let rp = dir.path().join("fm.toml");
    std::fs::write(&rp, RECIPE).unwrap();
    let r = load(&rp, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
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
    let w = &r.workdir;
    let split = w.join("tiny.split.ms");

    // The first save sits beside the split, where CASA looks.
    let fv = w.join("tiny.split.ms.flagversions");
    assert_eq!(
        std::fs::read_to_string(fv.join("FLAG_VERSION_LIST")).unwrap(),
        "Original : after split\n"
    );
    let split_flags = ms_flags(&split);
    let (orig, orig_row) = saved(&fv.join("flags.Original"), &split_flags);
    assert_eq!(orig, split_flags, "saved flags = the split's flags");
    assert!(
        count(&orig) > 0,
        "autocorrelations are flagged in the split"
    );
    let nrows = orig.len();
    assert!(orig_row.iter().any(|&f| !f));

    // The second save (name taken) is `<stage>.flagversions` and holds both versions.
    let fv2 = w.join("save_edges.flagversions");
    assert_eq!(
        std::fs::read_to_string(fv2.join("FLAG_VERSION_LIST")).unwrap(),
        "Original : after split\nedges : \n"
    );
    let (orig_copy, _) = saved(&fv2.join("flags.Original"), &split_flags);
    assert_eq!(orig_copy, orig);
    let (edges, _) = saved(&fv2.join("flags.edges"), &split_flags);
    // 4 channels × 2 corrs more per unflagged row, for both spws.
    let extra = count(&edges) - count(&orig);
    assert!(extra > 0, "the edge layer is in the saved flags");
    for (a, b) in orig.iter().zip(&edges) {
        assert!(
            a.iter().zip(b.iter()).all(|(x, y)| !x || *y),
            "saved ⊇ base"
        );
        let (nchan, _) = b.dim();
        assert!(b.row(0).iter().all(|&f| f) || b.row(nchan - 1).iter().all(|&f| f));
    }

    // list reports both versions, in order.
    let list = almacal_pipeline_json(&w.join("versions.json"));
    let names: Vec<&str> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Original", "edges"]);

    // restore gives a layer equal to the saved version.
    let layer = FlagLayer::decode(&std::fs::read(w.join("back.flags")).unwrap()).unwrap();
    assert_eq!(layer.nrows(), nrows as u64);
    for (r, cell) in edges.iter().enumerate() {
        let (nchan, ncorr) = cell.dim();
        for c in 0..nchan {
            for p in 0..ncorr {
                let got = layer.row(r as u64).is_some_and(|m| m.get(c, p));
                assert_eq!(got, cell[[c, p]], "row {r} chan {c} corr {p}");
            }
        }
    }

    // Restoring a version nobody saved fails with a clear message.
    let bad = RECIPE.replace(
        "mode = \"restore\"\nversionname = \"edges\"",
        "mode = \"restore\"\nversionname = \"nope\"",
    );
    std::fs::write(&rp, bad).unwrap();
    let r = load(&rp, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let rep = run(
        &r,
        &TaskRegistry::builtin(),
        &RunOptions::default(),
        &NullObserver,
    )
    .unwrap();
    let back = rep.stages.iter().find(|s| s.name == "back").unwrap();
    assert_eq!(back.status, Status::Failed);
    assert!(
        back.reason.contains("no flag version \"nope\""),
        "{}",
        back.reason
    );
}

fn almacal_pipeline_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}
