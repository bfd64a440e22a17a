//! The simulator's core: everything that names no cloud.
//!
//! - `http`: [`http::Req`], [`http::Resp`], [`http::Handled`] and URL
//!   encoding helpers; `server`: the HTTP listener (tiny_http behind a relay);
//!   `router`: control endpoints, faults, the request log, then the cloud;
//! - `control`: the core's runtime knobs, the fault queue, the log;
//! - `clock`: simulated time and formats; `seed`: zones and name servers;
//! - `served`: what the authoritative DNS serves from when (the model clouds
//!   publish into); `dns`: the UDP/TCP server answering from it;
//! - `world`: the core's state plus the cloud behind one lock;
//! - `cloud`: the [`cloud::Cloud`] trait every simulated cloud implements.
//!
//! Imports go one way: `clock`, `seed`, `served` ← `http` ← `control` ←
//! `cloud` ← `world` ← `router` ← `server`; `dns` uses `http`, `served` and
//! `world`. Nothing in here imports `crate::clouds`.

pub(crate) mod clock;
pub(crate) mod cloud;
pub(crate) mod control;
pub(crate) mod dns;
pub(crate) mod http;
pub(crate) mod router;
pub(crate) mod seed;
pub(crate) mod served;
pub(crate) mod server;
pub(crate) mod world;
