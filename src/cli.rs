//! The command line: clap definition, validation into [`Options`] (all before
//! any network call), and the subcommands.

use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::certbot::{CertbotEnv, Flow, Mode};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{self, Secret, Source, StaticKeys, metadata};
use crate::dns_api::otc::{DEFAULT_ENDPOINT, OtcDns};
use crate::error::{Error, Result};
use crate::hook::{self, Hook};
use crate::http::{Timeouts, Transport, UreqTransport, Url};
use crate::propagation::{self, Checker, net::NetDns};
use crate::report::{Level, Report};
use crate::signed::SignedClient;
use crate::zone;

const AFTER_HELP: &str = "\
Credentials, first found wins: --ak/--sk/--token, then OS_ACCESS_KEY / OS_SECRET_KEY /
OS_SECURITY_TOKEN, then the ECS metadata service (the agency attached to this VM).

certbot:
  certbot certonly --manual --preferred-challenges dns \\
    --manual-auth-hook 'otc-acme-hook auth' --manual-cleanup-hook 'otc-acme-hook cleanup' \\
    -d example.com -d '*.example.com'

Exit codes: 0 ok; 2 rejected before any network call (usage, invalid input or
configuration); 1 any other failure. Errors are one line on stderr:
`otc-acme-hook: <step>: <cause>; <fix>`.";

/// ACME DNS-01 hook for Open Telekom Cloud DNS, signed with the temporary
/// credentials of the ECS agency (no access key on disk).
#[derive(Debug, Parser)]
#[command(name = "otc-acme-hook", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every subcommand; allowed before or after it.
#[derive(Debug, Args)]
pub struct Global {
    /// Access key (prefer the ECS agency: a key on the command line shows in `ps`)
    #[arg(
        short = 'a',
        long = "ak",
        env = "OS_ACCESS_KEY",
        global = true,
        hide_env_values = true,
        value_name = "AK"
    )]
    pub ak: Option<String>,
    /// Secret key (also read from OS_ACCESS_SECRET)
    #[arg(
        short = 's',
        long = "sk",
        env = "OS_SECRET_KEY",
        global = true,
        hide_env_values = true,
        value_name = "SK"
    )]
    pub sk: Option<String>,
    /// Security token of temporary credentials (also read from OS_ACCESS_TOKEN)
    #[arg(
        short = 't',
        long = "token",
        env = "OS_SECURITY_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Project id, sent (and signed) as X-Project-Id
    #[arg(
        long = "project-id",
        env = "OS_PROJECT_ID",
        global = true,
        value_name = "ID"
    )]
    pub project_id: Option<String>,
    /// ECS metadata URL of the agency's temporary credentials
    #[arg(short = 'm', long = "metadata-url", env = "OTC_METADATA_URL", global = true, value_name = "URL",
          default_value = metadata::DEFAULT_URL)]
    pub metadata_url: String,
    /// DNS API endpoint (public zones live in eu-de for every OTC region)
    #[arg(long = "dns-endpoint", env = "OTC_DNS_ENDPOINT", global = true, value_name = "URL",
          default_value = DEFAULT_ENDPOINT)]
    pub dns_endpoint: String,
    /// Use this public zone instead of finding the longest matching one
    #[arg(long = "zone", env = "OTC_ZONE", global = true, value_name = "ZONE")]
    pub zone: Option<String>,
    /// TTL of a TXT recordset we create, seconds (existing sets keep theirs)
    #[arg(long = "ttl", env = "OTC_TTL", global = true, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(300..=2_147_483_647))]
    pub ttl: u32,
    /// How long to wait for the change to be live, seconds
    #[arg(
        long = "propagation-timeout",
        env = "OTC_PROPAGATION_TIMEOUT",
        global = true,
        value_name = "SECONDS",
        default_value_t = 300
    )]
    pub propagation_timeout: u64,
    /// Timeout of one HTTP request, seconds
    #[arg(long = "http-timeout", env = "OTC_HTTP_TIMEOUT", global = true, value_name = "SECONDS",
          default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub http_timeout: u64,
    /// Authoritative nameserver to check instead of the zone's (repeatable): HOST, HOST:PORT or [V6]:PORT
    #[arg(long = "nameserver", env = "OTC_NAMESERVERS", global = true, value_name = "HOST[:PORT]",
          value_delimiter = ',', action = clap::ArgAction::Append)]
    pub nameserver: Vec<String>,
    /// Port on which the discovered nameservers are asked
    #[arg(
        long = "nameserver-port",
        env = "OTC_NAMESERVER_PORT",
        global = true,
        value_name = "PORT",
        default_value_t = 53
    )]
    pub nameserver_port: u16,
    /// Recursive resolver for finding NS names when the API names none (default: the system's)
    #[arg(
        long = "resolver",
        env = "OTC_RESOLVER",
        global = true,
        value_name = "HOST[:PORT]"
    )]
    pub resolver: Option<String>,
    /// Don't ask the nameservers; trust the API's ACTIVE status (for networks that block port 53)
    #[arg(long = "no-dns-check", env = "OTC_NO_DNS_CHECK", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_dns_check: bool,
    /// Extra wait after every nameserver serves the values, seconds
    #[arg(
        long = "settle",
        env = "OTC_SETTLE",
        global = true,
        value_name = "SECONDS",
        default_value_t = 0
    )]
    pub settle: u64,
    /// Don't follow a CNAME at _acme-challenge (write the TXT right there)
    #[arg(long = "no-cname", env = "OTC_NO_CNAME", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_cname: bool,
    /// Wait in every auth hook for its own value, instead of once on certbot's last challenge
    #[arg(long = "no-wait-once", env = "OTC_NO_WAIT_ONCE", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_wait_once: bool,
    /// More detail on stderr
    #[arg(short = 'v', long = "verbose", env = "OTC_VERBOSE", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue,
          conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors and warnings on stderr
    #[arg(short = 'q', long = "quiet", env = "OTC_QUIET", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// certbot --manual-auth-hook: add CERTBOT_VALIDATION at _acme-challenge.CERTBOT_DOMAIN
    Auth,
    /// certbot --manual-cleanup-hook: remove exactly that value again
    Cleanup,
    /// Call any OTC API with a signed request and print the answer
    Api(ApiArgs),
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET, PUT, POST, PATCH or DELETE
    #[arg(value_parser = ["GET", "PUT", "POST", "PATCH", "DELETE", "get", "put", "post", "patch", "delete"])]
    pub method: String,
    /// Absolute URL, or a path starting with / (resolved against the DNS endpoint)
    pub url: String,
    /// JSON body, @FILE to read it from a file, or - for standard input
    pub body: Option<String>,
    /// Print fields named like secrets (secret, securitytoken, password, …) instead of redacting them
    #[arg(long = "show-secrets")]
    pub show_secrets: bool,
}

/// Validated settings: everything checked before any network call.
#[derive(Debug)]
pub struct Options {
    pub chain: Vec<Source>,
    pub project_id: Option<String>,
    pub dns_endpoint: Url,
    pub hook: hook::Settings,
    pub propagation: propagation::Settings,
    pub mode: Mode,
    pub http_timeout: Duration,
    pub level: Level,
    /// Warnings to print once the report exists.
    pub warnings: Vec<String>,
}

fn nonblank(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

impl Options {
    pub fn from_cli(g: &Global, m: &ArgMatches, env: &HashMap<String, String>) -> Result<Options> {
        let from_flag = |id: &str| find_source(m, id) == Some(ValueSource::CommandLine);
        let envv = |k: &str| nonblank(env.get(k).cloned());
        let mut warnings = Vec::new();
        for (id, flag) in [("sk", "--sk"), ("token", "--token")] {
            if from_flag(id) {
                warnings.push(format!(
                    "{flag} on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer the ECS agency, or OS_SECRET_KEY/OS_SECURITY_TOKEN in a root-only environment"
                ));
            }
        }
        // The OTC tools' older names are aliases; the OS_SECRET_KEY/OS_SECURITY_TOKEN names win.
        let access = nonblank(g.ak.clone());
        let secret = nonblank(g.sk.clone()).or_else(|| envv("OS_ACCESS_SECRET"));
        let token = nonblank(g.token.clone()).or_else(|| envv("OS_ACCESS_TOKEN"));
        let origin = if from_flag("ak") || from_flag("sk") {
            "flags"
        } else {
            "environment"
        };
        let keys = StaticKeys {
            access,
            secret: secret.map(Secret::new),
            token: token.map(Secret::new),
            origin,
        };

        let metadata_url = Url::parse(&g.metadata_url)
            .map_err(|e| Error::rejected("config", format!("--metadata-url: {e}")))?;
        let dns_endpoint = Url::parse(&g.dns_endpoint)
            .map_err(|e| Error::rejected("config", format!("--dns-endpoint: {e}")))?;
        dns_endpoint
            .require_tls_unless_loopback("DNS endpoint")
            .map_err(|e| Error::rejected("config", e))?;
        if dns_endpoint.query.is_some() {
            return Err(Error::rejected(
                "config",
                "--dns-endpoint must not carry a query string",
            ));
        }
        for spec in &g.nameserver {
            propagation::parse_host_port(spec, 53)
                .map_err(|e| Error::rejected("config", format!("--nameserver {e}")))?;
        }
        if let Some(r) = nonblank(g.resolver.clone()) {
            propagation::parse_host_port(&r, 53)
                .map_err(|e| Error::rejected("config", format!("--resolver {e}")))?;
        }
        let zone = match nonblank(g.zone.clone()) {
            Some(z) => Some(
                zone::normalize_domain(&z)
                    .map_err(|e| Error::rejected("config", format!("--zone: {e}")))?,
            ),
            None => None,
        };
        let level = if g.quiet {
            Level::Quiet
        } else if g.verbose {
            Level::Verbose
        } else {
            Level::Normal
        };
        Ok(Options {
            chain: vec![Source::Static(keys), Source::Metadata(metadata_url)],
            project_id: nonblank(g.project_id.clone()),
            dns_endpoint,
            hook: hook::Settings {
                ttl: g.ttl,
                zone,
                timeout: Duration::from_secs(g.propagation_timeout),
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
                resolver: nonblank(g.resolver.clone()),
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
            level,
            warnings,
        })
    }
}

/// Where a (possibly global) argument's value came from.
fn find_source(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    if let Some(s) = m.value_source(id) {
        if s == ValueSource::CommandLine {
            return Some(s);
        }
        // Globals are propagated down; a subcommand may hold the command-line one.
        if let Some((_, sub)) = m.subcommand()
            && sub.value_source(id) == Some(ValueSource::CommandLine)
        {
            return Some(ValueSource::CommandLine);
        }
        return Some(s);
    }
    None
}

/// Everything a run needs from the outside world, injected.
pub struct World {
    pub env: HashMap<String, String>,
    pub clock: Rc<dyn Clock>,
    pub report_out: Box<dyn std::io::Write>,
    pub stdout: Box<dyn std::io::Write>,
    pub stdin: Box<dyn std::io::Read>,
}

impl World {
    /// The system resolver configuration (for the NS fallback only).
    pub fn resolv_conf(&self) -> String {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    }

    pub fn real() -> World {
        World {
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            clock: Rc::new(SystemClock::default()),
            report_out: Box::new(std::io::stderr()),
            stdout: Box::new(std::io::stdout()),
            stdin: Box::new(std::io::stdin()),
        }
    }
}

/// Runs the binary: parses `args`, runs, prints the one-line error, returns the exit code.
pub fn main_with(args: Vec<std::ffi::OsString>, world: World) -> ExitCode {
    let mut stderr = std::io::stderr();
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            // --help and --version are answers, not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match run(cli, &matches, world) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(stderr, "otc-acme-hook: {e}");
            ExitCode::from(e.exit.code())
        }
    }
}

fn run(cli: Cli, matches: &ArgMatches, mut world: World) -> Result<()> {
    let opts = Options::from_cli(&cli.global, matches, &world.env)?;
    let report = Report::new(
        opts.level,
        std::mem::replace(&mut world.report_out, Box::new(std::io::sink())),
    );
    for w in &opts.warnings {
        report.warn(w);
    }
    match cli.command {
        Command::Auth | Command::Cleanup => {
            let env = CertbotEnv::from_env(&world.env)?;
            let otc = connect(&opts, &world, &report)?;
            let dns = crate::dns_api::Memo::new(&otc);
            // Short: a lost datagram is simply asked again on the next poll.
            let query = NetDns {
                timeout: Duration::from_secs(1),
            };
            let flow = Flow {
                hook: Hook {
                    api: &dns,
                    clock: world.clock.as_ref(),
                    report: &report,
                    settings: opts.hook.clone(),
                },
                checker: Checker {
                    dns: &query,
                    clock: world.clock.as_ref(),
                    report: &report,
                    settings: opts.propagation.clone(),
                    resolv_conf: world.resolv_conf(),
                },
                mode: opts.mode,
            };
            if matches!(cli.command, Command::Auth) {
                flow.auth(&env)
            } else {
                flow.cleanup(&env)
            }
        }
        Command::Api(args) => crate::api_cmd::run(&args, &opts, &mut world, &report),
    }
}

/// The transport for cloud APIs.
pub fn api_transport(opts: &Options) -> Box<dyn Transport> {
    Box::new(UreqTransport::new(Timeouts {
        connect: opts.http_timeout.min(Duration::from_secs(5)),
        whole: opts.http_timeout,
    }))
}

/// Resolves credentials and builds the signed client.
pub fn signed_client(opts: &Options, world: &World, report: &Report) -> Result<SignedClient> {
    // Metadata: short timeouts and never a proxy (the transport uses none).
    let md = UreqTransport::new(Timeouts {
        connect: Duration::from_secs(1),
        whole: Duration::from_secs(3),
    });
    let creds = credentials::resolve(
        &opts.chain,
        &credentials::Ctx {
            metadata_transport: &md,
        },
    )?;
    report.verbose(format!(
        "credentials from {} (access key {}{})",
        creds.source,
        creds.access_hint(),
        if creds.is_temporary() {
            ", temporary"
        } else {
            ""
        }
    ));
    Ok(SignedClient::new(
        api_transport(opts),
        creds,
        opts.project_id.clone(),
        world.clock.clone(),
    ))
}

fn connect(opts: &Options, world: &World, report: &Report) -> Result<OtcDns> {
    Ok(OtcDns::new(
        signed_client(opts, world, report)?,
        opts.dns_endpoint.clone(),
    ))
}
