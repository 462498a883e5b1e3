//! Fuzz: the CASA command-line parser (`key=value` pairs of FLAG_CMD rows and flag files)
//! returns Ok or Err on any input, never panics, and what it returns is consistent.
//! `ALMACAL_FUZZ_SECS=N` runs it for N seconds (`just fuzz`).

#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_core::cmdline::parse_kv_line;
use proptest::prelude::*;

fn line() -> BoxedStrategy<String> {
    let tokens = [
        "mode",
        "manual",
        "mode=",
        "antenna=",
        "spw=",
        "timerange=",
        "reason=",
        "'",
        "\"",
        "='",
        "=\"",
        "=",
        "==",
        " ",
        "CM03&&*",
        "ONLINE FLAG",
        "# comment",
        "#",
        "key",
        "é=",
        "\u{a0}",
        "\r",
    ];
    fuzz_support::token_string(tokens.iter().map(|s| s.to_string()).collect(), 16)
}

#[test]
fn fuzz_parse_kv_line_never_panics() {
    fuzz_support::fuzz("cmdline::parse_kv_line", line(), |s| {
        match parse_kv_line(&s) {
            Ok(pairs) => {
                for kv in pairs {
                    // The span lies in the line, on char boundaries, and starts with the key.
                    prop_assert!(s.get(kv.span.clone()).is_some(), "span {:?}", kv.span);
                    prop_assert!(s[kv.span.clone()].starts_with(&kv.key));
                    prop_assert!(!kv.key.is_empty());
                }
            }
            Err((at, msg)) => {
                prop_assert!(at <= s.len(), "error offset {at} past the end");
                prop_assert!(!msg.is_empty());
            }
        }
        Ok(())
    });
}
