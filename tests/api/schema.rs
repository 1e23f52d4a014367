//! `schema.graphql` must be what the code serves. `UPDATE_SCHEMA=1 cargo test` rewrites it.

#[test]
fn schema_file_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let current = billbridge::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).expect("write schema.graphql");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "schema.graphql is stale; run `UPDATE_SCHEMA=1 cargo test --test api schema` and commit it"
    );
}
