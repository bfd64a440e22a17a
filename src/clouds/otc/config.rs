//! OTC / Huawei Cloud settings: the cloud profiles (default endpoints), the
//! credential chain and the delegated agency, from the shared flags and this
//! cloud's own, with every check that needs no network.

use std::path::PathBuf;

use super::credentials::iam::{Agency, AgencyDomain};
use super::credentials::{self, Inputs, OtcChain, Secret, StaticKeys, container};
use super::flags::OtcArgs;
use crate::cloud_api::nonblank;
use crate::cloud_api::CloudInput;
use crate::error::{Error, Result};
use crate::http::Url;

/// The default region (OTC's public DNS is in eu-de whatever the region).
pub const DEFAULT_REGION: &str = "eu-de";

/// Variables read here by hand: the older OTC scripts' names of two keys.
pub const ENV_READ_BY_HAND: [&str; 2] = ["OS_ACCESS_SECRET", "OS_ACCESS_TOKEN"];
pub const ENV_READ_BY_HAND_WHAT: &str =
    "Aliases of OS_SECRET_KEY and OS_SECURITY_TOKEN (older OTC scripts' names)";

/// This cloud's variables that hold a secret.
pub const SECRET_VARIABLES: [&str; 4] = [
    "OS_SECRET_KEY",
    "OS_ACCESS_SECRET",
    "OS_SECURITY_TOKEN",
    "OS_ACCESS_TOKEN",
];
/// Each setting's names: the primary one first.
pub const ALIASES: [&[&str]; 2] = [
    &["OS_SECRET_KEY", "OS_ACCESS_SECRET"],
    &["OS_SECURITY_TOKEN", "OS_ACCESS_TOKEN"],
];

/// Default endpoints of a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub dns: String,
    pub iam: String,
    pub cce: String,
}

/// OTC keeps public zones in eu-de whatever the region; Huawei Cloud has the
/// same API per region.
pub fn profile(cloud: &str, region: &str) -> Profile {
    match cloud {
        "huawei" => Profile {
            dns: format!("https://dns.{region}.myhuaweicloud.com"),
            iam: format!("https://iam.{region}.myhuaweicloud.com"),
            cce: format!("https://cce.{region}.myhuaweicloud.com"),
        },
        _ => Profile {
            dns: super::dns::DEFAULT_ENDPOINT.to_string(),
            // The Swiss cloud's IAM has its own host name.
            iam: if region == "eu-ch2" {
                "https://iam-pub.eu-ch2.sc.otc.t-systems.com".to_string()
            } else {
                format!("https://iam.{region}.otc.t-systems.com")
            },
            cce: format!("https://cce.{region}.otc.t-systems.com"),
        },
    }
}

/// Everything an OTC run needs to connect.
#[derive(Debug, Clone)]
pub struct OtcConfig {
    /// The credential chain, resolved at connect.
    pub credentials: OtcChain,
    pub agency: Option<Agency>,
    pub iam: Url,
    pub project_id: Option<String>,
    pub dns_endpoint: Url,
}

fn config_err(cause: impl Into<String>) -> Error {
    Error::rejected("config", cause)
}

/// An endpoint URL: https, or http on loopback only.
pub fn endpoint(flag: &str, raw: &str) -> Result<Url> {
    let u = Url::parse(raw).map_err(|e| config_err(format!("{flag}: {e}")))?;
    u.require_tls_unless_loopback(flag).map_err(config_err)?;
    if u.query.is_some() {
        return Err(config_err(format!("{flag} must not carry a query string")));
    }
    Ok(u)
}

/// The warning for a secret given on the command line.
pub fn command_line_secret_warning(flag: &str) -> String {
    format!(
        "{flag} on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer the ECS agency, or OS_SECRET_KEY/OS_SECURITY_TOKEN in a root-only environment"
    )
}

pub fn configure(input: &CloudInput, g: &OtcArgs) -> Result<OtcConfig> {
    let envv = |k: &str| input.env.get(k).cloned().filter(|v| !v.trim().is_empty());
    let flags = StaticKeys {
        access: input.flag_keys.access.clone(),
        secret: input.flag_keys.secret.clone().map(Secret::new),
        token: input.flag_keys.token.clone().map(Secret::new),
    };
    // The OTC tools' older names are aliases; the OS_SECRET_KEY/OS_SECURITY_TOKEN names win.
    let environment = StaticKeys {
        access: input.os_keys.access.clone(),
        secret: input
            .os_keys
            .secret
            .clone()
            .or_else(|| envv("OS_ACCESS_SECRET"))
            .map(Secret::new),
        token: input
            .os_keys
            .token
            .clone()
            .or_else(|| envv("OS_ACCESS_TOKEN"))
            .map(Secret::new),
    };

    let region = nonblank(&input.region).unwrap_or_else(|| DEFAULT_REGION.to_string());
    let prof = profile(&input.cloud, &region);
    let dns_endpoint = endpoint(
        "--dns-endpoint",
        &nonblank(&input.dns_endpoint).unwrap_or(prof.dns),
    )?;
    let iam = endpoint(
        "--iam-endpoint",
        &nonblank(&g.iam_endpoint).unwrap_or(prof.iam),
    )?;
    // The metadata service is link-local plain http by design.
    let metadata_url = Url::parse(
        &nonblank(&input.metadata_url)
            .unwrap_or_else(|| super::credentials::metadata::DEFAULT_URL.to_string()),
    )
    .map_err(|e| config_err(format!("--metadata-url: {e}")))?;
    let project_id = nonblank(&g.project_id);

    let file = |v: &Option<String>| nonblank(v).map(PathBuf::from);
    let hc_uri = match nonblank(&g.container_uri) {
        Some(raw) => {
            let u = Url::parse(&raw)
                .map_err(|e| config_err(format!("HC_CONTAINER_CREDENTIALS_FULL_URI: {e}")))?;
            // Like the metadata service, the node-local credentials endpoint may be plain http.
            let link_local = u.host.starts_with("169.254.");
            if !link_local {
                u.require_tls_unless_loopback("HC_CONTAINER_CREDENTIALS_FULL_URI")
                    .map_err(config_err)?;
            }
            Some(u)
        }
        None => None,
    };
    let cce_endpoint = endpoint(
        "--cce-endpoint",
        &nonblank(&g.cce_endpoint).unwrap_or(prof.cce),
    )?;
    let container = container::Config {
        hc_uri,
        hc_token_file: file(&g.container_token_file),
        cce_endpoint: Some(cce_endpoint),
        cce_project_id: nonblank(&g.cce_project_id),
        cce_cluster_id: nonblank(&g.cce_cluster_id),
        cce_token_file: file(&g.cce_token_file),
        idp_id: nonblank(&g.idp_id),
        id_token_file: file(&g.id_token_file),
        project_id: project_id.clone(),
        iam: Some(iam.clone()),
    };

    let agency = match nonblank(&g.agency_name) {
        None => {
            if nonblank(&g.agency_domain_name).is_some() || nonblank(&g.agency_domain_id).is_some()
            {
                return Err(config_err(
                    "--agency-domain-name/--agency-domain-id need --agency-name",
                ));
            }
            None
        }
        Some(name) => {
            let domain = match (
                nonblank(&g.agency_domain_name),
                nonblank(&g.agency_domain_id),
            ) {
                (Some(n), None) => AgencyDomain::Name(n),
                (None, Some(i)) => AgencyDomain::Id(i),
                _ => {
                    return Err(config_err(
                        "--agency-name needs exactly one of --agency-domain-name and --agency-domain-id",
                    ));
                }
            };
            Some(Agency {
                name,
                domain,
                duration: g.agency_duration,
                project_name: nonblank(&g.project_name).unwrap_or_else(|| region.clone()),
            })
        }
    };
    let only = credentials::KINDS.only(input.credentials.as_deref())?;
    let chain = credentials::chain(
        Inputs {
            flags,
            env: environment,
            file: file(&input.credentials_file),
            container,
            metadata: Some(metadata_url),
        },
        only,
    );
    Ok(OtcConfig {
        credentials: chain,
        agency,
        iam,
        project_id,
        dns_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        let p = profile("otc", "eu-nl");
        assert_eq!(p.dns, "https://dns.eu-de.otc.t-systems.com");
        assert_eq!(p.iam, "https://iam.eu-nl.otc.t-systems.com");
        assert_eq!(
            profile("otc", "eu-ch2").iam,
            "https://iam-pub.eu-ch2.sc.otc.t-systems.com"
        );
        let h = profile("huawei", "ap-southeast-1");
        assert_eq!(h.dns, "https://dns.ap-southeast-1.myhuaweicloud.com");
        assert_eq!(h.iam, "https://iam.ap-southeast-1.myhuaweicloud.com");
    }
}
