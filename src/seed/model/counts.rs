//! Which tables are filled and with how many rows: the tables selected (ordinary and
//! partitioned, with a profile), their keys and foreign keys, each table's primary foreign
//! key, and row counts in parent-first order, a child's count the sum of its degree sequence
//! (plus its share of NULL keys).

use super::*;
use crate::snapshot::{Constraint, Profile, TableProfile};

/// What every table's model is built from.
pub(super) struct Counts<'a> {
    pub(super) snap: &'a Snapshot,
    pub(super) opts: &'a SeedOptions,
    pub(super) profile: &'a Profile,
    pub(super) excluded: &'a BTreeMap<String, String>,
    pub(super) problems: Vec<Problem>,
    /// The tables to fill, in the schema's order.
    pub(super) names: Vec<String>,
    pub(super) rows: HashMap<String, u64>,
    /// Primary, unique and equality-only exclusion keys per table, shortest first.
    pub(super) keys: HashMap<&'a str, Vec<Vec<String>>>,
    pub(super) fks: HashMap<&'a str, Vec<&'a Constraint>>,
    /// The foreign key that decides a table's row count.
    pub(super) primary: HashMap<String, &'a Constraint>,
    /// Cumulative degrees of each primary foreign key (`fk@table`).
    pub(super) degrees: HashMap<String, Arc<Vec<u64>>>,
}

impl<'a> Counts<'a> {
    pub(super) fn new(
        snap: &'a Snapshot,
        opts: &'a SeedOptions,
        excluded: &'a BTreeMap<String, String>,
    ) -> Result<Counts<'a>> {
        let profile = snap.profile.as_ref().ok_or_else(|| {
            Error::Usage("the snapshot holds no data profile, and seed learns only from a profile; hint: capture it again without --no-profile".into())
        })?;
        for name in opts.rows.keys() {
            if !snap.schema.tables.contains_key(name) {
                return Err(Error::Usage(format!(
                    "--rows: the snapshot has no table {name}"
                )));
            }
        }
        let mut c = Counts {
            snap,
            opts,
            profile,
            excluded,
            problems: Vec::new(),
            names: Vec::new(),
            rows: HashMap::new(),
            keys: HashMap::new(),
            fks: HashMap::new(),
            primary: HashMap::new(),
            degrees: HashMap::new(),
        };
        c.select();
        c.keys_and_foreign_keys();
        c.primary_foreign_keys();
        c.parents_first();
        Ok(c)
    }

    /// Tables to fill: ordinary and partitioned (rows route to partitions), with a profile,
    /// within `--include`/`--skip`, at the profile's rows × scale (or `--rows`).
    fn select(&mut self) {
        let opts = self.opts;
        let selected = |name: &str| {
            (opts.include.is_empty() || opts.include.iter().any(|p| crate::glob::glob(p, name)))
                && !opts.skip.iter().any(|p| crate::glob::glob(p, name))
        };
        for (name, t) in &self.snap.schema.tables {
            // Partitions get their rows through their parent; inheritance children are tables.
            let partition = t.parent.is_some() && t.partition_bound.is_some();
            if t.kind == TableKind::Foreign || partition || !selected(name) {
                continue;
            }
            if let Some(why) = self.excluded.get(name) {
                self.problem(name, format!("not seeded: {why}"));
            } else if self.profile.tables.contains_key(name) {
                self.names.push(name.clone());
            } else {
                self.problem(name, "not seeded: the snapshot has no profile of it".into());
            }
        }
        self.rows = self
            .names
            .iter()
            .map(|n| {
                let r = opts.rows.get(n).copied().unwrap_or_else(|| {
                    (self.profile.tables.rows(n).unwrap_or(0.0) * opts.scale)
                        .round()
                        .max(0.0) as u64
                });
                (n.clone(), r)
            })
            .collect();
    }

    fn keys_and_foreign_keys(&mut self) {
        for c in self.snap.schema.constraints.values() {
            match c.kind {
                ConstraintKind::PrimaryKey | ConstraintKind::Unique if !c.columns.is_empty() => {
                    self.keys
                        .entry(c.table.as_str())
                        .or_default()
                        .push(c.columns.clone())
                }
                // An exclusion constraint whose operators are all equality is a unique key.
                ConstraintKind::Exclusion
                    if !c.columns.is_empty() && equality_only(&c.definition) =>
                {
                    self.keys
                        .entry(c.table.as_str())
                        .or_default()
                        .push(c.columns.clone())
                }
                ConstraintKind::ForeignKey if c.references.is_some() => {
                    self.fks.entry(c.table.as_str()).or_default().push(c)
                }
                _ => {}
            }
        }
        for list in self.keys.values_mut() {
            list.sort_by_key(|k| k.len());
        }
    }

    /// The primary foreign key of each table decides its row count (the sum of the degrees):
    /// to another seeded table, NOT NULL ones first, then by name.
    fn primary_foreign_keys(&mut self) {
        let mut primary = HashMap::new();
        for n in self
            .names
            .iter()
            .filter(|n| !self.opts.rows.contains_key(*n))
        {
            let Some(list) = self.fks.get(n.as_str()) else {
                continue;
            };
            let mut cands: Vec<&&Constraint> = list
                .iter()
                .filter(|c| {
                    c.references.as_deref() != Some(n.as_str())
                        && self
                            .rows
                            .contains_key(c.references.as_deref().unwrap_or(""))
                })
                .collect();
            cands.sort_by_key(|c| {
                (
                    !c.columns.iter().all(|col| self.not_null(n, col)),
                    c.name.clone(),
                )
            });
            if let Some(c) = cands.first() {
                primary.insert(n.clone(), **c);
            }
        }
        self.primary = primary;
    }

    /// Row counts in dependency order (parents first); a cycle keeps the scaled count.
    fn parents_first(&mut self) {
        fn visit(
            n: &str,
            primary: &HashMap<String, &Constraint>,
            done: &mut BTreeSet<String>,
            stack: &mut Vec<String>,
            order: &mut Vec<String>,
        ) {
            if done.contains(n) || stack.iter().any(|s| s == n) {
                return;
            }
            stack.push(n.to_string());
            if let Some(c) = primary.get(n) {
                visit(
                    c.references.as_deref().unwrap_or(""),
                    primary,
                    done,
                    stack,
                    order,
                );
            }
            stack.pop();
            done.insert(n.to_string());
            order.push(n.to_string());
        }
        let (mut done, mut order) = (BTreeSet::new(), Vec::new());
        for n in &self.names {
            visit(n, &self.primary, &mut done, &mut Vec::new(), &mut order);
        }
        for n in &order {
            let Some(&c) = self.primary.get(n) else {
                continue;
            };
            let parent = c.references.clone().unwrap_or_default();
            let Some(&prows) = self.rows.get(&parent) else {
                continue;
            };
            let rel = self.profile.relationships.get(&rel_key(c));
            let d = degrees(
                rel,
                prows,
                self.rows[n],
                mean_children(self.profile, rel),
                name_id(n),
            );
            let total: u64 = d.iter().sum();
            let nr = self
                .profile
                .tables
                .get(n)
                .map_or(0.0, |t| null_rate(&t, &c.columns[0]));
            let with_nulls = if nr > 0.0 && nr < 1.0 {
                (total as f64 / (1.0 - nr)).round() as u64
            } else {
                total
            };
            self.rows.insert(n.clone(), with_nulls);
            self.degrees
                .insert(c.name.clone() + "@" + n, Arc::new(cumulative(d)));
        }
    }

    pub(super) fn not_null(&self, table: &str, col: &str) -> bool {
        self.snap
            .schema
            .tables
            .get(table)
            .and_then(|t| t.columns.iter().find(|c| c.name == col))
            .is_some_and(|c| c.not_null)
    }

    pub(super) fn problem(&mut self, table: &str, message: String) {
        self.problems.push(Problem {
            area: format!("table {table}"),
            message,
        });
    }
}

/// A relationship's key in the profile: `child(cols)->parent(cols)`.
pub(super) fn rel_key(c: &Constraint) -> String {
    format!(
        "{}({})->{}({})",
        c.table,
        c.columns.join(","),
        c.references.as_deref().unwrap_or(""),
        c.ref_columns.join(",")
    )
}

/// A column's share of NULLs in a table's profile (0 when not measured).
pub(super) fn null_rate(tp: &TableProfile, col: &str) -> f64 {
    tp.columns
        .get(col)
        .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
        .unwrap_or(0.0)
}

/// Running sums of a degree sequence: child row `i` belongs to the first parent whose sum
/// exceeds it.
pub(super) fn cumulative(d: Vec<u64>) -> Vec<u64> {
    let mut acc = 0;
    d.into_iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect()
}

/// `EXCLUDE USING btree (a WITH =, b WITH =)`: every operator is `=`.
fn equality_only(definition: &str) -> bool {
    let ops: Vec<&str> = definition
        .split(" WITH ")
        .skip(1)
        .map(|x| x.split([',', ')']).next().unwrap_or("").trim())
        .collect();
    !ops.is_empty() && ops.iter().all(|o| *o == "=")
}
