//! API v1 (`/1.0/...`): `/auth/time`, the zone and record calls with their
//! IAM checks, and the SQL `LIKE` filters of the record listing. Pure over
//! the request and the simulated time; the core adds `Date`.

use serde_json::{Value, json};

use super::auth::{TOKEN_PATH, Who};
use super::seed::action;
use super::state::{OvhState, Published, Record};
use crate::core::http::{self, Handled, Req, Resp};

/// Where API v1 lives on the simulator.
pub const API_PREFIX: &str = "/1.0";
/// The TTL of a record created without one (OVH's zone default).
pub const DEFAULT_TTL: u32 = 3600;

/// A JSON answer (`Content-Type: application/json`).
pub(crate) fn json_answer(status: u16, body: &Value) -> Handled {
    Handled::new(Resp::json(status, body))
}

/// `{"class","message"}`, OVH's API error.
pub(crate) fn class_error(status: u16, class: &str, message: &str) -> Handled {
    let mut a = json_answer(status, &json!({"class": class, "message": message}));
    a.code = Some(class.into());
    a
}

/// `{"errorCode","httpCode","message"}`, OVH's authentication error.
pub(crate) fn code_error(status: u16, code: &str, http: &str, message: &str) -> Handled {
    let mut a = json_answer(
        status,
        &json!({"errorCode": code, "httpCode": http, "message": message}),
    );
    a.code = Some(code.into());
    a
}

pub(crate) fn not_found() -> Handled {
    class_error(404, "Client::NotFound", "This service does not exist")
}

pub(crate) fn denied(action: &str) -> Handled {
    let mut a = json_answer(
        403,
        &json!({"class": "Client::Forbidden", "message": "User not granted for this request",
                "details": {"unauthorizedActionsByIAM": action}}),
    );
    a.code = Some("Client::Forbidden".into());
    a
}

impl OvhState {
    /// Answers one request at simulated unix time `now`.
    pub fn handle(&mut self, req: &Req, now: i64) -> Handled {
        if req.raw_path == TOKEN_PATH {
            if req.method != "POST" {
                return class_error(405, "Client::MethodNotAllowed", "POST only");
            }
            return self.token(req, now);
        }
        let Some(rest) = req.raw_path.strip_prefix(API_PREFIX) else {
            return not_found();
        };
        if rest == "/auth/time" && req.method == "GET" {
            let signed = [
                "authorization",
                "x-ovh-consumer",
                "x-ovh-timestamp",
                "x-ovh-signature",
            ]
            .iter()
            .any(|h| req.header(h).is_some());
            if signed {
                return class_error(
                    400,
                    "Client::BadRequest",
                    "This call must be made without authentication",
                );
            }
            return json_answer(200, &json!(now));
        }
        let who = match self.authenticate(req, now) {
            Ok(w) => w,
            Err(a) => return *a,
        };
        let (auth, identity) = match who {
            Who::Account(i) => ("bearer", self.accounts[i].client_id.clone()),
            Who::Classic(i) => ("ovh-signature", self.classic[i].application_key.clone()),
        };
        let mut a = self.route(req, rest, &who, now);
        a.auth = Some(auth);
        a.access_key = Some(identity);
        a
    }

    fn route(&mut self, req: &Req, rest: &str, who: &Who, now: i64) -> Handled {
        let Some(tail) = rest.strip_prefix("/domain/zone") else {
            return not_found();
        };
        let parts: Vec<&str> = tail.split('/').skip(1).collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", []) => {
                if !self.allowed(who, action::ZONE_GET, "*") {
                    return denied(action::ZONE_GET);
                }
                json_answer(200, &json!(self.zones.keys().collect::<Vec<_>>()))
            }
            (m, [zone, more @ ..]) => {
                let zone = zone.to_ascii_lowercase();
                if !self.zones.contains_key(&zone) {
                    return not_found();
                }
                self.zone_call(m, &zone, more, req, who, now)
            }
            _ => not_found(),
        }
    }

    fn zone_call(
        &mut self,
        method: &str,
        zone: &str,
        more: &[&str],
        req: &Req,
        who: &Who,
        now: i64,
    ) -> Handled {
        let needed = match (method, more) {
            ("GET", []) => action::ZONE_GET,
            ("GET", ["record"] | ["record", _]) => action::RECORD_GET,
            ("POST", ["record"]) => action::RECORD_CREATE,
            ("DELETE", ["record", _]) => action::RECORD_DELETE,
            ("POST", ["refresh"]) => action::REFRESH,
            _ => return class_error(405, "Client::MethodNotAllowed", "No such call"),
        };
        if !self.allowed(who, needed, zone) {
            return denied(needed);
        }
        let nameservers = self.nameservers.clone();
        let apex_null = self.apex_sub_domain_null;
        let z = self.zones.get_mut(zone).expect("checked by the caller");
        match (method, more) {
            ("GET", []) => json_answer(
                200,
                &json!({"name": zone, "nameServers": nameservers,
                        "dnssecSupported": false, "hasDnsAnycast": false}),
            ),
            ("GET", ["record"]) => {
                let q = http::form_pairs(req.raw_query.as_bytes());
                let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let (ft, sub) = (get("fieldType"), get("subDomain"));
                let ids: Vec<u64> = z
                    .records
                    .values()
                    .filter(|r| ft.as_deref().is_none_or(|p| like(p, &r.field_type, false)))
                    .filter(|r| sub.as_deref().is_none_or(|p| like(p, &r.sub_domain, true)))
                    .map(|r| r.id)
                    .collect();
                json_answer(200, &json!(ids))
            }
            ("GET", ["record", id]) => match id.parse::<u64>().ok().and_then(|i| z.records.get(&i))
            {
                Some(r) => json_answer(200, &r.to_api_json(zone, apex_null)),
                None => not_found(),
            },
            ("DELETE", ["record", id]) => {
                match id.parse::<u64>().ok().and_then(|i| z.records.remove(&i)) {
                    Some(_) => {
                        z.edits += 1;
                        json_answer(200, &Value::Null)
                    }
                    None => not_found(),
                }
            }
            ("POST", ["record"]) => {
                let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                    return class_error(400, "Client::BadRequest", "Invalid JSON body");
                };
                let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
                let (Some(field_type), Some(target)) = (s("fieldType"), s("target")) else {
                    return class_error(
                        400,
                        "Client::BadRequest",
                        "fieldType and target are required",
                    );
                };
                let ttl = match body.get("ttl") {
                    None | Some(Value::Null) => DEFAULT_TTL,
                    Some(v) => match v.as_u64().and_then(|t| u32::try_from(t).ok()) {
                        Some(t) => t,
                        None => {
                            return class_error(400, "Client::BadRequest", "Invalid ttl");
                        }
                    },
                };
                if target.is_empty() {
                    return class_error(400, "Client::BadRequest", "Empty target");
                }
                // OVH quotes an unquoted TXT target itself (recorded traffic).
                let target = if field_type.eq_ignore_ascii_case("TXT") && !target.starts_with('"') {
                    format!("\"{}\"", target.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    target
                };
                let id = self.next_id;
                self.next_id += 1;
                let r = Record {
                    id,
                    sub_domain: s("subDomain").unwrap_or_default(),
                    field_type,
                    target,
                    ttl,
                };
                let answer = json_answer(200, &r.to_api_json(zone, apex_null));
                z.records.insert(id, r);
                z.edits += 1;
                answer
            }
            ("POST", ["refresh"]) => {
                z.published = Published {
                    at: now,
                    records: z.records.values().cloned().collect(),
                };
                z.edits = 0;
                z.untaken = true;
                self.refreshes.push((zone.to_string(), now));
                json_answer(200, &Value::Null)
            }
            _ => not_found(),
        }
    }
}

/// SQL `LIKE` (`ILIKE` when `fold`): `%` any run, `_` any one character.
pub fn like(pattern: &str, text: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    // matches[j]: p[..i] matches t[..j].
    let mut matches = vec![false; t.len() + 1];
    matches[0] = true;
    for pc in &p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match pc {
                '%' => matches[j] || (j > 0 && next[j - 1]),
                '_' => j > 0 && matches[j - 1],
                c => j > 0 && matches[j - 1] && t[j - 1] == *c,
            };
        }
        matches = next;
    }
    matches[t.len()]
}

#[cfg(test)]
mod tests;
