//! The caltable subtables: ANTENNA, FIELD, OBSERVATION (copies of the MS's), SPECTRAL_WINDOW
//! (one row per MS spw, solved spws carrying the solution frequency axis, §10.4) and HISTORY.
//! Read from an MS or from a caltable (same columns), written by [`super::write`].

use crate::error::{CasaError, Result};
use crate::table::casacore_lock;
use ndarray::Array2;
use rubbl_casatables::{CasaScalarData, Table, TableOpenMode};
use std::path::Path;

/// One ANTENNA row.
#[derive(Debug, Clone, PartialEq)]
pub struct CalAntenna {
    pub name: String,
    pub station: String,
    pub kind: String,
    pub mount: String,
    pub position_m: [f64; 3],
    pub offset_m: [f64; 3],
    pub dish_diameter_m: f64,
    pub flag_row: bool,
}

/// One FIELD row; directions are `[npoly+1][2]` (rad).
#[derive(Debug, Clone, PartialEq)]
pub struct CalField {
    pub name: String,
    pub code: String,
    pub delay_dir: Vec<[f64; 2]>,
    pub phase_dir: Vec<[f64; 2]>,
    pub reference_dir: Vec<[f64; 2]>,
    pub num_poly: i32,
    pub source_id: i32,
    pub time_s: f64,
    pub flag_row: bool,
}

/// One SPECTRAL_WINDOW row.
#[derive(Debug, Clone, PartialEq)]
pub struct CalSpw {
    pub name: String,
    pub meas_freq_ref: i32,
    pub chan_freq_hz: Vec<f64>,
    pub chan_width_hz: Vec<f64>,
    pub effective_bw_hz: Vec<f64>,
    pub resolution_hz: Vec<f64>,
    pub ref_frequency_hz: f64,
    pub total_bandwidth_hz: f64,
    pub net_sideband: i32,
    pub freq_group: i32,
    pub freq_group_name: String,
    pub if_conv_chain: i32,
    pub flag_row: bool,
}

impl CalSpw {
    pub fn nchan(&self) -> usize {
        self.chan_freq_hz.len()
    }

    /// The single-channel summary CASA writes for an unsolved spw of a G/T table:
    /// mean frequency, summed (signed) widths, summed effective BW and resolution,
    /// FLAG_ROW = True.
    pub fn unsolved_summary(&self) -> Self {
        let n = self.nchan().max(1) as f64;
        let mut s = self.clone();
        s.chan_freq_hz = vec![self.chan_freq_hz.iter().sum::<f64>() / n];
        s.chan_width_hz = vec![self.chan_width_hz.iter().sum()];
        s.effective_bw_hz = vec![self.effective_bw_hz.iter().sum()];
        s.resolution_hz = vec![self.resolution_hz.iter().sum()];
        s.flag_row = true;
        s
    }

    /// The MS channelisation with FLAG_ROW = True (unsolved spw of a B table).
    pub fn unsolved_full(&self) -> Self {
        Self {
            flag_row: true,
            ..self.clone()
        }
    }

    /// A solved spw (§10.4): CHAN_FREQ = solution frequencies, CHAN_WIDTH = EFFECTIVE_BW =
    /// (positive) solution widths, and CASA's quirks RESOLUTION = CHAN_FREQ and
    /// TOTAL_BANDWIDTH = Σ CHAN_FREQ. Other columns stay the MS's.
    pub fn solved(&self, freq_hz: &[f64], width_hz: &[f64]) -> Self {
        Self {
            chan_freq_hz: freq_hz.to_vec(),
            chan_width_hz: width_hz.to_vec(),
            effective_bw_hz: width_hz.to_vec(),
            resolution_hz: freq_hz.to_vec(),
            total_bandwidth_hz: freq_hz.iter().sum(),
            flag_row: false,
            ..self.clone()
        }
    }
}

/// One OBSERVATION row.
#[derive(Debug, Clone, PartialEq)]
pub struct CalObservation {
    pub time_range_s: [f64; 2],
    pub log: Vec<String>,
    pub schedule: Vec<String>,
    pub flag_row: bool,
    pub observer: String,
    pub project: String,
    pub release_date_s: f64,
    pub schedule_type: String,
    pub telescope_name: String,
}

/// One HISTORY row.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub time_s: f64,
    pub observation_id: i32,
    pub message: String,
    pub priority: String,
    pub origin: String,
    pub object_id: i32,
    pub application: String,
    pub cli_command: Vec<String>,
    pub app_params: Vec<String>,
}

/// All subtables of a caltable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalSubtables {
    pub antennas: Vec<CalAntenna>,
    pub fields: Vec<CalField>,
    /// One row per MS spw.
    pub spws: Vec<CalSpw>,
    pub observations: Vec<CalObservation>,
    pub history: Vec<HistoryRow>,
}

pub(crate) fn err(path: &Path, column: &str, e: impl std::fmt::Display) -> CasaError {
    CasaError::Column {
        path: path.display().to_string(),
        column: column.into(),
        msg: crate::error::explain_casacore(&e.to_string()),
    }
}

/// Reading helpers on an open table (the caller holds the casacore lock).
pub(crate) struct Reader<'a> {
    pub t: &'a mut Table,
    pub path: &'a Path,
}

impl Reader<'_> {
    pub fn n(&self) -> usize {
        self.t.n_rows() as usize
    }
    pub fn has(&mut self, col: &str) -> bool {
        self.t
            .column_names()
            .map(|c| c.iter().any(|x| x == col))
            .unwrap_or(false)
    }
    pub fn col<T: CasaScalarData>(&mut self, col: &str) -> Result<Vec<T>> {
        if self.n() == 0 {
            return Ok(Vec::new());
        }
        self.t
            .get_col_as_vec::<T>(col)
            .map_err(|e| err(self.path, col, e))
    }
    pub fn col_or<T: CasaScalarData + Clone>(&mut self, col: &str, default: T) -> Result<Vec<T>> {
        if self.has(col) {
            self.col(col)
        } else {
            Ok(vec![default; self.n()])
        }
    }
    pub fn strings(&mut self, col: &str) -> Result<Vec<String>> {
        if !self.has(col) {
            return Ok(vec![String::new(); self.n()]);
        }
        self.col::<String>(col)
    }
    pub fn cell_vec<T: CasaScalarData>(&mut self, col: &str, row: usize) -> Result<Vec<T>> {
        self.t
            .get_cell_as_vec::<T>(col, row as u64)
            .map_err(|e| err(self.path, col, format!("row {row}: {e}")))
    }
    /// A string-array cell; empty when undefined.
    pub fn strings_cell(&mut self, col: &str, row: usize) -> Vec<String> {
        self.t
            .get_cell_as_vec::<String>(col, row as u64)
            .unwrap_or_default()
    }
}

fn dirs(v: &[f64]) -> Vec<[f64; 2]> {
    v.chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| [c[0], c[1]])
        .collect()
}

fn arr3(v: &[f64]) -> [f64; 3] {
    [
        v.first().copied().unwrap_or(0.0),
        v.get(1).copied().unwrap_or(0.0),
        v.get(2).copied().unwrap_or(0.0),
    ]
}

fn open_sub(base: &Path, name: &str) -> Result<Option<Table>> {
    let p = base.join(name);
    if !p.join("table.dat").is_file() {
        return Ok(None);
    }
    crate::isolate::ensure_safe(&p, crate::isolate::ProbeKind::Tree)?;
    Table::open(crate::table::casa_path(&p), TableOpenMode::Read)
        .map(Some)
        .map_err(|e| CasaError::Open {
            path: p.display().to_string(),
            msg: e.to_string(),
        })
}

impl CalSubtables {
    /// Read ANTENNA, FIELD, SPECTRAL_WINDOW, OBSERVATION (and HISTORY if it has our columns)
    /// under `base` (an MS or a caltable). Takes the casacore lock.
    pub fn read(base: &Path) -> Result<Self> {
        let _guard = casacore_lock();
        Self::read_locked(base, false)
    }

    pub(crate) fn read_locked(base: &Path, with_history: bool) -> Result<Self> {
        let mut out = CalSubtables::default();
        if let Some(mut t) = open_sub(base, "ANTENNA")? {
            let p = base.join("ANTENNA");
            let mut r = Reader {
                t: &mut t,
                path: &p,
            };
            let names = r.strings("NAME")?;
            let stations = r.strings("STATION")?;
            let kinds = r.strings("TYPE")?;
            let mounts = r.strings("MOUNT")?;
            let dish = r.col_or::<f64>("DISH_DIAMETER", 0.0)?;
            let flags = r.col_or::<bool>("FLAG_ROW", false)?;
            for i in 0..r.n() {
                let pos = r.cell_vec::<f64>("POSITION", i)?;
                let off = if r.has("OFFSET") {
                    r.cell_vec::<f64>("OFFSET", i)?
                } else {
                    vec![0.0; 3]
                };
                out.antennas.push(CalAntenna {
                    name: names[i].clone(),
                    station: stations[i].clone(),
                    kind: kinds[i].clone(),
                    mount: mounts[i].clone(),
                    position_m: arr3(&pos),
                    offset_m: arr3(&off),
                    dish_diameter_m: dish[i],
                    flag_row: flags[i],
                });
            }
        }
        if let Some(mut t) = open_sub(base, "FIELD")? {
            let p = base.join("FIELD");
            let mut r = Reader {
                t: &mut t,
                path: &p,
            };
            let names = r.strings("NAME")?;
            let codes = r.strings("CODE")?;
            let npoly = r.col_or::<i32>("NUM_POLY", 0)?;
            let src = r.col_or::<i32>("SOURCE_ID", -1)?;
            let time = r.col_or::<f64>("TIME", 0.0)?;
            let flags = r.col_or::<bool>("FLAG_ROW", false)?;
            for i in 0..r.n() {
                let ph = r.cell_vec::<f64>("PHASE_DIR", i)?;
                let de = if r.has("DELAY_DIR") {
                    r.cell_vec::<f64>("DELAY_DIR", i)?
                } else {
                    ph.clone()
                };
                let re = if r.has("REFERENCE_DIR") {
                    r.cell_vec::<f64>("REFERENCE_DIR", i)?
                } else {
                    ph.clone()
                };
                out.fields.push(CalField {
                    name: names[i].clone(),
                    code: codes[i].clone(),
                    delay_dir: dirs(&de),
                    phase_dir: dirs(&ph),
                    reference_dir: dirs(&re),
                    num_poly: npoly[i],
                    source_id: src[i],
                    time_s: time[i],
                    flag_row: flags[i],
                });
            }
        }
        if let Some(mut t) = open_sub(base, "SPECTRAL_WINDOW")? {
            let p = base.join("SPECTRAL_WINDOW");
            let mut r = Reader {
                t: &mut t,
                path: &p,
            };
            let names = r.strings("NAME")?;
            let mfr = r.col_or::<i32>("MEAS_FREQ_REF", 5)?;
            let reff = r.col_or::<f64>("REF_FREQUENCY", 0.0)?;
            let tbw = r.col_or::<f64>("TOTAL_BANDWIDTH", 0.0)?;
            let nsb = r.col_or::<i32>("NET_SIDEBAND", 0)?;
            let fg = r.col_or::<i32>("FREQ_GROUP", 0)?;
            let fgn = r.strings("FREQ_GROUP_NAME")?;
            let ifc = r.col_or::<i32>("IF_CONV_CHAIN", 0)?;
            let flags = r.col_or::<bool>("FLAG_ROW", false)?;
            for i in 0..r.n() {
                let f = r.cell_vec::<f64>("CHAN_FREQ", i)?;
                let w = r.cell_vec::<f64>("CHAN_WIDTH", i)?;
                let e = if r.has("EFFECTIVE_BW") {
                    r.cell_vec::<f64>("EFFECTIVE_BW", i)?
                } else {
                    w.clone()
                };
                let res = if r.has("RESOLUTION") {
                    r.cell_vec::<f64>("RESOLUTION", i)?
                } else {
                    w.clone()
                };
                out.spws.push(CalSpw {
                    name: names[i].clone(),
                    meas_freq_ref: mfr[i],
                    chan_freq_hz: f,
                    chan_width_hz: w,
                    effective_bw_hz: e,
                    resolution_hz: res,
                    ref_frequency_hz: reff[i],
                    total_bandwidth_hz: tbw[i],
                    net_sideband: nsb[i],
                    freq_group: fg[i],
                    freq_group_name: fgn[i].clone(),
                    if_conv_chain: ifc[i],
                    flag_row: flags[i],
                });
            }
        }
        if let Some(mut t) = open_sub(base, "OBSERVATION")? {
            let p = base.join("OBSERVATION");
            let mut r = Reader {
                t: &mut t,
                path: &p,
            };
            let observer = r.strings("OBSERVER")?;
            let project = r.strings("PROJECT")?;
            let stype = r.strings("SCHEDULE_TYPE")?;
            let tel = r.strings("TELESCOPE_NAME")?;
            let rel = r.col_or::<f64>("RELEASE_DATE", 0.0)?;
            let flags = r.col_or::<bool>("FLAG_ROW", false)?;
            for i in 0..r.n() {
                let tr = r.cell_vec::<f64>("TIME_RANGE", i)?;
                let log = r.strings_cell("LOG", i);
                let sched = r.strings_cell("SCHEDULE", i);
                out.observations.push(CalObservation {
                    time_range_s: [
                        tr.first().copied().unwrap_or(0.0),
                        tr.get(1).copied().unwrap_or(0.0),
                    ],
                    log,
                    schedule: sched,
                    flag_row: flags[i],
                    observer: observer[i].clone(),
                    project: project[i].clone(),
                    release_date_s: rel[i],
                    schedule_type: stype[i].clone(),
                    telescope_name: tel[i].clone(),
                });
            }
        }
        if with_history {
            if let Some(mut t) = open_sub(base, "HISTORY")? {
                let p = base.join("HISTORY");
                let mut r = Reader {
                    t: &mut t,
                    path: &p,
                };
                let time = r.col_or::<f64>("TIME", 0.0)?;
                let obs = r.col_or::<i32>("OBSERVATION_ID", -1)?;
                let msg = r.strings("MESSAGE")?;
                let pri = r.strings("PRIORITY")?;
                let ori = r.strings("ORIGIN")?;
                let oid = r.col_or::<i32>("OBJECT_ID", 0)?;
                let app = r.strings("APPLICATION")?;
                for i in 0..r.n() {
                    out.history.push(HistoryRow {
                        time_s: time[i],
                        observation_id: obs[i],
                        message: msg[i].clone(),
                        priority: pri[i].clone(),
                        origin: ori[i].clone(),
                        object_id: oid[i],
                        application: app[i].clone(),
                        cli_command: r.strings_cell("CLI_COMMAND", i),
                        app_params: r.strings_cell("APP_PARAMS", i),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Subtables for a new caltable of `ms`: MS ANTENNA/FIELD/OBSERVATION copies, and every
    /// spw as unsolved (single-channel summary for G/T, full channelisation for B/Tsys);
    /// solved spws are then replaced with [`CalSpw::solved`].
    pub fn from_ms(ms: &Path, single_channel: bool) -> Result<Self> {
        let mut s = Self::read(ms)?;
        s.spws = s
            .spws
            .iter()
            .map(|w| {
                if single_channel {
                    w.unsolved_summary()
                } else {
                    w.unsolved_full()
                }
            })
            .collect();
        Ok(s)
    }
}

/// `[npoly+1][2]` directions as a C-order (npoly+1, 2) array = casacore [2, npoly+1].
pub(crate) fn dir_array(d: &[[f64; 2]]) -> Array2<f64> {
    let n = d.len().max(1);
    let mut a = Array2::<f64>::zeros((n, 2));
    for (i, v) in d.iter().enumerate() {
        a[[i, 0]] = v[0];
        a[[i, 1]] = v[1];
    }
    a
}
