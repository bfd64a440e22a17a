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

pub mod auth;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod dns;
pub mod endpoints;
pub mod flags;
pub mod token;

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
