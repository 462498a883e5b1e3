//! flagdata mode='summary': flagged and total cells per antenna, spw, field, scan and
//! correlation, on the MS's FLAG OR'ed with the given layers.

use crate::error::Result;
use crate::reader::{ChunkReader, ReadRequest};
use crate::selection::SelectionParams;
use almacal_core::flaglayer::FlagLayer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Flagged and total visibility cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FlagCounts {
    pub flagged: u64,
    pub total: u64,
}

impl FlagCounts {
    fn add(&mut self, flagged: u64, total: u64) {
        self.flagged += flagged;
        self.total += total;
    }

    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.flagged as f64 / self.total as f64
        }
    }
}

/// CASA's flagdata summary dictionary, by name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagSummary {
    pub flagged: u64,
    pub total: u64,
    pub antenna: BTreeMap<String, FlagCounts>,
    pub spw: BTreeMap<String, FlagCounts>,
    pub field: BTreeMap<String, FlagCounts>,
    pub scan: BTreeMap<String, FlagCounts>,
    pub correlation: BTreeMap<String, FlagCounts>,
}

/// Count flags over a selection. Baseline cells count for both antennas (once for
/// autocorrelations).
pub fn flag_summary(
    ms: &Path,
    layers: &[Arc<FlagLayer>],
    selection: &SelectionParams,
) -> Result<FlagSummary> {
    let mut req = ReadRequest::new(ms);
    req.selection = selection.clone();
    req.read_data = false;
    req.flag_layers = layers.to_vec();
    let reader = match ChunkReader::open(&req) {
        Ok(r) => r,
        Err(crate::CasaError::Selection(e)) if e.param == "selection" => {
            return Ok(FlagSummary::default())
        }
        Err(e) => return Err(e),
    };
    let meta = reader.meta().clone();
    let mut s = FlagSummary::default();
    for chunk in reader {
        let c = chunk?;
        let corr_names: Vec<String> = meta.corrs_of(c.dd).iter().map(|t| t.name()).collect();
        let field = meta
            .fields
            .get(c.field.idx())
            .map_or_else(|| c.field.to_string(), |f| f.name.clone());
        let nchan = c.chans.len() as u64;
        for k in 0..c.nrows() {
            let mut row_flagged = 0u64;
            for (pi, &p) in c.corrs.iter().enumerate() {
                let f = (0..c.chans.len())
                    .filter(|&ci| c.flag_rcf[[k, ci, pi]])
                    .count() as u64;
                row_flagged += f;
                let name = corr_names.get(p).cloned().unwrap_or_default();
                s.correlation.entry(name).or_default().add(f, nchan);
            }
            let row_total = nchan * c.corrs.len() as u64;
            s.flagged += row_flagged;
            s.total += row_total;
            let (a1, a2) = (c.ant1[k], c.ant2[k]);
            for a in if a1 == a2 { vec![a1] } else { vec![a1, a2] } {
                let name = meta
                    .antennas
                    .get(a.idx())
                    .map_or_else(|| a.to_string(), |x| x.name.clone());
                s.antenna
                    .entry(name)
                    .or_default()
                    .add(row_flagged, row_total);
            }
            s.spw
                .entry(c.spw.to_string())
                .or_default()
                .add(row_flagged, row_total);
            s.field
                .entry(field.clone())
                .or_default()
                .add(row_flagged, row_total);
            s.scan
                .entry(c.scan.to_string())
                .or_default()
                .add(row_flagged, row_total);
        }
    }
    Ok(s)
}
