//! How the database is opened, and what clients see when it fails.

use billbridge::db;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::common::TestApp;

/// SQLite runs with WAL, synchronous=FULL, a busy timeout and foreign keys, on every
/// pooled connection.
#[tokio::test]
async fn sqlite_is_opened_durably() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pragmas.db").display());
    let conn = db::connect(db::options(&url)).await.unwrap();
    let pragma = |name: &'static str| {
        let conn = conn.clone();
        async move {
            let row = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await.to_lowercase(), "wal");
    assert_eq!(pragma("synchronous").await, "2", "FULL is 2");
    assert_eq!(pragma("foreign_keys").await, "1");
    let timeout = pragma("busy_timeout").await;
    assert_eq!(timeout, "10000");
}

/// A database failure reaches the client as INTERNAL with a generic message: no SQL, no
/// driver text.
#[tokio::test]
async fn internal_errors_hide_the_database() {
    let app = TestApp::start().await;
    app.db
        .execute_unprepared("ALTER TABLE levels RENAME TO levels_gone")
        .await
        .unwrap();
    let error = app
        .err(&app.editor(), "{ levels { name } }", json!({}))
        .await;
    assert_eq!(error["extensions"]["code"], "INTERNAL");
    let message = error["message"].as_str().unwrap().to_lowercase();
    for leak in [
        "select",
        "levels",
        "table",
        "relation",
        "sqlite",
        "postgres",
        "error returned",
    ] {
        assert!(!message.contains(leak), "{message:?} leaks {leak:?}");
    }
}
