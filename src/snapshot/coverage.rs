//! The catalog coverage map: for every column of every pg_catalog relation on the majors the
//! tests run, how pgparity treats it — **compared** (by a catalog object declaration, whose
//! attributes a test plants, or by another comparer, named with its finding and the test that
//! plants it), **ignored** with the reason in one line, or a **gap**: something that changes
//! what an application sees and is not compared yet, said so. docs/catalog-coverage.md is made
//! from this and the live catalogs; `tests/it/catalog.rs` fails on a catalog column no rule
//! covers, so a new major's new columns show up as a failing test, not as silence.

use super::objects::kinds;

/// How a catalog column is treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Compared: by what (a kind's attribute, or a comparer and its finding id, and the test
    /// that plants a difference in it).
    Compared(String),
    Ignored(&'static str),
    /// Not compared yet though it can change what an application sees.
    Gap(&'static str),
}

impl Coverage {
    pub fn word(&self) -> &'static str {
        match self {
            Coverage::Compared(_) => "compared",
            Coverage::Ignored(_) => "ignored",
            Coverage::Gap(_) => "gap",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Coverage::Compared(s) => s,
            Coverage::Ignored(s) | Coverage::Gap(s) => s,
        }
    }
}

use Coverage::{Gap as G, Ignored as I};

/// A rule: space-separated `relation.column` patterns (`*` matches any run of characters),
/// and what they are. The first rule that matches decides; the declarations come first.
type Rule = (&'static str, Treat);

/// What a rule says of the columns it matches.
#[derive(Clone, Copy)]
pub enum Treat {
    /// Compared by another comparer: (how, finding id, the test that plants it).
    By(&'static str),
    Ignored(&'static str),
    Gap(&'static str),
}

use Treat::{By, Gap as Gp, Ignored as Ig};

const OID: &str = "an object's OID: differs between any two databases; objects are matched by name";
const COUNTER: &str =
    "a server-local activity counter or timing: how the server has been used, not what it holds";
const RUNTIME: &str = "the state of running sessions, locks or memory at the moment of the capture";
const DERIVED: &str = "derived by PostgreSQL from another column that is compared";
const STORAGE: &str =
    "physical storage, server-local (file numbers, transaction horizons, sizes in pages)";
const REPLICA: &str = "replication progress, server-local positions and timings";

/// The rules after the declarations (which are `Compared` by the schema comparer).
pub const RULES: &[Rule] = &[
    // OIDs and their back references.
    ("*.oid", Ig(OID)),
    // Compared by the comparers that are not declaration-driven.
    ("pg_settings.name pg_settings.setting pg_settings.unit pg_settings.vartype pg_settings.reset_val pg_settings.boot_val pg_settings.category pg_settings.context pg_settings.source pg_settings.pending_restart",
     By("compare::settings: `setting:<name>` (tests/it/compare_live.rs planted_differences_are_found_with_category_and_object, tests/pure/comparers.rs settings)")),
    ("pg_settings.*", Ig("the setting's documentation, limits and the file that set it: its value is compared")),
    ("pg_db_role_setting.*", By("compare::settings: `setting:role:<role>@<db>/setting:<name>` (tests/it/compare_live.rs planted_differences_are_found_with_category_and_object)")),
    ("pg_extension.extname pg_extension.extversion pg_extension.extnamespace pg_available_extensions.default_version pg_available_extensions.name",
     By("compare::extensions: `extension:<name>` (tests/it/compare_live.rs planted_differences_are_found_with_category_and_object, tests/pure/comparers.rs extensions)")),
    ("pg_database.datname pg_database.encoding pg_database.datcollate pg_database.datctype pg_database.datlocprovider pg_database.daticulocale pg_database.datlocale pg_database.datcollversion",
     By("compare::collation: `collation:database:<aspect>` (tests/it/compare_live.rs planted_differences_are_found_with_category_and_object, tests/pure/comparers.rs collation)")),
    ("pg_collation.collname pg_collation.collnamespace pg_collation.collprovider pg_collation.collcollate pg_collation.colliculocale pg_collation.colllocale pg_collation.collversion",
     By("compare::collation: `collation:<name>:<aspect>` for collations user columns use (tests/pure/comparers.rs collation)")),
    ("pg_stat_replication.application_name pg_stat_replication.state pg_stat_replication.sync_state pg_replication_slots.slot_name pg_replication_slots.slot_type pg_replication_slots.active pg_replication_slots.plugin",
     By("compare::topology: `topology:standbys`, `topology:slots` (tests/it/compare_live.rs a_primary_with_a_streaming_standby_differs_from_a_lone_primary, tests/pure/comparers.rs topology)")),
    ("pg_class.relallvisible",
     By("seed: a table production keeps mostly all-visible is vacuumed after the load, so index-only scans cost the same (tests/it/zoo.rs helpdesk_whole_loop)")),
    ("pg_class.reltuples pg_class.relpages pg_stat_all_tables.n_live_tup pg_stat_all_tables.last_analyze pg_stat_all_tables.last_autoanalyze pg_stat_all_tables.n_mod_since_analyze",
     By("compare::statistics: `statistics:<table>:<aspect>` (tests/pure/comparers.rs statistics, tests/it/data.rs)")),
    ("pg_stats.schemaname pg_stats.tablename pg_stats.attname pg_stats.inherited pg_stats.null_frac pg_stats.n_distinct pg_stats.avg_width pg_stats.correlation pg_stats.most_common_freqs",
     By("compare::statistics and compare::data::truth: pg_stats against the measured truth (tests/pure/comparers.rs statistics)")),
    ("pg_stats.*", Ig("raw values from the data (most common values, histograms): never captured; the profile measures the data itself")),
    // Gaps: what changes behaviour and is not compared yet.
    ("pg_class.reltablespace pg_database.dattablespace pg_tablespace.*", Ig("which disk holds a relation: the environment's storage layout, not what a query sees")),
    ("pg_namespace.nspowner pg_type.typowner pg_database.datdba pg_collation.collowner pg_extension.extowner", Ig("who owns an object differs between environments by deployment; where it changes what a query returns or may do it is compared: a table's owner under row level security, a SECURITY DEFINER function's owner")),
    ("pg_attribute.attislocal pg_attribute.attinhcount", Ig("derived from the table's inheritance, whose parent and columns are compared")),
    ("pg_attribute.attndims", Ig("decorative: PostgreSQL does not enforce array dimensions; the type is compared")),
    ("pg_attribute.atthasmissing pg_attribute.attmissingval", Ig("a fast default's storage for rows older than the column: the default is compared")),
    ("pg_attribute.attlen pg_attribute.attbyval pg_attribute.attalign pg_attribute.attcacheoff", Ig(DERIVED)),
    ("pg_index.indimmediate pg_index.indisexclusion pg_index.indisprimary", Ig("said by the constraint the index implements, which is compared")),
    ("pg_index.indcheckxmin pg_index.indislive pg_index.indisready", Ig("an index being built or dropped: transient server state (an invalid one is compared)")),
    ("pg_constraint.contypid", Ig("domain constraints are compared with their domain")),
    ("pg_constraint.connamespace pg_constraint.conislocal pg_constraint.coninhcount pg_constraint.conpfeqop pg_constraint.conppeqop pg_constraint.conffeqop", Ig(DERIVED)),
    ("pg_trigger.tgconstraint pg_trigger.tgconstrindid pg_trigger.tgconstrrelid", Ig("a constraint trigger's constraint, which is compared")),
    ("pg_proc.probin pg_proc.protrftypes", Ig("a C function's library path and transforms: the extension providing them is compared")),
    ("pg_type.*", Ig("a type's I/O functions, storage and layout: built-in types are the version's, user types' definitions are compared")),
    ("pg_range.rngtypid pg_range.rngmultitypid", Ig(DERIVED)),
    ("pg_enum.enumtypid", Ig(DERIVED)),
    ("pg_partitioned_table.partdefid pg_partitioned_table.partrelid", Ig("the default partition is a partition whose bound is compared")),
    ("pg_inherits.inhseqno pg_inherits.inhdetachpending", Ig("order of multiple parents; a detach in progress (transient)")),
    ("pg_sequences.last_value", By("compare::data::headroom: `distribution:<sequence>:headroom`, against the narrowest column it feeds (tests/it/edges.rs rare_truncated_outlying_hot_and_near_overflow_are_found)")),
    ("pg_sequences.*", Ig("the view of pg_sequence and pg_class, whose columns are mapped")),
    ("pg_policies.*", Ig("the view of pg_policy, whose columns are mapped")),
    ("pg_tables.* pg_indexes.* pg_views.* pg_matviews.*", Ig("views of pg_class, pg_index and pg_rewrite, whose columns are mapped")),
    ("pg_namespace.*", Ig(DERIVED)),
    ("pg_class.relhasindex pg_class.relhasrules pg_class.relhastriggers pg_class.relhassubclass pg_class.relchecks pg_class.relnatts pg_class.relisshared pg_class.reltype pg_class.reltoastrelid pg_class.relrewrite", Ig(DERIVED)),
    ("pg_class.relfilenode pg_class.relfrozenxid pg_class.relminmxid pg_class.relallfrozen", Ig(STORAGE)),
    ("pg_attrdef.adrelid pg_attrdef.adnum", Ig(DERIVED)),
    ("pg_database.datallowconn pg_database.datistemplate", Ig("cluster administration (whether the database is a template or accepts connections at all): not what a session connected to it sees")),
    ("pg_database.dathasloginevt", Ig("derived from the login event triggers, which are compared as event triggers")),
    ("pg_database.*", Ig(STORAGE)),
    ("pg_extension.extrelocatable pg_extension.extconfig pg_extension.extcondition", Ig("how an extension was packaged: its version is compared")),
    ("pg_available_extensions.* pg_available_extension_versions.*", Ig("what could be installed: installed extensions are compared")),
    // Objects not compared yet.
    ("pg_authid.rolpassword pg_roles.rolpassword pg_shadow.passwd pg_user.passwd", Ig("a password hash (pg_roles shows it masked): never read")),
    ("pg_roles.rolvaliduntil pg_roles.rolconfig pg_roles.oid pg_auth_members.*", Ig("a password's expiry, per-role settings (compared as settings), identifiers, and who granted a membership with which options: a role's attributes and memberships are compared")),
    ("pg_authid.* pg_shadow.* pg_user.* pg_group.*", Ig("the same roles pg_roles shows (compared as the role kind, for the roles this database names); passwords never read")),
    ("pg_seclabel.* pg_seclabels.* pg_shseclabel.*", Ig("a label's object identifiers: the label and its object's name are compared")),
    ("pg_parameter_acl.*", Ig(OID)),
    ("pg_init_privs.*", Ig("the privileges extension objects were created with: their current ones are what counts")),
    ("pg_description.* pg_shdescription.*", Ig("comments: they change no behaviour (seed's provenance in the database's comment is read apart)")),
    ("pg_depend.* pg_shdepend.*", Ig("dependencies PostgreSQL derives from the definitions, which are compared (an extension's members are left to the extension)")),
    ("pg_largeobject.* pg_largeobject_metadata.*", Ig("large objects' contents (data, never read), owners and privileges: whether any are in use is compared")),
    ("pg_replication_origin.* pg_replication_origin_status.*", Ig(REPLICA)),
    ("pg_replication_slots.*", Ig(REPLICA)),
    ("pg_stat_replication.* pg_stat_wal_receiver.* pg_stat_replication_slots.* pg_stat_subscription.* pg_stat_subscription_stats.*", Ig(REPLICA)),
    ("pg_stat_*.* pg_statio_*.*", Ig(COUNTER)),
    ("pg_statistic.*", Ig("the planner's raw statistics, values of the data included: compared through pg_stats without its values")),
    ("pg_locks.* pg_stat_activity.* pg_cursors.* pg_prepared_statements.* pg_prepared_xacts.* pg_backend_memory_contexts.* pg_shmem_allocations.* pg_shmem_allocations_numa.* pg_aios.* pg_wait_events.*", Ig(RUNTIME)),
    ("pg_file_settings.* pg_config.*", Ig("the server's files and build: the settings in effect are compared")),
    ("pg_hba_file_rules.* pg_ident_file_mappings.*", Ig("who may connect from where: different by design between environments")),
    ("pg_am.*", Ig("the access methods themselves (heap, btree...): a table's is compared, an index's is in its definition; user-made ones come with an extension")),
    ("pg_statistic_ext_data.* pg_stats_ext.* pg_stats_ext_exprs.*", Ig("an extended statistics object's data: what ANALYZE measured, compared through the plans it gives")),
    ("pg_rules.*", Ig("a view of pg_rewrite's rules, compared as the rule kind")),
    ("pg_subscription.* pg_subscription_rel.*", Ig("a subscription's other settings and its per-table sync state: its connection string is never read; its publications and enabled state are compared")),
    ("pg_user_mapping.*", Ig("user mappings are read through pg_user_mappings (option names only)")),
    ("pg_foreign_data_wrapper.* pg_foreign_server.* pg_foreign_table.* pg_user_mappings.*", Ig("owners, privileges and object identifiers of foreign objects: their definitions are compared")),
    ("pg_cast.* pg_operator.* pg_opclass.* pg_opfamily.* pg_amop.* pg_amproc.* pg_language.* pg_conversion.* pg_transform.* pg_ts_config.* pg_ts_dict.* pg_ts_parser.* pg_ts_template.* pg_statistic_ext.* pg_publication.* pg_event_trigger.* pg_default_acl.* pg_aggregate.*", Ig("identifiers, owners and privileges of the smaller classes: each class's definition is compared")),
];

/// Every column of every pg_catalog table and system view, one `relation.column` per row
/// (`name`).
pub const CATALOG_COLUMNS: &str = "SELECT c.relname || '.' || a.attname AS name \
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid \
    WHERE n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped \
    ORDER BY c.relname, a.attnum";

/// The catalog columns the map does not know (a major newer than the tests run): what they
/// hold is not compared, and a capture says so under NOT MEASURED.
pub fn unknown<'a>(columns: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    columns
        .into_iter()
        .filter(|c| coverage(c).is_none())
        .collect()
}

/// How a catalog column is treated: the declarations' compared columns first, then `RULES`;
/// `None` for a column the map does not know.
pub fn coverage(column: &str) -> Option<Coverage> {
    for k in kinds() {
        if let Some((_, aspect)) = k
            .reads()
            .into_iter()
            .find(|(c, _)| crate::glob::glob(c, column))
        {
            let live = if super::objects::OTHERS.iter().any(|o| o.noun == k.noun()) {
                "; read live on every major by tests/it/compare_live.rs every_smaller_catalog_class_is_read_and_compared"
            } else {
                ""
            };
            return Some(Coverage::Compared(format!(
                "compare::schema, the {} declaration: `schema:<{}>:{aspect}` (tests/pure/objects.rs plants it{live})",
                k.noun(),
                k.noun()
            )));
        }
    }
    let (_, rule) = RULES
        .iter()
        .find(|(patterns, _)| patterns.split(' ').any(|p| crate::glob::glob(p, column)))?;
    Some(match rule {
        By(how) => Coverage::Compared(how.to_string()),
        Ig(why) => I(why),
        Gp(what) => G(what),
    })
}

/// docs/catalog-coverage.md from the catalog columns of each major (`major` → columns as
/// `relation.column`).
pub fn markdown(columns: &std::collections::BTreeMap<u32, Vec<String>>) -> String {
    use std::collections::BTreeMap;
    let mut rows: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (major, cols) in columns {
        for c in cols {
            rows.entry(c.as_str()).or_default().push(*major);
        }
    }
    let majors: Vec<String> = columns.keys().map(|m| m.to_string()).collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut body = String::new();
    for (col, seen) in &rows {
        let cov = coverage(col);
        let (word, text) = cov
            .as_ref()
            .map_or(("UNKNOWN", "not in the map"), |c| (c.word(), c.text()));
        *count.entry(word).or_default() += 1;
        let on = if seen.len() == columns.len() {
            "all".to_string()
        } else {
            seen.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        body.push_str(&format!(
            "| `{col}` | {on} | {word} | {} |\n",
            text.replace('|', "\\|")
        ));
    }
    format!(
        "# Catalog coverage\n\n\
         Every column of every `pg_catalog` table and system view on PostgreSQL {} (the majors\n\
         the tests run), and how pgparity treats it: **compared** (by which comparer and finding,\n\
         with the test that plants a difference in it), **ignored** (with the reason), or a\n\
         **gap**: it can change what an application sees and is not compared yet.\n\n\
         Generated by `tests/it/catalog.rs` from the live catalogs and `src/snapshot/coverage.rs`\n\
         (`PGPARITY_UPDATE_DOCS=1 cargo test --test it catalog` rewrites it); the test fails on a\n\
         catalog column no rule covers.\n\n\
         {} columns: {}.\n\n\
         | column | majors | status | by, or why |\n|---|---|---|---|\n{body}",
        majors.join(", "),
        rows.len(),
        count
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_no_rule_knows_is_unknown() {
        let got = unknown(["pg_class.relname", "pg_class.relfuture", "pg_wholly_new.x"]);
        assert_eq!(got, ["pg_class.relfuture", "pg_wholly_new.x"]);
    }
}
