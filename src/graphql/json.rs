//! GraphQL responses as JSON text, with the parts answered at once (`now`) in place.
//!
//! An object answered at once is written straight to JSON text ([`Json`]) instead of being
//! built as async-graphql `Value`s: each object's map, its hashed keys and the second walk
//! that serialized them were a third of the accounts page's cost. The text travels through
//! async-graphql's executor as a [`Value::Binary`] ([`Json::into_value`]), which no field
//! of the schema answers otherwise (no scalar of ours is binary), and [`response`] puts it
//! in the response as it is. Every transport serializes responses with [`response`]; the
//! default serializer would write such a value as an array of byte numbers.

use async_graphql::resolver_utils::EnumType;
use async_graphql::{Response, Value};
use chrono::{DateTime, Datelike, Timelike, Utc};

/// JSON text being written for a value answered at once. Each method writes one value and
/// answers `Some` (the `Option` lets a field's match end with the value it writes).
pub struct Json(Vec<u8>);

impl Default for Json {
    /// Room for an account of the accounts page (about 1.1 KB) without growing.
    fn default() -> Self {
        Json(Vec::with_capacity(2048))
    }
}

impl Json {
    pub fn str(&mut self, text: &str) -> Option<()> {
        serde_json::to_writer(&mut self.0, text).ok()
    }

    pub fn opt_str(&mut self, text: Option<&str>) -> Option<()> {
        match text {
            Some(text) => self.str(text),
            None => self.null(),
        }
    }

    /// A row's id as the GraphQL `ID` it is (a string).
    pub fn id(&mut self, id: i64) -> Option<()> {
        self.0.push(b'"');
        serde_json::to_writer(&mut self.0, &id).ok()?;
        self.0.push(b'"');
        Some(())
    }

    /// A `Float`, as async-graphql writes it (`null` when it is not finite).
    pub fn float(&mut self, value: f64) -> Option<()> {
        serde_json::to_writer(&mut self.0, &value).ok()
    }

    pub fn bool(&mut self, value: bool) -> Option<()> {
        self.raw(if value { "true" } else { "false" })
    }

    pub fn null(&mut self) -> Option<()> {
        self.raw("null")
    }

    /// A date and time as async-graphql's `DateTime` scalar writes it: chrono's
    /// `to_rfc3339`, written in place (its `String` and formatting machinery were a tenth
    /// of a page's samples). Years beyond four digits and leap seconds take chrono's own.
    pub fn time(&mut self, at: &DateTime<Utc>) -> Option<()> {
        let (date, time) = (at.date_naive(), at.time());
        let nano = time.nanosecond();
        if !(0..=9999).contains(&date.year()) || nano >= 1_000_000_000 {
            return self.str(&at.to_rfc3339());
        }
        let mut text = *b"\"0000-00-00T00:00:00";
        digits(&mut text[1..5], date.year() as u32);
        digits(&mut text[6..8], date.month());
        digits(&mut text[9..11], date.day());
        digits(&mut text[12..14], time.hour());
        digits(&mut text[15..17], time.minute());
        digits(&mut text[18..20], time.second());
        self.0.extend_from_slice(&text);
        // chrono's AutoSi: the fewest of 3, 6 or 9 digits that say the fraction exactly.
        if nano != 0 {
            let (value, width) = match nano {
                _ if nano % 1_000_000 == 0 => (nano / 1_000_000, 3),
                _ if nano % 1_000 == 0 => (nano / 1_000, 6),
                _ => (nano, 9),
            };
            let mut fraction = *b".000000000";
            digits(&mut fraction[1..=width], value);
            self.0.extend_from_slice(&fraction[..=width]);
        }
        self.0.extend_from_slice(b"+00:00\"");
        Some(())
    }

    /// A GraphQL enum's value by its name, as `enum_value` gives it.
    pub fn item<E: EnumType>(&mut self, value: E) -> Option<()> {
        let item = E::items().iter().find(|item| item.value == value)?;
        self.0.push(b'"');
        self.0.extend_from_slice(item.name.as_bytes());
        self.0.push(b'"');
        Some(())
    }

    /// Any other value as the executor would give it.
    pub fn value(&mut self, value: &Value) -> Option<()> {
        serde_json::to_writer(&mut self.0, value).ok()
    }

    /// A response key: a GraphQL name, which needs no escaping.
    pub(super) fn key(&mut self, key: &str) {
        debug_assert!(key.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()));
        self.0.push(b'"');
        self.0.extend_from_slice(key.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    fn raw(&mut self, text: &str) -> Option<()> {
        self.0.extend_from_slice(text.as_bytes());
        Some(())
    }

    pub(super) fn push(&mut self, byte: u8) {
        self.0.push(byte);
    }

    /// The text as the value that carries it through the executor.
    pub(super) fn into_value(self) -> Value {
        Value::Binary(self.0.into())
    }
}

/// Writes `n`'s last decimal digits into `into`, zero-padded.
fn digits(into: &mut [u8], mut n: u32) {
    for digit in into.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `response` as JSON: the fields async-graphql's `Response` serializes (`data`, then
/// `extensions` and `errors` when there are any), the text answered at once in place.
pub fn response(response: &Response) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(size(&response.data) + 256);
    out.extend_from_slice(b"{\"data\":");
    value(&response.data, &mut out)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// About the bytes `value` takes as JSON, so that the answer (56 KB for the accounts page)
/// is allocated once instead of grown and copied a dozen times.
fn size(value: &Value) -> usize {
    match value {
        Value::Binary(text) => text.len(),
        Value::List(items) => items.iter().map(size).sum::<usize>() + items.len() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() + 4 + size(v))
                .sum::<usize>()
                + 2
        }
        _ => 16,
    }
}

fn value(value: &Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match value {
        Value::Binary(text) => out.extend_from_slice(text),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                self::value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key.as_str())?;
                out.push(b':');
                self::value(item, out)?;
            }
            out.push(b'}');
        }
        scalar => serde_json::to_writer(out, scalar)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Name, ServerError};

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    /// Without text answered at once, a response is written byte for byte as
    /// async-graphql's own serializer writes it.
    #[test]
    fn a_response_is_written_as_async_graphql_writes_it() {
        let data = object(&[
            ("id", Value::String("7".into())),
            ("quote", Value::String("a \"b\"\n\u{1}é".into())),
            ("n", Value::from(2.5)),
            ("i", Value::from(-3)),
            ("none", Value::Null),
            ("unit", Value::Enum(Name::new("GB"))),
            (
                "list",
                Value::List(vec![
                    object(&[("x", Value::Boolean(true))]),
                    Value::List(vec![]),
                ]),
            ),
            ("empty", object(&[])),
        ]);
        let mut answer = Response::new(data);
        assert_eq!(
            response(&answer).unwrap(),
            serde_json::to_vec(&answer).unwrap()
        );
        answer.errors.push(ServerError::new("no", None));
        answer.extensions.insert("cost".into(), Value::from(12));
        assert_eq!(
            response(&answer).unwrap(),
            serde_json::to_vec(&answer).unwrap()
        );
    }

    /// Every shape of fraction chrono's RFC 3339 has, and the dates it writes its own way.
    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let mut seconds: u64 = 0x9E37_79B9;
        let nanos = [0, 5_000_000, 120_000, 123_000, 7, 123_456_789, 999_999_999];
        for nanos in nanos.into_iter().chain([1_000_000_000, 1_500_000_000]) {
            for _ in 0..200 {
                // Spread over years 1970 to ~2500 by a fixed-seed generator.
                seconds = seconds.wrapping_mul(6364136223846793005).wrapping_add(1) >> 30;
                let mut at = (seconds % 16_725_225_600) as i64;
                if nanos >= 1_000_000_000 {
                    at = at / 60 * 60 + 59; // a leap second's nanoseconds go on second 59
                }
                let at = DateTime::from_timestamp(at, nanos).unwrap();
                let mut json = Json::default();
                json.time(&at).unwrap();
                assert_eq!(
                    json.0,
                    serde_json::to_vec(&at.to_rfc3339()).unwrap(),
                    "{at:?}"
                );
            }
        }
        for year in [-1, 10_000] {
            let at = chrono::NaiveDate::from_ymd_opt(year, 1, 2).unwrap();
            let at = at.and_hms_opt(3, 4, 5).unwrap().and_utc();
            let mut json = Json::default();
            json.time(&at).unwrap();
            assert_eq!(json.0, serde_json::to_vec(&at.to_rfc3339()).unwrap());
        }
    }

    #[test]
    fn text_answered_at_once_is_put_in_place() {
        let mut json = Json::default();
        json.push(b'{');
        json.key("name");
        json.str("a\"b").unwrap();
        json.push(b',');
        json.key("at");
        json.time(&DateTime::from_timestamp(1_700_000_000, 5_000_000).unwrap())
            .unwrap();
        json.push(b',');
        json.key("id");
        json.id(42).unwrap();
        json.push(b'}');
        let data = object(&[("node", json.into_value()), ("more", Value::from(1))]);
        let text = String::from_utf8(response(&Response::new(data)).unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"data":{"node":{"name":"a\"b","at":"2023-11-14T22:13:20.005+00:00","id":"42"},"more":1}}"#
        );
    }
}
