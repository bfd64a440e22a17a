//! The command line, as clap defines it: nothing else. Parsing, the context
//! and dispatch are in [`crate::app`]; each cloud's own flags are defined in
//! its folder and flattened in here.

use clap::{Args, Parser, Subcommand};

/// `--help`'s text after the options: the clouds' credential sources (from
/// their folders), then this.
const AFTER_HELP: &str = "\
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

/// ACME DNS-01 hook for Open Telekom Cloud (and Huawei Cloud, OVHcloud, NAVER Cloud) DNS,
/// signed with the temporary credentials of the VM's identity (no access key on disk).
#[derive(Debug, Parser)]
#[command(name = "otc-acme-hook", version, after_help = after_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

fn after_help() -> String {
    format!("{}\n\n{AFTER_HELP}", crate::clouds::credentials_help())
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
    /// Use only this credential source (static = flags or environment)
    #[arg(long = "credentials", env = "OTC_CREDENTIALS", global = true, value_name = "SOURCE",
          value_parser = ["static", "file", "container", "metadata"], help_heading = CREDS)]
    pub credentials: Option<String>,
    /// File of `key = value` lines: access_key, secret_key, [security_token], [project_id] (ovh: client_id, client_secret); mode 600
    #[arg(long = "credentials-file", env = "OTC_CREDENTIALS_FILE", global = true, value_name = "FILE",
          help_heading = CREDS)]
    pub credentials_file: Option<String>,
    // The help names each cloud's default, from the cloud's own folder.
    #[arg(short = 'm', long = "metadata-url", visible_alias = "metadata", env = "OTC_METADATA_URL", global = true, value_name = "URL",
          help = crate::clouds::metadata_url_help(), help_heading = CREDS)]
    pub metadata_url: Option<String>,

    /// Cloud whose default endpoints are used
    #[arg(long = "cloud", env = "OTC_CLOUD", global = true, value_name = "CLOUD", default_value = crate::clouds::DEFAULT,
          value_parser = crate::clouds::CLOUDS, help_heading = CLOUD)]
    pub cloud: String,
    // The help names each cloud's default, from the cloud's own folder.
    #[arg(long = "region", env = "OTC_REGION", global = true, value_name = "REGION",
          help = crate::clouds::region_help(), help_heading = CLOUD)]
    pub region: Option<String>,
    // The help names each cloud's default, from the cloud's own folder.
    #[arg(long = "dns-endpoint", env = "OTC_DNS_ENDPOINT", global = true, value_name = "URL",
          help = crate::clouds::dns_endpoint_help(), help_heading = CLOUD)]
    pub dns_endpoint: Option<String>,
    /// Extra CA certificates (PEM) to trust besides the system's, e.g. an inspecting proxy's
    #[arg(long = "ca-file", env = "OTC_CA_FILE", global = true, value_name = "FILE", help_heading = CLOUD)]
    pub ca_file: Option<String>,
    /// Timeout of one HTTP request, seconds
    #[arg(long = "http-timeout", env = "OTC_HTTP_TIMEOUT", global = true, value_name = "SECONDS",
          default_value_t = crate::defaults::HTTP_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=600), help_heading = CLOUD)]
    pub http_timeout: u64,
    /// Extra attempts after throttling, a 5xx or a lost connection
    #[arg(long = "retries", env = "OTC_RETRIES", global = true, value_name = "N", default_value_t = crate::defaults::RETRIES,
          value_parser = clap::value_parser!(u32).range(0..=20), help_heading = CLOUD)]
    pub retries: u32,
    /// Requests of a run sent at once, from 1 (one after another) to 32
    #[arg(long = "parallel", env = "OTC_PARALLEL", global = true, value_name = "N", default_value_t = crate::defaults::PARALLEL,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::defaults::PARALLEL_MAX as u64), help_heading = CLOUD)]
    pub parallel: usize,
    /// Longest a whole run may take, seconds (at least the propagation timeout)
    #[arg(long = "deadline", env = "OTC_DEADLINE", global = true, value_name = "SECONDS", default_value_t = crate::defaults::DEADLINE_SECS,
          help_heading = CLOUD)]
    pub deadline: u64,

    /// Use this public zone instead of finding the longest matching one
    #[arg(long = "zone", env = "OTC_ZONE", global = true, value_name = "ZONE", help_heading = DNS)]
    pub zone: Option<String>,
    /// TTL of the TXT records we create, seconds (OTC: an existing recordset keeps its own)
    #[arg(long = "ttl", env = "OTC_TTL", global = true, value_name = "SECONDS", default_value_t = crate::defaults::TTL,
          value_parser = clap::value_parser!(u32).range(300..=2_147_483_647), help_heading = DNS)]
    pub ttl: u32,
    /// How long to wait for the change to be live, seconds
    #[arg(long = "propagation-timeout", env = "OTC_PROPAGATION_TIMEOUT", global = true, value_name = "SECONDS",
          default_value_t = crate::defaults::PROPAGATION_TIMEOUT_SECS, help_heading = DNS)]
    pub propagation_timeout: u64,
    /// Authoritative nameserver to check instead of the zone's (repeatable): HOST, HOST:PORT or [V6]:PORT
    #[arg(long = "nameserver", env = "OTC_NAMESERVERS", global = true, value_name = "HOST[:PORT]",
          value_delimiter = ',', action = clap::ArgAction::Append, help_heading = DNS)]
    pub nameserver: Vec<String>,
    /// Port on which the discovered nameservers are asked
    #[arg(long = "nameserver-port", env = "OTC_NAMESERVER_PORT", global = true, value_name = "PORT",
          default_value_t = crate::defaults::NAMESERVER_PORT, help_heading = DNS)]
    pub nameserver_port: u16,
    /// Recursive resolver for finding NS names when the API names none (default: the system's)
    #[arg(long = "resolver", env = "OTC_RESOLVER", global = true, value_name = "HOST[:PORT]", help_heading = DNS)]
    pub resolver: Option<String>,
    /// Don't ask the nameservers; trust the API (OTC ACTIVE, OVH refreshed, NCP applied), for networks that block port 53
    #[arg(long = "no-dns-check", env = "OTC_NO_DNS_CHECK", global = true, help_heading = DNS,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_dns_check: bool,
    /// Extra wait after every nameserver serves the values, seconds
    #[arg(long = "settle", env = "OTC_SETTLE", global = true, value_name = "SECONDS", default_value_t = crate::defaults::SETTLE_SECS,
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

    /// Each cloud's own flags.
    #[command(flatten)]
    pub clouds: crate::clouds::CloudFlags,
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
    /// For the acme.sh script: the variables the hook reads for the cloud in force (--cloud,
    /// OTC_CLOUD or the config file), one a line: `NAME secret` or `NAME setting`
    AcmeShVars,
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
    /// Print the answer unredacted: fields named like secrets (secret, securitytoken, Authorization, …) and values of secrets this run holds
    #[arg(long = "show-secrets")]
    pub show_secrets: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap's own consistency checks (duplicate names, bad defaults, conflicts).
    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    /// The documented defaults are the ones of defaults.rs (which the settings structs use too).
    #[test]
    fn clap_defaults_are_the_shared_ones() {
        use crate::defaults as d;
        let cmd = Cli::command();
        let default = |long: &str| {
            let a = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .unwrap_or_else(|| panic!("--{long}"));
            a.get_default_values()[0].to_string_lossy().into_owned()
        };
        assert_eq!(default("ttl"), d::TTL.to_string());
        assert_eq!(default("http-timeout"), d::HTTP_TIMEOUT_SECS.to_string());
        assert_eq!(default("retries"), d::RETRIES.to_string());
        assert_eq!(default("parallel"), d::PARALLEL.to_string());
        assert_eq!(default("deadline"), d::DEADLINE_SECS.to_string());
        assert_eq!(
            default("propagation-timeout"),
            d::PROPAGATION_TIMEOUT_SECS.to_string()
        );
        assert_eq!(default("nameserver-port"), d::NAMESERVER_PORT.to_string());
        assert_eq!(default("settle"), d::SETTLE_SECS.to_string());
        let hook = crate::flow::hook::Settings::default();
        assert_eq!(hook.ttl, d::TTL);
        assert_eq!(hook.timeout, d::PROPAGATION_TIMEOUT);
        assert_eq!(hook.deadline, d::DEADLINE);
        assert_eq!(hook.parallel, d::PARALLEL);
        let p = crate::propagation::Settings::default();
        assert_eq!(p.port, d::NAMESERVER_PORT);
        assert_eq!(p.timeout, d::PROPAGATION_TIMEOUT);
        assert_eq!(crate::client::RetryPolicy::default().retries, d::RETRIES);
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
        assert_eq!(
            cli.global.metadata_url.as_deref(),
            Some("http://127.0.0.1:1/m")
        );
    }
}
