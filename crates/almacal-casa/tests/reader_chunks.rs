//! The chunked reader: every selected row exactly once, chunks never split a timestamp and
//! stay within one (DDID, field, scan), channel/correlation subsets equal the full cells,
//! and the threaded stream gives the same chunks as the in-thread reader.

mod common;

use almacal_casa::reader::{spawn_reader, ChunkReader, ReadRequest};
use almacal_casa::selection::SelectionParams;
use std::collections::BTreeSet;

#[test]
fn whole_column_in_bounded_chunks() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let mut req = ReadRequest::new(&ms);
    req.chunk_rows = 1000;
    let mut seen = BTreeSet::new();
    let mut max_rows = 0;
    for chunk in ChunkReader::open(&req).unwrap() {
        let c = chunk.unwrap();
        max_rows = max_rows.max(c.nrows());
        assert!(c.nrows() <= 1000);
        assert_eq!(c.data_rcf.dim(), (c.nrows(), 63, 2));
        for &r in &c.rows {
            assert!(seen.insert(r), "row {r} read twice");
        }
        // Rows are in MS order within a chunk.
        assert!(c.rows.windows(2).all(|w| w[0] < w[1]));
    }
    assert_eq!(seen.len(), 22_653);
    assert!(
        max_rows > 500,
        "chunks should be near the bound, got {max_rows}"
    );
}

#[test]
fn chunks_do_not_split_timestamps() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let mut req = ReadRequest::new(&ms);
    req.chunk_rows = 700; // not a multiple of the 351 baselines + 27 autocorrelations
    let mut last_times: Vec<(i32, u64)> = Vec::new();
    for chunk in ChunkReader::open(&req).unwrap() {
        let c = chunk.unwrap();
        let first = c.time_s[0].to_bits();
        if let Some(&(scan, prev_last)) = last_times.last() {
            if scan == c.scan {
                assert_ne!(first, prev_last, "a timestamp was split across chunks");
            }
        }
        last_times.push((c.scan, c.time_s[c.nrows() - 1].to_bits()));
    }
}

#[test]
fn channel_and_correlation_subsets_match_full_cells() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let full: Vec<_> = ChunkReader::open(&ReadRequest::new(&ms))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let mut req = ReadRequest::new(&ms);
    req.selection = SelectionParams {
        spw: "0:6~56".into(),
        correlation: "LL".into(),
        field: "1".into(),
        ..Default::default()
    };
    let mut n = 0;
    for chunk in spawn_reader(req, 2).unwrap() {
        let c = chunk.unwrap();
        assert_eq!(c.chans, (6..=56).collect::<Vec<_>>());
        assert_eq!(c.corrs, vec![1]);
        for (k, &row) in c.rows.iter().enumerate() {
            let (fc, fk) = full
                .iter()
                .find_map(|f| f.rows.iter().position(|&r| r == row).map(|i| (f, i)))
                .expect("row present in full read");
            for ci in 0..c.chans.len() {
                assert_eq!(c.data_rcf[[k, ci, 0]], fc.data_rcf[[fk, ci + 6, 1]]);
                assert_eq!(c.flag_rcf[[k, ci, 0]], fc.flag_rcf[[fk, ci + 6, 1]]);
            }
            assert_eq!(c.weight_rc[[k, 0]], fc.weight_rc[[fk, 1]]);
            n += 1;
        }
    }
    assert_eq!(n, 5292, "field 1 rows");
}

#[test]
fn bad_column_and_bad_selection_are_errors() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    let mut req = ReadRequest::new(&ms);
    req.column = "CORRECTED_DATA".into();
    let err = spawn_reader(req, 2)
        .err()
        .expect("no CORRECTED_DATA in the fixture");
    assert!(err.to_string().contains("CORRECTED_DATA"), "{err}");
    let mut req = ReadRequest::new(&ms);
    req.selection.spw = "3".into();
    let err = ChunkReader::open(&req).err().expect("spw 3 does not exist");
    assert!(err.to_string().contains("spws are 0"), "{err}");
}

#[test]
fn bulk_reads_equal_per_cell_reads() {
    let ms = common::fixture("ngc5921/ngc5921.ms");
    for spw in ["", "0:5~40"] {
        let mut req = ReadRequest::new(&ms);
        req.chunk_rows = 900;
        req.selection = SelectionParams {
            spw: spw.into(),
            correlation: if spw.is_empty() { "" } else { "LL" }.into(),
            ..Default::default()
        };
        let bulk: Vec<_> = ChunkReader::open(&req)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let cells: Vec<_> = ChunkReader::open(&req)
            .unwrap()
            .per_cell()
            .map(|c| c.unwrap())
            .collect();
        assert_eq!(bulk.len(), cells.len());
        assert!(bulk.len() > 10);
        for (a, b) in bulk.iter().zip(&cells) {
            assert_eq!(a.rows, b.rows);
            assert_eq!(a.data_rcf, b.data_rcf);
            assert_eq!(a.flag_rcf, b.flag_rcf);
            assert_eq!(a.weight_rc, b.weight_rc);
            assert_eq!(a.sigma_rc, b.sigma_rc);
            assert_eq!(a.uvw_m, b.uvw_m);
            assert_eq!(a.time_s, b.time_s);
            assert_eq!(a.ant2, b.ant2);
        }
        // Not all equal by accident: the data vary and some flags are set.
        let a = &bulk[3];
        assert!(a.data_rcf.iter().any(|z| *z != a.data_rcf[[0, 0, 0]]));
    }
}
