//! Health checks and the embedded SPA's serving rules.

use crate::common::TestApp;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::start().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn spa_fallback_rules() {
    let app = TestApp::start().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();

    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let html = index.text().await.unwrap();
    assert!(
        html.contains("<div id=\"root\">") || html.contains("id=\"root\""),
        "{html}"
    );

    // A client-side route gets the app.
    let route = get("/billing/setup").await.unwrap();
    assert_eq!(route.status(), 200);
    assert_eq!(route.text().await.unwrap(), html);

    // A missing asset is a 404, never the app.
    assert_eq!(get("/assets/missing-123.js").await.unwrap().status(), 404);
    assert_eq!(get("/favicon-none.png").await.unwrap().status(), 404);

    // The hashed assets the page refers to exist and are immutable.
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("a script under /assets/");
    let script = get(asset).await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    // /graphql is never swallowed by the fallback.
    assert_eq!(get("/graphql/extra").await.unwrap().status(), 404);
    let graphiql = get("/graphiql").await.unwrap();
    assert_eq!(graphiql.status(), 200);
    assert!(
        graphiql
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}
