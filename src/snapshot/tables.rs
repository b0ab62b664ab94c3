//! A profile's tables, held as compact JSON and decoded one at a time when asked for: in
//! memory while they are few, then in an unnamed temporary file. A parsed table profile of
//! five columns takes about 3 KB; 20,000 of them on each side of a comparison were half of its
//! memory, and every comparer looks at one table at a time. Here a table costs its name and
//! where its bytes are, whatever the table count.
//!
//! The file is the process's own (created unlinked, gone with the process); the snapshot file
//! on disk is unchanged: the bytes are written into it as they are held.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::TableProfile;

/// Bytes held in memory before they move to a temporary file (2,000 tables stay in memory).
const IN_MEMORY: usize = 8 << 20;

/// Append-only bytes: a buffer, then an unnamed temporary file.
struct Log {
    mem: Vec<u8>,
    file: Option<File>,
    len: u64,
    limit: usize,
}

impl Log {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let at = self.len;
        if self.file.is_none() && self.mem.len() + bytes.len() > self.limit {
            let mut f = tempfile::tempfile()?;
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        match &self.file {
            Some(f) => f.write_all_at(bytes, at)?,
            None => {
                // Grown in steps that stop at the limit (doubling would hold up to twice it).
                let need = self.mem.len() + bytes.len();
                if need > self.mem.capacity() {
                    let room = (2 * self.mem.capacity()).clamp(need, self.limit.max(need));
                    self.mem.reserve_exact(room - self.mem.len());
                }
                self.mem.extend_from_slice(bytes)
            }
        }
        self.len += bytes.len() as u64;
        Ok(at)
    }

    fn read(&self, at: u64, len: u32) -> std::io::Result<Vec<u8>> {
        match &self.file {
            Some(f) => {
                let mut buf = vec![0; len as usize];
                f.read_exact_at(&mut buf, at)?;
                Ok(buf)
            }
            None => Ok(self.mem[at as usize..at as usize + len as usize].to_vec()),
        }
    }
}

/// Where one table's bytes are, and its row count (volumes need no decoding).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    at: u64,
    len: u32,
    rows: f64,
}

/// Table name → its profile, in name order. Clones share the bytes (appended, never
/// changed); each clone has its own index.
#[derive(Clone)]
pub struct ProfileTables {
    index: BTreeMap<String, Entry>,
    log: Arc<Mutex<Log>>,
}

impl Default for ProfileTables {
    fn default() -> Self {
        ProfileTables::with_limit(IN_MEMORY)
    }
}

impl ProfileTables {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tables moving to a temporary file past `limit` bytes (tests use a small one).
    fn with_limit(limit: usize) -> Self {
        ProfileTables {
            index: BTreeMap::new(),
            log: Arc::new(Mutex::new(Log {
                mem: Vec::new(),
                file: None,
                len: 0,
                limit,
            })),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn contains_key(&self, table: &str) -> bool {
        self.index.contains_key(table)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.index.keys()
    }

    /// Whether the bytes have moved to the temporary file.
    #[cfg(test)]
    fn spilled(&self) -> bool {
        self.lock().file.is_some()
    }

    /// The tables whose names start with `prefix` (one schema's, `public.`), sharing the bytes.
    pub fn with_prefix(&self, prefix: &str) -> ProfileTables {
        ProfileTables {
            index: self
                .index
                .range(prefix.to_string()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, e)| (k.clone(), *e))
                .collect(),
            log: Arc::clone(&self.log),
        }
    }

    /// A table's row count, without decoding its profile.
    pub fn rows(&self, table: &str) -> Option<f64> {
        self.index.get(table).map(|e| e.rows)
    }

    /// A table's profile, decoded.
    pub fn get(&self, table: &str) -> Option<TableProfile> {
        self.index.get(table).map(|e| self.decode(table, e))
    }

    /// Every table's profile in name order, decoded one at a time.
    pub fn iter(&self) -> impl Iterator<Item = (&String, TableProfile)> {
        self.index.iter().map(|(k, e)| (k, self.decode(k, e)))
    }

    /// Adds (or replaces) a table's profile. Fails only when the temporary file cannot be
    /// written (a full or read-only temporary folder).
    pub fn insert(&mut self, table: String, profile: &TableProfile) -> crate::error::Result<()> {
        let bytes = serde_json::to_vec(profile).map_err(|e| spill_failed(&e.to_string()))?;
        self.insert_bytes(table, &bytes, profile.rows)
            .map_err(|e| spill_failed(&crate::error::io_message(&e)))
    }

    /// Adds a table's profile as JSON bytes that decode into a `TableProfile` of `rows` rows.
    fn insert_bytes(&mut self, table: String, bytes: &[u8], rows: f64) -> std::io::Result<()> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| std::io::Error::other("a table's profile is over 4 GB"))?;
        let at = self.lock().append(bytes)?;
        self.index.insert(table, Entry { at, len, rows });
        Ok(())
    }

    #[cfg(test)]
    fn remove(&mut self, table: &str) -> Option<TableProfile> {
        let e = self.index.remove(table)?;
        Some(self.decode(table, &e))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-appended in a way a read
        // sees: an entry is indexed only after its bytes are written.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bytes(&self, table: &str, e: &Entry) -> Vec<u8> {
        // The bytes were written by this process into a file it holds open and nobody else can
        // name: reading them back fails only when the disk does.
        self.lock().read(e.at, e.len).unwrap_or_else(|err| {
            panic!("the profile of {table} could not be read back from its temporary file: {err}")
        })
    }

    fn decode(&self, table: &str, e: &Entry) -> TableProfile {
        // Encoded by `insert` from a `TableProfile`: it decodes into one.
        serde_json::from_slice(&self.bytes(table, e))
            .expect("a table profile written by insert decodes")
    }
}

/// The error of a temporary file that cannot be written: the folder, what went wrong, what to do.
fn spill_failed(why: &str) -> crate::error::Error {
    crate::error::Error::write(
        std::env::temp_dir(),
        format!("the profile's temporary file: {why}; hint: set TMPDIR to a folder with room"),
    )
}

/// Starts the message of a snapshot's read that failed on the temporary file, not the file.
const SPILL: &str = "pgparity: profile spill: ";

/// The temporary file's error, when that is why reading a snapshot failed (a serde error
/// carries text only).
pub(super) fn spill_error(e: &serde_json::Error) -> Option<crate::error::Error> {
    let text = e.to_string();
    let why = text.strip_prefix(SPILL)?;
    Some(spill_failed(
        why.rsplit_once(" at line ").map_or(why, |(w, _)| w),
    ))
}

impl PartialEq for ProfileTables {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((ka, a), (kb, b))| ka == kb && a == b)
    }
}

impl std::fmt::Debug for ProfileTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for ProfileTables {
    /// The stored bytes as they are (no decoding): a map of table → profile, as before.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, e) in &self.index {
            let text = String::from_utf8(self.bytes(k, e)).map_err(S::Error::custom)?;
            let raw = serde_json::value::RawValue::from_string(text).map_err(S::Error::custom)?;
            map.serialize_entry(k, &raw)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ProfileTables {
    /// Each table's bytes held as the file has them, once parsed (so a corrupt file is
    /// refused when read, not when compared).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ProfileTables;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of table profiles")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let mut out = ProfileTables::new();
                while let Some((k, raw)) =
                    map.next_entry::<String, Box<serde_json::value::RawValue>>()?
                {
                    let tp: TableProfile = serde_json::from_str(raw.get()).map_err(|e| {
                        let text = e.to_string();
                        let what = text.rsplit_once(" at line ").map_or(&*text, |(w, _)| w);
                        A::Error::custom(format!(
                            "the profile of {k}: {what} (at character {} of its entry)",
                            e.column()
                        ))
                    })?;
                    out.insert_bytes(k, raw.get().as_bytes(), tp.rows)
                        .map_err(|e| {
                            A::Error::custom(format!("{SPILL}{}", crate::error::io_message(&e)))
                        })?;
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{ColumnProfile, Method, SampleKind};

    fn table(rows: f64, cols: usize) -> TableProfile {
        TableProfile {
            method: Method {
                kind: SampleKind::Exact,
                percent: None,
                rows_read: rows as u64,
                streams: None,
            },
            rows,
            rows_exact: true,
            table_bytes: 8192,
            index_bytes: 0,
            columns: (0..cols)
                .map(|i| {
                    let c = ColumnProfile {
                        rows: rows as u64,
                        nulls: i as u64,
                        min: Some(i as f64 * 0.5),
                        quantiles: vec![0.0, 1.5, 3.25].into(),
                        ..Default::default()
                    };
                    (format!("c{i} \"odd\" ü"), Box::new(c))
                })
                .collect(),
            partitions: BTreeMap::new(),
        }
    }

    /// In memory and in the temporary file alike: what was inserted is what is read, in name
    /// order, written into the snapshot file as before and read back equal.
    #[test]
    fn tables_read_back_what_was_inserted_in_memory_and_spilled() {
        for limit in [IN_MEMORY, 1000] {
            let mut t = ProfileTables::with_limit(limit);
            let want: BTreeMap<String, TableProfile> = (0..50)
                .map(|i| {
                    (
                        format!("public.t{:02}", 49 - i),
                        table(i as f64 * 10.0, i % 4),
                    )
                })
                .collect();
            for (k, v) in want.iter().rev() {
                t.insert(k.clone(), v).unwrap();
            }
            assert_eq!(t.spilled(), limit == 1000, "limit {limit}");
            assert_eq!(t.len(), 50);
            let got: BTreeMap<String, TableProfile> =
                t.iter().map(|(k, v)| (k.clone(), v)).collect();
            assert_eq!(got, want);
            assert_eq!(t.rows("public.t09"), Some(400.0));
            assert_eq!(t.get("public.t09"), want.get("public.t09").cloned());
            assert_eq!(t.get("public.none"), None);
            // The file holds the same JSON as a map of the parsed profiles would.
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, serde_json::to_string(&want).unwrap());
            let back: ProfileTables = serde_json::from_str(&json).unwrap();
            assert_eq!(back, t);
            // A replaced table reads as its new profile; a clone keeps its own index.
            let mut c = t.clone();
            c.insert("public.t09".into(), &table(1.0, 1)).unwrap();
            assert_eq!(c.rows("public.t09"), Some(1.0));
            assert_eq!(t.rows("public.t09"), Some(400.0));
            assert_ne!(c, t);
            assert!(c.remove("public.t09").is_some() && !c.contains_key("public.t09"));
        }
    }

    #[test]
    fn a_corrupt_table_is_refused_when_read() {
        let err =
            serde_json::from_str::<ProfileTables>(r#"{"public.t": {"rows": "many"}}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the profile of public.t: invalid type: string \"many\""),
            "{err}"
        );
    }
}
