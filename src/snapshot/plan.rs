//! Plans as a snapshot holds them: the tree of what matters to a plan's shape, with a
//! fingerprint that ignores costs, row estimates, widths and worker counts (EXPLAIN runs in
//! `crate::explain`; this is the data it leaves).

use std::hash::Hasher;

use serde::{Deserialize, Serialize};

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
    /// Rows the node returned (EXPLAIN ANALYZE only), per loop times loops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_rows: Option<f64>,
    /// An InitPlan or SubPlan hung under this node's parent (EXPLAIN lists them among the
    /// children, initplans first): not one of its inputs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub subplan: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    /// The node (and its children) from EXPLAIN (FORMAT JSON)'s `Plan`; missing keys read as
    /// empty, unknown ones are ignored.
    pub fn from_json(v: &serde_json::Value) -> PlanNode {
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
            actual_rows: v.get("Actual Rows").and_then(|x| x.as_f64()).map(|r| {
                r * v
                    .get("Actual Loops")
                    .and_then(|x| x.as_f64())
                    .unwrap_or(1.0)
            }),
            subplan: matches!(
                s("Parent Relationship").as_deref(),
                Some("InitPlan" | "SubPlan")
            ),
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

    /// The node's inputs, outer first: its children without the initplans and subplans EXPLAIN
    /// lists among them.
    pub fn inputs(&self) -> Vec<&PlanNode> {
        self.children.iter().filter(|c| !c.subplan).collect()
    }

    /// Relations this node's inputs read (its initplans' and subplans' left out): what it joins.
    pub fn joined_relations(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        fn walk(n: &PlanNode, out: &mut std::collections::BTreeSet<String>) {
            if let Some(r) = &n.relation {
                out.insert(r.clone());
            }
            for c in n.inputs() {
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
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

/// Both sides' plans of one query, as a plan finding carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanPair {
    pub left: Option<PlanNode>,
    pub right: Option<PlanNode>,
}

kind!(
    /// What a corpus statement does: reads (a query), writes (INSERT, UPDATE, DELETE, MERGE), or
    /// unknown (sqlparser could not read it; the server's EXPLAIN is the judge).
    QueryKind {
        Read = "read",
        Write = "write",
        Unknown = "unknown",
    }
);

kind!(
    /// How a query was planned.
    PlanMethod {
        /// No parameters: EXPLAIN of the statement.
        Plain = "plain",
        /// Parameters, PostgreSQL 16+: `EXPLAIN (GENERIC_PLAN)`.
        GenericPlan = "generic_plan",
        /// Parameters, before 16: `PREPARE` + `EXPLAIN EXECUTE` with NULLs, forced generic plan.
        Prepare = "prepare",
        /// Parameters with a values file: `EXPLAIN EXECUTE` with its values, forced custom plan.
        CustomValues = "custom_values",
        /// Not planned: a data-changing statement under `writes = refuse`.
        Refused = "refused",
    }
);

/// One corpus query's plan on one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedQuery {
    pub kind: QueryKind,
    pub params: usize,
    /// The statement as planned, so a snapshot can replay its corpus on another server.
    #[serde(default)]
    pub sql: String,
    /// Share of the workload's total execution time (a corpus from pg_stat_statements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Parameter values it was planned with (`custom_values`), from the query's values file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    pub method: PlanMethod,
    /// True when the plan carries EXPLAIN ANALYZE's actual rows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub analyzed: bool,
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
    /// The same query re-planned here steered toward the other side's plan (`enable_* = off`
    /// for what only this side's plan uses): a cost tie shows as a converged shape at almost
    /// the same cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steered: Option<Counterfactual>,
    /// On the newer major of a pair, the same query re-planned with the planner features that
    /// major added turned off (its new `enable_*` settings off, moved planner defaults at the
    /// older major's value): the planner-version counterfactual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfeatured: Option<Counterfactual>,
    /// On a live side of PostgreSQL 18 or later (not protected), the same query re-planned
    /// with the other side's planner statistics restored in a transaction rolled back: the
    /// statistics' counterfactual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transplanted: Option<Counterfactual>,
    /// `check --explain-analyze`: timed executions of a read query, interleaved with the
    /// other side's (each side's runs in its own snapshot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timings: Vec<Timing>,
}

/// One timed execution (`EXPLAIN (ANALYZE, BUFFERS)`): milliseconds, shared buffers (hit and
/// read) and temporary blocks (read and written).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub ms: f64,
    pub buffers: f64,
    pub temp: f64,
}

/// A re-plan with other settings: which, the shape and the cost it gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterfactual {
    /// `name = value` as applied.
    pub settings: Vec<String>,
    pub fingerprint: Option<String>,
    /// The re-planned total cost, without the penalty PostgreSQL 17 and older add for a
    /// disabled node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Why the re-plan gave no plan (the statistics could not be restored, the query failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
