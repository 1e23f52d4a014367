//! A tenant's people: admins create them, change their roles and deactivate them; passwords
//! are stored only as argon2id hashes; a tenant always keeps an active admin.

use billbridge::auth::{Role, password};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::common::TestApp;

const CREATE: &str =
    "mutation($i: CreateUserInput!) { createUser(input: $i) { id email displayName role active } }";

#[tokio::test]
async fn admins_manage_people() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let ann = app
        .ok(&admin, CREATE, json!({ "i": { "email": " Ann@MSP.example ", "displayName": "Ann", "role": "ADMIN", "password": "correct horse battery" } }))
        .await["createUser"]
        .clone();
    assert_eq!(ann["email"], "ann@msp.example", "stored lower-cased");
    assert_eq!(ann["role"], "ADMIN");
    let bob = app
        .ok(&admin, CREATE, json!({ "i": { "email": "bob@msp.example", "displayName": "Bob", "role": "VIEWER", "password": "another long passphrase" } }))
        .await["createUser"]
        .clone();

    // Bad input names its field; the same email twice is a conflict.
    for (field, input) in [
        (
            "email",
            json!({ "email": "not-an-email", "displayName": "X", "role": "VIEWER", "password": "long enough password" }),
        ),
        (
            "password",
            json!({ "email": "x@msp.example", "displayName": "X", "role": "VIEWER", "password": "short" }),
        ),
        (
            "displayName",
            json!({ "email": "x@msp.example", "displayName": " ", "role": "VIEWER", "password": "long enough password" }),
        ),
    ] {
        let error = app.err(&admin, CREATE, json!({ "i": input })).await;
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }
    let again = app
        .code(&admin, CREATE, json!({ "i": { "email": "ANN@msp.example", "displayName": "Ann 2", "role": "VIEWER", "password": "correct horse battery" } }))
        .await;
    assert_eq!(again, "CONFLICT");

    // Passwords are stored as argon2id hashes, never as text.
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT password_hash FROM users WHERE email = 'ann@msp.example'",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "password_hash").unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("correct horse"));
    assert!(password::verify("correct horse battery", &stored));
    let listed = app
        .post(&admin, "{ users { email role active } }", json!({}))
        .await;
    assert!(
        !listed.to_string().contains("argon2") && !listed.to_string().contains("correct horse")
    );
    assert_eq!(listed["data"]["users"].as_array().unwrap().len(), 2);

    // Roles change; the last active admin cannot be demoted or deactivated.
    let promote = "mutation($id: ID!, $r: Role!) { updateUserRole(id: $id, role: $r) { role } }";
    let deactivate = "mutation($id: ID!) { deactivateUser(id: $id) { active } }";
    assert_eq!(
        app.code(&admin, promote, json!({ "id": ann["id"], "r": "EDITOR" }))
            .await,
        "CONFLICT"
    );
    assert_eq!(
        app.code(&admin, deactivate, json!({ "id": ann["id"] }))
            .await,
        "CONFLICT"
    );
    app.ok(&admin, promote, json!({ "id": bob["id"], "r": "ADMIN" }))
        .await;
    assert_eq!(
        app.ok(&admin, deactivate, json!({ "id": ann["id"] })).await["deactivateUser"]["active"],
        false
    );

    // Only admins; and only their own tenant's people.
    let editor = app.token("alpha", Role::Editor);
    assert_eq!(
        app.code(&editor, "{ users { email } }", json!({})).await,
        "FORBIDDEN"
    );
    assert_eq!(app.code(&editor, CREATE, json!({ "i": { "email": "e@msp.example", "displayName": "E", "role": "ADMIN", "password": "long enough password" } })).await, "FORBIDDEN");
    let other = app.token("beta", Role::Admin);
    assert_eq!(
        app.code(&other, promote, json!({ "id": bob["id"], "r": "VIEWER" }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.code(&other, deactivate, json!({ "id": bob["id"] }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.ok(&other, "{ users { email } }", json!({})).await["users"],
        json!([])
    );
}

#[tokio::test]
async fn the_demo_has_a_documented_admin() {
    let app = TestApp::start().await;
    billbridge::demo::seed(&app.db).await.unwrap();
    let admin = app.token("demo", Role::Admin);
    let users = app
        .ok(&admin, "{ users { email role active } }", json!({}))
        .await;
    assert_eq!(
        users["users"],
        json!([{ "email": billbridge::demo::ADMIN_EMAIL, "role": "ADMIN", "active": true }])
    );
    let tenant = billbridge::db::tenants::by_slug(&app.db, "demo")
        .await
        .unwrap()
        .unwrap();
    let scope = billbridge::db::Scope::new(app.db.clone(), &tenant);
    let user = billbridge::db::users::by_email(&scope, billbridge::demo::ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert!(password::verify(
        billbridge::demo::ADMIN_PASSWORD,
        &user.password_hash
    ));
}
