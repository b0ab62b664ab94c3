//! Plans: EXPLAIN (FORMAT JSON, VERBOSE, SETTINGS) of each corpus query, never executed, in a
//! read-only transaction that is rolled back, with jit off. Parameterized queries use
//! `GENERIC_PLAN` on PostgreSQL 16 and later, and on older servers `PREPARE` + `EXPLAIN EXECUTE`
//! with NULL arguments under `plan_cache_mode = force_generic_plan` (so no constant folding).
//! The plan is kept as a tree of what matters to its shape, with a fingerprint that ignores
//! costs, row estimates, widths and worker counts.

use std::collections::BTreeMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::corpus::Query;

/// One plan node, as far as the shape goes (plus the planner's estimates, for messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanNode {
    pub node_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    pub rows: f64,
    pub cost: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    fn from_json(v: &serde_json::Value) -> PlanNode {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
        let relation = s("Relation Name").map(|r| match s("Schema") {
            Some(schema) => format!("{schema}.{r}"),
            None => r,
        });
        PlanNode {
            node_type: s("Node Type").unwrap_or_default(),
            relation,
            index: s("Index Name"),
            join_type: s("Join Type"),
            strategy: s("Strategy"),
            rows: v.get("Plan Rows").and_then(|x| x.as_f64()).unwrap_or(0.0),
            cost: v.get("Total Cost").and_then(|x| x.as_f64()).unwrap_or(0.0),
            children: v
                .get("Plans")
                .and_then(|p| p.as_array())
                .map(|a| a.iter().map(PlanNode::from_json).collect())
                .unwrap_or_default(),
        }
    }

    /// The shape as text: node types, relations, indexes, join types and strategies.
    pub fn shape(&self) -> String {
        let mut s = self.node_type.clone();
        for part in [&self.join_type, &self.strategy].into_iter().flatten() {
            s.push_str(&format!(" {part}"));
        }
        if let Some(r) = &self.relation {
            s.push_str(&format!(" on {r}"));
        }
        if let Some(i) = &self.index {
            s.push_str(&format!(" using {i}"));
        }
        if !self.children.is_empty() {
            s.push_str(" [");
            s.push_str(
                &self
                    .children
                    .iter()
                    .map(PlanNode::shape)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            s.push(']');
        }
        s
    }

    pub fn fingerprint(&self) -> String {
        let mut h = siphasher::sip::SipHasher13::new_with_keys(0x7067_7061_7269_7479, 0x706c_616e);
        h.write(self.shape().as_bytes());
        format!("{:016x}", h.finish())
    }

    /// Relations read under this node.
    pub fn relations(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.walk(&mut |n| {
            if let Some(r) = &n.relation {
                out.insert(r.clone());
            }
        });
        out
    }

    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a PlanNode)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// One corpus query's plan on one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedQuery {
    pub kind: String,
    pub params: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// `plain`, `generic_plan` (16+), or `prepare` (EXPLAIN EXECUTE, forced generic plan).
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanNode>,
    /// The server's error, when the query could not be planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same query re-planned here with the other side's planner settings (`SET LOCAL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<Counterfactual>,
}

/// A re-plan with other settings: which, and the shape it gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterfactual {
    /// `name = value` as applied.
    pub settings: Vec<String>,
    pub fingerprint: Option<String>,
}

/// Plans every query on an open read-only session; `major` picks the parameter method.
pub async fn explain_all(
    client: &Client,
    queries: &[Query],
    major: i32,
) -> BTreeMap<String, PlannedQuery> {
    let mut out = BTreeMap::new();
    for q in queries {
        out.insert(q.path.clone(), explain(client, q, major).await);
    }
    out
}

async fn explain(client: &Client, q: &Query, major: i32) -> PlannedQuery {
    explain_with(client, q, major, &[]).await
}

/// Plans `q` with `sets` applied by `SET LOCAL` (each under a savepoint: one the role may not
/// set is skipped) inside the read-only transaction.
pub async fn explain_with(
    client: &Client,
    q: &Query,
    major: i32,
    sets: &[(String, String)],
) -> PlannedQuery {
    let method = if q.params == 0 {
        "plain"
    } else if major >= 16 {
        "generic_plan"
    } else {
        "prepare"
    };
    let mut pq = PlannedQuery {
        kind: q.kind.clone(),
        params: q.params,
        parse_error: q.parse_error.clone(),
        method: method.into(),
        fingerprint: None,
        plan: None,
        error: None,
        counterfactual: None,
    };
    let opts = "FORMAT JSON, VERBOSE, SETTINGS";
    let body = match method {
        "plain" => format!("EXPLAIN ({opts}) {}", q.sql),
        "generic_plan" => format!("EXPLAIN ({opts}, GENERIC_PLAN) {}", q.sql),
        _ => format!(
            "EXPLAIN ({opts}) EXECUTE pgparity_q({})",
            std::iter::repeat_n("NULL", q.params)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    // Never executed: EXPLAIN without ANALYZE, in a read-only transaction, rolled back.
    const BEGIN: &str =
        "BEGIN READ ONLY; SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_generic_plan";
    if method != "prepare" && sets.is_empty() {
        // The common case in one round trip: begin, explain, roll back.
        let batch = format!("{BEGIN}; {body}; ROLLBACK");
        match client.simple_query(&batch).await {
            Ok(messages) => read_plan(&messages, &mut pq),
            Err(e) => {
                pq.error = Some(crate::capture::db_message(&e));
                let _ = client.batch_execute("ROLLBACK").await;
            }
        }
        return pq;
    }
    let _ = client.batch_execute(BEGIN).await;
    for (name, value) in sets {
        let sql = format!(
            "SAVEPOINT pgparity_set; SET LOCAL \"{}\" = '{}'; RELEASE SAVEPOINT pgparity_set",
            name.replace('"', "\"\""),
            value.replace('\'', "''")
        );
        if client.batch_execute(&sql).await.is_err() {
            let _ = client
                .batch_execute("ROLLBACK TO SAVEPOINT pgparity_set")
                .await;
        }
    }
    let prepared = if method == "prepare" {
        match client
            .simple_query(&format!("PREPARE pgparity_q AS {}", q.sql))
            .await
        {
            Ok(_) => true,
            Err(e) => {
                pq.error = Some(crate::capture::db_message(&e));
                let _ = client.batch_execute("ROLLBACK").await;
                return pq;
            }
        }
    } else {
        false
    };
    match client.simple_query(&body).await {
        Ok(messages) => read_plan(&messages, &mut pq),
        Err(e) => pq.error = Some(crate::capture::db_message(&e)),
    }
    let _ = client.batch_execute("ROLLBACK").await;
    if prepared {
        let _ = client.batch_execute("DEALLOCATE pgparity_q").await;
    }
    pq
}

/// Reads the JSON plan out of EXPLAIN's reply.
fn read_plan(messages: &[SimpleQueryMessage], pq: &mut PlannedQuery) {
    let text = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(String::from),
        _ => None,
    });
    match text
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(v)) => {
            if let Some(plan) = v.get(0).and_then(|p| p.get("Plan")) {
                let node = PlanNode::from_json(plan);
                pq.fingerprint = Some(node.fingerprint());
                pq.plan = Some(node);
            }
        }
        _ => pq.error = Some("EXPLAIN returned no JSON plan".into()),
    }
}
