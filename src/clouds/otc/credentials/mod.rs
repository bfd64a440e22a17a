//! OTC's credential sources, in the order the shared chain
//! ([`crate::credentials`]) tries them at connect: flags, environment,
//! credentials file (local), container identity, ECS metadata (network). A
//! delegated agency ([`iam::Agency`]) is applied on top.

pub mod container;
pub mod file;
pub mod iam;
pub mod metadata;

use std::path::PathBuf;
use std::sync::Arc;

use crate::credentials::{Attempt, Chain, Kinds, NoneAnswered, PairHints, Source, static_pair};
use crate::error::{Exit, Result};
use crate::http::{Transport, Url};
use crate::report::Report;

pub use crate::redact::Secret;

/// An access key pair, temporary when it carries a security token.
pub type Credentials = crate::credentials::KeyPair;

/// What the signer needs of them.
pub fn key(c: &Credentials) -> super::auth::Key<'_> {
    super::auth::Key {
        access: c.access(),
        secret: c.secret(),
        token: c.token(),
    }
}

/// Static keys as given by flags or by the environment.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    pub access: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

/// The values `--credentials` takes here.
pub const KINDS: Kinds = Kinds {
    cloud: "OTC",
    values: &["static", "file", "container", "metadata"],
};

/// Side effects the network sources need, given at first use.
pub struct Ctx {
    /// Never a proxy, short timeouts: the link-local metadata service.
    pub metadata_transport: Arc<dyn Transport>,
    /// Cloud APIs (IAM, CCE): proxy and trust as configured.
    pub api_transport: Arc<dyn Transport>,
    pub report: Arc<Report>,
}

/// Where each source looks.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `--ak/--sk/--token` on the command line.
    pub flags: StaticKeys,
    /// `OS_ACCESS_KEY`, `OS_SECRET_KEY`/`OS_ACCESS_SECRET`, `OS_SECURITY_TOKEN`/`OS_ACCESS_TOKEN`.
    pub env: StaticKeys,
    /// `--credentials-file`: `key = value` lines, owner-only.
    pub file: Option<PathBuf>,
    /// A container identity (CCE pod identity, OIDC workload identity).
    pub container: container::Config,
    /// ECS metadata: the temporary credentials of the VM's agency.
    pub metadata: Option<Url>,
}

const HINTS_FLAGS_AND_ENV: PairHints = PairHints {
    no_secret: "set OS_SECRET_KEY (or --sk), or unset OS_ACCESS_KEY to use the ECS agency",
    no_access: "set OS_ACCESS_KEY (or --ak)",
    token_alone: "give the access and secret key too, or drop the token to use the ECS agency",
};

fn keys(k: &StaticKeys, origin: &'static str, names: &str) -> Result<Attempt<Credentials>> {
    static_pair(
        k.access.as_deref(),
        k.secret.as_ref(),
        k.token.as_ref(),
        origin,
        names,
        &HINTS_FLAGS_AND_ENV,
    )
}

/// OTC's chain: its sources in order, `only` the `--credentials` filter.
pub fn chain(g: Inputs, only: Option<&'static str>) -> Chain<Credentials, Ctx> {
    let Inputs {
        flags,
        env,
        file,
        container,
        metadata,
    } = g;
    let mut sources = vec![
        Source::local("flags", "static", move || {
            keys(&flags, "flags", "--ak/--sk")
        }),
        Source::local("environment", "static", move || {
            keys(&env, "environment", "OS_ACCESS_KEY/OS_SECRET_KEY")
        }),
        Source::local("credentials file", "file", move || match &file {
            None => Ok(Attempt::NotConfigured(
                "no --credentials-file / OTC_CREDENTIALS_FILE".into(),
            )),
            Some(path) => file::load(path).map(Attempt::Loaded),
        }),
        Source::network("container identity", "container", move |ctx: &Ctx| {
            container::load(&container, ctx)
        }),
    ];
    if let Some(url) = metadata {
        sources.push(
            Source::network("ECS metadata", "metadata", move |ctx: &Ctx| {
                metadata::fetch(ctx.metadata_transport.as_ref(), &url).map(Attempt::Loaded)
            })
            .last_resort(),
        );
    }
    Chain {
        sources,
        only,
        none: NoneAnswered {
            what: "no credential source answered",
            exit: Exit::Failed,
            hint: "attach an IAM agency with the DNS Administrator role to this ECS, or give keys in a credentials file of mode 600 (--credentials-file), or set OS_ACCESS_KEY and OS_SECRET_KEY",
        },
    }
}

/// OTC's chain, built at setup, resolved at connect (and again to refresh).
pub type OtcChain = Chain<Credentials, Ctx>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Resolved;
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

    /// The chain over `g`, at setup and at first use, with no network.
    fn resolve(g: Inputs, only: Option<&'static str>) -> Result<Resolved<Credentials>> {
        let ctx = Ctx {
            metadata_transport: Arc::new(NoNet),
            api_transport: Arc::new(NoNet),
            report: Arc::new(Report::new(Level::Quiet, Box::new(std::io::sink()))),
        };
        chain(g, only).resolve(&ctx, &|_| {})
    }

    fn metadata() -> Option<Url> {
        Some(Url::parse("http://127.0.0.1:9/x").unwrap())
    }

    #[test]
    fn flags_win_over_environment_and_skip_metadata() {
        let env = keys(Some("AK1"), Some("SK1"), Some("TOK"));
        let g = Inputs {
            flags: keys(Some("AKF"), Some("SKF"), None),
            env: env.clone(),
            metadata: metadata(),
            ..Inputs::default()
        };
        let c = resolve(g, None).unwrap().value;
        assert_eq!((c.access(), c.source), ("AKF", "flags"));
        let g = Inputs {
            env,
            metadata: metadata(),
            ..Inputs::default()
        };
        let c = resolve(g, None).unwrap().value;
        assert_eq!(
            (c.access(), c.token(), c.source),
            ("AK1", Some("TOK"), "environment")
        );
        assert!(!c.refreshable);
    }

    #[test]
    fn half_configured_static_is_rejected() {
        for env in [keys(Some("AK"), None, None), keys(None, None, Some("T"))] {
            let g = Inputs {
                env,
                metadata: metadata(),
                ..Inputs::default()
            };
            // Before any network source (NoNet would panic).
            let e = resolve(g, None).unwrap_err();
            assert_eq!(e.exit.code(), 2);
        }
    }

    #[test]
    fn nothing_configured_lists_why_each_source_was_skipped() {
        let e = resolve(Inputs::default(), None).unwrap_err().to_string();
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
        let g = || Inputs {
            env: keys(Some("AK1"), Some("SK1"), None),
            ..Inputs::default()
        };
        let e = resolve(g(), KINDS.only(Some("file")).unwrap()).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("forced by --credentials"), "{e}");
        let c = resolve(g(), KINDS.only(Some("static")).unwrap())
            .unwrap()
            .value;
        assert_eq!(c.access(), "AK1");
    }

    #[test]
    fn sources_in_order_local_first() {
        let c = chain(
            Inputs {
                metadata: metadata(),
                ..Inputs::default()
            },
            None,
        );
        let names: Vec<_> = c.sources.iter().map(|s| (s.name, s.network)).collect();
        assert_eq!(
            names,
            [
                ("flags", false),
                ("environment", false),
                ("credentials file", false),
                ("container identity", true),
                ("ECS metadata", true)
            ]
        );
        assert!(c.local_first());
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
