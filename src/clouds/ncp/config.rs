//! NCP settings from the shared flags ([`CloudInput`]), checked before any
//! network call. NCP reads its own environment names (`NCLOUD_*`); the
//! `OS_*` values clap gathered for OTC are never looked at.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::credentials::{self, ENV_ACCESS, ENV_SECRET, Inputs, RealFiles};
use super::Secret;
use crate::cloud_api::CloudInput;
use crate::error::{Error, Result};
use crate::http::Url;

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
    pub fn parse(s: &str) -> std::result::Result<Region, String> {
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

/// Variables read here by hand (the NCP tools' names of the keys), which a
/// config file may set too.
pub const ENV_READ_BY_HAND: [&str; 4] =
    [ENV_ACCESS[0], ENV_ACCESS[1], ENV_SECRET[0], ENV_SECRET[1]];
pub const ENV_READ_BY_HAND_WHAT: &str = "NAVER Cloud's keys (--cloud ncp; the NCP tools' names)";

/// This cloud's variables that hold a secret.
pub const SECRET_VARIABLES: [&str; 2] = ENV_SECRET;
/// Each setting's names: the primary one first.
pub const ALIASES: [&[&str]; 2] = [&ENV_ACCESS, &ENV_SECRET];

/// The environment names NCP reads (the keys, the home directory, systemd's
/// credentials directory).
fn read_by_hand() -> impl Iterator<Item = &'static str> {
    ENV_READ_BY_HAND
        .into_iter()
        .chain(["HOME", crate::keyfile::CREDENTIALS_DIRECTORY])
}

/// Everything an NCP run needs to connect.
#[derive(Debug, Clone)]
pub struct NcpConfig {
    pub settings: Settings,
}

impl NcpConfig {
    pub fn dns_endpoint(&self) -> &Url {
        &self.settings.dns_base
    }
}

/// The warning for a secret given on the command line.
pub fn command_line_secret_warning(flag: &str) -> String {
    format!(
        "{flag} on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer the server role, or NCLOUD_SECRET_ACCESS_KEY in a root-only environment"
    )
}

/// Resolves and checks everything but the keys (read at connect); errors
/// are rejections (exit 2).
pub fn configure(input: &CloudInput) -> Result<NcpConfig> {
    let (region, dns_base) =
        resolve_endpoint(input.region.as_deref(), input.dns_endpoint.as_deref())?;
    let metadata_url = resolve_metadata_url(input.metadata_url.as_deref())?;
    // Only what was typed: OS_ACCESS_KEY/OS_SECRET_KEY/OS_SECURITY_TOKEN are OTC's.
    let keys = &input.flag_keys;
    if keys.token.as_deref().is_some_and(|t| !t.is_empty()) {
        return Err(
            Error::rejected("credentials", "NCP keys take no security token (--token)")
                .hint("drop --token; give --ak and --sk, or use the server role"),
        );
    }
    let only = credentials::KINDS.only(input.credentials.as_deref())?;
    let given = Inputs {
        ak: keys.access.clone(),
        sk: keys.secret.clone().map(Secret::new),
        credentials_file: input.credentials_file.as_deref().map(PathBuf::from),
        env: read_by_hand()
            .filter_map(|k| input.env.get(k).map(|v| (k.to_string(), v.clone())))
            .collect(),
        files: Arc::new(RealFiles),
    };
    Ok(NcpConfig {
        settings: Settings {
            region,
            dns_base,
            metadata_url,
            credentials: credentials::chain(given, only),
        },
    })
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
    use crate::cloud_api::Keys;

    fn input(pairs: &[(&str, &str)]) -> CloudInput {
        CloudInput {
            cloud: "ncp".into(),
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CloudInput::default()
        }
    }

    /// The chain's answer when the server role does not answer.
    fn keys(c: &NcpConfig) -> Result<crate::credentials::KeyPair> {
        let no_role = || Err(Error::failed("credentials", "no server role here"));
        c.settings
            .credentials
            .resolve(&no_role, &|_| {})
            .map(|r| r.value)
    }

    #[test]
    fn defaults_pub_region_and_role_metadata() {
        let c = configure(&input(&[])).unwrap();
        let u = c.dns_endpoint();
        assert_eq!(
            (u.origin().as_str(), u.path.as_str()),
            ("https://globaldns.apigw.ntruss.com", "/dns/v1")
        );
        assert_eq!(
            c.settings.metadata_url.path,
            "/latest/meta-data/iam/security-credentials"
        );
        let mut i = input(&[]);
        i.region = Some("gov".into());
        let c = configure(&i).unwrap();
        assert_eq!(c.dns_endpoint().host, "globaldns.apigw.gov-ntruss.com");
    }

    #[test]
    fn os_names_are_not_read_and_ncloud_names_are_kept_unprinted() {
        let mut i = input(&[
            ("NCLOUD_SECRET_ACCESS_KEY", "NCSECRET"),
            ("NCLOUD_ACCESS_KEY_ID", "NCAK"),
            ("OS_SECRET_KEY", "OSSECRET"),
            ("HOME", "/root"),
        ]);
        // clap's OS_* values arrive here; an OS_SECURITY_TOKEN must not reject the run.
        i.os_keys = Keys {
            access: Some("OSAK".into()),
            secret: Some("OSSECRET".into()),
            token: Some("OSTOKEN".into()),
        };
        let c = configure(&i).unwrap();
        // From NCP's names only.
        let k = keys(&c).unwrap();
        assert_eq!((k.access.as_str(), k.source), ("NCAK", "environment"));
        let d = format!("{c:?}");
        assert!(!d.contains("NCSECRET") && !d.contains("OSSECRET"), "{d}");
    }

    /// Was `ncp::tests::settings_resolve_and_reject_before_the_network`
    /// (over `Settings::resolve` and its `Inputs`, which `configure` replaces).
    #[test]
    fn settings_resolve_and_reject_before_the_network() {
        let s = configure(&input(&[])).unwrap().settings;
        assert_eq!(s.region, Region::Pub);
        assert_eq!(s.dns_base.host, "globaldns.apigw.ntruss.com");
        assert_eq!(s.metadata_url.host, "169.254.169.254");
        // Nothing local: the server role is asked.
        assert!(keys(&NcpConfig { settings: s }).is_err());
        let mut i = input(&[]);
        i.region = Some("gov".into());
        i.flag_keys.access = Some("AK".into());
        i.flag_keys.secret = Some("SK".into());
        i.credentials = Some("metadata".into());
        i.credentials_file = Some("/etc/ncp".into());
        let c = configure(&i).unwrap();
        assert_eq!(c.settings.dns_base.host, "globaldns.apigw.gov-ntruss.com");
        // Forced to the server role: the flags' keys are not taken.
        assert!(keys(&c).is_err());
        i.credentials = Some("static".into());
        assert_eq!(keys(&configure(&i).unwrap()).unwrap().secret(), "SK");
        for bad in [
            {
                let mut i = input(&[]);
                i.flag_keys.token = Some("T".into());
                i
            },
            {
                let mut i = input(&[]);
                i.credentials = Some("container".into());
                i
            },
            {
                let mut i = input(&[]);
                i.region = Some("eu-de".into());
                i
            },
        ] {
            assert_eq!(configure(&bad).unwrap_err().exit.code(), 2);
        }
    }

    #[test]
    fn a_token_flag_or_other_cloud_source_is_rejected() {
        let mut i = input(&[]);
        i.flag_keys.token = Some("T".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
        let mut i = input(&[]);
        i.credentials = Some("container".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
        let mut i = input(&[]);
        i.region = Some("eu-de".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
    }
}
