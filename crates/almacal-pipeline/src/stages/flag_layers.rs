//! The on-disk flag-layer product of flag stages (flagdata, flagcmd, flagmanager restore):
//! one file holding `FlagLayer::encode()` (`<workdir>/<stage>.flags`). Later stages reading
//! the same vis OR it into FLAG: [`load_layers`] turns a stage's `VisInput.flag_layers` into
//! the `ReadRequest.flag_layers` they need (decoded once per process while unchanged).

use std::path::Path;
use std::sync::Arc;

use almacal_core::flaglayer::FlagLayer;

use super::prep_common::io_err;
use crate::executor::{StageError, VisInput};

/// Write a flag layer product (a file with the layer's compact encoding).
pub fn write_layer(path: &Path, layer: &FlagLayer) -> Result<(), StageError> {
    std::fs::write(path, layer.encode()).map_err(|e| io_err(path, e))
}

/// Read one flag-layer product.
pub fn read_layer(path: &Path) -> Result<FlagLayer, StageError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    FlagLayer::decode(&bytes).map_err(|e| {
        StageError::InvalidInput(format!(
            "flag layer {} is not readable ({e}); run `almacal clean` on the stage that wrote it",
            path.display()
        ))
    })
}

type LayerCache = Vec<(
    std::path::PathBuf,
    u64,
    std::time::SystemTime,
    Arc<FlagLayer>,
)>;

/// Decoded layers by path, size and mtime: every stage downstream of a flag stage reads
/// the same layer files.
static LAYER_CACHE: std::sync::Mutex<LayerCache> = std::sync::Mutex::new(Vec::new());
const LAYER_CACHE_LEN: usize = 16;

/// [`read_layer`], shared: decoded once per process while the file is unchanged.
pub fn read_layer_shared(path: &Path) -> Result<Arc<FlagLayer>, StageError> {
    let md = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    let key = (md.len(), md.modified().map_err(|e| io_err(path, e))?);
    {
        let cache = LAYER_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache
            .iter()
            .find(|(p, n, t, _)| p == path && (*n, *t) == key)
        {
            return Ok(hit.3.clone());
        }
    }
    let layer = Arc::new(read_layer(path)?);
    let mut cache = LAYER_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(p, _, _, _)| p != path);
    if cache.len() >= LAYER_CACHE_LEN {
        cache.remove(0);
    }
    cache.push((path.to_path_buf(), key.0, key.1, layer.clone()));
    Ok(layer)
}

/// The upstream flag layers of a vis, in declaration order, ready for `ReadRequest`.
/// Layers must have been computed on this very vis (same row count).
pub fn load_layers(vis: &VisInput, nrows: Option<u64>) -> Result<Vec<Arc<FlagLayer>>, StageError> {
    let mut out = Vec::with_capacity(vis.flag_layers.len());
    for l in &vis.flag_layers {
        let layer = read_layer_shared(&l.path)?;
        if let Some(n) = nrows {
            if layer.nrows() != n {
                return Err(StageError::InvalidInput(format!(
                    "flag layer of stage {} covers {} rows but {} has {n}; rerun that stage",
                    l.stage,
                    layer.nrows(),
                    vis.path.display()
                )));
            }
        }
        out.push(layer);
    }
    Ok(out)
}
