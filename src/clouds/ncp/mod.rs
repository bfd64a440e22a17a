//! NAVER Cloud Platform (NCP): Global DNS v1 behind the cloud seam, signed
//! with API Gateway signature v2, with keys from flags, environment, a file or
//! the server role of the instance metadata.
//!
//! - [`auth`]: the signature (pure).
//! - [`credentials`]: the chain of sources, over injected env, files and server role.
//! - [`metadata`]: the server role's temporary keys (metadata v2, v1 fallback).
//! - [`dns`]: [`dns::NcpDns`], the [`crate::cloud_api::DnsApi`] over an injected sender.
//! - [`config`]: [`config::NcpConfig`] from the shared flags (`--cloud ncp`), the region, the
//!   endpoints and every NCP default.
//! - [`connect`]: [`connect::NcpConnection`], the shared client signing with [`connect::NcpAuth`].
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
pub mod metadata;
pub mod types;

use std::sync::Arc;

use clap::{ArgMatches, Args};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Cloud, CloudConfig, CloudInput, Connection};
use crate::report::Report;

pub const CLOUD: Cloud = Cloud {
    names: flags::CLOUDS,
    flags: flags::NcpArgs::augment_args,
    configure,
    env_read_by_hand: &config::ENV_READ_BY_HAND,
    env_read_by_hand_what: config::ENV_READ_BY_HAND_WHAT,
    secret_variables: &config::SECRET_VARIABLES,
    aliases: &config::ALIASES,
    reads_key_variables: false,
    owns_variable: |name| name.starts_with("NCLOUD_"),
    temporary_variables: &[],
    region_help: &[("ncp", "pub (or gov)")],
    region_note: "",
    dns_endpoint_help: &[("ncp", DNS_ENDPOINT_PUB)],
    metadata_url_help: &[("ncp", DEFAULT_METADATA_URL)],
    credentials_help: "--ak/--sk; NCLOUD_ACCESS_KEY_ID / NCLOUD_SECRET_ACCESS_KEY; \
        --credentials-file or ~/.ncloud/configure; the server role from the instance metadata.",
};

fn configure(
    input: &CloudInput,
    _own_flags: &ArgMatches,
) -> crate::error::Result<(Box<dyn CloudConfig>, Vec<String>)> {
    let mut warnings = Vec::new();
    if input.flag_keys.secret.is_some() {
        warnings.push(config::command_line_secret_warning("--sk"));
    }
    Ok((Box::new(config::configure(input)?), warnings))
}

impl CloudConfig for config::NcpConfig {
    fn dns_endpoint(&self) -> &crate::http::Url {
        &self.settings.dns_base
    }
    fn connect(
        &self,
        net: &Net,
        clock: Arc<dyn Clock>,
        report: &Arc<Report>,
    ) -> crate::error::Result<Box<dyn Connection>> {
        Ok(Box::new(connect::connect(self, net, clock, report)?))
    }
}

pub use config::{
    DEFAULT_METADATA_URL, DEFAULT_REGION, DNS_ENDPOINT_GOV, DNS_ENDPOINT_PUB, NAMESERVERS,
    NCLOUD_CONFIGURE, Region, Settings, resolve_endpoint, resolve_metadata_url,
};
pub use crate::redact::Secret;

/// An NCP access key pair (an API key, or a server role's temporary one).
pub type Keys = crate::credentials::KeyPair;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_debug_redacts() {
        let k = Keys::new("ncp_iam_BPAMKR1", Secret::new("TOPSECRET"), None).from_source("flags");
        let d = format!("{k:?}");
        assert!(!d.contains("TOPSECRET") && !d.contains("BPAMKR1"), "{d}");
        assert!(d.contains("ncp_"), "{d}");
    }

    /// The descriptor's help texts say what this file defines.
    #[test]
    fn help_defaults_are_this_file_s() {
        assert_eq!(
            CLOUD.region_help[0].1,
            format!("{} (or gov)", DEFAULT_REGION.as_str())
        );
        assert_eq!(CLOUD.dns_endpoint_help[0].1, DEFAULT_REGION.dns_endpoint());
        assert!(CLOUD.env_read_by_hand.iter().all(|v| (CLOUD.owns_variable)(v)));
    }
}
