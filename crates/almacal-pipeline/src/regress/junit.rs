//! JUnit XML for CI systems: one test case per metric family (the name up to its last
//! `/`), failing with the regressed metrics.

use super::compare::Comparison;
use super::Reference;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;

fn family(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(f, _)| f)
}

/// The JUnit XML of a comparison (`quick-junit`).
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
    let mut ts = TestSuite::new(suite);
    for (name, fails) in cases {
        let status = if fails.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{} metrics regressed", fails.len()));
            s.set_description(fails.join("\n"));
            s
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(suite);
        ts.add_test_case(case);
    }
    let mut report = Report::new(suite);
    report.add_test_suite(ts);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit XML could not be written: {e} -->\n"))
}
