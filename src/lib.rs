//! otc-acme-hook: ACME DNS-01 hooks for Open Telekom Cloud DNS, signed with
//! the temporary credentials of an ECS agency.
//!
//! One module per concern: [`sign`] (pure signer), [`credentials`] (the chain
//! of sources), [`http`] (transport), [`signed`] (signed calls), [`dns_api`]
//! (the DNS backend seam and OTC's implementation), [`zone`] and [`txt`]
//! (pure name and TXT-set logic), [`hook`] (auth/cleanup flows), [`cli`],
//! and [`error`]; the simulator is its own crate, `otc-sim` (sim/).
#![forbid(unsafe_code)]

pub mod api_cmd;
pub mod api_error;
pub mod app;
pub mod certbot;
pub mod check;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod defaults;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod hook;
pub mod http;
pub mod local;
pub mod options;
pub mod propagation;
pub mod provider;
pub mod providers;
pub mod redact;
pub mod report;
pub mod session;
pub mod txt;
pub mod world;
pub mod zone;
