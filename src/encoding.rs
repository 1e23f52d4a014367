//! Content codings (`Accept-Encoding`, RFC 9110 §12.5.3): which of ours a request accepts,
//! and an answer compressed in one piece.
//!
//! GraphQL results, `/metrics` and `/graphiql` are compressed here, once their whole body is
//! written, rather than by a compression layer around the router: that layer's body type
//! holds an encoder's state inline (about 6 KB), which every response — `{ __typename }`'s
//! 40 bytes too — carried and was copied through each layer above it; and a body known in
//! full compresses in one call instead of frame by frame. The SPA's files are stored
//! compressed by the frontend's build and sent as they are (`web`).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use std::io::Write as _;

/// The codings we send besides identity, in the server's preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

/// Bodies shorter than this go as they are: compressing them saves a few bytes for a call.
pub const SMALLEST: usize = 1024;

/// A quick level for both codings: a page of JSON compresses about five times at level 4
/// for a fraction of the CPU of the highest.
const LEVEL: u32 = 4;

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The coding's token in `Accept-Encoding` and `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// What `Accept-Encoding` allows, best first: by the client's q-values, ties broken by
    /// ours (Brotli is smaller). `*` stands for any coding not named; `q=0` refuses.
    pub fn accepted(headers: &HeaderMap) -> Vec<Encoding> {
        let named: Vec<(&str, u16)> = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(crate::accept::items)
            .collect();
        if named.is_empty() {
            return Vec::new();
        }
        let quality = |e: Encoding| {
            let of = |n: &str| {
                named
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(n))
                    .map(|(_, q)| *q)
            };
            of(e.name())
                .or_else(|| (e == Encoding::Gzip).then(|| of("x-gzip")).flatten())
                .or_else(|| of("*"))
                .unwrap_or(0)
        };
        let mut accepted: Vec<(Encoding, u16)> = Encoding::ALL
            .into_iter()
            .map(|e| (e, quality(e)))
            .filter(|(_, q)| *q > 0)
            .collect();
        // Stable: equal q-values keep the server's order.
        accepted.sort_by_key(|(_, q)| std::cmp::Reverse(*q));
        accepted.into_iter().map(|(e, _)| e).collect()
    }

    /// The coding the request prefers among ours, if it accepts any.
    pub fn preferred(headers: &HeaderMap) -> Option<Encoding> {
        Self::accepted(headers).first().copied()
    }

    /// `body` compressed, or `None` if the encoder failed (it writes to memory, so it
    /// should not).
    fn compress(self, body: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(body.len() / 4 + 64);
        match self {
            Encoding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: LEVEL as i32,
                    lgwin: window(body.len()),
                    size_hint: body.len(),
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
                Some(out)
            }
            Encoding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(out, flate2::Compression::new(LEVEL));
                encoder.write_all(body).ok()?;
                encoder.finish().ok()
            }
        }
    }
}

/// Brotli's window for a body of `len` bytes: the smallest that holds it (16 to 22 bits),
/// so a small answer does not set up a 4 MiB ring buffer.
fn window(len: usize) -> i32 {
    (16..22)
        .find(|bits| len <= (1usize << bits) - 16)
        .unwrap_or(22)
}

/// A 200 answer of `body`, compressed in `encoding` when it is given and the body is at
/// least [`SMALLEST`], with `Vary: Accept-Encoding` whenever the request's header could
/// have changed it. The caller sets the content type (and another status).
pub fn answer(encoding: Option<Encoding>, body: Vec<u8>) -> Response {
    if body.len() < SMALLEST {
        return Response::new(body.into());
    }
    let compressed = encoding.and_then(|e| Some((e, e.compress(&body)?)));
    let mut answer = Response::new(Body::empty());
    let headers = answer.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    *answer.body_mut() = match compressed {
        Some((encoding, compressed)) => {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.name()),
            );
            compressed.into()
        }
        None => body.into(),
    };
    answer
}

#[cfg(test)]
mod tests {
    use super::{Encoding, answer, window};
    use axum::http::{HeaderMap, HeaderValue, header};
    use std::io::Read as _;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_client_s_preference_wins_and_q0_refuses() {
        use Encoding::{Brotli, Gzip};
        let cases: [(&str, &[Encoding]); 7] = [
            ("gzip, deflate, br, zstd", &[Brotli, Gzip]),
            ("gzip;q=1, br;q=0.5", &[Gzip, Brotli]),
            ("br;q=0, *", &[Gzip]),
            ("x-gzip", &[Gzip]),
            ("*;q=0", &[]),
            ("identity", &[]),
            ("", &[]),
        ];
        for (value, expected) in cases {
            assert_eq!(Encoding::accepted(&accepting(value)), expected, "{value}");
        }
        assert_eq!(Encoding::accepted(&HeaderMap::new()), []);
        assert_eq!(
            Encoding::preferred(&accepting("gzip;q=0.2, br;q=0.1")),
            Some(Gzip)
        );
    }

    async fn bytes(answer: axum::response::Response) -> Vec<u8> {
        axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn large_bodies_are_compressed_and_small_ones_are_not() {
        let body: Vec<u8> = (0..400)
            .flat_map(|i| format!("{{\"id\":\"{i}\",\"name\":\"account {i}\"}},").into_bytes())
            .collect();
        for encoding in Encoding::ALL {
            let coded = answer(Some(encoding), body.clone());
            assert_eq!(coded.headers()[header::CONTENT_ENCODING], encoding.name());
            assert_eq!(coded.headers()[header::VARY], "accept-encoding");
            let coded = bytes(coded).await;
            assert!(
                coded.len() * 4 < body.len(),
                "{encoding:?}: {}",
                coded.len()
            );
            let mut plain = Vec::new();
            match encoding {
                Encoding::Brotli => brotli::Decompressor::new(&coded[..], 4096)
                    .read_to_end(&mut plain)
                    .unwrap(),
                Encoding::Gzip => flate2::read::GzDecoder::new(&coded[..])
                    .read_to_end(&mut plain)
                    .unwrap(),
            };
            assert_eq!(plain, body, "{encoding:?}");
        }
        // Not accepted: as it is, but the answer still varies with the header.
        let plain = answer(None, body.clone());
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[header::VARY], "accept-encoding");
        assert_eq!(bytes(plain).await, body);
        // Small: as it is, whatever was accepted.
        let small = b"{\"data\":{\"__typename\":\"Query\"}}".to_vec();
        let answered = answer(Some(Encoding::Brotli), small.clone());
        assert!(answered.headers().is_empty());
        assert_eq!(bytes(answered).await, small);
    }

    #[test]
    fn the_window_fits_the_body() {
        assert_eq!(window(1024), 16);
        assert_eq!(window(65_520), 16);
        assert_eq!(window(65_521), 17);
        assert_eq!(window(10 << 20), 22);
    }
}
