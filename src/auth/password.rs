//! Passwords: argon2id (PHC strings), and the rules a new password must meet.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::AppError;

pub(crate) const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Checks a new password; the error names the field.
pub fn check(field: &str, password: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(AppError::bad_input(
            field,
            format!("must be at least {MIN_LENGTH} characters (a passphrase is best)"),
        ));
    }
    if length > MAX_LENGTH {
        return Err(AppError::bad_input(
            field,
            format!("is {length} characters long; at most {MAX_LENGTH} are accepted"),
        ));
    }
    Ok(())
}

/// Checks a new password given as `field` (see [`check`]) and hashes it (see [`hash`]).
pub fn new_hash(field: &str, password: &str) -> Result<String, AppError> {
    check(field, password)?;
    hash(password)
}

/// The argon2id hash of `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal("hashing a password", e))
}

/// Whether `password` matches `stored`. A malformed stored hash matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(hash("correct horse battery").unwrap(), stored, "fresh salt");
    }

    #[test]
    fn rules() {
        assert!(check("password", "short").is_err());
        assert!(check("password", "twelve chars").is_ok());
        assert!(check("password", &"x".repeat(300)).is_err());
    }
}
