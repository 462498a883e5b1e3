//! Fuzz: the flag-file parser (`flagdata inpfile`, one CASA command per line) on random and
//! mutated command files returns commands and diagnostics, never panics; every diagnostic
//! points into the file and renders. `ALMACAL_FUZZ_SECS=N` runs it for N seconds.

#[path = "../../../testing/fuzz_support.rs"]
mod fuzz_support;

use almacal_recipe::flagfile::parse_flag_file;
use almacal_recipe::source::SourceFile;
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "mode",
    "antenna",
    "spw",
    "field",
    "scan",
    "intent",
    "timerange",
    "uvrange",
    "correlation",
    "observation",
    "reason",
    "autocorr",
    "clipminmax",
    "clipzeros",
    "clipoutside",
    "datacolumn",
    "quackinterval",
    "quackmode",
    "ntime",
    "action",
    "cmdreason",
    "useapplied",
    "x",
    "é",
    "mode_",
    "_",
];

const VALUES: &[&str] = &[
    "manual",
    "clip",
    "quack",
    "shadow",
    "flagcmd",
    "unflag",
    "True",
    "False",
    "true",
    "1",
    "0",
    "CM03&&*",
    "CM05",
    "16,18",
    "20:0~6",
    "10,11,14",
    "[0,50]",
    "[0, 1e9]",
    "['a','b']",
    "[",
    "]",
    "[,]",
    "[1,",
    "2016/04/15/06:22:32.157~2016/04/15/06:23:32.637",
    "*POINTING*",
    "bad amplitudes",
    "'",
    "\"",
    "''",
    "\"\"",
    "beg",
    "endb",
    "1e400",
    "-1",
];

fn value() -> BoxedStrategy<String> {
    let tok = fuzz_support::token_string(VALUES.iter().map(|s| s.to_string()).collect(), 4);
    prop_oneof![
        2 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => tok.clone().prop_map(|v| format!("'{v}'")),
        1 => tok.clone().prop_map(|v| format!("\"{v}\"")),
        1 => proptest::collection::vec(tok.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
        1 => tok,
    ]
    .boxed()
}

fn line() -> BoxedStrategy<String> {
    let pair = (proptest::sample::select(KEYS), value()).prop_map(|(k, v)| format!("{k}={v}"));
    prop_oneof![
        6 => proptest::collection::vec(pair, 0..5).prop_map(|v| v.join(" ")),
        1 => Just("# comment".to_string()),
        1 => Just("mode='manual' antenna='CM05' spw='20' scan='10,11,14' reason='bad amplitudes'".to_string()),
        2 => fuzz_support::token_string(Vec::new(), 10),
    ]
    .boxed()
}

fn file() -> BoxedStrategy<String> {
    let eol = proptest::sample::select(vec!["\n", "\r\n", "\r", "\n\n"]);
    (
        proptest::collection::vec((line(), eol), 0..8),
        any::<bool>(),
    )
        .prop_map(|(lines, trailing)| {
            let mut s: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
            if !trailing {
                s.pop();
            }
            s
        })
        .boxed()
}

#[test]
fn fuzz_parse_flag_file_never_panics() {
    fuzz_support::fuzz("flagfile::parse_flag_file", file(), |text| {
        let len = text.len();
        let src = SourceFile::new("fuzz.flags.txt", text);
        let mut diags = Vec::new();
        let cmds = parse_flag_file(&src, &mut diags);
        for c in &cmds {
            prop_assert!(c.line >= 1);
        }
        for d in &diags {
            prop_assert!(d.pos.line >= 1 && d.pos.col >= 1, "{:?}", d.pos);
            let _ = d.to_string();
        }
        prop_assert!(len == src.text.len());
        Ok(())
    });
}
