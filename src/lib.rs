//! otc-acme-hook: ACME DNS-01 hooks for Open Telekom Cloud / Huawei Cloud,
//! OVHcloud and NAVER Cloud DNS, with the cloud's workload identity where it
//! offers one.
//!
//! Shared modules name no cloud: the run engine ([`flow`], [`host_state`]),
//! pure logic ([`txt`], [`zone`], [`encoding`]), the [`propagation`] check,
//! the seam every cloud implements ([`cloud_api`], [`api_error`]), transport
//! ([`http`], [`client`], [`pool`]), time and randomness ([`clock`], [`random`]),
//! the CLI ([`cli`] clap only, [`app`] dispatch, [`world`] context, [`options`],
//! [`config`], [`defaults`]) and [`check`]/[`api_cmd`].
//! Each cloud is one folder under [`clouds`]. The simulator is its own
//! crate, `otc-sim` (sim/). See docs/architecture.md.
#![forbid(unsafe_code)]

pub mod api_cmd;
pub mod api_error;
pub mod app;
pub mod check;
pub mod cli;
pub mod client;
pub mod clock;
pub mod cloud_api;
pub mod clouds;
pub mod config;
pub mod credentials;
pub mod defaults;
pub mod encoding;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod flow;
pub mod host_state;
pub mod http;
pub mod keyfile;
pub mod options;
pub mod pool;
pub mod propagation;
pub mod random;
pub mod redact;
pub mod report;
pub mod sync;
pub mod txt;
pub mod wiring;
pub mod world;
pub mod zone;
