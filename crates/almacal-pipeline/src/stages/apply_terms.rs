//! Loading a caltable into an applicable calibration term (almacal-solve `apply::Term`) by
//! its `VisCal` keyword, with applycal's per-table options: `gainfield` ('' / a field
//! selection / 'nearest', §7.3), `interp` (time[,freq], §7.2), `spwmap` (list, or "auto" =
//! tsysspwmap of that Tsys table with `tsysChanTol = 1` as in ALMA scripts, §5.3/§7.4) and
//! `calwt` (forced off for KAntPos, §6.2).
//!
//! Supported: `B TSYS` → [`TsysTerm`], `KAntPos Jones` → [`AntposTerm`]. The solved Jones
//! types (`G Jones`, `T Jones`, `B Jones`) plug in at the marked match arm.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use almacal_casa::caltable::{read_caltable, CalParams, CalTable};
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_core::meta::MsMeta;
use almacal_solve::apply::antpos::AntposTerm;
use almacal_solve::apply::jones::{GainField, JonesRow, JonesTerm};
use almacal_solve::apply::tsys::{FieldChoice, FreqMethod, TsysTerm};
use almacal_solve::apply::Term;
use almacal_solve::gain::JonesKind;
use almacal_solve::interp::Interp;
use almacal_solve::prep::tsys::TsysSolution;
use almacal_solve::prep::tsysspwmap::tsysspwmap;
use num_complex::Complex64;

/// tsysspwmap's channel tolerance used by `spwmap = "auto"` (ALMA scripts pass 1).
pub const TSYS_CHAN_TOL: f64 = 1.0;

/// applycal's `spwmap` entry of one table.
#[derive(Debug, Clone, PartialEq)]
pub enum SpwMapSpec {
    /// `[]` / `""`: each spw calibrated by itself.
    Identity,
    /// `"auto"`: tsysspwmap of this (Tsys) table.
    Auto,
    /// An explicit map (index = MS spw id).
    Map(Vec<u32>),
}

/// One table to apply and its options.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// As the recipe wrote it (stage name or path), for messages.
    pub written: String,
    pub path: PathBuf,
    pub gainfield: String,
    pub interp: String,
    pub spwmap: SpwMapSpec,
    pub calwt: bool,
}

/// A loaded table.
pub struct LoadedTerm {
    pub term: Box<dyn Term>,
    /// Effective calwt (false for KAntPos whatever was asked).
    pub calwt: bool,
    pub viscal: String,
    /// The resolved spw map (empty = identity), for reports.
    pub spwmap: Vec<u32>,
}

fn field_sep_rad(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, d1) = a;
    let (ra2, d2) = b;
    let c = d1.sin() * d2.sin() + d1.cos() * d2.cos() * (ra1 - ra2).cos();
    c.clamp(-1.0, 1.0).acos()
}

/// The fields a table's solutions may come from, for each data field.
fn field_choice(spec: &TableSpec, meta: &MsMeta, table: &CalTable) -> Result<FieldChoice, String> {
    let gf = spec.gainfield.trim();
    if gf.is_empty() {
        return Ok(FieldChoice::All);
    }
    if gf.eq_ignore_ascii_case("nearest") {
        let cal_fields: BTreeSet<i32> = table.rows.iter().map(|r| r.field_id).collect();
        let dir = |f: i32| -> Option<(f64, f64)> {
            meta.fields
                .get(usize::try_from(f).ok()?)
                .map(|x| (x.ra_rad, x.dec_rad))
        };
        let mut map = BTreeMap::new();
        for f in &meta.fields {
            let here = (f.ra_rad, f.dec_rad);
            let mut best: Option<(f64, i32)> = None;
            for &cf in &cal_fields {
                let Some(d) = dir(cf) else { continue };
                let sep = field_sep_rad(here, d);
                match best {
                    Some((b, bf)) if sep == b && bf != cf => {
                        return Err(format!(
                            "gainfield='nearest': fields {bf} and {cf} of {} are equally near field {}; give the field explicitly",
                            spec.written, f.id.0
                        ))
                    }
                    Some((b, _)) if sep >= b => {}
                    _ => best = Some((sep, cf)),
                }
            }
            if let Some((_, cf)) = best {
                map.insert(f.id.0, cf);
            }
        }
        return Ok(FieldChoice::Map(map));
    }
    let sel = Selection::resolve(
        meta,
        &SelectionParams {
            field: gf.into(),
            ..Default::default()
        },
    )
    .map_err(|e| format!("gainfield {gf:?} of {}: {e}", spec.written))?;
    Ok(FieldChoice::Ids(sel.fields.unwrap_or_default()))
}

fn tsys_solutions_of(table: &CalTable) -> Result<Vec<TsysSolution>, String> {
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let CalParams::Float(p) = &r.params else {
                return Err(format!("row {i}: B TSYS rows must hold FPARAM"));
            };
            let (npol, nchan) = p.dim();
            Ok(TsysSolution {
                time_s: r.time_s,
                spw: u32::try_from(r.spw_id).map_err(|_| format!("row {i}: negative spw"))?,
                antenna: u32::try_from(r.antenna1)
                    .map_err(|_| format!("row {i}: negative ANTENNA1"))?,
                field: r.field_id,
                scan: r.scan,
                tsys_pc: (0..npol)
                    .map(|q| (0..nchan).map(|c| p[[q, c]]).collect())
                    .collect(),
                flag_pc: (0..npol)
                    .map(|q| (0..nchan).map(|c| r.flag[[q, c]]).collect())
                    .collect(),
            })
        })
        .collect()
}

fn tsys_term(spec: &TableSpec, meta: &MsMeta, table: &CalTable) -> Result<LoadedTerm, String> {
    let sols = tsys_solutions_of(table)?;
    let spws: BTreeSet<u32> = sols.iter().map(|s| s.spw).collect();
    let mut freqs = BTreeMap::new();
    for &s in &spws {
        let f = table
            .sub
            .spws
            .get(s as usize)
            .map(|x| x.chan_freq_hz.clone())
            .ok_or_else(|| format!("spw {s} has no SPECTRAL_WINDOW row in the table"))?;
        freqs.insert(s, f);
    }
    let spwmap = match &spec.spwmap {
        SpwMapSpec::Identity => Vec::new(),
        SpwMapSpec::Map(m) => m.clone(),
        SpwMapSpec::Auto => {
            let tsys: Vec<(u32, Vec<f64>)> = freqs.iter().map(|(k, v)| (*k, v.clone())).collect();
            tsysspwmap(&meta.spws, &tsys, TSYS_CHAN_TOL)
        }
    };
    let (time, freq) = FreqMethod::parse(&spec.interp).ok_or_else(|| {
        format!(
            "interp {:?} is not supported for a Tsys table (use nearest/linear[,nearest|linear|spline])",
            spec.interp
        )
    })?;
    let fields = field_choice(spec, meta, table)?;
    Ok(LoadedTerm {
        term: Box::new(TsysTerm::new(
            &sols,
            freqs,
            spwmap.clone(),
            fields,
            time,
            freq,
        )),
        calwt: spec.calwt,
        viscal: table.keywords.viscal.clone(),
        spwmap,
    })
}

fn antpos_term(meta: &MsMeta, table: &CalTable) -> Result<LoadedTerm, String> {
    let mut offsets = vec![[0.0f64; 3]; meta.antennas.len()];
    for (i, r) in table.rows.iter().enumerate() {
        let CalParams::Float(p) = &r.params else {
            return Err(format!("row {i}: KAntPos rows must hold FPARAM"));
        };
        if p.dim().0 < 3 {
            return Err(format!("row {i}: KAntPos FPARAM needs 3 values"));
        }
        let a = usize::try_from(r.antenna1)
            .ok()
            .filter(|&a| a < offsets.len())
            .ok_or_else(|| {
                format!(
                    "row {i}: antenna {} is not in the MS ({} antennas)",
                    r.antenna1,
                    offsets.len()
                )
            })?;
        // Repeated rows for an antenna add, as CASA's specify does.
        for k in 0..3 {
            offsets[a][k] += f64::from(p[[k, 0]]);
        }
    }
    let site = meta
        .antennas
        .first()
        .map(|a| a.position_m)
        .ok_or("the MS has no antennas")?;
    Ok(LoadedTerm {
        term: Box::new(AntposTerm {
            offsets_m: offsets,
            site_itrf_m: site,
        }),
        calwt: false,
        viscal: table.keywords.viscal.clone(),
        spwmap: Vec::new(),
    })
}

/// Load `spec.path` as a term for the MS described by `meta`. Errors name the table and
/// what to change.
pub fn load_term(spec: &TableSpec, meta: &MsMeta) -> Result<LoadedTerm, String> {
    let table = read_caltable(&spec.path)
        .map_err(|e| format!("caltable {} ({}): {e}", spec.written, spec.path.display()))?;
    let ctx = |e: String| format!("caltable {}: {e}", spec.written);
    match table.keywords.viscal.as_str() {
        "B TSYS" => tsys_term(spec, meta, &table).map_err(ctx),
        "KAntPos Jones" => antpos_term(meta, &table).map_err(ctx),
        "G Jones" | "T Jones" | "B Jones" => jones_loaded_term(spec, meta, &table).map_err(ctx),
        other => Err(ctx(format!(
            "VisCal {other:?} cannot be applied (supported: B TSYS, KAntPos Jones)"
        ))),
    }
}

/// `gainfield` of one table against the MS and the caltable fields.
pub fn resolve_gainfield(
    meta: &MsMeta,
    table: &CalTable,
    gainfield: &str,
) -> Result<GainField, String> {
    let g = gainfield.trim();
    if g.is_empty() {
        return Ok(GainField::All);
    }
    if g.eq_ignore_ascii_case("nearest") {
        let cal_fields: BTreeSet<i32> = table.rows.iter().map(|r| r.field_id).collect();
        let mut map = BTreeMap::new();
        for (fi, f) in meta.fields.iter().enumerate() {
            let mut best: Option<(f64, i32)> = None;
            for &cf in &cal_fields {
                let Some(dir) = table
                    .sub
                    .fields
                    .get(cf.max(0) as usize)
                    .and_then(|x| x.phase_dir.first())
                else {
                    continue;
                };
                let sep = angular_sep(f.ra_rad, f.dec_rad, dir[0], dir[1]);
                if best.is_none_or(|(d, _)| sep < d) {
                    best = Some((sep, cf));
                }
            }
            if let Some((_, cf)) = best {
                map.insert(fi as u32, cf);
            }
        }
        return Ok(GainField::Map(map));
    }
    let sel = Selection::resolve(
        meta,
        &SelectionParams {
            field: g.into(),
            ..Default::default()
        },
    )
    .map_err(|e| format!("gainfield {g:?}: {e}"))?;
    Ok(GainField::Ids(sel.fields.unwrap_or_default()))
}

fn angular_sep(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let c = dec1.sin() * dec2.sin() + dec1.cos() * dec2.cos() * (ra1 - ra2).cos();
    c.clamp(-1.0, 1.0).acos()
}

/// A `G Jones`, `T Jones` or `B Jones` caltable as an applicable term (§7.2–7.5).
pub fn jones_term_from_caltable(
    table: &CalTable,
    meta: &MsMeta,
    gainfield: &str,
    interp: &str,
    spwmap: Vec<u32>,
) -> Result<JonesTerm, String> {
    let interp_text = interp;
    let kind = match table.keywords.viscal.as_str() {
        "G Jones" => JonesKind::G,
        "T Jones" => JonesKind::T,
        "B Jones" => JonesKind::B,
        other => return Err(format!("VisCal {other:?} is not a G/T/B Jones table")),
    };
    let (interp, per) = Interp::parse(interp).map_err(|e| e.to_string())?;
    // `perobs` keeps each observation's solutions to its own data: the same as without it
    // on an MS of one observation, the only kind almacal applies it to.
    if per.iter().any(|p| p == "perobs") && meta.observations.len() > 1 {
        return Err(format!(
            "interp {:?}: 'perobs' on an MS with {} observations is not implemented yet",
            interp_text,
            meta.observations.len()
        ));
    }
    let fields = resolve_gainfield(meta, table, gainfield)?;
    let mut rows = Vec::with_capacity(table.rows.len());
    for r in &table.rows {
        let CalParams::Complex(p) = &r.params else {
            return Err("CPARAM expected for a Jones table (ParType Float found)".into());
        };
        let (npar, nchan) = p.dim();
        rows.push(JonesRow {
            time_s: r.time_s,
            field: r.field_id,
            spw: r.spw_id.max(0) as u32,
            antenna: r.antenna1.max(0) as u32,
            params: (0..npar)
                .map(|a| {
                    (0..nchan)
                        .map(|c| {
                            let z = p[[a, c]];
                            Complex64::new(f64::from(z.re), f64::from(z.im))
                        })
                        .collect()
                })
                .collect(),
            flags: (0..npar)
                .map(|a| {
                    (0..nchan)
                        .map(|c| r.flag.get([a, c]).copied().unwrap_or(true))
                        .collect()
                })
                .collect(),
        });
    }
    let freq_hz: BTreeMap<u32, Vec<f64>> = table
        .sub
        .spws
        .iter()
        .enumerate()
        .map(|(i, s)| (i as u32, s.chan_freq_hz.clone()))
        .collect();
    Ok(JonesTerm::new(kind, &rows, freq_hz, spwmap, fields, interp))
}

/// [`jones_term_from_caltable`] for applycal's table loader (`apply_terms::load_term`).
pub fn jones_loaded_term(
    spec: &TableSpec,
    meta: &MsMeta,
    table: &CalTable,
) -> Result<LoadedTerm, String> {
    let spwmap = match &spec.spwmap {
        SpwMapSpec::Identity => Vec::new(),
        SpwMapSpec::Map(m) => m.clone(),
        SpwMapSpec::Auto => {
            return Err("spwmap \"auto\" (tsysspwmap) applies only to Tsys tables".into())
        }
    };
    let term =
        jones_term_from_caltable(table, meta, &spec.gainfield, &spec.interp, spwmap.clone())?;
    Ok(LoadedTerm {
        term: Box::new(term),
        calwt: spec.calwt,
        viscal: table.keywords.viscal.clone(),
        spwmap,
    })
}
