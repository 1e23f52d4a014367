//! The load: C keep-alive HTTP/1.1 connections, each sending the same GraphQL POST again as
//! soon as the last answer is in, for a fixed time. Plain hyper connections rather than a
//! pooled client, so the load generator spends as little of the machine's CPU as it can
//! (it shares the machine with the server it measures). Every answer is checked: 200, JSON,
//! `data` and no `errors`.

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Failures kept word for word, to print.
const EXAMPLES: usize = 3;

/// A GraphQL endpoint over plain HTTP and what to send it.
#[derive(Clone)]
pub struct Target {
    /// `host:port` to connect to.
    address: String,
    host: HeaderValue,
    path: String,
    authorization: Option<HeaderValue>,
}

impl Target {
    /// `url`: `http://host[:port]/path`; `token`: sent as `Authorization: Bearer …`.
    pub fn new(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let uri: Uri = url.parse().with_context(|| format!("--target {url:?}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--target {url:?}: give an http:// URL (the load generator speaks plain HTTP)");
        }
        let host = uri
            .host()
            .with_context(|| format!("--target {url:?}: no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let authorization = token
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .context("the token is not a valid header value")?;
        Ok(Target {
            address: format!("{host}:{port}"),
            host: HeaderValue::from_str(&format!("{host}:{port}"))?,
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            authorization,
        })
    }

    async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(&self.address)
            .await
            .with_context(|| format!("connecting to {}", self.address))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes; either is seen there.
            let _ = connection.await;
        });
        Ok(sender)
    }

    fn request(&self, body: &Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::post(self.path.as_str())
            .body(Full::new(body.clone()))
            .unwrap_or_default();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(authorization) = &self.authorization {
            headers.insert(AUTHORIZATION, authorization.clone());
        }
        request
    }
}

/// A GraphQL request body for `query`.
pub fn body(query: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "query": query }).to_string())
}

/// What one run of load gave.
pub struct Outcome {
    /// Every request's latency in microseconds, sorted (failed ones too).
    pub latencies: Vec<u32>,
    pub failures: u64,
    /// A few failures as the server answered them.
    pub examples: Vec<String>,
    /// From the first request sent to the last answer received.
    pub elapsed: Duration,
}

impl Outcome {
    pub fn requests(&self) -> usize {
        self.latencies.len()
    }

    pub fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `q` (0–1) of the requests fall, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank =
            ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len());
        f64::from(self.latencies[rank - 1]) / 1000.0
    }
}

/// Sends `body` once and says what is wrong with the answer, if anything.
pub async fn check(target: &Target, body: &Bytes) -> anyhow::Result<Option<String>> {
    let mut sender = target.connect().await?;
    Ok(send(&mut sender, target, body).await.err())
}

/// `connections` connections sending `body` back to back until `duration` has passed (a
/// request started before then is waited for).
pub async fn drive(
    target: &Target,
    body: &Bytes,
    connections: usize,
    duration: Duration,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let target = target.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            connection(&target, &body, deadline).await
        }));
    }
    let mut outcome = Outcome {
        latencies: Vec::new(),
        failures: 0,
        examples: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        match task.await {
            Ok(one) => {
                outcome.latencies.extend(one.latencies);
                outcome.failures += one.failures;
                for example in one.examples {
                    if outcome.examples.len() < EXAMPLES && !outcome.examples.contains(&example) {
                        outcome.examples.push(example);
                    }
                }
            }
            Err(e) => {
                outcome.failures += 1;
                outcome
                    .examples
                    .push(format!("a connection's task failed: {e}"));
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies.sort_unstable();
    outcome
}

/// One connection's loop; reconnects (counting a failure) when the connection breaks.
async fn connection(target: &Target, body: &Bytes, deadline: Instant) -> Outcome {
    let mut outcome = Outcome {
        latencies: Vec::with_capacity(4096),
        failures: 0,
        examples: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let fail = |outcome: &mut Outcome, message: String| {
        outcome.failures += 1;
        if outcome.examples.len() < EXAMPLES {
            outcome.examples.push(message);
        }
    };
    let mut sender = None;
    while Instant::now() < deadline {
        let current = match sender.as_mut() {
            Some(current) => current,
            None => match target.connect().await {
                Ok(fresh) => sender.insert(fresh),
                Err(e) => {
                    fail(&mut outcome, format!("{e:#}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let start = Instant::now();
        let result = send(current, target, body).await;
        outcome
            .latencies
            .push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
        if let Err(message) = result {
            if current.is_closed() {
                sender = None;
            }
            fail(&mut outcome, message);
        }
    }
    outcome
}

/// The parts of a GraphQL response the check reads; `data` is skimmed, not kept.
#[derive(Deserialize)]
struct Answer {
    data: Option<serde::de::IgnoredAny>,
    errors: Option<serde_json::Value>,
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    target: &Target,
    body: &Bytes,
) -> Result<(), String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(target.request(body))
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    let excerpt = || {
        let text = String::from_utf8_lossy(&bytes);
        text.chars().take(300).collect::<String>()
    };
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}: {}", excerpt()));
    }
    match serde_json::from_slice::<Answer>(&bytes) {
        Ok(Answer {
            errors: Some(errors),
            ..
        }) => Err(format!("errors: {}", excerpt_of(&errors.to_string()))),
        Ok(Answer { data: Some(_), .. }) => Ok(()),
        Ok(_) => Err(format!("no data: {}", excerpt())),
        Err(e) => Err(format!("not JSON ({e}): {}", excerpt())),
    }
}

fn excerpt_of(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(latencies: Vec<u32>) -> Outcome {
        Outcome {
            latencies,
            failures: 0,
            examples: Vec::new(),
            elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let o = outcome((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(o.quantile_ms(0.5), 50.0);
        assert_eq!(o.quantile_ms(0.99), 99.0);
        assert_eq!(o.quantile_ms(1.0), 100.0);
        assert_eq!(o.per_second(), 50.0);
        assert_eq!(outcome(vec![]).quantile_ms(0.5), 0.0);
        assert_eq!(outcome(vec![7000]).quantile_ms(0.99), 7.0);
    }

    #[test]
    fn targets_are_plain_http() {
        let t = Target::new("http://127.0.0.1:5678/graphql", Some("abc")).expect("target");
        assert_eq!(t.address, "127.0.0.1:5678");
        assert_eq!(t.path, "/graphql");
        assert_eq!(
            t.authorization.as_ref().map(|h| h.to_str().ok()),
            Some(Some("Bearer abc"))
        );
        assert!(Target::new("https://example.com/graphql", None).is_err());
        assert_eq!(
            Target::new("http://localhost/", None)
                .expect("target")
                .address,
            "localhost:80"
        );
    }

    /// A server that answers one good and one bad GraphQL response: both are told apart.
    #[tokio::test]
    async fn answers_are_checked() {
        use axum::routing::post;
        let app = axum::Router::new()
            .route(
                "/ok",
                post(|| async { r#"{"data":{"__typename":"Query"}}"# }),
            )
            .route(
                "/bad",
                post(|| async { r#"{"data":null,"errors":[{"message":"no"}]}"# }),
            )
            .route(
                "/down",
                post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy") }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let query = body("{ __typename }");
        let ok = Target::new(&format!("{base}/ok"), None).expect("target");
        assert_eq!(check(&ok, &query).await.expect("sent"), None);
        let bad = Target::new(&format!("{base}/bad"), None).expect("target");
        let message = check(&bad, &query).await.expect("sent").expect("an error");
        assert!(message.contains("\"no\""), "{message}");
        let down = Target::new(&format!("{base}/down"), None).expect("target");
        let message = check(&down, &query).await.expect("sent").expect("an error");
        assert!(message.starts_with("HTTP 503"), "{message}");

        let load = drive(&bad, &query, 2, Duration::from_millis(200)).await;
        assert!(load.requests() > 0);
        assert_eq!(load.failures as usize, load.requests());
        assert_eq!(load.examples.len(), 1, "the same failure is kept once");
        let load = drive(&ok, &query, 2, Duration::from_millis(200)).await;
        assert!(load.requests() > 0);
        assert_eq!(load.failures, 0);
    }
}
