//! Credentials and the chain of sources that yields them.
//!
//! The chain is data: [`Source`]s tried in a fixed order — flags, environment,
//! credentials file, container identity, ECS metadata. A source that is not
//! configured passes to the next ([`Attempt::NotConfigured`], its reason kept
//! for the final message); one that is configured but fails stops the chain
//! with its error. A delegated agency ([`iam::Agency`]) is applied on top.

pub mod container;
pub mod file;
pub mod iam;
pub mod metadata;

use std::fmt;

use crate::error::{Error, Result};
use crate::http::{Transport, Url};
use crate::report::Report;

pub use crate::redact::Secret;

/// An access key pair, temporary when it carries a security token.
#[derive(Clone)]
pub struct Credentials {
    access: String,
    secret: Secret,
    token: Option<Secret>,
    /// Where they came from, for `-v` and `check` ("environment", "ECS agency", …).
    pub source: &'static str,
    pub expires_at: Option<String>,
    /// A project id that came with them (credentials file).
    pub project_id: Option<String>,
    /// Fetched from a service that hands out new ones (metadata, container, agency):
    /// worth fetching again after a 401.
    pub refreshable: bool,
}

impl Credentials {
    pub fn new(access: impl Into<String>, secret: Secret, token: Option<Secret>) -> Self {
        Credentials {
            access: access.into(),
            secret,
            token,
            source: "given",
            expires_at: None,
            project_id: None,
            refreshable: false,
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
    /// What the signer needs of them.
    pub fn key(&self) -> super::auth::Key<'_> {
        super::auth::Key {
            access: self.access(),
            secret: self.secret(),
            token: self.token(),
        }
    }

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

/// Static keys as given by flags or by the environment.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    pub access: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

/// Which sources `--credentials` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Static,
    File,
    Container,
    Metadata,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "static" => Some(Kind::Static),
            "file" => Some(Kind::File),
            "container" => Some(Kind::Container),
            "metadata" => Some(Kind::Metadata),
            _ => None,
        }
    }
}

/// One credential source of the chain.
#[derive(Debug, Clone)]
pub enum Source {
    /// `--ak/--sk/--token` on the command line.
    Flags(StaticKeys),
    /// `OS_ACCESS_KEY`, `OS_SECRET_KEY`/`OS_ACCESS_SECRET`, `OS_SECURITY_TOKEN`/`OS_ACCESS_TOKEN`.
    Env(StaticKeys),
    /// `--credentials-file`: `key = value` lines, owner-only.
    File(Option<std::path::PathBuf>),
    /// A container identity (CCE pod identity, OIDC workload identity).
    Container(Box<container::Config>),
    /// ECS metadata: the temporary credentials of the VM's agency.
    Metadata(Url),
}

impl Source {
    pub fn name(&self) -> &'static str {
        match self {
            Source::Flags(_) => "flags",
            Source::Env(_) => "environment",
            Source::File(_) => "credentials file",
            Source::Container(_) => "container identity",
            Source::Metadata(_) => "ECS metadata",
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Source::Flags(_) | Source::Env(_) => Kind::Static,
            Source::File(_) => Kind::File,
            Source::Container(_) => Kind::Container,
            Source::Metadata(_) => Kind::Metadata,
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
    /// Never a proxy, short timeouts: the link-local metadata service.
    pub metadata_transport: &'a dyn Transport,
    /// Cloud APIs (IAM, CCE): proxy and trust as configured.
    pub api_transport: &'a dyn Transport,
    pub report: &'a Report,
}

impl Source {
    /// Loads from this source; `Err` is a configured source that failed.
    pub fn load(&self, ctx: &Ctx<'_>) -> Result<Attempt> {
        match self {
            Source::Flags(keys) => load_static(keys, "flags", "--ak/--sk"),
            Source::Env(keys) => load_static(keys, "environment", "OS_ACCESS_KEY/OS_SECRET_KEY"),
            Source::File(None) => Ok(Attempt::NotConfigured(
                "no --credentials-file / OTC_CREDENTIALS_FILE".into(),
            )),
            Source::File(Some(path)) => file::load(path).map(Attempt::Loaded),
            Source::Container(cfg) => container::load(cfg, ctx),
            Source::Metadata(url) => {
                metadata::fetch(ctx.metadata_transport, url).map(Attempt::Loaded)
            }
        }
    }
}

fn load_static(keys: &StaticKeys, origin: &'static str, names: &str) -> Result<Attempt> {
    match (&keys.access, &keys.secret) {
        (None, None) => {
            if keys.token.is_some() {
                return Err(Error::rejected(
                    "credentials",
                    format!(
                        "a security token was given ({origin}) without access key and secret key"
                    ),
                )
                .hint(
                    "give the access and secret key too, or drop the token to use the ECS agency",
                ));
            }
            Ok(Attempt::NotConfigured(format!("no {names}")))
        }
        (Some(_), None) => Err(Error::rejected(
            "credentials",
            format!("an access key was given ({origin}) but no secret key"),
        )
        .hint("set OS_SECRET_KEY (or --sk), or unset OS_ACCESS_KEY to use the ECS agency")),
        (None, Some(_)) => Err(Error::rejected(
            "credentials",
            format!("a secret key was given ({origin}) but no access key"),
        )
        .hint("set OS_ACCESS_KEY (or --ak)")),
        (Some(ak), Some(sk)) => {
            let mut c = Credentials::new(ak.clone(), sk.clone(), keys.token.clone());
            c.source = origin;
            Ok(Attempt::Loaded(c))
        }
    }
}

/// Tries each source in order (only those of kind `only`, when forced); the
/// first that loads wins.
pub fn resolve(chain: &[Source], only: Option<Kind>, ctx: &Ctx<'_>) -> Result<Credentials> {
    let mut skipped = Vec::new();
    for source in chain {
        if only.is_some_and(|k| k != source.kind()) {
            continue;
        }
        let attempt = match source.load(ctx) {
            Ok(a) => a,
            // The metadata service is the chain's last resort: when it fails too, say why
            // every source before it was passed over.
            Err(mut e) if matches!(source, Source::Metadata(_)) && !skipped.is_empty() => {
                e.cause = format!(
                    "no credential source answered ({}; ECS metadata: {})",
                    skipped.join("; "),
                    e.cause
                );
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        match attempt {
            Attempt::Loaded(c) => {
                ctx.report
                    .verbose(format!("credentials: {} answered", source.name()));
                return Ok(c);
            }
            Attempt::NotConfigured(why) => {
                ctx.report
                    .verbose(format!("credentials: {} skipped ({why})", source.name()));
                skipped.push(format!("{}: {why}", source.name()));
            }
        }
    }
    if only.is_some() {
        return Err(Error::rejected(
            "credentials",
            format!(
                "the source forced by --credentials is not configured ({})",
                skipped.join("; ")
            ),
        )
        .hint("configure it, or drop --credentials / OTC_CREDENTIALS"));
    }
    Err(Error::failed(
        "credentials",
        format!("no credential source answered ({})", skipped.join("; ")),
    )
    .hint("attach an IAM agency with the DNS Administrator role to this ECS, or give keys in a credentials file of mode 600 (--credentials-file), or set OS_ACCESS_KEY and OS_SECRET_KEY"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Response, TransportError};
    use crate::report::Level;

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
        }
    }

    fn with_ctx<T>(f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        f(&Ctx {
            metadata_transport: &NoNet,
            api_transport: &NoNet,
            report: &report,
        })
    }

    #[test]
    fn flags_win_over_environment_and_skip_metadata() {
        let chain = [
            Source::Flags(keys(Some("AKF"), Some("SKF"), None)),
            Source::Env(keys(Some("AK1"), Some("SK1"), Some("TOK"))),
            Source::Metadata(Url::parse("http://127.0.0.1:9/x").unwrap()),
        ];
        let c = with_ctx(|ctx| resolve(&chain, None, ctx)).unwrap();
        assert_eq!((c.access(), c.source), ("AKF", "flags"));
        let c = with_ctx(|ctx| resolve(&chain[1..], None, ctx)).unwrap();
        assert_eq!(
            (c.access(), c.token(), c.source),
            ("AK1", Some("TOK"), "environment")
        );
        assert!(!c.refreshable);
    }

    #[test]
    fn half_configured_static_is_rejected() {
        let e = with_ctx(|ctx| resolve(&[Source::Env(keys(Some("AK"), None, None))], None, ctx))
            .unwrap_err();
        assert_eq!(e.exit.code(), 2);
        let e = with_ctx(|ctx| resolve(&[Source::Env(keys(None, None, Some("T")))], None, ctx))
            .unwrap_err();
        assert_eq!(e.exit.code(), 2);
    }

    #[test]
    fn nothing_configured_lists_why_each_source_was_skipped() {
        let chain = [
            Source::Flags(StaticKeys::default()),
            Source::Env(StaticKeys::default()),
            Source::File(None),
            Source::Container(Box::default()),
        ];
        let e = with_ctx(|ctx| resolve(&chain, None, ctx))
            .unwrap_err()
            .to_string();
        for part in [
            "flags: no --ak/--sk",
            "environment: no OS_ACCESS_KEY",
            "credentials file: no --credentials-file",
            "container identity: ",
        ] {
            assert!(e.contains(part), "{e}");
        }
    }

    #[test]
    fn forcing_a_source_skips_the_others() {
        let chain = [
            Source::Env(keys(Some("AK1"), Some("SK1"), None)),
            Source::File(None),
        ];
        let e = with_ctx(|ctx| resolve(&chain, Some(Kind::File), ctx)).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("forced by --credentials"), "{e}");
        let c = with_ctx(|ctx| resolve(&chain, Some(Kind::Static), ctx)).unwrap();
        assert_eq!(c.access(), "AK1");
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
