//! Validated settings: the clap values turned into what the run uses, with
//! cloud-profile defaults applied, and every check that needs no network.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::certbot::Mode;
use crate::cli::Global;
use crate::error::{Error, Result};
use crate::hook;
use crate::http::{ProxyConfig, Trust, Url};
use crate::propagation;
use crate::providers::otc::credentials::iam::{Agency, AgencyDomain};
use crate::providers::otc::credentials::{Kind, Secret, Source, StaticKeys, container};
use crate::providers::otc::signed::RetryPolicy;
use crate::report::Level;
use crate::zone;

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
            dns: crate::providers::otc::dns::DEFAULT_ENDPOINT.to_string(),
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

#[derive(Debug)]
pub struct Options {
    pub chain: Vec<Source>,
    /// `--credentials`: only this kind of source.
    pub only: Option<Kind>,
    pub agency: Option<Agency>,
    pub iam: Url,
    pub project_id: Option<String>,
    pub dns_endpoint: Url,
    pub hook: hook::Settings,
    pub propagation: propagation::Settings,
    pub mode: Mode,
    pub http_timeout: Duration,
    pub retry: RetryPolicy,
    pub deadline: Duration,
    pub proxy: ProxyConfig,
    pub trust: Trust,
    pub lock_dir: Option<PathBuf>,
    pub level: Level,
    /// Warnings to print once the report exists.
    pub warnings: Vec<String>,
    /// The configuration file read (set by the caller, which read it before parsing).
    pub config: crate::config::Status,
}

fn nonblank(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.trim().is_empty())
}

fn config_err(cause: impl Into<String>) -> Error {
    Error::rejected("config", cause)
}

/// An endpoint URL: https, or http on loopback only.
fn endpoint(flag: &str, raw: &str) -> Result<Url> {
    let u = Url::parse(raw).map_err(|e| config_err(format!("{flag}: {e}")))?;
    u.require_tls_unless_loopback(flag).map_err(config_err)?;
    if u.query.is_some() {
        return Err(config_err(format!("{flag} must not carry a query string")));
    }
    Ok(u)
}

/// Whether `id` (a global argument) was given on the command line.
fn on_command_line(m: &ArgMatches, id: &str) -> bool {
    m.value_source(id) == Some(ValueSource::CommandLine)
        || m.subcommand()
            .is_some_and(|(_, sub)| sub.value_source(id) == Some(ValueSource::CommandLine))
}

impl Options {
    pub fn from_cli(g: &Global, m: &ArgMatches, env: &HashMap<String, String>) -> Result<Options> {
        let envv = |k: &str| env.get(k).cloned().filter(|v| !v.trim().is_empty());
        let mut warnings = Vec::new();
        for (id, flag) in [("sk", "--sk"), ("token", "--token")] {
            if on_command_line(m, id) {
                warnings.push(format!(
                    "{flag} on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer the ECS agency, or OS_SECRET_KEY/OS_SECURITY_TOKEN in a root-only environment"
                ));
            }
        }

        // Flags and environment are two sources: split clap's merged values by origin.
        let split = |id: &str, v: &Option<String>| -> (Option<String>, Option<String>) {
            let v = nonblank(v);
            if on_command_line(m, id) {
                (v, None)
            } else {
                (None, v)
            }
        };
        let (ak_flag, ak_env) = split("ak", &g.ak);
        let (sk_flag, sk_env) = split("sk", &g.sk);
        let (tok_flag, tok_env) = split("token", &g.token);
        let flags = StaticKeys {
            access: ak_flag,
            secret: sk_flag.map(Secret::new),
            token: tok_flag.map(Secret::new),
        };
        // The OTC tools' older names are aliases; the OS_SECRET_KEY/OS_SECURITY_TOKEN names win.
        let environment = StaticKeys {
            access: ak_env,
            secret: sk_env.or_else(|| envv("OS_ACCESS_SECRET")).map(Secret::new),
            token: tok_env.or_else(|| envv("OS_ACCESS_TOKEN")).map(Secret::new),
        };

        let prof = profile(&g.cloud, &g.region);
        let dns_endpoint = endpoint(
            "--dns-endpoint",
            &nonblank(&g.dns_endpoint).unwrap_or(prof.dns),
        )?;
        let iam = endpoint(
            "--iam-endpoint",
            &nonblank(&g.iam_endpoint).unwrap_or(prof.iam),
        )?;
        // The metadata service is link-local plain http by design.
        let metadata_url =
            Url::parse(&g.metadata_url).map_err(|e| config_err(format!("--metadata-url: {e}")))?;
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
                if nonblank(&g.agency_domain_name).is_some()
                    || nonblank(&g.agency_domain_id).is_some()
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
                    project_name: nonblank(&g.project_name).unwrap_or_else(|| g.region.clone()),
                })
            }
        };

        for spec in &g.nameserver {
            propagation::parse_host_port(spec, 53)
                .map_err(|e| config_err(format!("--nameserver {e}")))?;
        }
        if let Some(r) = nonblank(&g.resolver) {
            propagation::parse_host_port(&r, 53)
                .map_err(|e| config_err(format!("--resolver {e}")))?;
        }
        let zone = match nonblank(&g.zone) {
            Some(z) => {
                Some(zone::normalize_domain(&z).map_err(|e| config_err(format!("--zone: {e}")))?)
            }
            None => None,
        };
        if g.deadline < g.propagation_timeout {
            return Err(config_err(format!(
                "--deadline ({}s) is shorter than --propagation-timeout ({}s)",
                g.deadline, g.propagation_timeout
            ))
            .hint("raise --deadline or lower --propagation-timeout"));
        }
        // A CA file we can't use is a configuration error: say so before any call.
        if let Some(ca) = file(&g.ca_file) {
            let bytes = std::fs::read(&ca)
                .map_err(|e| config_err(format!("--ca-file {}: {e}", ca.display())))?;
            if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
                return Err(config_err(format!(
                    "--ca-file {} holds no PEM certificate",
                    ca.display()
                )));
            }
        }
        let level = if g.quiet {
            Level::Quiet
        } else if g.verbose {
            Level::Verbose
        } else {
            Level::Normal
        };
        Ok(Options {
            chain: vec![
                Source::Flags(flags),
                Source::Env(environment),
                Source::File(file(&g.credentials_file)),
                Source::Container(Box::new(container)),
                Source::Metadata(metadata_url),
            ],
            only: g.credentials.as_deref().and_then(Kind::parse),
            agency,
            iam,
            project_id,
            dns_endpoint,
            hook: hook::Settings {
                ttl: g.ttl,
                zone,
                timeout: Duration::from_secs(g.propagation_timeout),
                // Give up on contention a little before the watchdog ends the run,
                // so the last line says why.
                deadline: Duration::from_secs(g.deadline - (g.deadline / 10).min(10)),
                ..hook::Settings::default()
            },
            propagation: propagation::Settings {
                nameservers: g
                    .nameserver
                    .iter()
                    .filter(|n| !n.trim().is_empty())
                    .cloned()
                    .collect(),
                port: g.nameserver_port,
                resolver: nonblank(&g.resolver),
                timeout: Duration::from_secs(g.propagation_timeout),
                settle: Duration::from_secs(g.settle),
                ..propagation::Settings::default()
            },
            mode: Mode {
                dns_check: !g.no_dns_check,
                cname: !g.no_cname,
                wait_once: !g.no_wait_once,
            },
            http_timeout: Duration::from_secs(g.http_timeout),
            retry: RetryPolicy {
                retries: g.retries,
                ..RetryPolicy::default()
            },
            deadline: Duration::from_secs(g.deadline),
            proxy: ProxyConfig::from_env(&envv),
            trust: Trust {
                ca_file: file(&g.ca_file),
            },
            lock_dir: file(&g.lock_dir),
            level,
            warnings,
            config: crate::config::Status::default(),
        })
    }
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
