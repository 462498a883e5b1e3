//! Visibility plots (plotms views of the tutorial): amplitude vs time coloured by field,
//! amplitude vs uv-distance, amplitude or phase vs frequency, phase vs time. [`extract`]
//! reads and averages points from an MS ([`VisOptions`]: data column, selection, `avgchannel`,
//! `avgtime`, average over baselines, flagged points hidden or kept); [`figure`] turns
//! [`VisPoints`] into a [`crate::Figure`]. `locate` uses the same points.

pub mod accumulate;
pub mod extract;
pub mod figure;

use almacal_casa::selection::SelectionParams;

/// Quantity on x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    Time,
    UvDist,
    Freq,
    Channel,
}

/// Quantity on y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    Amp,
    Phase,
}

/// What distinguishes the colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorBy {
    Field,
    Spw,
    Corr,
    Scan,
    Antenna1,
}

/// What to read and how to average.
#[derive(Debug, Clone)]
pub struct VisOptions {
    /// `DATA`, `CORRECTED_DATA` or `MODEL_DATA`.
    pub column: String,
    pub selection: SelectionParams,
    /// Channels averaged together (0 or 1 = none; `usize::MAX` = all selected channels).
    pub avg_channel: usize,
    /// Averaging interval in seconds, within each scan (0 = none).
    pub avg_time_s: f64,
    /// Average all baselines together.
    pub avg_baselines: bool,
    /// Keep flagged points (averaged among themselves) to draw them in grey.
    pub keep_flagged: bool,
    /// Rows per read chunk.
    pub chunk_rows: usize,
}

impl Default for VisOptions {
    fn default() -> Self {
        Self {
            column: "DATA".into(),
            selection: SelectionParams::default(),
            avg_channel: 0,
            avg_time_s: 0.0,
            avg_baselines: false,
            keep_flagged: false,
            chunk_rows: 20_000,
        }
    }
}

/// One plotted point: a (possibly averaged) visibility with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct VisPoint {
    pub time_s: f64,
    pub uvdist_m: f64,
    pub freq_hz: f64,
    /// First and last channel averaged into this point.
    pub chan: (usize, usize),
    pub amp: f64,
    pub phase_deg: f64,
    pub field: u32,
    pub spw: u32,
    pub scan: i32,
    /// −1 when averaged over baselines.
    pub ant1: i32,
    pub ant2: i32,
    /// Index into [`VisPoints::corr_names`].
    pub corr: usize,
    pub flagged: bool,
}

/// Points and the names needed for titles and legends.
#[derive(Debug, Clone, Default)]
pub struct VisPoints {
    pub ms: String,
    pub column: String,
    pub points: Vec<VisPoint>,
    pub field_names: Vec<String>,
    pub antenna_names: Vec<String>,
    pub corr_names: Vec<String>,
    /// A short description of the selection and averaging, for titles.
    pub description: String,
}

impl VisPoints {
    pub fn field_name(&self, id: u32) -> String {
        self.field_names
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
    pub fn antenna_name(&self, id: i32) -> String {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.antenna_names.get(i))
            .cloned()
            .unwrap_or_else(|| "*".to_string())
    }
    /// `CM01&CM05`, or `all baselines` for baseline averages.
    pub fn baseline_name(&self, p: &VisPoint) -> String {
        if p.ant1 < 0 {
            "all baselines".into()
        } else {
            format!(
                "{}&{}",
                self.antenna_name(p.ant1),
                self.antenna_name(p.ant2)
            )
        }
    }
}
