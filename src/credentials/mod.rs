//! Credentials and the chain of sources that yields them.
//!
//! The chain is data: [`Source`]s tried in a fixed order. A source that is
//! not configured passes to the next ([`Attempt::NotConfigured`]); one that
//! is configured but fails stops the chain with its error.

pub mod metadata;

use std::fmt;

use crate::error::{Error, Result};
use crate::http::{Transport, Url};

/// A string that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// An access key pair, temporary when it carries a security token.
#[derive(Clone)]
pub struct Credentials {
    access: String,
    secret: Secret,
    token: Option<Secret>,
    /// Where they came from, for `-v` and `check` ("environment", "ECS metadata", …).
    pub source: &'static str,
    pub expires_at: Option<String>,
}

impl Credentials {
    pub fn new(access: impl Into<String>, secret: Secret, token: Option<Secret>) -> Self {
        Credentials {
            access: access.into(),
            secret,
            token,
            source: "given",
            expires_at: None,
        }
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
    pub fn is_temporary(&self) -> bool {
        self.token.is_some()
    }
    /// The access key with all but its first four characters hidden, for logs.
    pub fn access_hint(&self) -> String {
        let head: String = self.access.chars().take(4).collect();
        format!("{head}…")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access", &self.access_hint())
            .field("secret", &self.secret)
            .field("token", &self.token.as_ref().map(|_| "** redacted **"))
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Static keys as given by flags or environment (already resolved).
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    pub access: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
    /// "flags" or "environment": said under `-v` and by `check`.
    pub origin: &'static str,
}

/// One credential source of the chain.
#[derive(Debug, Clone)]
pub enum Source {
    Static(StaticKeys),
    /// ECS metadata: the temporary credentials of the VM's agency.
    Metadata(Url),
}

impl Source {
    pub fn name(&self) -> &'static str {
        match self {
            Source::Static(_) => "static keys",
            Source::Metadata(_) => "ECS metadata",
        }
    }
}

/// What one source did.
pub enum Attempt {
    Loaded(Credentials),
    /// Not configured: the chain goes on; the reason is kept for the final message.
    NotConfigured(String),
}

/// Side effects the sources need, injected.
pub struct Ctx<'a> {
    /// A transport that never uses a proxy, with short timeouts.
    pub metadata_transport: &'a dyn Transport,
}

impl Source {
    /// Loads from this source; `Err` is a configured source that failed.
    pub fn load(&self, ctx: &Ctx<'_>) -> Result<Attempt> {
        match self {
            Source::Static(keys) => load_static(keys),
            Source::Metadata(url) => {
                metadata::fetch(ctx.metadata_transport, url).map(Attempt::Loaded)
            }
        }
    }
}

fn load_static(keys: &StaticKeys) -> Result<Attempt> {
    match (&keys.access, &keys.secret) {
        (None, None) => {
            if keys.token.is_some() {
                return Err(Error::rejected(
                    "credentials",
                    "a security token was given without access key and secret key",
                )
                .hint("set OS_ACCESS_KEY and OS_SECRET_KEY too, or drop OS_SECURITY_TOKEN to use the ECS agency"));
            }
            Ok(Attempt::NotConfigured(
                "no --ak/--sk and no OS_ACCESS_KEY/OS_SECRET_KEY".into(),
            ))
        }
        (Some(_), None) => Err(Error::rejected(
            "credentials",
            format!(
                "an access key was given ({}) but no secret key",
                keys.origin
            ),
        )
        .hint("set OS_SECRET_KEY (or --sk), or unset OS_ACCESS_KEY to use the ECS agency")),
        (None, Some(_)) => Err(Error::rejected(
            "credentials",
            format!("a secret key was given ({}) but no access key", keys.origin),
        )
        .hint("set OS_ACCESS_KEY (or --ak)")),
        (Some(ak), Some(sk)) => {
            let mut c = Credentials::new(ak.clone(), sk.clone(), keys.token.clone());
            c.source = keys.origin;
            Ok(Attempt::Loaded(c))
        }
    }
}

/// Tries each source in order; the first that loads wins.
pub fn resolve(chain: &[Source], ctx: &Ctx<'_>) -> Result<Credentials> {
    let mut skipped = Vec::new();
    for source in chain {
        match source.load(ctx)? {
            Attempt::Loaded(c) => return Ok(c),
            Attempt::NotConfigured(why) => skipped.push(format!("{}: {why}", source.name())),
        }
    }
    Err(Error::failed(
        "credentials",
        format!("no credential source answered ({})", skipped.join("; ")),
    )
    .hint("attach an IAM agency with the DNS Administrator role to this ECS, or set OS_ACCESS_KEY and OS_SECRET_KEY"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Response, TransportError};

    struct NoNet;
    impl Transport for NoNet {
        fn send(
            &self,
            _: &str,
            _: &str,
            _: &[(String, String)],
            _: &[u8],
        ) -> std::result::Result<Response, TransportError> {
            panic!("static keys must not touch the network")
        }
    }

    fn keys(ak: Option<&str>, sk: Option<&str>, tok: Option<&str>) -> StaticKeys {
        StaticKeys {
            access: ak.map(str::to_string),
            secret: sk.map(Secret::new),
            token: tok.map(Secret::new),
            origin: "environment",
        }
    }

    #[test]
    fn static_keys_win_and_skip_metadata() {
        let chain = [
            Source::Static(keys(Some("AK1"), Some("SK1"), Some("TOK"))),
            Source::Metadata(Url::parse("http://127.0.0.1:9/x").unwrap()),
        ];
        let c = resolve(
            &chain,
            &Ctx {
                metadata_transport: &NoNet,
            },
        )
        .unwrap();
        assert_eq!(c.access(), "AK1");
        assert_eq!(c.token(), Some("TOK"));
        assert_eq!(c.source, "environment");
    }

    #[test]
    fn half_configured_static_is_rejected() {
        let ctx = Ctx {
            metadata_transport: &NoNet,
        };
        let e = resolve(&[Source::Static(keys(Some("AK"), None, None))], &ctx).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        let e = resolve(&[Source::Static(keys(None, None, Some("T")))], &ctx).unwrap_err();
        assert_eq!(e.exit.code(), 2);
    }

    #[test]
    fn nothing_configured_lists_why() {
        let ctx = Ctx {
            metadata_transport: &NoNet,
        };
        let e = resolve(&[Source::Static(keys(None, None, None))], &ctx).unwrap_err();
        assert!(e.to_string().contains("static keys: no --ak/--sk"), "{e}");
    }

    #[test]
    fn debug_redacts() {
        let c = Credentials::new(
            "AKIDEXAMPLE",
            Secret::new("TOPSECRET"),
            Some(Secret::new("TOKENVALUE")),
        );
        let d = format!("{c:?}");
        assert!(
            !d.contains("TOPSECRET") && !d.contains("TOKENVALUE") && !d.contains("AKIDEXAMPLE"),
            "{d}"
        );
    }
}
