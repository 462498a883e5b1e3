//! Colours: a qualitative palette for scans/fields/antennas, and fixed colours for
//! correlations, flagged points and reference lines.

use plotters::style::RGBColor;

/// Tableau-like qualitative palette, readable on white.
const QUAL: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The `i`-th qualitative colour (cycles).
pub fn qual(i: usize) -> RGBColor {
    QUAL[i % QUAL.len()]
}

/// Colour of correlation `i` (XX/RR blue, YY/LL orange, cross hands green/red).
pub fn corr(i: usize) -> RGBColor {
    qual(i)
}

/// Flagged points when shown.
pub const FLAGGED: RGBColor = RGBColor(200, 200, 200);
/// Fitted baselines, thresholds.
pub const REFERENCE: RGBColor = RGBColor(0, 0, 0);
/// Highlighted outliers (locate).
pub const OUTLIER: RGBColor = RGBColor(230, 0, 0);
