//! The schema: schemas, tables with their columns, indexes, constraints, views, sequences,
//! triggers, functions, row level security policies and user types. Objects that belong to
//! an extension are left to the extension.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::Reader;
use crate::snapshot::objects::{self, Key, Kind};
use crate::snapshot::*;

/// The schema's indexes and constraints, read apart from the rest (by a second session).
pub struct Keys {
    indexes: BTreeMap<String, Index>,
    constraints: BTreeMap<String, Constraint>,
}

impl Keys {
    pub fn into(self, schema: &mut Schema) {
        schema.indexes = self.indexes;
        schema.constraints = self.constraints;
    }
}

impl Reader<'_> {
    pub async fn schema(&mut self) -> Schema {
        let mut schema = self.schema_but_keys().await;
        self.keys().await.into(&mut schema);
        schema
    }

    /// Indexes and constraints.
    pub async fn keys(&mut self) -> Keys {
        Keys {
            indexes: self.objects(&objects::INDEXES).await,
            constraints: self.objects(&objects::CONSTRAINTS).await,
        }
    }

    /// Everything of the schema but its indexes and constraints ([`Reader::keys`]).
    pub async fn schema_but_keys(&mut self) -> Schema {
        let mut schema = Schema {
            schemas: self.objects(&objects::SCHEMAS).await,
            tables: self.objects(&objects::TABLES).await,
            indexes: Default::default(),
            constraints: Default::default(),
            views: self.objects(&objects::VIEWS).await,
            sequences: self.objects(&objects::SEQUENCES).await,
            triggers: self.objects(&objects::TRIGGERS).await,
            functions: self.objects(&objects::FUNCTIONS).await,
            policies: self.objects(&objects::POLICIES).await,
            types: self.objects(&objects::TYPES).await,
            others: Default::default(),
        };
        for kind in objects::OTHERS {
            if !self.server_wide && objects::is_server_wide(kind) {
                continue;
            }
            let read = self.objects(kind).await;
            schema.others.extend(read);
        }
        self.columns(&mut schema).await;
        schema
    }

    /// One kind's objects as its declaration reads, names and tidies them.
    async fn objects<T: DeserializeOwned>(&mut self, kind: &Kind<T>) -> BTreeMap<String, T> {
        let select = (kind.select)(self.version);
        let mut read: BTreeMap<String, T> = match kind.key {
            Key::Name => {
                self.named(kind.area, &select, |name, _: &T| name.to_string())
                    .await
            }
            Key::Named(key) => self.named(kind.area, &select, key).await,
            Key::Own(key) => self
                .rows::<T>(kind.area, &select)
                .await
                .into_iter()
                .map(|o| (key(&o), o))
                .collect(),
        };
        if let Some(tidy) = kind.tidy {
            read.values_mut().for_each(tidy);
        }
        read
    }

    /// Every table's columns, in order, into the tables read before. The one area with a row
    /// per column is read without serde's flatten, which buffers every row: a capture of
    /// 2,000 tables × 20 columns measured 1.03 s with it, 0.76–0.83 s without.
    async fn columns(&mut self, schema: &mut Schema) {
        let select = (objects::COLUMNS.select)(self.version);
        for mut c in self.rows::<Column>(objects::COLUMNS.area, &select).await {
            if let Some(tidy) = objects::COLUMNS.tidy {
                tidy(&mut c);
            }
            if let Some(t) = schema.tables.get_mut(&std::mem::take(&mut c.table)) {
                t.columns.push(c);
            }
        }
    }
}
