//! The key pair every signing cloud uses, and the rule for half of one.

use std::fmt;

use crate::error::{Error, Result};
use crate::redact::Secret;

use super::chain::Attempt;

/// An access key pair, with the security token and expiry where its source
/// gives them; refreshable when a service hands out new ones.
#[derive(Clone)]
pub struct KeyPair {
    pub access: String,
    pub secret: Secret,
    pub token: Option<Secret>,
    /// Where they came from, for `-v` and `check` ("environment", "server role", …).
    pub source: &'static str,
    /// RFC 3339, for temporary keys.
    pub expires_at: Option<String>,
    /// A project id that came with them (a credentials file).
    pub project_id: Option<String>,
    /// Fetched from a service that hands out new ones (metadata, a role, an
    /// agency): worth fetching again after a 401 or at expiry.
    pub refreshable: bool,
}

impl KeyPair {
    pub fn new(access: impl Into<String>, secret: Secret, token: Option<Secret>) -> Self {
        KeyPair {
            access: access.into(),
            secret,
            token,
            source: "given",
            expires_at: None,
            project_id: None,
            refreshable: false,
        }
    }

    /// The same keys, said to come from `source`.
    pub fn from_source(mut self, source: &'static str) -> Self {
        self.source = source;
        self
    }

    pub fn access(&self) -> &str {
        &self.access
    }
    pub fn secret(&self) -> &str {
        self.secret.expose()
    }
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Secret::expose)
    }
    /// Whether it carries a security token (OTC's temporary keys, signed
    /// with `X-Security-Token`); keys with only an expiry (NCP's server role)
    /// are signed as static ones.
    pub fn is_temporary(&self) -> bool {
        self.token.is_some()
    }

    /// The access key with all but its first four characters hidden, for logs.
    pub fn access_hint(&self) -> String {
        let head: String = self.access.chars().take(4).collect();
        format!("{head}…")
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("access", &self.access_hint())
            .field("secret", &self.secret)
            .field("token", &self.token.as_ref().map(|_| "** redacted **"))
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A cloud's fixes for half a key pair from one source.
#[derive(Debug, Clone, Copy)]
pub struct PairHints {
    /// An access key without its secret.
    pub no_secret: &'static str,
    /// A secret without its access key.
    pub no_access: &'static str,
    /// A security token alone (for clouds whose keys take one).
    pub token_alone: &'static str,
}

/// Static keys from one source (`origin`: "flags", "environment"): both
/// halves or neither (not configured, "no {names}"); half a pair, or a token
/// without a pair, is a rejection naming the half missing there. Blank
/// halves count as not given; values are taken as given.
pub fn static_pair(
    access: Option<&str>,
    secret: Option<&Secret>,
    token: Option<&Secret>,
    origin: &'static str,
    names: &str,
    hints: &PairHints,
) -> Result<Attempt<KeyPair>> {
    let access = access.filter(|a| !a.trim().is_empty());
    let secret = secret.filter(|s| !s.expose().is_empty());
    match (access, secret) {
        (None, None) => {
            if token.is_some() {
                return Err(Error::rejected(
                    "credentials",
                    format!(
                        "a security token was given ({origin}) without access key and secret key"
                    ),
                )
                .hint(hints.token_alone));
            }
            Ok(Attempt::NotConfigured(format!("no {names}")))
        }
        (Some(_), None) => Err(Error::rejected(
            "credentials",
            format!("an access key was given ({origin}) but no secret key"),
        )
        .hint(hints.no_secret)),
        (None, Some(_)) => Err(Error::rejected(
            "credentials",
            format!("a secret key was given ({origin}) but no access key"),
        )
        .hint(hints.no_access)),
        (Some(ak), Some(sk)) => Ok(Attempt::Loaded(
            KeyPair::new(ak, sk.clone(), token.cloned()).from_source(origin),
        )),
    }
}
