//! The simulated MS conforms to the MeasurementSet v2 definition: required columns and
//! subtables present with the right element types (read back through almacal-casa, no CASA).

mod common;

use almacal_casa::table::RoTable;
use almacal_core::corr::CorrType;
use almacal_core::ids::SpwId;
use num_complex::Complex32;
use std::path::Path;

/// Element type expected in a column.
#[derive(Clone, Copy, Debug)]
enum Ty {
    B,
    I,
    F,
    D,
    C,
    S,
}

/// Scalar (false) or array (true).
const A: bool = true;
const SC: bool = false;

/// Required columns of the MS v2 main table and subtables (MS v2 definition, casacore
/// MSMainEnums / MS*Enums "required" lists), written out independently of almacal's schema.
const MAIN: &[Col] = &[
    ("TIME", Ty::D, SC),
    ("ANTENNA1", Ty::I, SC),
    ("ANTENNA2", Ty::I, SC),
    ("FEED1", Ty::I, SC),
    ("FEED2", Ty::I, SC),
    ("DATA_DESC_ID", Ty::I, SC),
    ("PROCESSOR_ID", Ty::I, SC),
    ("FIELD_ID", Ty::I, SC),
    ("INTERVAL", Ty::D, SC),
    ("EXPOSURE", Ty::D, SC),
    ("TIME_CENTROID", Ty::D, SC),
    ("SCAN_NUMBER", Ty::I, SC),
    ("ARRAY_ID", Ty::I, SC),
    ("OBSERVATION_ID", Ty::I, SC),
    ("STATE_ID", Ty::I, SC),
    ("UVW", Ty::D, A),
    ("SIGMA", Ty::F, A),
    ("WEIGHT", Ty::F, A),
    ("FLAG", Ty::B, A),
    ("FLAG_ROW", Ty::B, SC),
    ("DATA", Ty::C, A),
];
/// (column, element type, array?)
type Col = (&'static str, Ty, bool);

const SUBTABLES: &[(&str, &[Col])] = &[
    (
        "ANTENNA",
        &[
            ("NAME", Ty::S, SC),
            ("STATION", Ty::S, SC),
            ("TYPE", Ty::S, SC),
            ("MOUNT", Ty::S, SC),
            ("POSITION", Ty::D, A),
            ("OFFSET", Ty::D, A),
            ("DISH_DIAMETER", Ty::D, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "DATA_DESCRIPTION",
        &[
            ("SPECTRAL_WINDOW_ID", Ty::I, SC),
            ("POLARIZATION_ID", Ty::I, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "FEED",
        &[
            ("ANTENNA_ID", Ty::I, SC),
            ("FEED_ID", Ty::I, SC),
            ("SPECTRAL_WINDOW_ID", Ty::I, SC),
            ("TIME", Ty::D, SC),
            ("INTERVAL", Ty::D, SC),
            ("NUM_RECEPTORS", Ty::I, SC),
            ("BEAM_ID", Ty::I, SC),
            ("BEAM_OFFSET", Ty::D, A),
            ("POLARIZATION_TYPE", Ty::S, A),
            ("POL_RESPONSE", Ty::C, A),
            ("POSITION", Ty::D, A),
            ("RECEPTOR_ANGLE", Ty::D, A),
        ],
    ),
    (
        "FIELD",
        &[
            ("NAME", Ty::S, SC),
            ("CODE", Ty::S, SC),
            ("TIME", Ty::D, SC),
            ("NUM_POLY", Ty::I, SC),
            ("DELAY_DIR", Ty::D, A),
            ("PHASE_DIR", Ty::D, A),
            ("REFERENCE_DIR", Ty::D, A),
            ("SOURCE_ID", Ty::I, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "FLAG_CMD",
        &[
            ("TIME", Ty::D, SC),
            ("INTERVAL", Ty::D, SC),
            ("TYPE", Ty::S, SC),
            ("REASON", Ty::S, SC),
            ("LEVEL", Ty::I, SC),
            ("SEVERITY", Ty::I, SC),
            ("APPLIED", Ty::B, SC),
            ("COMMAND", Ty::S, SC),
        ],
    ),
    (
        "HISTORY",
        &[
            ("TIME", Ty::D, SC),
            ("OBSERVATION_ID", Ty::I, SC),
            ("MESSAGE", Ty::S, SC),
            ("PRIORITY", Ty::S, SC),
            ("ORIGIN", Ty::S, SC),
            ("OBJECT_ID", Ty::I, SC),
            ("APPLICATION", Ty::S, SC),
            ("CLI_COMMAND", Ty::S, A),
            ("APP_PARAMS", Ty::S, A),
        ],
    ),
    (
        "OBSERVATION",
        &[
            ("TELESCOPE_NAME", Ty::S, SC),
            ("TIME_RANGE", Ty::D, A),
            ("OBSERVER", Ty::S, SC),
            ("LOG", Ty::S, A),
            ("SCHEDULE_TYPE", Ty::S, SC),
            ("SCHEDULE", Ty::S, A),
            ("PROJECT", Ty::S, SC),
            ("RELEASE_DATE", Ty::D, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "POINTING",
        &[
            ("ANTENNA_ID", Ty::I, SC),
            ("TIME", Ty::D, SC),
            ("INTERVAL", Ty::D, SC),
            ("NAME", Ty::S, SC),
            ("NUM_POLY", Ty::I, SC),
            ("TIME_ORIGIN", Ty::D, SC),
            ("DIRECTION", Ty::D, A),
            ("TARGET", Ty::D, A),
            ("TRACKING", Ty::B, SC),
        ],
    ),
    (
        "POLARIZATION",
        &[
            ("NUM_CORR", Ty::I, SC),
            ("CORR_TYPE", Ty::I, A),
            ("CORR_PRODUCT", Ty::I, A),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "PROCESSOR",
        &[
            ("TYPE", Ty::S, SC),
            ("SUB_TYPE", Ty::S, SC),
            ("TYPE_ID", Ty::I, SC),
            ("MODE_ID", Ty::I, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "SPECTRAL_WINDOW",
        &[
            ("NUM_CHAN", Ty::I, SC),
            ("NAME", Ty::S, SC),
            ("REF_FREQUENCY", Ty::D, SC),
            ("CHAN_FREQ", Ty::D, A),
            ("CHAN_WIDTH", Ty::D, A),
            ("MEAS_FREQ_REF", Ty::I, SC),
            ("EFFECTIVE_BW", Ty::D, A),
            ("RESOLUTION", Ty::D, A),
            ("TOTAL_BANDWIDTH", Ty::D, SC),
            ("NET_SIDEBAND", Ty::I, SC),
            ("IF_CONV_CHAIN", Ty::I, SC),
            ("FREQ_GROUP", Ty::I, SC),
            ("FREQ_GROUP_NAME", Ty::S, SC),
            ("FLAG_ROW", Ty::B, SC),
            ("BBC_NO", Ty::I, SC),
        ],
    ),
    (
        "STATE",
        &[
            ("SIG", Ty::B, SC),
            ("REF", Ty::B, SC),
            ("CAL", Ty::D, SC),
            ("LOAD", Ty::D, SC),
            ("SUB_SCAN", Ty::I, SC),
            ("OBS_MODE", Ty::S, SC),
            ("FLAG_ROW", Ty::B, SC),
        ],
    ),
    (
        "SOURCE",
        &[
            ("SOURCE_ID", Ty::I, SC),
            ("TIME", Ty::D, SC),
            ("INTERVAL", Ty::D, SC),
            ("SPECTRAL_WINDOW_ID", Ty::I, SC),
            ("NUM_LINES", Ty::I, SC),
            ("NAME", Ty::S, SC),
            ("CALIBRATION_GROUP", Ty::I, SC),
            ("CODE", Ty::S, SC),
            ("DIRECTION", Ty::D, A),
            ("PROPER_MOTION", Ty::D, A),
        ],
    ),
    (
        "SYSCAL",
        &[
            ("ANTENNA_ID", Ty::I, SC),
            ("FEED_ID", Ty::I, SC),
            ("SPECTRAL_WINDOW_ID", Ty::I, SC),
            ("TIME", Ty::D, SC),
            ("INTERVAL", Ty::D, SC),
            ("TSYS_SPECTRUM", Ty::F, A),
            ("TSYS", Ty::F, A),
        ],
    ),
];

/// Read row 0 of `col` as type `ty`; an error means the column has another type.
fn check_type(t: &mut RoTable, col: &str, ty: Ty, array: bool) -> Result<(), String> {
    let r = if array {
        match ty {
            Ty::B => t.cell_vec::<bool>(col, 0).map(drop),
            Ty::I => t.cell_vec::<i32>(col, 0).map(drop),
            Ty::F => t.cell_vec::<f32>(col, 0).map(drop),
            Ty::D => t.cell_vec::<f64>(col, 0).map(drop),
            Ty::C => t.cell_vec::<Complex32>(col, 0).map(drop),
            Ty::S => t.cell_vec::<String>(col, 0).map(drop),
        }
    } else {
        match ty {
            Ty::B => t.col::<bool>(col).map(drop),
            Ty::I => t.col::<i32>(col).map(drop),
            Ty::F => t.col::<f32>(col).map(drop),
            Ty::D => t.col::<f64>(col).map(drop),
            Ty::C => t.col::<Complex32>(col).map(drop),
            Ty::S => t.col_string(col).map(drop),
        }
    };
    r.map_err(|e| {
        format!(
            "{}: {col} is not a {}{ty:?} column: {e}",
            t.path(),
            if array { "array " } else { "" }
        )
    })
}

fn check_table(path: &Path, cols: &[Col]) {
    let mut t = RoTable::open(path).unwrap_or_else(|e| panic!("{e}"));
    for &(c, ty, array) in cols {
        assert!(
            t.has_column(c),
            "{} lacks required column {c}",
            path.display()
        );
        if t.nrows() > 0 {
            check_type(&mut t, c, ty, array).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn tiny_ms_has_the_ms_v2_schema_and_alma_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let rep = common::tiny(dir.path(), "tiny.ms", |_| {});
    let ms = &rep.ms;
    check_table(ms, MAIN);
    for (name, cols) in SUBTABLES {
        let p = ms.join(name);
        assert!(p.join("table.dat").is_file(), "subtable {name} missing");
        check_table(&p, cols);
    }
    // casacore marks the MS type in table.info.
    let info = std::fs::read_to_string(ms.join("table.info")).unwrap();
    assert!(info.starts_with("Type = Measurement Set"), "{info}");

    let meta = almacal_casa::read_meta(ms).unwrap();
    assert_eq!(meta.nrows, rep.nrows);
    assert_eq!(meta.antennas.len(), 12);
    assert_eq!(meta.antennas[11].name, "CM12");
    assert!(meta
        .antennas
        .iter()
        .all(|a| a.dish_diameter_m == 7.0 && a.mount == "ALT-AZ"));
    assert_eq!(meta.spws.len(), 24);
    assert_eq!(meta.pols[0].corr_types, vec![CorrType::XX, CorrType::YY]);
    for (id, lsb) in [(16, false), (18, false), (20, true), (22, true)] {
        let s = meta.spw(SpwId(id)).unwrap();
        assert_eq!(s.nchan(), 32);
        assert_eq!(s.chan_width_hz[0] < 0.0, lsb, "spw {id}");
        assert_eq!(s.net_sideband, if lsb { 1 } else { 2 });
        assert!(s.bbc_no.is_some());
    }
    let observed: Vec<u32> = meta.observed_spws().iter().map(|s| s.0).collect();
    assert_eq!(
        observed,
        vec![1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23]
    );
    // DDIDs are assigned to observed spws in id order: science spw 16 is DDID 8.
    assert_eq!(meta.ddids_of_spw(SpwId(16))[0].0, 8);
    let names: Vec<&str> = meta.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["J1924-2914", "J1700-2610", "SgrAstar"]);
    let intents: Vec<String> = meta.scans.iter().flat_map(|s| s.intents.clone()).collect();
    for want in [
        "CALIBRATE_POINTING#ON_SOURCE",
        "CALIBRATE_ATMOSPHERE#HOT",
        "CALIBRATE_BANDPASS#ON_SOURCE",
        "CALIBRATE_FLUX#ON_SOURCE",
        "CALIBRATE_PHASE#ON_SOURCE",
        "OBSERVE_TARGET#ON_SOURCE",
    ] {
        assert!(
            intents.iter().any(|i| i == want),
            "no scan with intent {want}"
        );
    }
    // SYSCAL: one row per antenna, Tsys spw and atmosphere scan, spectra on the Tsys grid.
    let n_atm = meta
        .scans
        .iter()
        .filter(|s| s.intents.iter().any(|i| i.contains("ATMOSPHERE")))
        .count();
    assert_eq!(meta.syscal.len(), 12 * 4 * n_atm);
    for row in &meta.syscal {
        let spec = row.tsys_spectrum.as_ref().expect("TSYS_SPECTRUM");
        assert_eq!(spec.len(), 2);
        assert_eq!(spec[0].len(), meta.spw(row.spw).unwrap().nchan());
        assert!(spec.iter().flatten().all(|&t| (60.0..400.0).contains(&t)));
    }
    assert_eq!(meta.flag_cmds.len(), 3);
    assert!(meta
        .flag_cmds
        .iter()
        .all(|f| !f.applied && f.command.starts_with("antenna='CM")));
    assert_eq!(meta.data_columns, vec!["DATA".to_string()]);

    // Autocorrelations are present; WEIGHT = 1/SIGMA².
    let mut main = RoTable::open(ms).unwrap();
    let a1 = main.col::<i32>("ANTENNA1").unwrap();
    let a2 = main.col::<i32>("ANTENNA2").unwrap();
    assert!(a1.iter().zip(&a2).any(|(a, b)| a == b));
    assert!(a1.iter().zip(&a2).all(|(a, b)| a <= b));
    let w = main.cell_vec::<f32>("WEIGHT", 100).unwrap();
    let s = main.cell_vec::<f32>("SIGMA", 100).unwrap();
    assert!((w[0] * s[0] * s[0] - 1.0).abs() < 1e-5);
}
