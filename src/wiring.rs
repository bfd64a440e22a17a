//! Wires a run: the selected cloud connected, and the hook flow over it.

use std::sync::Arc;

use crate::cloud_api::{Connection, DnsApi};
use crate::error::Result;
use crate::flow::engine::Flow;
use crate::flow::hook::Hook;
use crate::host_state::HostState;
use crate::options::Options;
use crate::propagation::Checker;
use crate::propagation::net::DnsQuery;
use crate::report::Report;
use crate::world::World;

/// Connects to the selected cloud (credentials resolved, client built).
pub fn connect(opts: &Options, world: &World, report: &Arc<Report>) -> Result<Box<dyn Connection>> {
    crate::clouds::connect(opts.cloud.as_ref(), &opts.net, world.clock.clone(), report)
}

/// The hook flow over `api` and `query`, configured from `opts`: one wiring for the
/// hook commands and `check`.
pub fn flow<'a>(
    opts: &Options,
    world: &'a World,
    report: &'a Report,
    api: &'a dyn DnsApi,
    query: &'a dyn DnsQuery,
    local: Option<&'a HostState>,
) -> Flow<'a> {
    Flow::new(
        Hook::new(api, world.clock.as_ref(), report, opts.hook.clone(), local),
        Checker {
            dns: query,
            clock: world.clock.as_ref(),
            report,
            settings: opts.propagation.clone(),
            resolv_conf: world.resolv_conf(),
        },
        opts.mode,
    )
}
