//! Shared driver of the property/fuzz tests (`crates/*/tests/fuzz_*.rs`, which include this
//! file with `#[path]`). The property of every target is "returns, never panics".
//!
//! - Normal `cargo test`: `PROPTEST_CASES` cases (default 256, fewer for slow targets) from
//!   a fixed seed (`PROPTEST_RNG_SEED` overrides it), so the suite is fast and reproducible.
//! - Long mode (`ALMACAL_FUZZ_SECS=N`, what `just fuzz` sets): batches of cases with fresh
//!   seeds until N seconds have passed; prints the number of executions.
//!
//! A failing case is shrunk by proptest and reported with its seed and minimal input.

#![allow(dead_code)]

use proptest::strategy::{BoxedStrategy, Just, Strategy};
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestError, TestRng};
use proptest::test_runner::{TestCaseResult, TestRunner};
use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The long-mode duration, if `ALMACAL_FUZZ_SECS` is set to a positive number.
pub fn long_mode() -> Option<Duration> {
    let secs: f64 = std::env::var("ALMACAL_FUZZ_SECS")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Run `property` on values of `strategy`; it fails the test by panicking or by returning
/// an error. Returns the number of executions (including shrinking steps).
pub fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> TestCaseResult,
) -> u64 {
    fuzz_cases(name, 256, strategy, property)
}

/// [`fuzz`] with another default case count (when `PROPTEST_CASES` is unset), for targets
/// whose cases are slow.
pub fn fuzz_cases<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> TestCaseResult,
) -> u64 {
    let execs = Cell::new(0u64);
    let counted = |v: S::Value| {
        execs.set(execs.get() + 1);
        property(v)
    };
    let base = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let base = if std::env::var_os("PROPTEST_CASES").is_some() {
        base
    } else {
        Config {
            cases: default_cases,
            ..base
        }
    };
    let started = Instant::now();
    match long_mode() {
        None => {
            let seed = match base.rng_seed {
                RngSeed::Fixed(s) => s,
                RngSeed::Random => 0x5eed_a1ca,
            };
            run_batch(name, &strategy, &counted, base, seed);
        }
        Some(limit) => {
            let mut batch = 0u64;
            while started.elapsed() < limit {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                let seed = nanos ^ batch.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let config = Config {
                    // One seed per batch of 8x the default case count.
                    cases: default_cases.saturating_mul(8),
                    ..base.clone()
                };
                run_batch(name, &strategy, &counted, config, seed);
                batch += 1;
            }
        }
    }
    let n = execs.get();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {name}: {n} executions in {secs:.1} s ({:.0}/s), 0 crashes",
        n as f64 / secs.max(1e-9)
    );
    n
}

fn run_batch<S: Strategy>(
    name: &str,
    strategy: &S,
    property: &impl Fn(S::Value) -> TestCaseResult,
    config: Config,
    seed: u64,
) {
    let config = Config {
        rng_seed: RngSeed::Fixed(seed),
        ..config
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
    let mut runner = TestRunner::new_with_rng(config, rng);
    match runner.run(strategy, property) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => panic!(
            "fuzz {name}: CRASH (rerun with PROPTEST_RNG_SEED={seed}): {reason}\nminimal input: {value:#?}"
        ),
        Err(TestError::Abort(reason)) => panic!("fuzz {name}: aborted (seed {seed}): {reason}"),
    }
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (k, chunk) in out.chunks_mut(8).enumerate() {
        let v = seed ^ (k as u64).wrapping_mul(0xa076_1d64_78bd_642f);
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// Turn a caught panic into a failing case (for properties that call code in
/// `catch_unwind` themselves).
pub fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

/// Grammar-ish strings: concatenations of `tokens` (and a few generic ones), or, one time
/// in five, an arbitrary string.
pub fn token_string(tokens: Vec<String>, max_tokens: usize) -> BoxedStrategy<String> {
    let mut all: Vec<String> = GENERIC_TOKENS.iter().map(|s| s.to_string()).collect();
    all.extend(tokens);
    let tok = proptest::sample::select(all);
    let joined = proptest::collection::vec(tok, 0..=max_tokens).prop_map(|v| v.concat());
    proptest::prop_oneof![
        4 => joined,
        1 => proptest::arbitrary::any::<String>(),
        1 => Just(String::new()),
    ]
    .boxed()
}

/// Digits, operators and separators of CASA's selection and parameter syntaxes.
pub const GENERIC_TOKENS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "9",
    "10",
    "15",
    "31",
    "63",
    "64",
    "127",
    "-1",
    "-0",
    "+1",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "99999999999999999999999",
    "1e308",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "0.5",
    ".",
    "..",
    "1.",
    ".5",
    "1e",
    "e5",
    "0x1F",
    "~",
    "~~",
    ";",
    ",",
    ":",
    "::",
    "<",
    ">",
    "<=",
    ">=",
    "*",
    "**",
    "!",
    "&",
    "&&",
    "&&&",
    "^",
    "^^",
    " ",
    "  ",
    "\t",
    "\n",
    "'",
    "\"",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "?",
    "/",
    "//",
    "-",
    "+",
    "=",
    "#",
    "\\",
    "%",
    "$",
    "@",
    "m",
    "km",
    "lambda",
    "klambda",
    "Mlambda",
    "mlambda",
    "Hz",
    "kHz",
    "MHz",
    "GHz",
    "s",
    "ms",
    "min",
    "h",
    "d",
    "deg",
    "rad",
    "arcsec",
    "2009/12/05/",
    "2023/01/01/00:00:00",
    "00:00:00",
    "23:59:59.9",
    "25:61:61",
    "12:34",
    "1:2:3.4",
    "/0",
    "9999/99/99/",
    "é",
    "\u{0}",
    "\u{200b}",
    "𝔸",
];
