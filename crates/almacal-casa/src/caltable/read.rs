//! Reading a CASA NewCalTable (ours or CASA's) into a [`CalTable`]: keywords, all rows with
//! `[npar, nchan]` cells (WEIGHT `None` when undefined), and the subtables incl. HISTORY.

use super::subtables::{err, CalSubtables, Reader};
use super::{CalKeywords, CalParams, CalRow, CalTable, ParType};
use crate::error::{CasaError, Result};
use crate::table::casacore_lock;
use ndarray::Array2;
use num_complex::Complex32;
use rubbl_casatables::{Table, TableOpenMode};
use std::path::Path;

fn kw_string(t: &mut Table, path: &Path, name: &str) -> Result<String> {
    let mut rec = t
        .get_keyword_record()
        .map_err(|e| err(path, "keywords", e))?;
    rec.get_field::<String>(name)
        .map_err(|e| err(path, name, e))
}

/// A `[npar, nchan]` cell. rubbl reports array cells with their scalar type, so cells are
/// read flat (casacore order, first axis fastest) and shaped with the row's spw NUM_CHAN.
fn cell2<T: rubbl_casatables::CasaScalarData + Copy>(
    r: &mut Reader<'_>,
    col: &str,
    row: usize,
    nchan: usize,
) -> Result<Array2<T>> {
    let v = r.cell_vec::<T>(col, row)?;
    shape2(r.path, col, row, v, nchan)
}

fn shape2<T: Copy>(
    path: &Path,
    col: &str,
    row: usize,
    v: Vec<T>,
    nchan: usize,
) -> Result<Array2<T>> {
    if nchan == 0 || !v.len().is_multiple_of(nchan) {
        return Err(err(
            path,
            col,
            format!(
                "row {row}: {} values do not fit NUM_CHAN {nchan} of its spw",
                v.len()
            ),
        ));
    }
    let npar = v.len() / nchan;
    // Flat casacore order is par-fastest: element (p, c) at c * npar + p.
    Ok(Array2::from_shape_fn((npar, nchan), |(p, c)| {
        v[c * npar + p]
    }))
}

/// Why `path` cannot be a calibration table, before casacore is asked: a MeasurementSet
/// (it has a DATA_DESCRIPTION subtable), or a caltable without its SPECTRAL_WINDOW
/// subtable (its rows' channel counts live there).
fn not_a_caltable(path: &Path) -> Option<CasaError> {
    let invalid = |msg: String| CasaError::Invalid {
        path: path.display().to_string(),
        msg,
    };
    if !path.join("table.dat").is_file() {
        return None; // casacore's open error names the path
    }
    if path.join("DATA_DESCRIPTION").join("table.dat").is_file() {
        return Some(invalid(format!(
            "{} is a MeasurementSet, not a calibration table",
            path.display()
        )));
    }
    if !path.join("SPECTRAL_WINDOW").join("table.dat").is_file() {
        return Some(invalid(
            "the SPECTRAL_WINDOW subtable is missing (a calibration table needs it for the \
             channels of each row); the table is incomplete or damaged"
                .into(),
        ));
    }
    None
}

/// Read the caltable at `path`.
pub fn read_caltable(path: &Path) -> Result<CalTable> {
    if let Some(e) = not_a_caltable(path) {
        return Err(e);
    }
    crate::isolate::ensure_safe(path, crate::isolate::ProbeKind::CalTable)?;
    let _guard = casacore_lock();
    let mut t = Table::open(crate::table::casa_path(path), TableOpenMode::Read).map_err(|e| {
        CasaError::Open {
            path: path.display().to_string(),
            msg: e.to_string(),
        }
    })?;
    let viscal = kw_string(&mut t, path, "VisCal")?;
    let par_type = match kw_string(&mut t, path, "ParType")?.as_str() {
        "Complex" => ParType::Complex,
        "Float" => ParType::Float,
        other => {
            return Err(CasaError::Invalid {
                path: path.display().to_string(),
                msg: format!("unknown ParType '{other}'"),
            })
        }
    };
    let keywords = CalKeywords {
        par_type,
        ms_name: kw_string(&mut t, path, "MSName").unwrap_or_default(),
        viscal,
        pol_basis: kw_string(&mut t, path, "PolBasis").unwrap_or_default(),
        casa_version: kw_string(&mut t, path, "CASA_Version").unwrap_or_default(),
    };
    let sub = CalSubtables::read_locked(path, true)?;
    let mut r = Reader { t: &mut t, path };
    let time = r.col::<f64>("TIME")?;
    let field = r.col::<i32>("FIELD_ID")?;
    let spw = r.col::<i32>("SPECTRAL_WINDOW_ID")?;
    let a1 = r.col::<i32>("ANTENNA1")?;
    let a2 = r.col::<i32>("ANTENNA2")?;
    let interval = r.col_or::<f64>("INTERVAL", 0.0)?;
    let scan = r.col_or::<i32>("SCAN_NUMBER", -1)?;
    let obs = r.col_or::<i32>("OBSERVATION_ID", 0)?;
    let mut rows = Vec::with_capacity(r.n());
    for i in 0..r.n() {
        let nchan = usize::try_from(spw[i])
            .ok()
            .and_then(|s| sub.spws.get(s))
            .map(|s| s.nchan())
            .ok_or_else(|| CasaError::Invalid {
                path: path.display().to_string(),
                msg: format!(
                    "row {i}: spw {} is not in the SPECTRAL_WINDOW subtable ({} rows)",
                    spw[i],
                    sub.spws.len()
                ),
            })?;
        let params = match par_type {
            ParType::Complex => CalParams::Complex(cell2::<Complex32>(&mut r, "CPARAM", i, nchan)?),
            ParType::Float => CalParams::Float(cell2::<f32>(&mut r, "FPARAM", i, nchan)?),
        };
        let weight = match r.t.get_cell_as_vec::<f32>("WEIGHT", i as u64) {
            Ok(v) if !v.is_empty() => Some(shape2(path, "WEIGHT", i, v, nchan)?),
            _ => None,
        };
        rows.push(CalRow {
            time_s: time[i],
            field_id: field[i],
            spw_id: spw[i],
            antenna1: a1[i],
            antenna2: a2[i],
            interval_s: interval[i],
            scan: scan[i],
            obs_id: obs[i],
            params,
            paramerr: cell2::<f32>(&mut r, "PARAMERR", i, nchan)?,
            flag: cell2::<bool>(&mut r, "FLAG", i, nchan)?,
            snr: cell2::<f32>(&mut r, "SNR", i, nchan)?,
            weight,
        });
    }
    drop(t);
    Ok(CalTable {
        keywords,
        rows,
        sub,
    })
}
