//! almacal-plot: what users look at. PNG plots of MeasurementSets and calibration tables
//! (the tutorial's plotants, plotms and plotbandpass views), `locate` (rows behind outliers
//! and the flagdata commands that remove them) and the HTML run report with QA scores.
//!
//! Every plot type is split in two: a function from plain data structs to a [`Figure`]
//! (testable without files) and a thin loader from an MS or caltable. [`Figure::render`]
//! draws any figure with `plotters` and a font compiled into the binary (no system fonts).

pub mod bandpass;
pub mod caldata;
pub mod error;
pub mod figure;
pub mod flagcmd;
pub mod gaintime;
pub mod locate;
pub mod palette;
pub mod plotants;
pub mod qa;
pub mod render;
pub mod renorm;
pub mod report;
pub mod stageplots;
pub mod tsys;
pub mod vis;

pub use error::{PlotError, Result};
pub use figure::{AxisFmt, Figure, Mark, NamedFigure, Panel, Series};
pub use report::write_report;
