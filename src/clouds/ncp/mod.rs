//! NAVER Cloud Platform (NCP): Global DNS v1 behind the cloud seam, signed
//! with API Gateway signature v2, with keys from flags, environment, a file or
//! the server role of the instance metadata.
//!
//! - [`auth`]: the signature (pure) and a standard base64 encoder.
//! - [`credentials`]: the chain of sources, over injected env, files and server role.
//! - [`metadata`]: the server role's temporary keys (metadata v2, v1 fallback).
//! - [`dns`]: [`dns::NcpDns`], the [`crate::cloud_api::DnsApi`] over an injected sender.
//! - [`config`]: [`config::NcpConfig`] from the shared flags (`--cloud ncp`).
//! - [`connect`]: [`connect::NcpConnection`], the shared client signing with [`connect::NcpAuth`].
//!
//! Every NCP default is defined once here, and the cloud's descriptor,
//! [`CLOUD`]: what the registry ([`crate::clouds`]) and `--help` know of it.

pub mod auth;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod dns;
pub mod errors;
pub mod flags;
pub mod metadata;
pub mod types;

use std::fmt;
use std::sync::Arc;

use clap::{ArgMatches, Args};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Cloud, CloudConfig, CloudInput, Connection};
use crate::report::Report;

pub const CLOUD: Cloud = Cloud {
    names: flags::CLOUDS,
    flags: flags::NcpArgs::augment_args,
    configure,
    env_read_by_hand: &config::ENV_READ_BY_HAND,
    env_read_by_hand_what: config::ENV_READ_BY_HAND_WHAT,
    secret_variables: &config::SECRET_VARIABLES,
    aliases: &config::ALIASES,
    reads_key_variables: false,
    owns_variable: |name| name.starts_with("NCLOUD_"),
    temporary_variables: &[],
    region_help: &[("ncp", "pub (or gov)")],
    region_note: "",
    dns_endpoint_help: &[("ncp", DNS_ENDPOINT_PUB)],
    metadata_url_help: &[("ncp", DEFAULT_METADATA_URL)],
    credentials_help: "--ak/--sk; NCLOUD_ACCESS_KEY_ID / NCLOUD_SECRET_ACCESS_KEY; \
        --credentials-file or ~/.ncloud/configure; the server role from the instance metadata.",
};

fn configure(
    input: &CloudInput,
    _own_flags: &ArgMatches,
) -> crate::error::Result<(Box<dyn CloudConfig>, Vec<String>)> {
    let mut warnings = Vec::new();
    if input.flag_keys.secret.is_some() {
        warnings.push(config::command_line_secret_warning("--sk"));
    }
    Ok((Box::new(config::configure(input)?), warnings))
}

impl CloudConfig for config::NcpConfig {
    fn dns_endpoint(&self) -> &crate::http::Url {
        &self.settings.dns_base
    }
    fn connect(
        &self,
        net: &Net,
        clock: Arc<dyn Clock>,
        report: &Arc<Report>,
    ) -> crate::error::Result<Box<dyn Connection>> {
        Ok(Box::new(connect::connect(self, net, clock, report)?))
    }
}

/// `--region` when none is given.
pub const DEFAULT_REGION: Region = Region::Pub;
/// Global DNS v1 base of the public region (including `/dns/v1`, which is signed).
pub const DNS_ENDPOINT_PUB: &str = "https://globaldns.apigw.ntruss.com/dns/v1";
/// Global DNS v1 base of the government region.
pub const DNS_ENDPOINT_GOV: &str = "https://globaldns.apigw.gov-ntruss.com/dns/v1";
/// Where the server role's temporary keys are read (`--metadata-url` default for NCP).
pub const DEFAULT_METADATA_URL: &str =
    "http://169.254.169.254/latest/meta-data/iam/security-credentials";
/// Global DNS's authoritative nameservers, used when neither the API nor an NS
/// lookup names them.
pub const NAMESERVERS: [&str; 2] = ["ns1-1.ns-ncloud.com", "ns1-2.ns-ncloud.com"];
/// The NCP CLI's credentials file, relative to the home directory.
pub const NCLOUD_CONFIGURE: &str = ".ncloud/configure";

/// NCP's sites: `pub` (public) or `gov`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Pub,
    Gov,
}

impl Region {
    /// `pub` or `gov` (case-insensitive); anything else is a message naming both.
    pub fn parse(s: &str) -> Result<Region, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pub" => Ok(Region::Pub),
            "gov" => Ok(Region::Gov),
            other => Err(format!(
                "unknown NCP region {other:?} (pub or gov; --region / OTC_REGION)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Pub => "pub",
            Region::Gov => "gov",
        }
    }

    /// The region's Global DNS v1 base.
    pub fn dns_endpoint(self) -> &'static str {
        match self {
            Region::Pub => DNS_ENDPOINT_PUB,
            Region::Gov => DNS_ENDPOINT_GOV,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Region and Global DNS base as configured: `--region` (default `pub`), and
/// `--dns-endpoint` (the base including `/dns/v1`) overriding the region's.
/// Errors are rejections (exit 2): nothing was sent yet.
pub fn resolve_endpoint(
    region: Option<&str>,
    dns_endpoint: Option<&str>,
) -> crate::error::Result<(Region, crate::http::Url)> {
    use crate::error::Error;
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => DEFAULT_REGION,
        Some(r) => Region::parse(r).map_err(|m| Error::rejected("config", m))?,
    };
    let raw = dns_endpoint
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .unwrap_or(region.dns_endpoint());
    let url = crate::http::Url::parse(raw.trim_end_matches('/'))
        .map_err(|m| Error::rejected("config", format!("--dns-endpoint: {m}")))?;
    if url.query.is_some() {
        return Err(Error::rejected(
            "config",
            "--dns-endpoint must not carry a query (give the base, e.g. https://globaldns.apigw.ntruss.com/dns/v1)",
        ));
    }
    url.require_tls_unless_loopback("DNS endpoint")
        .map_err(|m| Error::rejected("config", m))?;
    Ok((region, url))
}

/// The server role's metadata URL: `--metadata-url` / `OTC_METADATA_URL`
/// when given, else [`DEFAULT_METADATA_URL`]. A bad URL is a rejection.
pub fn resolve_metadata_url(given: Option<&str>) -> crate::error::Result<crate::http::Url> {
    let raw = given
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(DEFAULT_METADATA_URL);
    crate::http::Url::parse(raw)
        .map_err(|m| crate::error::Error::rejected("config", format!("--metadata-url: {m}")))
}

/// What NCP takes from the shared flags, checked before any network call.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: Region,
    /// The Global DNS base, `/dns/v1` included.
    pub dns_base: crate::http::Url,
    pub metadata_url: crate::http::Url,
    pub credentials: credentials::Inputs,
}

/// The shared flags' values as given (flag or variable; `None` when unset).
#[derive(Debug, Clone, Default)]
pub struct Given<'a> {
    pub region: Option<&'a str>,
    pub dns_endpoint: Option<&'a str>,
    pub metadata_url: Option<&'a str>,
    pub ak: Option<&'a str>,
    pub sk: Option<&'a str>,
    /// `--token`: NCP keys have none, so giving one is a mistake.
    pub token: Option<&'a str>,
    pub credentials_file: Option<&'a std::path::Path>,
    /// `--credentials`
    pub credentials: Option<&'a str>,
}

impl Settings {
    /// Resolves and checks everything; errors are rejections (exit 2).
    pub fn resolve(g: &Given<'_>) -> crate::error::Result<Settings> {
        use crate::error::Error;
        let (region, dns_base) = resolve_endpoint(g.region, g.dns_endpoint)?;
        let metadata_url = resolve_metadata_url(g.metadata_url)?;
        if g.token.is_some_and(|t| !t.is_empty()) {
            return Err(Error::rejected(
                "credentials",
                "NCP keys take no security token (--token)",
            )
            .hint("drop --token; give --ak and --sk, or use the server role"));
        }
        let only = match g.credentials.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(credentials::SourceKind::parse(c).ok_or_else(|| {
                Error::rejected(
                    "config",
                    format!(
                        "--credentials {c:?} is not one of NCP's sources (static, file, metadata)"
                    ),
                )
            })?),
        };
        Ok(Settings {
            region,
            dns_base,
            metadata_url,
            credentials: credentials::Inputs {
                ak: g.ak.map(str::to_string),
                sk: g.sk.map(Secret::new),
                credentials_file: g.credentials_file.map(std::path::Path::to_path_buf),
                only,
            },
        })
    }
}

pub use crate::redact::Secret;

/// An NCP access key pair (an API key, or a server role's temporary one).
#[derive(Clone)]
pub struct Keys {
    pub access: String,
    pub secret: Secret,
    /// Where they came from, for `-v` and `check` ("flags", "server role", …).
    pub source: &'static str,
    /// RFC 3339, for temporary keys.
    pub expires_at: Option<String>,
    /// From a service that hands out new ones (the server role): worth
    /// fetching again after a 401.
    pub refreshable: bool,
}

impl Keys {
    pub fn new(access: impl Into<String>, secret: Secret, source: &'static str) -> Keys {
        Keys {
            access: access.into(),
            secret,
            source,
            expires_at: None,
            refreshable: false,
        }
    }

    /// The access key with all but its first four characters hidden, for logs.
    pub fn access_hint(&self) -> String {
        let head: String = self.access.chars().take(4).collect();
        format!("{head}…")
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("access", &self.access_hint())
            .field("secret", &self.secret)
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_endpoints() {
        let (r, u) = resolve_endpoint(None, None).unwrap();
        assert_eq!(r, Region::Pub);
        assert_eq!(u.origin(), "https://globaldns.apigw.ntruss.com");
        assert_eq!(u.path, "/dns/v1");
        let (r, u) = resolve_endpoint(Some("GOV"), None).unwrap();
        assert_eq!(r, Region::Gov);
        assert_eq!(u.host, "globaldns.apigw.gov-ntruss.com");
        assert_eq!(u.path, "/dns/v1");
        let (_, u) = resolve_endpoint(Some("gov"), Some("http://127.0.0.1:9/dns/v1/")).unwrap();
        assert_eq!(
            (u.origin().as_str(), u.path.as_str()),
            ("http://127.0.0.1:9", "/dns/v1")
        );
        let e = resolve_endpoint(Some("fin"), None).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("pub or gov"), "{e}");
        let e = resolve_endpoint(None, Some("http://dns.example/dns/v1")).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(resolve_endpoint(None, Some("https://h/dns/v1?x=1")).is_err());
    }

    #[test]
    fn metadata_url_default_and_override() {
        let u = resolve_metadata_url(None).unwrap();
        assert_eq!(u.origin(), "http://169.254.169.254");
        assert_eq!(u.path, "/latest/meta-data/iam/security-credentials");
        let u = resolve_metadata_url(Some(
            "http://127.0.0.1:8/latest/meta-data/iam/security-credentials",
        ))
        .unwrap();
        assert_eq!(u.origin(), "http://127.0.0.1:8");
        assert_eq!(
            resolve_metadata_url(Some("nope")).unwrap_err().exit.code(),
            2
        );
    }

    #[test]
    fn settings_resolve_and_reject_before_the_network() {
        let s = Settings::resolve(&Given::default()).unwrap();
        assert_eq!(s.region, Region::Pub);
        assert_eq!(s.dns_base.host, "globaldns.apigw.ntruss.com");
        assert_eq!(s.metadata_url.host, "169.254.169.254");
        assert!(s.credentials.only.is_none() && s.credentials.ak.is_none());
        let s = Settings::resolve(&Given {
            region: Some("gov"),
            ak: Some("AK"),
            sk: Some("SK"),
            credentials: Some("metadata"),
            credentials_file: Some(std::path::Path::new("/etc/ncp")),
            ..Given::default()
        })
        .unwrap();
        assert_eq!(s.dns_base.host, "globaldns.apigw.gov-ntruss.com");
        assert_eq!(s.credentials.only, Some(credentials::SourceKind::Metadata));
        assert_eq!(s.credentials.sk.unwrap().expose(), "SK");
        for bad in [
            Given {
                token: Some("T"),
                ..Given::default()
            },
            Given {
                credentials: Some("container"),
                ..Given::default()
            },
            Given {
                region: Some("eu-de"),
                ..Given::default()
            },
        ] {
            assert_eq!(Settings::resolve(&bad).unwrap_err().exit.code(), 2);
        }
    }

    #[test]
    fn keys_debug_redacts() {
        let k = Keys::new("ncp_iam_BPAMKR1", Secret::new("TOPSECRET"), "flags");
        let d = format!("{k:?}");
        assert!(!d.contains("TOPSECRET") && !d.contains("BPAMKR1"), "{d}");
        assert!(d.contains("ncp_"), "{d}");
    }

    /// The descriptor's help texts say what this file defines.
    #[test]
    fn help_defaults_are_this_file_s() {
        assert_eq!(
            CLOUD.region_help[0].1,
            format!("{} (or gov)", DEFAULT_REGION.as_str())
        );
        assert_eq!(CLOUD.dns_endpoint_help[0].1, DEFAULT_REGION.dns_endpoint());
        assert!(CLOUD.env_read_by_hand.iter().all(|v| (CLOUD.owns_variable)(v)));
    }
}
