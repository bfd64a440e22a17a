//! The command line: the clap definition, and `main_with`, which parses,
//! validates into [`Options`](crate::options::Options) (before any network
//! call), runs the subcommand and prints the one-line error.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::certbot::Challenge;
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::local::Local;
use crate::options::Options;
use crate::propagation::net::NetDns;
use crate::report::{Level, Report};
use crate::session;

const AFTER_HELP: &str = "\
Credentials, first found wins: --ak/--sk/--token; OS_ACCESS_KEY / OS_SECRET_KEY /
OS_SECURITY_TOKEN; --credentials-file; a container identity (CCE pod identity, OIDC);
the ECS metadata service (the agency attached to this VM). --agency-name then assumes
an agency of another account with them.

certbot:
  certbot certonly --manual --preferred-challenges dns \\
    --manual-auth-hook 'otc-acme-hook auth' --manual-cleanup-hook 'otc-acme-hook cleanup' \\
    -d example.com -d '*.example.com'

Every option is also an environment variable (shown as [env: …]), which the config
file (--config) can set too; flags win over variables, variables over the file. Booleans
take 1/true/yes and 0/false/no; durations are seconds.

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

const CREDS: &str = "Credentials";
const CLOUD: &str = "Cloud and network";
const DNS: &str = "Records and propagation";

/// Settings shared by every subcommand; allowed before or after it.
#[derive(Debug, Args)]
pub struct Global {
    /// Access key (prefer the ECS agency: a key on the command line shows in `ps`)
    // allow_hyphen_values on the credentials: the next word is always the value, so a
    // key starting with '-' is taken, never echoed back as an unknown argument.
    // The aliases are the long forms of the OTC how-to's aksk_apicall script.
    #[arg(short = 'a', long = "ak", visible_alias = "access-key", env = "OS_ACCESS_KEY", global = true, hide_env_values = true,
          allow_hyphen_values = true, value_name = "AK", help_heading = CREDS)]
    pub ak: Option<String>,
    /// Secret key (also read from OS_ACCESS_SECRET)
    #[arg(short = 's', long = "sk", visible_alias = "secret-key", env = "OS_SECRET_KEY", global = true, hide_env_values = true,
          allow_hyphen_values = true, value_name = "SK", help_heading = CREDS)]
    pub sk: Option<String>,
    /// Security token of temporary credentials (also read from OS_ACCESS_TOKEN)
    #[arg(short = 't', long = "token", visible_alias = "security-token", env = "OS_SECURITY_TOKEN", global = true, hide_env_values = true,
          allow_hyphen_values = true, value_name = "TOKEN", help_heading = CREDS)]
    pub token: Option<String>,
    /// Project id, sent (and signed) as X-Project-Id; also the scope of an OIDC identity
    #[arg(long = "project-id", env = "OS_PROJECT_ID", global = true, value_name = "ID", help_heading = CREDS)]
    pub project_id: Option<String>,
    /// Use only this credential source (static = flags or environment)
    #[arg(long = "credentials", env = "OTC_CREDENTIALS", global = true, value_name = "SOURCE",
          value_parser = ["static", "file", "container", "metadata"], help_heading = CREDS)]
    pub credentials: Option<String>,
    /// File of `key = value` lines: access_key, secret_key, [security_token], [project_id]; mode 600
    #[arg(long = "credentials-file", env = "OTC_CREDENTIALS_FILE", global = true, value_name = "FILE",
          help_heading = CREDS)]
    pub credentials_file: Option<String>,
    /// ECS metadata URL of the agency's temporary credentials
    #[arg(short = 'm', long = "metadata-url", visible_alias = "metadata", env = "OTC_METADATA_URL", global = true, value_name = "URL",
          default_value = crate::providers::otc::credentials::metadata::DEFAULT_URL, help_heading = CREDS)]
    pub metadata_url: String,
    /// Assume this agency of another account with the credentials found
    #[arg(long = "agency-name", env = "OTC_AGENCY_NAME", global = true, value_name = "NAME", help_heading = CREDS)]
    pub agency_name: Option<String>,
    /// Account (domain) name that owns the agency
    #[arg(long = "agency-domain-name", env = "OTC_AGENCY_DOMAIN_NAME", global = true, value_name = "NAME",
          help_heading = CREDS)]
    pub agency_domain_name: Option<String>,
    /// Account (domain) id that owns the agency
    #[arg(long = "agency-domain-id", env = "OTC_AGENCY_DOMAIN_ID", global = true, value_name = "ID",
          help_heading = CREDS)]
    pub agency_domain_id: Option<String>,
    /// Lifetime of the agency's temporary credentials, seconds
    #[arg(long = "agency-duration", env = "OTC_AGENCY_DURATION", global = true, value_name = "SECONDS",
          default_value_t = 900, value_parser = clap::value_parser!(u32).range(900..=86_400), help_heading = CREDS)]
    pub agency_duration: u32,
    /// Project (region) name of OTC's token path for the agency [default: the region]
    #[arg(long = "project-name", env = "OTC_PROJECT_NAME", global = true, value_name = "NAME", help_heading = CREDS)]
    pub project_name: Option<String>,
    /// CCE pod identity: the container credentials URI (Huawei Cloud SDKs' variable)
    #[arg(long = "container-credentials-uri", env = "HC_CONTAINER_CREDENTIALS_FULL_URI", global = true,
          value_name = "URL", help_heading = CREDS)]
    pub container_uri: Option<String>,
    /// CCE pod identity: file with the token sent as Authorization to that URI
    #[arg(long = "container-token-file", env = "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", global = true,
          value_name = "FILE", help_heading = CREDS)]
    pub container_token_file: Option<String>,
    /// CCE endpoint of assume-agency-for-pod-identity [default: from --cloud/--region]
    #[arg(long = "cce-endpoint", env = "OTC_CCE_ENDPOINT", global = true, value_name = "URL", help_heading = CREDS)]
    pub cce_endpoint: Option<String>,
    /// CCE pod identity: project id of the cluster
    #[arg(long = "cce-project-id", env = "OTC_CCE_PROJECT_ID", global = true, value_name = "ID", help_heading = CREDS)]
    pub cce_project_id: Option<String>,
    /// CCE pod identity: cluster id
    #[arg(long = "cce-cluster-id", env = "OTC_CCE_CLUSTER_ID", global = true, value_name = "ID", help_heading = CREDS)]
    pub cce_cluster_id: Option<String>,
    /// CCE pod identity: file with the pod's service account token
    #[arg(long = "cce-token-file", env = "OTC_CCE_TOKEN_FILE", global = true, value_name = "FILE",
          help_heading = CREDS)]
    pub cce_token_file: Option<String>,
    /// OIDC workload identity: the identity provider id in IAM
    #[arg(long = "idp-id", env = "OTC_IDP_ID", global = true, value_name = "ID", help_heading = CREDS)]
    pub idp_id: Option<String>,
    /// OIDC workload identity: file with the projected service account token
    #[arg(long = "id-token-file", env = "OTC_ID_TOKEN_FILE", global = true, value_name = "FILE",
          help_heading = CREDS)]
    pub id_token_file: Option<String>,

    /// Cloud whose default endpoints are used
    #[arg(long = "cloud", env = "OTC_CLOUD", global = true, value_name = "CLOUD", default_value = "otc",
          value_parser = ["otc", "huawei"], help_heading = CLOUD)]
    pub cloud: String,
    /// Region of the default endpoints (OTC's public DNS is always in eu-de)
    #[arg(long = "region", env = "OTC_REGION", global = true, value_name = "REGION", default_value = "eu-de",
          help_heading = CLOUD)]
    pub region: String,
    /// DNS API endpoint [default: https://dns.eu-de.otc.t-systems.com; huawei: https://dns.REGION.myhuaweicloud.com]
    #[arg(long = "dns-endpoint", env = "OTC_DNS_ENDPOINT", global = true, value_name = "URL", help_heading = CLOUD)]
    pub dns_endpoint: Option<String>,
    /// IAM endpoint [default: https://iam.REGION.otc.t-systems.com; huawei: https://iam.REGION.myhuaweicloud.com]
    #[arg(long = "iam-endpoint", env = "OTC_IAM_ENDPOINT", global = true, value_name = "URL", help_heading = CLOUD)]
    pub iam_endpoint: Option<String>,
    /// Extra CA certificates (PEM) to trust besides the system's, e.g. an inspecting proxy's
    #[arg(long = "ca-file", env = "OTC_CA_FILE", global = true, value_name = "FILE", help_heading = CLOUD)]
    pub ca_file: Option<String>,
    /// Timeout of one HTTP request, seconds
    #[arg(long = "http-timeout", env = "OTC_HTTP_TIMEOUT", global = true, value_name = "SECONDS",
          default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600), help_heading = CLOUD)]
    pub http_timeout: u64,
    /// Extra attempts after throttling, a 5xx or a lost connection
    #[arg(long = "retries", env = "OTC_RETRIES", global = true, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(0..=20), help_heading = CLOUD)]
    pub retries: u32,
    /// Longest a whole run may take, seconds (at least the propagation timeout)
    #[arg(long = "deadline", env = "OTC_DEADLINE", global = true, value_name = "SECONDS", default_value_t = 900,
          help_heading = CLOUD)]
    pub deadline: u64,

    /// Use this public zone instead of finding the longest matching one
    #[arg(long = "zone", env = "OTC_ZONE", global = true, value_name = "ZONE", help_heading = DNS)]
    pub zone: Option<String>,
    /// TTL of a TXT recordset we create, seconds (existing sets keep theirs)
    #[arg(long = "ttl", env = "OTC_TTL", global = true, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(300..=2_147_483_647), help_heading = DNS)]
    pub ttl: u32,
    /// How long to wait for the change to be live, seconds
    #[arg(long = "propagation-timeout", env = "OTC_PROPAGATION_TIMEOUT", global = true, value_name = "SECONDS",
          default_value_t = 300, help_heading = DNS)]
    pub propagation_timeout: u64,
    /// Authoritative nameserver to check instead of the zone's (repeatable): HOST, HOST:PORT or [V6]:PORT
    #[arg(long = "nameserver", env = "OTC_NAMESERVERS", global = true, value_name = "HOST[:PORT]",
          value_delimiter = ',', action = clap::ArgAction::Append, help_heading = DNS)]
    pub nameserver: Vec<String>,
    /// Port on which the discovered nameservers are asked
    #[arg(long = "nameserver-port", env = "OTC_NAMESERVER_PORT", global = true, value_name = "PORT",
          default_value_t = 53, help_heading = DNS)]
    pub nameserver_port: u16,
    /// Recursive resolver for finding NS names when the API names none (default: the system's)
    #[arg(long = "resolver", env = "OTC_RESOLVER", global = true, value_name = "HOST[:PORT]", help_heading = DNS)]
    pub resolver: Option<String>,
    /// Don't ask the nameservers; trust the API's ACTIVE status (for networks that block port 53)
    #[arg(long = "no-dns-check", env = "OTC_NO_DNS_CHECK", global = true, help_heading = DNS,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_dns_check: bool,
    /// Extra wait after every nameserver serves the values, seconds
    #[arg(long = "settle", env = "OTC_SETTLE", global = true, value_name = "SECONDS", default_value_t = 0,
          help_heading = DNS)]
    pub settle: u64,
    /// Don't follow a CNAME at _acme-challenge (write the TXT right there)
    #[arg(long = "no-cname", env = "OTC_NO_CNAME", global = true, help_heading = DNS,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_cname: bool,
    /// Wait in every auth hook for its own value, instead of once on certbot's last challenge
    #[arg(long = "no-wait-once", env = "OTC_NO_WAIT_ONCE", global = true, help_heading = DNS,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_wait_once: bool,

    /// Directory for the per-name locks and the journal of values not yet removed; a shared
    /// one (e.g. /tmp) gets a private otc-acme-hook-UID inside [default: /var/lib/otc-acme-hook
    /// for root, else $XDG_STATE_HOME/otc-acme-hook, i.e. ~/.local/state/otc-acme-hook]
    #[arg(long = "lock-dir", env = "OTC_LOCK_DIR", global = true, value_name = "DIR", help_heading = DNS)]
    pub lock_dir: Option<String>,
    /// lego: accept a FQDN that is not an _acme-challenge name (lego follows CNAMEs itself
    /// unless LEGO_DISABLE_CNAME_SUPPORT=true)
    #[arg(long = "any-name", env = "OTC_ANY_NAME", global = true, help_heading = DNS,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub any_name: bool,

    /// Configuration file of NAME=value lines (the variables below); flags and environment win over it
    /// [default: /etc/otc-acme-hook/config as root, else $XDG_CONFIG_HOME/otc-acme-hook/config]
    // Read before clap parses (config::prescan); declared here for --help, the docs and the check.
    #[arg(
        long = "config",
        env = "OTC_CONFIG",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<std::path::PathBuf>,

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
    /// lego exec provider: `present FQDN VALUE`, or `present -- DOMAIN TOKEN KEYAUTH` (EXEC_MODE=RAW)
    Present(LegoArgs),
    /// Remove exactly our value again: certbot (no arguments) or lego (as for present)
    Cleanup(LegoArgs),
    /// Preflight on this host: credentials, zones, a probe write, nameservers, delegation, clock
    Check(CheckArgs),
    /// Call any OTC API with a signed request and print the answer
    Api(ApiArgs),
    /// Print the man page or shell completions (for packagers)
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct LegoArgs {
    /// Positional words; from the first one on, words starting with - are values too
    #[arg(num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Domains to check (as on the certificate; *.example.com checks example.com)
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Skip the probe write (add and remove a value at _acme-challenge.DOMAIN)
    #[arg(long = "read-only")]
    pub read_only: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generate,
}

#[derive(Debug, Subcommand)]
pub enum Generate {
    /// The man page (roff) on stdout; with --dir, every page (one per subcommand too) into DIR
    Man {
        /// Write otc-acme-hook.1 and otc-acme-hook-SUBCOMMAND.1 into this directory
        #[arg(long = "dir", value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Shell completions on stdout
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
        shell: String,
    },
    /// A configuration file template on stdout: every setting, commented out, with its default
    Config,
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

/// Everything a run needs from the outside world, injected.
pub struct World {
    pub env: HashMap<String, String>,
    pub clock: Rc<dyn Clock>,
    pub report_out: Box<dyn std::io::Write>,
    /// Whether `report_out` is a terminal (someone watching, not certbot's log).
    pub report_is_terminal: bool,
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
            report_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            stdout: Box::new(std::io::stdout()),
            stdin: Box::new(std::io::stdin()),
        }
    }
}

/// Runs the binary: parses `args`, runs, prints the one-line error, returns the exit code.
pub fn main_with(args: Vec<std::ffi::OsString>, mut world: World) -> ExitCode {
    let fail = |e: crate::error::Error| {
        let _ = writeln!(std::io::stderr(), "otc-acme-hook: {e}");
        ExitCode::from(e.exit.code())
    };
    let cmd = Cli::command();
    let config = match crate::config::load(&args, &world.env, &cmd) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version still work with a broken file.
            return match cmd.try_get_matches_from(args) {
                Err(ce) if !ce.use_stderr() => clap_exit(&ce, None),
                _ => fail(e),
            };
        }
    };
    let from_file = crate::config::file_args(&cmd, &config.values, &world.env);
    let cmd = crate::config::apply(cmd, &config.values, &world.env);
    // Names read by hand (the aliases) see the file too; the environment wins.
    for (k, v) in &config.values {
        world.env.entry(k.clone()).or_insert_with(|| v.clone());
    }
    // A bad value from the file names the file: the operator didn't type it.
    let blame = |e: &clap::Error| {
        let arg = match e.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(a)) => a.clone(),
            _ => return None,
        };
        let (name, _) = from_file.iter().find(|(_, long)| {
            arg.strip_prefix(long.as_str())
                .is_some_and(|r| r.is_empty() || r.starts_with(' '))
        })?;
        let crate::config::Status::Read(path) = &config.status else {
            return None;
        };
        Some(format!("{name} is set in config file {}", path.display()))
    };
    let matches = match cmd.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_exit(&e, blame(&e)),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(&e, blame(&e)),
    };
    match run(cli, &matches, world, config.status) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Prints what clap has to say: --help and --version as clap writes them (exit 0),
/// and the help when no command is given; a usage error as our one stderr line (exit 2),
/// because a renewal log keeps one line per failure.
fn clap_exit(e: &clap::Error, note: Option<String>) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    use std::io::Write;
    let mut line = usage_line(&e.render().to_string());
    if let Some(note) = note {
        line = format!("{note}: {line}");
    }
    let _ = writeln!(std::io::stderr(), "otc-acme-hook: usage: {line}");
    ExitCode::from(2)
}

/// Folds clap's multi-line usage error into one line: the message and its details
/// (possible values, tips), then where to read more, taken from the `Usage:` line.
fn usage_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut command = None;
    let mut listing = false;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(usage) = line.strip_prefix("Usage:") {
            // `otc-acme-hook auth [OPTIONS]` -> `otc-acme-hook auth`
            let words: Vec<&str> = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            command = Some(words.join(" "));
        } else if !line.starts_with("For more information") {
            let line = line.strip_prefix("error:").unwrap_or(line).trim();
            // A heading ending in ':' takes the lines below it as a list.
            match parts.last_mut() {
                Some(last) if listing && !line.starts_with("tip:") => {
                    last.push_str(if last.ends_with(':') { " " } else { ", " });
                    last.push_str(line);
                }
                _ => {
                    listing = line.ends_with(':');
                    parts.push(line.to_string());
                }
            }
        }
    }
    // `[possible values: …]` belongs to the line above it.
    let mut out = parts.join("; ").replace("; [", " [");
    let command = command
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "otc-acme-hook".into());
    out.push_str(&format!("; see `{command} --help`"));
    out
}

/// Ends the process when the whole run takes longer than `deadline`: an
/// unattended renewal must never hang.
fn watchdog(deadline: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        eprintln!(
            "otc-acme-hook: deadline: the run took longer than {}s; raise --deadline, or look at the progress lines above",
            deadline.as_secs()
        );
        std::process::exit(1);
    });
}

/// certbot logs any stderr output of a hook as a warning ("ran with error
/// output"), stdout as a plain notice: under certbot (`CERTBOT_DOMAIN` set) a
/// successful hook keeps stderr empty and writes its info lines to stdout.
/// Only the hook commands, whose stdout carries nothing else; `-v` or a
/// terminal keep every line on stderr, as someone is watching.
fn info_on_stdout(hook_command: bool, world: &World, level: Level) -> bool {
    hook_command
        && world.env.contains_key("CERTBOT_DOMAIN")
        && !world.report_is_terminal
        && level < Level::Verbose
}

fn run(
    cli: Cli,
    matches: &ArgMatches,
    mut world: World,
    config: crate::config::Status,
) -> Result<()> {
    // Packagers generate docs in any environment: unrelated settings don't matter.
    if let Command::Generate(g) = &cli.command {
        return generate(&g.what, &mut world);
    }
    let mut opts = Options::from_cli(&cli.global, matches, &world.env)?;
    opts.config = config;
    let out = std::mem::replace(&mut world.report_out, Box::new(std::io::sink()));
    let hook_command = matches!(
        cli.command,
        Command::Auth | Command::Present(_) | Command::Cleanup(_)
    );
    let report = if info_on_stdout(hook_command, &world, opts.level) {
        let info = std::mem::replace(&mut world.stdout, Box::new(std::io::sink()));
        Rc::new(Report::split(opts.level, info, out))
    } else {
        Rc::new(Report::new(opts.level, out))
    };
    for w in &opts.warnings {
        report.warn(w);
    }
    report.verbose(format!("config file: {}", opts.config));
    let challenge = match &cli.command {
        Command::Auth => Some(Challenge::from_certbot_env(&world.env)?),
        Command::Cleanup(a) if a.args.is_empty() => Some(Challenge::from_certbot_env(&world.env)?),
        Command::Present(a) => Some(Challenge::from_lego_args(
            "present",
            &a.args,
            cli.global.any_name,
        )?),
        Command::Cleanup(a) => Some(Challenge::from_lego_args(
            "cleanup",
            &a.args,
            cli.global.any_name,
        )?),
        _ => None,
    };
    let local = match &cli.command {
        Command::Auth | Command::Present(_) | Command::Cleanup(_) | Command::Check(_) => {
            let (dir, warning) = crate::local::state_dir(opts.lock_dir.as_deref(), &world.env)?;
            if let Some(w) = warning {
                report.warn(w);
            }
            report.verbose(format!("state directory {}", dir.path.display()));
            let local = Local {
                dir,
                endpoint: opts.dns_endpoint.origin(),
            };
            local.adopt_legacy(&world.env);
            Some(local)
        }
        _ => None,
    };
    watchdog(opts.deadline);
    match cli.command {
        Command::Auth | Command::Present(_) | Command::Cleanup(_) => {
            let env = challenge.expect("set for these commands");
            if matches!(cli.command, Command::Auth)
                && let Some(l) = local.as_ref()
                && crate::certbot::defer_early(
                    &env,
                    l,
                    world.clock.as_ref(),
                    &report,
                    opts.mode.wait_once,
                )?
            {
                return Ok(());
            }
            if matches!(cli.command, Command::Cleanup(_))
                && let Some(l) = local.as_ref()
                && crate::certbot::removed_early(&env, l, &report, opts.mode.wait_once)?
            {
                return Ok(());
            }
            let otc = session::connect(&opts, &world, &report)?;
            let dns = crate::provider::Memo::new(&otc);
            // Short: a lost datagram is simply asked again on the next poll.
            let query = NetDns {
                timeout: Duration::from_secs(1),
            };
            let flow = session::flow(&opts, &world, &report, &dns, &query, local.as_ref());
            flow.hook.sweep();
            let (step, done) = if matches!(cli.command, Command::Cleanup(_)) {
                ("cleanup", flow.cleanup(&env))
            } else {
                ("auth", flow.auth(&env))
            };
            // Whatever was written and not yet published (a cleanup, an early
            // auth, a swept leftover) is published now, even after a failure.
            match (done, flow.hook.commit(step)) {
                (Err(e), Err(c)) => {
                    report.warn(format!("{}: {}", c.step, c.cause));
                    Err(e)
                }
                (done, committed) => done.and(committed),
            }
        }
        Command::Api(args) => crate::api_cmd::run(&args, &opts, &mut world, &report),
        Command::Check(args) => {
            crate::check::run(&args, &opts, &mut world, &report, local.as_ref())
        }
        Command::Generate(g) => generate(&g.what, &mut world),
    }
}

/// Man page and completions, from this very clap definition (never hand-kept).
fn generate(what: &Generate, world: &mut World) -> Result<()> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    match what {
        Generate::Config => buf = crate::config::template(&cmd).into_bytes(),
        Generate::Man { dir: None } => clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| crate::error::Error::failed("generate", e.to_string()))?,
        Generate::Man { dir: Some(dir) } => {
            return std::fs::create_dir_all(dir)
                .and_then(|_| clap_mangen::generate_to(cmd, dir))
                .map_err(|e| {
                    crate::error::Error::failed("generate", format!("{}: {e}", dir.display()))
                });
        }
        Generate::Completions { shell } => {
            use clap_complete::Shell;
            let sh = match shell.as_str() {
                "bash" => Shell::Bash,
                "zsh" => Shell::Zsh,
                "fish" => Shell::Fish,
                "elvish" => Shell::Elvish,
                _ => Shell::PowerShell,
            };
            clap_complete::generate(sh, &mut cmd, "otc-acme-hook", &mut buf);
        }
    }
    world
        .stdout
        .write_all(&buf)
        .map_err(|e| crate::error::Error::failed("generate", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_error(args: &[&str]) -> String {
        let e = Cli::command()
            .try_get_matches_from(args)
            .expect_err("a usage error");
        usage_line(&e.render().to_string())
    }

    #[test]
    fn usage_errors_fold_into_one_line_naming_the_help() {
        let line = usage_error(&["otc-acme-hook", "auth", "--bogus"]);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("unexpected argument '--bogus' found"),
            "{line}"
        );
        assert!(line.ends_with("see `otc-acme-hook auth --help`"), "{line}");

        let line = usage_error(&["otc-acme-hook", "--cloud", "aws", "auth"]);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("'aws'"), "{line}");
        assert!(line.contains("[possible values: otc, huawei]"), "{line}");

        let line = usage_error(&["otc-acme-hook", "api"]);
        assert!(
            line.starts_with("the following required arguments were not provided: <METHOD>, <URL>; see `otc-acme-hook api --help`"),
            "{line}"
        );

        let line = usage_error(&["otc-acme-hook", "auth", "--ttl", "soon"]);
        assert!(line.contains("--ttl <SECONDS>"), "{line}");
        assert!(!line.contains("error:"), "{line}");
    }

    #[test]
    fn info_lines_go_to_stdout_only_under_certbot_without_a_terminal_or_v() {
        let world = |certbot: bool, terminal: bool| {
            let mut w = World::real();
            w.env = HashMap::new();
            if certbot {
                w.env.insert("CERTBOT_DOMAIN".into(), "example.test".into());
            }
            w.report_is_terminal = terminal;
            w
        };
        assert!(info_on_stdout(true, &world(true, false), Level::Normal));
        assert!(info_on_stdout(true, &world(true, false), Level::Quiet));
        assert!(!info_on_stdout(true, &world(true, true), Level::Normal));
        assert!(!info_on_stdout(true, &world(true, false), Level::Verbose));
        assert!(!info_on_stdout(true, &world(false, false), Level::Normal));
        assert!(!info_on_stdout(false, &world(true, false), Level::Normal));
    }

    #[test]
    fn credentials_starting_with_a_hyphen_are_values_not_echoed_arguments() {
        let cli = Cli::try_parse_from([
            "otc-acme-hook",
            "auth",
            "--ak",
            "-AK1",
            "--sk",
            "--Secr3t",
            "-t",
            "-Tok3n",
        ])
        .expect("taken as values");
        assert_eq!(cli.global.ak.as_deref(), Some("-AK1"));
        assert_eq!(cli.global.sk.as_deref(), Some("--Secr3t"));
        assert_eq!(cli.global.token.as_deref(), Some("-Tok3n"));

        // The aksk_apicall long forms are the same arguments.
        let cli = Cli::try_parse_from([
            "otc-acme-hook",
            "api",
            "--access-key",
            "-AK1",
            "--secret-key",
            "--Secr3t",
            "--security-token",
            "-Tok3n",
            "--metadata",
            "http://127.0.0.1:1/m",
            "GET",
            "/v2/zones",
        ])
        .expect("taken as values");
        assert_eq!(cli.global.ak.as_deref(), Some("-AK1"));
        assert_eq!(cli.global.sk.as_deref(), Some("--Secr3t"));
        assert_eq!(cli.global.token.as_deref(), Some("-Tok3n"));
        assert_eq!(cli.global.metadata_url, "http://127.0.0.1:1/m");
    }
}
