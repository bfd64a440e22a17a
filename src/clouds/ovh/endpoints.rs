//! Regions, API bases and OAuth2 token URLs, and how the flags and the
//! environment choose among them. Every OVH default is defined here, once.

use crate::error::{Error, Result};
use crate::http::Url;

/// An OVHcloud API region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Eu,
    Ca,
    Us,
}

/// The region when nothing chooses one.
pub const DEFAULT_REGION: Region = Region::Eu;
/// `--region` values, in `--help` order.
pub const REGIONS: [&str; 3] = ["eu", "ca", "us"];

pub const API_EU: &str = "https://eu.api.ovh.com/1.0";
pub const API_CA: &str = "https://ca.api.ovh.com/1.0";
pub const API_US: &str = "https://api.us.ovhcloud.com/1.0";
// The SDKs' (go-ovh, python-ovh) token URLs; OVH's 2023 guide names www.ovh.ca for CA.
pub const TOKEN_EU: &str = "https://www.ovh.com/auth/oauth2/token";
pub const TOKEN_CA: &str = "https://ca.ovh.com/auth/oauth2/token";
pub const TOKEN_US: &str = "https://us.ovhcloud.com/auth/oauth2/token";

impl Region {
    /// `eu`, `ca`, `us` (the `--region` values).
    pub fn parse(s: &str) -> Option<Region> {
        match s.trim().to_ascii_lowercase().as_str() {
            "eu" => Some(Region::Eu),
            "ca" => Some(Region::Ca),
            "us" => Some(Region::Us),
            _ => None,
        }
    }
    /// The SDKs' endpoint names (`ovh-eu`, `ovh-ca`, `ovh-us`), as in `OVH_ENDPOINT`.
    pub fn from_endpoint_name(s: &str) -> Option<Region> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ovh-eu" => Some(Region::Eu),
            "ovh-ca" => Some(Region::Ca),
            "ovh-us" => Some(Region::Us),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::Ca => "ca",
            Region::Us => "us",
        }
    }
    /// `ovh-eu` …: the SDKs' name, also the `ovh.conf` section holding its keys.
    pub fn endpoint_name(self) -> &'static str {
        match self {
            Region::Eu => "ovh-eu",
            Region::Ca => "ovh-ca",
            Region::Us => "ovh-us",
        }
    }
    pub fn api_base(self) -> &'static str {
        match self {
            Region::Eu => API_EU,
            Region::Ca => API_CA,
            Region::Us => API_US,
        }
    }
    pub fn token_url(self) -> &'static str {
        match self {
            Region::Eu => TOKEN_EU,
            Region::Ca => TOKEN_CA,
            Region::Us => TOKEN_US,
        }
    }
    /// The region whose API base is `url` (trailing `/` ignored).
    fn of_api_base(url: &str) -> Option<Region> {
        let u = url.trim_end_matches('/');
        [Region::Eu, Region::Ca, Region::Us]
            .into_iter()
            .find(|r| r.api_base().eq_ignore_ascii_case(u))
    }
}

/// What chooses the endpoints, highest first; `None` = not given (blank counts as not given).
#[derive(Debug, Clone, Default)]
pub struct EndpointInputs {
    /// `--region` / `OTC_REGION`, only when explicitly given (not clap's default).
    pub region: Option<String>,
    /// `OVH_ENDPOINT`: `ovh-eu|ovh-ca|ovh-us` or an API base URL.
    pub ovh_endpoint: Option<String>,
    /// `[default] endpoint=` of the `ovh.conf` files.
    pub conf_endpoint: Option<String>,
    /// `--dns-endpoint` / `OTC_DNS_ENDPOINT`: the API base including `/1.0`.
    pub dns_endpoint: Option<String>,
    /// `--token-endpoint` / `OTC_TOKEN_ENDPOINT`.
    pub token_endpoint: Option<String>,
}

/// Where the calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `None` when an API base URL was given that is no region's.
    pub region: Option<Region>,
    /// The `ovh.conf` section holding this endpoint's keys (`ovh-eu`, or the URL as given).
    pub conf_section: String,
    /// API base including `/1.0`, no trailing `/`.
    pub api_base: String,
    /// `None`: an unknown API base and no `--token-endpoint`; only a service account needs one.
    pub token_url: Option<String>,
}

impl Endpoints {
    /// The token URL a service account needs, or the rejection saying how to give one.
    pub fn token_url_for_service_account(&self) -> Result<&str> {
        self.token_url.as_deref().ok_or_else(|| {
            Error::rejected(
                "endpoint",
                format!(
                    "no OAuth2 token URL is known for the API base {}",
                    crate::redact::url_for_display(&self.api_base)
                ),
            )
            .hint("give --token-endpoint (OTC_TOKEN_ENDPOINT), or --region eu|ca|us")
        })
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A base URL as we use it: absolute, https unless loopback, no trailing `/`.
fn checked_url(raw: &str, what: &str, flag: &str) -> Result<String> {
    let u = Url::parse(raw).map_err(|e| Error::rejected("endpoint", format!("{flag}: {e}")))?;
    u.require_tls_unless_loopback(what)
        .map_err(|e| Error::rejected("endpoint", e))?;
    Ok(raw.trim_end_matches('/').to_string())
}

/// Chooses region, API base and token URL: `--region`/`OTC_REGION` above
/// `OVH_ENDPOINT` above `ovh.conf`'s `[default] endpoint` above [`DEFAULT_REGION`];
/// `--dns-endpoint` and `--token-endpoint` override the base and the token URL.
pub fn resolve(i: &EndpointInputs) -> Result<Endpoints> {
    let mut base_url = None;
    let (region, section) = if let Some(r) = given(&i.region) {
        let region = Region::parse(r).ok_or_else(|| {
            Error::rejected(
                "options",
                format!(
                    "--region {r:?} is not an OVHcloud region ({})",
                    REGIONS.join(", ")
                ),
            )
            .hint("use --region eu, ca or us (OTC_REGION)")
        })?;
        (Some(region), region.endpoint_name().to_string())
    } else if let Some((e, origin)) = given(&i.ovh_endpoint)
        .map(|e| (e, "OVH_ENDPOINT"))
        .or_else(|| given(&i.conf_endpoint).map(|e| (e, "ovh.conf [default] endpoint")))
    {
        if let Some(r) = Region::from_endpoint_name(e) {
            (Some(r), r.endpoint_name().to_string())
        } else if e.contains("://") {
            let url = checked_url(e, "the API base", origin)?;
            let r = Region::of_api_base(&url);
            base_url = Some(url);
            (r, e.to_string())
        } else {
            return Err(Error::rejected(
                "options",
                format!("{origin} {e:?} is neither ovh-eu, ovh-ca, ovh-us nor an API base URL"),
            )
            .hint("set OVH_ENDPOINT=ovh-eu (or ovh-ca, ovh-us), or use --region"));
        }
    } else {
        (
            Some(DEFAULT_REGION),
            DEFAULT_REGION.endpoint_name().to_string(),
        )
    };
    let api_base = match given(&i.dns_endpoint) {
        Some(u) => checked_url(u, "DNS endpoint", "--dns-endpoint")?,
        None => base_url.unwrap_or_else(|| region.unwrap_or(DEFAULT_REGION).api_base().into()),
    };
    let token_url = match given(&i.token_endpoint) {
        Some(u) => Some(checked_url(u, "token endpoint", "--token-endpoint")?),
        None => region.map(|r| r.token_url().to_string()),
    };
    Ok(Endpoints {
        region,
        conf_section: section,
        api_base,
        token_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(region: Option<&str>, env: Option<&str>, conf: Option<&str>) -> EndpointInputs {
        EndpointInputs {
            region: region.map(str::to_string),
            ovh_endpoint: env.map(str::to_string),
            conf_endpoint: conf.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn regions_map_to_the_issue_s_urls() {
        let got: Vec<(&str, &str, &str)> = REGIONS
            .iter()
            .map(|r| {
                let r = Region::parse(r).unwrap();
                (r.endpoint_name(), r.api_base(), r.token_url())
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ovh-eu",
                    "https://eu.api.ovh.com/1.0",
                    "https://www.ovh.com/auth/oauth2/token"
                ),
                (
                    "ovh-ca",
                    "https://ca.api.ovh.com/1.0",
                    "https://ca.ovh.com/auth/oauth2/token"
                ),
                (
                    "ovh-us",
                    "https://api.us.ovhcloud.com/1.0",
                    "https://us.ovhcloud.com/auth/oauth2/token"
                ),
            ]
        );
    }

    #[test]
    fn region_beats_ovh_endpoint_beats_conf_beats_default() {
        let e = resolve(&inputs(None, None, None)).unwrap();
        assert_eq!((e.region, e.api_base.as_str()), (Some(Region::Eu), API_EU));
        let e = resolve(&inputs(None, None, Some("ovh-us"))).unwrap();
        assert_eq!(
            (e.region, e.conf_section.as_str()),
            (Some(Region::Us), "ovh-us")
        );
        let e = resolve(&inputs(None, Some("ovh-ca"), Some("ovh-us"))).unwrap();
        assert_eq!(
            (e.region, e.token_url.as_deref()),
            (Some(Region::Ca), Some(TOKEN_CA))
        );
        let e = resolve(&inputs(Some("US"), Some("ovh-ca"), None)).unwrap();
        assert_eq!((e.region, e.api_base.as_str()), (Some(Region::Us), API_US));
        // Blank is unset.
        let e = resolve(&inputs(Some(" "), Some("ovh-ca"), None)).unwrap();
        assert_eq!(e.region, Some(Region::Ca));
    }

    #[test]
    fn an_api_base_url_in_ovh_endpoint() {
        let e = resolve(&inputs(None, Some("https://ca.api.ovh.com/1.0/"), None)).unwrap();
        assert_eq!((e.region, e.api_base.as_str()), (Some(Region::Ca), API_CA));
        let e = resolve(&inputs(None, Some("http://127.0.0.1:9/1.0"), None)).unwrap();
        assert_eq!(
            (e.region, e.api_base.as_str()),
            (None, "http://127.0.0.1:9/1.0")
        );
        assert_eq!(e.conf_section, "http://127.0.0.1:9/1.0");
        let err = e.token_url_for_service_account().unwrap_err();
        assert_eq!(err.exit.code(), 2);
        assert!(err.to_string().contains("--token-endpoint"), "{err}");
        assert!(resolve(&inputs(None, Some("http://api.example/1.0"), None)).is_err());
    }

    #[test]
    fn overrides_and_rejections() {
        let mut i = inputs(Some("ca"), None, None);
        i.dns_endpoint = Some("http://localhost:8080/1.0/".into());
        i.token_endpoint = Some("http://localhost:8080/auth/oauth2/token".into());
        let e = resolve(&i).unwrap();
        assert_eq!(e.api_base, "http://localhost:8080/1.0");
        assert_eq!(
            e.token_url.as_deref(),
            Some("http://localhost:8080/auth/oauth2/token")
        );
        for bad in [
            inputs(Some("eu-de"), None, None),
            inputs(None, Some("kimsufi-eu"), None),
            inputs(None, None, Some("soyoustart-ca")),
        ] {
            let err = resolve(&bad).unwrap_err();
            assert_eq!(err.exit.code(), 2, "{err}");
        }
        let mut i = inputs(None, None, None);
        i.dns_endpoint = Some("http://dns.example/1.0".into());
        assert!(resolve(&i).unwrap_err().to_string().contains("plain http"));
    }
}
