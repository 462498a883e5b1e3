//! Draws a [`Figure`] to a PNG with `plotters`' bitmap backend. Text uses DejaVu Sans compiled
//! into the binary (`fonts/DejaVuSans.ttf`, Bitstream Vera licence), registered once, so no
//! system font is needed.

use crate::error::{PlotError, Result};
use crate::figure::{AxisFmt, Figure, Mark, NamedFigure, Panel};
use crate::palette;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// Above this many points in a series, draw pixels instead of circles.
const PIXEL_THRESHOLD: usize = 60_000;

fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Draw("embedded font could not be loaded".into()))
    }
}

fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// Render `fig` to the PNG at `path` (parent directories must exist).
pub fn render(fig: &Figure, path: &Path) -> Result<()> {
    ensure_font()?;
    let (w, h) = (fig.width, fig.height);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let body = root
            .titled(&fig.title, (FAMILY, 22).into_font())
            .map_err(draw_err)?;
        let cells = body.split_evenly((fig.rows.max(1), fig.cols.max(1)));
        for (panel, cell) in fig.panels.iter().zip(cells.iter()) {
            draw_panel(panel, cell)?;
        }
        root.present().map_err(draw_err)?;
    }
    write_png(path, w, h, &rgb)
}

/// Encode RGB pixels as a PNG, favouring speed (plots are mostly flat colour, so fast
/// deflate with the Sub filter stays small).
fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(crate::error::io_err(path))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::FilterType::Paeth);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut out = enc.write_header().map_err(draw_err)?;
    out.write_image_data(rgb).map_err(draw_err)?;
    out.finish().map_err(draw_err)
}

/// Render each figure to `<dir>/<prefix>_<stem>.png` (creating `dir`), in parallel; returns
/// the paths.
pub fn save_all(figs: &[NamedFigure], dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir).map_err(crate::error::io_err(dir))?;
    figs.par_iter()
        .map(|f| {
            let path = dir.join(format!("{prefix}_{}.png", f.stem));
            render(&f.figure, &path)?;
            Ok(path)
        })
        .collect()
}

/// Pad a range: a degenerate range becomes ±1 (or ±10 %), others get 5 % margins.
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 0.0 {
        let d = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - d, hi + d)
    } else {
        (lo - 0.05 * span, hi + 0.05 * span)
    }
}

fn ranges(panel: &Panel, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> ((f64, f64), (f64, f64)) {
    let bounds = panel.data_bounds();
    let x = panel.x_range.unwrap_or_else(|| match bounds {
        Some((b, _)) => padded(b.0, b.1),
        None => (0.0, 1.0),
    });
    let y = panel.y_range.unwrap_or_else(|| match bounds {
        Some((_, b)) => padded(b.0, b.1),
        None => (0.0, 1.0),
    });
    if !panel.equal_aspect {
        return (x, y);
    }
    // Same metres per pixel on both axes (approximate plot area: minus label areas).
    let (w, h) = area.dim_in_pixel();
    let pw = (w as f64 - 90.0).max(10.0);
    let ph = (h as f64 - 90.0).max(10.0);
    let scale = ((x.1 - x.0) / pw).max((y.1 - y.0) / ph);
    let (cx, cy) = (0.5 * (x.0 + x.1), 0.5 * (y.0 + y.1));
    (
        (cx - 0.5 * scale * pw, cx + 0.5 * scale * pw),
        (cy - 0.5 * scale * ph, cy + 0.5 * scale * ph),
    )
}

fn draw_panel(panel: &Panel, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()> {
    let (xr, yr) = ranges(panel, area);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FAMILY, 15).into_font())
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(58)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(draw_err)?;
    let time_fmt = |v: &f64| almacal_core::time::format_time_of_day(*v, 0);
    let (xs, ys) = (xr.1 - xr.0, yr.1 - yr.0);
    let x_fmt = move |v: &f64| format_tick(*v, xs);
    let y_fmt = move |v: &f64| format_tick(*v, ys);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .axis_desc_style((FAMILY, 13))
        .label_style((FAMILY, 11))
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(6)
        .y_labels(6)
        .y_label_formatter(&y_fmt);
    match panel.x_fmt {
        AxisFmt::TimeUtc => mesh.x_label_formatter(&time_fmt),
        AxisFmt::Plain => mesh.x_label_formatter(&x_fmt),
    };
    mesh.draw().map_err(draw_err)?;

    for s in &panel.series {
        let color = s.color;
        let inside = |p: &&(f64, f64)| {
            p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1 && p.0.is_finite()
        };
        let anno = match s.mark {
            Mark::Dots if s.points.len() > PIXEL_THRESHOLD => chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(inside)
                        .map(|p| Pixel::new(*p, color.filled())),
                )
                .map_err(draw_err)?,
            Mark::Dots => chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(inside)
                        .map(|p| Circle::new(*p, 2, color.filled())),
                )
                .map_err(draw_err)?,
            Mark::Line | Mark::Thin => {
                let width = if s.mark == Mark::Line { 2 } else { 1 };
                let style = color.stroke_width(width);
                chart
                    .draw_series(
                        segments(&s.points)
                            .into_iter()
                            .map(move |seg| PathElement::new(seg, style)),
                    )
                    .map_err(draw_err)?
            }
            Mark::Labelled => {
                let labels = s.point_labels.iter().map(String::as_str);
                let pts: Vec<((f64, f64), &str)> = s
                    .points
                    .iter()
                    .copied()
                    .zip(labels.chain(std::iter::repeat("")))
                    .collect();
                chart
                    .draw_series(pts.into_iter().map(|(p, name)| {
                        EmptyElement::at(p)
                            + Circle::new((0, 0), 5, color.filled())
                            + Text::new(name.to_string(), (7, -14), (FAMILY, 13).into_font())
                    }))
                    .map_err(draw_err)?
            }
        };
        if panel.legend && !s.label.is_empty() {
            anno.label(s.label.as_str()).legend(move |(x, y)| {
                Rectangle::new([(x, y - 4), (x + 10, y + 4)], color.filled())
            });
        }
    }
    if panel.legend && panel.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(palette::FLAGGED)
            .label_font((FAMILY, 11))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Split a polyline at non-finite points (gaps: flagged channels, separate rows).
pub fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Tick label with enough decimals to tell ticks `span / 6` apart (trailing zeros trimmed).
pub fn format_tick(v: f64, span: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        return format!("{v:.3e}");
    }
    let step = (span / 6.0).abs();
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10()).ceil().clamp(0.0, 8.0) as usize + 1
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(format_tick(180.0, 360.0), "180");
        assert_eq!(format_tick(0.25, 1.0), "0.25");
        // A 0.5 GHz wide spw at 346 GHz: ticks must differ.
        assert_ne!(format_tick(345.9, 0.5), format_tick(346.0, 0.5));
        assert_eq!(format_tick(345.95, 0.5), "345.95");
        assert_eq!(format_tick(3.4e11, 1e10), "3.400e11");
    }

    #[test]
    fn lines_break_at_gaps() {
        let s = segments(&[(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0)]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }

    #[test]
    fn padding_handles_degenerate_ranges() {
        assert_eq!(padded(0.0, 0.0), (-1.0, 1.0));
        let (a, b) = padded(10.0, 10.0);
        assert!(a < 10.0 && b > 10.0);
        assert_eq!(padded(0.0, 10.0), (-0.5, 10.5));
    }
}
