//! Shared helpers of the plot tests: simulated MSs (made once per test binary), reference
//! data paths and PNG checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// CASA's tables for the sim_small reference MS (`../shared/refdata` beside the clone, or
/// `$ALMACAL_REFDATA`); `None` when absent, unless `ALMACAL_REQUIRE_REFDATA` is set (CI),
/// in which case the test fails loudly.
pub fn casa_table(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ALMACAL_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/refdata"));
    let p = base.join("sim_small/casa").join(name);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_some() {
        panic!(
            "reference data {} is missing (ALMACAL_REQUIRE_REFDATA is set)",
            p.display()
        );
    }
    eprintln!("note: {} not present; this check runs in CI", p.display());
    None
}

pub fn ngc5921() -> PathBuf {
    repo().join("fixtures/ngc5921/ngc5921.ms")
}

fn make_sim(fault: bool, noise: f64) -> PathBuf {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let out = dir.join(if fault { "fault.ms" } else { "clean.ms" });
    let mut cfg = almacal_sim::SimConfig::preset("tiny").expect("preset");
    cfg.fault = fault;
    cfg.noise = noise;
    almacal_sim::simulate(cfg, &out, false, &mut |_| {}).expect("simulate");
    out
}

/// A noise-free tiny simulation (no fault).
pub fn sim_clean() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| make_sim(false, 0.0))
}

/// A tiny simulation with the injected fault, nominal noise.
pub fn sim_fault() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| make_sim(true, 1.0))
}

/// The truth JSON of a simulated MS.
pub fn truth(ms: &Path) -> serde_json::Value {
    let p = PathBuf::from(format!("{}.truth.json", ms.display()));
    serde_json::from_str(&std::fs::read_to_string(p).expect("truth")).expect("truth json")
}

/// Width, height and the variance of the RGB values of a PNG.
pub fn png_stats(path: &Path) -> (u32, u32, f64) {
    let f = std::fs::File::open(path).expect("png exists");
    let dec = png::Decoder::new(std::io::BufReader::new(f));
    let mut reader = dec.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let px = &buf[..info.buffer_size()];
    let n = px.len() as f64;
    let mean = px.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = px
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (info.width, info.height, var)
}

/// Count the pixels of one exact colour (series colours are distinctive).
pub fn count_color(path: &Path, rgb: [u8; 3]) -> usize {
    let f = std::fs::File::open(path).expect("png exists");
    let mut reader = png::Decoder::new(std::io::BufReader::new(f))
        .read_info()
        .expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let ch = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(ch)
        .filter(|p| p[..3] == rgb)
        .count()
}

/// Render and check a figure: expected size, not blank. Returns the render time in ms.
pub fn render_check(fig: &almacal_plot::Figure, path: &Path) -> f64 {
    let t = std::time::Instant::now();
    almacal_plot::render::render(fig, path).expect("render");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let (w, h, var) = png_stats(path);
    assert_eq!((w, h), (fig.width, fig.height), "{}", path.display());
    assert!(
        var > 100.0,
        "{} looks blank (variance {var})",
        path.display()
    );
    eprintln!("{}: {w}x{h}, {ms:.0} ms", path.display());
    ms
}
