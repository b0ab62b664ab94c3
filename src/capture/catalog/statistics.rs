//! The planner's statistics: pg_class's estimates and pg_stat's analyze times per table,
//! pg_stats per column (without its value arrays); and the tables the role cannot read.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{by_name, sql, Reader};
use crate::snapshot::*;

impl Reader<'_> {
    pub async fn statistics(&mut self) -> Statistics {
        #[derive(Deserialize)]
        struct C {
            table: String,
            column: String,
            #[serde(flatten)]
            stats: ColumnStats,
        }
        let mut columns: BTreeMap<String, BTreeMap<String, Box<ColumnStats>>> = BTreeMap::new();
        for c in self
            .rows::<C>("statistics.columns", sql::COLUMN_STATS)
            .await
        {
            columns
                .entry(c.table)
                .or_default()
                .insert(c.column, Box::new(c.stats));
        }
        Statistics {
            tables: self
                .named("statistics.tables", sql::TABLE_STATS, by_name)
                .await,
            columns,
        }
    }

    /// Tables the role cannot read: their statistics (and later their data) are not visible.
    pub async fn unreadable_tables(&mut self) {
        #[derive(Deserialize)]
        struct U {
            name: String,
        }
        for u in self.rows::<U>("privileges", sql::UNREADABLE_TABLES).await {
            self.problem(
                &format!("table {}", u.name),
                "no SELECT privilege: its column statistics are not visible to this role; hint: GRANT SELECT on it to the capture role".into(),
            );
        }
    }

    /// Catalog columns the coverage map does not know (a major newer than pgparity's tests):
    /// said under NOT MEASURED, never silently dropped.
    pub async fn unknown_catalog_columns(&mut self) {
        #[derive(Deserialize)]
        struct C {
            name: String,
        }
        let columns = self
            .rows::<C>("catalog", crate::snapshot::coverage::CATALOG_COLUMNS)
            .await;
        let unknown = crate::snapshot::coverage::unknown(columns.iter().map(|c| c.name.as_str()));
        if unknown.is_empty() {
            return;
        }
        let shown: Vec<&str> = unknown.iter().take(12).copied().collect();
        self.problem(
            "catalog",
            format!(
                "{} catalog column(s) of PostgreSQL {} that this pgparity does not know, so what they hold is not compared: {}{}; hint: use a pgparity release that supports this major",
                unknown.len(),
                self.version / 10000,
                shown.join(", "),
                if unknown.len() > shown.len() { ", …" } else { "" }
            ),
        );
    }
}
