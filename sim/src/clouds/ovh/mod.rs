//! The OVHcloud side of the simulator: the OAuth2 token endpoint, API v1's
//! `/auth/time` and the DNS zone calls the hook makes, with Bearer and
//! classic-signature checks on every request, IAM policies per service
//! account, and zones whose edits are published only by a refresh.
//!
//! Files as in every cloud folder: `seed.rs` (the `ovh` part of the seed),
//! `state.rs` (the model: [`OvhState`]), `api.rs` (API v1's calls,
//! `OvhState::handle`: one request at the simulated time, pure), `auth.rs`
//! (the token endpoint, Bearer and the classic signature, checked apart
//! from the product's signer on purpose), and this adapter: the
//! `core::cloud::Cloud` the core routes requests to; it logs them, injects
//! faults, and serves what each refresh published over DNS
//! ([`OvhState::take_published`]).
//!
//! # Paths
//!
//! - `POST /auth/oauth2/token` (`auth::TOKEN_PATH`), form `grant_type=client_credentials&
//!   client_id=…&client_secret=…&scope=all` → `{"access_token","token_type":"Bearer",
//!   "expires_in","scope":"all"}`; a wrong id or secret → 401 `{"error":"invalid_client"}`.
//! - `GET /1.0/auth/time` (unauthenticated) → the simulated unix time; sent
//!   with a bearer or a signature (`X-Ovh-Consumer`/`-Timestamp`/`-Signature`;
//!   `X-Ovh-Application` alone is fine, go-ovh sends it) → 400: go-ovh says
//!   `/auth` routes "are actually broken if authenticated" (the exact answer
//!   is unconfirmed).
//! - `GET /1.0/domain/zone`, `GET /1.0/domain/zone/{zone}`,
//!   `GET|POST /1.0/domain/zone/{zone}/record` (`?fieldType=&subDomain=`: SQL
//!   `LIKE`/`ILIKE` patterns, `_` and `%`), `GET|DELETE /1.0/domain/zone/{zone}/record/{id}`,
//!   `POST /1.0/domain/zone/{zone}/refresh`.
//!
//! # As recorded against the real API (ovh-api.md "Corrections")
//!
//! - An unquoted TXT target is stored and answered quoted (`"v"`); a quoted one as sent.
//! - `DELETE …/record/{id}` → `200 null`.
//! - `subDomain` is `""` at the apex; the schema allows `null`, which the
//!   `apex_sub_domain_null` knob (seed or `/_sim/config`) answers instead.
//!
//! # Behaviour chosen where OVH's is unconfirmed (ovh-api.md)
//!
//! - A bad or expired bearer: 401 `{"class":"Client::Unauthorized"}`; no
//!   credentials at all: 401 `NOT_AUTHENTICATED`.
//! - A classic timestamp more than `auth::MAX_SKEW_SECS` off: 400 `QUERY_TIME_OUT`.
//! - Listing zones needs a policy over every zone (`dnsZone:apiovh:get` on
//!   `*`); a policy scoped to some zones gets 403 there, as the issue assumes.
//! - Classic keys may do everything (their access rules are not modelled).
//!
//! # The adapter
//!
//! The OVHcloud side as a `core::cloud::Cloud`: requests go to
//! [`OvhState::handle`] at the simulated time; each refresh is published
//! into the core's [`ServedZones`] as a snapshot of the zone
//! ([`ServedZones::publish_zone`]), served after the propagation delay.
//! Nothing an edit does is served before its zone's refresh.

use serde_json::{Map, Value, json};

pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod seed;
pub(crate) mod state;

use crate::core::clock::Now;
use crate::core::cloud::{Cloud, Ctx};
use crate::core::control::{Fault, FaultKind};
use crate::core::http::{Handled, Req, Resp};
use crate::core::served::{DnsRrset, ServedZones, group_rrsets};
pub use seed::OvhSeed;
use state::{OvhState, Published};

/// The simulated OVHcloud account.
pub(crate) struct Ovh {
    state: OvhState,
    served: ServedZones,
}

/// A record target in the served (API text) form: TXT quoted.
fn served_value(field_type: &str, target: &str) -> String {
    if field_type.eq_ignore_ascii_case("TXT") && !target.starts_with('"') {
        format!("\"{}\"", target.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        target.to_string()
    }
}

/// A published snapshot as the served model takes it: one set per name and type.
fn rrsets(zone: &str, p: &Published) -> Vec<DnsRrset> {
    group_rrsets(p.records.iter().map(|r| {
        let rtype = r.field_type.to_ascii_uppercase();
        let value = served_value(&rtype, &r.target);
        (r.fqdn(zone).to_ascii_lowercase(), rtype, r.ttl, value)
    }))
}

impl Ovh {
    /// The account the seed's `ovh` part describes; zones without their own
    /// `nameservers` get the seed's.
    pub fn from_seed(seed: &OvhSeed, nameservers: &[String], now: &Now) -> anyhow::Result<Ovh> {
        let mut seed = seed.clone();
        if seed.nameservers.is_empty() {
            seed.nameservers = nameservers.to_vec();
        }
        let mut state =
            OvhState::from_seed(&seed, now.sim_secs()).map_err(|e| anyhow::anyhow!(e))?;
        let mut served = ServedZones::default();
        for zone in state.zone_names() {
            let dotted = format!("{zone}.");
            served.add_zone(&dotted, &format!("hostmaster@{zone}"), 1);
            if let Some(p) = state.published(&zone) {
                served.publish_zone(&dotted, &rrsets(&zone, p), 0, 0);
            }
            // The seed's records count as published at the start.
            let _ = state.take_published(&zone);
        }
        served.settle_seed();
        Ok(Ovh { state, served })
    }

    /// Publishes every refresh the last request made; each bumps the serial.
    fn publish(&mut self, ctx: &Ctx<'_>) {
        for zone in self.state.zone_names() {
            if let Some(p) = self.state.take_published(&zone) {
                let dotted = format!("{zone}.");
                self.served.publish_zone(
                    &dotted,
                    &rrsets(&zone, &p),
                    ctx.now.mono_ms,
                    ctx.propagation_ms,
                );
                self.served.bump_serial(&dotted);
            }
        }
    }
}

impl Cloud for Ovh {
    fn route(&mut self, ctx: &Ctx<'_>, req: &Req) -> Handled {
        let handled = self.state.handle(req, ctx.now.sim_secs());
        self.publish(ctx);
        handled
    }

    fn served(&mut self) -> &mut ServedZones {
        &mut self.served
    }

    /// Client secrets, application secrets, consumer keys, issued tokens.
    fn secrets(&self) -> Vec<String> {
        self.state.secrets()
    }

    /// `ovh`: zones (API and published views), accounts and tokens, no secret.
    fn state_json(&self, now: &Now) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ovh".into(), self.state.state_json(now.sim_secs()));
        m
    }

    fn config_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "token_lifetime_secs".into(),
            json!(self.state.token_lifetime_secs),
        );
        m.insert(
            "apex_sub_domain_null".into(),
            json!(self.state.apex_sub_domain_null),
        );
        m
    }

    /// `token_lifetime_secs`: the lifetime of tokens issued from now on;
    /// `apex_sub_domain_null`: answer `"subDomain": null` for apex records.
    fn apply_config(&mut self, patch: Map<String, Value>) -> Result<(), String> {
        let mut lifetime = None;
        let mut apex_null = None;
        for (k, v) in patch {
            match k.as_str() {
                "token_lifetime_secs" => {
                    lifetime = Some(
                        v.as_u64()
                            .ok_or("token_lifetime_secs must be a whole number of seconds")?,
                    )
                }
                "apex_sub_domain_null" => {
                    apex_null = Some(
                        v.as_bool()
                            .ok_or("apex_sub_domain_null must be true or false")?,
                    )
                }
                other => return Err(format!("unknown config key {other:?}")),
            }
        }
        if let Some(l) = lifetime {
            self.state.token_lifetime_secs = l;
        }
        if let Some(a) = apex_null {
            self.state.apex_sub_domain_null = a;
        }
        Ok(())
    }

    /// Faults answer in OVH's error format (`{"class","message"}`).
    fn fault_response(&self, fault: &Fault) -> Option<Resp> {
        match fault.kind {
            FaultKind::Throttle => Some(fault.throttled(&json!({
                "class": "Client::TooManyRequests",
                "message": "Too many requests"}))),
            FaultKind::Status => {
                let status = fault.status.unwrap_or(500);
                let class = match status {
                    401 => "Client::Unauthorized",
                    403 => "Client::Forbidden",
                    404 => "Client::NotFound",
                    s if s >= 500 => "Server::InternalServerError",
                    _ => "Client::BadRequest",
                };
                let message = fault.message.clone().unwrap_or_else(|| match status {
                    401 => "The access token is invalid or expired".into(),
                    _ => format!("simulated HTTP {status}"),
                });
                let mut r = Resp::json(
                    status,
                    &json!({"class": fault.code.clone().unwrap_or(class.into()), "message": message}),
                );
                r.headers = Vec::new();
                Some(r)
            }
            _ => fault.response(),
        }
    }
}

#[cfg(test)]
mod tests;
