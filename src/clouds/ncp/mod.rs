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
    /// The credential chain, resolved at connect.
    pub credentials: credentials::NcpChain,
}

pub use crate::redact::Secret;

/// An NCP access key pair (an API key, or a server role's temporary one).
pub type Keys = crate::credentials::KeyPair;

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
    fn keys_debug_redacts() {
        let k = Keys::new("ncp_iam_BPAMKR1", Secret::new("TOPSECRET"), None).from_source("flags");
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
