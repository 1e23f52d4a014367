//! Signing and checking bearer JWTs: HS256 only, `exp`, `iss` and `aud` required, `nbf`
//! checked, 30 s leeway.
//!
//! Key rotation: every token names its key in the header (`kid`, derived from the secret,
//! so replicas agree without configuring ids). After a rotation the previous secret is
//! still accepted until the end of its grace period, then refused.

use chrono::{DateTime, Utc};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::Role;

pub(crate) const ISSUER: &str = "billbridge";
/// The audience of tokens for integrators and scripts.
pub(crate) const API_AUDIENCE: &str = "billbridge-api";
/// The audience of browser sessions: a session token is refused where an API token is
/// expected, and the reverse.
pub(crate) const BROWSER_AUDIENCE: &str = "billbridge-browser";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    Api,
    Browser,
}

impl Audience {
    fn name(self) -> &'static str {
        match self {
            Audience::Api => API_AUDIENCE,
            Audience::Browser => BROWSER_AUDIENCE,
        }
    }
}
/// Leeway for clock skew between billbridge and whoever minted the token.
const LEEWAY_SECS: u64 = 30;
/// HS256 keys shorter than the hash are weak; refuse them at start-up.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub tenant: String,
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The `api_tokens` row of a revocable token; absent for tokens minted by the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The verified content of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    pub tenant: String,
    pub role: Role,
    pub subject: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The `api_tokens` row, for revocable tokens.
    pub token_id: Option<i64>,
}

pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys rotated out, each accepted until its grace period ends.
    previous: Vec<Previous>,
    api: Validation,
    browser: Validation,
    verified: Verified,
}

/// Tokens verified lately. A request's token is checked again at every request, and
/// base64, JSON and HMAC were an eighth of the CPU of a small one; a verified token is then
/// a lookup. Each entry keeps the times the full check would apply — not before `nbf`,
/// expired after `exp` (both with the leeway), refused after the grace period of a
/// rotated-out key that signed it — and they are checked at every use. Bounded: at most
/// [`Verified::MOST`] tokens, all forgotten when full. Revocation is not the signature's
/// business: `auth::cache` checks it on every request, cached or not.
#[derive(Default)]
struct Verified(Mutex<HashMap<(Audience, String), Window>>);

struct Window {
    identity: TokenIdentity,
    /// Unix seconds: valid from `from`, expired from `expired`.
    from: i64,
    expired: i64,
    /// When the rotated-out key that signed it stops being accepted.
    grace_until: Option<DateTime<Utc>>,
}

impl Verified {
    const MOST: usize = 4096;
}

struct Previous {
    kid: String,
    decoding: DecodingKey,
    until: DateTime<Utc>,
}

/// The key id of a secret: the first 8 bytes of its SHA-256, in hex. Not secret: it only
/// tells which key signed a token.
fn key_id(secret: &[u8]) -> String {
    hex::encode(&Sha256::digest(secret)[..8])
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    WeakSecret(usize),
    #[error("the token has expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("could not sign a token: {0}")]
    Sign(String),
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Result<Self, JwtError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(JwtError::WeakSecret(secret.len()));
        }
        let validation = |audience: Audience| {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_issuer(&[ISSUER]);
            validation.set_audience(&[audience.name()]);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.validate_nbf = true;
            validation.leeway = LEEWAY_SECS;
            validation
        };
        Ok(JwtKeys {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            previous: Vec::new(),
            api: validation(Audience::Api),
            browser: validation(Audience::Browser),
            verified: Verified::default(),
        })
    }

    /// Also accepts tokens signed with `secret` (a key rotated out) until `until`.
    pub fn accepting(mut self, secret: &[u8], until: DateTime<Utc>) -> Result<Self, JwtError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(JwtError::WeakSecret(secret.len()));
        }
        self.previous.push(Previous {
            kid: key_id(secret),
            decoding: DecodingKey::from_secret(secret),
            until,
        });
        Ok(self)
    }

    /// The key that must have signed `token`, by its `kid`, with the end of its grace
    /// period when it was rotated out. Tokens without one predate rotation and can only be
    /// checked against the current key.
    fn key_for(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(&DecodingKey, Option<DateTime<Utc>>), JwtError> {
        let header = decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        let Some(kid) = header.kid else {
            return Ok((&self.decoding, None));
        };
        if kid == self.kid {
            return Ok((&self.decoding, None));
        }
        match self.previous.iter().find(|p| p.kid == kid) {
            Some(previous) if now < previous.until => {
                Ok((&previous.decoding, Some(previous.until)))
            }
            Some(previous) => Err(grace_ended(previous.until)),
            None => Err(JwtError::Invalid("signed with an unknown key".into())),
        }
    }

    /// An API token for `tenant` with `role`, valid for `ttl` from now.
    pub fn issue(
        &self,
        tenant: &str,
        role: Role,
        subject: &str,
        ttl: Duration,
    ) -> Result<String, JwtError> {
        self.issue_for(Audience::Api, tenant, role, subject, ttl)
    }

    /// A token for `audience`.
    pub fn issue_for(
        &self,
        audience: Audience,
        tenant: &str,
        role: Role,
        subject: &str,
        ttl: Duration,
    ) -> Result<String, JwtError> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let exp = Utc::now().timestamp().saturating_add(ttl);
        self.sign(audience, tenant, role, subject, exp, None)
    }

    /// A revocable API token naming the `api_tokens` row `token_id`, valid until `exp`.
    pub fn issue_api_token(
        &self,
        tenant: &str,
        role: Role,
        subject: &str,
        token_id: i64,
        exp: i64,
    ) -> Result<String, JwtError> {
        self.sign(
            Audience::Api,
            tenant,
            role,
            subject,
            exp,
            Some(token_id.to_string()),
        )
    }

    fn sign(
        &self,
        audience: Audience,
        tenant: &str,
        role: Role,
        subject: &str,
        exp: i64,
        jti: Option<String>,
    ) -> Result<String, JwtError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: audience.name().into(),
            sub: subject.into(),
            tenant: tenant.into(),
            role: role.as_str().into(),
            iat: now,
            nbf: now,
            exp,
            jti,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding).map_err(|e| JwtError::Sign(e.to_string()))
    }

    /// Checks an API token: signature, algorithm, issuer, audience and times.
    pub fn verify(&self, token: &str) -> Result<TokenIdentity, JwtError> {
        self.verify_for(Audience::Api, token)
    }

    /// Checks a token meant for `audience`.
    pub fn verify_for(&self, audience: Audience, token: &str) -> Result<TokenIdentity, JwtError> {
        self.verify_at(audience, token, Utc::now())
    }

    /// [`JwtKeys::verify_for`] at `now`: from the tokens verified lately when it is there.
    fn verify_at(
        &self,
        audience: Audience,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenIdentity, JwtError> {
        let key = (audience, token.to_owned());
        if let Some(window) = self.verified.0.lock().expect("verified lock").get(&key) {
            let at = now.timestamp();
            match window.grace_until {
                Some(until) if now >= until => return Err(grace_ended(until)),
                _ if at >= window.expired => return Err(JwtError::Expired),
                _ if at >= window.from => return Ok(window.identity.clone()),
                _ => {} // not yet valid: checked in full
            }
        }
        let validation = match audience {
            Audience::Api => &self.api,
            Audience::Browser => &self.browser,
        };
        let (decoding, grace_until) = self.key_for(token, now)?;
        let data = decode::<Claims>(token, decoding, validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            _ => JwtError::Invalid(e.to_string()),
        })?;
        let role = data.claims.role.parse().map_err(JwtError::Invalid)?;
        let identity = TokenIdentity {
            tenant: data.claims.tenant,
            role,
            subject: data.claims.sub,
            expires_at: data.claims.exp,
            token_id: data.claims.jti.and_then(|j| j.parse().ok()),
        };
        // jsonwebtoken refuses `exp < now - leeway` and `nbf > now + leeway`.
        let leeway = LEEWAY_SECS as i64;
        let window = Window {
            identity: identity.clone(),
            from: data.claims.nbf.saturating_sub(leeway),
            expired: data.claims.exp.saturating_add(leeway).saturating_add(1),
            grace_until,
        };
        let mut verified = self.verified.0.lock().expect("verified lock");
        if verified.len() >= Verified::MOST {
            verified.clear();
        }
        verified.insert(key, window);
        Ok(identity)
    }
}

fn grace_ended(until: DateTime<Utc>) -> JwtError {
    JwtError::Invalid(format!(
        "signed with a key rotated out; its grace period ended {}",
        until.to_rfc3339()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip() {
        let keys = JwtKeys::new(SECRET).unwrap();
        let token = keys
            .issue("acme", Role::Editor, "cli", Duration::from_secs(60))
            .unwrap();
        let identity = keys.verify(&token).unwrap();
        assert_eq!(
            (
                identity.tenant.as_str(),
                identity.role,
                identity.subject.as_str()
            ),
            ("acme", Role::Editor, "cli")
        );
        // Each audience only where it belongs.
        assert!(keys.verify_for(Audience::Browser, &token).is_err());
        let session = keys
            .issue_for(
                Audience::Browser,
                "acme",
                Role::Admin,
                "user:1",
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(keys.verify(&session).is_err());
        assert!(keys.verify_for(Audience::Browser, &session).is_ok());
    }

    #[test]
    fn weak_secret_refused() {
        assert_eq!(JwtKeys::new(b"short").err(), Some(JwtError::WeakSecret(5)));
    }

    #[test]
    fn other_key_refused() {
        let keys = JwtKeys::new(SECRET).unwrap();
        let other = JwtKeys::new(b"another-secret-another-secret-123").unwrap();
        let token = other
            .issue("acme", Role::Admin, "cli", Duration::from_secs(60))
            .unwrap();
        assert!(matches!(keys.verify(&token), Err(JwtError::Invalid(_))));
    }

    #[test]
    fn rotated_key_accepted_during_its_grace_only() {
        const OLD: &[u8] = b"the-old-secret-the-old-secret-123";
        let old = JwtKeys::new(OLD).unwrap();
        let token = old
            .issue("acme", Role::Viewer, "cli", Duration::from_secs(60))
            .unwrap();
        let in_grace = JwtKeys::new(SECRET)
            .unwrap()
            .accepting(OLD, Utc::now() + chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(in_grace.verify(&token).unwrap().tenant, "acme");
        // New tokens are signed with the new key, which the old setup does not know.
        let new = in_grace
            .issue("acme", Role::Viewer, "cli", Duration::from_secs(60))
            .unwrap();
        assert_ne!(in_grace.kid.as_str(), old.kid.as_str());
        assert!(matches!(old.verify(&new), Err(JwtError::Invalid(m)) if m.contains("unknown key")));
        let after_grace = JwtKeys::new(SECRET)
            .unwrap()
            .accepting(OLD, Utc::now() - chrono::Duration::seconds(1))
            .unwrap();
        assert!(
            matches!(after_grace.verify(&token), Err(JwtError::Invalid(m)) if m.contains("grace period ended"))
        );
        // A kid naming one key does not unlock another: the signature still decides.
        let forged = {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(in_grace.kid.as_str().to_owned());
            let claims: serde_json::Value = serde_json::from_slice(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    token.split('.').nth(1).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            encode(&header, &claims, &EncodingKey::from_secret(OLD)).unwrap()
        };
        assert!(in_grace.verify(&forged).is_err());
        assert!(matches!(
            JwtKeys::new(SECRET)
                .unwrap()
                .accepting(b"short", Utc::now()),
            Err(JwtError::WeakSecret(5))
        ));
    }

    #[test]
    fn a_verified_token_is_remembered_with_the_times_the_full_check_applies() {
        const OLD: &[u8] = b"the-old-secret-the-old-secret-123";
        let now = Utc::now();
        let grace = now + chrono::Duration::hours(1);
        let keys = JwtKeys::new(SECRET).unwrap().accepting(OLD, grace).unwrap();
        let token = keys
            .issue("acme", Role::Editor, "cli", Duration::from_secs(60))
            .unwrap();
        let first = keys.verify_at(Audience::Api, &token, now).unwrap();
        assert_eq!(keys.verified.0.lock().unwrap().len(), 1);
        // Remembered: the same identity, for this audience only.
        assert_eq!(keys.verify_at(Audience::Api, &token, now).unwrap(), first);
        assert!(keys.verify_at(Audience::Browser, &token, now).is_err());
        // Within the leeway after exp it is still good; past it, expired as in full.
        let exp = now + chrono::Duration::seconds(60 + LEEWAY_SECS as i64);
        assert!(keys.verify_at(Audience::Api, &token, exp).is_ok());
        assert_eq!(
            keys.verify_at(Audience::Api, &token, exp + chrono::Duration::seconds(2)),
            Err(JwtError::Expired)
        );
        // A token of a rotated-out key stops at the end of its grace period, remembered or not.
        let old = JwtKeys::new(OLD).unwrap();
        let token = old
            .issue("acme", Role::Viewer, "cli", Duration::from_secs(7200))
            .unwrap();
        assert!(keys.verify_at(Audience::Api, &token, now).is_ok());
        assert!(matches!(
            keys.verify_at(Audience::Api, &token, grace),
            Err(JwtError::Invalid(m)) if m.contains("grace period ended")
        ));
        // A forged token is never remembered as its genuine twin.
        let mut forged = token.clone().into_bytes();
        let at = forged.len() - 10; // inside the signature
        forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(keys.verify_at(Audience::Api, &forged, now).is_err());
    }
}
