//! `almacal simulate --preset NAME --out PATH.ms [...]`: write a simulated ALMA MS plus its
//! truth file (`PATH.ms.truth.json`) and antenna positions (`PATH.antpos.json`).

use almacal_sim::degrade::Degrade;
use almacal_sim::{simulate, SimConfig};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::exit::{ERROR as EXIT_WRITE, USAGE as EXIT_USAGE};

#[derive(Args)]
pub struct SimulateArgs {
    /// `tiny` (seconds, a few MB), `tutorial` (≈45 min track, 1024 channels) or `bench-N`
    /// (about N GB).
    #[arg(long)]
    pub preset: String,
    /// Output MeasurementSet path.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed (same seed, same bytes).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Channels per science spw.
    #[arg(long)]
    pub nchan: Option<usize>,
    /// Track length in minutes (sets the number of phase-calibrator/target cycles).
    #[arg(long)]
    pub duration_min: Option<f64>,
    /// Number of antennas (CM01 upwards, at most 12).
    #[arg(long)]
    pub antennas: Option<usize>,
    /// Corrupt CM05 in spw 20 over two target scans and the phase scan between them.
    #[arg(long)]
    pub fault: bool,
    /// Simulate the target without its line emission (no renormalization needed).
    #[arg(long)]
    pub no_line: bool,
    /// Flag an antenna, as online flags would: `ANT[@SPW][/CORR]:SCANS[:FRACTION]`, e.g.
    /// `CM12:3:0.6` (the first 60 % of scan 3), `CM04@20:all` (absent from spw 20),
    /// `CM03/YY:3` (one correlation). Repeatable.
    #[arg(long, value_name = "SPEC")]
    pub flag_antenna: Vec<String>,
    /// Zero WEIGHT and SIGMA of an antenna's rows, left unflagged: `ANT:SCANS`. Repeatable.
    #[arg(long, value_name = "SPEC")]
    pub zero_weight: Vec<String>,
    /// Four correlations (XX, XY, YX, YY) instead of XX, YY; the cross hands hold noise only.
    #[arg(long)]
    pub full_pol: bool,
    /// Replace an existing MeasurementSet at --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Noise scale (1 = nominal radiometer noise, 0 = noise-free; for tests).
    #[arg(long, hide = true)]
    pub noise: Option<f64>,
    /// Generator threads (default: all cores); the output is identical for any value.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Do not print progress.
    #[arg(long)]
    pub quiet: bool,
}

fn config(args: &SimulateArgs) -> Result<SimConfig, almacal_sim::SimError> {
    let mut cfg = SimConfig::preset(&args.preset)?;
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if let Some(n) = args.nchan {
        cfg.nchan = n;
        cfg.nchan_tsys = cfg.nchan_tsys.min(n.max(4));
    }
    if let Some(n) = args.antennas {
        cfg.n_antennas = n;
    }
    if let Some(m) = args.duration_min {
        cfg.set_duration_min(m)?;
    }
    if let Some(x) = args.noise {
        cfg.noise = x;
    }
    if let Some(t) = args.threads {
        cfg.threads = t;
    }
    cfg.fault = args.fault;
    cfg.full_pol = args.full_pol;
    for f in &args.flag_antenna {
        cfg.degrades.push(Degrade::parse_flag(f)?);
    }
    for z in &args.zero_weight {
        cfg.degrades.push(Degrade::parse_zero_weight(z)?);
    }
    cfg.target_line = !args.no_line;
    cfg.validate()?;
    Ok(cfg)
}

pub fn run(args: &SimulateArgs) -> u8 {
    let cfg = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(parent) {
            eprintln!("error: cannot create {}: {e}", parent.display());
            return EXIT_USAGE;
        }
    }
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut last = -1i64;
    let mut progress = |f: f64| {
        let pct = (f * 100.0) as i64;
        if show && pct / 5 != last / 5 {
            eprint!("\rsimulating: {pct:3}%");
            last = pct;
        }
    };
    match simulate(cfg, &args.out, args.overwrite, &mut progress) {
        Ok(r) => {
            if show {
                eprintln!();
            }
            if !args.quiet {
                println!(
                    "wrote {} ({} rows, {:.1} MB) in {:.2} s ({:.1} MB/s)",
                    r.ms.display(),
                    r.nrows,
                    r.disk_bytes as f64 / 1e6,
                    r.seconds,
                    r.mb_per_s()
                );
                println!("truth: {}", r.truth.display());
                println!("antenna positions: {}", r.antpos.display());
            }
            0
        }
        Err(e) => {
            if show {
                eprintln!();
            }
            eprintln!("error: {e}");
            match e {
                almacal_sim::SimError::Config(_) => EXIT_USAGE,
                _ => EXIT_WRITE,
            }
        }
    }
}
