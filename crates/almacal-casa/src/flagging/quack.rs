//! flagdata mode='quack': flag the start (or end) of every scan, by scan start/end times.

use super::{Ctx, QuackMode};
use crate::selection::Selection;
use almacal_core::flaglayer::FlagLayer;
use std::collections::BTreeMap;

pub(crate) fn flag_quack(
    ctx: &Ctx<'_>,
    sel: &Selection,
    rows: &[u64],
    interval_s: f64,
    mode: QuackMode,
    layer: &mut FlagLayer,
) -> u64 {
    // Scan extent from the row mid-times, per (observation, scan).
    let mut extent: BTreeMap<(i32, i32), (f64, f64)> = BTreeMap::new();
    for r in 0..ctx.idx.nrows() {
        let key = (ctx.idx.obs[r], ctx.idx.scan[r]);
        let t = ctx.idx.time_s[r];
        let e = extent.entry(key).or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    }
    let hit: Vec<u64> = rows
        .iter()
        .copied()
        .filter(|&row| {
            let r = row as usize;
            let Some(&(start, end)) = extent.get(&(ctx.idx.obs[r], ctx.idx.scan[r])) else {
                return false;
            };
            let t = ctx.idx.time_s[r];
            match mode {
                QuackMode::Beg => t < start + interval_s,
                QuackMode::Endb => t > end - interval_s,
                QuackMode::End => t >= start + interval_s,
                QuackMode::Tail => t <= end - interval_s,
            }
        })
        .collect();
    super::flag_rows(ctx, sel, &hit, layer)
}
