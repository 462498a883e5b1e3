//! Fuzz: the antenna-position JSON reader (gencal caltype='antpos' `infile`) on mutated
//! getantposalma files, random JSON values and random text returns Ok or Err, never panics,
//! and what it returns is usable by `offsets_from_positions`. `ALMACAL_FUZZ_SECS=N` runs it
//! for N seconds.

#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_solve::prep::antpos::{offsets_from_positions, parse_antpos_json, AntposFile};
use proptest::prelude::*;
use proptest::sample::Index;

const VALID: &[&str] = &[
    r#"{"data": {"CM01": [-1601188.9, -5042000.5, 3554876.4], "CM02": [1.0, 2.0, 3.0]}, "metadata": {"product_code": "antposalma", "time": "2016-04-15"}}"#,
    r#"{"offsets": {"CM02": [0.001, 0.0, -0.002], "DA41": [0, 0, 0]}}"#,
    r#"{"data": {}, "offsets": {"CM01": [1e-3, 2e-3, 3e-3]}}"#,
];

fn json_value() -> BoxedStrategy<serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        proptest::sample::select(vec!["CM01", "CM02", "data", "offsets", "", "é"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        let key = proptest::sample::select(vec!["data", "offsets", "metadata", "CM01", "DA41", ""]);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
    .boxed()
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Delete(Index, usize),
    Insert(Index, String),
    Truncate(Index),
}

fn mutated() -> impl Strategy<Value = String> {
    let m = prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        (any::<Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<Index>(),
            fuzz_support::token_string(
                [
                    "{",
                    "}",
                    "[",
                    "]",
                    ",",
                    ":",
                    "\"",
                    "1e400",
                    "-0",
                    "null",
                    "[1,2,3]",
                    "\"CM01\":"
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                4
            )
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<Index>().prop_map(Mutation::Truncate),
    ];
    (
        proptest::sample::select(VALID),
        proptest::collection::vec(m, 1..5),
    )
        .prop_map(|(text, muts)| {
            let mut b = text.as_bytes().to_vec();
            for m in muts {
                let n = b.len();
                match m {
                    Mutation::FlipBit(i, bit) if n > 0 => b[i.index(n)] ^= 1 << bit,
                    Mutation::SetByte(i, v) if n > 0 => b[i.index(n)] = v,
                    Mutation::Delete(i, k) if n > 0 => {
                        let s = i.index(n);
                        b.drain(s..(s + k).min(n));
                    }
                    Mutation::Insert(i, s) => {
                        let at = i.index(n + 1);
                        b.splice(at..at, s.bytes());
                    }
                    Mutation::Truncate(i) => b.truncate(i.index(n + 1)),
                    _ => {}
                }
            }
            String::from_utf8_lossy(&b).into_owned()
        })
}

#[test]
fn the_seed_files_parse() {
    for t in VALID {
        assert!(parse_antpos_json(t).is_ok(), "{t}");
    }
}

#[test]
fn fuzz_parse_antpos_json_never_panics() {
    let names: Vec<String> = ["CM01", "CM02", "DA41"].map(String::from).to_vec();
    let old = vec![[1.0, 2.0, 3.0]; names.len()];
    let input = prop_oneof![
        3 => mutated(),
        2 => json_value().prop_map(|v| v.to_string()),
        1 => any::<String>(),
    ];
    fuzz_support::fuzz("antpos::parse_antpos_json", input, |text| {
        match parse_antpos_json(&text) {
            Ok(AntposFile::Positions(p)) => {
                let (off, unknown) = offsets_from_positions(&names, &old, &p);
                prop_assert_eq!(off.len(), names.len());
                prop_assert!(unknown.len() <= p.len());
            }
            Ok(AntposFile::Offsets(_)) => {}
            Err(msg) => prop_assert!(!msg.is_empty()),
        }
        Ok(())
    });
}
