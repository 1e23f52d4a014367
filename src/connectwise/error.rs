//! What can go wrong talking to ConnectWise, decoded from its error JSON.

use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// 401: the company ID, public or private key is wrong.
    #[error("ConnectWise refused the credentials: {0}")]
    Unauthorized(String),
    /// 403: the API member's security role lacks a permission.
    #[error("ConnectWise refused {what}: {message}")]
    Forbidden { what: String, message: String },
    #[error("ConnectWise has no {0}")]
    NotFound(String),
    #[error("ConnectWise reported a conflict: {0}")]
    Conflict(String),
    /// 400: ConnectWise did not accept what we sent.
    #[error("ConnectWise rejected the request: {0}")]
    Rejected(String),
    /// 429 after the retries we allow ourselves, with ConnectWise's own words.
    #[error("ConnectWise is rate limiting us (asked to wait {retry_after:?}): {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx after retries.
    #[error("ConnectWise failed ({status}): {message}")]
    Upstream { status: u16, message: String },
    #[error("ConnectWise did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach ConnectWise: {0}")]
    Unreachable(String),
    /// An answer we could not understand.
    #[error("unexpected answer from ConnectWise: {0}")]
    Decode(String),
    /// Our own configuration (e.g. a site that is not a host name, or not ConnectWise).
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// Worth trying again later, as opposed to something a person must fix.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Upstream { .. }
                | Error::Timeout(_)
                | Error::Unreachable(_)
        )
    }
}

/// ConnectWise's error body. The published shape is `{"code", "message", "errors": [...]}`
/// with every field nullable (`errors` is often `null`); a rate-limited answer comes from
/// the gateway as `{"error": "ConnectWiseAPI", "message": "…"}`. All of them decode.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Option<Vec<FieldError>>,
    /// The gateway's shape (429).
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FieldError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

impl ErrorBody {
    /// Decodes any error body; one that is not JSON (a proxy's HTML page) says so.
    pub fn parse(bytes: &[u8]) -> ErrorBody {
        serde_json::from_slice(bytes).unwrap_or_else(|_| ErrorBody {
            message: (!bytes.is_empty()).then(|| "the answer was not ConnectWise's JSON".into()),
            ..Default::default()
        })
    }

    /// The message with each field error, for people.
    pub fn describe(&self) -> String {
        fn pick(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.trim().is_empty())
        }
        let mut text = pick(&self.message)
            .or(pick(&self.code))
            .or(pick(&self.error))
            .unwrap_or("no message")
            .to_owned();
        for e in self.errors.iter().flatten() {
            let message = pick(&e.message).unwrap_or("invalid");
            match pick(&e.field) {
                Some(field) => text.push_str(&format!("; {field}: {message}")),
                None => text.push_str(&format!("; {message}")),
            }
            if let Some(code) = pick(&e.code) {
                text.push_str(&format!(" ({code})"));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_every_published_shape() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"code":"InvalidObject","message":"The object is not valid.","errors":[{"code":"InvalidField","message":"quantity must be a number","resource":"agreementAddition","field":"quantity"}]}"#,
                "The object is not valid.; quantity: quantity must be a number (InvalidField)",
            ),
            (
                r#"{"code":"NotFound","message":"Agreement with id 9 not found","errors":null}"#,
                "Agreement with id 9 not found",
            ),
            (
                r#"{"code":"Unauthorized","message":null,"errors":null}"#,
                "Unauthorized",
            ),
            (
                r#"{"error":"ConnectWiseAPI","message":"Rate limit exceeded. Try again in 3 seconds."}"#,
                "Rate limit exceeded. Try again in 3 seconds.",
            ),
            (r#"{"error":"ConnectWiseAPI"}"#, "ConnectWiseAPI"),
            (
                r#"{"code":"InvalidObject","message":"bad","errors":[{"code":null,"message":null,"field":null}]}"#,
                "bad; invalid",
            ),
            (
                "<html>Bad gateway</html>",
                "the answer was not ConnectWise's JSON",
            ),
            ("", "no message"),
        ];
        for (body, expected) in cases {
            assert_eq!(
                ErrorBody::parse(body.as_bytes()).describe(),
                *expected,
                "{body}"
            );
        }
    }
}
