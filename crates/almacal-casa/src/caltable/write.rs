//! Writing a [`CalTable`] in CASA 6.7's NewCalTable layout (algorithms.md §10.6): main table
//! with units/measure keywords, table keywords, subtables linked as table keywords, and the
//! `table.info` type 'Calibration' / subType = VisCal. Refuses to overwrite.

use super::schema::{
    antenna_desc, field_desc, freq_measinfo, history_desc, main_desc, measinfo, observation_desc,
    spw_desc, units,
};
use super::subtables::{dir_array, CalSubtables};
use super::{CalParams, CalRow, CalTable};
use crate::error::{CasaError, Result};
use crate::table::casacore_lock;
use crate::write_table::WriteTable;
use ndarray::Array2;
use rubbl_casatables::{CasaDataType, Table, TableCreateMode, TableDesc, TableError};
use std::path::Path;

fn werr(path: &Path, what: &str, e: impl std::fmt::Display) -> CasaError {
    CasaError::Invalid {
        path: path.display().to_string(),
        msg: format!("writing {what}: {e}"),
    }
}

/// casacore [npar, nchan] ↔ rubbl's C-order (nchan, npar).
fn c_order<T: Clone>(a: &Array2<T>) -> Array2<T> {
    a.t().as_standard_layout().into_owned()
}

fn put<T: CasaDataType>(t: &mut Table, path: &Path, col: &str, row: usize, v: &T) -> Result<()> {
    t.put_cell(col, row as u64, v)
        .map_err(|e| werr(path, &format!("{col} row {row}"), e))
}

fn create(path: &Path, desc: TableDesc, n: usize) -> Result<WriteTable> {
    Table::new(
        crate::table::casa_path(path),
        desc,
        n,
        TableCreateMode::NewNoReplace,
    )
    .map(|t| WriteTable::new(t, path))
    .map_err(|e| werr(path, "table", e))
}

/// The last guard before a solution is written: a NaN/inf parameter is written flagged,
/// whatever its FLAG said, so no non-finite solution is ever applied.
fn guarded_flags(r: &CalRow) -> Array2<bool> {
    let mut flag = r.flag.clone();
    match &r.params {
        CalParams::Complex(a) => {
            for (f, v) in flag.iter_mut().zip(a.iter()) {
                *f |= !(v.re.is_finite() && v.im.is_finite());
            }
        }
        CalParams::Float(a) => {
            for (f, v) in flag.iter_mut().zip(a.iter()) {
                *f |= !v.is_finite();
            }
        }
    }
    flag
}

fn validate(path: &Path, t: &CalTable) -> Result<()> {
    let bad = |msg: String| {
        Err(CasaError::Invalid {
            path: path.display().to_string(),
            msg,
        })
    };
    for (i, r) in t.rows.iter().enumerate() {
        if r.params.par_type() != t.keywords.par_type {
            return bad(format!(
                "row {i}: parameter type differs from ParType {}",
                t.keywords.par_type.keyword()
            ));
        }
        let s = r.params.shape();
        if r.paramerr.dim() != s
            || r.flag.dim() != s
            || r.snr.dim() != s
            || r.weight.as_ref().is_some_and(|w| w.dim() != s)
        {
            return bad(format!(
                "row {i}: PARAMERR/FLAG/SNR/WEIGHT shapes differ from the parameters {s:?}"
            ));
        }
        if r.spw_id < 0 || r.spw_id as usize >= t.sub.spws.len() {
            return bad(format!(
                "row {i}: SPECTRAL_WINDOW_ID {} has no SPECTRAL_WINDOW row",
                r.spw_id
            ));
        }
    }
    Ok(())
}

fn write_subtables(
    path: &Path,
    sub: &CalSubtables,
) -> std::result::Result<Vec<(&'static str, WriteTable)>, CasaError> {
    let mut out = Vec::new();
    let e = |w: &str, x: TableError| werr(path, w, x);
    // ANTENNA
    let p = path.join("ANTENNA");
    let mut t = create(
        &p,
        antenna_desc().map_err(|x| e("ANTENNA desc", x))?,
        sub.antennas.len(),
    )?;
    for c in ["OFFSET", "POSITION"] {
        t.put_column_keyword(c, "QuantumUnits", &units(&["m", "m", "m"]))
            .map_err(|x| werr(&p, c, x))?;
        let m = measinfo("position", "ITRF").map_err(|x| e("MEASINFO", x))?;
        t.put_column_keyword(c, "MEASINFO", &m)
            .map_err(|x| werr(&p, c, x))?;
    }
    t.put_column_keyword("DISH_DIAMETER", "QuantumUnits", &units(&["m"]))
        .map_err(|x| werr(&p, "DISH_DIAMETER", x))?;
    for (i, a) in sub.antennas.iter().enumerate() {
        put(&mut t, &p, "OFFSET", i, &a.offset_m.to_vec())?;
        put(&mut t, &p, "POSITION", i, &a.position_m.to_vec())?;
        put(&mut t, &p, "TYPE", i, &a.kind)?;
        put(&mut t, &p, "DISH_DIAMETER", i, &a.dish_diameter_m)?;
        put(&mut t, &p, "FLAG_ROW", i, &a.flag_row)?;
        put(&mut t, &p, "MOUNT", i, &a.mount)?;
        put(&mut t, &p, "NAME", i, &a.name)?;
        put(&mut t, &p, "STATION", i, &a.station)?;
    }
    out.push(("ANTENNA", t));
    // FIELD
    let p = path.join("FIELD");
    let mut t = create(
        &p,
        field_desc().map_err(|x| e("FIELD desc", x))?,
        sub.fields.len(),
    )?;
    for c in ["DELAY_DIR", "PHASE_DIR", "REFERENCE_DIR"] {
        t.put_column_keyword(c, "QuantumUnits", &units(&["rad", "rad"]))
            .map_err(|x| werr(&p, c, x))?;
        let m = measinfo("direction", "J2000").map_err(|x| e("MEASINFO", x))?;
        t.put_column_keyword(c, "MEASINFO", &m)
            .map_err(|x| werr(&p, c, x))?;
    }
    t.put_column_keyword("TIME", "QuantumUnits", &units(&["s"]))
        .map_err(|x| werr(&p, "TIME", x))?;
    let m = measinfo("epoch", "UTC").map_err(|x| e("MEASINFO", x))?;
    t.put_column_keyword("TIME", "MEASINFO", &m)
        .map_err(|x| werr(&p, "TIME", x))?;
    for (i, f) in sub.fields.iter().enumerate() {
        put(&mut t, &p, "DELAY_DIR", i, &dir_array(&f.delay_dir))?;
        put(&mut t, &p, "PHASE_DIR", i, &dir_array(&f.phase_dir))?;
        put(&mut t, &p, "REFERENCE_DIR", i, &dir_array(&f.reference_dir))?;
        put(&mut t, &p, "CODE", i, &f.code)?;
        put(&mut t, &p, "FLAG_ROW", i, &f.flag_row)?;
        put(&mut t, &p, "NAME", i, &f.name)?;
        put(&mut t, &p, "NUM_POLY", i, &f.num_poly)?;
        put(&mut t, &p, "SOURCE_ID", i, &f.source_id)?;
        put(&mut t, &p, "TIME", i, &f.time_s)?;
    }
    out.push(("FIELD", t));
    // SPECTRAL_WINDOW
    let p = path.join("SPECTRAL_WINDOW");
    let mut t = create(
        &p,
        spw_desc().map_err(|x| e("SPECTRAL_WINDOW desc", x))?,
        sub.spws.len(),
    )?;
    for c in [
        "CHAN_FREQ",
        "REF_FREQUENCY",
        "CHAN_WIDTH",
        "EFFECTIVE_BW",
        "RESOLUTION",
        "TOTAL_BANDWIDTH",
    ] {
        t.put_column_keyword(c, "QuantumUnits", &units(&["Hz"]))
            .map_err(|x| werr(&p, c, x))?;
    }
    for c in ["CHAN_FREQ", "REF_FREQUENCY"] {
        let m = freq_measinfo().map_err(|x| e("MEASINFO", x))?;
        t.put_column_keyword(c, "MEASINFO", &m)
            .map_err(|x| werr(&p, c, x))?;
    }
    for (i, s) in sub.spws.iter().enumerate() {
        put(&mut t, &p, "MEAS_FREQ_REF", i, &s.meas_freq_ref)?;
        put(&mut t, &p, "CHAN_FREQ", i, &s.chan_freq_hz)?;
        put(&mut t, &p, "REF_FREQUENCY", i, &s.ref_frequency_hz)?;
        put(&mut t, &p, "CHAN_WIDTH", i, &s.chan_width_hz)?;
        put(&mut t, &p, "EFFECTIVE_BW", i, &s.effective_bw_hz)?;
        put(&mut t, &p, "RESOLUTION", i, &s.resolution_hz)?;
        put(&mut t, &p, "FLAG_ROW", i, &s.flag_row)?;
        put(&mut t, &p, "FREQ_GROUP", i, &s.freq_group)?;
        put(&mut t, &p, "FREQ_GROUP_NAME", i, &s.freq_group_name)?;
        put(&mut t, &p, "IF_CONV_CHAIN", i, &s.if_conv_chain)?;
        put(&mut t, &p, "NAME", i, &s.name)?;
        put(&mut t, &p, "NET_SIDEBAND", i, &s.net_sideband)?;
        put(&mut t, &p, "NUM_CHAN", i, &(s.chan_freq_hz.len() as i32))?;
        put(&mut t, &p, "TOTAL_BANDWIDTH", i, &s.total_bandwidth_hz)?;
    }
    out.push(("SPECTRAL_WINDOW", t));
    // OBSERVATION
    let p = path.join("OBSERVATION");
    let mut t = create(
        &p,
        observation_desc().map_err(|x| e("OBSERVATION desc", x))?,
        sub.observations.len(),
    )?;
    for c in ["TIME_RANGE", "RELEASE_DATE"] {
        t.put_column_keyword(c, "QuantumUnits", &units(&["s"]))
            .map_err(|x| werr(&p, c, x))?;
        let m = measinfo("epoch", "UTC").map_err(|x| e("MEASINFO", x))?;
        t.put_column_keyword(c, "MEASINFO", &m)
            .map_err(|x| werr(&p, c, x))?;
    }
    for (i, o) in sub.observations.iter().enumerate() {
        put(&mut t, &p, "TIME_RANGE", i, &o.time_range_s.to_vec())?;
        put(&mut t, &p, "LOG", i, &o.log)?;
        put(&mut t, &p, "SCHEDULE", i, &o.schedule)?;
        put(&mut t, &p, "FLAG_ROW", i, &o.flag_row)?;
        put(&mut t, &p, "OBSERVER", i, &o.observer)?;
        put(&mut t, &p, "PROJECT", i, &o.project)?;
        put(&mut t, &p, "RELEASE_DATE", i, &o.release_date_s)?;
        put(&mut t, &p, "SCHEDULE_TYPE", i, &o.schedule_type)?;
        put(&mut t, &p, "TELESCOPE_NAME", i, &o.telescope_name)?;
    }
    out.push(("OBSERVATION", t));
    // HISTORY
    let p = path.join("HISTORY");
    let mut t = create(
        &p,
        history_desc().map_err(|x| e("HISTORY desc", x))?,
        sub.history.len(),
    )?;
    t.put_column_keyword("TIME", "QuantumUnits", &units(&["s"]))
        .map_err(|x| werr(&p, "TIME", x))?;
    let m = measinfo("epoch", "UTC").map_err(|x| e("MEASINFO", x))?;
    t.put_column_keyword("TIME", "MEASINFO", &m)
        .map_err(|x| werr(&p, "TIME", x))?;
    for (i, h) in sub.history.iter().enumerate() {
        put(&mut t, &p, "APP_PARAMS", i, &h.app_params)?;
        put(&mut t, &p, "CLI_COMMAND", i, &h.cli_command)?;
        put(&mut t, &p, "APPLICATION", i, &h.application)?;
        put(&mut t, &p, "MESSAGE", i, &h.message)?;
        put(&mut t, &p, "OBJECT_ID", i, &h.object_id)?;
        put(&mut t, &p, "OBSERVATION_ID", i, &h.observation_id)?;
        put(&mut t, &p, "ORIGIN", i, &h.origin)?;
        put(&mut t, &p, "PRIORITY", i, &h.priority)?;
        put(&mut t, &p, "TIME", i, &h.time_s)?;
    }
    out.push(("HISTORY", t));
    Ok(out)
}

/// Write `table` as a new CASA caltable directory at `path` (which must not exist).
pub fn write_caltable(path: &Path, table: &CalTable) -> Result<()> {
    validate(path, table)?;
    if path.exists() {
        return Err(CasaError::Invalid {
            path: path.display().to_string(),
            msg: "already exists; refusing to overwrite".into(),
        });
    }
    let _guard = casacore_lock();
    {
        let desc = main_desc(table.keywords.par_type).map_err(|e| werr(path, "description", e))?;
        let mut t = create(path, desc, table.rows.len())?;
        for c in ["TIME", "INTERVAL"] {
            t.put_column_keyword(c, "QuantumUnits", &units(&["s"]))
                .map_err(|e| werr(path, c, e))?;
        }
        let m = measinfo("epoch", "UTC").map_err(|e| werr(path, "MEASINFO", e))?;
        t.put_column_keyword("TIME", "MEASINFO", &m)
            .map_err(|e| werr(path, "TIME", e))?;
        let pcol = match table.keywords.par_type {
            super::ParType::Complex => "CPARAM",
            super::ParType::Float => "FPARAM",
        };
        for (i, r) in table.rows.iter().enumerate() {
            put(&mut t, path, "TIME", i, &r.time_s)?;
            put(&mut t, path, "FIELD_ID", i, &r.field_id)?;
            put(&mut t, path, "SPECTRAL_WINDOW_ID", i, &r.spw_id)?;
            put(&mut t, path, "ANTENNA1", i, &r.antenna1)?;
            put(&mut t, path, "ANTENNA2", i, &r.antenna2)?;
            put(&mut t, path, "INTERVAL", i, &r.interval_s)?;
            put(&mut t, path, "SCAN_NUMBER", i, &r.scan)?;
            put(&mut t, path, "OBSERVATION_ID", i, &r.obs_id)?;
            match &r.params {
                CalParams::Complex(a) => put(&mut t, path, pcol, i, &c_order(a))?,
                CalParams::Float(a) => put(&mut t, path, pcol, i, &c_order(a))?,
            }
            put(&mut t, path, "PARAMERR", i, &c_order(&r.paramerr))?;
            put(&mut t, path, "FLAG", i, &c_order(&guarded_flags(r)))?;
            put(&mut t, path, "SNR", i, &c_order(&r.snr))?;
            if let Some(w) = &r.weight {
                put(&mut t, path, "WEIGHT", i, &c_order(w))?;
            }
        }
        let kw = &table.keywords;
        for (k, v) in [
            ("ParType", kw.par_type.keyword().to_string()),
            ("MSName", kw.ms_name.clone()),
            ("VisCal", kw.viscal.clone()),
            ("PolBasis", kw.pol_basis.clone()),
            ("CASA_Version", kw.casa_version.clone()),
        ] {
            t.put_keyword(k, &v).map_err(|e| werr(path, k, e))?;
        }
        for (name, sub) in write_subtables(path, &table.sub)? {
            // Flushed before rubbl takes it: its last reference goes with the main table.
            let sub = sub.into_flushed().map_err(|e| werr(path, name, e))?;
            t.put_table_keyword(name, sub)
                .map_err(|e| werr(path, name, e))?;
        }
        // Written through a call that catches: a full disk is an error, not an abort.
        t.close().map_err(|e| werr(path, "table", e))?;
    }
    // casacore has flushed and closed everything; now set the table info it does not expose.
    let info = format!("Type = Calibration\nSubType = {}\n", table.keywords.viscal);
    std::fs::write(path.join("table.info"), info).map_err(|e| werr(path, "table.info", e))?;
    Ok(())
}
