//! The `listobs` stage: the CASA-listobs-style summary of the stage's vis as a JSON report
//! (almacal-casa `listobs::summary`), with the text rendering under `"text"`.

use almacal_casa::listobs::{render_text, summary};
use almacal_casa::read_meta;
use almacal_recipe::ProductKind;

use super::prep_common::{casa_err, vis, write_json};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `listobs` task.
pub struct Listobs;

impl StageExecutor for Listobs {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        let meta = read_meta(&vis(ctx)?.path).map_err(|e| casa_err(stage, e))?;
        let mut json = serde_json::to_value(summary(&meta)).unwrap_or_default();
        if let Some(o) = json.as_object_mut() {
            o.insert("text".into(), render_text(&meta).into());
        }
        write_json(ctx.output(ProductKind::Report)?, &json)?;
        Ok(StageOutput {
            summary: Some(serde_json::json!({ "nrows": meta.nrows })),
        })
    }
}
