//! One request's way through the core: `/_sim/` control endpoints, then the
//! fault queue, then the cloud; every non-control request is logged.

use std::thread;
use std::time::Duration;

use serde_json::json;

use super::clock::Now;
use super::control::{Fault, FaultKind, RequestEntry};
use super::http::{Handled, Req, Resp};
use super::world::{Shared, World};

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond(Resp),
    /// Close the connection without a word (`reset` fault).
    Reset,
}

const HELP: &str = "control endpoints: GET /_sim/state, GET /_sim/log, GET|POST /_sim/config, POST /_sim/reset-log";

/// Serves `/_sim/...`.
pub(crate) fn control(world: &mut World, now: &Now, req: &Req) -> Resp {
    let path = req.raw_path.trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("GET", "/_sim/state") => Resp::json(200, &world.state_json(now)),
        ("GET", "/_sim/log") => Resp::json(200, &world.core.log.to_json()),
        ("GET", "/_sim/config") => Resp::json(200, &world.config_json()),
        ("POST", "/_sim/config") => {
            let World { core, cloud } = world;
            match core
                .config
                .apply(&req.body, |rest| cloud.apply_config(rest))
            {
                Ok(()) => Resp::json(200, &world.config_json()),
                Err(e) => Resp::json(400, &json!({"code": "SIM.0400", "message": e})),
            }
        }
        ("POST", "/_sim/reset-log") => {
            world.core.log.clear();
            Resp::json(200, &json!({"ok": true}))
        }
        _ => Resp::json(404, &json!({"code": "SIM.0404", "message": HELP})),
    }
}

/// Routes one request: control, faults, the cloud; logs it. A remote
/// request (see `Cloud::is_local`) gets `latency_ms`: half before it is
/// handled, half after, both with the world unlocked so other requests go on.
pub(crate) fn dispatch(shared: &Shared, req: &Req) -> Outcome {
    if req.raw_path == "/_sim" || req.raw_path.starts_with("/_sim/") {
        let (mut world, now) = shared.lock();
        return Outcome::Respond(control(&mut world, &now, req).with_date(&now));
    }

    let (fault, remote, latency_ms) = {
        let (mut world, _) = shared.lock();
        let remote = !world.cloud.is_local(&req.raw_path);
        let latency_ms = if remote {
            world.core.config.latency_ms
        } else {
            0
        };
        world.core.log.begin(remote);
        let fault = world.core.config.take_fault(&req.method, &req.raw_path);
        (fault, remote, latency_ms)
    };
    let _flight = InFlight { shared, remote };
    let there = latency_ms.div_ceil(2);
    let slow = fault
        .as_ref()
        .filter(|f| f.kind == FaultKind::Slow)
        .and_then(|f| f.ms)
        .unwrap_or(0);
    // Outside the lock: a slow answer must not stall other requests.
    if there + slow > 0 {
        thread::sleep(Duration::from_millis(there + slow));
    }
    let outcome = handle(shared, req, fault, remote, latency_ms);
    if latency_ms > there {
        thread::sleep(Duration::from_millis(latency_ms - there));
    }
    outcome
}

/// Marks a request in flight until it has had all of its latency.
struct InFlight<'a> {
    shared: &'a Shared,
    remote: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.shared.lock().0.core.log.end(self.remote);
    }
}

/// Applies the fault taken for the request, or lets the cloud answer; logs it.
fn handle(
    shared: &Shared,
    req: &Req,
    fault: Option<Fault>,
    remote: bool,
    latency_ms: u64,
) -> Outcome {
    let (mut world, now) = shared.lock();
    let World { core, cloud } = &mut *world;
    let mut fault = fault;
    if let Some(f) = fault.as_ref().filter(|f| f.kind == FaultKind::DropValue) {
        let ctx = World::ctx(core, &now);
        if !cloud.drop_value(&ctx, f.value.as_deref().unwrap_or("")) {
            // Nothing to drop yet: the fault waits for a request that finds the value.
            core.config.requeue(f.clone());
            fault = None;
        }
    }
    let fault_name = fault.as_ref().map(|f| f.kind.as_str());
    let (outcome, handled) = match &fault {
        Some(f) if f.kind == FaultKind::Reset => (Outcome::Reset, None),
        Some(f) if f.kind == FaultKind::LostAnswer => {
            // Applied, but the answer never leaves: logged with what it did.
            let h: Handled = cloud.route(&World::ctx(core, &now), req);
            (Outcome::Reset, Some(h))
        }
        Some(f) if f.kind != FaultKind::Slow && f.kind != FaultKind::DropValue => {
            match cloud.fault_response(f) {
                Some(r) => (Outcome::Respond(r), None),
                None => (Outcome::Reset, None),
            }
        }
        _ => {
            let mut h: Handled = cloud.route(&World::ctx(core, &now), req);
            let resp = std::mem::replace(&mut h.resp, Resp::text(500, "text/plain", ""));
            (Outcome::Respond(resp), Some(h))
        }
    };
    let (status, code) = match &outcome {
        Outcome::Respond(r) => (
            Some(r.status),
            handled
                .as_ref()
                .and_then(|h| h.code.clone())
                .or_else(|| r.error_code()),
        ),
        Outcome::Reset => (None, None),
    };
    core.log.request(RequestEntry {
        t_ms: now.real_ms,
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.raw_query.clone(),
        status,
        remote,
        latency_ms,
        access_key: handled.as_ref().and_then(|h| h.access_key.clone()),
        auth: handled.as_ref().and_then(|h| h.auth),
        issued: handled.and_then(|h| h.issued),
        code,
        fault: fault_name,
    });
    match outcome {
        Outcome::Respond(r) => Outcome::Respond(r.with_date(&now)),
        Outcome::Reset => Outcome::Reset,
    }
}
