//! Scheduled data-gap reports: acceptances of measured gaps that survive the next night's
//! data and come back when the gap really moves.

use crate::support::*;

/// Staging never NULL, production NULL in 1,000 of 3,500 rows; baseline accepts the gap.
/// 40 more NULLs (29 % → 30 %) stay accepted; a doubled gap comes back as stale, with why.
#[test]
fn an_accepted_data_gap_survives_small_drift_and_goes_stale_when_it_doubles() {
    let c = pg17();
    let create = "CREATE TABLE t (id int PRIMARY KEY, note text);
                  INSERT INTO t SELECT g, 'note ' || (g % 50) FROM generate_series(1, 3500) g;";
    let (staging, production) = (fresh_db(c, "drift"), fresh_db(c, "drift"));
    c.execute(&staging, create).unwrap();
    c.execute(&production, create).unwrap();
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 1000")
        .unwrap();
    let (left, right) = (c.url(&staging), c.url(&production));
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let text = baseline(&left, &right, &policy);
    let entry = text
        .split("[[accept]]")
        .find(|e| e.contains("id = \"nulls:public.t.note\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        entry.contains("severity = \"critical\"") && entry.contains("tolerance = 0.5"),
        "{entry}"
    );
    assert!(text.contains("# Data gaps"), "{text}");
    let check = || {
        pgp("check")
            .opt("--left", &left)
            .opt("--right", &right)
            .opt("--policy", &policy)
            .opt("--format", "json")
    };
    let status = |r: &serde_json::Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "nulls:public.t.note")
            .unwrap_or_else(|| panic!("{r:#}"))
            .clone()
    };
    // The next night: 40 more NULLs. Still accepted, the gate passes.
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 1040")
        .unwrap();
    let r = check().run().ok().json();
    let f = status(&r);
    assert_eq!(f["status"], "accepted", "{f:#}");
    assert_eq!(f["right"], "30 % NULL", "{f:#}");
    // The gap doubles: stale, and the report says why.
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 2000")
        .unwrap();
    let r = check().run().code(1).json();
    let f = status(&r);
    assert_eq!(f["status"], "stale", "{f:#}");
    assert!(
        f["stale"]
            .as_str()
            .unwrap()
            .starts_with("the right value moved past its tolerance of 50% (29 % NULL → 57 % NULL)"),
        "{f:#}"
    );
}
