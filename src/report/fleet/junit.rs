//! A fleet as JUnit XML: one test suite per target, one test case per check (the categories
//! any target differs in, and `captured`), failed when the target has an open finding of that
//! check at or above the failing level; its message names each.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use super::FleetReport;
use crate::finding::Category;

pub fn render(r: &FleetReport) -> String {
    let mut report = JReport::new(format!("pgparity fleet against {}", r.reference.name));
    // target → category → (failing lines, other lines)
    type Lines = (Vec<String>, Vec<String>);
    let mut by: BTreeMap<&str, BTreeMap<Category, Lines>> = BTreeMap::new();
    let mut checks: std::collections::BTreeSet<Category> = Default::default();
    for d in &r.differences {
        checks.insert(d.category);
        for c in &d.cells {
            let line = format!(
                "[{}] {}: {}",
                c.severity,
                d.id,
                c.message.as_deref().unwrap_or(&d.message)
            );
            let entry = by
                .entry(c.target.as_str())
                .or_default()
                .entry(d.category)
                .or_default();
            if c.status.is_open() && c.severity >= r.fail_on {
                entry.0.push(line);
            } else {
                entry.1.push(format!("{line} ({})", c.status_word()));
            }
        }
    }
    for t in &r.targets {
        let mut suite = TestSuite::new(format!("pgparity.fleet.{}", t.name));
        let mut captured = match &t.error {
            Some(e) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("not compared: {e}"));
                s.set_type("critical");
                TestCase::new("captured", s)
            }
            None => TestCase::new("captured", TestCaseStatus::success()),
        };
        captured.set_classname(format!("pgparity.fleet.{}", t.name));
        suite.add_test_case(captured);
        let mine = by.get(t.name.as_str());
        for cat in &checks {
            if *cat == Category::Topology && t.error.is_some() {
                continue;
            }
            let (failing, other) = mine.and_then(|m| m.get(cat)).cloned().unwrap_or_default();
            let status = if failing.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "{} {} finding(s) at or above {}",
                    failing.len(),
                    cat,
                    r.fail_on
                ));
                s.set_description(failing.join("\n"));
                s
            };
            let mut case = TestCase::new(cat.name(), status);
            case.set_classname(format!("pgparity.fleet.{}", t.name));
            if !other.is_empty() {
                case.set_system_out(other.join("\n"));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

impl super::Cell {
    /// `open`, `accepted`, ... or "below the level" words for a cell that does not fail.
    pub fn status_word(&self) -> &'static str {
        super::super::status_label(self.status)
    }
}
