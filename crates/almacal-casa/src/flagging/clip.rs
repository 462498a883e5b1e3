//! flagdata mode='clip': flag visibilities whose amplitude is outside (or inside)
//! `clipminmax`, and zeros with `clipzeros`, with CASA 6.7's rules (checked cell by cell
//! against flagdata on the reference MS, `fixtures/flagging/casa_clip.json`):
//!
//! * the amplitude is the float32 |V| of the chosen column (`DATA`, `CORRECTED_DATA`,
//!   `MODEL_DATA`), per correlation; `correlation` is `ABS_ALL` (the default, also `''`) or
//!   `ABS_<list>` (`ABS_XX`, `ABS_XX,YY`); a bare list means `ABS_` of it;
//! * `clipminmax` ends are inclusive: with `clipoutside` a cell is flagged when
//!   |V| < min or |V| > max, otherwise when min ≤ |V| ≤ max; the ends are compared as
//!   float32, as CASA does (a maximum 0.4 ulp below an amplitude does not flag it);
//! * NaN and ±Inf (in either part) are always flagged;
//! * `clipzeros` flags |V| < FLT_EPSILON (1.19e-7), not only exact zeros;
//! * cells flagged before are examined like the others (flags only grow).

use super::Ctx;
use crate::error::Result;
use crate::reader::{ChunkReader, ReadRequest};
use crate::selection::{SelectionError, SelectionParams};
use almacal_core::flaglayer::FlagLayer;
use std::sync::Arc;

pub(crate) struct ClipParams<'a> {
    pub minmax: Option<(f32, f32)>,
    pub clipoutside: bool,
    pub clipzeros: bool,
    pub datacolumn: &'a str,
}

/// The plain correlation selection of a clip `correlation` expression: `''`/`ABS_ALL` → all
/// (`''`), `ABS_XX,YY` → `XX,YY`. Other visibility operators (`REAL_`, `IMAG_`, `ARG_`,
/// `NORM_`) are refused.
pub(crate) fn clip_correlations(expr: &str) -> std::result::Result<String, SelectionError> {
    let up = expr.trim().to_ascii_uppercase();
    for op in ["REAL", "IMAG", "ARG", "NORM"] {
        if up.starts_with(op) {
            return Err(SelectionError::new(
                "correlation",
                expr,
                format!("clip on {op} is not supported; use ABS_ALL or ABS_<correlations>"),
            ));
        }
    }
    let list = up.strip_prefix("ABS").unwrap_or(&up);
    let list = list.trim_start_matches(['_', ' ']);
    Ok(if list == "ALL" {
        String::new()
    } else {
        list.to_string()
    })
}

/// True if an amplitude is clipped.
pub fn is_clipped(
    amp: f32,
    minmax: Option<(f32, f32)>,
    clipoutside: bool,
    clipzeros: bool,
) -> bool {
    if !amp.is_finite() {
        return true;
    }
    if clipzeros && amp < f32::EPSILON {
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
    ctx: &Ctx<'_>,
    selection: &SelectionParams,
    p: ClipParams<'_>,
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
        // Range ends are inclusive; clipzeros reaches FLT_EPSILON.
        assert!(!is_clipped(2.0, Some((0.0, 2.0)), true, false));
        assert!(is_clipped(2.0, Some((0.0, 2.0)), false, false));
        assert!(is_clipped(1.0e-7, None, true, true));
        assert!(!is_clipped(1.2e-7, None, true, true));
    }

    #[test]
    fn clip_correlation_expressions() {
        use super::clip_correlations as c;
        assert_eq!(c("").unwrap(), "");
        assert_eq!(c("ABS_ALL").unwrap(), "");
        assert_eq!(c("abs_xx").unwrap(), "XX");
        assert_eq!(c("ABS_XX,YY").unwrap(), "XX,YY");
        assert_eq!(c("YY").unwrap(), "YY");
        assert!(c("REAL_XX").is_err());
    }
}
