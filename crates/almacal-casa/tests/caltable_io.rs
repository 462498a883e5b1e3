//! Caltable I/O: reading CASA 6.7's own tables from the reference data (schema facts of
//! algorithms.md §10 and the refdata README), rewriting them with our writer and reading
//! back identical content, and round-tripping a synthetic table built from an MS.

mod common;

use almacal_casa::caltable::{
    read_caltable, write_caltable, CalKeywords, CalParams, CalRow, CalSubtables, CalTable, ParType,
    Provenance, CASA_VERSION,
};
use ndarray::Array2;
use num_complex::Complex32;
use std::path::Path;

fn casa_table(name: &str) -> Option<CalTable> {
    let p = common::refdata(&format!("sim_small/casa/{name}"))?;
    Some(read_caltable(&p).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn rewrite_and_compare(name: &str, t: &CalTable) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    write_caltable(&out, t).unwrap();
    let back = read_caltable(&out).unwrap();
    assert_eq!(&back, t, "{name}: rewritten table differs");
    let info = std::fs::read_to_string(out.join("table.info")).unwrap();
    assert!(
        info.contains("Type = Calibration")
            && info.contains(&format!("SubType = {}", t.keywords.viscal))
    );
    // Refuses to overwrite.
    assert!(write_caltable(&out, t).is_err());
}

#[test]
fn reads_casa_gain_tables_and_rewrites_them_identically() {
    for (name, viscal, npar, nrows) in [
        ("sim_small.bpphase.gcal", "G Jones", 2, 576),
        ("sim_small.phase_int.gcal", "G Jones", 2, 0),
        ("sim_small.phase_inf.gcal", "G Jones", 2, 0),
        ("sim_small.ampli_inf.gcal", "T Jones", 1, 288),
        ("sim_small.flux_inf.fcal", "T Jones", 1, 288),
    ] {
        let Some(t) = casa_table(name) else { return };
        assert_eq!(t.keywords.viscal, viscal, "{name}");
        assert_eq!(t.keywords.par_type, ParType::Complex);
        assert_eq!(t.keywords.casa_version, "6.7.0-31");
        assert_eq!(t.keywords.pol_basis, "unknown");
        if nrows > 0 {
            assert_eq!(t.rows.len(), nrows, "{name}");
        }
        for r in &t.rows {
            assert_eq!(r.params.shape(), (npar, 1), "{name}");
            assert_eq!(r.interval_s, 0.0);
            assert!(r.weight.is_none(), "CASA leaves WEIGHT undefined");
        }
        assert_eq!(t.sub.antennas.len(), 12);
        assert_eq!(t.sub.antennas[11].name, "CM12");
        assert_eq!(t.sub.fields.len(), 3);
        assert_eq!(t.sub.spws.len(), 24);
        // Solved G spw: width-weighted mean frequency, positive summed width, CASA quirks.
        let s20 = &t.sub.spws[20];
        assert!(!s20.flag_row);
        assert_eq!(s20.chan_width_hz, vec![1.875e9]);
        assert_eq!(s20.resolution_hz, s20.chan_freq_hz);
        assert_eq!(s20.total_bandwidth_hz, s20.chan_freq_hz[0]);
        // Unsolved LSB spw: single channel, signed summed width, FLAG_ROW.
        assert!(t.sub.spws[21].flag_row);
        assert_eq!(t.sub.spws[21].chan_width_hz, vec![-1.875e9]);
        rewrite_and_compare(name, &t);
    }
}

#[test]
fn reads_casa_bandpass_tsys_and_antpos_tables() {
    let Some(b) = casa_table("sim_small.bandpass.bcal") else {
        return;
    };
    assert_eq!(b.keywords.viscal, "B Jones");
    assert_eq!(b.rows.len(), 48);
    assert_eq!(b.rows[0].params.shape(), (2, 7));
    // 'inf,10ch' on an LSB window: descending CHAN_FREQ, positive CHAN_WIDTH; last bin of 4.
    let s = &b.sub.spws[20];
    assert_eq!(s.chan_freq_hz.len(), 7);
    assert!(s.chan_freq_hz.windows(2).all(|w| w[0] > w[1]));
    assert!(s.chan_width_hz.iter().all(|&w| w > 0.0));
    assert_eq!(s.chan_width_hz[6], 4.0 * 29_296_875.0);
    // Unsolved spws keep the MS channelisation with FLAG_ROW.
    assert_eq!(b.sub.spws[13].chan_freq_hz.len(), 32);
    assert!(b.sub.spws[13].flag_row && b.sub.spws[13].chan_width_hz[0] < 0.0);
    // The last bin holds only edge-flagged channels: flagged for every antenna.
    for r in &b.rows {
        assert!(r.flag[[0, 6]] && r.flag[[1, 6]]);
        assert_eq!(r.antenna2, 11);
    }
    rewrite_and_compare("sim_small.bandpass.bcal", &b);

    let Some(ts) = casa_table("sim_small.tsys") else {
        return;
    };
    assert_eq!(ts.keywords.viscal, "B TSYS");
    assert_eq!(ts.keywords.par_type, ParType::Float);
    assert_eq!(ts.rows[0].params.shape(), (2, 32));
    rewrite_and_compare("sim_small.tsys", &ts);

    let Some(ap) = casa_table("sim_small.antpos") else {
        return;
    };
    assert_eq!(ap.keywords.viscal, "KAntPos Jones");
    assert_eq!(ap.rows[0].params.shape(), (3, 1));
    assert!(ap
        .rows
        .iter()
        .all(|r| r.field_id == -1 && r.scan == -1 && r.time_s == 0.0));
    rewrite_and_compare("sim_small.antpos", &ap);
}

#[test]
fn synthetic_table_from_ms_subtables_round_trips_with_history() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let mut sub = CalSubtables::from_ms(&ms, true).unwrap();
    assert_eq!(sub.spws.len(), 24);
    assert!(sub
        .spws
        .iter()
        .all(|s| s.flag_row && s.chan_freq_hz.len() == 1));
    sub.spws[16] = sub.spws[16].solved(&[345.996e9], &[1.875e9]);
    let prov = Provenance {
        almacal_version: "0.1.0".into(),
        stage: "phase_int".into(),
        fingerprint: "abc123".into(),
        params: vec![
            ("solint".into(), "'int'".into()),
            ("refant".into(), "'CM12'".into()),
        ],
    };
    sub.history = prov.history_rows(5.0e9);
    let mut rows = Vec::new();
    for a in 0..12 {
        let g = Array2::from_shape_fn((2, 1), |(p, _)| {
            Complex32::from_polar(1.0 + 0.01 * a as f32, 0.1 * p as f32)
        });
        rows.push(CalRow {
            time_s: 4.9674e9 + a as f64,
            field_id: 0,
            spw_id: 16,
            antenna1: a,
            antenna2: 11,
            interval_s: 0.0,
            scan: 3,
            obs_id: 0,
            params: CalParams::Complex(g),
            paramerr: Array2::from_elem((2, 1), 0.01),
            flag: Array2::from_shape_fn((2, 1), |(p, _)| a == 4 && p == 1),
            snr: Array2::from_elem((2, 1), 100.0),
            weight: None,
        });
    }
    let t = CalTable {
        keywords: CalKeywords {
            par_type: ParType::Complex,
            ms_name: "sim_small.split.ms".into(),
            viscal: "G Jones".into(),
            pol_basis: "unknown".into(),
            casa_version: CASA_VERSION.into(),
        },
        rows,
        sub,
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ours.gcal");
    write_caltable(&out, &t).unwrap();
    let back = read_caltable(&out).unwrap();
    assert_eq!(back, t);
    assert_eq!(
        back.sub.history[0].app_params,
        vec!["solint='int'", "refant='CM12'"]
    );
    assert!(back.sub.history[0].message.contains("abc123"));
    // A row whose parameter type contradicts ParType is rejected before writing.
    let mut bad = t.clone();
    bad.rows[0].params = CalParams::Float(Array2::zeros((2, 1)));
    assert!(write_caltable(&dir.path().join("bad.gcal"), &bad).is_err());
    assert!(!Path::new(&dir.path().join("bad.gcal")).exists());
}
