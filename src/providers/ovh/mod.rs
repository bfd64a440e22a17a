//! OVHcloud DNS (`--cloud ovh`): API v1 with a service account's OAuth2
//! bearer token (preferred), a pre-minted token, or classic application keys.
//!
//! - [`endpoints`]: regions, API bases and token URLs (the defaults live here, once);
//! - [`credentials`]: the credential chain over injected environment and files;
//! - [`sign`]: the classic `X-Ovh-Signature`;
//! - [`token`]: OAuth2 client credentials, and the per-request authorizers;
//! - [`client`]: [`client::OvhClient`], the real [`dns::Sender`] (URL, headers, 401 retry);
//! - [`dns`]: [`dns::OvhDns`], the [`Provider`](crate::provider::Provider) over an injected sender.
//!
//! API facts: `shared/reference/ovh-api.md` of the project (copied where used).

pub mod client;
pub mod credentials;
pub mod dns;
pub mod endpoints;
pub mod sign;
pub mod token;

use std::rc::Rc;

/// Percent-encodes everything but `A-Za-z0-9-._~`: valid in a query and in
/// a form body alike.
pub(crate) fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for &b in v.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

use crate::clock::Clock;
use crate::error::Result;
use crate::http::Transport;

/// The provider for what the chain found: the authorizer (token source,
/// pre-minted bearer or classic signer) inside a [`client::OvhClient`] inside
/// [`dns::OvhDns`]. A service account needs a token URL (exit 2 otherwise).
/// No network call is made here.
pub fn connect(
    found: credentials::Found,
    ep: &endpoints::Endpoints,
    transport: Rc<dyn Transport>,
    clock: Rc<dyn Clock>,
) -> Result<dns::OvhDns<client::OvhClient>> {
    let token_url = match &found.auth {
        credentials::Auth::ServiceAccount { .. } => Some(ep.token_url_for_service_account()?),
        _ => None,
    };
    let auth = token::authorizer(
        found.auth,
        token_url,
        &ep.api_base,
        transport.clone(),
        clock,
    );
    Ok(dns::OvhDns::new(client::OvhClient::new(
        transport,
        &ep.api_base,
        auth,
    )))
}
