//! JUnit XML for CI systems: one test suite per category, one test case per finding (named by
//! its id), failed when the finding is open at or above the fail level; accepted findings pass
//! and say why. A comparison without findings is one passing case, so the file is never empty.

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::policy::Status;

pub fn render(r: &Report) -> String {
    let mut report = JReport::new(format!("pgparity {} vs {}", r.left.name, r.right.name));
    let mut suites: std::collections::BTreeMap<usize, TestSuite> = Default::default();
    for e in &r.findings {
        let f = &e.finding;
        let failing = e.status.is_open() && f.severity >= r.fail_on;
        let mut status = if failing {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(f.message.clone());
            s.set_type(f.severity.name());
            s.set_description(format!(
                "{}\nwhy: {}\nhint: {}\n{}: {}\n{}: {}",
                f.message,
                f.why,
                f.hint,
                r.left.name,
                f.left.as_deref().unwrap_or("(absent)"),
                r.right.name,
                f.right.as_deref().unwrap_or("(absent)")
            ));
            s
        } else {
            TestCaseStatus::success()
        };
        let _ = &mut status;
        let mut case = TestCase::new(f.id.clone(), status);
        case.set_classname(format!("pgparity.{}", f.category.name()));
        if !failing {
            let note = match (&e.status, &e.acceptance) {
                (Status::Accepted, Some(a)) => format!("accepted: {}", a.reason),
                _ => format!(
                    "{} (below the fail level {}): {}",
                    f.severity, r.fail_on, f.message
                ),
            };
            case.set_system_out(note);
        }
        suites
            .entry(f.category as usize)
            .or_insert_with(|| TestSuite::new(format!("pgparity.{}", f.category.name())))
            .add_test_case(case);
    }
    if suites.is_empty() {
        let mut suite = TestSuite::new("pgparity");
        let mut case = TestCase::new("no differences", TestCaseStatus::success());
        case.set_classname("pgparity");
        suite.add_test_case(case);
        suites.insert(usize::MAX, suite);
    }
    report.add_test_suites(suites.into_values());
    report.to_string().unwrap_or_default()
}
