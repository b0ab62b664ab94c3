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
        .query_typed_one(sql::HEAD, &[])
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
    /// Set when the session is gone: the areas left are not tried, and the capture fails.
    pub lost: Option<String>,
    /// The session's watch, and how long one area's reply may take.
    pub wait: (&'a super::wire::Watch, std::time::Duration),
    /// Read the server-wide classes too ([`crate::snapshot::objects::is_server_wide`]).
    pub server_wide: bool,
}

impl Reader<'_> {
    /// Runs `select` under a savepoint, each row turned into a JSON object here and read into
    /// `T` as it arrives (by column name and type: the server's `json_agg` cost more than the
    /// query itself at thousands of tables; rows are not held, nor the text of them all — at
    /// 20,000 tables those were 50 MB a side); a column of a type not read here has the server
    /// build the JSON instead. A failure is recorded.
    async fn rows<T: DeserializeOwned>(&mut self, area: &str, select: &str) -> Vec<T> {
        if self.lost.is_some() {
            return Vec::new();
        }
        crate::pause::at("capture:area");
        let _waiting = self
            .wait
            .0
            .arm(self.wait.1, &format!("reading the catalog ({area})"));
        let _ = self.client.batch_execute("SAVEPOINT pgparity_area").await;
        let read = match self.streamed::<T>(select).await {
            Ok(Some(parsed)) => Ok(parsed),
            Ok(None) => {
                let sql = format!("SELECT coalesce(json_agg(t), '[]')::text FROM ({select}) t");
                self.client
                    .query_typed_one(sql.as_str(), &[])
                    .await
                    .map(|row| {
                        super::column::<String>(&row, 0)
                            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
                    })
            }
            Err(e) => Err(e),
        };
        match read {
            Ok(parsed) => {
                let _ = self
                    .client
                    .batch_execute("RELEASE SAVEPOINT pgparity_area")
                    .await;
                match parsed {
                    Ok(v) => v,
                    Err(e) => {
                        self.problem(area, format!("unexpected catalog data: {e}"));
                        Vec::new()
                    }
                }
            }
            Err(e) if super::connection_lost(&e) => {
                self.lost = Some(super::db_message(&e));
                Vec::new()
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

    /// `select`'s rows read into `T` one by one; `Ok(None)` when a column has a type not read
    /// here (the rest of the rows are left unread).
    async fn streamed<T: DeserializeOwned>(
        &self,
        select: &str,
    ) -> Result<Option<Result<Vec<T>, String>>, tokio_postgres::Error> {
        use futures_util::TryStreamExt;
        let stream = self
            .client
            .query_typed_raw(
                select,
                std::iter::empty::<(
                    &dyn tokio_postgres::types::ToSql,
                    tokio_postgres::types::Type,
                )>(),
            )
            .await?;
        futures_util::pin_mut!(stream);
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        while let Some(row) = stream.try_next().await? {
            buf.clear();
            if object(&row, &mut buf).is_none() {
                return Ok(None);
            }
            match serde_json::from_slice(&buf) {
                Ok(v) => out.push(v),
                Err(e) => return Ok(Some(Err(e.to_string()))),
            }
        }
        out.shrink_to_fit();
        Ok(Some(Ok(out)))
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

/// A catalog row as the JSON object `json_agg` would write for it (read then as that is);
/// `None` when a column has a type not read here (or a value cannot be read).
fn object(row: &tokio_postgres::Row, out: &mut Vec<u8>) -> Option<()> {
    use serde_json::Value;
    use tokio_postgres::types::Type;
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        i: usize,
    ) -> Option<Option<T>> {
        row.try_get::<_, Option<T>>(i).ok()
    }
    // A float as the server writes it: a float4 as its shortest decimal (0.1, not
    // 0.10000000149), a value that is not finite as a string.
    fn float(x: f64, shortest: String) -> Value {
        if x.is_finite() {
            shortest
                .parse::<f64>()
                .ok()
                .map_or(Value::Null, Value::from)
        } else {
            Value::String(shortest.replace("inf", "Infinity"))
        }
    }
    fn write<T: serde::Serialize>(out: &mut Vec<u8>, v: &T) -> Option<()> {
        serde_json::to_writer(out, v).ok()
    }
    let float4 = |x: f32| float(x as f64, x.to_string());
    let float8 = |x: f64| float(x, x.to_string());
    out.push(b'{');
    for (i, col) in row.columns().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, col.name()).ok()?;
        out.push(b':');
        let ok = match *col.type_() {
            Type::BOOL => write(out, &get::<bool>(row, i)?),
            Type::INT2 => write(out, &get::<i16>(row, i)?),
            Type::INT4 => write(out, &get::<i32>(row, i)?),
            Type::INT8 => write(out, &get::<i64>(row, i)?),
            Type::OID => write(out, &get::<u32>(row, i)?),
            Type::FLOAT4 => write(out, &get::<f32>(row, i)?.map(float4)),
            Type::FLOAT8 => write(out, &get::<f64>(row, i)?.map(float8)),
            Type::CHAR => write(
                out,
                &get::<i8>(row, i)?.map(|c| (c as u8 as char).to_string()),
            ),
            Type::TEXT | Type::NAME | Type::VARCHAR | Type::BPCHAR => {
                write(out, &get::<&str>(row, i)?)
            }
            Type::JSON | Type::JSONB => write(out, &get::<Value>(row, i)?),
            Type::TEXT_ARRAY | Type::NAME_ARRAY | Type::VARCHAR_ARRAY => {
                write(out, &get::<Vec<Option<&str>>>(row, i)?)
            }
            Type::INT2_ARRAY => write(out, &get::<Vec<Option<i16>>>(row, i)?),
            Type::INT4_ARRAY => write(out, &get::<Vec<Option<i32>>>(row, i)?),
            Type::INT8_ARRAY => write(out, &get::<Vec<Option<i64>>>(row, i)?),
            Type::FLOAT4_ARRAY => write(
                out,
                &get::<Vec<Option<f32>>>(row, i)?
                    .map(|v| v.into_iter().map(|x| x.map(float4)).collect::<Vec<_>>()),
            ),
            Type::FLOAT8_ARRAY => write(
                out,
                &get::<Vec<Option<f64>>>(row, i)?
                    .map(|v| v.into_iter().map(|x| x.map(float8)).collect::<Vec<_>>()),
            ),
            Type::BOOL_ARRAY => write(out, &get::<Vec<Option<bool>>>(row, i)?),
            _ => return None,
        };
        ok?;
    }
    out.push(b'}');
    Some(())
}

/// An object's own name as its key.
fn by_name<T>(name: &str, _: &T) -> String {
    name.to_string()
}
