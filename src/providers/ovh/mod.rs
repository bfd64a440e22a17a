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
