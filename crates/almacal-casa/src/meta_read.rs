//! Reads an MS's subtables (and the main table's scalar columns) into [`MsMeta`].

use crate::error::{CasaError, Result};
use crate::table::RoTable;
use almacal_core::corr::CorrType;
use almacal_core::ids::{AntennaId, DataDescId, FieldId, SpwId};
use almacal_core::meta::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Per-row scalar columns of the main table: what selection and chunking need.
#[derive(Debug, Clone, Default)]
pub struct MainIndex {
    pub time_s: Vec<f64>,
    /// TIME_CENTROID (TIME where the column is absent): what CASA's solvers average.
    pub time_centroid_s: Vec<f64>,
    pub interval_s: Vec<f64>,
    pub ant1: Vec<i32>,
    pub ant2: Vec<i32>,
    pub field: Vec<i32>,
    pub dd: Vec<i32>,
    pub scan: Vec<i32>,
    pub state: Vec<i32>,
    pub obs: Vec<i32>,
    pub array: Vec<i32>,
    pub flag_row: Vec<bool>,
}

impl MainIndex {
    pub fn nrows(&self) -> usize {
        self.time_s.len()
    }
}

/// Read the main table's scalar index columns.
pub fn read_main_index(main: &mut RoTable) -> Result<MainIndex> {
    let n = main.nrows() as usize;
    let zeros = || vec![0i32; n];
    let time_s = main.col::<f64>("TIME")?;
    let time_centroid_s = main
        .col_opt::<f64>("TIME_CENTROID")?
        .filter(|v| v.len() == n)
        .unwrap_or_else(|| time_s.clone());
    Ok(MainIndex {
        time_s,
        time_centroid_s,
        interval_s: main.col::<f64>("INTERVAL")?,
        ant1: main.col::<i32>("ANTENNA1")?,
        ant2: main.col::<i32>("ANTENNA2")?,
        field: main.col::<i32>("FIELD_ID")?,
        dd: main.col::<i32>("DATA_DESC_ID")?,
        scan: main.col::<i32>("SCAN_NUMBER")?,
        state: main.col_opt::<i32>("STATE_ID")?.unwrap_or_else(zeros),
        obs: main.col_opt::<i32>("OBSERVATION_ID")?.unwrap_or_else(zeros),
        array: main.col_opt::<i32>("ARRAY_ID")?.unwrap_or_else(zeros),
        flag_row: main
            .col_opt::<bool>("FLAG_ROW")?
            .unwrap_or_else(|| vec![false; n]),
    })
}

fn required(ms: &Path, name: &str) -> Result<RoTable> {
    RoTable::open_sub(ms, name)?.ok_or_else(|| CasaError::Invalid {
        path: ms.display().to_string(),
        msg: format!("required subtable {name} is missing; is this a MeasurementSet?"),
    })
}

fn read_antennas(ms: &Path) -> Result<Vec<Antenna>> {
    let mut t = required(ms, "ANTENNA")?;
    let names = t.col_string("NAME")?;
    let stations = t.col_string("STATION")?;
    let dish = t.col::<f64>("DISH_DIAMETER")?;
    let mounts = t.col_string("MOUNT")?;
    let flags = t.col::<bool>("FLAG_ROW")?;
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let pos = t.cell_vec::<f64>("POSITION", i as u64)?;
        let position_m = match pos.as_slice() {
            [x, y, z] => [*x, *y, *z],
            _ => {
                return Err(CasaError::Invalid {
                    path: t.path().into(),
                    msg: format!("POSITION of row {i} has {} values, expected 3", pos.len()),
                })
            }
        };
        out.push(Antenna {
            id: AntennaId(i as u32),
            name,
            station: stations[i].clone(),
            position_m,
            dish_diameter_m: dish[i],
            mount: mounts[i].clone(),
            flag_row: flags[i],
        });
    }
    Ok(out)
}

fn read_spws(ms: &Path) -> Result<Vec<SpectralWindow>> {
    let mut t = required(ms, "SPECTRAL_WINDOW")?;
    let names = t.col_string("NAME")?;
    let ref_freq = t.col::<f64>("REF_FREQUENCY")?;
    let total_bw = t.col::<f64>("TOTAL_BANDWIDTH")?;
    let meas = t.col::<i32>("MEAS_FREQ_REF")?;
    let sideband = t.col::<i32>("NET_SIDEBAND")?;
    let flags = t.col::<bool>("FLAG_ROW")?;
    let bbc = t.col_opt::<i32>("BBC_NO")?;
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let r = i as u64;
        let chan_freq_hz = t.cell_vec::<f64>("CHAN_FREQ", r)?;
        let chan_width_hz = t.cell_vec::<f64>("CHAN_WIDTH", r)?;
        let effective_bw_hz = t.cell_vec::<f64>("EFFECTIVE_BW", r)?;
        let resolution_hz = t.cell_vec::<f64>("RESOLUTION", r)?;
        if chan_width_hz.len() != chan_freq_hz.len() {
            return Err(CasaError::Invalid {
                path: t.path().into(),
                msg: format!("spw {i}: CHAN_WIDTH and CHAN_FREQ lengths differ"),
            });
        }
        out.push(SpectralWindow {
            id: SpwId(i as u32),
            name,
            chan_freq_hz,
            chan_width_hz,
            effective_bw_hz,
            resolution_hz,
            ref_freq_hz: ref_freq[i],
            total_bw_hz: total_bw[i],
            meas_freq_ref: meas[i],
            net_sideband: sideband[i],
            bbc_no: bbc.as_ref().map(|b| b[i]),
            flag_row: flags[i],
        });
    }
    Ok(out)
}

fn read_pols(ms: &Path) -> Result<Vec<Polarization>> {
    let mut t = required(ms, "POLARIZATION")?;
    (0..t.nrows())
        .map(|r| {
            let codes = t.cell_vec::<i32>("CORR_TYPE", r)?;
            Ok(Polarization {
                id: r as u32,
                corr_types: codes.into_iter().map(CorrType::from_code).collect(),
            })
        })
        .collect()
}

fn read_data_descs(ms: &Path, nspw: usize) -> Result<Vec<DataDesc>> {
    let mut t = required(ms, "DATA_DESCRIPTION")?;
    let spw = t.col::<i32>("SPECTRAL_WINDOW_ID")?;
    let pol = t.col::<i32>("POLARIZATION_ID")?;
    let flags = t.col::<bool>("FLAG_ROW")?;
    spw.iter()
        .enumerate()
        .map(|(i, &s)| {
            if s < 0 || s as usize >= nspw {
                return Err(CasaError::Invalid {
                    path: t.path().into(),
                    msg: format!("row {i} names spw {s}, but SPECTRAL_WINDOW has {nspw} rows"),
                });
            }
            Ok(DataDesc {
                id: DataDescId(i as u32),
                spw: SpwId(s as u32),
                pol: pol[i].max(0) as u32,
                flag_row: flags[i],
            })
        })
        .collect()
}

fn read_fields(ms: &Path) -> Result<Vec<Field>> {
    let mut t = required(ms, "FIELD")?;
    let names = t.col_string("NAME")?;
    let codes = t.col_string("CODE")?;
    let src = t.col::<i32>("SOURCE_ID")?;
    let mut out = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let dir = t.cell_vec::<f64>("PHASE_DIR", i as u64)?;
        let (ra, dec) = match dir.as_slice() {
            [ra, dec, ..] => (*ra, *dec),
            _ => (0.0, 0.0),
        };
        out.push(Field {
            id: FieldId(i as u32),
            name,
            code: codes[i].clone(),
            ra_rad: ra,
            dec_rad: dec,
            source_id: src[i],
        });
    }
    Ok(out)
}

fn read_sources(ms: &Path) -> Result<Vec<Source>> {
    let Some(mut t) = RoTable::open_sub(ms, "SOURCE")? else {
        return Ok(Vec::new());
    };
    let ids = t.col::<i32>("SOURCE_ID")?;
    let names = t.col_string("NAME")?;
    let spws = t.col::<i32>("SPECTRAL_WINDOW_ID")?;
    Ok(ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Source {
            source_id: id,
            name: names[i].clone(),
            spw_id: spws[i],
        })
        .collect())
}

fn read_observations(ms: &Path) -> Result<Vec<Observation>> {
    let mut t = required(ms, "OBSERVATION")?;
    let tel = t.col_string("TELESCOPE_NAME")?;
    let observer = t.col_string("OBSERVER")?;
    let project = t.col_string("PROJECT")?;
    let mut out = Vec::new();
    for (i, telescope) in tel.into_iter().enumerate() {
        let tr = t.cell_vec::<f64>("TIME_RANGE", i as u64)?;
        out.push(Observation {
            id: i as u32,
            telescope,
            observer: observer[i].clone(),
            project: project[i].clone(),
            time_range_s: [
                tr.first().copied().unwrap_or(0.0),
                tr.get(1).copied().unwrap_or(0.0),
            ],
        });
    }
    Ok(out)
}

fn read_states(ms: &Path) -> Result<Vec<State>> {
    let Some(mut t) = RoTable::open_sub(ms, "STATE")? else {
        return Ok(Vec::new());
    };
    Ok(t.col_string("OBS_MODE")?
        .into_iter()
        .enumerate()
        .map(|(i, obs_mode)| State {
            id: i as u32,
            obs_mode,
        })
        .collect())
}

fn read_syscal(ms: &Path) -> Result<Vec<SysCalRow>> {
    let Some(mut t) = RoTable::open_sub(ms, "SYSCAL")? else {
        return Ok(Vec::new());
    };
    let ant = t.col::<i32>("ANTENNA_ID")?;
    let spw = t.col::<i32>("SPECTRAL_WINDOW_ID")?;
    let time = t.col::<f64>("TIME")?;
    let interval = t.col::<f64>("INTERVAL")?;
    let has_spec = t.has_column("TSYS_SPECTRUM");
    let mut out = Vec::with_capacity(ant.len());
    for i in 0..ant.len() {
        let tsys_spectrum = if has_spec {
            let flat = t.cell_vec::<f32>("TSYS_SPECTRUM", i as u64)?;
            // casacore shape [npol, nchan], first axis fastest.
            let npol = 2.min(flat.len().max(1));
            let nchan = flat.len() / npol;
            Some(
                (0..npol)
                    .map(|p| (0..nchan).map(|c| flat[c * npol + p]).collect())
                    .collect(),
            )
        } else {
            None
        };
        out.push(SysCalRow {
            antenna: AntennaId(ant[i].max(0) as u32),
            spw: SpwId(spw[i].max(0) as u32),
            time_s: time[i],
            interval_s: interval[i],
            tsys_spectrum,
        });
    }
    Ok(out)
}

fn read_flag_cmds(ms: &Path) -> Result<Vec<FlagCmdRow>> {
    let Some(mut t) = RoTable::open_sub(ms, "FLAG_CMD")? else {
        return Ok(Vec::new());
    };
    let time = t.col::<f64>("TIME")?;
    let interval = t.col::<f64>("INTERVAL")?;
    let kind = t.col_string("TYPE")?;
    let reason = t.col_string("REASON")?;
    let level = t.col::<i32>("LEVEL")?;
    let severity = t.col::<i32>("SEVERITY")?;
    let applied = t.col::<bool>("APPLIED")?;
    let command = t.col_string("COMMAND")?;
    Ok((0..time.len())
        .map(|i| FlagCmdRow {
            time_s: time[i],
            interval_s: interval[i],
            kind: kind[i].clone(),
            reason: reason[i].clone(),
            level: level[i],
            severity: severity[i],
            applied: applied[i],
            command: command[i].clone(),
        })
        .collect())
}

/// Group the main table into scans: (observation, scan number, field), ordered by start time.
pub fn summarize_scans(idx: &MainIndex, dds: &[DataDesc], states: &[State]) -> Vec<ScanSummary> {
    struct Acc {
        s: ScanSummary,
        state_ids: Vec<i32>,
    }
    let mut map: BTreeMap<(i32, i32, i32), Acc> = BTreeMap::new();
    for r in 0..idx.nrows() {
        let key = (idx.obs[r], idx.scan[r], idx.field[r]);
        let t = idx.time_s[r];
        let half = 0.5 * idx.interval_s[r];
        let acc = map.entry(key).or_insert_with(|| Acc {
            s: ScanSummary {
                scan: idx.scan[r],
                observation_id: idx.obs[r],
                field: FieldId(idx.field[r].max(0) as u32),
                start_s: f64::INFINITY,
                end_s: f64::NEG_INFINITY,
                nrows: 0,
                spws: Vec::new(),
                intents: Vec::new(),
                intervals_s: Vec::new(),
            },
            state_ids: Vec::new(),
        });
        acc.s.nrows += 1;
        acc.s.start_s = acc.s.start_s.min(t - half);
        acc.s.end_s = acc.s.end_s.max(t + half);
        if let Some(dd) = dds.get(idx.dd[r].max(0) as usize) {
            if !acc.s.spws.contains(&dd.spw) {
                acc.s.spws.push(dd.spw);
            }
        }
        if !acc.state_ids.contains(&idx.state[r]) {
            acc.state_ids.push(idx.state[r]);
        }
        let iv = idx.interval_s[r];
        if !acc.s.intervals_s.iter().any(|x| (x - iv).abs() < 1e-6) {
            acc.s.intervals_s.push(iv);
        }
    }
    let mut scans: Vec<ScanSummary> = map
        .into_values()
        .map(|mut a| {
            a.s.spws.sort();
            a.s.intervals_s.sort_by(f64::total_cmp);
            a.state_ids.sort();
            for sid in a.state_ids {
                if let Some(st) = usize::try_from(sid).ok().and_then(|i| states.get(i)) {
                    for intent in st.intents() {
                        if !a.s.intents.contains(&intent) {
                            a.s.intents.push(intent);
                        }
                    }
                }
            }
            // CASA reports a scan's intents as a sorted set.
            a.s.intents.sort();
            a.s
        })
        .collect();
    scans.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then(a.scan.cmp(&b.scan))
            .then(a.field.cmp(&b.field))
    });
    scans
}

/// Read the whole metadata model of the MS at `ms` (read-only).
pub fn read_meta(ms: &Path) -> Result<MsMeta> {
    read_meta_with_index(ms).map(|(m, _)| m)
}

/// Size and modification time of every file under `ms` (a few dozen `stat` calls): the
/// cache key of [`read_meta_with_index`]. Any write to the MS changes it.
fn ms_stamp(ms: &Path) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut stack = vec![ms.to_path_buf()];
    let mut n = 0usize;
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let md = e.metadata().ok()?;
            if md.is_dir() {
                stack.push(e.path());
                continue;
            }
            e.path().hash(&mut h);
            md.len().hash(&mut h);
            md.modified().ok()?.hash(&mut h);
            n += 1;
        }
    }
    (n > 0).then(|| h.finish())
}

type MetaCache = Vec<(std::path::PathBuf, u64, std::sync::Arc<(MsMeta, MainIndex)>)>;

/// The last few MSs read by this process (every stage of a run reads the same split's
/// metadata and index; rereading them dominated small partial reruns).
static META_CACHE: std::sync::Mutex<MetaCache> = std::sync::Mutex::new(Vec::new());
const META_CACHE_LEN: usize = 6;

/// Read the metadata and the main table's per-row index columns in one pass. Results
/// are cached per process and reused while no file of the MS changes.
pub fn read_meta_with_index(ms: &Path) -> Result<(MsMeta, MainIndex)> {
    let stamp = ms_stamp(ms);
    if let Some(stamp) = stamp {
        let cache = META_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, hit)) = cache.iter().find(|(p, s, _)| p == ms && *s == stamp) {
            return Ok((hit.0.clone(), hit.1.clone()));
        }
    }
    let read = read_meta_with_index_uncached(ms)?;
    if let Some(stamp) = stamp {
        let mut cache = META_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(p, _, _)| p != ms);
        if cache.len() >= META_CACHE_LEN {
            cache.remove(0);
        }
        cache.push((ms.to_path_buf(), stamp, std::sync::Arc::new(read.clone())));
    }
    Ok(read)
}

fn read_meta_with_index_uncached(ms: &Path) -> Result<(MsMeta, MainIndex)> {
    let mut main = RoTable::open(ms)?;
    let antennas = read_antennas(ms)?;
    let spws = read_spws(ms)?;
    let pols = read_pols(ms)?;
    let data_descs = read_data_descs(ms, spws.len())?;
    let fields = read_fields(ms)?;
    let states = read_states(ms)?;
    let idx = read_main_index(&mut main)?;
    let scans = summarize_scans(&idx, &data_descs, &states);
    let mut field_nrows = vec![0u64; fields.len()];
    for &f in &idx.field {
        if let Some(n) = usize::try_from(f).ok().and_then(|f| field_nrows.get_mut(f)) {
            *n += 1;
        }
    }
    let data_columns = ["DATA", "CORRECTED_DATA", "MODEL_DATA", "FLOAT_DATA"]
        .iter()
        .filter(|c| main.has_column(c))
        .map(|c| c.to_string())
        .collect();
    let meta = MsMeta {
        path: ms.display().to_string(),
        nrows: main.nrows(),
        antennas,
        spws,
        pols,
        data_descs,
        fields,
        sources: read_sources(ms)?,
        observations: read_observations(ms)?,
        states,
        scans,
        field_nrows,
        syscal: read_syscal(ms)?,
        flag_cmds: read_flag_cmds(ms)?,
        data_columns,
        has_weight_spectrum: main.has_column("WEIGHT_SPECTRUM"),
    };
    Ok((meta, idx))
}
