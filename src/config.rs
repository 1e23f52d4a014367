//! One typed configuration, from flags and `BILLBRIDGE_*` environment variables. Secrets
//! are masked in `Debug`.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::auth::jwt::MIN_SECRET_BYTES;
use crate::crypto::MasterKey;

/// Bytes that must never reach a log line.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(***, {} bytes)", self.0.len())
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Secret,
    /// A secret rotated out, accepted until the given time.
    pub previous_jwt_secret: Option<(Secret, DateTime<Utc>)>,
    /// Where browsers reach this server; links in webhook events start with it.
    pub public_url: String,
    /// Production refuses generated secrets and defaults that only suit a laptop.
    pub production: bool,
}

/// The server's public base URL: `BILLBRIDGE_PUBLIC_URL` (http or https, a host, no query),
/// or else `http://{listen}`. Without a trailing slash, so paths can be appended.
pub fn public_url(from_env: Option<String>, listen: SocketAddr) -> anyhow::Result<String> {
    let Some(text) = from_env else {
        return Ok(format!("http://{listen}"));
    };
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("BILLBRIDGE_PUBLIC_URL {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || url.query().is_some()
        || url.fragment().is_some()
    {
        bail!(
            "BILLBRIDGE_PUBLIC_URL {text:?}: give the http(s) address browsers use, e.g. https://billing.example.com"
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The default database: a SQLite file in the data folder.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("billbridge.db").display())
}

/// The JWT secret from `BILLBRIDGE_JWT_SECRET`; outside production, when it is unset, one
/// generated once and kept in the data folder so that `serve` and `token` agree.
pub fn jwt_secret(
    from_env: Option<String>,
    data_dir: &Path,
    production: bool,
) -> anyhow::Result<Secret> {
    if let Some(secret) = from_env {
        if secret.len() < MIN_SECRET_BYTES {
            bail!(
                "BILLBRIDGE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (256 bits); it has {}",
                secret.len()
            );
        }
        return Ok(Secret::new(secret.into_bytes()));
    }
    if production {
        bail!(
            "BILLBRIDGE_JWT_SECRET is required in production (at least {MIN_SECRET_BYTES} bytes)"
        );
    }
    let path = data_dir.join("jwt-secret");
    if path.exists() {
        let secret = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if secret.len() < MIN_SECRET_BYTES {
            bail!(
                "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes; delete it to generate a new one",
                path.display()
            );
        }
        return Ok(Secret::new(secret));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: Vec<u8> = bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes();
    write_private(&path, &secret)?;
    tracing::info!(path = %path.display(), "generated a JWT secret for this machine");
    Ok(Secret::new(secret))
}

/// The JWT secret rotated out (`BILLBRIDGE_JWT_PREVIOUS_SECRET`) and the end of its grace
/// period (`BILLBRIDGE_JWT_PREVIOUS_UNTIL`, RFC 3339): tokens it signed are accepted until
/// then. Both or neither must be set.
pub fn previous_jwt_secret(
    secret: Option<String>,
    until: Option<String>,
) -> anyhow::Result<Option<(Secret, DateTime<Utc>)>> {
    match (secret, until) {
        (None, None) => Ok(None),
        (Some(_), None) => bail!(
            "BILLBRIDGE_JWT_PREVIOUS_SECRET needs BILLBRIDGE_JWT_PREVIOUS_UNTIL: the end of its grace period, e.g. 2026-12-01T00:00:00Z"
        ),
        (None, Some(_)) => {
            bail!("BILLBRIDGE_JWT_PREVIOUS_UNTIL is set without BILLBRIDGE_JWT_PREVIOUS_SECRET")
        }
        (Some(secret), Some(until)) => {
            if secret.len() < MIN_SECRET_BYTES {
                bail!(
                    "BILLBRIDGE_JWT_PREVIOUS_SECRET must be at least {MIN_SECRET_BYTES} bytes; it has {}",
                    secret.len()
                );
            }
            let until = DateTime::parse_from_rfc3339(until.trim())
                .with_context(|| {
                    format!("BILLBRIDGE_JWT_PREVIOUS_UNTIL {until:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z")
                })?
                .with_timezone(&Utc);
            Ok(Some((Secret::new(secret.into_bytes()), until)))
        }
    }
}

/// The key that seals stored ConnectWise private keys: `BILLBRIDGE_MASTER_KEY` (32 bytes,
/// base64); outside production, when unset, one generated once and kept in the data folder.
pub fn master_key(
    from_env: Option<String>,
    data_dir: &Path,
    production: bool,
) -> anyhow::Result<MasterKey> {
    if let Some(text) = from_env {
        return MasterKey::from_base64(&text).map_err(|e| {
            anyhow::anyhow!(
                "BILLBRIDGE_MASTER_KEY: {e} (generate one with `openssl rand -base64 32`)"
            )
        });
    }
    if production {
        bail!(
            "BILLBRIDGE_MASTER_KEY is required in production (32 bytes, base64: `openssl rand -base64 32`)"
        );
    }
    let path = data_dir.join("master-key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let key = MasterKey::generate();
    write_private(&path, key.to_base64().as_bytes())?;
    tracing::info!(path = %path.display(), "generated a master key for this machine");
    Ok(key)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let s = Secret::new(b"super-secret".to_vec());
        assert_eq!(format!("{s:?}"), "Secret(***, 12 bytes)");
    }

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = jwt_secret(None, dir.path(), false).unwrap();
        let second = jwt_secret(None, dir.path(), false).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert!(first.expose().len() >= MIN_SECRET_BYTES);
    }

    #[test]
    fn master_key_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = master_key(None, dir.path(), false).unwrap();
        let second = master_key(None, dir.path(), false).unwrap();
        assert_eq!(first.to_base64(), second.to_base64());
        assert!(
            master_key(None, dir.path(), true).is_err(),
            "required in production"
        );
        assert!(master_key(Some("short".into()), dir.path(), false).is_err());
    }

    #[test]
    fn public_urls() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(public_url(None, listen).unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            public_url(Some("https://billing.example.com/".into()), listen).unwrap(),
            "https://billing.example.com"
        );
        assert_eq!(
            public_url(Some("https://example.com/billbridge/".into()), listen).unwrap(),
            "https://example.com/billbridge"
        );
        for bad in [
            "billing.example.com",
            "ftp://example.com",
            "https://x.example/?a=1",
        ] {
            assert!(public_url(Some(bad.into()), listen).is_err(), "{bad}");
        }
    }

    #[test]
    fn previous_secret_needs_its_grace_period() {
        let secret = || Some("p".repeat(32));
        assert!(previous_jwt_secret(None, None).unwrap().is_none());
        let (_, until) = previous_jwt_secret(secret(), Some("2026-12-01T00:00:00Z".into()))
            .unwrap()
            .unwrap();
        assert_eq!(until.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        for (s, u, says) in [
            (secret(), None, "needs BILLBRIDGE_JWT_PREVIOUS_UNTIL"),
            (None, Some("2026-12-01T00:00:00Z".into()), "without"),
            (secret(), Some("next week".into()), "RFC 3339"),
            (
                Some("short".into()),
                Some("2026-12-01T00:00:00Z".into()),
                "32 bytes",
            ),
        ] {
            let err = previous_jwt_secret(s, u).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{err:#}");
        }
    }

    #[test]
    fn weak_or_missing_secrets_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = jwt_secret(Some("short".into()), dir.path(), false).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
        let err = jwt_secret(None, dir.path(), true).unwrap_err();
        assert!(err.to_string().contains("required in production"), "{err}");
    }
}
