//! The simple forms of CHECK constraints, read with sqlparser so generated values can honour
//! them by construction: ranges (`x >= 0`, `x BETWEEN 1 AND 5`), lists (`x IN (...)`,
//! `x = ANY (ARRAY[...])`), lengths (`char_length(x) <= 10`), `IS NOT NULL`, joined by AND.
//! Anything else is reported as not understood.

use std::collections::BTreeMap;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// What the checks allow for one column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub one_of: Option<Vec<String>>,
    pub max_chars: Option<usize>,
    pub not_null: bool,
    /// `col ~ 'pattern'` (or `~*`): values must match it.
    pub pattern: Option<String>,
}

/// Reads one constraint definition (`CHECK ((total >= (0)::numeric))`); `value_name` is the
/// name the expression uses for the column in a domain (`VALUE`). Returns the rules per
/// column (lower-case names), or `None` when any part is not a simple form.
pub fn read(definition: &str) -> Option<BTreeMap<String, Rule>> {
    let body = definition.trim();
    let body = body.strip_prefix("CHECK").unwrap_or(body).trim();
    let body = body.strip_suffix("NOT VALID").unwrap_or(body).trim();
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &format!("SELECT {body}")).ok()?;
    let Statement::Query(q) = statements.first()? else {
        return None;
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    let SelectItem::UnnamedExpr(e) = sel.projection.first()? else {
        return None;
    };
    let mut rules = BTreeMap::new();
    walk(e, &mut rules).then_some(rules)
}

fn column(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.to_lowercase()),
        Expr::Nested(x) | Expr::Cast { expr: x, .. } => column(x),
        _ => None,
    }
}

fn number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            Value::SingleQuotedString(s) => s.parse().ok(),
            _ => None,
        },
        Expr::Nested(x) | Expr::Cast { expr: x, .. } => number(x),
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => number(expr).map(|x| -x),
        _ => None,
    }
}

fn string(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        Expr::Nested(x) | Expr::Cast { expr: x, .. } => string(x),
        _ => None,
    }
}

/// `char_length(x)` / `length(x)` / `octet_length(x)` → x.
fn length_of(e: &Expr) -> Option<String> {
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string().to_lowercase();
    if !["char_length", "length", "character_length", "octet_length"].contains(&name.as_str()) {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.first()? {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => column(x),
        _ => None,
    }
}

fn walk(e: &Expr, rules: &mut BTreeMap<String, Rule>) -> bool {
    match e {
        Expr::Nested(x) => walk(x, rules),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => walk(left, rules) && walk(right, rules),
        Expr::IsNotNull(x) => match column(x) {
            Some(c) => {
                rules.entry(c).or_default().not_null = true;
                true
            }
            None => false,
        },
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => match (column(expr), number(low), number(high)) {
            (Some(c), Some(lo), Some(hi)) => {
                let r = rules.entry(c).or_default();
                r.lo = Some(r.lo.map_or(lo, |x: f64| x.max(lo)));
                r.hi = Some(r.hi.map_or(hi, |x: f64| x.min(hi)));
                true
            }
            _ => false,
        },
        Expr::In {
            expr,
            target: sqlparser::ast::InTarget::List(list),
            negated: false,
            ..
        } => match (
            column(expr),
            list.iter().map(string).collect::<Option<Vec<_>>>(),
        ) {
            (Some(c), Some(values)) => {
                rules.entry(c).or_default().one_of = Some(values);
                true
            }
            _ => false,
        },
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => {
            let values = match right.as_ref() {
                Expr::Array(a) => a.elem.iter().map(string).collect::<Option<Vec<_>>>(),
                Expr::Nested(x) | Expr::Cast { expr: x, .. } => match x.as_ref() {
                    Expr::Array(a) => a.elem.iter().map(string).collect::<Option<Vec<_>>>(),
                    _ => None,
                },
                _ => None,
            };
            match (column(left), values) {
                (Some(c), Some(v)) => {
                    rules.entry(c).or_default().one_of = Some(v);
                    true
                }
                _ => false,
            }
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGRegexMatch | BinaryOperator::PGRegexIMatch,
            right,
        } => match (column(left), string(right)) {
            (Some(c), Some(p)) => {
                rules.entry(c).or_default().pattern = Some(p);
                true
            }
            _ => false,
        },
        Expr::BinaryOp { left, op, right } => {
            use BinaryOperator::*;
            // Normalize to `column op number` (or `length(column) op number`).
            let (col, len, n, op) = match (column(left), length_of(left), number(right)) {
                (Some(c), _, Some(n)) => (c, false, n, op.clone()),
                (None, Some(c), Some(n)) => (c, true, n, op.clone()),
                _ => match (number(left), column(right), length_of(right)) {
                    (Some(n), Some(c), _) => (c, false, n, flip(op)),
                    (Some(n), None, Some(c)) => (c, true, n, flip(op)),
                    _ => return false,
                },
            };
            let r = rules.entry(col).or_default();
            if len {
                return match op {
                    LtEq => {
                        r.max_chars = Some(n as usize);
                        true
                    }
                    Lt => {
                        r.max_chars = Some((n as usize).saturating_sub(1));
                        true
                    }
                    Gt | GtEq => true,
                    _ => false,
                };
            }
            // Strict bounds move inward by a small step (integers round away from it anyway).
            let eps = 1e-6 * n.abs().max(1.0);
            match op {
                GtEq => r.lo = Some(r.lo.map_or(n, |x| x.max(n))),
                Gt => r.lo = Some(r.lo.map_or(n + eps, |x| x.max(n + eps))),
                LtEq => r.hi = Some(r.hi.map_or(n, |x| x.min(n))),
                Lt => r.hi = Some(r.hi.map_or(n - eps, |x| x.min(n - eps))),
                Eq => {
                    r.lo = Some(n);
                    r.hi = Some(n);
                }
                _ => return false,
            }
            true
        }
        _ => false,
    }
}

fn flip(op: &BinaryOperator) -> BinaryOperator {
    use BinaryOperator::*;
    match op {
        Gt => Lt,
        Lt => Gt,
        GtEq => LtEq,
        LtEq => GtEq,
        o => o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_forms() {
        let r = read("CHECK ((total >= (0)::numeric))").unwrap();
        assert_eq!(r["total"].lo, Some(0.0));
        let r = read("CHECK (((qty > 0) AND (qty <= 50)))").unwrap();
        assert!(r["qty"].lo.unwrap() > 0.0 && r["qty"].hi == Some(50.0));
        let r = read("CHECK ((status = ANY (ARRAY['new'::text, 'paid'::text])))").unwrap();
        assert_eq!(
            r["status"].one_of,
            Some(vec!["new".to_string(), "paid".to_string()])
        );
        let r = read("CHECK ((char_length(code) <= 8))").unwrap();
        assert_eq!(r["code"].max_chars, Some(8));
        let r = read("CHECK ((VALUE > 0))").unwrap();
        assert!(r["value"].lo.unwrap() > 0.0);
        let r = read("CHECK ((p BETWEEN 1 AND 5))").unwrap();
        assert_eq!((r["p"].lo, r["p"].hi), (Some(1.0), Some(5.0)));
        assert!(read("CHECK ((ends_at > starts_at))").is_none());
        let r = read("CHECK ((VALUE ~ '^[^@]+@[^@]+$'::citext))").unwrap();
        assert_eq!(r["value"].pattern.as_deref(), Some("^[^@]+@[^@]+$"));
        assert!(read("CHECK ((lower(email) = email))").is_none());
    }
}
