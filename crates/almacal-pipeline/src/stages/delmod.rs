//! The `delmod` stage: a model layer that resets the selected fields (all when `field` is
//! empty) to CASA's default model, a 1 Jy point source, for the later stages reading the
//! same vis ([`super::model`]: the last declared model of a field wins). `otf = false`
//! deletes nothing, as in CASA (almacal's models are CASA's on-the-fly models).

use almacal_casa::meta_read::read_meta;
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_recipe::ProductKind;
use almacal_solve::setjy::FluxModel;
use serde_json::json;

use super::model::{FieldModel, ModelProduct, MODEL_FORMAT};
use super::prep_common::{casa_err, vis};
use super::solve_common::{param_bool, param_str};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `delmod` task.
pub struct Delmod;

impl StageExecutor for Delmod {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let name = &ctx.stage.name;
        let vis = vis(ctx)?;
        let meta = read_meta(&vis.path).map_err(|e| casa_err(name, e))?;
        let sel = Selection::resolve(
            &meta,
            &SelectionParams {
                field: param_str(ctx, "field").to_string(),
                ..Default::default()
            },
        )
        .map_err(|e| StageError::selection(name, e))?;
        let fields: Vec<u32> = if !param_bool(ctx, "otf", true) {
            Vec::new()
        } else {
            match &sel.fields {
                Some(f) => f.iter().map(|&x| x as u32).collect(),
                None => (0..meta.fields.len() as u32).collect(),
            }
        };
        let unit = FluxModel::manual([1.0, 0.0, 0.0, 0.0], Vec::new(), 1e9)
            .map_err(|e| StageError::Failed(format!("stage {name}: {e}")))?;
        let product = ModelProduct {
            format: MODEL_FORMAT.into(),
            fields: fields
                .iter()
                .map(|&f| FieldModel {
                    field_id: f,
                    field_name: meta
                        .fields
                        .get(f as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                    standard: "delmod (CASA's default 1 Jy point source)".into(),
                    spws: None,
                    scalebychan: true,
                    model: unit.clone(),
                    fluxd_per_spw: Default::default(),
                })
                .collect(),
        };
        product.write(ctx.output(ProductKind::Model)?, name)?;
        Ok(StageOutput {
            summary: Some(json!({ "fields_reset": fields })),
        })
    }
}
