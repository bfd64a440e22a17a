//! Validated settings: the clap values turned into what the run uses, and
//! every check that needs no network. The selected cloud reads its part
//! (see [`clouds::configure`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::Global;
use crate::client::{Net, RetryPolicy};
use crate::cloud_api::nonblank;
use crate::cloud_api::{CloudInput, Keys};
use crate::clouds::{self, CloudConfig};
use crate::error::{Error, Result};
use crate::flow::engine::Mode;
use crate::flow::hook;
use crate::http::{ProxyConfig, Trust};
use crate::propagation;
use crate::report::Level;
use crate::zone;

#[derive(Debug)]
pub struct Options {
    /// The selected cloud's settings.
    pub cloud: Box<dyn CloudConfig>,
    /// Its DNS API base.
    pub dns_endpoint: crate::http::Url,
    pub hook: hook::Settings,
    pub propagation: propagation::Settings,
    pub mode: Mode,
    pub net: Net,
    pub deadline: Duration,
    pub lock_dir: Option<PathBuf>,
    pub level: Level,
    /// Warnings to print once the report exists.
    pub warnings: Vec<String>,
    /// The configuration file read (set by the caller, which read it before parsing).
    pub config: crate::config::Status,
}

fn config_err(cause: impl Into<String>) -> Error {
    Error::rejected("config", cause)
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
        clouds::check_flags(&g.cloud, &|id| on_command_line(m, id))?;

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
        let input = CloudInput {
            cloud: g.cloud.clone(),
            region: nonblank(&g.region),
            dns_endpoint: nonblank(&g.dns_endpoint),
            metadata_url: nonblank(&g.metadata_url),
            flag_keys: Keys {
                access: ak_flag,
                secret: sk_flag,
                token: tok_flag,
            },
            os_keys: Keys {
                access: ak_env,
                secret: sk_env,
                token: tok_env,
            },
            credentials: nonblank(&g.credentials),
            credentials_file: nonblank(&g.credentials_file),
            env: env.clone(),
            cli_flags: clouds::flag_owners()
                .into_iter()
                .flat_map(|(_, flags)| flags)
                .map(|(id, _)| id)
                .filter(|id| on_command_line(m, id))
                .collect(),
        };
        let (cloud, mut warnings) = clouds::configure(&input, &g.clouds)?;
        let chosen_by = if on_command_line(m, "cloud") {
            format!("--cloud {}", g.cloud)
        } else if envv("OTC_CLOUD").is_some() {
            format!("OTC_CLOUD={}", g.cloud)
        } else {
            "the default: OTC_CLOUD is not set".to_string()
        };
        if let Some(w) = clouds::foreign_variables(&g.cloud, &chosen_by, env) {
            warnings.insert(0, w);
        }
        let dns_endpoint = cloud.dns_endpoint().clone();
        let file = |v: &Option<String>| nonblank(v).map(PathBuf::from);

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
            cloud,
            dns_endpoint,
            hook: hook::Settings {
                ttl: g.ttl,
                zone,
                timeout: Duration::from_secs(g.propagation_timeout),
                // Give up on contention a little before the watchdog ends the run,
                // so the last line says why.
                deadline: Duration::from_secs(g.deadline - (g.deadline / 10).min(10)),
                parallel: g.parallel,
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
                parallel: g.parallel,
                ..propagation::Settings::default()
            },
            mode: Mode {
                dns_check: !g.no_dns_check,
                cname: !g.no_cname,
                wait_once: !g.no_wait_once,
            },
            net: Net {
                parallel: g.parallel,
                http_timeout: Duration::from_secs(g.http_timeout),
                retry: RetryPolicy {
                    retries: g.retries,
                    ..RetryPolicy::default()
                },
                proxy: ProxyConfig::from_env(&envv),
                trust: Trust {
                    ca_file: file(&g.ca_file),
                },
            },
            deadline: Duration::from_secs(g.deadline),
            lock_dir: file(&g.lock_dir),
            level,
            warnings,
            config: crate::config::Status::default(),
        })
    }
}
