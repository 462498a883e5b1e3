//! The `setjy` model product: a small JSON file holding, per field, the flux-density model
//! (standard, Stokes fluxes, spectral terms, reference frequency, or the standard's
//! polynomial) and the spws it applies to. Solvers reading the same vis load every upstream
//! model (later declarations win for a field/spw) and evaluate it per channel, instead of a
//! MODEL_DATA column; fields without a model use CASA's 1 Jy point source (§1.13).

use std::collections::BTreeMap;
use std::path::Path;

use almacal_core::CorrType;
use almacal_solve::setjy::FluxModel;
use ndarray::Array2;
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::executor::{Layer, StageError};

/// The format tag written in every model file.
pub const MODEL_FORMAT: &str = "almacal-setjy-model-1";

/// The model of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldModel {
    pub field_id: u32,
    pub field_name: String,
    /// `manual` or the flux standard's name.
    pub standard: String,
    /// The spws it applies to; `None` = all.
    pub spws: Option<Vec<u32>>,
    /// `scalebychan = false`: one value per spw (at the spw's mean frequency).
    pub scalebychan: bool,
    pub model: FluxModel,
    /// The per-spw [I,Q,U,V] at each spw's mean frequency (what setjy reports).
    pub fluxd_per_spw: BTreeMap<String, [f64; 4]>,
}

/// The content of a setjy model product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelProduct {
    pub format: String,
    pub fields: Vec<FieldModel>,
}

impl ModelProduct {
    /// Write the product (pretty JSON) for stage `stage`.
    pub fn write(&self, path: &Path, stage: &str) -> Result<(), StageError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| StageError::Failed(format!("stage {stage}: {e}")))?;
        std::fs::write(path, text)?;
        Ok(())
    }

    pub fn read(path: &Path) -> Result<Self, StageError> {
        let text = std::fs::read_to_string(path)?;
        let m: ModelProduct = serde_json::from_str(&text).map_err(|e| {
            StageError::InvalidInput(format!(
                "setjy model {} is not valid ({e}); rerun the setjy stage",
                path.display()
            ))
        })?;
        if m.format != MODEL_FORMAT {
            return Err(StageError::InvalidInput(format!(
                "setjy model {} has format {:?}, expected {MODEL_FORMAT:?}; rerun the setjy stage",
                path.display(),
                m.format
            )));
        }
        Ok(m)
    }
}

/// Every upstream model of a vis, resolved per (field, spw).
#[derive(Debug, Clone, Default)]
pub struct ModelSet {
    fields: Vec<FieldModel>,
}

impl ModelSet {
    /// Load the model layers in declaration order.
    pub fn load(layers: &[Layer]) -> Result<Self, StageError> {
        let mut fields = Vec::new();
        for l in layers {
            fields.extend(ModelProduct::read(&l.path)?.fields);
        }
        Ok(Self { fields })
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The model of `field` in `spw` (the last declared wins), if any.
    pub fn get(&self, field: u32, spw: u32) -> Option<&FieldModel> {
        self.fields
            .iter()
            .rev()
            .find(|m| m.field_id == field && m.spws.as_ref().is_none_or(|s| s.contains(&spw)))
    }
}

/// Model visibilities (channel, corr) of a point source on the given channel frequencies.
pub fn model_fc(
    m: &FieldModel,
    freqs_hz: &[f64],
    all_spw_freqs_hz: &[f64],
    corrs: &[CorrType],
) -> Array2<Complex32> {
    let mut out = Array2::<Complex32>::zeros((freqs_hz.len(), corrs.len()));
    let fixed = (!m.scalebychan).then(|| mean(all_spw_freqs_hz));
    for (ci, &f) in freqs_hz.iter().enumerate() {
        let v = m.model.corr_model(fixed.unwrap_or(f), corrs);
        for (pi, z) in v.into_iter().enumerate() {
            out[[ci, pi]] = z;
        }
    }
    out
}

/// Arithmetic mean (0 for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}
