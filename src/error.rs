//! `AppError`: what can go wrong while serving a request, and its one mapping to GraphQL
//! errors (`extensions.code`) and HTTP responses.
//!
//! `AppError` deliberately has no `Display`: async-graphql converts any `Display` type into
//! an error *without* a code, and we want `?` in a resolver to go through our mapping below.

use async_graphql::ErrorExtensions;
use axum::http::StatusCode;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, Clone, PartialEq)]
pub enum AppError {
    /// Input that cannot be accepted; names the field and what would be.
    BadInput {
        field: String,
        message: String,
        /// The row of a batch input the error is about.
        index: Option<usize>,
        /// The accepted value closest to what was given ("did you mean").
        suggestion: Option<String>,
    },
    NotFound {
        what: &'static str,
        id: String,
    },
    Conflict(String),
    /// Mappings managed in the legacy platform cannot be changed here.
    ReadOnly(String),
    Forbidden(String),
    Unauthenticated(String),
    /// ConnectWise could not be reached or refused us; `transient` when retrying may help.
    Upstream {
        message: String,
        transient: bool,
    },
    /// An allowance is spent for now (see `limits`).
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    /// Already logged where it happened; the client only sees a generic message.
    Internal,
}

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
            index: None,
            suggestion: None,
        }
    }

    /// Bad input with the accepted value closest to it, for clients to offer.
    pub fn did_you_mean(
        field: impl Into<String>,
        message: impl Into<String>,
        suggestion: impl Into<String>,
    ) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
            index: None,
            suggestion: Some(suggestion.into()),
        }
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        AppError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// Ties a bad-input error to row `index` of a batch (`input[3].quantity`; `names[3]`
    /// when the rows are plain values and the error names no field).
    pub fn at_row(self, list: &str, index: usize) -> Self {
        match self {
            AppError::BadInput {
                field,
                message,
                suggestion,
                ..
            } => AppError::BadInput {
                field: if field.is_empty() {
                    format!("{list}[{index}]")
                } else {
                    format!("{list}[{index}].{field}")
                },
                message,
                index: Some(index),
                suggestion,
            },
            AppError::NotFound { what, id } => AppError::BadInput {
                field: format!("{list}[{index}]"),
                message: format!("{what} {id} not found"),
                index: Some(index),
                suggestion: None,
            },
            other => other,
        }
    }

    /// Logs an unexpected failure and hides it from the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        AppError::Internal
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadInput { .. } => "BAD_USER_INPUT",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::Conflict(_) => "CONFLICT",
            AppError::ReadOnly(_) => "READ_ONLY",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Upstream {
                transient: true, ..
            } => "UPSTREAM_UNAVAILABLE",
            AppError::Upstream {
                transient: false, ..
            } => "UPSTREAM_REJECTED",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            AppError::BadInput { field, message, .. } if names_field(message, field) => {
                message.clone()
            }
            AppError::BadInput { field, message, .. } => format!("{field}: {message}"),
            AppError::NotFound { what, id } => format!("{what} {id} not found"),
            AppError::Conflict(m)
            | AppError::ReadOnly(m)
            | AppError::Forbidden(m)
            | AppError::Unauthenticated(m) => m.clone(),
            AppError::Upstream { message, .. } | AppError::RateLimited { message, .. } => {
                message.clone()
            }
            AppError::Internal => "internal error; it has been logged".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadInput { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::ReadOnly(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The GraphQL-shaped JSON body for errors answered outside the executor.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        error_body(self.code(), &self.message())
    }
}

/// `{"errors": [{"message", "extensions": {"code"}}]}`: every error billbridge answers over
/// HTTP has the GraphQL shape, whether or not GraphQL ran.
pub(crate) fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// An HTTP error answered before (or instead of) GraphQL, in the GraphQL error shape.
pub fn refuse(status: StatusCode, code: &str, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(error_body(code, message))).into_response()
}

/// Refusals made by layers and extractors rather than handlers — the body limit (413, from
/// tower-http or from axum while reading), the request timeout (408), a method a route
/// does not serve (405), an unreadable body (400) — come as plain text or empty. This
/// gives them the shape of every other error, keeping their status and headers (`Allow`,
/// …). JSON answers pass untouched. A plain function, not an async middleware, so the
/// stack in `app` stays one unboxed service.
pub fn json_refusals<B>(
    limits: &crate::limits::Limits,
    response: axum::http::Response<B>,
) -> axum::response::Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let message = |status| match status {
        StatusCode::PAYLOAD_TOO_LARGE => Some((
            "PAYLOAD_TOO_LARGE",
            format!(
                "the request body is larger than the {} bytes accepted",
                limits.body_bytes
            ),
        )),
        StatusCode::REQUEST_TIMEOUT => Some((
            "REQUEST_TIMEOUT",
            format!(
                "the request took longer than the {} s allowed",
                limits.timeout.as_secs()
            ),
        )),
        StatusCode::METHOD_NOT_ALLOWED => Some((
            "METHOD_NOT_ALLOWED",
            "this path does not answer that method (see the Allow header)".to_owned(),
        )),
        StatusCode::BAD_REQUEST => {
            Some(("BAD_REQUEST", "the request could not be read".to_owned()))
        }
        _ => None,
    };
    let (mut parts, body) = response.into_parts();
    let Some((code, message)) = message(status).filter(|_| !is_json) else {
        return axum::response::Response::from_parts(parts, axum::body::Body::new(body));
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let json = refuse(status, code, &message);
    let (json_parts, body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    axum::response::Response::from_parts(parts, body)
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        // A unique index caught a race our checks could not: report it as the conflict it is.
        if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
            tracing::warn!(%error, "unique constraint violated");
            return AppError::Conflict("a record with the same key already exists".into());
        }
        AppError::internal("database error", error)
    }
}

impl From<crate::connectwise::Error> for AppError {
    fn from(error: crate::connectwise::Error) -> Self {
        AppError::Upstream {
            transient: error.is_transient(),
            message: error.to_string(),
        }
    }
}

/// Whether `message` opens with its field's name (`level "gold" has no cross-reference…`):
/// such a message is a sentence for people and names the field already, so it is sent as
/// written; a fragment (`must not be empty`) is led by `field: `. `extensions.field` names
/// the field either way.
fn names_field(message: &str, field: &str) -> bool {
    message
        .strip_prefix(field)
        .is_some_and(|rest| rest.starts_with(' '))
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.extend()
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let AppError::BadInput {
                field,
                index,
                suggestion,
                ..
            } = self
            {
                ext.set("field", field.as_str());
                if let Some(index) = index {
                    ext.set("index", *index as u64);
                }
                if let Some(suggestion) = suggestion {
                    ext.set("suggestion", suggestion.as_str());
                }
            }
            if let AppError::RateLimited { retry_after, .. } = self {
                ext.set("retryAfter", crate::limits::retry_after_secs(*retry_after));
            }
        })
    }
}

impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), axum::Json(self.to_json())).into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn a_message_names_its_field_once() {
        // A fragment is led by its field.
        assert_eq!(
            AppError::bad_input("name", "must not be empty").message(),
            "name: must not be empty"
        );
        // A sentence that opens with the field's name is sent as written.
        let level = AppError::did_you_mean(
            "level",
            r#"level "gold" does not exist (levels are case-sensitive); did you mean "Gold"?"#,
            "Gold",
        );
        assert_eq!(
            level.message(),
            r#"level "gold" does not exist (levels are case-sensitive); did you mean "Gold"?"#
        );
        // Only the whole name counts: "levels …" is not about the field `level`.
        assert_eq!(
            AppError::bad_input("level", "levels are case-sensitive").message(),
            "level: levels are case-sensitive"
        );
        // In a batch the row is named, so the prefix comes back.
        assert_eq!(
            level.at_row("input", 3).message(),
            r#"input[3].level: level "gold" does not exist (levels are case-sensitive); did you mean "Gold"?"#
        );
    }
}
