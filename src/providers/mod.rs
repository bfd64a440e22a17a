//! One folder per cloud. Each implements the seam of [`crate::provider`] and
//! owns everything of its API: signer, credential sources, error codes,
//! defaults and flags. This file is the registry: adding a cloud adds a line
//! to each of the lists below.

use std::rc::Rc;

use clap::{Args, Command};

use crate::client::Net;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::http::Url;
use crate::provider::{CloudInput, Connection};
use crate::report::Report;

pub mod ncp;
pub mod otc;
pub mod ovh;

/// The values of `--cloud`.
pub const CLOUDS: [&str; 3] = ["otc", "huawei", "ncp"];

/// The flags each cloud defines for itself, flattened into the CLI.
#[derive(Debug, Args)]
pub struct CloudFlags {
    #[command(flatten)]
    pub otc: otc::flags::OtcArgs,
}

/// A cloud's settings, validated before any network call.
#[derive(Debug, Clone)]
pub enum CloudConfig {
    Otc(otc::setup::OtcConfig),
    Ncp(ncp::setup::NcpConfig),
}

impl CloudConfig {
    /// The DNS API base (the journal keys its entries by its origin).
    pub fn dns_endpoint(&self) -> &Url {
        match self {
            CloudConfig::Otc(c) => &c.dns_endpoint,
            CloudConfig::Ncp(c) => c.dns_endpoint(),
        }
    }
}

/// Variables a cloud reads by hand (not through clap), which the config file
/// may set too, with a heading for the config template.
pub fn env_read_by_hand() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    out.extend(
        otc::setup::ENV_READ_BY_HAND
            .iter()
            .map(|n| (*n, otc::setup::ENV_READ_BY_HAND_WHAT)),
    );
    out.extend(
        ncp::setup::ENV_READ_BY_HAND
            .iter()
            .map(|n| (*n, ncp::setup::ENV_READ_BY_HAND_WHAT)),
    );
    out
}

/// Argument ids of each cloud's own flags, with the clouds they belong to.
pub fn flag_owners() -> Vec<(&'static [&'static str], Vec<String>)> {
    let ids = |cmd: Command| -> Vec<String> {
        cmd.get_arguments()
            .map(|a| a.get_id().to_string())
            .collect()
    };
    vec![(
        otc::flags::CLOUDS,
        ids(otc::flags::OtcArgs::augment_args(Command::new("otc"))),
    )]
}

/// Refuses a cloud's own flag given on the command line for another cloud.
pub fn check_flags(cloud: &str, on_command_line: &dyn Fn(&str) -> bool) -> Result<()> {
    for (clouds, ids) in flag_owners() {
        if clouds.contains(&cloud) {
            continue;
        }
        if let Some(id) = ids.iter().find(|id| on_command_line(id)) {
            let cmd = Command::new("x");
            let cmd = otc::flags::OtcArgs::augment_args(cmd);
            let long = cmd
                .get_arguments()
                .find(|a| a.get_id() == id.as_str())
                .and_then(|a| a.get_long())
                .unwrap_or(id);
            return Err(Error::rejected(
                "config",
                format!(
                    "--{long} belongs to --cloud {}, not --cloud {cloud}",
                    clouds.join("/")
                ),
            )
            .hint("drop it, or select its cloud"));
        }
    }
    Ok(())
}

/// The selected cloud's settings, and warnings to print once.
pub fn configure(input: &CloudInput, flags: &CloudFlags) -> Result<(CloudConfig, Vec<String>)> {
    let mut warnings = Vec::new();
    let cfg = match input.cloud.as_str() {
        "otc" | "huawei" => {
            for (flag, given) in [
                ("--sk", input.flag_keys.secret.is_some()),
                ("--token", input.flag_keys.token.is_some()),
            ] {
                if given {
                    warnings.push(otc::setup::command_line_secret_warning(flag));
                }
            }
            CloudConfig::Otc(otc::setup::configure(input, &flags.otc)?)
        }
        "ncp" => {
            if input.flag_keys.secret.is_some() {
                warnings.push(ncp::setup::command_line_secret_warning("--sk"));
            }
            CloudConfig::Ncp(ncp::setup::configure(input)?)
        }
        other => {
            return Err(Error::rejected(
                "config",
                format!("unknown cloud {other:?}"),
            ));
        }
    };
    Ok((cfg, warnings))
}

/// Connects to the selected cloud: its credentials, client and DNS provider.
pub fn connect(
    cfg: &CloudConfig,
    net: &Net,
    clock: Rc<dyn Clock>,
    report: &Rc<Report>,
) -> Result<Box<dyn Connection>> {
    Ok(match cfg {
        CloudConfig::Otc(c) => Box::new(otc::connect::connect(c, net, clock, report)?),
        CloudConfig::Ncp(c) => Box::new(ncp::connect::connect(c, net, clock, report)?),
    })
}
