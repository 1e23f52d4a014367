//! The media type of `/graphql`'s answers, negotiated from `Accept` as GraphQL over HTTP
//! says, and the status each gives a request error.
//!
//! - `application/graphql-response+json`: request errors (nothing ran) answer 400 with no
//!   `data`; an executed operation 200, with its field errors.
//! - `application/json` (the legacy type, still what most clients get): 200 for every
//!   well-formed request, request errors included (the status is no signal there: a proxy
//!   could have written it). Also the answer to `*/*`, `application/*` and a request with no
//!   `Accept` at all: the spec's watershed would move the last to graphql-response+json
//!   from 2025, but the audit suite (`graphql-http`) still expects application/json there,
//!   and it keeps curl and older clients getting 200s.
//! - neither acceptable: 406.
//!
//! A request that is not a well-formed GraphQL request at all (not JSON, no `query`, …) is
//! 400 under both.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::json;
use crate::encoding::{self, Encoding};
use crate::error::{AppError, refuse};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/json`
    Json,
    /// `application/graphql-response+json`
    GraphqlResponse,
}

impl Media {
    const ALL: [Media; 2] = [Media::GraphqlResponse, Media::Json];

    fn essence(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponse => "application/graphql-response+json",
        }
    }

    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }

    /// The media type the request's `Accept` headers prefer, or the 406 to answer.
    pub fn negotiate(headers: &HeaderMap) -> Result<Media, Box<Response>> {
        let accept: Vec<&str> = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .collect();
        if accept.is_empty() {
            return Ok(Media::Json);
        }
        preferred(&accept.join(",")).ok_or_else(|| {
            Box::new(refuse(
                StatusCode::NOT_ACCEPTABLE,
                "NOT_ACCEPTABLE",
                "Accept: /graphql answers application/graphql-response+json or application/json; accept one of them",
            ))
        })
    }

    /// What a request error (refused before anything ran) answers under this media type.
    pub(crate) fn request_error_status(self) -> StatusCode {
        match self {
            Media::Json => StatusCode::OK,
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
        }
    }

    /// The HTTP answer for a GraphQL response, compressed in `encoding` when it is worth it.
    /// `executed` false makes it a request error: no `data` entry, and
    /// [`Media::request_error_status`].
    pub fn respond(
        self,
        response: async_graphql::Response,
        executed: bool,
        encoding: Option<Encoding>,
    ) -> Response {
        let (status, body) = if executed {
            (StatusCode::OK, json::response(&response))
        } else {
            let mut body = serde_json::json!({ "errors": response.errors });
            if !response.extensions.is_empty() {
                body["extensions"] = serde_json::json!(response.extensions);
            }
            (self.request_error_status(), serde_json::to_vec(&body))
        };
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                return AppError::internal("serializing a GraphQL response", e).into_response();
            }
        };
        let mut answer = encoding::answer(encoding, body);
        *answer.status_mut() = status;
        let headers = answer.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type());
        if executed
            && response.is_ok()
            && let Some(value) = response.cache_control.value()
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            headers.insert(header::CACHE_CONTROL, value);
        }
        headers.extend(response.http_headers);
        answer
    }

    /// Labels an answer made outside GraphQL (a refusal in the GraphQL error shape) with
    /// this media type.
    pub fn label(self, mut response: Response) -> Response {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        response
    }
}

/// The media type `accept` (a comma-separated list of media ranges) ranks highest, or none.
/// Each type takes its quality from the most specific range that matches it (RFC 9110
/// §12.5.1); ties go to the explicitly named type, then to the one listed first, then to
/// application/json.
fn preferred(accept: &str) -> Option<Media> {
    // Per media type: (quality in thousandths, specificity, position).
    let mut best: [Option<(u16, u8, usize)>; 2] = [None, None];
    for (position, (essence, quality)) in crate::accept::items(accept).enumerate() {
        let essence = essence.to_ascii_lowercase();
        for (slot, media) in best.iter_mut().zip(Media::ALL) {
            let specificity = match essence.as_str() {
                e if e == media.essence() => 2,
                "application/*" => 1,
                "*/*" => 0,
                _ => continue,
            };
            if slot.is_none_or(|(_, s, _)| specificity > s) {
                *slot = Some((quality, specificity, position));
            }
        }
    }
    best.iter()
        .zip(Media::ALL)
        .filter_map(|(slot, media)| slot.map(|s| (s, media)))
        .filter(|((quality, _, _), _)| *quality > 0)
        .max_by_key(|((quality, specificity, position), media)| {
            (
                *quality,
                *specificity,
                std::cmp::Reverse(*position),
                *media == Media::Json,
            )
        })
        .map(|(_, media)| media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_negotiated() {
        use Media::*;
        let table: [(&str, Option<Media>); 16] = [
            ("application/json", Some(Json)),
            ("application/graphql-response+json", Some(GraphqlResponse)),
            ("*/*", Some(Json)),
            ("application/*", Some(Json)),
            // The first listed wins among equals; quality before order.
            (
                "application/graphql-response+json, application/json",
                Some(GraphqlResponse),
            ),
            (
                "application/json, application/graphql-response+json",
                Some(Json),
            ),
            (
                "application/graphql-response+json;q=0.9, application/json",
                Some(Json),
            ),
            (
                "application/json;q=0.5, application/graphql-response+json;q=0.8",
                Some(GraphqlResponse),
            ),
            // A named type beats a wildcard of the same quality.
            (
                "*/*, application/graphql-response+json",
                Some(GraphqlResponse),
            ),
            // The most specific range decides: json is refused, the wildcard lets the other in.
            ("application/json;q=0, */*", Some(GraphqlResponse)),
            ("APPLICATION/JSON; charset=utf-8", Some(Json)),
            (
                "application/graphql-response+json, application/json, multipart/mixed",
                Some(GraphqlResponse),
            ),
            ("text/html", None),
            ("application/xml, text/*", None),
            ("application/json;q=0", None),
            ("*/*;q=0", None),
        ];
        for (accept, expected) in table {
            assert_eq!(preferred(accept), expected, "Accept: {accept}");
        }
    }

    #[test]
    fn no_accept_is_json() {
        assert_eq!(Media::negotiate(&HeaderMap::new()).ok(), Some(Media::Json));
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/plain"));
        let refused = Media::negotiate(&headers).err().map(|r| r.status());
        assert_eq!(refused, Some(StatusCode::NOT_ACCEPTABLE));
    }
}
