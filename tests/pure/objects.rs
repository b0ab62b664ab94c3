//! The catalog object declarations (`snapshot::objects`) hold as properties, not as a list of
//! cases: every declared attribute of every kind, planted on one side of the kind's example,
//! gives exactly that attribute's finding at its declared severity (and each side against
//! itself gives none); every kind's example on one side only gives its `missing` finding; the
//! README's list of compared objects is the one the declarations make.

use pgparity::compare::compare;
use pgparity::finding::{Category, Finding};
use pgparity::snapshot::objects::{coverage, kinds};
use pgparity::snapshot::{Schema, Snapshot};

use crate::builder::snap;

fn side(env: &str, schema: Schema) -> Snapshot {
    let mut s = snap(env, "17.2").build();
    s.schema = schema;
    s
}

fn schema_findings(l: &Snapshot, r: &Snapshot) -> Vec<Finding> {
    compare(l, r)
        .into_iter()
        .filter(|f| f.category == Category::Schema)
        .collect()
}

#[test]
fn every_declared_attribute_is_compared_at_its_severity() {
    let mut failures = Vec::new();
    let mut attributes = 0;
    for kind in kinds() {
        for p in kind.planted() {
            attributes += 1;
            let (l, r) = (side("staging", p.left), side("production", p.right));
            let got = schema_findings(&l, &r);
            let said =
                |f: &Finding| f.id.ends_with(&format!(":{}", p.aspect)) && f.severity == p.severity;
            if got.len() != 1 || !said(&got[0]) {
                failures.push(format!(
                    "{} {}: want one {} finding, got {:?}",
                    kind.noun(),
                    p.aspect,
                    p.severity,
                    got.iter().map(|f| (&f.id, f.severity)).collect::<Vec<_>>()
                ));
            }
            for s in [&l, &r] {
                let same = schema_findings(s, s);
                if !same.is_empty() {
                    failures.push(format!(
                        "{} {}: a side against itself gives {:?}",
                        kind.noun(),
                        p.aspect,
                        same.iter().map(|f| &f.id).collect::<Vec<_>>()
                    ));
                }
            }
        }
        let (with, without) = kind.absent();
        let got = schema_findings(&side("staging", without), &side("production", with));
        let (severity, _) = kind.missing();
        if !kind.presence_said() {
            if !got.is_empty() {
                failures.push(format!(
                    "{} on one side only is not said, yet gives {:?}",
                    kind.noun(),
                    got.iter().map(|f| &f.id).collect::<Vec<_>>()
                ));
            }
            continue;
        }
        if got.len() != 1 || !got[0].id.ends_with(":missing") || got[0].severity != severity {
            failures.push(format!(
                "{} on one side only: want one missing finding at {severity}, got {:?}",
                kind.noun(),
                got.iter().map(|f| (&f.id, f.severity)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(attributes >= 25, "only {attributes} attributes declared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The README's list between its markers is `coverage()`; `PGPARITY_UPDATE_README=1` rewrites
/// it.
#[test]
fn readme_lists_what_the_declarations_compare() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- objects:begin -->\n", "<!-- objects:end -->");
    let a = readme
        .find(begin)
        .expect("README.md has no <!-- objects:begin --> marker")
        + begin.len();
    let b = readme
        .find(end)
        .expect("README.md has no <!-- objects:end --> marker");
    let want = coverage();
    if readme[a..b] != want {
        if std::env::var_os("PGPARITY_UPDATE_README").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &readme[..a], &readme[b..])).unwrap();
        } else {
            panic!("README.md's list of compared objects is not the declarations' (run with PGPARITY_UPDATE_README=1 to rewrite it):\n{want}");
        }
    }
}
