//! The tenant's ConnectWise connection through GraphQL: the sealed private key, the
//! connection test, level sync and validation, and account links on the demo data.

use billbridge::auth::Role;
use billbridge::sandbox;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::common::{TestApp, catalogue, id};

const TEST: &str = "mutation { testPsaConnection { ok reachable authenticated message checks { name permission allowed message } } }";

async fn sealed_key(app: &TestApp, tenant: &str) -> String {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT p.private_key_sealed AS k FROM psa_connections p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = '{tenant}'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<String>("", "k").unwrap()
}

#[tokio::test]
async fn the_private_key_is_sealed_and_never_returned() {
    let app = TestApp::start().await;
    let secret = "demo-private-key";
    let connected = app
        .connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, secret)
        .await;
    assert_eq!(connected["connectPsa"]["hasPrivateKey"], true);
    assert_eq!(
        connected["connectPsa"]["publicKey"],
        sandbox::DEMO_PUBLIC_KEY
    );
    assert!(!connected.to_string().contains(secret));

    let admin = app.token("alpha", Role::Admin);
    let shown = app
        .post(
            &admin,
            "{ psaConnection { site companyId publicKey hasPrivateKey clientId integration } }",
            json!({}),
        )
        .await;
    assert!(!shown.to_string().contains(secret), "{shown}");
    assert!(
        !billbridge::graphql::sdl().contains("privateKey: String!\n}\n\ntype"),
        "no type returns it"
    );
    let sdl = billbridge::graphql::sdl();
    let outputs = sdl
        .split("input ConnectPsaInput")
        .next()
        .unwrap()
        .to_owned()
        + sdl
            .split("input ConnectPsaInput")
            .nth(1)
            .unwrap()
            .split_once('}')
            .unwrap()
            .1;
    assert!(
        !outputs.contains("privateKey"),
        "only the input type has privateKey"
    );

    // Not in the database as text: not in the column, not anywhere in the SQLite files.
    let sealed = sealed_key(&app, "alpha").await;
    assert!(!sealed.contains(secret));
    if app.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let dir = app.data_dir().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "plain key on disk"
            );
        }
    }

    // Leaving the key out keeps it; the connection still works.
    app.ok(
        &admin,
        r#"mutation($s: String!) { connectPsa(input: {site: $s, companyId: "billbridge-demo", publicKey: "demo-public-key", clientId: "x", integration: "Barracuda Intronis Backup"}) { hasPrivateKey } }"#,
        json!({ "s": app.site }),
    )
    .await;
    assert_eq!(
        app.ok(&admin, TEST, json!({})).await["testPsaConnection"]["ok"],
        true
    );

    // A sealed key moved to another tenant, or altered, does not open.
    app.connect_psa("beta", sandbox::DEMO_PUBLIC_KEY, secret)
        .await;
    let backend = app.db.get_database_backend();
    let swap = |sealed: &str, tenant: &str| {
        Statement::from_string(
            backend,
            format!(
                "UPDATE psa_connections SET private_key_sealed = '{sealed}' WHERE tenant_id = (SELECT id FROM tenants WHERE slug = '{tenant}')"
            ),
        )
    };
    app.db.execute_raw(swap(&sealed, "beta")).await.unwrap();
    let beta = app.token("beta", Role::Admin);
    assert_eq!(app.code(&beta, TEST, json!({})).await, "INTERNAL");
    let mut altered = sealed.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    app.db
        .execute_raw(swap(&String::from_utf8(altered).unwrap(), "alpha"))
        .await
        .unwrap();
    assert_eq!(app.code(&admin, TEST, json!({})).await, "INTERNAL");
}

#[tokio::test]
async fn connect_psa_checks_its_input() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let connect = |input: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.err(
                &admin,
                "mutation($i: ConnectPsaInput!) { connectPsa(input: $i) { site } }",
                json!({ "i": input }),
            )
            .await
        }
    };
    let base = json!({ "site": "api-na.myconnectwise.net", "companyId": "acme", "publicKey": "pk", "privateKey": "sk", "clientId": "c", "integration": "I" });
    let with = |k: &str, v: Value| {
        let mut input = base.clone();
        input[k] = v;
        input
    };
    for (field, input) in [
        ("site", with("site", json!("http://cw.example.com"))),
        ("site", with("site", json!("not a host/"))),
        ("companyId", with("companyId", json!(" "))),
        ("privateKey", with("privateKey", json!(""))),
        ("privateKey", with("privateKey", Value::Null)), // new connection: required
    ] {
        let error = connect(input).await;
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{field}: {error}"
        );
        assert_eq!(error["extensions"]["field"], field);
    }
    assert_eq!(app.count("psa_connections").await, 0);
    // Editors cannot connect.
    let editor = app.editor();
    let code = app
        .code(
            &editor,
            "mutation($i: ConnectPsaInput!) { connectPsa(input: $i) { site } }",
            json!({ "i": base }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn the_connection_test_reports_each_permission() {
    let app = TestApp::start().await;
    let editor = app.editor();
    assert_eq!(
        app.code(&editor, TEST, json!({})).await,
        "CONFLICT",
        "not connected yet"
    );

    app.connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let report = app.ok(&editor, TEST, json!({})).await["testPsaConnection"].clone();
    assert_eq!(report["ok"], true, "{report:#}");
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.len() >= 10);
    assert!(checks.iter().all(|c| c["allowed"] == true));

    app.connect_psa(
        "alpha",
        sandbox::LIMITED_PUBLIC_KEY,
        sandbox::LIMITED_PRIVATE_KEY,
    )
    .await;
    let report = app.ok(&editor, TEST, json!({})).await["testPsaConnection"].clone();
    assert_eq!(report["ok"], false);
    assert_eq!(report["authenticated"], true);
    let refused: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["allowed"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["permission"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("Add agreement additions", "Finance › Agreements: Add"),
            ("Edit agreement additions", "Finance › Agreements: Edit"),
            (
                "Read the product catalog",
                "Procurement › Product Catalog: Inquire"
            ),
        ]
    );

    app.connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, "wrong-private-key")
        .await;
    let report = app.ok(&editor, TEST, json!({})).await["testPsaConnection"].clone();
    assert_eq!(
        (report["reachable"].clone(), report["authenticated"].clone()),
        (json!(true), json!(false))
    );
    assert!(report["checks"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn levels_come_from_connectwise_and_mappings_must_match_them_exactly() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let (_, product, p20, _) = catalogue(&app, &editor).await; // local levels: Gold, gold, Silver
    app.connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let add = r#"mutation($p: ID!, $pl: ID, $all: Boolean, $l: String!) {
        addBillingMapping(input: {productId: $p, planId: $pl, allPlans: $all, level: $l, usageValue: TOTAL_USAGE}) { mapping { id } warnings } }"#;
    let error = app
        .err(
            &editor,
            add,
            json!({ "p": product, "pl": p20, "l": "Gold" }),
        )
        .await;
    assert!(
        error["message"].as_str().unwrap().contains("syncLevels"),
        "{error}"
    );

    let synced = app
        .ok(&editor, "mutation { syncLevels { created updated crossReferences levels { name source crossReferences { vendorType agreementTypeName productIdentifier active } } } }", json!({}))
        .await["syncLevels"]
        .clone();
    assert_eq!(synced["updated"], 2, "Gold and Silver exist in ConnectWise");
    assert_eq!(synced["created"], 5, "1, 2, 3, Premium and Legacy");
    assert_eq!(synced["crossReferences"], 19, "only the chosen integration");
    let levels = synced["levels"].as_array().unwrap();
    let level = |name: &str| levels.iter().find(|l| l["name"] == name).unwrap().clone();
    assert_eq!(level("gold")["source"], "MANUAL");
    assert_eq!(level("gold")["crossReferences"], json!([]));
    assert_eq!(level("Gold")["source"], "CONNECTWISE");
    assert_eq!(
        level("Gold")["crossReferences"].as_array().unwrap().len(),
        5
    );
    assert_eq!(
        level("Silver")["crossReferences"],
        json!([{ "vendorType": "BackupUsage", "agreementTypeName": "Managed Backup", "productIdentifier": "IB-STORAGE-SILVER", "active": true }])
    );

    // Exact match only: the case-only level is refused with the suggestion.
    let error = app
        .err(
            &editor,
            add,
            json!({ "p": product, "pl": p20, "l": "gold" }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "level");
    assert_eq!(
        error["message"],
        r#"level "gold" has no cross-reference in ConnectWise (levels are case-sensitive); did you mean "Gold"?"#,
        "{error}"
    );
    let error = app
        .err(
            &editor,
            add,
            json!({ "p": product, "pl": p20, "l": "premium" }),
        )
        .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(r#"did you mean "Premium"?"#),
        "{error}"
    );
    assert_eq!(error["extensions"]["suggestion"], "Premium");
    // Only inactive cross-references: refused.
    let error = app
        .err(
            &editor,
            add,
            json!({ "p": product, "pl": p20, "l": "Legacy" }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");

    let ok = app
        .ok(
            &editor,
            add,
            json!({ "p": product, "pl": p20, "l": "Gold" }),
        )
        .await;
    // Gold covers the backup types; the test product's Seats metric has no cross-reference.
    let warnings = ok["addBillingMapping"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].as_str().unwrap().contains(r#""Seats""#));
}

#[tokio::test]
async fn missing_cross_references_are_warned_about() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let (_, product, _, _) = catalogue(&app, &editor).await; // product reports BackupUsage and Seats
    app.connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    app.ok(&editor, "mutation { syncLevels { created } }", json!({}))
        .await;
    let saved = app
        .ok(
            &editor,
            r#"mutation($p: ID!) { addBillingMapping(input: {productId: $p, allPlans: true, level: "Silver", usageValue: TOTAL_USAGE}) { warnings } }"#,
            json!({ "p": product }),
        )
        .await;
    let warnings = saved["addBillingMapping"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains(r#""Seats""#));

    // Updating to a level that covers neither metric warns twice.
    let mapping = app
        .ok(&editor, "{ services { mappings { id } } }", json!({}))
        .await["services"][0]["mappings"][0]["id"]
        .clone();
    let updated = app
        .ok(
            &editor,
            r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {level: "2"}) { warnings } }"#,
            json!({ "id": mapping }),
        )
        .await;
    assert_eq!(
        updated["updateBillingMapping"]["warnings"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "level 2 covers Seats only"
    );
}

#[tokio::test]
async fn accounts_link_to_companies_on_the_demo_data() {
    let app = TestApp::start().await;
    billbridge::demo::seed(&app.db).await.unwrap();
    app.connect_psa("demo", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let editor = app.token("demo", Role::Editor);
    let before = app
        .sandbox
        .calls()
        .get("GET /company/companies")
        .copied()
        .unwrap_or(0);
    let counts = app
        .ok(
            &editor,
            "mutation { syncCompanies { linked notFound ambiguous } }",
            json!({}),
        )
        .await;
    assert_eq!(
        counts["syncCompanies"],
        json!({ "linked": 48, "notFound": 1, "ambiguous": 1 })
    );
    let after = app.sandbox.calls()["GET /company/companies"];
    let companies = inspect_companies(&app).await;
    assert!(companies > 1_000, "the demo holds more than one page");
    assert_eq!(
        after - before,
        companies.div_ceil(1_000) as u64,
        "one call per page of 1,000 companies ({companies}), not one per account"
    );

    let link = |name: &'static str| {
        let app = &app;
        let editor = editor.clone();
        async move {
            app.ok(&editor, "query($q: String) { accounts(search: $q) { edges { node { name link { state via companyIdentifier companyName reason } } } } }", json!({ "q": name }))
                .await["accounts"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["node"]["name"] == name)
                .unwrap()["node"]["link"]
                .clone()
        }
    };
    let acme = link("acme-dental").await;
    assert_eq!(
        (acme["state"].clone(), acme["via"].clone()),
        (json!("LINKED"), json!("COMPANY_ID"))
    );
    let alpine = link("alpine-logistics").await;
    assert_eq!(
        (alpine["state"].clone(), alpine["via"].clone()),
        (json!("LINKED"), json!("ECHO_USERNAME"))
    );
    assert_eq!(alpine["companyIdentifier"], "AlpineLogistics");
    let northwind = link("northwind-traders").await;
    assert_eq!(
        northwind["companyIdentifier"], "NWT-001",
        "by its link identifier"
    );
    let zenith = link(billbridge::demo::NOT_IN_PSA).await;
    assert_eq!(zenith["state"], "NOT_FOUND");
    assert!(zenith["reason"].as_str().unwrap().contains("zenith-media"));
    let quartz = link(billbridge::demo::CLAIMED_TWICE).await;
    assert_eq!(quartz["state"], "AMBIGUOUS");
    assert!(
        quartz["reason"].as_str().unwrap().contains("QL-EAST"),
        "{quartz}"
    );

    let filtered = app
        .ok(
            &editor,
            "{ accounts(linkState: AMBIGUOUS) { totalCount edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(filtered["accounts"]["totalCount"], 1);

    // Disconnecting forgets what was learnt through the connection.
    let admin = app.token("demo", Role::Admin);
    assert_eq!(
        app.ok(&admin, "mutation { disconnectPsa }", json!({}))
            .await["disconnectPsa"],
        true
    );
    assert_eq!(
        app.ok(&admin, "{ psaConnection { site } }", json!({}))
            .await["psaConnection"],
        Value::Null
    );
    assert_eq!(link("acme-dental").await, Value::Null);
    assert_eq!(app.count("account_links").await, 0);
    let _ = id;
}

/// Everything logged while connecting, testing (with retries) and syncing, at the most
/// verbose level, is free of the private key and of the Basic credentials.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_the_private_key() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::start().await;
    billbridge::demo::seed(&app.db).await.unwrap();
    app.connect_psa("demo", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let editor = app.token("demo", Role::Editor);
    app.sandbox.inject(billbridge::sandbox::Fault {
        status: 503,
        count: 2,
        writes_only: false,
    });
    app.ok(&editor, TEST, json!({})).await;
    app.ok(
        &editor,
        "mutation { syncLevels { created } syncCompanies { linked } }",
        json!({}),
    )
    .await;
    // A failure path too: a bad key is refused and logged about.
    app.connect_psa("demo", sandbox::DEMO_PUBLIC_KEY, "another-secret-value")
        .await;
    app.ok(&editor, TEST, json!({})).await;

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying ConnectWise call"),
        "the capture works: {}",
        &logs[..logs.len().min(2000)]
    );
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}+{}:{}",
        sandbox::DEMO_COMPANY_ID,
        sandbox::DEMO_PUBLIC_KEY,
        sandbox::DEMO_PRIVATE_KEY
    ));
    for secret in [
        sandbox::DEMO_PRIVATE_KEY,
        "another-secret-value",
        basic.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} was logged");
    }
}

/// How many companies the sandbox holds, from its inspection endpoint.
async fn inspect_companies(app: &TestApp) -> usize {
    let state: Value = reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["companies"].as_u64().unwrap() as usize
}

/// connectPsa asks the site where the company's API lives and keeps the codebase; the
/// client then calls it with the pinned model version. A site that is not ConnectWise, a
/// company it does not host, or a malformed version is refused, naming the field.
#[tokio::test]
async fn connect_discovers_the_codebase_and_pins_the_version() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let connected = app
        .connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    assert!(connected["connectPsa"]["site"].is_string());
    let connection = app
        .ok(
            &admin,
            "{ psaConnection { codebase apiVersion } }",
            json!({}),
        )
        .await;
    assert_eq!(
        connection["psaConnection"],
        json!({ "codebase": "v2025_1", "apiVersion": "2025.1" })
    );
    assert_eq!(app.sandbox.calls()["GET /login/companyinfo/{id}"], 1);
    app.ok(&admin, "mutation { syncLevels { created } }", json!({}))
        .await;
    let state: Value = reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        state["codebases"]["v2025_1"].as_u64().unwrap() >= 2,
        "{state:?}"
    );
    assert!(
        state["codebases"].get("v4_6_release").is_none(),
        "{}",
        state["codebases"]
    );
    assert!(
        state["accepts"]["application/vnd.connectwise.com+json; version=2025.1"]
            .as_u64()
            .unwrap()
            >= 2,
        "{}",
        state["accepts"]
    );

    // testPsaConnection asks again, and keeps what the site names now.
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            "UPDATE psa_connections SET codebase = 'v2024_1'".to_owned(),
        ))
        .await
        .unwrap();
    let tested = app
        .ok(
            &admin,
            "mutation { testPsaConnection { message } }",
            json!({}),
        )
        .await;
    assert!(
        tested["testPsaConnection"]["message"]
            .as_str()
            .unwrap()
            .contains("/v2025_1/apis/3.0"),
        "{tested}"
    );
    let again = app
        .ok(&admin, "{ psaConnection { codebase } }", json!({}))
        .await;
    assert_eq!(again["psaConnection"]["codebase"], "v2025_1");
    let connect = |site: String, company: &'static str, version: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post(
                &admin,
                "mutation($i: ConnectPsaInput!) { connectPsa(input: $i) { codebase apiVersion } }",
                json!({ "i": { "site": site, "companyId": company, "publicKey": "pk", "clientId": "c", "integration": sandbox::DEMO_INTEGRATION, "apiVersion": version } }),
            )
            .await
        }
    };
    // The version is settable per connection, and checked.
    let pinned = connect(app.site.clone(), sandbox::DEMO_COMPANY_ID, json!("2024.2")).await;
    assert_eq!(
        pinned["data"]["connectPsa"]["apiVersion"], "2024.2",
        "{pinned}"
    );
    let bad = connect(app.site.clone(), sandbox::DEMO_COMPANY_ID, json!("latest")).await;
    assert_eq!(
        bad["errors"][0]["extensions"]["field"], "apiVersion",
        "{bad}"
    );
    // billbridge's own server answers companyinfo with its web app: not ConnectWise.
    let not_cw = connect(app.base.clone(), sandbox::DEMO_COMPANY_ID, Value::Null).await;
    let error = &not_cw["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{not_cw}");
    assert_eq!(error["extensions"]["field"], "site");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("does not answer as ConnectWise Manage"),
        "{error}"
    );
    let unknown = connect(app.site.clone(), "nobody", Value::Null).await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["field"], "site",
        "{unknown}"
    );
    // The refused attempts changed nothing.
    let kept = app
        .ok(
            &admin,
            "{ psaConnection { companyId apiVersion } }",
            json!({}),
        )
        .await;
    assert_eq!(
        kept["psaConnection"],
        json!({ "companyId": sandbox::DEMO_COMPANY_ID, "apiVersion": "2024.2" })
    );
}

/// Real cross-reference tables hold rows without a type or level: syncLevels leaves them
/// out, names them in its warnings, and syncs the rest.
#[tokio::test]
async fn sync_levels_warns_about_odd_rows() {
    let app = TestApp::start().await;
    app.connect_psa("alpha", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let editor = app.token("alpha", Role::Editor);
    let synced = app
        .ok(
            &editor,
            "mutation { syncLevels { crossReferences warnings levels { name } } }",
            json!({}),
        )
        .await["syncLevels"]
        .clone();
    let warnings: Vec<&str> = synced["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|w| w.starts_with("cross-reference ") && w.contains("no vendor type or level")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("IB-STORAGE-L1")),
        "{warnings:?}"
    );
    let levels: Vec<&str> = synced["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for level in ["1", "Gold", "Premium", "Silver", "2", "3"] {
        assert!(levels.contains(&level), "{level} in {levels:?}");
    }
    // The demo integration's 21 rows, less the 2 odd ones.
    assert_eq!(synced["crossReferences"], 19);
}
