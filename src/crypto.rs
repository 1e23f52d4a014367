//! Secrets at rest: AES-256-GCM under the master key, with the owner (e.g. the tenant) bound
//! as associated data so a ciphertext moved to another row or tenant fails to decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use std::fmt;

const NONCE_BYTES: usize = 12;

/// The key that seals stored secrets. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the sealed secret is damaged or belongs to someone else")]
    Unsealable,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        MasterKey(bytes)
    }

    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(MasterKey(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(self.0))
    }

    /// Encrypts `secret` for `owner`; the result is `nonce ‖ ciphertext ‖ tag`, base64.
    pub fn seal(&self, owner: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: owner.as_bytes(),
                },
            )
            // Encryption only fails for messages of gigabytes; a private key is tiny.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    /// Decrypts what `seal` produced for the same `owner`.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| CryptoError::Unsealable)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(CryptoError::Unsealable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Unsealable)?;
        self.cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_for_the_same_owner_only() {
        let key = MasterKey::generate();
        let sealed = key.seal("tenant/1", b"private-key");
        assert!(!sealed.contains("private-key"));
        assert_eq!(key.open("tenant/1", &sealed).unwrap(), b"private-key");
        assert_eq!(key.open("tenant/2", &sealed), Err(CryptoError::Unsealable));
        assert_eq!(
            MasterKey::generate().open("tenant/1", &sealed),
            Err(CryptoError::Unsealable)
        );
        // Any flipped bit is detected.
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            key.open("tenant/1", &STANDARD.encode(bytes)),
            Err(CryptoError::Unsealable)
        );
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(key.seal("tenant/1", b"x"), key.seal("tenant/1", b"x"));
    }

    #[test]
    fn keys_round_trip_and_are_masked() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.0, key.0);
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").err(),
            Some(CryptoError::BadKey)
        );
    }
}
