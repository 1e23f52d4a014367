//! `bench plain`: the floor. An axum server whose POST `/graphql` answers the fixed JSON of
//! `{ __typename }` without reading the body or doing anything else — what any server on
//! this machine, with this HTTP stack and this load generator, can at best do. The
//! `typename` shape is reported against it.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use std::net::SocketAddr;

/// What it prints once listening, followed by its base URL.
pub const SERVING: &str = "plain axum is serving ";

const ANSWER: &str = r#"{"data":{"__typename":"Query"}}"#;

pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let app = Router::new().route(
        "/graphql",
        post(|| async { ([(CONTENT_TYPE, "application/json")], ANSWER) }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("{SERVING}http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
