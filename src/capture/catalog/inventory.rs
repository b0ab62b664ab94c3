//! The inventory: settings (as a fresh session sees them), per-role and per-database
//! overrides, extensions and preloaded libraries, the database's locale, the collations in
//! use, and the replication topology.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{by_name, sql, Head, Reader};
use crate::snapshot::*;

impl Reader<'_> {
    pub async fn inventory(&mut self, head: &Head) -> Inventory {
        let settings = self.settings().await;
        let preload_libraries = preload(&settings);
        Inventory {
            server_version: head.version.clone(),
            server_version_num: head.version_num,
            version_string: head.version_string.clone(),
            overrides: self.overrides().await,
            extensions: self.named("extensions", sql::EXTENSIONS, by_name).await,
            preload_libraries,
            database: self
                .rows::<DatabaseLocale>("database", &sql::database(self.version))
                .await
                .into_iter()
                .next()
                .unwrap_or_default(),
            collations: self
                .named("collations", &sql::collations(self.version), by_name)
                .await,
            topology: self
                .rows::<Topology>("topology", sql::TOPOLOGY)
                .await
                .into_iter()
                .next()
                .unwrap_or_default(),
            settings,
        }
    }

    async fn settings(&mut self) -> BTreeMap<String, Setting> {
        #[derive(Deserialize)]
        struct S {
            name: String,
            setting: Option<String>,
            reset_val: Option<String>,
            unit: Option<String>,
            category: String,
            context: String,
            vartype: String,
            source: String,
            boot_val: Option<String>,
            pending_restart: Option<bool>,
        }
        let mut settings = BTreeMap::new();
        for s in self.rows::<S>("settings", sql::SETTINGS).await {
            // The capture session sets a few values itself; a fresh session sees reset_val.
            let (value, source) = if s.source == "session" {
                (s.reset_val.unwrap_or_default(), "reset".to_string())
            } else {
                (s.setting.unwrap_or_default(), s.source)
            };
            settings.insert(
                s.name,
                Setting {
                    value,
                    unit: s.unit,
                    category: s.category,
                    context: s.context,
                    vartype: s.vartype,
                    source,
                    boot_val: s.boot_val,
                    pending_restart: s.pending_restart.unwrap_or(false),
                },
            );
        }
        settings
    }

    async fn overrides(&mut self) -> Vec<Override> {
        #[derive(Deserialize)]
        struct O {
            role: Option<String>,
            database: Option<String>,
            config: Vec<String>,
        }
        let mut overrides = Vec::new();
        for o in self.rows::<O>("overrides", sql::OVERRIDES).await {
            for item in o.config {
                if let Some((name, value)) = item.split_once('=') {
                    overrides.push(Override {
                        role: o.role.clone(),
                        database: o.database.clone(),
                        name: name.to_lowercase(),
                        value: value.to_string(),
                    });
                }
            }
        }
        overrides.sort();
        overrides
    }
}

/// `shared_preload_libraries` as a sorted list.
fn preload(settings: &BTreeMap<String, Setting>) -> Vec<String> {
    settings
        .get("shared_preload_libraries")
        .map(|s| {
            let mut v: Vec<String> = s
                .value
                .split(',')
                .map(|x| x.trim().trim_matches('"').to_string())
                .filter(|x| !x.is_empty())
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default()
}
