//! Open Telekom Cloud and Huawei Cloud (same API and signer): `SDK-HMAC-SHA256`
//! signing, the credential chain (ECS agency metadata, delegated agency, CCE pod
//! identity, OIDC, static keys), the signed client and its error codes, and DNS v2.
//!
//! This file is the cloud's descriptor, [`CLOUD`]: what the registry
//! ([`crate::clouds`]) and `--help` know of it.

pub mod auth;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod dns;
pub mod errors;
pub mod flags;
pub mod signed;
pub mod types;

use std::sync::Arc;

use clap::{ArgMatches, Args};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Cloud, CloudConfig, CloudInput, Connection};
use crate::error::Result;
use crate::http::Url;
use crate::report::Report;

/// OTC's credential variables (clap's and the aliases), which no other cloud reads.
const CREDENTIAL_VARIABLES: [&str; 5] = [
    "OS_ACCESS_KEY",
    "OS_SECRET_KEY",
    "OS_SECURITY_TOKEN",
    "OS_ACCESS_SECRET",
    "OS_ACCESS_TOKEN",
];

pub const CLOUD: Cloud = Cloud {
    names: flags::CLOUDS,
    flags: flags::OtcArgs::augment_args,
    configure,
    env_read_by_hand: &config::ENV_READ_BY_HAND,
    env_read_by_hand_what: config::ENV_READ_BY_HAND_WHAT,
    secret_variables: &config::SECRET_VARIABLES,
    aliases: &config::ALIASES,
    reads_key_variables: true,
    owns_variable: |name| CREDENTIAL_VARIABLES.contains(&name),
    temporary_variables: &["OS_SECURITY_TOKEN", "OS_ACCESS_TOKEN"],
    region_help: &[("otc, huawei", config::DEFAULT_REGION)],
    region_note: "(OTC's public DNS is always in eu-de)",
    dns_endpoint_help: &[
        ("", dns::DEFAULT_ENDPOINT),
        ("huawei", "https://dns.REGION.myhuaweicloud.com"),
    ],
    metadata_url_help: &[("otc, huawei", credentials::metadata::DEFAULT_URL)],
    credentials_help: "--ak/--sk/--token; OS_ACCESS_KEY / OS_SECRET_KEY / OS_SECURITY_TOKEN; \
        --credentials-file; a container identity (CCE pod identity, OIDC); the ECS metadata \
        service (the agency attached to this VM). --agency-name then assumes an agency of \
        another account with them.",
};

fn configure(input: &CloudInput, m: &ArgMatches) -> Result<(Box<dyn CloudConfig>, Vec<String>)> {
    let mut warnings = Vec::new();
    for (flag, given) in [
        ("--sk", input.flag_keys.secret.is_some()),
        ("--token", input.flag_keys.token.is_some()),
    ] {
        if given {
            warnings.push(config::command_line_secret_warning(flag));
        }
    }
    let flags: flags::OtcArgs = crate::cloud_api::own_flags(m)?;
    Ok((Box::new(config::configure(input, &flags)?), warnings))
}

impl CloudConfig for config::OtcConfig {
    fn dns_endpoint(&self) -> &Url {
        &self.dns_endpoint
    }
    fn connect(
        &self,
        net: &Net,
        clock: Arc<dyn Clock>,
        report: &Arc<Report>,
    ) -> Result<Box<dyn Connection>> {
        Ok(Box::new(connect::connect(self, net, clock, report)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The descriptor's help texts say what the folder defines.
    #[test]
    fn help_defaults_are_the_profiles_ones() {
        let huawei = config::profile("huawei", "REGION");
        assert_eq!(CLOUD.dns_endpoint_help[1], ("huawei", huawei.dns.as_str()));
        assert_eq!(
            CLOUD.dns_endpoint_help[0].1,
            config::profile("otc", "REGION").dns
        );
        for v in CLOUD
            .secret_variables
            .iter()
            .chain(CLOUD.temporary_variables)
        {
            assert!((CLOUD.owns_variable)(v), "{v}");
        }
    }
}
