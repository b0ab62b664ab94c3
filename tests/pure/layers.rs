//! The import graph of src/ is layered: no two modules import each other, directly or round a
//! circle. Modules are files (`src/a/b.rs` is `a::b`); a reference is a `crate::…` or
//! `super::…` path in library code (a file's tests, after its `#[cfg(test)]`, are left out),
//! `use` trees with braces included. A child naming its parent (or the parent its child) is
//! not a circle: edges are counted between siblings, each reference lifted to the children of
//! the two modules' nearest common ancestor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of `src/` with its library code.
fn modules(src: &Path) -> Vec<(Module, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            if rel == Path::new("main.rs") {
                continue; // the binary's own root, not a module of the library
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let library = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            out.push((parts, library));
        }
    }
    out
}

/// The paths a text names after `crate::` or `super::` (each `super` resolved from
/// `module`), `use` trees expanded.
fn references(module: &Module, text: &str) -> Vec<Module> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at = |s: &str, i: usize| chars[i..].iter().take(s.len()).copied().eq(s.chars());
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if boundary && (at("crate::", i) || at("super::", i)) {
            // The base the path starts from: the root, or the parent per `super`.
            let mut base: Module = Vec::new();
            if at("super::", i) {
                base = module.clone();
                while at("super::", i) {
                    base.pop();
                    i += "super::".len();
                }
            } else {
                i += "crate::".len();
            }
            let (paths, next) = tree(&chars, i);
            for p in paths {
                let mut full = base.clone();
                full.extend(p);
                out.push(full);
            }
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// A `use` tree (or a plain path) from `i`: every path it names, and where it ends.
fn tree(chars: &[char], mut i: usize) -> (Vec<Module>, usize) {
    let ident = |i: usize| -> (String, usize) {
        let mut j = i;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        (chars[i..j].iter().collect(), j)
    };
    let mut prefix: Module = Vec::new();
    loop {
        if i < chars.len() && chars[i] == '{' {
            // A group: each member a tree of its own.
            let mut all = Vec::new();
            i += 1;
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return (
                        all.into_iter()
                            .map(|p: Module| prefix.iter().cloned().chain(p).collect())
                            .collect(),
                        i + 1,
                    );
                }
                let (paths, next) = tree(chars, i);
                all.extend(paths);
                i = next;
            }
        }
        let (name, next) = ident(i);
        if name.is_empty() {
            return (vec![prefix], i);
        }
        if name != "self" {
            prefix.push(name);
        }
        i = next;
        if chars[i..].starts_with(&[':', ':']) {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// Circles among siblings: each as the modules round it.
fn circles(mods: &[(Module, String)]) -> Vec<Vec<String>> {
    let known: BTreeSet<&Module> = mods.iter().map(|(m, _)| m).collect();
    // parent → (child → children it imports)
    let mut graphs: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (m, text) in mods {
        for r in references(m, text) {
            // The longest prefix that is a module.
            let Some(target) = (0..=r.len())
                .rev()
                .map(|n| r[..n].to_vec())
                .find(|p| known.contains(p))
            else {
                continue;
            };
            let common = m.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == m.len() || common == target.len() {
                continue; // itself, an ancestor or a descendant
            }
            graphs
                .entry(m[..common].to_vec())
                .or_default()
                .entry(m[common].clone())
                .or_default()
                .insert(target[common].clone());
        }
    }
    let mut found = Vec::new();
    for (parent, edges) in &graphs {
        let mut seen = BTreeSet::new();
        for start in edges.keys() {
            // Depth first, the path kept: an edge back into it closes a circle.
            let mut path: Vec<String> = Vec::new();
            fn walk(
                n: &str,
                edges: &BTreeMap<String, BTreeSet<String>>,
                path: &mut Vec<String>,
                seen: &mut BTreeSet<String>,
                found: &mut Vec<Vec<String>>,
                parent: &Module,
            ) {
                if let Some(i) = path.iter().position(|p| p == n) {
                    let mut circle: Vec<String> = path[i..]
                        .iter()
                        .map(|c| {
                            parent
                                .iter()
                                .cloned()
                                .chain([c.clone()])
                                .collect::<Vec<_>>()
                                .join("::")
                        })
                        .collect();
                    circle.push(circle[0].clone());
                    found.push(circle);
                    return;
                }
                if !seen.insert(n.to_string()) {
                    return;
                }
                path.push(n.to_string());
                for next in edges.get(n).into_iter().flatten() {
                    walk(next, edges, path, seen, found, parent);
                }
                path.pop();
            }
            walk(start, edges, &mut path, &mut seen, &mut found, parent);
        }
    }
    found
}

#[test]
fn modules_of_src_import_each_other_in_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    assert!(mods.len() > 80, "read {} modules", mods.len());
    let found = circles(&mods);
    assert!(
        found.is_empty(),
        "modules that import each other (move the shared piece to a module both stand on):\n{}",
        found
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_planted_circle_is_found_and_a_child_naming_its_parent_is_not() {
    let m = |p: &str, text: &str| -> (Module, String) {
        (
            p.split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            text.to_string(),
        )
    };
    let planted = vec![
        m("", "pub mod report; pub mod history; pub mod seed;"),
        m("report", "use crate::history::History;\nmod html;"),
        m("history", "use crate::{report::{self, Report}, seed};"),
        m("seed", "pub mod gen; pub mod literal;"),
        m("seed::gen", "fn f() { super::literal::quote(); }"),
        m("seed::literal", "use super::gen;"),
        // A child naming its parent and the parent its child: no circle.
        m(
            "report::html",
            "use super::Report; // crate::history in a comment",
        ),
    ];
    let mut found: Vec<String> = circles(&planted).iter().map(|c| c.join(" -> ")).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            "history -> report -> history".to_string(),
            "seed::gen -> seed::literal -> seed::gen".to_string(),
        ]
    );
}
