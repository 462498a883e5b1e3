//! flagdata mode='clip': flag visibilities whose amplitude is outside (or inside)
//! `clipminmax`, and exact zeros with `clipzeros`.

use super::Ctx;
use crate::error::Result;
use crate::reader::{ChunkReader, ReadRequest};
use crate::selection::{BaselineKind, SelectionParams};
use almacal_core::flaglayer::FlagLayer;
use std::sync::Arc;

pub(crate) struct ClipParams<'a> {
    pub minmax: Option<(f32, f32)>,
    pub clipoutside: bool,
    pub clipzeros: bool,
    pub datacolumn: &'a str,
}

/// True if an amplitude is clipped.
pub fn is_clipped(
    amp: f32,
    minmax: Option<(f32, f32)>,
    clipoutside: bool,
    clipzeros: bool,
) -> bool {
    if clipzeros && amp == 0.0 {
        return true;
    }
    if !amp.is_finite() {
        return true;
    }
    match minmax {
        Some((lo, hi)) => {
            let outside = amp < lo || amp > hi;
            outside == clipoutside
        }
        None => false,
    }
}

/// The cells to flag, as a new layer (merged by the caller).
pub(crate) fn flag_clip(
    ctx: &Ctx,
    selection: &SelectionParams,
    autocorr: bool,
    p: ClipParams,
    current: &FlagLayer,
) -> Result<FlagLayer> {
    let mut out = FlagLayer::new(ctx.idx.nrows() as u64);
    let mut req = ReadRequest::new(ctx.ms);
    req.column = match p.datacolumn.to_ascii_uppercase().as_str() {
        "CORRECTED" => "CORRECTED_DATA".into(),
        "MODEL" => "MODEL_DATA".into(),
        "DATA" | "" => "DATA".into(),
        other => other.to_string(),
    };
    req.selection = selection.clone();
    if autocorr {
        req.selection.baselines = BaselineKind::AutoOnly;
    }
    req.flag_layers = ctx.upstream.to_vec();
    req.flag_layers.push(Arc::new(current.clone()));
    let reader = match ChunkReader::open(&req) {
        Ok(r) => r,
        // An empty selection clips nothing.
        Err(crate::CasaError::Selection(e)) if e.param == "selection" => return Ok(out),
        Err(e) => return Err(e),
    };
    for chunk in reader {
        let chunk = chunk?;
        for (k, &row) in chunk.rows.iter().enumerate() {
            let (nchan, ncorr) = ctx.shape_of_row(row as usize);
            for (ci, &c) in chunk.chans.iter().enumerate() {
                for (pi, &pc) in chunk.corrs.iter().enumerate() {
                    let amp = chunk.data_rcf[[k, ci, pi]].norm();
                    if is_clipped(amp, p.minmax, p.clipoutside, p.clipzeros) {
                        out.flag_cells(row, nchan, ncorr, &[c], &[pc]);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::is_clipped;

    #[test]
    fn clip_rules() {
        assert!(is_clipped(5.0, Some((0.0, 2.0)), true, false));
        assert!(!is_clipped(1.0, Some((0.0, 2.0)), true, false));
        assert!(is_clipped(1.0, Some((0.0, 2.0)), false, false));
        assert!(is_clipped(0.0, None, true, true));
        assert!(!is_clipped(0.0, None, true, false));
        assert!(is_clipped(f32::NAN, None, true, false));
    }
}
