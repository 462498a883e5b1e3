//! Time the visibility views behind stage plots on one MS: `cargo run --release -p
//! almacal-plot --example stage_vis_timing -- MS`.

use almacal_plot::stageplots::{vis_views, StagePlot};
use std::time::Instant;

fn main() {
    let Some(ms) = std::env::args().nth(1) else {
        eprintln!("usage: stage_vis_timing MS");
        std::process::exit(2);
    };
    for plots in [
        vec![StagePlot::VisAmpTime],
        vec![StagePlot::VisAmpFreq],
        vec![
            StagePlot::VisAmpUvdist,
            StagePlot::VisAmpTime,
            StagePlot::VisPhaseTime,
            StagePlot::VisAmpFreq,
            StagePlot::VisPhaseFreq,
        ],
    ] {
        let t0 = Instant::now();
        match vis_views(std::path::Path::new(&ms), &plots) {
            Ok(d) => {
                let n: usize = d.plots.iter().map(|(_, v)| v.points.len()).sum();
                println!(
                    "{plots:?}: {n} points in {:.3} s",
                    t0.elapsed().as_secs_f64()
                );
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    let t0 = Instant::now();
    let _ = almacal_casa::read_meta(std::path::Path::new(&ms));
    println!("read_meta: {:.3} s", t0.elapsed().as_secs_f64());
}
