//! JUnit XML for CI systems: one test case per metric family (the name up to its last
//! `/`), failing with the regressed metrics.

use super::compare::Comparison;
use super::Reference;
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn family(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(f, _)| f)
}

/// The JUnit XML of a comparison.
pub fn junit_xml(suite: &str, reference: &Reference, c: &Comparison) -> String {
    let mut cases: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for name in reference.metrics.keys() {
        cases.entry(family(name)).or_default();
    }
    for f in &c.failures {
        cases.entry(family(&f.name)).or_default().push(format!(
            "{}: expected {:?}, got {:?}, deviation {:.3e} > {:.3e}",
            f.name, f.expected, f.got, f.deviation, f.tolerance
        ));
    }
    let failures = cases.values().filter(|v| !v.is_empty()).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
        esc(suite),
        cases.len(),
        failures
    );
    for (name, fails) in cases {
        if fails.is_empty() {
            let _ = writeln!(
                x,
                "  <testcase classname=\"{}\" name=\"{}\"/>",
                esc(suite),
                esc(name)
            );
        } else {
            let _ = writeln!(
                x,
                "  <testcase classname=\"{}\" name=\"{}\">",
                esc(suite),
                esc(name)
            );
            let _ = writeln!(
                x,
                "    <failure message=\"{} metrics regressed\">{}</failure>",
                fails.len(),
                esc(&fails.join("\n"))
            );
            let _ = writeln!(x, "  </testcase>");
        }
    }
    x.push_str("</testsuite>\n");
    x
}
