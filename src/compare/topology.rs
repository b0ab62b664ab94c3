//! Topology: primary or standby, connected standbys and their sync state, replication slots.

use super::Sides;
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::Topology;

fn standbys(t: &Topology) -> String {
    if t.standbys.is_empty() {
        return "none".into();
    }
    let mut states: Vec<String> = t
        .standbys
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.sync_state.as_deref().unwrap_or("?"),
                s.state.as_deref().unwrap_or("?")
            )
        })
        .collect();
    states.sort();
    format!("{} ({})", t.standbys.len(), states.join(", "))
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (l, r) = (&s.left.inventory.topology, &s.right.inventory.topology);
    let role = |t: &Topology| if t.in_recovery { "standby" } else { "primary" };
    if l.in_recovery != r.in_recovery {
        out.push(
            Finding::new(Category::Topology, Severity::High, "server:role", "")
                .values(Some(role(l)), Some(role(r)))
                .message(format!("{} is a {} but {} is a {}", s.left_name, role(l), s.right_name, role(r)))
                .why("a standby refuses writes and serves data with replication lag: code tested on one behaves differently on the other")
                .hint("compare a primary with a primary, or accept the difference"),
        );
    }
    let (ls, rs) = (standbys(l), standbys(r));
    if l.standbys.len() != r.standbys.len() {
        out.push(
            Finding::new(Category::Topology, Severity::High, "topology:standbys", "")
                .values(Some(&ls), Some(&rs))
                .message(format!("streaming standbys differ: {ls} in {} vs {rs} in {}", s.left_name, s.right_name))
                .why("reads routed to a replica see replication lag (read-your-writes bugs), and synchronous standbys add commit latency; neither shows on a lone primary")
                .hint("give staging a streaming standby (and route reads like production does), or accept the difference"),
        );
    } else if ls != rs {
        out.push(
            Finding::new(Category::Topology, Severity::Medium, "topology:standbys", "sync")
                .values(Some(&ls), Some(&rs))
                .message(format!("standby synchronization differs: {ls} in {} vs {rs} in {}", s.left_name, s.right_name))
                .why("synchronous replication changes commit latency and what a replica is guaranteed to have seen")
                .hint("use the same synchronous_standby_names on both sides"),
        );
    }
    let slots = |t: &Topology| {
        let mut v: Vec<String> = t
            .slots
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.slot_type,
                    if s.active { "active" } else { "inactive" }
                )
            })
            .collect();
        v.sort();
        format!("{} [{}]", t.slots.len(), v.join(", "))
    };
    if l.slots.len() != r.slots.len() {
        out.push(
            Finding::new(Category::Topology, Severity::Low, "topology:slots", "")
                .values(Some(slots(l)), Some(slots(r)))
                .message(format!("replication slots differ: {} in {} vs {} in {}", slots(l), s.left_name, slots(r), s.right_name))
                .why("slots retain WAL and logical slots feed change-data-capture consumers that one side lacks")
                .hint("create the same slots, or accept the difference"),
        );
    }
}
