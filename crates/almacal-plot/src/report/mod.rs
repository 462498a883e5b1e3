//! The HTML run report `<workdir>/report/index.html`, from `<workdir>/run.json`, the stage
//! records (resolved parameters) and the products: one section per stage with status, time,
//! parameters, products, QA score and plot thumbnails (the stage's own `plots = [...]` from
//! `<workdir>/plots/<stage>/` when the run made them, else made here from the caltables; plus
//! any PNG product), the flux-scale table and a flag summary. Self-contained: inline CSS, no
//! scripts, images are local files beside the page.

mod gather;
mod html;

use crate::error::{io_err, PlotError, Result};
use std::path::{Path, PathBuf};

pub use gather::{gather, Plot, ReportData, StageInfo};

/// Write `<workdir>/report/index.html` (and its plots under `report/plots/`); returns the
/// page's path.
pub fn write_report(workdir: &Path) -> Result<PathBuf> {
    let run_json = workdir.join("run.json");
    if !run_json.is_file() {
        return Err(PlotError::BadInput {
            path: run_json,
            msg: "no run.json: run the recipe first".into(),
        });
    }
    let dir = workdir.join("report");
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(io_err(&plots))?;
    let data = gather(workdir, &plots)?;
    let page = html::page(&data);
    let out = dir.join("index.html");
    std::fs::write(&out, page).map_err(io_err(&out))?;
    Ok(out)
}
