//! Building SQL text: the one identifier quoter and the one literal quoter every stage uses
//! (capture, profile, plans, seed and its DDL, and the object paths of findings). Pure.

/// PostgreSQL's keywords that are not "unreserved" (reserved, column-name and
/// type-or-function-name keywords), as `pg_get_keywords()` lists them on PostgreSQL 18: a name
/// equal to one of them must be quoted to be an identifier. Sorted, for binary search.
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Quotes an identifier the way PostgreSQL's `quote_ident` (and `format('%I')`) does: left
/// bare only when it is lower-case ASCII letters, digits and underscores, does not start with a
/// digit, and is not a keyword; otherwise double-quoted with inner quotes doubled.
pub fn ident(s: &str) -> String {
    let bare = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && KEYWORDS.binary_search(&s).is_err();
    if bare {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted by [`ident`].
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// Splits a qualified name as snapshots key it (`public.orders`, `"Odd.Schema"."T"`) at the dot
/// outside quotes: (`schema`, `name`), each still quoted as it was. No dot: ("", the name).
pub fn split_qualified(key: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in key.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => return (&key[..i], &key[i + 1..]),
            _ => {}
        }
    }
    ("", key)
}

/// A string literal: single-quoted with inner quotes doubled. Backslashes need no escaping
/// (standard_conforming_strings is on in every supported version and every session we open).
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 10: a column named `order` was left bare in CREATE TABLE.
    #[test]
    fn identifiers_are_quoted_like_postgres_does() {
        assert!(
            KEYWORDS.windows(2).all(|w| w[0] < w[1]),
            "keywords must stay sorted"
        );
        for (name, quoted) in [
            ("orders", "orders"),
            ("order", "\"order\""),
            ("user", "\"user\""),
            ("select", "\"select\""),
            ("group", "\"group\""),
            ("between", "\"between\""),
            ("name", "name"),
            ("_x1", "_x1"),
            ("1x", "\"1x\""),
            ("Upper", "\"Upper\""),
            ("with space", "\"with space\""),
            ("quo\"te", "\"quo\"\"te\""),
            ("ünï", "\"ünï\""),
            ("", "\"\""),
        ] {
            assert_eq!(ident(name), quoted, "{name}");
        }
        assert_eq!(qualified("My Schema", "user"), "\"My Schema\".\"user\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(split_qualified("\"a.b\".\"c.d\""), ("\"a.b\"", "\"c.d\""));
        assert_eq!(split_qualified("public.t"), ("public", "t"));
    }
}
