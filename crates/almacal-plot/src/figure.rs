//! The plain description of a figure: a title and a grid of panels, each with axis labels,
//! ranges and point/line series. Plot modules build these; [`crate::render`] draws them.

use plotters::style::RGBColor;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Small filled circles.
    Dots,
    /// Connected line.
    Line,
    /// Dashed-looking thin line (thresholds, fits).
    Thin,
    /// Labelled markers (antenna positions): a larger circle plus the series label per point.
    Labelled,
}

/// One set of points with one colour.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
    pub points: Vec<(f64, f64)>,
    /// Per-point text, only for [`Mark::Labelled`].
    pub point_labels: Vec<String>,
}

impl Series {
    pub fn new(label: impl Into<String>, color: RGBColor, mark: Mark) -> Self {
        Self {
            label: label.into(),
            color,
            mark,
            points: Vec::new(),
            point_labels: Vec::new(),
        }
    }
}

/// Tick label format of an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AxisFmt {
    /// Plain numbers.
    Plain,
    /// Values are MJD seconds (UTC); ticks print `HH:MM:SS`.
    TimeUtc,
}

/// One plot area.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Fixed range, or `None` to fit the data (with a margin).
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub x_fmt: AxisFmt,
    pub series: Vec<Series>,
    /// Draw a legend of the series labels.
    pub legend: bool,
    /// Keep x and y on the same scale (antenna layouts).
    pub equal_aspect: bool,
}

impl Panel {
    pub fn new(title: impl Into<String>, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: None,
            y_range: None,
            x_fmt: AxisFmt::Plain,
            series: Vec::new(),
            legend: false,
            equal_aspect: false,
        }
    }

    /// Number of points over all series.
    pub fn npoints(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }

    /// The (min, max) of x and y over all finite points, or `None` when there are none.
    pub fn data_bounds(&self) -> Option<((f64, f64), (f64, f64))> {
        let mut b: Option<((f64, f64), (f64, f64))> = None;
        for &(x, y) in self.series.iter().flat_map(|s| s.points.iter()) {
            if !x.is_finite() || !y.is_finite() {
                continue;
            }
            b = Some(match b {
                None => ((x, x), (y, y)),
                Some(((x0, x1), (y0, y1))) => ((x0.min(x), x1.max(x)), (y0.min(y), y1.max(y))),
            });
        }
        b
    }
}

/// A titled grid of panels (row-major), rendered to one PNG.
#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub cols: usize,
    pub rows: usize,
    pub panels: Vec<Panel>,
}

impl Figure {
    /// A figure of `panels` laid out `cols` wide, each panel about `panel_w`×`panel_h` px.
    pub fn grid(title: impl Into<String>, panels: Vec<Panel>, cols: usize) -> Self {
        let cols = cols.max(1).min(panels.len().max(1));
        let rows = panels.len().div_ceil(cols).max(1);
        let (pw, ph) = if cols == 1 && rows == 1 {
            (1000, 700)
        } else {
            (460, 340)
        };
        Self {
            title: title.into(),
            width: (pw * cols as u32).max(800),
            height: ph * rows as u32 + 50,
            cols,
            rows,
            panels,
        }
    }

    /// A figure with one panel.
    pub fn single(title: impl Into<String>, panel: Panel) -> Self {
        Self::grid(title, vec![panel], 1)
    }

    pub fn npoints(&self) -> usize {
        self.panels.iter().map(Panel::npoints).sum()
    }
}

/// A figure with the file stem it should be saved under.
#[derive(Debug, Clone)]
pub struct NamedFigure {
    pub stem: String,
    pub figure: Figure,
}

/// Split `items` into pages of at most `per_page` (the plotms 3×3 iteration).
pub fn pages<T: Clone>(items: &[T], per_page: usize) -> Vec<Vec<T>> {
    items.chunks(per_page.max(1)).map(<[T]>::to_vec).collect()
}
