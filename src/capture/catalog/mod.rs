//! The catalog reader, PostgreSQL 13 through 18, by area: the inventory (settings,
//! extensions, locale, topology), the schema and the planner's statistics, each in its own
//! file, their SQL in [`sql`]. Each area is one query returning a JSON array (`json_agg`), read
//! into the snapshot's own types with serde: one round trip per area whatever the number of
//! tables. Each query runs under a savepoint, so one that fails (a permission, a catalog
//! column a version lacks) becomes a recorded problem and the capture goes on.

mod inventory;
mod schema;
mod sql;
mod statistics;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio_postgres::Client;

use crate::snapshot::Problem;

pub struct Head {
    pub version_num: i32,
    pub version: String,
    pub version_string: String,
    pub database: String,
    pub role: String,
    pub now: String,
    pub superuser: bool,
    pub reads_all_settings: bool,
    pub reads_all_stats: bool,
    /// The database's comment (where `seed` records its provenance).
    pub comment: Option<String>,
}

/// Who and where: the server version (13 or later, else an error), the database, the role
/// and what it may read, the server's clock.
pub async fn head(client: &Client) -> Result<Head, String> {
    let row = client
        .query_one(sql::HEAD, &[])
        .await
        .map_err(|e| format!("cannot read the server version: {}", super::db_message(&e)))?;
    let version_num: i32 = super::column(&row, 0)?;
    if version_num < 130000 {
        return Err(format!(
            "PostgreSQL {} is not supported; hint: pgparity reads PostgreSQL 13 and later",
            super::column::<String>(&row, 1)?
        ));
    }
    Ok(Head {
        version_num,
        version: super::column(&row, 1)?,
        version_string: super::column(&row, 2)?,
        database: super::column(&row, 3)?,
        role: super::column(&row, 4)?,
        now: super::column(&row, 5)?,
        superuser: super::column(&row, 6)?,
        reads_all_settings: super::column(&row, 7)?,
        reads_all_stats: super::column(&row, 8)?,
        comment: super::column(&row, 9)?,
    })
}

/// A catalog row of a named object: its name, and the object as the snapshot holds it.
#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(flatten)]
    item: T,
}

pub struct Reader<'a> {
    pub client: &'a Client,
    pub version: i32,
    pub problems: &'a mut Vec<Problem>,
}

impl Reader<'_> {
    /// Runs `select` wrapped in `json_agg` under a savepoint; a failure is recorded.
    async fn rows<T: DeserializeOwned>(&mut self, area: &str, select: &str) -> Vec<T> {
        let sql = format!("SELECT coalesce(json_agg(t), '[]')::text FROM ({select}) t");
        let _ = self.client.batch_execute("SAVEPOINT pgparity_area").await;
        match self.client.query_one(sql.as_str(), &[]).await {
            Ok(row) => {
                let _ = self
                    .client
                    .batch_execute("RELEASE SAVEPOINT pgparity_area")
                    .await;
                let text: Result<String, String> = super::column(&row, 0);
                match text.and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string())) {
                    Ok(v) => v,
                    Err(e) => {
                        self.problem(area, format!("unexpected catalog data: {e}"));
                        Vec::new()
                    }
                }
            }
            Err(e) => {
                let _ = self
                    .client
                    .batch_execute("ROLLBACK TO SAVEPOINT pgparity_area")
                    .await;
                let msg = super::db_message(&e);
                self.problem(area, format!("could not be read: {msg}"));
                Vec::new()
            }
        }
    }

    /// Named objects, keyed by `key(name, object)`.
    async fn named<T: DeserializeOwned, K: Ord>(
        &mut self,
        area: &str,
        select: &str,
        key: impl Fn(&str, &T) -> K,
    ) -> std::collections::BTreeMap<K, T> {
        self.rows::<Named<T>>(area, select)
            .await
            .into_iter()
            .map(|n| (key(&n.name, &n.item), n.item))
            .collect()
    }

    fn problem(&mut self, area: &str, message: String) {
        self.problems.push(Problem {
            area: area.into(),
            message,
        });
    }
}

/// An object's own name as its key.
fn by_name<T>(name: &str, _: &T) -> String {
    name.to_string()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
