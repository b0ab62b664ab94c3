//! Query corpora: `.sql` files, one statement each, from folders or single files. Each file is
//! read with sqlparser's PostgreSQL dialect to classify it (read or write), list the relations
//! it reads and count its `$n` parameters. A statement sqlparser cannot read is still planned by
//! the server (and the report says the parser could not read it); a file that holds no
//! statement, or several, is a recorded problem and the run goes on.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::{Error, Result};
pub use crate::snapshot::plan::QueryKind;
use crate::snapshot::Problem;

/// One corpus query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Path relative to the corpus root given (`tpch/q05.sql`): the finding's object.
    pub path: String,
    pub sql: String,
    /// `read`, `write` (never executed; planned only), or `unknown` (the parser could not read it).
    pub kind: QueryKind,
    /// Relations the statement reads, as written.
    pub relations: Vec<String>,
    /// Highest `$n` placeholder.
    pub params: usize,
    /// Why sqlparser could not read it, if it could not.
    pub parse_error: Option<String>,
    /// Share of the workload's total execution time (from pg_stat_statements), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Representative parameter values (SQL literals, `$1` first) from a `.values` file next
    /// to the query: it is then planned for those values (a custom plan) on every version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Reads every `.sql` file under each path (folders recursively, in name order).
pub fn load(paths: &[PathBuf]) -> Result<(Vec<Query>, Vec<Problem>)> {
    let mut queries = Vec::new();
    let mut problems = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| {
            Error::Usage(format!(
                "corpus {}: {}",
                root.display(),
                crate::error::io_message(&e)
            ))
        })?;
        let mut files = Vec::new();
        if meta.is_dir() {
            collect(root, &mut files)
                .map_err(|e| Error::Usage(format!("corpus {}: {e}", root.display())))?;
        } else {
            files.push(root.clone());
        }
        files.sort();
        let base = if meta.is_dir() {
            root.as_path()
        } else {
            root.parent().unwrap_or(Path::new(""))
        };
        for file in files {
            let rel = file
                .strip_prefix(base)
                .unwrap_or(&file)
                .display()
                .to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => match read_query(&rel, &text) {
                    Ok(mut q) => {
                        match read_values(&file.with_extension("values"), q.params) {
                            Ok(v) => q.values = v,
                            Err(m) => problems.push(Problem {
                                area: format!("query {rel}"),
                                message: format!("{m}; planned with a generic plan instead"),
                            }),
                        }
                        queries.push(q)
                    }
                    Err(m) => problems.push(Problem {
                        area: format!("query {rel}"),
                        message: m,
                    }),
                },
                Err(e) => problems.push(Problem {
                    area: format!("query {rel}"),
                    message: format!("cannot read: {}", crate::error::io_message(&e)),
                }),
            }
        }
    }
    Ok((queries, problems))
}

/// The `.values` file of a query, if there is one: one SQL literal per line (`--` comments and
/// blank lines skipped), as many as the query has parameters. Each must read as a single
/// expression without `;`, so nothing can ride along into the EXECUTE.
pub fn read_values(path: &Path, params: usize) -> std::result::Result<Vec<String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("values file: {}", crate::error::io_message(&e))),
    };
    let values: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(String::from)
        .collect();
    if values.len() != params {
        return Err(format!(
            "values file has {} values for {params} parameters",
            values.len()
        ));
    }
    for v in &values {
        let ok = !v.contains(';')
            && matches!(
                Parser::parse_sql(&PostgreSqlDialect {}, &format!("SELECT {v}")).as_deref(),
                Ok([Statement::Query(_)])
            );
        if !ok {
            return Err(format!("values file: '{v}' is not a single SQL value"));
        }
    }
    Ok(values)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// The highest `$n` outside quotes and comments.
fn max_param(sql: &str) -> usize {
    let b = sql.as_bytes();
    let (mut i, mut max) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'$' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > start {
                    max = max.max(sql[start..j].parse().unwrap_or(0));
                }
                i = j.max(i + 1) - 1;
            }
            _ => {}
        }
        i += 1;
    }
    max
}

/// Reads one file's statement.
pub fn read_query(path: &str, text: &str) -> std::result::Result<Query, String> {
    let sql = text.trim().trim_end_matches(';').trim().to_string();
    let meaningful = sql.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    });
    if !meaningful {
        return Err("holds no SQL statement".into());
    }
    let params = max_param(&sql);
    match Parser::parse_sql(&PostgreSqlDialect {}, &sql) {
        Ok(statements) if statements.len() > 1 => Err(format!(
            "holds {} statements; hint: put one statement per file",
            statements.len()
        )),
        Ok(statements) if statements.is_empty() => Err("holds no SQL statement".into()),
        Ok(statements) => {
            let st = &statements[0];
            let kind = match st {
                Statement::Query(_) => QueryKind::Read,
                Statement::Insert(_)
                | Statement::Update(_)
                | Statement::Delete(_)
                | Statement::Merge(_) => QueryKind::Write,
                _ => {
                    return Err(format!(
                    "is not a query or a data-changing statement ({}); pgparity plans only those",
                    first_word(&sql)
                ))
                }
            };
            let mut relations = Vec::new();
            let _ = sqlparser::ast::visit_relations(&statements, |r| {
                let name = r.to_string();
                if !relations.contains(&name) {
                    relations.push(name);
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            Ok(Query {
                path: path.into(),
                sql,
                kind,
                relations,
                params,
                parse_error: None,
                weight: None,
                values: Vec::new(),
            })
        }
        Err(e) => {
            // The parser quotes the token it stopped at, which may span lines (a dollar-quoted
            // body): its message is made one line, and short.
            let e = one_line(&e.to_string());
            // Not an error: the server's EXPLAIN is the judge. Refuse only what is plainly not SQL.
            let word = first_word(&sql).to_ascii_uppercase();
            if ![
                "SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "MERGE", "(",
            ]
            .contains(&word.as_str())
            {
                return Err(format!("is not SQL the tool can plan ({e})"));
            }
            // Unread by the parser, it cannot be proven to be one statement: a semicolon could
            // smuggle a second one into the EXPLAIN batch. Refuse it.
            if sql.contains(';') {
                return Err(format!(
                    "cannot be read ({e}) and holds a ';'; pgparity sends only statements it can tell are single"
                ));
            }
            let kind = if ["INSERT", "UPDATE", "DELETE", "MERGE"].contains(&word.as_str()) {
                QueryKind::Write
            } else {
                QueryKind::Unknown
            };
            Ok(Query {
                path: path.into(),
                sql,
                kind,
                relations: Vec::new(),
                params,
                parse_error: Some(e),
                weight: None,
                values: Vec::new(),
            })
        }
    }
}

fn first_word(sql: &str) -> String {
    sql.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
        .to_string()
}

/// `text` on one line (every run of whitespace one space), at most 300 characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_relations_params_and_refusals() {
        let q = read_query("a.sql", "-- c\nSELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $2 AND x = '$9';").unwrap();
        assert_eq!((q.kind, q.params), (QueryKind::Read, 2));
        assert_eq!(q.relations, vec!["orders", "customers"]);
        assert_eq!(
            read_query("w.sql", "DELETE FROM orders WHERE id = $1")
                .unwrap()
                .kind,
            QueryKind::Write
        );
        assert!(read_query("two.sql", "SELECT 1; SELECT 2")
            .unwrap_err()
            .contains("holds 2 statements"));
        assert!(read_query("e.sql", "-- only a comment")
            .unwrap_err()
            .contains("no SQL statement"));
        assert!(read_query("ddl.sql", "DROP TABLE orders")
            .unwrap_err()
            .contains("is not a query"));
        assert!(read_query("junk.sql", "hello world")
            .unwrap_err()
            .contains("is not SQL"));
        let odd = read_query(
            "o.sql",
            "SELECT * FROM t WHERE x = ANY($1) FOR NO KEY UPDATE SKIP LOCKED OF",
        )
        .unwrap();
        assert!(odd.parse_error.is_some() && odd.kind == QueryKind::Unknown);
        let smuggled = "SELECT * FROM t WHERE x = ANY($1) FOR NO KEY UPDATE SKIP LOCKED OF; SET default_transaction_read_only = off";
        assert!(read_query("s.sql", smuggled)
            .unwrap_err()
            .contains("holds a ';'"));
    }

    /// Found by the cargo-fuzz `corpus` target: the schema zoo read as one query gave a parser
    /// error quoting a dollar-quoted body, over several lines.
    #[test]
    fn a_parser_error_over_several_lines_is_one_line() {
        let zoo = include_str!("../../tests/fixtures/zoo.sql");
        let e = read_query("zoo.sql", zoo).unwrap_err();
        assert!(!e.contains('\n') && e.chars().count() < 400, "{e}");
        let q = read_query(
            "f.sql",
            "SELECT $$a\n  b$$ FROM t WHERE x = ANY ($$\n\n$$ ~ $$",
        );
        if let Ok(q) = q {
            assert!(q.parse_error.is_none_or(|e| !e.contains('\n')));
        }
    }
}
