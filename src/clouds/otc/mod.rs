//! Open Telekom Cloud and Huawei Cloud (same API and signer): `SDK-HMAC-SHA256`
//! signing, the credential chain (ECS agency metadata, delegated agency, CCE pod
//! identity, OIDC, static keys), the signed client and its error codes, and DNS v2.

pub mod auth;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod dns;
pub mod flags;
pub mod signed;
pub mod types;
