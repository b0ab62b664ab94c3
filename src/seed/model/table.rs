//! One table's model: its check rules per column, its foreign keys (each a degree sequence
//! over its parent's rows), and a generator per column — a LIST partition key's routing, a
//! foreign key's parent, a key's injective map, or values drawn from the profile; what seed
//! cannot honour is a problem, and a NOT NULL column it cannot generate leaves the table out.

use super::counts::{cumulative, null_rate, rel_key, Counts};
use super::*;
use crate::snapshot::{Column, Constraint, Table, TableProfile};

/// A table's model, or the table to leave out and why.
pub(super) type Outcome = std::result::Result<TableModel, (String, String)>;

/// A table's foreign keys as the column generators see them.
struct ForeignKeys {
    models: Vec<FkModel>,
    /// A column → (its foreign key, its place in it).
    of_col: HashMap<String, (usize, usize)>,
    /// Columns of a nullable foreign key to a table not seeded.
    left_null: BTreeSet<String>,
}

/// What every column of one table is generated with.
struct TableCtx<'t> {
    name: &'t str,
    tp: &'t TableProfile,
    rows: u64,
    id: u64,
    rules: BTreeMap<String, Rule>,
    fks: ForeignKeys,
    keys: Vec<Vec<String>>,
    route: Option<(String, Vec<String>, Vec<f64>)>,
}

impl Counts<'_> {
    pub(super) fn table(&mut self, name: &str) -> Result<Option<Outcome>> {
        let t = &self.snap.schema.tables[name];
        // `names` are the profile's tables.
        let Some(tp) = self.profile.tables.get(name) else {
            return Ok(None);
        };
        let n = self.rows[name];
        let rules = self.check_rules(name);
        let fks = match self.foreign_keys(name, n, &tp)? {
            Ok(fks) => fks,
            Err(skip) => return Ok(Some(Err(skip))),
        };
        let ctx = TableCtx {
            name,
            tp: &tp,
            rows: n,
            id: name_id(name) ^ self.opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            rules,
            fks,
            keys: self.keys.get(name).cloned().unwrap_or_default(),
            route: list_route(self.snap, name, t),
        };
        let mut columns = Vec::new();
        for col in t.columns.iter().filter(|c| !c.generated.is_generated()) {
            let gen = match self.column(&ctx, col)? {
                Ok(gen) => gen,
                Err(why) => {
                    return Ok(Some(Err((
                        name.to_string(),
                        format!("{why}; hint: give the column a default, or --skip {name}"),
                    ))))
                }
            };
            columns.push(ColumnModel {
                name: col.name.clone(),
                data_type: col.data_type.clone(),
                gen,
            });
        }
        if !tp.partitions.is_empty() {
            shares_by_leaf(self.snap, name, t, &tp, &mut columns);
        }
        Ok(Some(Ok(model(
            t,
            name,
            &ctx,
            columns,
            ctx.fks.models.clone(),
        ))))
    }

    /// Check rules per column, from the table's simple CHECK constraints (one seed cannot
    /// read is a problem: generated rows may violate it).
    fn check_rules(&mut self, name: &str) -> BTreeMap<String, Rule> {
        let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
        let snap = self.snap;
        for c in snap
            .schema
            .constraints
            .values()
            .filter(|c| c.table == name && c.kind == ConstraintKind::Check)
        {
            match checks::read(&c.definition) {
                Some(r) => {
                    for (col, rule) in r {
                        merge(rules.entry(col).or_default(), rule);
                    }
                }
                None => self.problem(name, format!("check constraint {} is not a simple form seed can honour ({}); generated rows may violate it", c.name, c.definition)),
            }
        }
        rules
    }

    /// The table's foreign keys, the primary one first: a degree sequence over the parent's
    /// rows each (the primary's already made by the row counts). One to a table not seeded is
    /// left NULL when it can be, else leaves this table out (its parent was) or is an error.
    fn foreign_keys(
        &mut self,
        name: &str,
        n: u64,
        tp: &TableProfile,
    ) -> Result<std::result::Result<ForeignKeys, (String, String)>> {
        let mut out = ForeignKeys {
            models: Vec::new(),
            of_col: HashMap::new(),
            left_null: BTreeSet::new(),
        };
        let primary = self.primary.get(name).map(|p| p.name.clone());
        let mut table_fks: Vec<&Constraint> = self.fks.get(name).cloned().unwrap_or_default();
        table_fks.sort_by_key(|c| (primary.as_ref() != Some(&c.name), c.name.clone()));
        for c in table_fks {
            let parent = c.references.clone().unwrap_or_default();
            let nullable = c.columns.iter().all(|col| !self.not_null(name, col));
            let Some(&prows) = self.rows.get(&parent) else {
                if nullable {
                    out.left_null.extend(c.columns.iter().cloned());
                    self.problem(
                        name,
                        format!(
                            "foreign key {} is left NULL: its parent {parent} is not seeded",
                            c.name
                        ),
                    );
                    continue;
                }
                if self.excluded.contains_key(&parent) {
                    return Ok(Err((
                        name.to_string(),
                        format!("its NOT NULL foreign key {} needs rows of {parent}, which is not seeded", c.name),
                    )));
                }
                return Err(Error::Usage(format!(
                    "{name}: foreign key {} needs rows of {parent}, which is not seeded; hint: include {parent}, or skip {name}",
                    c.name
                )));
            };
            let is_primary = primary.as_ref() == Some(&c.name);
            let nr = null_rate(tp, &c.columns[0]);
            // The primary foreign key numbers the rows parent by parent (contiguous) where it
            // leads a composite key (rows ranked within their parent), or where
            // production's rows lie in its order (pg_stats' correlation 0.5 or more, or not
            // known); else its children are spread over the table as production's are, so an
            // index on it plans as production's does (a bitmap scan where rows are scattered,
            // not an index scan over rows that sit together).
            let leads_key = self.keys.get(name).is_some_and(|ks| {
                ks.iter()
                    .any(|k| k.len() > c.columns.len() && c.columns.iter().all(|x| k.contains(x)))
            });
            let in_order = self
                .snap
                .statistics
                .columns
                .get(name)
                .and_then(|m| m.get(&c.columns[0]))
                .and_then(|st| st.correlation)
                .is_none_or(|r| r.abs() >= 0.5);
            let contiguous = is_primary && (leads_key || in_order);
            let cum = match self.degrees.get(&(c.name.clone() + "@" + name)) {
                Some(cum) if is_primary => cum.clone(),
                _ => {
                    let rel = self.profile.relationships.get(&rel_key(c));
                    Arc::new(cumulative(degrees(
                        rel,
                        prows,
                        ((n as f64) * (1.0 - nr)).round() as u64,
                        mean_children(self.profile, rel),
                        name_id(&c.name),
                    )))
                }
            };
            let fi = out.models.len();
            for (part, col) in c.columns.iter().enumerate() {
                out.of_col.entry(col.clone()).or_insert((fi, part));
            }
            out.models.push(FkModel {
                name: c.name.clone(),
                columns: c.columns.clone(),
                parent,
                parent_columns: c.ref_columns.clone(),
                cum,
                contiguous,
                null_rate: if nullable { nr } else { 0.0 },
                perm: (
                    coprime(n.max(1), name_id(&c.name)),
                    name_id(&c.name) % n.max(1),
                ),
            });
        }
        Ok(Ok(out))
    }

    /// A column's generator, or why the table cannot be generated (a NOT NULL column of a
    /// type seed has no value for, and no default).
    fn column(&mut self, ctx: &TableCtx, col: &Column) -> Result<std::result::Result<Gen, String>> {
        let snap = self.snap;
        let (base_type, domain_checks) = resolve(snap, &col.data_type, col.type_kind);
        let mut rule = ctx
            .rules
            .get(&col.name.to_lowercase())
            .cloned()
            .unwrap_or_default();
        for d in domain_checks {
            if let Some(r) = checks::read(d).and_then(|mut m| m.remove("value")) {
                merge(&mut rule, r);
            }
        }
        let kind = kind_of(&col.data_type, col.type_kind, snap);
        let p = ctx.tp.columns.get(&col.name).map(|c| &**c);
        let in_key = ctx.keys.iter().find(|k| k.contains(&col.name)).filter(|k| {
            // In a composite key with a column unique on its own (a partitioned table's
            // `(id, created_at)`), that column keeps the key unique: the others follow their
            // profiles, except a column a foreign key references (its children render it
            // from the parent's row number).
            k.len() == 1
                || unique_alone(ctx, &col.name)
                || referenced(snap, ctx.name, &col.name)
                || !k
                    .iter()
                    .any(|c| !ctx.fks.of_col.contains_key(c) && unique_alone(ctx, c))
        });
        let fks = &ctx.fks;
        if fks.left_null.contains(&col.name) && !fks.of_col.contains_key(&col.name) {
            return Ok(Ok(Gen::Null));
        }
        if let Some((_, labels, cum)) = ctx.route.as_ref().filter(|(c, _, _)| *c == col.name) {
            // A list partition key: the partitions' values at their shares of the rows.
            let other = (cum.len() > labels.len())
                .then(|| base_for(snap, kind, &base_type, &col.data_type, p, &rule).map(Box::new))
                .flatten();
            return Ok(Ok(Gen::Values(Values {
                base: Base::Routed {
                    labels: labels.clone(),
                    cum: cum.clone(),
                    other,
                },
                null_rate: 0.0,
                pool: None,
                reserved: None,
                ordered: None,
                by_leaf: None,
            })));
        }
        if let Some(&(fk, part)) = fks.of_col.get(&col.name) {
            // A second foreign key inside a composite key led by the primary one.
            let lead = &fks.models[0];
            return Ok(Ok(match in_key {
                Some(k)
                    if k.len() > 1
                        && fk > 0
                        && lead.contiguous
                        && lead.columns.iter().all(|c| k.contains(c))
                        && !lead.columns.contains(&col.name) =>
                {
                    Gen::RankFk {
                        fk: 0,
                        other: fk,
                        part,
                    }
                }
                _ => Gen::Fk { fk, part },
            }));
        }
        if let Some(k) = in_key {
            let object = format!("{}.{}", ctx.name, crate::sql::ident(&col.name));
            let mut g = key_gen(ctx, k, col, &object, kind, &base_type, p, &rule)?;
            // A key numbered alone whose values production does not store in their order
            // (pg_stats' correlation within ±0.5: random ids, e-mail addresses, names):
            // scattered over the rows.
            if let Gen::Key {
                div: 1,
                modulo: None,
                scatter,
                ..
            } = &mut g
            {
                let c = snap
                    .statistics
                    .columns
                    .get(ctx.name)
                    .and_then(|t| t.get(&col.name))
                    .and_then(|s| s.correlation);
                if c.is_some_and(|c| c.abs() < 0.5) && ctx.rows > 2 {
                    let salt = ctx.id ^ name_id(&col.name);
                    *scatter = Some((
                        super::fanout::coprime(ctx.rows, salt),
                        salt % ctx.rows,
                        ctx.rows,
                    ));
                }
            }
            return Ok(Ok(g));
        }
        Ok(
            match base_for(snap, kind, &base_type, &col.data_type, p, &rule) {
                Some(base) => {
                    let mut v = values(
                        base,
                        p,
                        col.not_null || rule.not_null,
                        ctx.rows,
                        ctx.tp.rows,
                        self.profile.raw_values,
                    );
                    in_row_order(snap, ctx, col, kind, &rule, &mut v);
                    Ok(Gen::Values(v))
                }
                // No generator: the column's default fills it (left out of the COPY).
                None if col.default.is_some() => {
                    self.problem(
                        ctx.name,
                        format!(
                            "column {} ({}) takes its default: seed does not generate that type",
                            col.name, col.data_type
                        ),
                    );
                    Ok(Gen::Default)
                }
                None if !col.not_null => {
                    self.problem(
                        ctx.name,
                        format!(
                            "column {} ({}) is left NULL: seed does not generate that type",
                            col.name, col.data_type
                        ),
                    );
                    Ok(Gen::Null)
                }
                None => Err(format!(
                    "column {} ({}) is NOT NULL and seed does not generate that type",
                    col.name, col.data_type
                )),
            },
        )
    }
}

/// A key column: alone (or beside the LIST partition key) an injective map of the row;
/// numbered within its parent after a leading foreign key; in a composite key, the last
/// column varies fastest.
#[expect(
    clippy::too_many_arguments,
    reason = "a column's facts, named at the one call site"
)]
fn key_gen(
    ctx: &TableCtx,
    k: &[String],
    col: &Column,
    object: &str,
    kind: Kind,
    base_type: &str,
    p: Option<&ColumnProfile>,
    rule: &Rule,
) -> Result<Gen> {
    let n = ctx.rows;
    let lead = ctx.fks.models.first().filter(|f| {
        f.contiguous && f.columns.iter().all(|c| k.contains(c)) && k.len() == f.columns.len() + 1
    });
    // A key that holds the list partition key: the other columns are unique alone.
    let routed_key = ctx.route.as_ref().is_some_and(|(c, _, _)| k.contains(c));
    let salt = ctx.id ^ name_id(&col.name);
    if k.len() == 1 || routed_key || unique_alone(ctx, &col.name) {
        return Ok(Gen::Key {
            key: key_for(object, kind, base_type, p, rule, n, salt)?,
            div: 1,
            modulo: None,
            scatter: None,
        });
    }
    if let (Some(_), Kind::Number) = (lead, kind) {
        return Ok(Gen::Rank { fk: 0 });
    }
    // Composite: the last column varies fastest.
    let free: Vec<&String> = k
        .iter()
        .filter(|c| !ctx.fks.of_col.contains_key(*c))
        .collect();
    let m = ((n.max(2) as f64).powf(1.0 / free.len().max(1) as f64))
        .ceil()
        .max(2.0) as u64;
    let pos = free.iter().position(|c| **c == col.name).unwrap_or(0);
    let div = m.saturating_pow((free.len() - 1 - pos) as u32);
    let key = key_for(
        object,
        kind,
        base_type,
        p,
        rule,
        if pos == 0 { n / div.max(1) + 1 } else { m },
        salt,
    )?;
    Ok(Gen::Key {
        key,
        div,
        modulo: (pos > 0).then_some(m),
        scatter: None,
    })
}

/// Orders `v`'s values by row where production's physical order correlates with them
/// (pg_stats' correlation at or beyond ±0.5): numbers and times on their curve, and labels
/// whose order is known (an enum's, in its declared order; booleans; a categorical number's).
fn in_row_order(
    snap: &Snapshot,
    ctx: &TableCtx,
    col: &Column,
    kind: Kind,
    rule: &Rule,
    v: &mut Values,
) {
    let Some(c) = snap
        .statistics
        .columns
        .get(ctx.name)
        .and_then(|t| t.get(&col.name))
        .and_then(|s| s.correlation)
        .filter(|c| c.abs() >= 0.5)
    else {
        return;
    };
    let orderable = match &mut v.base {
        Base::Number { .. } | Base::Temporal { .. } => true,
        Base::Labels { labels, cum } if rule.one_of.is_none() => match kind {
            Kind::Number | Kind::Temporal | Kind::Boolean => true,
            Kind::Enum => {
                // The declared order, which is the enum's sort order.
                let declared: Option<&Vec<String>> = snap
                    .schema
                    .types
                    .iter()
                    .find(|(k, _)| {
                        *k == &col.data_type || k.ends_with(&format!(".{}", col.data_type))
                    })
                    .map(|(_, t)| &t.labels);
                match declared {
                    Some(order) => {
                        let mut pairs: Vec<(String, f64)> = labels
                            .iter()
                            .zip(cum.iter().scan(0.0, |prev, c| {
                                let w = c - *prev;
                                *prev = *c;
                                Some(w)
                            }))
                            .map(|(l, w)| (l.clone(), w))
                            .collect();
                        pairs.sort_by_key(|(l, _)| {
                            order.iter().position(|o| o == l).unwrap_or(usize::MAX)
                        });
                        if let Base::Labels { labels: l, cum: c } = labels_from(&pairs) {
                            *labels = l;
                            *cum = c;
                        }
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        },
        _ => false,
    };
    if orderable && v.pool.is_none() {
        v.ordered = Some(Ordered {
            rows: ctx.rows,
            descending: c < 0.0,
        });
    }
}

/// Whether a foreign key references `table`'s column `col`.
fn referenced(snap: &Snapshot, table: &str, col: &str) -> bool {
    snap.schema.constraints.values().any(|c| {
        c.kind == ConstraintKind::ForeignKey
            && c.references.as_deref() == Some(table)
            && c.ref_columns.iter().any(|r| r == col)
    })
}

/// Whether production's column holds a distinct value in (nearly) every row of the table,
/// none NULL (the distinct estimate is the table's, not its sample's).
fn unique_alone(ctx: &TableCtx, col: &str) -> bool {
    let rows = ctx.tp.rows;
    ctx.tp.columns.get(col).is_some_and(|p| {
        p.nulls == 0 && rows >= 2.0 && p.distinct.as_ref().is_some_and(|d| d.value >= 0.95 * rows)
    })
}

/// The table's model from its columns: rows, chunk size by the widest row, foreign keys.
fn model(
    t: &Table,
    name: &str,
    ctx: &TableCtx,
    columns: Vec<ColumnModel>,
    fks: Vec<FkModel>,
) -> TableModel {
    let width: f64 = columns.iter().map(|c| c.gen.widest()).sum();
    TableModel {
        partitioned: t.kind == TableKind::Partitioned,
        name: name.to_string(),
        rows: ctx.rows,
        chunk_rows: chunk_rows(width),
        chunk_bytes: (chunk_rows(width) as f64 * width.max(1.0)) as u64,
        columns,
        fks,
        id: ctx.id,
    }
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
