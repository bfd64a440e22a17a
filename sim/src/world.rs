//! Everything the simulator knows, kept behind one lock: the DNS data, the
//! keys, the runtime config and the log.

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use crate::clock::{Clock, Now};
use crate::control::{Config, Log, ServedEntry, config_json};
use crate::creds::Creds;
use crate::iam::Identities;
use crate::seed::Seed;
use crate::state::{Delays, Store};

pub(crate) struct World {
    pub store: Store,
    pub creds: Creds,
    /// Agencies, OIDC providers, pod identities and issued IAM tokens.
    pub iam: Identities,
    pub config: Config,
    pub log: Log,
    pub nameservers: Vec<String>,
}

impl World {
    pub fn from_seed(seed: &Seed, now: &Now) -> anyhow::Result<World> {
        seed.validate()?;
        Ok(World {
            store: Store::from_seed(seed, now)?,
            creds: Creds::new(&seed.credentials),
            iam: Identities::from_seed(seed),
            config: Config::from_seed(seed),
            log: Log::default(),
            nameservers: seed.normalized_nameservers(),
        })
    }

    /// Brings lazily computed state up to `now`: settles `PENDING_*` record
    /// sets and logs changes that have started being served by DNS.
    pub fn tick(&mut self, now: &Now) {
        self.store.settle(now.mono_ms);
        for c in self.store.take_served(now.mono_ms) {
            self.log.served(ServedEntry {
                t_ms: now.real_ms_at(c.effective_ms),
                name: c.name,
                rtype: c.rtype,
                records: c.records,
                change: c.change.as_str(),
            });
        }
    }

    pub fn delays(&self) -> Delays {
        Delays {
            pending_ms: self.config.pending_delay_ms,
            propagation_ms: self.config.propagation_delay_ms,
        }
    }

    /// Every secret known or handed out: secret keys, security tokens,
    /// metadata session tokens, IAM tokens, seeded ID and service account tokens.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = self.creds.secrets();
        out.extend(self.iam.secrets());
        out
    }

    /// The `GET /_sim/state` document: API view, DNS view, keys (no secrets),
    /// IAM identities and tokens (no token values), config.
    pub fn state_json(&self, now: &Now) -> Value {
        let zones: Vec<Value> = self
            .store
            .zones()
            .iter()
            .map(|z| {
                json!({
                    "id": z.id,
                    "name": z.name,
                    "zone_type": z.zone_type.as_str(),
                    "recordsets": z.recordsets.iter().map(|r| json!({
                        "id": r.id,
                        "name": r.name,
                        "type": r.rtype,
                        "ttl": r.ttl,
                        "records": r.records,
                        "status": r.status.as_str(),
                        "description": r.description,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let dns: Vec<Value> = self
            .store
            .dns_view(now.mono_ms)
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
        json!({
            "zones": zones,
            "dns": dns,
            "nameservers": self.nameservers,
            "credentials": self.creds.state_json(now),
            "iam": self.iam.state_json(now),
            "config": config_json(&self.config),
        })
    }
}

/// The world plus what every server thread needs alongside it.
pub(crate) struct Shared {
    world: Mutex<World>,
    clock: Clock,
    /// `http://IP:PORT` of the HTTP server, for absolute links.
    pub base_url: String,
}

impl Shared {
    pub fn new(world: World, clock: Clock, base_url: String) -> Shared {
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
        let now = self.clock.now(world.config.clock_offset_secs);
        world.tick(&now);
        (world, now)
    }
}
