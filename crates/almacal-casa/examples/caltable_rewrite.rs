//! Re-encode a CASA caltable through almacal's reader and writer:
//! `cargo run -p almacal-casa --example caltable_rewrite -- IN OUT [STAGE]`.
//! Used by `fixtures/caltables/check_casa_opens.py` to check that CASA accepts our tables.

use almacal_casa::caltable::{read_caltable, write_caltable, Provenance};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(inp), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: caltable_rewrite IN OUT [STAGE]".into());
    };
    let stage = args.next().unwrap_or_else(|| "rewrite".into());
    let mut t = read_caltable(&PathBuf::from(&inp))?;
    let prov = Provenance {
        almacal_version: env!("CARGO_PKG_VERSION").into(),
        stage,
        fingerprint: "example".into(),
        params: vec![("source".into(), format!("'{inp}'"))],
    };
    let now = t.rows.iter().map(|r| r.time_s).fold(0.0, f64::max);
    t.sub.history.extend(prov.history_rows(now));
    write_caltable(&PathBuf::from(&out), &t)?;
    println!(
        "{inp} -> {out}: {} rows, VisCal {}",
        t.rows.len(),
        t.keywords.viscal
    );
    Ok(())
}
