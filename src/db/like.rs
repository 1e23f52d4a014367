//! "Contains" searches that mean the same on SQLite and PostgreSQL.
//!
//! Typed text is matched literally: `%`, `_` and the escape character `\` are escaped and
//! the escape character is named (`ESCAPE '\'`), since PostgreSQL escapes with `\` by
//! default and SQLite has no default. Case is folded for ASCII letters only, on both
//! sides: SQLite's `lower()` (and its LIKE) fold ASCII alone, while PostgreSQL's would fold
//! `É` too, so PostgreSQL gets `translate(…, 'A…Z', 'a…z')` instead. Other letters match as
//! typed on both engines.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, LikeExpr};

const ESCAPE: char = '\\';
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// `column` contains `text`, ASCII letters compared without case, everything else as typed.
pub fn contains(backend: DbBackend, column: impl IntoColumnRef, text: &str) -> Expr {
    let pattern = format!("%{}%", escape(&text.to_ascii_lowercase()));
    let column = Expr::col(column);
    let folded: Expr = match backend {
        DbBackend::Postgres => Func::cust("translate")
            .args([column, Expr::val(UPPER), Expr::val(LOWER)])
            .into(),
        _ => Func::lower(column).into(),
    };
    folded.like(LikeExpr::new(pattern).escape(ESCAPE))
}

/// Escapes `%`, `_` and the escape character itself, so they match only themselves.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | ESCAPE) {
            out.push(ESCAPE);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(escape("École"), "École");
    }

    #[test]
    fn both_engines_get_one_pattern_and_fold_ascii_only() {
        let mut query = Query::select();
        query
            .column(Alias::new("name"))
            .from(Alias::new("account"))
            .and_where(contains(
                DbBackend::Sqlite,
                Alias::new("name"),
                r"ÉCOLE 100%_\",
            ));
        let pattern = sea_orm::Value::from(r"%École 100\%\_\\%");
        let (sqlite, values) = query.build(SqliteQueryBuilder);
        assert!(
            sqlite.contains(r#"LOWER("name") LIKE ? ESCAPE '\'"#),
            "{sqlite}"
        );
        assert_eq!(values.0.last(), Some(&pattern));

        let mut query = Query::select();
        query
            .column(Alias::new("name"))
            .from(Alias::new("account"))
            .and_where(contains(
                DbBackend::Postgres,
                Alias::new("name"),
                r"ÉCOLE 100%_\",
            ));
        let (postgres, values) = query.build(PostgresQueryBuilder);
        assert!(
            postgres.contains(r#"translate("name", $1, $2) LIKE $3 ESCAPE E'\\'"#),
            "{postgres}"
        );
        assert_eq!(values.0.last(), Some(&pattern));
    }
}
