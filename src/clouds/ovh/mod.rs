//! OVHcloud DNS (`--cloud ovh`): API v1 with a service account's OAuth2
//! bearer token (preferred), a pre-minted token, or classic application keys.
//!
//! - [`endpoints`]: regions, API bases and token URLs (the defaults live here, once);
//! - [`credentials`]: the credential chain over injected environment and files;
//! - [`auth`]: the classic `X-Ovh-Signature`;
//! - [`token`]: OAuth2 client credentials, and the per-request authorizers;
//! - [`dns`]: [`dns::OvhDns`], the [`DnsApi`](crate::cloud_api::DnsApi) over an injected sender;
//! - [`flags`]: this cloud's own flags; [`config`]: its settings from the CLI;
//! - [`connect`]: the shared retrying client with OVH's `Auth`, the
//!   provider over it, and [`connect::OvhConnection`] for `check` and `api`.
//!
//! API facts: `shared/reference/ovh-api.md` of the project (copied where used).
//!
//! This file is the cloud's descriptor, [`CLOUD`]: what the registry
//! ([`crate::clouds`]) and `--help` know of it.

pub mod auth;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod dns;
pub mod endpoints;
pub mod errors;
pub mod flags;
pub mod token;
pub mod types;

use std::sync::Arc;

use clap::{ArgMatches, Args};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Cloud, CloudConfig, CloudInput, Connection};
use crate::error::Result;
use crate::http::Url;
use crate::report::Report;

pub const CLOUD: Cloud = Cloud {
    names: flags::CLOUDS,
    flags: flags::OvhArgs::augment_args,
    configure,
    env_read_by_hand: &credentials::ENV_READ_BY_HAND,
    env_read_by_hand_what: "OVHcloud's variables without a flag (--cloud ovh; the OVH tools' names)",
    secret_variables: &credentials::SECRET_VARIABLES,
    aliases: &credentials::ALIASES,
    reads_key_variables: false,
    owns_variable: |name| name.starts_with("OVH_"),
    temporary_variables: &[credentials::ENV_ACCESS_TOKEN],
    region_help: &[("ovh", "eu (eu, ca, us)")],
    region_note: "",
    dns_endpoint_help: &[("ovh", "the region's API base, e.g. https://eu.api.ovh.com/1.0")],
    metadata_url_help: &[],
    credentials_help: "--client-id/--client-secret; OVH_CLIENT_ID with OVH_CLIENT_SECRET, \
        OVH_ACCESS_TOKEN or classic application keys; OVH_CLIENT_SECRET_FILE or the systemd \
        credential ovh_client_secret; --credentials-file; ovh.conf.",
};

fn configure(input: &CloudInput, m: &ArgMatches) -> Result<(Box<dyn CloudConfig>, Vec<String>)> {
    let flags: flags::OvhArgs = crate::cloud_api::own_flags(m)?;
    let (cfg, warnings) = config::configure_real(input, &flags)?;
    Ok((Box::new(cfg), warnings))
}

impl CloudConfig for config::OvhConfig {
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

    /// The descriptor's help texts say what endpoints.rs defines.
    #[test]
    fn help_defaults_are_the_endpoints_ones() {
        let regions = endpoints::REGIONS.join(", ");
        assert_eq!(
            CLOUD.region_help,
            [("ovh", format!("{} ({regions})", endpoints::DEFAULT_REGION.as_str()).as_str())]
        );
        assert!(CLOUD.dns_endpoint_help[0].1.ends_with(endpoints::API_EU));
        assert!(CLOUD.temporary_variables.iter().all(|v| v.starts_with("OVH_")));
        assert!(CLOUD.env_read_by_hand.iter().all(|v| (CLOUD.owns_variable)(v)));
    }
}
