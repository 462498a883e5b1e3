//! flagdata mode='shadow': an antenna is shadowed at a timestamp when some baseline's
//! projected length sqrt(u²+v²) is below the mean dish diameter minus `tolerance`; the
//! antenna behind is ANTENNA1 if w < 0, else ANTENNA2 (CASA's rule, algorithms.md §8.2).
//! Every selected row with a shadowed antenna at that time is flagged, autocorrelations too.

use super::Ctx;
use crate::error::Result;
use crate::selection::Selection;
use almacal_core::flaglayer::FlagLayer;
use std::collections::{BTreeMap, BTreeSet};

/// Antennas shadowed given the cross-correlation baselines `(ant1, ant2, uvw_m)` of one
/// timestamp, dish diameters (m, by antenna id) and a tolerance (m).
pub fn shadowed_antennas(
    baselines: &[(usize, usize, [f64; 3])],
    diameter_m: &[f64],
    tolerance_m: f64,
) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for &(a1, a2, uvw) in baselines {
        if a1 == a2 {
            continue;
        }
        let (Some(d1), Some(d2)) = (diameter_m.get(a1), diameter_m.get(a2)) else {
            continue;
        };
        let uvdist = (uvw[0] * uvw[0] + uvw[1] * uvw[1]).sqrt();
        if uvdist < 0.5 * (d1 + d2) - tolerance_m {
            out.insert(if uvw[2] < 0.0 { a1 } else { a2 });
        }
    }
    out
}

pub(crate) fn flag_shadow(
    ctx: &mut Ctx<'_>,
    sel: &Selection,
    rows: &[u64],
    tolerance_m: f64,
    layer: &mut FlagLayer,
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let diam: Vec<f64> = ctx
        .meta
        .antennas
        .iter()
        .map(|a| a.dish_diameter_m)
        .collect();
    // Timestamps touched by the selection; baselines from every row at those times (one
    // DDID suffices: UVW does not depend on the spw).
    let times: BTreeSet<u64> = rows
        .iter()
        .map(|&r| ctx.idx.time_s[r as usize].to_bits())
        .collect();
    let mut per_time: BTreeMap<u64, Vec<(usize, usize, [f64; 3])>> = BTreeMap::new();
    let mut seen: BTreeSet<(u64, i32, i32)> = BTreeSet::new();
    for r in 0..ctx.idx.nrows() {
        let t = ctx.idx.time_s[r].to_bits();
        let (a1, a2) = (ctx.idx.ant1[r], ctx.idx.ant2[r]);
        if a1 == a2 || !times.contains(&t) || !seen.insert((t, a1, a2)) {
            continue;
        }
        let uvw = ctx.main.cell_vec::<f64>("UVW", r as u64)?;
        if uvw.len() == 3 {
            per_time.entry(t).or_default().push((
                a1.max(0) as usize,
                a2.max(0) as usize,
                [uvw[0], uvw[1], uvw[2]],
            ));
        }
    }
    let shadowed: BTreeMap<u64, BTreeSet<usize>> = per_time
        .into_iter()
        .map(|(t, bl)| (t, shadowed_antennas(&bl, &diam, tolerance_m)))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let hit: Vec<u64> = rows
        .iter()
        .copied()
        .filter(|&row| {
            let r = row as usize;
            shadowed.get(&ctx.idx.time_s[r].to_bits()).is_some_and(|s| {
                s.contains(&(ctx.idx.ant1[r].max(0) as usize))
                    || s.contains(&(ctx.idx.ant2[r].max(0) as usize))
            })
        })
        .collect();
    Ok(super::flag_rows(ctx, sel, &hit, layer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_antenna_behind_is_shadowed() {
        let d = [7.0, 7.0, 12.0];
        // 5 m apart in projection, w < 0: antenna 0 is behind.
        let s = shadowed_antennas(&[(0, 1, [3.0, 4.0, -10.0])], &d, 0.0);
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec![0]);
        // w > 0: antenna 1.
        let s = shadowed_antennas(&[(0, 1, [3.0, 4.0, 10.0])], &d, 0.0);
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec![1]);
        // 8 m apart: not shadowed for two 7 m dishes, shadowed for 7 m + 12 m (mean 9.5 m).
        assert!(shadowed_antennas(&[(0, 1, [8.0, 0.0, 1.0])], &d, 0.0).is_empty());
        assert_eq!(
            shadowed_antennas(&[(0, 2, [8.0, 0.0, 1.0])], &d, 0.0).len(),
            1
        );
        // A 2 m tolerance lets the 7+12 pair pass.
        assert!(shadowed_antennas(&[(0, 2, [8.0, 0.0, 1.0])], &d, 2.0).is_empty());
    }
}
