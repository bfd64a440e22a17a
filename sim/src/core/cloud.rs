//! The seam between the core and one simulated cloud.
//!
//! The core owns the sockets, the clock, the `/_sim/` control API, the fault
//! queue and the request log; a cloud owns its API-side data and answers the
//! requests the core hands it. One instance serves one simulator. The
//! registry in `crate::clouds` builds it from the seed.

use serde_json::{Map, Value};

use super::clock::Now;
use super::control::Fault;
use super::http::{Handled, Req, Resp};
use super::served::ServedZones;

/// What every cloud handler may read of the core, besides the request.
pub(crate) struct Ctx<'a> {
    pub now: &'a Now,
    /// `http://IP:PORT` of the HTTP server, for absolute links.
    pub base_url: &'a str,
    /// Name servers of every zone, lower-case and dot-terminated.
    pub nameservers: &'a [String],
    /// The propagation delay in force: publish with it (see `ServedZones`).
    pub propagation_ms: u64,
}

/// One simulated cloud: its HTTP endpoints and its DNS data.
pub(crate) trait Cloud: Send {
    /// Answers a request that is not `/_sim/…` and that no fault consumed.
    /// The core logs it with [`Handled`]'s `access_key`/`auth`/`issued` and
    /// the status and error code of the response; it adds `Date`.
    fn route(&mut self, ctx: &Ctx<'_>, req: &Req) -> Handled;

    /// Whether `path` is a link-local service of the machine (instance
    /// metadata, a node's credential agent) rather than a remote endpoint:
    /// local requests get no `latency_ms` and are not counted as API calls.
    fn is_local(&self, _path: &str) -> bool {
        false
    }

    /// Brings lazily computed state up to `now` (pending states settling,
    /// expiries); called under the lock before every request and DNS query.
    fn tick(&mut self, _now: &Now) {}

    /// What the authoritative DNS serves: the cloud publishes into it (see
    /// `ServedZones`), the core answers queries and logs from it.
    fn served(&mut self) -> &mut ServedZones;

    /// Every secret known or handed out (seeded and issued keys, tokens):
    /// `Sim::secrets()`, for the tests' leak check.
    fn secrets(&self) -> Vec<String>;

    /// The cloud's keys of `GET /_sim/state` (the core adds `dns`,
    /// `nameservers` and `config`).
    fn state_json(&self, now: &Now) -> Map<String, Value>;

    /// The cloud's runtime settings, merged into `GET /_sim/config`.
    fn config_json(&self) -> Map<String, Value>;

    /// Applies the cloud's keys of a `POST /_sim/config` body (the core has
    /// taken its own). All or nothing; `Err` is the message of the 400.
    /// Unknown keys must be refused.
    fn apply_config(&mut self, patch: Map<String, Value>) -> Result<(), String>;

    /// The `drop_value` fault: a racing writer removes TXT `value` wherever
    /// it is (and publishes that as usual). Whether anything held it; if
    /// not, the core keeps the fault for a later request.
    fn drop_value(&mut self, _ctx: &Ctx<'_>, _value: &str) -> bool {
        false
    }

    /// The answer of a fault that answers (`429`, `status`, `garbage`), in
    /// this cloud's error format; `None` closes the connection.
    fn fault_response(&self, fault: &Fault) -> Option<Resp> {
        fault.response()
    }
}
