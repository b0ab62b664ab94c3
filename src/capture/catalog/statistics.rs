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
}
