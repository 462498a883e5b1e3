//! Fuzz: `almacal_recipe::load` on mutated versions of the real recipes (`recipes/*.toml`:
//! bit flips, byte overwrites, line deletions/duplications/swaps, random TOML values spliced
//! into keys, inserted lines, truncation) and on random text must return Ok or Err (and the
//! errors must render), never panic. `ALMACAL_FUZZ_SECS=N` runs it for N seconds.
//!
//! Sandbox: each recipe is loaded from a temporary directory holding copies of the files it
//! references (flag files, a small antenna-position JSON, fake MS directories), so the test
//! reads nothing outside the repo and its tempdir.

#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_recipe::{load, load_str, LoadOptions};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sandbox: `<tmp>/recipes/` with the flag files, `antpos.json` and fake MSs.
struct Sandbox {
    _dir: tempfile::TempDir,
    recipes_dir: PathBuf,
    /// (file name, sandboxed text)
    recipes: Vec<(String, String)>,
}

fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let recipes_dir = dir.path().join("recipes");
        std::fs::create_dir_all(&recipes_dir).expect("mkdir");
        let mut recipes = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(repo().join("recipes"))
            .expect("recipes/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".flags.txt") {
                std::fs::copy(&p, recipes_dir.join(&name)).expect("copy flags");
            } else if name.ends_with(".toml") {
                let text = std::fs::read_to_string(&p).expect("read recipe");
                recipes.push((name, sandboxed(&text)));
            }
        }
        assert!(recipes.len() >= 3, "expected the committed recipes");
        std::fs::write(
            recipes_dir.join("antpos.json"),
            r#"{"offsets": {"CM01": [0.001, 0.0, -0.002]}}"#,
        )
        .expect("write json");
        for ms in ["raw.ms", "data/other.ms"] {
            let d = recipes_dir.join(ms);
            std::fs::create_dir_all(&d).expect("mkdir ms");
            std::fs::write(d.join("table.dat"), b"x").expect("write table.dat");
        }
        Sandbox {
            _dir: dir,
            recipes_dir,
            recipes,
        }
    })
}

/// Point every MS input at the fake `raw.ms` and every antenna-position file at the
/// sandbox's copy, so the recipe validates in the sandbox.
fn sandboxed(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let value = line.split_once('=').map_or("", |(_, v)| v.trim());
        if value.starts_with('"') && value.contains(".ms\"") && !line.contains("split") {
            out.push_str(&format!("{key} = \"raw.ms\""));
        } else if key == "infile" {
            out.push_str("infile = \"antpos.json\"");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Replace the value of the n-th `key = value` line.
    SpliceValue(Index, String),
    InsertLine(Index, String),
    Truncate(Index),
}

const KEYS: &[&str] = &[
    "task",
    "vis",
    "name",
    "workdir",
    "mode",
    "spw",
    "field",
    "antenna",
    "scan",
    "intent",
    "timerange",
    "uvrange",
    "correlation",
    "commands",
    "caltype",
    "infile",
    "inpfile",
    "gaintable",
    "gainfield",
    "interp",
    "spwmap",
    "solint",
    "refant",
    "combine",
    "minsnr",
    "calmode",
    "output",
    "after",
    "plots",
    "apply",
    "fluxtable",
    "reference",
    "transfer",
    "standard",
    "model",
    "clipminmax",
    "autocorr",
    "reason",
    "quackinterval",
    "action",
    "versionname",
    "keepflags",
    "datacolumn",
    "split",
    "bandtype",
    "solnorm",
    "smodel",
    "parameter",
    "calwt",
    "applymode",
    "raw",
    "refant",
    "minblperant",
    "\"quoted key\"",
    "a.b",
    "stage.x.task",
    "",
];

const HEADERS: &[&str] = &[
    "[recipe]",
    "[defaults]",
    "[inputs]",
    "[stage.new]",
    "[stage.tsys]",
    "[stage.initial_flags]",
    "[[stage]]",
    "[stage]",
    "[stage.x.y]",
    "[stage.\"q\"]",
    "[]",
    "[stage.",
    "[[stage.a]]",
];

/// A TOML value, as text (often valid, sometimes not).
fn toml_value() -> BoxedStrategy<String> {
    let names: Vec<String> = [
        "tsys",
        "antpos",
        "initial_flags",
        "raw",
        "bandpass",
        "gaincal",
        "flagdata",
        "applycal",
        "gencal",
        "split",
        "renorm",
        "setjy",
        "fluxscale",
        "manual",
        "clip",
        "quack",
        "flagcmd",
        "CM12",
        "inf",
        "int",
        "10ch",
        "linear,spline",
        "auto",
        "nearest",
        "ap",
        "p",
        "a",
        "amp",
        "ants",
        "tsys_spectrum",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let quoted = fuzz_support::token_string(names, 6)
        .prop_map(|s| format!("{:?}", s.replace(['\n', '\r'], " ")));
    let leaf = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        any::<bool>().prop_map(|v| v.to_string()),
        proptest::sample::select(vec![
            "nan",
            "inf",
            "-inf",
            "+inf",
            "0",
            "-0",
            "1e309",
            "1_000",
            "0x10",
            "0o7",
            "0b1",
            "1979-05-27T07:32:00Z",
            "07:32:00",
            "1979-05-27",
            "[]",
            "{}",
            "\"\"",
            "''",
            "[[]]",
            "{ a = 1 }",
            "'''x'''",
            "\"\"\"a\nb\"\"\"",
            "\"\\u0000\"",
            "\"\\uD800\"",
            "[1, \"a\"]",
            "{ mode = \"manual\" }",
            "{ mode = \"clip\", clipminmax = [0, 1e9] }",
            "\"stage\"",
        ])
        .prop_map(str::to_string),
        quoted,
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..4).prop_map(
                |v| {
                    let kv: Vec<String> = v.iter().map(|(k, x)| format!("{k} = {x}")).collect();
                    format!("{{ {} }}", kv.join(", "))
                }
            ),
        ]
    })
    .boxed()
}

fn line_text() -> BoxedStrategy<String> {
    prop_oneof![
        (proptest::sample::select(KEYS), toml_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        proptest::sample::select(HEADERS).prop_map(str::to_string),
        fuzz_support::token_string(Vec::new(), 8),
    ]
    .boxed()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (any::<Index>(), toml_value()).prop_map(|(i, v)| Mutation::SpliceValue(i, v)),
        2 => (any::<Index>(), line_text()).prop_map(|(i, l)| Mutation::InsertLine(i, l)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(text: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for m in muts {
        let mut lines = lines_of(&bytes);
        match m {
            Mutation::FlipBit(i, bit) if !bytes.is_empty() => {
                let k = i.index(bytes.len());
                bytes[k] ^= 1 << bit;
                continue;
            }
            Mutation::SetByte(i, b) if !bytes.is_empty() => {
                let k = i.index(bytes.len());
                bytes[k] = *b;
                continue;
            }
            Mutation::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
                continue;
            }
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i.index(lines.len()));
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let k = i.index(lines.len());
                let l = lines[k].clone();
                lines.insert(k, l);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            Mutation::SpliceValue(i, v) => {
                let kv: Vec<usize> = (0..lines.len())
                    .filter(|&k| lines[k].contains(&b'=') && !lines[k].starts_with(b"#"))
                    .collect();
                if !kv.is_empty() {
                    let k = kv[i.index(kv.len())];
                    let eq = lines[k].iter().position(|&b| b == b'=').unwrap_or(0);
                    let mut l = lines[k][..=eq].to_vec();
                    l.push(b' ');
                    l.extend_from_slice(v.as_bytes());
                    l.push(b'\n');
                    lines[k] = l;
                }
            }
            Mutation::InsertLine(i, l) => {
                let k = i.index(lines.len() + 1);
                let mut l = l.as_bytes().to_vec();
                l.push(b'\n');
                lines.insert(k, l);
            }
            _ => continue,
        }
        bytes = lines.concat();
    }
    bytes
}

fn check(path: &Path, text: String, opts: &LoadOptions) {
    match load_str(path, text, opts) {
        Ok(r) => {
            let _ = format!("{r:?}");
        }
        // Rendering the diagnostics (snippets, carets) must not panic either.
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn options() -> impl Strategy<Value = LoadOptions> {
    (any::<bool>(), any::<bool>()).prop_map(|(t, s)| LoadOptions {
        allow_test_tasks: t,
        skip_input_checks: s,
    })
}

#[test]
fn the_sandboxed_recipes_load() {
    // The fuzz starts from valid recipes: otherwise the mutations would test little.
    let sb = sandbox();
    for (name, text) in &sb.recipes {
        let path = sb.recipes_dir.join(name);
        if let Err(e) = load_str(&path, text.clone(), &LoadOptions::default()) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn fuzz_load_mutated_recipes() {
    let sb = sandbox();
    let strategy = (
        0..sb.recipes.len(),
        proptest::collection::vec(mutation(), 1..6),
        options(),
    );
    fuzz_support::fuzz(
        "recipe::load (mutated recipes)",
        strategy,
        |(k, muts, opts)| {
            let (name, text) = &sb.recipes[k];
            let bytes = apply(text, &muts);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            check(&sb.recipes_dir.join(name), text, &opts);
            Ok(())
        },
    );
}

#[test]
fn fuzz_load_random_text() {
    let sb = sandbox();
    let strategy = (
        prop_oneof![
            proptest::collection::vec(line_text(), 0..12).prop_map(|l| l.join("\n")),
            any::<String>(),
        ],
        options(),
    );
    fuzz_support::fuzz("recipe::load (random text)", strategy, |(text, opts)| {
        check(&sb.recipes_dir.join("random.toml"), text, &opts);
        Ok(())
    });
}

#[test]
fn load_reads_invalid_utf8_as_an_error() {
    let sb = sandbox();
    let p = sb.recipes_dir.join("binary.toml");
    std::fs::write(&p, [0xff, 0xfe, b'[', 0x80]).expect("write");
    assert!(load(&p, &LoadOptions::default()).is_err());
}
