//! Extensions (present, version) and preloaded libraries.

use std::collections::BTreeMap;

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    each_key(
        &s.left.inventory.extensions,
        &s.right.inventory.extensions,
        |name, l, r| {
            let object = format!("extension:{name}");
            if let (Some(l), Some(r)) = (l, r) {
                if l.schema != r.schema {
                    out.push(
                        Finding::new(Category::Extension, Severity::Medium, object.clone(), "schema")
                            .values(Some(&l.schema), Some(&r.schema))
                            .message(format!(
                                "extension {name} lives in schema {} in {} and {} in {}",
                                l.schema, s.left_name, r.schema, s.right_name
                            ))
                            .why("its functions, types and operators have other qualified names: calls that qualify them, or a search_path without that schema, fail on one side")
                            .hint(format!("ALTER EXTENSION {name} SET SCHEMA {} in {}", r.schema, s.left_name)),
                    );
                }
            }
            match (l, r) {
            // Two majors, each at the version its own server ships: the version moved with the
            // server (version noise, said once as info).
            (Some(l), Some(r))
                if l.version != r.version
                    && s.left.inventory.server_version_num / 10000 != s.right.inventory.server_version_num / 10000
                    && l.default_version.as_ref() == Some(&l.version)
                    && r.default_version.as_ref() == Some(&r.version) =>
            {
                out.push(
                    Finding::new(Category::Version, Severity::Info, object, "version")
                        .values(Some(&l.version), Some(&r.version))
                        .message(format!(
                            "extension {name} is {} in {} and {} in {}: each is the version its major ships",
                            l.version, s.left_name, r.version, s.right_name
                        ))
                        .why("the extension's functions and operators moved with the server version; check the extension's release notes with the upgrade")
                        .hint("nothing to do beyond the version upgrade itself"),
                )
            }
            (Some(l), Some(r)) if l.version != r.version => out.push(
                Finding::new(Category::Extension, Severity::Medium, object, "version")
                    .values(Some(&l.version), Some(&r.version))
                    .message(format!(
                        "extension {name} version differs: {} in {} vs {} in {}",
                        l.version, s.left_name, r.version, s.right_name
                    ))
                    .why("extension versions change functions, operators and behaviour the application calls")
                    .hint(format!("ALTER EXTENSION {name} UPDATE TO '{}' in {}", r.version, s.left_name)),
            ),
            (Some(x), None) | (None, Some(x)) => {
                let on_left = l.is_some();
                let v = Some(x.version.clone());
                let (lv, rv) = if on_left { (v, None) } else { (None, v) };
                out.push(
                    Finding::new(Category::Extension, Severity::High, object, "")
                        .values(lv, rv)
                        .message(format!("extension {name} {} (version {})", s.only_in(on_left), x.version))
                        .why("code, indexes or queries that use the extension work on one side and fail (or plan differently) on the other")
                        .hint(format!("CREATE EXTENSION {name} in {}, or drop it where it is unused", s.name(!on_left))),
                );
            }
            _ => {}
        }
        },
    );
    let set = |v: &Vec<String>| {
        v.iter()
            .map(|x| (x.clone(), ()))
            .collect::<BTreeMap<_, _>>()
    };
    let (l, r) = (
        set(&s.left.inventory.preload_libraries),
        set(&s.right.inventory.preload_libraries),
    );
    each_key(&l, &r, |lib, a, b| {
        if a.is_some() != b.is_some() {
            let on_left = a.is_some();
            let (lv, rv) = if on_left {
                (Some("loaded"), None)
            } else {
                (None, Some("loaded"))
            };
            out.push(
                Finding::new(Category::Extension, Severity::Medium, format!("library:{lib}"), "preload")
                    .values(lv, rv)
                    .message(format!("shared_preload_libraries loads {lib} {}", s.only_in(on_left)))
                    .why("preloaded libraries add hooks (statistics, auditing, planner changes) that alter behaviour and performance")
                    .hint(format!("add {lib} to shared_preload_libraries on the other side (needs a restart), or accept it")),
            );
        }
    });
}
