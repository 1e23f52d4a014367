//! What can go wrong talking to ConnectWise, decoded from its error JSON.

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
    /// 429 after the retries we allow ourselves.
    #[error("ConnectWise is rate limiting us (asked to wait {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
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
    /// Our own configuration (e.g. a site that is not a host name).
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

/// ConnectWise's error body: `{"code": "...", "message": "...", "errors": [...]}`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, serde::Deserialize)]
pub struct FieldError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub field: String,
}

impl ErrorBody {
    /// The message with each field error, for people.
    pub fn describe(&self) -> String {
        let mut text = if self.message.is_empty() {
            self.code.clone()
        } else {
            self.message.clone()
        };
        for e in &self.errors {
            text.push_str(&format!("; {}: {}", e.field, e.message));
            if !e.code.is_empty() {
                text.push_str(&format!(" ({})", e.code));
            }
        }
        text
    }
}
