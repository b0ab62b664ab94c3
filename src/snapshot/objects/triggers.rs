//! Triggers (not the internal ones behind constraints, nor a partition's clone of its
//! parent's).

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    pub table: String,
    pub definition: String,
    /// `O` origin, `D` disabled, `R` replica, `A` always.
    pub enabled: String,
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name, \
     pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled \
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ",
    super::user_ns!()
);

pub static TRIGGERS: Kind<Trigger> = Kind {
    noun: "trigger",
    plural: "triggers",
    area: "schema.triggers",
    reads: &["pg_trigger.tgname", "pg_trigger.tgrelid", "pg_trigger.tgisinternal", "pg_trigger.tgparentid"],
    select: |_| fixed(SELECT),
    key: Key::Named(|name, t| format!("{}.{}", t.table, crate::sql::ident(name))),
    tidy: None,
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "side effects of the trigger (audit rows, derived columns, rejections) happen on one side only",
        noun: None,
        detail: Some(|t| t.definition.clone()),
    },
    attributes: &[
        Attribute {
            aspect: "definition",
            reads: &["pg_trigger.tgfoid", "pg_trigger.tgtype", "pg_trigger.tgargs", "pg_trigger.tgnargs", "pg_trigger.tgattr", "pg_trigger.tgqual", "pg_trigger.tgdeferrable", "pg_trigger.tginitdeferred", "pg_trigger.tgoldtable", "pg_trigger.tgnewtable"],
            label: "trigger",
            severity: Severity::Medium,
            why: "the trigger fires on other events or calls another function on each side",
            shown: |t| t.definition.as_str().into(),
            same: None,
            hidden: None,
            plant: |t| t.definition = t.definition.replace("BEFORE", "AFTER"),
        },
        Attribute {
            aspect: "enabled",
            reads: &["pg_trigger.tgenabled"],
            label: "trigger enabled state",
            severity: Severity::High,
            why: "side effects of the trigger (audit rows, derived columns) happen on one side only",
            shown: |t| {
                match t.enabled.as_str() {
                    "O" => "enabled",
                    "D" => "disabled",
                    "R" => "replica only",
                    "A" => "always",
                    other => other,
                }
                .into()
            },
            same: None,
            hidden: None,
            plant: |t| t.enabled = "D".into(),
        },
    ],
    seed: Seed::Not("its function is not created either, and a trigger would rewrite the generated rows"),
    count: |s| len(&s.triggers),
    example: || {
        (
            "public.planted.planted_trigger".into(),
            Trigger {
                table: "public.planted".into(),
                definition: "CREATE TRIGGER planted_trigger BEFORE INSERT ON public.planted FOR EACH ROW EXECUTE FUNCTION public.stamp()".into(),
                enabled: "O".into(),
            },
        )
    },
    place: |s, t| put(&mut s.triggers, t),
};
