//! Passwords, tokens and keys never reach the logs: the real binary runs the demo with
//! debug logging, is sent every kind of secret, and its whole output is scanned.

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The server's output so far (stdout and stderr go to one file).
fn output(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_billbridge"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ])
        // Everything billbridge and its HTTP stack say, not just the defaults.
        .env("RUST_LOG", "debug,hyper=info,h2=info,rustls=info,sqlx=info")
        .env_remove("BILLBRIDGE_JWT_SECRET")
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let base = {
        let mut found = None;
        for _ in 0..300 {
            if let Some(at) = output(&log).find("is serving http://") {
                let rest = &output(&log)[at + "is serving ".len()..];
                found = Some(rest.split_whitespace().next().unwrap().to_owned());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        found.unwrap_or_else(|| {
            server.kill().ok();
            panic!("the server did not start:\n{}", output(&log))
        })
    };
    let client = reqwest::Client::new();
    let login = |password: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .post(format!("{base}/auth/login"))
                .json(&json!({ "tenant": "demo", "email": "admin@demo.billbridge.local", "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    const WRONG_PASSWORD: &str = "Wrong-Password-0451";
    assert_eq!(login(WRONG_PASSWORD).await.status(), 401);
    let signed_in = login("demo-password").await;
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session = cookie.split_once('=').unwrap().1.to_owned();
    let graphql = |query: &'static str, variables: Value| {
        let client = client.clone();
        let base = base.clone();
        let cookie = cookie.clone();
        async move {
            let body: Value = client
                .post(format!("{base}/graphql"))
                .header("cookie", cookie)
                .header("x-billbridge-csrf", "1")
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body["errors"].is_null(), "{body}");
            body["data"].clone()
        }
    };

    const USER_PASSWORD: &str = "Unique-User-Password-7731";
    graphql(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "ops@demo.example", "displayName": "Ops", "role": "EDITOR", "password": USER_PASSWORD } }),
    )
    .await;
    let token = graphql(
        r#"mutation { createApiToken(input: {name: "PSA", role: VIEWER}) { token } }"#,
        json!({}),
    )
    .await["createApiToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let used = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ services { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 200);
    const PRIVATE_KEY: &str = "Private-Key-5e1c9a77";
    // connectPsa asks the site where the company's API lives: use the demo's sandbox.
    let site =
        graphql("{ psaConnection { site companyId } }", json!({})).await["psaConnection"].clone();
    graphql(
        "mutation($i: ConnectPsaInput!) { connectPsa(input: $i) { site } }",
        json!({ "i": { "site": site["site"], "companyId": site["companyId"], "publicKey": "pub", "privateKey": PRIVATE_KEY, "clientId": "client", "integration": "Backup" } }),
    )
    .await;
    let webhook_secret = graphql(
        r#"mutation { createWebhook(input: {url: "https://hooks.example.com/billing"}) { secret } }"#,
        json!({}),
    )
    .await["createWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().ok();
    server.wait().ok();
    let logs = output(&log);
    // The scan can fail: the log holds the requests we made.
    assert!(
        logs.contains("/auth/login") && logs.contains("/graphql"),
        "{logs}"
    );
    let jwt_secret = std::fs::read_to_string(dir.path().join("jwt-secret")).unwrap();
    for (what, secret) in [
        ("a wrong password", WRONG_PASSWORD),
        ("a new user's password", USER_PASSWORD),
        ("the session token", session.as_str()),
        ("an API token", token.as_str()),
        ("a ConnectWise private key", PRIVATE_KEY),
        ("a webhook secret", webhook_secret.as_str()),
        ("the JWT secret", jwt_secret.trim()),
    ] {
        assert!(!logs.contains(secret), "{what} is in the logs:\n{logs}");
    }
}
