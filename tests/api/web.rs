//! Health checks and the embedded SPA's serving rules.

use crate::common::TestApp;
use serde_json::json;

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

/// Assets go pre-compressed as stored by the frontend's build (the bytes of its `.br` or
/// `.gz` copy, no CPU per request), GraphQL answers compressed on the fly; both only as
/// `Accept-Encoding` allows.
#[tokio::test]
async fn answers_are_compressed_as_the_client_accepts() {
    use std::io::Read;
    let app = TestApp::start().await;
    let get = |path: &str, encoding: Option<&str>| {
        let mut request = app.client.get(format!("{}{path}", app.base));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let html = get("/", None).await.unwrap().text().await.unwrap();
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("a script under /assets/");
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/dist");
    let stored =
        |suffix: &str| std::fs::read(dist.join(format!("{}{suffix}", &asset[1..]))).unwrap();

    for (accept, encoding, suffix) in [
        ("gzip, deflate, br, zstd", Some("br"), ".br"),
        ("gzip", Some("gzip"), ".gz"),
        ("br;q=0.5, gzip;q=0.9", Some("gzip"), ".gz"),
        ("identity", None, ""),
    ] {
        let answer = get(asset, Some(accept)).await.unwrap();
        assert_eq!(answer.status(), 200, "{accept}");
        assert_eq!(
            answer
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(answer.headers()["vary"], "accept-encoding", "{accept}");
        assert_eq!(answer.bytes().await.unwrap(), stored(suffix), "{accept}");
    }
    // The copies are not paths of their own.
    assert_eq!(
        get(&format!("{asset}.br"), None).await.unwrap().status(),
        404
    );

    let query = json!({ "query": "{ __schema { types { name description } } }" });
    let post = |encoding: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.editor())
            .json(&query);
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let plain = post(None).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let gzipped = post(Some("gzip")).await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped = gzipped.bytes().await.unwrap();
    assert!(
        gzipped.len() * 3 < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    // Brotli when preferred, compressed in one piece by the handler (`encoding`).
    let brotli = post(Some("gzip;q=0.5, br")).await.unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    let brotli = brotli.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::Decompressor::new(&brotli[..], 4096)
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain);
    // A small answer goes as it is.
    let small = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.editor())
        .header("accept-encoding", "br, gzip")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(small.headers().get("content-encoding").is_none());
    assert_eq!(
        small.bytes().await.unwrap(),
        r#"{"data":{"__typename":"Query"}}"#
    );
}
