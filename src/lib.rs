//! otc-acme-hook: ACME DNS-01 hooks for Open Telekom Cloud / Huawei Cloud,
//! OVHcloud and NAVER Cloud DNS, with the cloud's workload identity where it
//! offers one.
//!
//! Shared modules name no cloud: the run engine ([`flow`], [`local`]),
//! pure logic ([`txt`], [`zone`]), the [`propagation`] check, the seam every
//! cloud implements ([`provider`], [`api_error`]), transport ([`http`],
//! [`client`]), the CLI ([`cli`] clap only, [`app`] dispatch, [`world`]
//! context, [`options`], [`config`], [`defaults`]) and [`check`]/[`api_cmd`].
//! Each cloud is one folder under [`providers`]. The simulator is its own
//! crate, `otc-sim` (sim/). See docs/architecture.md.
#![forbid(unsafe_code)]

pub mod api_cmd;
pub mod api_error;
pub mod app;
pub mod check;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod defaults;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod flow;
pub mod http;
pub mod keyfile;
pub mod local;
pub mod options;
pub mod pool;
pub mod propagation;
pub mod provider;
pub mod providers;
pub mod redact;
pub mod report;
pub mod session;
pub mod sync;
pub mod txt;
pub mod world;
pub mod zone;
