//! OVHcloud settings from the shared flags and this cloud's own: endpoints
//! (`--region eu|ca|us`, `OVH_ENDPOINT`, `--dns-endpoint`, `--token-endpoint`)
//! and the credential chain, with every check that needs no network.

use std::path::PathBuf;

use super::credentials::{self, Auth, Found, Inputs, RealFiles};
use super::endpoints::{EndpointInputs, Endpoints};
use super::flags::OvhArgs;
use crate::error::{Error, Result};
use crate::http::Url;
use crate::provider::CloudInput;

/// Everything an OVH run needs to connect.
#[derive(Debug, Clone)]
pub struct OvhConfig {
    pub endpoints: Endpoints,
    /// The API base (including `/1.0`) as a URL.
    pub dns_endpoint: Url,
    /// The credentials found, and where.
    pub found: Found,
    /// The token URL, for a service account.
    pub token_url: Option<String>,
}

fn nonblank(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.trim().is_empty())
}

/// `flags` holds this cloud's flags given on the command line (their ids):
/// clap merges `--client-id` with `OVH_CLIENT_ID`, the chain keeps them apart.
pub fn configure(
    input: &CloudInput,
    g: &OvhArgs,
    files: &dyn credentials::Files,
) -> Result<(OvhConfig, Vec<String>)> {
    let k = &input.flag_keys;
    if k.access.is_some() || k.secret.is_some() || k.token.is_some() {
        return Err(Error::rejected(
            "config",
            "--ak/--sk/--token are OTC / Huawei Cloud keys, not OVHcloud's",
        )
        .hint("give a service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET or --client-id/--client-secret), or OVH_APPLICATION_KEY/OVH_APPLICATION_SECRET/OVH_CONSUMER_KEY"));
    }
    let cli = |id: &str| input.cli_flags.iter().any(|f| f == id);
    let flags = credentials::Flags {
        client_id: nonblank(&g.client_id).filter(|_| cli("client_id")),
        client_secret: nonblank(&g.client_secret).filter(|_| cli("client_secret")),
        credentials_file: nonblank(&input.credentials_file).map(PathBuf::from),
    };
    let mut warnings = Vec::new();
    if flags.client_secret.is_some() {
        warnings.push(credentials::CLIENT_SECRET_FLAG_WARNING.to_string());
    }
    let env = |name: &str| input.env.get(name).cloned();
    let (endpoints, found) = credentials::resolve(
        &Inputs {
            flags: &flags,
            env: &env,
            files,
        },
        EndpointInputs {
            region: nonblank(&input.region),
            dns_endpoint: nonblank(&input.dns_endpoint),
            token_endpoint: nonblank(&g.token_endpoint),
            ..Default::default()
        },
    )?;
    let token_url = match found.auth {
        Auth::ServiceAccount { .. } => Some(endpoints.token_url_for_service_account()?.to_string()),
        _ => None,
    };
    let dns_endpoint = Url::parse(&endpoints.api_base)
        .map_err(|e| Error::rejected("config", format!("--dns-endpoint: {e}")))?;
    Ok((
        OvhConfig {
            endpoints,
            dns_endpoint,
            found,
            token_url,
        },
        warnings,
    ))
}

/// [`configure`] over the real file system.
pub fn configure_real(input: &CloudInput, g: &OvhArgs) -> Result<(OvhConfig, Vec<String>)> {
    configure(input, g, &RealFiles)
}
