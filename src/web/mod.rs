//! The SPA, compiled from `frontend/` by `build.rs` and embedded in the binary.
//!
//! Rules: a file that exists is served (hashed `assets/` immutable, everything else
//! `no-cache`); an unknown path without a dot is a client-side route and gets
//! `index.html`; an unknown path with a dot is a missing asset and gets 404. `/graphql` is
//! routed before this fallback and is never answered with the SPA.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::encoding::Encoding;

#[derive(RustEmbed)]
#[folder = "frontend/dist"]
struct Assets;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub async fn spa(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "graphql" || path.starts_with("graphql/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let accepted = Encoding::accepted(&headers);
    if !path.is_empty()
        && !Encoding::ALL.iter().any(|&e| path.ends_with(suffix(e)))
        && let Some(response) = file(path, &accepted)
    {
        return response;
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    file("index.html", &accepted).unwrap_or_else(|| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the web app was not built into this binary",
        )
            .into_response()
    })
}

fn file(path: &str, accepted: &[Encoding]) -> Option<Response> {
    let plain = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let mut variants: Vec<(Encoding, rust_embed::EmbeddedFile)> = Encoding::ALL
        .into_iter()
        .filter_map(|e| Some((e, Assets::get(&format!("{path}{}", suffix(e)))?)))
        .collect();
    let has_variants = !variants.is_empty();
    let chosen = accepted
        .iter()
        .find_map(|e| variants.iter().position(|(v, _)| v == e))
        .map(|i| variants.swap_remove(i));
    let (encoding, data) = match chosen {
        Some((encoding, compressed)) => (Some(encoding), compressed.data),
        None => (None, plain.data),
    };
    let mut response = data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Some(encoding) = encoding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.name()),
        );
    }
    if has_variants {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Some(response)
}

/// The name of an asset's copy stored in `encoding`.
fn suffix(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Brotli => ".br",
        Encoding::Gzip => ".gz",
    }
}
