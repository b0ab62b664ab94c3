//! What to generate, decided from the snapshot alone (no IO): row counts per table (scaled, or
//! set per table), and per column a generator. Primary and unique keys are injective
//! functions of the row number, so no duplicate is ever drawn and no retry can run out;
//! composite keys vary their last column fastest, or number rows within their parent group.
//! Foreign keys follow a degree sequence built from the profile's fan-out quantiles
//! (stratified, with the maximum placed exactly), so the fan-out histogram and its tail match
//! by construction; the child's row count is the sum of the degrees. Every key value is a pure
//! function of (table, column, row), so any table can be generated in any order, in chunks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::checks::{self, Rule};
use super::gen::{name_id, Base, Classes, Curve, Pool, Temporal, Values, FRAGMENTS};
use crate::error::{Error, Result};
use crate::snapshot::measure::{kind_of, Kind};
use crate::snapshot::{
    ColumnProfile, ConstraintKind, Problem, Snapshot, TableKind, TypeKind, FANOUT_QUANTILES,
    QUANTILES,
};

mod columns;
mod fanout;
mod keys;

use columns::*;
use fanout::*;
use keys::*;

/// What `seed` was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedOptions {
    /// Row counts are the profile's times this.
    pub scale: f64,
    /// Row counts set per table (`public.orders` → 1000), overriding the scale.
    pub rows: BTreeMap<String, u64>,
    /// Same seed, same data.
    pub seed: u64,
    /// Only these tables (names or `*` patterns); empty: all.
    pub include: Vec<String>,
    pub skip: Vec<String>,
    /// Create the snapshot's schema on the target first.
    pub create_schema: bool,
    /// Empty the tables first (else a non-empty table is refused).
    pub truncate: bool,
    /// COPY streams at once: tables, and ranges of a large table (`SPLIT_MIN_ROWS`).
    pub streams: usize,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            scale: 1.0,
            rows: BTreeMap::new(),
            seed: 1,
            include: Vec::new(),
            skip: Vec::new(),
            create_schema: false,
            truncate: false,
            // Four, on two cores too: a stream's server waits on its WAL flushes and
            // commits while another works (2,000 small tables, fsync on: load 10.4 and 8.0 s
            // with two, 5.5 and 3.9 s with four; 6M lineitem rows: 1.22 → 1.53 × COPY FROM).
            streams: 4,
        }
    }
}

/// How one column's values come about.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    /// Drawn per row from the profile.
    Values(Values),
    /// A key: index `(row / div) % modulo` through an injective map.
    Key {
        key: Key,
        div: u64,
        modulo: Option<u64>,
    },
    /// Column `part` of the table's foreign key `fk`.
    Fk {
        fk: usize,
        part: usize,
    },
    /// 1 + the row's rank among the children of its parent under foreign key `fk`.
    Rank {
        fk: usize,
    },
    /// A second foreign key in a composite key led by foreign key `fk`: the parent of
    /// `other` at (rank + an offset per group) modulo its rows, distinct within the group.
    RankFk {
        fk: usize,
        other: usize,
        part: usize,
    },
    Null,
    /// Left out of the COPY: the column's default fills it.
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnModel {
    pub name: String,
    pub data_type: String,
    pub gen: Gen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableModel {
    pub name: String,
    /// Partitioned (rows route to partitions; COPY FREEZE does not apply).
    pub partitioned: bool,
    pub rows: u64,
    /// Rows generated at once (a chunk, its own streams): `CHUNK_ROWS`, fewer where rows are
    /// wide, so a chunk stays near `CHUNK_BYTES` (200 rows of 4 MB documents were 1.7 GB at
    /// once). A function of the model alone: the same chunks, the same bytes, on any streams.
    pub chunk_rows: u64,
    /// The most bytes of COPY text a chunk can hold (lengths at the profile's maximum), which
    /// bounds how many chunks a load keeps in flight.
    pub chunk_bytes: u64,
    pub columns: Vec<ColumnModel>,
    pub fks: Vec<FkModel>,
    pub id: u64,
}

/// Rows per chunk for rows of at most `width` bytes of COPY text.
pub fn chunk_rows(width: f64) -> u64 {
    let fit = (crate::seed::CHUNK_BYTES as f64 / width.max(1.0)).floor() as u64;
    fit.clamp(1, crate::seed::CHUNK_ROWS)
}

impl Gen {
    /// About the most bytes of COPY text one value takes (lengths at their profile's
    /// maximum, twice for escapes and multibyte characters; 32 for anything short).
    fn widest(&self) -> f64 {
        match self {
            Gen::Values(v) => v.base.widest(),
            _ => 32.0,
        }
    }
}

/// Every table to fill, and what could not be honoured.
#[derive(Debug, Clone)]
pub struct Model {
    pub tables: Vec<TableModel>,
    pub index: HashMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Tables left out because they cannot be generated, or need rows of one that cannot:
    /// (table, why).
    pub skipped: Vec<(String, String)>,
}

impl Model {
    /// The text of a key column (key, foreign key, rank) at `row`: a pure function.
    pub fn key_text(&self, t: usize, c: usize, row: u64) -> Option<String> {
        let table = &self.tables[t];
        match &table.columns[c].gen {
            Gen::Key { key, div, modulo } => {
                let i = row / div.max(&1);
                Some(key.text(modulo.map_or(i, |m| i % m)))
            }
            Gen::Fk { fk, part } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                self.parent_text(f, *part, j)
            }
            Gen::Rank { fk } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                Some((row - f.start(j) + 1).to_string())
            }
            Gen::RankFk { fk, other, part } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                let rank = row - f.start(j);
                let o = &table.fks[*other];
                let prows = self.rows_of(&o.parent)?;
                if prows == 0 {
                    return None;
                }
                let pj = (rank + j.wrapping_mul(7919)) % prows;
                self.parent_text(o, *part, pj)
            }
            Gen::Values(_) | Gen::Null | Gen::Default => None,
        }
    }

    fn rows_of(&self, table: &str) -> Option<u64> {
        self.index.get(table).map(|&i| self.tables[i].rows)
    }

    fn parent_text(&self, f: &FkModel, part: usize, j: u64) -> Option<String> {
        let &pt = self.index.get(&f.parent)?;
        let pc = self.tables[pt]
            .columns
            .iter()
            .position(|c| c.name == f.parent_columns[part])?;
        self.key_text(pt, pc, j)
    }
}

/// Builds the model: which tables, how many rows, which generator per column. A table that
/// cannot be generated (a NOT NULL column of a type seed has no value for, and no default) is
/// skipped, and so is every table whose NOT NULL foreign key needs its rows, each named with
/// its reason; a nullable foreign key to it is left NULL. The rest is seeded.
pub fn build(snap: &Snapshot, opts: &SeedOptions) -> Result<Model> {
    let mut excluded: BTreeMap<String, String> = BTreeMap::new();
    loop {
        match build_once(snap, opts, &excluded)? {
            Ok(mut model) => {
                model.skipped = excluded.into_iter().collect();
                return Ok(model);
            }
            Err((table, why)) => {
                if excluded.insert(table.clone(), why).is_some() {
                    return Err(Error::Usage(format!(
                        "seed: {table} was skipped twice (a bug)"
                    )));
                }
            }
        }
    }
}

/// One attempt with `excluded` tables (name → why) left out: a model, or the next table that
/// must be left out and why.
fn build_once(
    snap: &Snapshot,
    opts: &SeedOptions,
    excluded: &BTreeMap<String, String>,
) -> Result<std::result::Result<Model, (String, String)>> {
    let profile = snap.profile.as_ref().ok_or_else(|| {
        Error::Usage("the snapshot holds no data profile, and seed learns only from a profile; hint: capture it again without --no-profile".into())
    })?;
    let mut problems = Vec::new();
    let selected = |name: &str| {
        (opts.include.is_empty() || opts.include.iter().any(|p| crate::glob::glob(p, name)))
            && !opts.skip.iter().any(|p| crate::glob::glob(p, name))
    };
    for name in opts.rows.keys() {
        if !snap.schema.tables.contains_key(name) {
            return Err(Error::Usage(format!(
                "--rows: the snapshot has no table {name}"
            )));
        }
    }
    // Tables to fill: ordinary and partitioned (rows route to partitions), with a profile.
    let mut names = Vec::new();
    for (name, t) in &snap.schema.tables {
        // Partitions get their rows through their parent; inheritance children are tables.
        let partition = t.parent.is_some() && t.partition_bound.is_some();
        if t.kind == TableKind::Foreign || partition || !selected(name) {
            continue;
        }
        if let Some(why) = excluded.get(name) {
            problems.push(Problem {
                area: format!("table {name}"),
                message: format!("not seeded: {why}"),
            });
            continue;
        }
        if profile.tables.contains_key(name) {
            names.push(name.clone());
        } else {
            problems.push(Problem {
                area: format!("table {name}"),
                message: "not seeded: the snapshot has no profile of it".into(),
            });
        }
    }
    let mut rows: HashMap<String, u64> = names
        .iter()
        .map(|n| {
            let r = opts.rows.get(n).copied().unwrap_or_else(|| {
                (profile.tables.rows(n).unwrap_or(0.0) * opts.scale)
                    .round()
                    .max(0.0) as u64
            });
            (n.clone(), r)
        })
        .collect();

    // Keys and foreign keys per table.
    let mut keys: HashMap<&str, Vec<Vec<String>>> = HashMap::new();
    let mut fks: HashMap<&str, Vec<&crate::snapshot::Constraint>> = HashMap::new();
    for c in snap.schema.constraints.values() {
        match c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique if !c.columns.is_empty() => keys
                .entry(c.table.as_str())
                .or_default()
                .push(c.columns.clone()),
            // An exclusion constraint whose operators are all equality is a unique key.
            ConstraintKind::Exclusion if !c.columns.is_empty() && equality_only(&c.definition) => {
                keys.entry(c.table.as_str())
                    .or_default()
                    .push(c.columns.clone())
            }
            ConstraintKind::ForeignKey if c.references.is_some() => {
                fks.entry(c.table.as_str()).or_default().push(c)
            }
            _ => {}
        }
    }
    for list in keys.values_mut() {
        list.sort_by_key(|k| k.len());
    }
    let not_null = |table: &str, col: &str| {
        snap.schema
            .tables
            .get(table)
            .and_then(|t| t.columns.iter().find(|c| c.name == col))
            .is_some_and(|c| c.not_null)
    };
    // The primary foreign key of each table decides its row count (the sum of the degrees).
    let primary: HashMap<String, &crate::snapshot::Constraint> = names
        .iter()
        .filter(|n| !opts.rows.contains_key(*n))
        .filter_map(|n| {
            let list = fks.get(n.as_str())?;
            let mut cands: Vec<&&crate::snapshot::Constraint> = list
                .iter()
                .filter(|c| {
                    c.references.as_deref() != Some(n.as_str())
                        && rows.contains_key(c.references.as_deref().unwrap_or(""))
                })
                .collect();
            cands.sort_by_key(|c| {
                (
                    !c.columns.iter().all(|col| not_null(n, col)),
                    c.name.clone(),
                )
            });
            cands.first().map(|c| (n.clone(), **c))
        })
        .collect();
    // Row counts in dependency order (parents first); a cycle keeps the scaled count.
    let mut degree_cache: HashMap<String, Arc<Vec<u64>>> = HashMap::new();
    let rel_key = |c: &crate::snapshot::Constraint| {
        format!(
            "{}({})->{}({})",
            c.table,
            c.columns.join(","),
            c.references.as_deref().unwrap_or(""),
            c.ref_columns.join(",")
        )
    };
    let mut done: BTreeSet<String> = BTreeSet::new();
    fn visit(
        n: &str,
        primary: &HashMap<String, &crate::snapshot::Constraint>,
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
    let mut order = Vec::new();
    for n in &names {
        visit(n, &primary, &mut done, &mut Vec::new(), &mut order);
    }
    for n in &order {
        let Some(c) = primary.get(n) else { continue };
        let parent = c.references.clone().unwrap_or_default();
        let Some(&prows) = rows.get(&parent) else {
            continue;
        };
        let rel = profile.relationships.get(&rel_key(c));
        let child_rows = rows[n];
        let d = degrees(
            rel,
            prows,
            child_rows,
            mean_children(profile, rel),
            name_id(n),
        );
        let total: u64 = d.iter().sum();
        let col = &c.columns[0];
        let nr = profile
            .tables
            .get(n)
            .and_then(|t| {
                t.columns
                    .get(col)
                    .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
            })
            .unwrap_or(0.0);
        let with_nulls = if nr > 0.0 && nr < 1.0 {
            (total as f64 / (1.0 - nr)).round() as u64
        } else {
            total
        };
        rows.insert(n.clone(), with_nulls);
        let mut cum = Vec::with_capacity(d.len());
        let mut acc = 0;
        for x in d {
            acc += x;
            cum.push(acc);
        }
        degree_cache.insert(c.name.clone() + "@" + n, Arc::new(cum));
    }

    let mut tables = Vec::new();
    for name in &names {
        let t = &snap.schema.tables[name];
        // `names` are the profile's tables.
        let Some(ref tp) = profile.tables.get(name) else {
            continue;
        };
        let n = rows[name];
        let id = name_id(name) ^ opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Check rules per column (table checks and domain checks).
        let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
        for c in snap
            .schema
            .constraints
            .values()
            .filter(|c| &c.table == name && c.kind == ConstraintKind::Check)
        {
            match checks::read(&c.definition) {
                Some(r) => {
                    for (col, rule) in r {
                        merge(rules.entry(col).or_default(), rule);
                    }
                }
                None => problems.push(Problem {
                    area: format!("table {name}"),
                    message: format!("check constraint {} is not a simple form seed can honour ({}); generated rows may violate it", c.name, c.definition),
                }),
            }
        }
        // Foreign keys of this table.
        let mut fk_models = Vec::new();
        let mut fk_of_col: HashMap<String, (usize, usize)> = HashMap::new();
        let mut table_fks: Vec<&crate::snapshot::Constraint> =
            fks.get(name.as_str()).cloned().unwrap_or_default();
        table_fks.sort_by_key(|c| {
            (
                primary.get(name).map(|p| p.name != c.name).unwrap_or(true),
                c.name.clone(),
            )
        });
        let mut left_null: BTreeSet<String> = BTreeSet::new();
        for c in table_fks {
            let parent = c.references.clone().unwrap_or_default();
            let Some(&prows) = rows.get(&parent) else {
                let nullable = c.columns.iter().all(|col| !not_null(name, col));
                if nullable {
                    left_null.extend(c.columns.iter().cloned());
                    problems.push(Problem {
                        area: format!("table {name}"),
                        message: format!(
                            "foreign key {} is left NULL: its parent {parent} is not seeded",
                            c.name
                        ),
                    });
                    continue;
                }
                if excluded.contains_key(&parent) {
                    return Ok(Err((
                        name.clone(),
                        format!("its NOT NULL foreign key {} needs rows of {parent}, which is not seeded", c.name),
                    )));
                }
                return Err(Error::Usage(format!(
                    "{name}: foreign key {} needs rows of {parent}, which is not seeded; hint: include {parent}, or skip {name}",
                    c.name
                )));
            };
            let is_primary = primary.get(name).is_some_and(|p| p.name == c.name);
            let cum = match degree_cache.get(&(c.name.clone() + "@" + name)) {
                Some(cum) if is_primary => cum.clone(),
                _ => {
                    let rel = profile.relationships.get(&rel_key(c));
                    let nr = tp
                        .columns
                        .get(&c.columns[0])
                        .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
                        .unwrap_or(0.0);
                    let d = degrees(
                        rel,
                        prows,
                        ((n as f64) * (1.0 - nr)).round() as u64,
                        mean_children(profile, rel),
                        name_id(&c.name),
                    );
                    let mut cum = Vec::with_capacity(d.len());
                    let mut acc = 0;
                    for x in d {
                        acc += x;
                        cum.push(acc);
                    }
                    Arc::new(cum)
                }
            };
            let nr = tp
                .columns
                .get(&c.columns[0])
                .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
                .unwrap_or(0.0);
            let fi = fk_models.len();
            for (part, col) in c.columns.iter().enumerate() {
                fk_of_col.entry(col.clone()).or_insert((fi, part));
            }
            fk_models.push(FkModel {
                name: c.name.clone(),
                columns: c.columns.clone(),
                parent,
                parent_columns: c.ref_columns.clone(),
                cum,
                contiguous: is_primary,
                null_rate: if c.columns.iter().all(|col| !not_null(name, col)) {
                    nr
                } else {
                    0.0
                },
                perm: (
                    coprime(n.max(1), name_id(&c.name)),
                    name_id(&c.name) % n.max(1),
                ),
            });
        }
        // Key columns.
        let table_keys = keys.get(name.as_str()).cloned().unwrap_or_default();
        let route = list_route(snap, name, t);
        let mut columns = Vec::new();
        let mut unsupported = None;
        for col in &t.columns {
            if col.generated.is_generated() {
                continue;
            }
            let object = format!("{name}.{}", crate::sql::ident(&col.name));
            let (base_type, domain_checks) = resolve(snap, &col.data_type, col.type_kind);
            let mut rule = rules
                .get(&col.name.to_lowercase())
                .cloned()
                .unwrap_or_default();
            for d in domain_checks {
                if let Some(r) = checks::read(d).and_then(|mut m| m.remove("value")) {
                    merge(&mut rule, r);
                }
            }
            let kind = kind_of(&col.data_type, col.type_kind, snap);
            let p = tp.columns.get(&col.name).map(|c| &**c);
            let in_key = table_keys.iter().find(|k| k.contains(&col.name));
            let gen = if left_null.contains(&col.name) && !fk_of_col.contains_key(&col.name) {
                Gen::Null
            } else if route.as_ref().is_some_and(|(c, _, _)| *c == col.name) {
                // A list partition key: the partitions' values at their shares of the rows.
                let (_, labels, cum) = route.clone().expect("route");
                let other = (cum.len() > labels.len())
                    .then(|| {
                        base_for(snap, kind, &base_type, &col.data_type, p, &rule).map(Box::new)
                    })
                    .flatten();
                Gen::Values(Values {
                    base: Base::Routed { labels, cum, other },
                    null_rate: 0.0,
                    pool: None,
                })
            } else if let Some(&(fk, part)) = fk_of_col.get(&col.name) {
                // A second foreign key inside a composite key led by the primary one.
                match in_key {
                    Some(k)
                        if k.len() > 1
                            && fk > 0
                            && fk_models[0].contiguous
                            && fk_models[0].columns.iter().all(|c| k.contains(c))
                            && !fk_models[0].columns.contains(&col.name) =>
                    {
                        Gen::RankFk {
                            fk: 0,
                            other: fk,
                            part,
                        }
                    }
                    _ => Gen::Fk { fk, part },
                }
            } else if let Some(k) = in_key {
                let lead = fk_models.first().filter(|f| {
                    f.contiguous
                        && f.columns.iter().all(|c| k.contains(c))
                        && k.len() == f.columns.len() + 1
                });
                // A key that holds the list partition key: the other columns are unique alone.
                let routed_key = route.as_ref().is_some_and(|(c, _, _)| k.contains(c));
                if k.len() == 1 || routed_key {
                    Gen::Key {
                        key: key_for(
                            &object,
                            kind,
                            &base_type,
                            p,
                            &rule,
                            n,
                            id ^ name_id(&col.name),
                        )?,
                        div: 1,
                        modulo: None,
                    }
                } else if let (Some(_), Kind::Number) = (lead, kind) {
                    Gen::Rank { fk: 0 }
                } else {
                    // Composite: the last column varies fastest.
                    let free: Vec<&String> =
                        k.iter().filter(|c| !fk_of_col.contains_key(*c)).collect();
                    let m = ((n.max(2) as f64).powf(1.0 / free.len().max(1) as f64))
                        .ceil()
                        .max(2.0) as u64;
                    let pos = free.iter().position(|c| **c == col.name).unwrap_or(0);
                    let div = m.saturating_pow((free.len() - 1 - pos) as u32);
                    let key = key_for(
                        &object,
                        kind,
                        &base_type,
                        p,
                        &rule,
                        if pos == 0 { n / div.max(1) + 1 } else { m },
                        id ^ name_id(&col.name),
                    )?;
                    Gen::Key {
                        key,
                        div,
                        modulo: (pos > 0).then_some(m),
                    }
                }
            } else {
                match base_for(snap, kind, &base_type, &col.data_type, p, &rule) {
                    Some(base) => Gen::Values(values(
                        base,
                        p,
                        col.not_null || rule.not_null,
                        n,
                        tp.rows,
                        profile.raw_values,
                    )),
                    // No generator: the column's default fills it (left out of the COPY).
                    None if col.default.is_some() => {
                        problems.push(Problem {
                            area: format!("table {name}"),
                            message: format!(
                                "column {} ({}) takes its default: seed does not generate that type",
                                col.name, col.data_type
                            ),
                        });
                        Gen::Default
                    }
                    None if !col.not_null => {
                        problems.push(Problem {
                            area: format!("table {name}"),
                            message: format!(
                                "column {} ({}) is left NULL: seed does not generate that type",
                                col.name, col.data_type
                            ),
                        });
                        Gen::Null
                    }
                    None => {
                        unsupported = Some(format!(
                            "column {} ({}) is NOT NULL and seed does not generate that type",
                            col.name, col.data_type
                        ));
                        Gen::Null
                    }
                }
            };
            columns.push(ColumnModel {
                name: col.name.clone(),
                data_type: col.data_type.clone(),
                gen,
            });
        }
        if let Some(why) = unsupported {
            return Ok(Err((
                name.clone(),
                format!("{why}; hint: give the column a default, or --skip {name}"),
            )));
        }
        let width: f64 = columns.iter().map(|c| c.gen.widest()).sum();
        tables.push(TableModel {
            partitioned: t.kind == TableKind::Partitioned,
            name: name.clone(),
            rows: n,
            chunk_rows: chunk_rows(width),
            chunk_bytes: (chunk_rows(width) as f64 * width.max(1.0)) as u64,
            columns,
            fks: fk_models,
            id,
        });
    }
    let index = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    Ok(Ok(Model {
        tables,
        index,
        problems,
        skipped: Vec::new(),
    }))
}

/// For a table partitioned by `LIST (col)`: the column, the values its partitions list, and
/// cumulative weights by each partition's rows (the planner's count, from the snapshot's
/// statistics); one more weight at the end when a default partition takes the rest.
fn list_route(
    snap: &Snapshot,
    name: &str,
    t: &crate::snapshot::Table,
) -> Option<(String, Vec<String>, Vec<f64>)> {
    let key = t
        .partition_key
        .as_deref()?
        .strip_prefix("LIST (")?
        .strip_suffix(')')?;
    if key.contains(',') || key.contains('(') {
        return None;
    }
    let col = unquote(key.trim());
    let rows = |n: &str| -> f64 {
        fn sum(snap: &Snapshot, n: &str, depth: usize) -> f64 {
            let own = snap
                .statistics
                .tables
                .get(n)
                .map(|s| s.reltuples.max(s.live_tuples as f64).max(0.0))
                .unwrap_or(0.0);
            if depth > 16 {
                return own;
            }
            own + snap
                .schema
                .tables
                .iter()
                .filter(|(_, c)| c.parent.as_deref() == Some(n))
                .map(|(k, _)| sum(snap, k, depth + 1))
                .sum::<f64>()
        }
        sum(snap, n, 0)
    };
    let (mut labels, mut weights, mut default) = (Vec::new(), Vec::new(), None);
    for (child, c) in snap
        .schema
        .tables
        .iter()
        .filter(|(_, c)| c.parent.as_deref() == Some(name))
    {
        let Some(bound) = &c.partition_bound else {
            continue;
        };
        let w = rows(child);
        if bound.trim() == "DEFAULT" {
            default = Some(w);
            continue;
        }
        let Some(list) = bound
            .trim()
            .strip_prefix("FOR VALUES IN (")
            .and_then(|b| b.strip_suffix(')'))
        else {
            continue;
        };
        let values = split_literals(list);
        let share = w / values.len().max(1) as f64;
        for v in values {
            labels.push(v);
            weights.push(share);
        }
    }
    if labels.is_empty() {
        return None;
    }
    if let Some(d) = default {
        weights.push(d);
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let cum = weights
        .iter()
        .map(|w| {
            acc += if total > 0.0 { *w } else { 1.0 };
            acc
        })
        .collect();
    Some((col, labels, cum))
}

/// `"Odd ""Name"""` → `Odd "Name"`; a bare name as is.
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

/// `'eu', 'uk'` → [eu, uk]; numbers as written; NULL left out.
fn split_literals(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            '\'' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c if quoted || !c.is_whitespace() => cur.push(c),
            _ => {}
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|v| v.split("::").next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty() && v != "NULL")
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

fn merge(into: &mut Rule, r: Rule) {
    if let Some(lo) = r.lo {
        into.lo = Some(into.lo.map_or(lo, |x| x.max(lo)));
    }
    if let Some(hi) = r.hi {
        into.hi = Some(into.hi.map_or(hi, |x| x.min(hi)));
    }
    if r.one_of.is_some() {
        into.one_of = r.one_of;
    }
    if let Some(m) = r.max_chars {
        into.max_chars = Some(into.max_chars.map_or(m, |x| x.min(m)));
    }
    into.not_null |= r.not_null;
    if r.pattern.is_some() {
        into.pattern = r.pattern;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_follow_the_fanout_quantiles() {
        let rel = crate::snapshot::RelationshipProfile {
            child: "c".into(),
            child_columns: vec!["p".into()],
            parent: "p".into(),
            parent_columns: vec!["id".into()],
            parents: 1000,
            parents_sampled: false,
            childless: 300,
            fanout: vec![2.0, 6.0, 40.0, 200.0],
            max: 900.0,
            children: 0,
            orphans: 0,
        };
        assert_eq!(
            split_literals("'eu', 'it''s', 5, NULL"),
            ["eu", "it's", "5"]
        );
        let d = degrees(Some(&rel), 10_000, 0, None, 7);
        let mut s = d.clone();
        s.sort();
        let q = |x: f64| s[((s.len() as f64 * x) as usize).min(s.len() - 1)];
        assert_eq!(s.iter().filter(|&&x| x == 0).count(), 3000);
        assert_eq!(*s.last().unwrap(), 900);
        assert!(
            (q(0.5) as f64 - 2.0).abs() <= 1.0 && (q(0.9) as f64 - 6.0).abs() <= 1.0,
            "{} {}",
            q(0.5),
            q(0.9)
        );
        assert!((q(0.99) as f64 - 40.0).abs() <= 4.0, "{}", q(0.99));
        assert_eq!(d, degrees(Some(&rel), 10_000, 0, None, 7));
        let even = crate::snapshot::RelationshipProfile {
            childless: 0,
            fanout: vec![5.0; 4],
            max: 5.0,
            ..rel.clone()
        };
        assert!(degrees(Some(&even), 25, 0, Some(5.0), 1)
            .iter()
            .all(|&d| d == 5));
        assert_ne!(d[..20], s[..20]);
    }

    #[test]
    fn keys_are_injective() {
        let k = Key::Text { width: 3 };
        let v: BTreeSet<String> = (0..5000).map(|i| k.text(i)).collect();
        assert_eq!(v.len(), 5000);
        assert_eq!(base36(35), "z");
        let f = FkModel {
            name: "f".into(),
            columns: vec![],
            parent: "p".into(),
            parent_columns: vec![],
            cum: Arc::new(vec![2, 2, 5]),
            contiguous: true,
            null_rate: 0.0,
            perm: (1, 0),
        };
        let parents: Vec<Option<u64>> = (0..6).map(|r| f.parent_row(r, 6)).collect();
        assert_eq!(
            parents,
            vec![Some(0), Some(0), Some(2), Some(2), Some(2), None]
        );
    }
}
