//! NAVER Cloud (NCP): the instance metadata (v1/v2, server role) and Global
//! DNS v1 behind the API Gateway signature v2, as a [`Cloud`] of the core.
//!
//! [`state::NcpState`] is the pure model (every request, the simulated
//! time); this adapter turns the core's requests into its requests, its
//! answers into log entries, and its applies into published zones: a
//! domain's records are served by DNS only after `PUT …/record/apply/{id}`,
//! the propagation delay later. Rollback is answered and recorded, never
//! published (tests assert it is never called).

pub mod state;

use serde_json::{Map, Value, json};

use crate::core::clock::Now;
use crate::core::cloud::{Cloud, Ctx};
use crate::core::control::{Fault, FaultKind};
use crate::core::http::{Handled, Req, Resp};
use crate::core::served::{DnsRrset, ServedZones};

use state::{Applied, MetadataMode, NcpSeed, NcpState, Record, Request};

/// Contact of the SOA the DNS answers with.
const SOA_EMAIL: &str = "hostmaster.ncloud.com.";

/// The simulated NCP account.
pub(crate) struct Ncp {
    state: NcpState,
    served: ServedZones,
    /// SOA serial per domain (absolute name), bumped at each apply.
    serials: Vec<(String, u32)>,
}

fn absolute(domain: &str) -> String {
    format!("{}.", domain.trim_end_matches('.').to_ascii_lowercase())
}

/// The domain's records as DNS serves them: one set per name and type
/// (`@` is the apex); NS and SOA are the core's.
fn snapshot(zone: &str, records: &[Record]) -> Vec<DnsRrset> {
    let mut out: Vec<DnsRrset> = Vec::new();
    for r in records {
        if r.rtype == "NS" || r.rtype == "SOA" {
            continue;
        }
        let name = if r.host == "@" {
            zone.to_string()
        } else {
            format!("{}.{zone}", r.host.to_ascii_lowercase())
        };
        match out
            .iter_mut()
            .find(|s| s.name == name && s.rtype == r.rtype)
        {
            Some(s) => {
                s.ttl = s.ttl.min(r.ttl);
                s.records.push(r.content.clone());
            }
            None => out.push(DnsRrset {
                name,
                rtype: r.rtype.clone(),
                ttl: r.ttl,
                records: vec![r.content.clone()],
            }),
        }
    }
    out
}

impl Ncp {
    pub fn from_seed(seed: &NcpSeed) -> anyhow::Result<Ncp> {
        let state = NcpState::from_seed(seed).map_err(|e| anyhow::anyhow!(e))?;
        let mut served = ServedZones::default();
        let mut serials = Vec::new();
        for d in state.domain_names() {
            let zone = absolute(&d);
            served.add_zone(&zone, SOA_EMAIL, 1);
            let records = state.published(&d).unwrap_or_default();
            served.publish_zone(&zone, &snapshot(&zone, records), 0, 0);
            serials.push((zone, 1));
        }
        served.settle_seed();
        Ok(Ncp {
            state,
            served,
            serials,
        })
    }

    /// Hands the applies of the last request to DNS, `delay_ms` later.
    fn publish(&mut self, applies: Vec<Applied>, now: &Now, delay_ms: u64) {
        for a in applies {
            let zone = absolute(&a.domain);
            self.served
                .publish_zone(&zone, &snapshot(&zone, &a.records), now.mono_ms, delay_ms);
            if let Some((_, serial)) = self.serials.iter_mut().find(|(z, _)| *z == zone) {
                *serial += 1;
                self.served.set_serial(&zone, *serial);
            }
        }
    }
}

impl Cloud for Ncp {
    /// The server's metadata service (169.254.169.254, all of `/latest/`);
    /// Global DNS is remote.
    fn is_local(&self, path: &str) -> bool {
        path.starts_with("/latest/")
    }

    fn route(&mut self, ctx: &Ctx<'_>, req: &Req) -> Handled {
        let now_ms = ctx.now.sim_us.div_euclid(1000);
        let r = Request {
            method: &req.method,
            path: &req.raw_path,
            query: &req.raw_query,
            headers: &req.headers,
            body: &req.body,
        };
        let Some(a) = self.state.handle(&r, now_ms) else {
            // The gateway's answer to a path it does not know.
            return Handled::new(Resp::json(
                404,
                &json!({"error": {"errorCode": "300", "message": "Not Found", "details": "No such API."}}),
            ));
        };
        let applies = self.state.take_applies();
        self.publish(applies, ctx.now, ctx.propagation_ms);
        let content_type = match a
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
        {
            Some((_, v)) if v.starts_with("application/json") => "application/json",
            _ => "text/plain",
        };
        let signed = req.raw_path.starts_with(state::DNS_PREFIX);
        Handled {
            resp: Resp {
                status: a.status,
                content_type,
                // Content-Type goes apart; the core adds Date from the same clock.
                headers: a
                    .headers
                    .into_iter()
                    .filter(|(k, _)| {
                        !k.eq_ignore_ascii_case("Content-Type") && !k.eq_ignore_ascii_case("Date")
                    })
                    .collect(),
                body: a.body,
            },
            access_key: a.access_key,
            auth: signed.then_some("aksk"),
            issued: a.issued,
            code: a.code,
        }
    }

    fn served(&mut self) -> &mut ServedZones {
        &mut self.served
    }

    fn secrets(&self) -> Vec<String> {
        self.state.secrets()
    }

    fn state_json(&self, now: &Now) -> Map<String, Value> {
        match self.state.state_json(now.sim_us.div_euclid(1000)) {
            Value::Object(m) => m,
            other => Map::from_iter([("ncp".to_string(), other)]),
        }
    }

    fn config_json(&self) -> Map<String, Value> {
        let mode = match self.state.metadata {
            MetadataMode::Optional => "optional",
            MetadataMode::Required => "required",
            MetadataMode::Absent => "absent",
        };
        Map::from_iter([
            ("metadata_mode".to_string(), json!(mode)),
            (
                "metadata_down".to_string(),
                json!(!self.state.metadata_enabled),
            ),
            (
                "credential_ttl_secs".to_string(),
                json!(self.state.credential_ttl_secs),
            ),
            (
                "role_dns_policy".to_string(),
                json!(self.state.role_dns_policy()),
            ),
            (
                "refuse_empty_apply".to_string(),
                json!(self.state.refuse_empty_apply),
            ),
        ])
    }

    /// `metadata_mode` (`optional`, `required`: v1 GETs answered 401,
    /// `absent`: no v2), `metadata_down`, `credential_ttl_secs`,
    /// `role_dns_policy` (false: the role's keys get `401`/`210`),
    /// `refuse_empty_apply` (an apply with nothing pending is `X00006`).
    fn apply_config(&mut self, patch: Map<String, Value>) -> Result<(), String> {
        let mut mode = self.state.metadata;
        let mut enabled = self.state.metadata_enabled;
        let mut ttl = self.state.credential_ttl_secs;
        let mut policy = None;
        let mut refuse_empty = self.state.refuse_empty_apply;
        for (k, v) in patch {
            match k.as_str() {
                "metadata_mode" => {
                    mode = serde_json::from_value(v).map_err(|_| {
                        "metadata_mode must be optional, required or absent".to_string()
                    })?
                }
                "metadata_down" => {
                    enabled = !v.as_bool().ok_or("metadata_down must be a boolean")?;
                }
                "credential_ttl_secs" => {
                    ttl = v
                        .as_u64()
                        .filter(|t| *t >= 1)
                        .ok_or("credential_ttl_secs must be a positive integer")?;
                }
                "role_dns_policy" => {
                    if self.state.role_dns_policy().is_none() {
                        return Err("role_dns_policy: the seed has no server role".into());
                    }
                    policy = Some(v.as_bool().ok_or("role_dns_policy must be a boolean")?);
                }
                "refuse_empty_apply" => {
                    refuse_empty = v.as_bool().ok_or("refuse_empty_apply must be a boolean")?;
                }
                other => return Err(format!("unknown config key {other:?} for --cloud ncp")),
            }
        }
        if let Some(on) = policy {
            self.state.set_role_dns_policy(on)?;
        }
        self.state.metadata = mode;
        self.state.metadata_enabled = enabled;
        self.state.credential_ttl_secs = ttl;
        self.state.refuse_empty_apply = refuse_empty;
        Ok(())
    }

    /// `429` in the gateway's format; `status` in Global DNS's FAIL format.
    fn fault_response(&self, fault: &Fault) -> Option<Resp> {
        match fault.kind {
            // The gateway's 429/420 (a burst limit; 400 would be a quota).
            FaultKind::Throttle => Some(fault.throttled(&json!({"error": {
                "errorCode": "420",
                "message": "Rate Limited",
                "details": "Rate limit exceeded."}}))),
            FaultKind::Status => {
                let status = fault.status.unwrap_or(500);
                let message = fault
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("injected fault: HTTP {status}"));
                Some(Resp::json(
                    status,
                    &json!({"result": "FAIL", "error": {
                        "errorCode": fault.code.as_deref().unwrap_or("SIM.FAULT"),
                        "message": message, "devMessage": message}}),
                ))
            }
            _ => fault.response(),
        }
    }
}

#[cfg(test)]
mod tests;
