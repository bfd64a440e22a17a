//! Everything the simulator knows, kept behind one lock: the core's config
//! and log, and the cloud with its data.

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::clock::{Clock, Now};
use super::cloud::{Cloud, Ctx};
use super::control::{Config, Log, ServedEntry};

/// The core's part of the world.
pub(crate) struct Core {
    pub config: Config,
    pub log: Log,
    /// Lower-case and dot-terminated.
    pub nameservers: Vec<String>,
    /// `http://IP:PORT` of the HTTP server, for absolute links.
    pub base_url: String,
}

pub(crate) struct World {
    pub core: Core,
    pub cloud: Box<dyn Cloud>,
}

impl World {
    pub fn new(core: Core, cloud: Box<dyn Cloud>) -> World {
        World { core, cloud }
    }

    /// Brings lazily computed state up to `now`: lets the cloud settle, and
    /// logs changes that have started being served by DNS.
    pub fn tick(&mut self, now: &Now) {
        self.cloud.tick(now);
        for c in self.cloud.served().take_served(now.mono_ms) {
            self.core.log.served(ServedEntry {
                t_ms: now.real_ms_at(c.effective_ms),
                name: c.name,
                rtype: c.rtype,
                records: c.records,
                change: c.change.as_str(),
            });
        }
    }

    /// What a cloud handler sees of the core.
    pub fn ctx<'a>(core: &'a Core, now: &'a Now) -> Ctx<'a> {
        Ctx {
            now,
            base_url: &core.base_url,
            nameservers: &core.nameservers,
            propagation_ms: core.config.propagation_delay_ms,
        }
    }

    /// Every secret known or handed out (the cloud's).
    pub fn secrets(&self) -> Vec<String> {
        self.cloud.secrets()
    }

    /// `GET /_sim/config`: the core's keys and the cloud's.
    pub fn config_json(&self) -> Value {
        let mut m = self.core.config.to_json();
        m.extend(self.cloud.config_json());
        Value::Object(m)
    }

    /// The `GET /_sim/state` document: the cloud's API view, keys (no
    /// secrets) and identities; the DNS view; the config.
    pub fn state_json(&mut self, now: &Now) -> Value {
        let dns: Vec<Value> = self
            .cloud
            .served()
            .view(now.mono_ms)
            .zones
            .iter()
            .map(|z| {
                json!({
                    "zone": z.name,
                    "rrsets": z.rrsets.iter().map(|r| json!({
                        "name": r.name,
                        "type": r.rtype,
                        "ttl": r.ttl,
                        "records": r.records,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut m = self.cloud.state_json(now);
        m.insert("dns".into(), Value::Array(dns));
        m.insert("nameservers".into(), json!(self.core.nameservers));
        m.insert("config".into(), self.config_json());
        Value::Object(m)
    }
}

/// The world plus what every server thread needs alongside it.
pub(crate) struct Shared {
    world: Mutex<World>,
    clock: Clock,
    /// `http://IP:PORT` of the HTTP server (also in `Core`), read without the lock.
    pub base_url: String,
}

impl Shared {
    pub fn new(world: World, clock: Clock) -> Shared {
        let base_url = world.core.base_url.clone();
        Shared {
            world: Mutex::new(world),
            clock,
            base_url,
        }
    }

    /// Locks the world and brings it up to date. A panic in another thread
    /// must not take the whole simulator down, so poisoning is ignored.
    pub fn lock(&self) -> (MutexGuard<'_, World>, Now) {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now(world.core.config.clock_offset_secs);
        world.tick(&now);
        (world, now)
    }
}
