//! Server version skew: the difference that hides the most bugs, reported first.

use super::Sides;
use crate::finding::{Category, Finding, Severity};

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (l, r) = (&s.left.inventory, &s.right.inventory);
    if l.server_version_num == r.server_version_num {
        return;
    }
    let (lm, rm) = (s.left.major_version(), s.right.major_version());
    let f = Finding::new(Category::Version, Severity::Low, "server", "version")
        .values(Some(&l.server_version), Some(&r.server_version));
    out.push(if lm != rm {
        Finding { severity: Severity::Critical, ..f }
            .message(format!(
                "major version differs: PostgreSQL {lm} in {} vs {rm} in {}",
                s.left_name, s.right_name
            ))
            .why("each major version changes the planner, default settings, SQL behaviour and catalogs: a query tested on one can plan, perform or behave differently on the other")
            .hint(format!("run {} on PostgreSQL {rm}, or check the upgrade explicitly (pgparity check against a copy on the target version)", s.left_name))
    } else {
        f.message(format!("minor version differs: {} in {} vs {} in {}", l.server_version, s.left_name, r.server_version, s.right_name))
            .why("minor releases fix bugs and security issues; behaviour that depends on a fixed bug differs")
            .hint("apply the same minor release on both sides")
    });
}
