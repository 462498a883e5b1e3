//! `plotants`: antenna positions projected on the local East/North plane around the array
//! centre, names beside each antenna, the reference antenna marked.

use crate::figure::{Figure, Mark, Panel, Series};
use crate::palette;
use almacal_casa::listobs::itrf_to_lonlat;
use almacal_core::MsMeta;

/// One antenna in local coordinates (m, relative to the mean position).
#[derive(Debug, Clone, PartialEq)]
pub struct AntennaPos {
    pub name: String,
    pub east_m: f64,
    pub north_m: f64,
}

/// Everything `plotants` draws.
#[derive(Debug, Clone)]
pub struct AntennaLayout {
    /// Usually the MS name.
    pub source: String,
    pub antennas: Vec<AntennaPos>,
    pub refant: Option<String>,
}

/// East/North (m) of ITRF positions relative to their mean.
pub fn local_en(itrf: &[[f64; 3]]) -> Vec<(f64, f64)> {
    if itrf.is_empty() {
        return Vec::new();
    }
    let n = itrf.len() as f64;
    let mut c = [0.0; 3];
    for p in itrf {
        for k in 0..3 {
            c[k] += p[k] / n;
        }
    }
    let (lon, lat) = itrf_to_lonlat(c);
    let (sl, cl) = lon.sin_cos();
    let (sp, cp) = lat.sin_cos();
    itrf.iter()
        .map(|p| {
            let d = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
            let east = -sl * d[0] + cl * d[1];
            let north = -sp * cl * d[0] - sp * sl * d[1] + cp * d[2];
            (east, north)
        })
        .collect()
}

impl AntennaLayout {
    /// The layout of the antennas of an MS that are not flagged and have a position.
    pub fn from_meta(meta: &MsMeta, refant: Option<&str>) -> Self {
        let ants: Vec<_> = meta
            .antennas
            .iter()
            .filter(|a| !a.flag_row && a.position_m.iter().any(|v| *v != 0.0))
            .collect();
        let pos: Vec<[f64; 3]> = ants.iter().map(|a| a.position_m).collect();
        let en = local_en(&pos);
        Self {
            source: ms_display_name(&meta.path),
            antennas: ants
                .iter()
                .zip(en)
                .map(|(a, (e, n))| AntennaPos {
                    name: a.name.clone(),
                    east_m: e,
                    north_m: n,
                })
                .collect(),
            refant: refant.map(str::to_owned),
        }
    }

    /// The figure: one panel, equal aspect, reference antenna in red.
    pub fn figure(&self) -> Figure {
        let mut normal = Series::new("antenna", palette::qual(0), Mark::Labelled);
        let mut reference = Series::new("reference antenna", palette::OUTLIER, Mark::Labelled);
        for a in &self.antennas {
            let s = if self.refant.as_deref() == Some(a.name.as_str()) {
                &mut reference
            } else {
                &mut normal
            };
            s.points.push((a.east_m, a.north_m));
            s.point_labels.push(a.name.clone());
        }
        let mut p = Panel::new(
            format!("{} antennas", self.antennas.len()),
            "East offset from array centre (m)",
            "North offset from array centre (m)",
        );
        p.equal_aspect = true;
        p.legend = !reference.points.is_empty();
        p.series.push(normal);
        if !reference.points.is_empty() {
            p.series.push(reference);
        }
        let title = match &self.refant {
            Some(r) => format!("Antenna positions: {} (refant {r})", self.source),
            None => format!("Antenna positions: {}", self.source),
        };
        Figure::single(title, p)
    }
}

/// The last path component of an MS or table path, for titles.
pub fn ms_display_name(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    std::path::Path::new(trimmed)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn east_north_of_a_local_offset() {
        // Two points 100 m apart along local east at lon 0, lat 0: ITRF y is east there.
        let r = 6_378_137.0;
        let en = local_en(&[[r, -50.0, 0.0], [r, 50.0, 0.0]]);
        assert!((en[0].0 + 50.0).abs() < 1e-6 && en[0].1.abs() < 1e-6);
        assert!((en[1].0 - 50.0).abs() < 1e-6);
    }
}
