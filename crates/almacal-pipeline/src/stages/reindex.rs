//! CASA's `reindex=True` for a written MS (split, mstransform, applycal's `output`): which
//! spws, DDIDs, fields, sources and states the output keeps and their new ids
//! ([`plan`]), the subtables rewritten to match ([`rewrite_subtables`]), and the metadata
//! a downstream stage sees ([`reindexed_meta`]).
//!
//! The rules, found by experiment with CASA 6.7.0-31's split on sim_small
//! (fixtures/split_reindex/casa_reference.py):
//! - SPECTRAL_WINDOW keeps the selected spws that DATA_DESCRIPTION references (spws
//!   without a DDID are dropped, also from a range such as `9~16`), numbered from 0 in the
//!   order the `spw` expression lists them (`spw='18,16'` makes 18 → 0, 16 → 1; a range
//!   is ascending); no `spw` keeps every spw with a DDID, ascending. A spw kept whether or
//!   not the other selections leave rows in it.
//! - A channel selection within a spw (`16:10~49`, also several ranges `16:0~9;20~29`)
//!   makes a spw of the selected channels: CHAN_FREQ / CHAN_WIDTH / EFFECTIVE_BW /
//!   RESOLUTION of those channels in their order, NUM_CHAN their count, TOTAL_BANDWIDTH
//!   the sum of |CHAN_WIDTH|, REF_FREQUENCY the lowest selected CHAN_FREQ. Whole spws keep
//!   their row as it was.
//! - DATA_DESCRIPTION: one row per DDID of a kept spw, in new-spw order, SPECTRAL_WINDOW_ID
//!   renumbered, POLARIZATION_ID kept (POLARIZATION is copied unchanged).
//! - Every other subtable with a SPECTRAL_WINDOW_ID column (SYSCAL, SOURCE, FEED, ...):
//!   rows of dropped spws are removed, the others renumbered; -1 (all spws) rows are kept.
//! - A `field` selection keeps only the selected fields, ascending (`field='2,0'` makes
//!   0 → 0, 2 → 1), and only the SOURCE rows of their sources, SOURCE_ID renumbered from
//!   0 ascending (FIELD.SOURCE_ID follows). Without `field` FIELD and SOURCE_ID stay.
//! - An `intent` selection keeps only the STATE rows it selects, ascending, and the main
//!   table's STATE_ID follows. Other selections (scan, antenna, ...) renumber nothing.

use std::collections::BTreeMap;
use std::path::Path;

use almacal_casa::selection::{selectable_spws, Selection, SelectionParams};
use almacal_casa::table::{casa_path, casacore_lock};
use almacal_casa::write_table::{deep_copy_no_rows, WriteTable};
use almacal_core::ids::{DataDescId, FieldId, SpwId};
use almacal_core::meta::MsMeta;
use rubbl_casatables::{Table, TableOpenMode};

/// The output's ids: new id `i` is built from old id `v[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reindex {
    /// Per new spw: its old id and, when only some channels are kept, which.
    pub spws: Vec<(u32, Option<Vec<usize>>)>,
    /// Per new DDID: its old DDID.
    pub dds: Vec<u32>,
    /// Per new field id: its old one (`None`: fields kept as they are).
    pub fields: Option<Vec<u32>>,
    /// Per new SOURCE_ID: its old one (with a field selection).
    pub sources: Option<Vec<i32>>,
    /// Per new STATE id: its old one (with an intent selection).
    pub states: Option<Vec<u32>>,
}

/// Old id → new id of a `new i ← old v[i]` list.
fn inverse<T: Copy + Ord>(v: &[T]) -> BTreeMap<T, i32> {
    v.iter().enumerate().map(|(i, &o)| (o, i as i32)).collect()
}

/// Old → new id, -1 and other negative ids unchanged, `None` for an id that is dropped.
fn map_id(m: &BTreeMap<i32, i32>, old: i32) -> Option<i32> {
    if old < 0 {
        Some(old)
    } else {
        m.get(&old).copied()
    }
}

impl Reindex {
    pub fn spw_map(&self) -> BTreeMap<i32, i32> {
        inverse(&self.spws.iter().map(|s| s.0 as i32).collect::<Vec<_>>())
    }
    pub fn dd_map(&self) -> BTreeMap<i32, i32> {
        inverse(&self.dds.iter().map(|&d| d as i32).collect::<Vec<_>>())
    }
    pub fn field_map(&self) -> Option<BTreeMap<i32, i32>> {
        self.fields
            .as_ref()
            .map(|f| inverse(&f.iter().map(|&x| x as i32).collect::<Vec<_>>()))
    }
    pub fn source_map(&self) -> Option<BTreeMap<i32, i32>> {
        self.sources.as_ref().map(|s| inverse(s))
    }
    pub fn state_map(&self) -> Option<BTreeMap<i32, i32>> {
        self.states
            .as_ref()
            .map(|f| inverse(&f.iter().map(|&x| x as i32).collect::<Vec<_>>()))
    }
    /// Whether some spw keeps only part of its channels.
    pub fn has_channel_selection(&self) -> bool {
        self.spws.iter().any(|s| s.1.is_some())
    }
}

/// The re-indexing of the output of `sel` on `meta`, CASA's way (see the module doc).
pub fn plan(meta: &MsMeta, p: &SelectionParams) -> Result<Reindex, String> {
    let sel = Selection::resolve(meta, p).map_err(|e| e.to_string())?;
    let with_dd = selectable_spws(meta);
    let mut order: Vec<u32> = Vec::new();
    if p.spw.trim().is_empty() {
        order = with_dd.clone();
    } else {
        if p.spw.contains('^') {
            return Err(format!(
                "spw = {:?}: a channel step (^) in a re-indexed output is not implemented",
                p.spw
            ));
        }
        // Each comma-separated term in turn, as CASA numbers them.
        for term in p.spw.split(',') {
            if term.trim().is_empty() {
                continue;
            }
            let one = SelectionParams {
                spw: term.to_string(),
                ..Default::default()
            };
            let s = Selection::resolve(meta, &one).map_err(|e| e.to_string())?;
            for (&spw, ch) in s.spw_chans.iter().flatten() {
                if !ch.is_empty() && with_dd.contains(&spw) && !order.contains(&spw) {
                    order.push(spw);
                }
            }
        }
    }
    let mut spws = Vec::new();
    for spw in order {
        let nchan = meta.spw(SpwId(spw)).map_or(0, |s| s.nchan());
        let chans = sel.chans_of(meta, spw);
        if chans.is_empty() {
            continue;
        }
        let partial = !chans.iter().copied().eq(0..nchan);
        spws.push((spw, partial.then_some(chans)));
    }
    let mut dds = Vec::new();
    for (spw, _) in &spws {
        dds.extend(
            meta.data_descs
                .iter()
                .filter(|d| d.spw.0 == *spw)
                .map(|d| d.id.0),
        );
    }
    let (fields, sources) = match &sel.fields {
        Some(f) if !p.field.trim().is_empty() => {
            let fields: Vec<u32> = f.iter().filter_map(|&x| u32::try_from(x).ok()).collect();
            let mut src: Vec<i32> = fields
                .iter()
                .filter_map(|&x| field_of(meta, x).map(|f| f.source_id))
                .filter(|&s| s >= 0)
                .collect();
            src.sort_unstable();
            src.dedup();
            (Some(fields), Some(src))
        }
        _ => (None, None),
    };
    let states = match &sel.states {
        Some(s) if !p.intent.trim().is_empty() => {
            Some(s.iter().filter_map(|&x| u32::try_from(x).ok()).collect())
        }
        _ => None,
    };
    Ok(Reindex {
        spws,
        dds,
        fields,
        sources,
        states,
    })
}

/// The metadata of the re-indexed output, for checking the stages that read it. The
/// per-scan summaries and row counts stay those of the whole input (an upper bound).
pub fn reindexed_meta(meta: &MsMeta, r: &Reindex) -> MsMeta {
    let mut m = meta.clone();
    let spw_map = r.spw_map();
    let field_map = r.field_map();
    let source_map = r.source_map();
    m.spws = r
        .spws
        .iter()
        .enumerate()
        .filter_map(|(i, (old, chans))| {
            let mut s = meta.spw(SpwId(*old))?.clone();
            s.id = SpwId(i as u32);
            if let Some(c) = chans {
                let pick = |v: &[f64]| -> Vec<f64> {
                    c.iter().filter_map(|&k| v.get(k).copied()).collect()
                };
                s.chan_freq_hz = pick(&s.chan_freq_hz);
                s.chan_width_hz = pick(&s.chan_width_hz);
                s.effective_bw_hz = pick(&s.effective_bw_hz);
                s.resolution_hz = pick(&s.resolution_hz);
                s.total_bw_hz = s.chan_width_hz.iter().map(|w| w.abs()).sum();
                s.ref_freq_hz = s.chan_freq_hz.iter().copied().fold(f64::INFINITY, f64::min);
            }
            Some(s)
        })
        .collect();
    m.data_descs = r
        .dds
        .iter()
        .enumerate()
        .filter_map(|(i, &old)| {
            let mut d = meta.data_desc(DataDescId(old))?.clone();
            d.id = DataDescId(i as u32);
            d.spw = SpwId(u32::try_from(*spw_map.get(&(d.spw.0 as i32))?).ok()?);
            Some(d)
        })
        .collect();
    if let Some(fm) = &field_map {
        let fields: Vec<u32> = r.fields.clone().unwrap_or_default();
        m.fields = fields
            .iter()
            .enumerate()
            .filter_map(|(i, &old)| {
                let mut f = field_of(meta, old)?.clone();
                f.id = FieldId(i as u32);
                if let Some(sm) = &source_map {
                    f.source_id = map_id(sm, f.source_id).unwrap_or(f.source_id);
                }
                Some(f)
            })
            .collect();
        m.field_nrows = fields
            .iter()
            .map(|&f| meta.field_nrows.get(f as usize).copied().unwrap_or(0))
            .collect();
        m.scans = meta
            .scans
            .iter()
            .filter_map(|s| {
                let mut s = s.clone();
                s.field = FieldId(u32::try_from(*fm.get(&(s.field.0 as i32))?).ok()?);
                Some(s)
            })
            .collect();
    }
    m.sources = meta
        .sources
        .iter()
        .filter_map(|s| {
            let mut s = s.clone();
            s.spw_id = map_id(&spw_map, s.spw_id)?;
            if let Some(sm) = &source_map {
                s.source_id = map_id(sm, s.source_id)?;
            }
            Some(s)
        })
        .collect();
    m.syscal = meta
        .syscal
        .iter()
        .filter_map(|s| {
            let mut s = s.clone();
            s.spw = SpwId(u32::try_from(*spw_map.get(&(s.spw.0 as i32))?).ok()?);
            Some(s)
        })
        .collect();
    for s in &mut m.scans {
        s.spws = s
            .spws
            .iter()
            .filter_map(|x| Some(SpwId(u32::try_from(*spw_map.get(&(x.0 as i32))?).ok()?)))
            .collect();
    }
    if let Some(st) = &r.states {
        m.states = st
            .iter()
            .enumerate()
            .filter_map(|(i, &old)| {
                let mut s = meta.states.iter().find(|s| s.id == old)?.clone();
                s.id = i as u32;
                Some(s)
            })
            .collect();
    }
    m
}

fn field_of(meta: &MsMeta, id: u32) -> Option<&almacal_core::meta::Field> {
    meta.fields.iter().find(|f| f.id == FieldId(id))
}

fn ids(t: &mut Table, col: &str) -> Result<Vec<i32>, String> {
    if t.n_rows() == 0 {
        return Ok(Vec::new());
    }
    t.get_col_as_vec::<i32>(col)
        .map_err(|e| format!("reading {col}: {e}"))
}

/// Replace subtable `dst` (a copy of `src`) by the rows `rows` of `src` in that order, then
/// let `fix(table, new_row, old_row)` rewrite cells of each.
fn rebuild(
    src: &Path,
    dst: &Path,
    rows: &[u64],
    mut fix: impl FnMut(&mut Table, u64, u64) -> Result<(), String>,
) -> Result<(), String> {
    std::fs::remove_dir_all(dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    deep_copy_no_rows(src, dst).map_err(|e| e.to_string())?;
    let _g = casacore_lock();
    let mut from = Table::open(casa_path(src), TableOpenMode::Read)
        .map_err(|e| format!("{}: {e}", src.display()))?;
    let mut to = WriteTable::new(
        Table::open(casa_path(dst), TableOpenMode::ReadWrite)
            .map_err(|e| format!("{}: {e}", dst.display()))?,
        dst,
    );
    {
        let t: &mut Table = &mut to;
        t.add_rows(rows.len())
            .map_err(|e| format!("{}: adding rows: {e}", dst.display()))?;
        let mut reader = from
            .get_row_reader()
            .map_err(|e| format!("{}: {e}", src.display()))?;
        let mut writer = t
            .get_row_writer()
            .map_err(|e| format!("{}: {e}", dst.display()))?;
        for (new, &old) in rows.iter().enumerate() {
            from.read_row(&mut reader, old)
                .map_err(|e| format!("{} row {old}: {e}", src.display()))?;
            reader
                .copy_and_put(&mut writer, new as u64)
                .map_err(|e| format!("{} row {new}: {e}", dst.display()))?;
        }
        drop(writer);
        for (new, &old) in rows.iter().enumerate() {
            fix(t, new as u64, old)?;
        }
    }
    to.close().map_err(|e| e.to_string())
}

fn put_i32(t: &mut Table, col: &str, row: u64, v: i32) -> Result<(), String> {
    t.put_cell(col, row, &v)
        .map_err(|e| format!("writing {col}: {e}"))
}

/// Rewrite the subtables of `out` (full copies of those of `ms`) for `r`.
pub fn rewrite_subtables(ms: &Path, out: &Path, r: &Reindex) -> Result<(), String> {
    let spw_map = r.spw_map();
    let source_map = r.source_map();
    let entries = std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("table.dat").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    for name in names {
        let (src, dst) = (ms.join(&name), out.join(&name));
        if !src.join("table.dat").is_file() {
            continue;
        }
        match name.as_str() {
            "SPECTRAL_WINDOW" => {
                let rows: Vec<u64> = r.spws.iter().map(|s| u64::from(s.0)).collect();
                let chans: Vec<Option<Vec<usize>>> = r.spws.iter().map(|s| s.1.clone()).collect();
                rebuild(&src, &dst, &rows, |t, new, _old| {
                    let Some(c) = &chans[new as usize] else {
                        return Ok(());
                    };
                    let mut pick = |col: &str| -> Result<Vec<f64>, String> {
                        let v: Vec<f64> = t
                            .get_cell_as_vec(col, new)
                            .map_err(|e| format!("reading {col}: {e}"))?;
                        let p: Vec<f64> = c.iter().filter_map(|&k| v.get(k).copied()).collect();
                        t.put_cell(col, new, &p)
                            .map_err(|e| format!("writing {col}: {e}"))?;
                        Ok(p)
                    };
                    let freq = pick("CHAN_FREQ")?;
                    let width = pick("CHAN_WIDTH")?;
                    pick("EFFECTIVE_BW")?;
                    pick("RESOLUTION")?;
                    put_i32(t, "NUM_CHAN", new, freq.len() as i32)?;
                    let total: f64 = width.iter().map(|w| w.abs()).sum();
                    t.put_cell("TOTAL_BANDWIDTH", new, &total)
                        .map_err(|e| format!("writing TOTAL_BANDWIDTH: {e}"))?;
                    let lowest = freq.iter().copied().fold(f64::INFINITY, f64::min);
                    t.put_cell("REF_FREQUENCY", new, &lowest)
                        .map_err(|e| format!("writing REF_FREQUENCY: {e}"))
                })?;
            }
            "DATA_DESCRIPTION" => {
                let old_spw = {
                    let _g = casacore_lock();
                    let mut t = Table::open(casa_path(&src), TableOpenMode::Read)
                        .map_err(|e| format!("{}: {e}", src.display()))?;
                    ids(&mut t, "SPECTRAL_WINDOW_ID")?
                };
                let rows: Vec<u64> = r.dds.iter().map(|&d| u64::from(d)).collect();
                rebuild(&src, &dst, &rows, |t, new, old| {
                    let s = old_spw.get(old as usize).copied().unwrap_or(-1);
                    put_i32(
                        t,
                        "SPECTRAL_WINDOW_ID",
                        new,
                        map_id(&spw_map, s).unwrap_or(-1),
                    )
                })?;
            }
            "FIELD" => {
                let Some(fields) = &r.fields else { continue };
                let old_src = {
                    let _g = casacore_lock();
                    let mut t = Table::open(casa_path(&src), TableOpenMode::Read)
                        .map_err(|e| format!("{}: {e}", src.display()))?;
                    ids(&mut t, "SOURCE_ID")?
                };
                let rows: Vec<u64> = fields.iter().map(|&f| u64::from(f)).collect();
                rebuild(&src, &dst, &rows, |t, new, old| {
                    let (Some(sm), Some(&s)) = (&source_map, old_src.get(old as usize)) else {
                        return Ok(());
                    };
                    put_i32(t, "SOURCE_ID", new, map_id(sm, s).unwrap_or(s))
                })?;
            }
            "STATE" => {
                let Some(states) = &r.states else { continue };
                let rows: Vec<u64> = states.iter().map(|&f| u64::from(f)).collect();
                rebuild(&src, &dst, &rows, |_, _, _| Ok(()))?;
            }
            _ => {
                // Any subtable with spw ids (SYSCAL, SOURCE, FEED, CALDEVICE, ...).
                let cols = {
                    let _g = casacore_lock();
                    let mut t = Table::open(casa_path(&src), TableOpenMode::Read)
                        .map_err(|e| format!("{}: {e}", src.display()))?;
                    let names = t.column_names().map_err(|e| e.to_string())?;
                    if !names.iter().any(|c| c == "SPECTRAL_WINDOW_ID") {
                        continue;
                    }
                    let spw = ids(&mut t, "SPECTRAL_WINDOW_ID")?;
                    let source = if name == "SOURCE" && names.iter().any(|c| c == "SOURCE_ID") {
                        Some(ids(&mut t, "SOURCE_ID")?)
                    } else {
                        None
                    };
                    (spw, source)
                };
                let (spw, source) = cols;
                let mut rows = Vec::new();
                let mut new_ids = Vec::new();
                for (i, &s) in spw.iter().enumerate() {
                    let Some(ns) = map_id(&spw_map, s) else {
                        continue;
                    };
                    let nsrc = match (&source, &source_map) {
                        (Some(src_ids), Some(sm)) => match map_id(sm, src_ids[i]) {
                            Some(x) => Some(x),
                            None => continue,
                        },
                        _ => None,
                    };
                    rows.push(i as u64);
                    new_ids.push((ns, nsrc));
                }
                rebuild(&src, &dst, &rows, |t, new, _old| {
                    let (ns, nsrc) = new_ids[new as usize];
                    put_i32(t, "SPECTRAL_WINDOW_ID", new, ns)?;
                    if let Some(x) = nsrc {
                        put_i32(t, "SOURCE_ID", new, x)?;
                    }
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}
