//! `otc-sim`: runs the loopback OTC simulator (ECS metadata, DNS v2 API,
//! authoritative DNS) for tests and for trying the hook without a cloud.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use otc_sim::{CloudKind, Seed, Sim, SimOptions};

#[derive(Debug, Parser)]
#[command(
    name = "otc-sim",
    version,
    about = "Loopback simulator of Open Telekom Cloud: ECS metadata, DNS v2 API, IAM agencies, CCE pod identity, authoritative DNS",
    long_about = "Loopback simulator of Open Telekom Cloud for testing otc-acme-hook.\n\n\
        One HTTP port serves the ECS metadata service (/openstack/latest/securitykey), the DNS v2 \
        API (/v2/..., SDK-HMAC-SHA256 signatures checked), IAM (/v3.0/OS-CREDENTIAL/securitytokens \
        with assume_role or an IAM token, /v3/auth/tokens assume_role, \
        /v3.0/OS-AUTH/id-token/tokens for OIDC), CCE pod identity (/cce/pod-credentials, \
        /api/v3/projects/{p}/clusters/{c}/assume-agency-for-pod-identity) and control endpoints \
        (/_sim/state, /_sim/log, /_sim/config, /_sim/reset-log). One more port serves the public \
        zones as an authoritative DNS server over UDP and TCP. The demo seed has one agency \
        (dns-agency of account partner), one OIDC provider (cce-idp) and one pod identity.\n\n\
        With --cloud ovh the HTTP port serves OVHcloud instead: POST /auth/oauth2/token (client \
        credentials), GET /1.0/auth/time and /1.0/domain/zone... (Bearer or X-Ovh-Signature checked, \
        IAM policies), and the DNS port serves a zone's records only after its refresh."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the simulator and run until killed.
    ///
    /// When ready, prints one JSON line to stdout with the bound addresses,
    /// e.g. {"http":"127.0.0.1:41234","dns":"127.0.0.1:41235"}.
    Serve {
        /// Seed file (JSON) with credentials, zones, record sets and delays.
        /// Without it, the built-in demo seed is used (see `otc-sim print-seed`).
        #[arg(long, value_name = "FILE")]
        seed: Option<PathBuf>,
        /// Address of the HTTP server (metadata, DNS API, control); port 0 picks a free port.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        http: SocketAddr,
        /// Address of the authoritative DNS server (UDP and TCP on one port); port 0 picks a free port.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        dns: SocketAddr,
        /// The cloud to simulate: otc, ovh (OVHcloud: token endpoint, /1.0/auth/time,
        /// /1.0/domain/zone…) or ncp (NAVER Cloud: metadata server role, Global DNS under
        /// /dns/v1); its demo seed unless --seed.
        #[arg(long, value_name = "CLOUD", default_value = "otc", value_parser = parse_cloud)]
        cloud: CloudKind,
        /// Milliseconds added to every remote request (DNS API, token, IAM), as a real
        /// API's round trip; the metadata service answers at once. Overrides the seed's
        /// latency_ms; POST /_sim/config {"latency_ms": N} changes it while running.
        #[arg(long, value_name = "MS", value_parser = parse_latency)]
        latency_ms: Option<u64>,
    },
    /// Print the built-in demo seed, a starting point for your own seed file.
    PrintSeed,
    /// Walk through a certbot run (apex, wildcard, nested zone, CNAME) with the real
    /// otc-acme-hook binary against the simulator, printing a transcript.
    Demo {
        /// The otc-acme-hook binary (default: the one next to otc-sim)
        #[arg(long, value_name = "PATH")]
        hook: Option<PathBuf>,
        /// The cloud to simulate: otc, ovh (the same run with --cloud ovh and a service
        /// account) or ncp (apex, wildcard and nested name, one apply per zone)
        #[arg(long, value_name = "CLOUD", default_value = "otc", value_parser = parse_cloud)]
        cloud: CloudKind,
        /// Milliseconds added to every remote API call (e.g. 80, a cloud API's round
        /// trip); the transcript shows each phase's time and calls
        #[arg(long, value_name = "MS", default_value_t = 0, value_parser = parse_latency)]
        latency_ms: u64,
    },
}

fn parse_latency(ms: &str) -> Result<u64, String> {
    let max = 600_000;
    match ms.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("'{ms}' is not a number of milliseconds 0..={max}")),
    }
}

fn parse_cloud(name: &str) -> Result<CloudKind, String> {
    CloudKind::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = CloudKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown cloud '{name}' (one of: {})", names.join(", "))
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            seed,
            http,
            dns,
            cloud,
            latency_ms,
        } => {
            let mut seed = match seed {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read seed file {}", path.display()))?;
                    Seed::from_json(&text)
                        .with_context(|| format!("seed file {}", path.display()))?
                }
                None if cloud == CloudKind::Ncp => Seed::ncp_demo(),
                None => Seed::demo(),
            };
            if let Some(ms) = latency_ms {
                seed.latency_ms = ms;
            }
            let sim = Sim::start(SimOptions {
                seed,
                http_addr: http,
                dns_addr: dns,
                cloud,
            })?;
            // Written by hand to keep the documented key order (http, then dns).
            let ready = format!(
                r#"{{"http":"{}","dns":"{}"}}"#,
                sim.http_addr(),
                sim.dns_addr()
            );
            let mut out = std::io::stdout().lock();
            writeln!(out, "{ready}")?;
            out.flush()?;
            drop(out);
            // Serve until the process is killed; the servers run on their own threads.
            loop {
                std::thread::park();
            }
        }
        Command::PrintSeed => {
            // A closed pipe (`otc-sim print-seed | head`) is the reader's choice, not an error.
            use std::io::Write;
            let text = serde_json::to_string_pretty(&Seed::demo())?;
            let _ = writeln!(std::io::stdout(), "{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            hook,
            cloud,
            latency_ms,
        } => {
            let hook = match hook {
                Some(h) => h,
                None => std::env::current_exe()?.with_file_name("otc-acme-hook"),
            };
            let out = &mut std::io::stdout().lock();
            otc_sim::demo::run_demo_with(&hook, cloud, latency_ms, out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("otc-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
