//! The OVHcloud side as a `core::cloud::Cloud`: requests go to
//! [`OvhState::handle`] at the simulated time; each refresh is published
//! into the core's [`ServedZones`] as a snapshot of the zone
//! ([`ServedZones::publish_zone`]), served after the propagation delay.
//! Nothing an edit does is served before its zone's refresh.

use serde_json::{Map, Value, json};

use super::{OvhSeed, OvhState, Published, Request};
use crate::core::clock::Now;
use crate::core::cloud::{Cloud, Ctx};
use crate::core::control::{Fault, FaultKind};
use crate::core::http::{Handled, Req, Resp};
use crate::core::served::{DnsRrset, ServedZones};

/// The simulated OVHcloud account.
pub(crate) struct Ovh {
    state: OvhState,
    served: ServedZones,
    /// SOA serial per zone, bumped by each refresh.
    serials: Vec<(String, u32)>,
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
    let mut out: Vec<DnsRrset> = Vec::new();
    for r in &p.records {
        let name = r.fqdn(zone).to_ascii_lowercase();
        let rtype = r.field_type.to_ascii_uppercase();
        let value = served_value(&rtype, &r.target);
        match out.iter_mut().find(|s| s.name == name && s.rtype == rtype) {
            Some(s) => {
                s.ttl = s.ttl.min(r.ttl);
                s.records.push(value);
            }
            None => out.push(DnsRrset {
                name,
                rtype,
                ttl: r.ttl,
                records: vec![value],
            }),
        }
    }
    out
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
        let mut serials = Vec::new();
        for zone in state.zone_names() {
            let dotted = format!("{zone}.");
            served.add_zone(&dotted, &format!("hostmaster@{zone}"), 1);
            if let Some(p) = state.published(&zone) {
                served.publish_zone(&dotted, &rrsets(&zone, p), 0, 0);
            }
            // The seed's records count as published at the start.
            let _ = state.take_published(&zone);
            serials.push((zone, 1));
        }
        served.settle_seed();
        Ok(Ovh {
            state,
            served,
            serials,
        })
    }

    /// Publishes every refresh the last request made.
    fn publish(&mut self, ctx: &Ctx<'_>) {
        for (zone, serial) in &mut self.serials {
            if let Some(p) = self.state.take_published(zone) {
                let dotted = format!("{zone}.");
                self.served.publish_zone(
                    &dotted,
                    &rrsets(zone, &p),
                    ctx.now.mono_ms,
                    ctx.propagation_ms,
                );
                *serial += 1;
                self.served.set_serial(&dotted, *serial);
            }
        }
    }
}

impl Cloud for Ovh {
    fn route(&mut self, ctx: &Ctx<'_>, req: &Req) -> Handled {
        let a = self.state.handle(
            &Request {
                method: &req.method,
                path: &req.raw_path,
                query: &req.raw_query,
                headers: &req.headers,
                body: &req.body,
            },
            ctx.now.sim_secs(),
        );
        self.publish(ctx);
        let mut resp = Resp::json(a.status, &Value::Null);
        resp.body = a.body;
        resp.headers = a
            .headers
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
            .collect();
        Handled {
            access_key: a.identity,
            auth: a.auth,
            code: a.code,
            ..Handled::new(resp)
        }
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
mod tests {
    use super::*;

    fn seed() -> OvhSeed {
        OvhSeed::from_json(
            r#"{"zones": [{"name": "example.test", "records": [
                 {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign\""}]}],
                "service_accounts": [{"client_id": "sa", "client_secret": "SA-SECRET"}]}"#,
        )
        .unwrap()
    }

    fn served_txt(o: &Ovh, mono_ms: u64, name: &str) -> Vec<String> {
        o.served
            .view(mono_ms)
            .zones
            .iter()
            .flat_map(|z| z.rrsets.iter())
            .filter(|s| s.name == name && s.rtype == "TXT")
            .flat_map(|s| s.records.clone())
            .collect()
    }

    fn req(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Req {
        Req::new(
            method,
            url,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn edits_are_served_only_after_the_refresh_and_the_delay() {
        let ns = vec!["ns1.example.test.".to_string()];
        let mut o = Ovh::from_seed(&seed(), &ns, &Now::at(0)).unwrap();
        let name = "_acme-challenge.example.test.";
        assert_eq!(served_txt(&o, 0, name), ["\"foreign\""]);
        let now = Now::at(10);
        let ctx = Ctx {
            now: &now,
            base_url: "http://127.0.0.1:9",
            nameservers: &ns,
            propagation_ms: 500,
        };
        let t = o.route(
            &ctx,
            &req(
                "POST",
                "/auth/oauth2/token",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "grant_type=client_credentials&client_id=sa&client_secret=SA-SECRET&scope=all",
            ),
        );
        assert_eq!(t.resp.status, 200);
        assert_eq!(t.access_key.as_deref(), Some("sa"));
        let tok: Value = serde_json::from_slice(&t.resp.body).unwrap();
        let bearer = format!("Bearer {}", tok["access_token"].as_str().unwrap());
        let h = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ];
        let c = o.route(
            &ctx,
            &req(
                "POST",
                "/1.0/domain/zone/example.test/record",
                &h,
                r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"ours","ttl":60}"#,
            ),
        );
        assert_eq!((c.resp.status, c.auth), (200, Some("bearer")));
        assert_eq!(
            served_txt(&o, 10_000, name),
            ["\"foreign\""],
            "no refresh yet"
        );
        let r = o.route(
            &ctx,
            &req("POST", "/1.0/domain/zone/example.test/refresh", &h, ""),
        );
        assert_eq!(r.resp.status, 200);
        assert_eq!(served_txt(&o, 10, name), ["\"foreign\""], "delay");
        let mut got = served_txt(&o, 510, name);
        got.sort();
        assert_eq!(got, ["\"foreign\"", "\"ours\""]);
        assert!(o.secrets().contains(&"SA-SECRET".to_string()));
    }

    #[test]
    fn config_and_faults() {
        let mut o = Ovh::from_seed(&seed(), &[], &Now::at(0)).unwrap();
        let mut patch = Map::new();
        patch.insert("token_lifetime_secs".into(), json!(5));
        patch.insert("apex_sub_domain_null".into(), json!(true));
        o.apply_config(patch).unwrap();
        assert_eq!(o.config_json()["token_lifetime_secs"], 5);
        assert_eq!(o.config_json()["apex_sub_domain_null"], true);
        let mut bad = Map::new();
        bad.insert("apex_sub_domain_null".into(), json!(1));
        assert!(o.apply_config(bad).is_err());
        let mut bad = Map::new();
        bad.insert("typo".into(), json!(1));
        assert!(o.apply_config(bad).is_err());
        let mut c = crate::core::control::Config::new(0);
        c.apply(
            br#"{"faults": [{"kind": "status", "status": 401}]}"#,
            |_| Ok(()),
        )
        .unwrap();
        let r = o
            .fault_response(&c.take_fault("GET", "/1.0/x").unwrap())
            .unwrap();
        assert_eq!(r.status, 401);
        assert!(String::from_utf8_lossy(&r.body).contains("Client::Unauthorized"));
    }
}
