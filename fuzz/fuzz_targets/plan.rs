//! Any JSON as an EXPLAIN plan: a plan tree with a shape, a fingerprint and relations.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let plan = pgparity::snapshot::plan::PlanNode::from_json(&v);
        let _ = (plan.shape(), plan.fingerprint(), plan.relations());
    }
});
