//! Reading and averaging visibility points from an MS (chunked, through `almacal-casa`'s
//! reader thread). Autocorrelations are skipped unless the selection asks for them.

use super::accumulate::{Accumulator, BinKey, Sample};
use super::{VisOptions, VisPoints};
use crate::error::{PlotError, Result};
use crate::plotants::ms_display_name;
use almacal_casa::reader::{spawn_reader, ReadRequest};
use almacal_casa::selection::BaselineKind;
use almacal_core::{MsMeta, VisChunk};
use num_complex::Complex64;
use std::path::Path;

/// Read the points of `ms` described by `opts`.
pub fn extract(ms: &Path, opts: &VisOptions) -> Result<VisPoints> {
    let mut req = ReadRequest::new(ms);
    req.column = opts.column.clone();
    req.selection = opts.selection.clone();
    req.chunk_rows = opts.chunk_rows.max(1);
    let stream = spawn_reader(req, 2)?;
    let meta = stream.meta().clone();
    let mut acc = Accumulator::default();
    let mut corr_names: Vec<String> = Vec::new();
    for chunk in stream {
        add_chunk(&chunk?, &meta, opts, &mut corr_names, &mut acc);
    }
    if acc.is_empty() {
        return Err(PlotError::Empty(format!(
            "no {} visibilities in {} for {}",
            if opts.keep_flagged { "" } else { "unflagged" },
            ms.display(),
            describe(opts)
        )));
    }
    Ok(VisPoints {
        ms: ms_display_name(&ms.to_string_lossy()),
        column: opts.column.clone(),
        points: acc.finish(),
        field_names: meta.fields.iter().map(|f| f.name.clone()).collect(),
        antenna_names: meta.antennas.iter().map(|a| a.name.clone()).collect(),
        corr_names,
        description: describe(opts),
    })
}

/// `spw='20' avgtime=30s avgchannel=all` for titles.
pub fn describe(opts: &VisOptions) -> String {
    let mut parts = Vec::new();
    let sel = opts.selection.describe();
    if !sel.is_empty() {
        parts.push(sel);
    }
    match opts.avg_channel {
        0 | 1 => {}
        usize::MAX => parts.push("avgchannel=all".into()),
        n => parts.push(format!("avgchannel={n}")),
    }
    if opts.avg_time_s > 0.0 {
        parts.push(format!("avgtime={}s", opts.avg_time_s));
    }
    if opts.avg_baselines {
        parts.push("all baselines averaged".into());
    }
    parts.join(" ")
}

fn corr_index(names: &mut Vec<String>, name: String) -> usize {
    match names.iter().position(|n| *n == name) {
        Some(i) => i,
        None => {
            names.push(name);
            names.len() - 1
        }
    }
}

fn add_chunk(
    c: &VisChunk,
    meta: &MsMeta,
    opts: &VisOptions,
    corr_names: &mut Vec<String>,
    acc: &mut Accumulator,
) {
    let freqs = meta
        .spw(c.spw)
        .map(|s| s.chan_freq_hz.as_slice())
        .unwrap_or(&[]);
    let corr_types = meta.corrs_of(c.dd);
    let corr_ids: Vec<usize> = c
        .corrs
        .iter()
        .map(|&k| {
            let name = corr_types
                .get(k)
                .map_or_else(|| k.to_string(), |t| t.name());
            corr_index(corr_names, name)
        })
        .collect();
    let scan_start = meta
        .scans
        .iter()
        .find(|s| s.scan == c.scan && s.field == c.field)
        .map_or(0.0, |s| s.start_s);
    let autos = opts.selection.baselines == BaselineKind::AutoOnly;
    for r in 0..c.nrows() {
        let (a1, a2) = (c.ant1[r].0 as i32, c.ant2[r].0 as i32);
        if (a1 == a2) != autos {
            continue;
        }
        let t = c.time_s[r];
        let time_bin = if opts.avg_time_s > 0.0 {
            ((t - scan_start) / opts.avg_time_s).floor() as i64
        } else {
            (t * 1000.0).round() as i64
        };
        let uv = c.uvw_m.row(r);
        let uvdist = (uv[0] * uv[0] + uv[1] * uv[1]).sqrt();
        let (k1, k2) = if opts.avg_baselines {
            (-1, -1)
        } else {
            (a1, a2)
        };
        for (ci, &chan) in c.chans.iter().enumerate() {
            let chan_bin = match opts.avg_channel {
                0 | 1 => chan,
                usize::MAX => 0,
                n => ci / n,
            };
            for (k, &corr) in corr_ids.iter().enumerate() {
                let flagged = c.flag_row[r] || c.flag_rcf[[r, ci, k]];
                if flagged && !opts.keep_flagged {
                    continue;
                }
                let v = c.data_rcf[[r, ci, k]];
                let key = BinKey {
                    field: c.field.0,
                    spw: c.spw.0,
                    scan: c.scan,
                    time_bin,
                    ant1: k1,
                    ant2: k2,
                    chan_bin,
                    corr,
                    flagged,
                };
                acc.add(
                    key,
                    Sample {
                        vis: Complex64::new(f64::from(v.re), f64::from(v.im)),
                        weight: f64::from(c.weight_rc[[r, k]]),
                        time_s: t,
                        uvdist_m: uvdist,
                        freq_hz: freqs.get(chan).copied().unwrap_or(f64::NAN),
                        chan,
                    },
                );
            }
        }
    }
}
