//! The OVHcloud side of the simulator: the OAuth2 token endpoint, API v1's
//! `/auth/time` and the DNS zone calls the hook makes, with Bearer and
//! classic-signature checks on every request, IAM policies per service
//! account, and zones whose edits are published only by a refresh.
//!
//! Pure and self-contained: [`OvhState::handle`] takes one request and the
//! simulated time and returns the answer; [`cloud::Ovh`] is the
//! `core::cloud::Cloud` around it: the core routes requests there, logs them,
//! injects faults, and serves what each refresh published over DNS
//! ([`OvhState::take_published`]). The classic signature is checked by
//! [`verify`], written apart from the product's signer on purpose.
//!
//! # Paths
//!
//! - `POST /auth/oauth2/token` ([`TOKEN_PATH`]), form `grant_type=client_credentials&
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
//! - A classic timestamp more than [`MAX_SKEW_SECS`] off: 400 `QUERY_TIME_OUT`.
//! - Listing zones needs a policy over every zone (`dnsZone:apiovh:get` on
//!   `*`); a policy scoped to some zones gets 403 there, as the issue assumes.
//! - Classic keys may do everything (their access rules are not modelled).

pub mod cloud;
pub mod verify;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The token endpoint's path on the simulator.
pub const TOKEN_PATH: &str = "/auth/oauth2/token";
/// Where API v1 lives on the simulator.
pub const API_PREFIX: &str = "/1.0";
/// A token's lifetime unless the seed says otherwise (OVH's guide shows 3599).
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3599;
/// How far a classic `X-Ovh-Timestamp` may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 180;
/// The TTL of a record created without one (OVH's zone default).
pub const DEFAULT_TTL: u32 = 3600;

/// IAM actions, as OVH names them.
pub mod action {
    pub const ZONE_GET: &str = "dnsZone:apiovh:get";
    pub const RECORD_GET: &str = "dnsZone:apiovh:record/get";
    pub const RECORD_CREATE: &str = "dnsZone:apiovh:record/create";
    pub const RECORD_DELETE: &str = "dnsZone:apiovh:record/delete";
    pub const REFRESH: &str = "dnsZone:apiovh:refresh";
}

/// Starting data of the OVH side. Unknown fields are refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OvhSeed {
    pub zones: Vec<OvhSeedZone>,
    /// Every zone's `nameServers`. Defaults to the seed's `nameservers`.
    pub nameservers: Vec<String>,
    pub service_accounts: Vec<SeedServiceAccount>,
    pub classic_keys: Vec<SeedClassicKey>,
    /// Defaults to [`DEFAULT_TOKEN_LIFETIME_SECS`].
    pub token_lifetime_secs: Option<u64>,
    /// Answer `"subDomain": null` for apex records (the schema allows it).
    pub apex_sub_domain_null: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OvhSeedZone {
    /// Without trailing dot, e.g. `example.test`.
    pub name: String,
    /// Published from the start (as if refreshed).
    #[serde(default)]
    pub records: Vec<SeedRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedRecord {
    #[serde(default)]
    pub sub_domain: String,
    pub field_type: String,
    pub target: String,
    #[serde(default)]
    pub ttl: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedServiceAccount {
    pub client_id: String,
    pub client_secret: String,
    /// What its IAM policy allows. Absent: everything.
    #[serde(default)]
    pub policy: Option<Policy>,
}

/// An IAM policy, reduced to what the DNS calls check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Allowed actions; `*` or a prefix ending in `*` (`dnsZone:apiovh:*`) match several.
    pub actions: Vec<String>,
    /// Zone names the actions apply to (`urn:v1:eu:resource:dnsZone:<zone>`); `*` = all.
    pub zones: Vec<String>,
}

impl OvhSeed {
    /// The demo's data (`otc-sim demo --cloud ovh`): one zone with a foreign
    /// TXT value, a service account allowed exactly the hook's actions on it,
    /// and a classic key. The secrets are fixed so a demo can print commands.
    pub fn demo() -> OvhSeed {
        OvhSeed {
            zones: vec![OvhSeedZone {
                name: "example.test".into(),
                records: vec![SeedRecord {
                    sub_domain: "_acme-challenge".into(),
                    field_type: "TXT".into(),
                    target: "\"foreign-value\"".into(),
                    ttl: Some(300),
                }],
            }],
            nameservers: Vec::new(),
            service_accounts: vec![SeedServiceAccount {
                client_id: "0f0f0f0f0f0f0f0f".into(),
                client_secret: "demo-client-secret-0123456789abcdef".into(),
                policy: Some(Policy {
                    actions: [
                        action::ZONE_GET,
                        action::RECORD_GET,
                        action::RECORD_CREATE,
                        action::RECORD_DELETE,
                        action::REFRESH,
                    ]
                    .map(str::to_string)
                    .to_vec(),
                    zones: vec!["example.test".into()],
                }),
            }],
            classic_keys: vec![SeedClassicKey {
                application_key: "7kbG7Bk7S9Nt7ZSV".into(),
                application_secret: "demo-application-secret-0123456789".into(),
                consumer_key: "demo-consumer-key-0123456789abcdef".into(),
            }],
            token_lifetime_secs: None,
            apex_sub_domain_null: false,
        }
    }

    /// Nothing of OVH in the seed.
    pub fn is_empty(&self) -> bool {
        *self == OvhSeed::default()
    }

    /// Parses a seed; unknown fields are refused.
    pub fn from_json(text: &str) -> Result<OvhSeed, String> {
        serde_json::from_str(text).map_err(|e| format!("ovh seed: {e}"))
    }
}

impl Policy {
    fn allows(&self, action: &str, zone: &str) -> bool {
        let act = self.actions.iter().any(|a| match a.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => a == action,
        });
        act && self
            .zones
            .iter()
            .any(|z| z == "*" || z.eq_ignore_ascii_case(zone))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedClassicKey {
    pub application_key: String,
    pub application_secret: String,
    pub consumer_key: String,
}

/// One request as received.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path as on the request line (no query).
    pub path: &'a str,
    /// Query as on the request line, without `?` (empty when none).
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The answer, and what the core's request log wants to know.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How the request authenticated or tried to: `bearer`, `ovh-signature`, `client_credentials`.
    pub auth: Option<&'static str>,
    /// Who: a service account's client id, an application key (never a secret).
    pub identity: Option<String>,
    /// The error's class or code, for the log.
    pub code: Option<String>,
}

fn json_answer(status: u16, body: &Value) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        auth: None,
        identity: None,
        code: None,
    }
}

/// `{"class","message"}`, OVH's API error.
fn class_error(status: u16, class: &str, message: &str) -> Answer {
    let mut a = json_answer(status, &json!({"class": class, "message": message}));
    a.code = Some(class.into());
    a
}

/// `{"errorCode","httpCode","message"}`, OVH's authentication error.
fn code_error(status: u16, code: &str, http: &str, message: &str) -> Answer {
    let mut a = json_answer(
        status,
        &json!({"errorCode": code, "httpCode": http, "message": message}),
    );
    a.code = Some(code.into());
    a
}

fn not_found() -> Answer {
    class_error(404, "Client::NotFound", "This service does not exist")
}

fn denied(action: &str) -> Answer {
    let mut a = json_answer(
        403,
        &json!({"class": "Client::Forbidden", "message": "User not granted for this request",
                "details": {"unauthorizedActionsByIAM": action}}),
    );
    a.code = Some("Client::Forbidden".into());
    a
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub sub_domain: String,
    pub field_type: String,
    pub target: String,
    pub ttl: u32,
}

impl Record {
    fn to_json(&self, zone: &str) -> Value {
        json!({"id": self.id, "zone": zone, "subDomain": self.sub_domain,
               "fieldType": self.field_type, "target": self.target, "ttl": self.ttl})
    }
    /// As the API answers it: with `apex_null`, the apex's `subDomain` is `null`.
    fn to_api_json(&self, zone: &str, apex_null: bool) -> Value {
        let mut v = self.to_json(zone);
        if apex_null && self.sub_domain.is_empty() {
            v["subDomain"] = Value::Null;
        }
        v
    }
    /// The absolute owner name.
    pub fn fqdn(&self, zone: &str) -> String {
        if self.sub_domain.is_empty() {
            format!("{zone}.")
        } else {
            format!("{}.{zone}.", self.sub_domain)
        }
    }
}

/// What a refresh published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Simulated unix time of the refresh.
    pub at: i64,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone)]
struct SimZone {
    records: BTreeMap<u64, Record>,
    /// What DNS serves: the records as of the last refresh.
    published: Published,
    /// Edits since the last refresh.
    edits: u32,
    /// A refresh the core has not taken yet.
    untaken: bool,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    token: String,
    account: usize,
    expires_at: i64,
}

enum Who {
    Account(usize),
    Classic(usize),
}

/// The OVH side's whole state.
#[derive(Debug, Clone)]
pub struct OvhState {
    zones: BTreeMap<String, SimZone>,
    next_id: u64,
    nameservers: Vec<String>,
    accounts: Vec<SeedServiceAccount>,
    classic: Vec<SeedClassicKey>,
    tokens: Vec<IssuedToken>,
    /// Lifetime of the tokens issued from now on.
    pub token_lifetime_secs: u64,
    /// Answer `"subDomain": null` for apex records.
    pub apex_sub_domain_null: bool,
    /// Every refresh: (zone, simulated unix time).
    refreshes: Vec<(String, i64)>,
    /// Sequence for token uniqueness (with a random seed).
    issued: u64,
}

impl OvhState {
    pub fn from_seed(seed: &OvhSeed, now: i64) -> Result<OvhState, String> {
        let mut s = OvhState {
            zones: BTreeMap::new(),
            next_id: 5_000_000_001,
            nameservers: if seed.nameservers.is_empty() {
                vec!["localhost.".into()]
            } else {
                seed.nameservers.clone()
            },
            accounts: seed.service_accounts.clone(),
            classic: seed.classic_keys.clone(),
            tokens: Vec::new(),
            token_lifetime_secs: seed
                .token_lifetime_secs
                .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS),
            apex_sub_domain_null: seed.apex_sub_domain_null,
            refreshes: Vec::new(),
            issued: 0,
        };
        for z in &seed.zones {
            let name = z.name.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() || s.zones.contains_key(&name) {
                return Err(format!("ovh zone {:?}: empty or given twice", z.name));
            }
            let mut records = BTreeMap::new();
            for r in &z.records {
                let id = s.next_id;
                s.next_id += 1;
                records.insert(
                    id,
                    Record {
                        id,
                        sub_domain: r.sub_domain.clone(),
                        field_type: r.field_type.clone(),
                        target: r.target.clone(),
                        ttl: r.ttl.unwrap_or(DEFAULT_TTL),
                    },
                );
            }
            let published = Published {
                at: now,
                records: records.values().cloned().collect(),
            };
            s.zones.insert(
                name,
                SimZone {
                    records,
                    published,
                    edits: 0,
                    untaken: false,
                },
            );
        }
        Ok(s)
    }

    /// Answers one request at simulated unix time `now`.
    pub fn handle(&mut self, req: &Request<'_>, now: i64) -> Answer {
        if req.path == TOKEN_PATH {
            if req.method != "POST" {
                return class_error(405, "Client::MethodNotAllowed", "POST only");
            }
            return self.token(req, now);
        }
        let Some(rest) = req.path.strip_prefix(API_PREFIX) else {
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
            .any(|h| verify::header(req.headers, h).is_some());
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
            Err(a) => return a,
        };
        let (auth, identity) = match who {
            Who::Account(i) => ("bearer", self.accounts[i].client_id.clone()),
            Who::Classic(i) => ("ovh-signature", self.classic[i].application_key.clone()),
        };
        let mut a = self.route(req, rest, &who, now);
        a.auth = Some(auth);
        a.identity = Some(identity);
        a
    }

    fn token(&mut self, req: &Request<'_>, now: i64) -> Answer {
        let fail = |status: u16, error: &str, description: &str| {
            let mut a = json_answer(
                status,
                &json!({"error": error, "error_description": description}),
            );
            a.code = Some(error.into());
            a.auth = Some("client_credentials");
            a
        };
        let form_type = verify::header(req.headers, "content-type").unwrap_or("");
        if !form_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return fail(400, "invalid_request", "form body expected");
        }
        let form = verify::parse_form(req.body);
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("grant_type") != Some("client_credentials") {
            return fail(400, "unsupported_grant_type", "client_credentials only");
        }
        if get("scope") != Some("all") {
            return fail(400, "invalid_scope", "scope must be all");
        }
        let (Some(id), Some(secret)) = (get("client_id"), get("client_secret")) else {
            return fail(401, "invalid_client", "client authentication failed");
        };
        let Some(account) = self
            .accounts
            .iter()
            .position(|a| a.client_id == id && a.client_secret == secret)
        else {
            let mut a = fail(401, "invalid_client", "client authentication failed");
            a.identity = Some(id.to_string());
            return a;
        };
        self.issued += 1;
        let token = verify::random_token(self.issued);
        let lifetime = self.token_lifetime_secs;
        self.tokens.push(IssuedToken {
            token: token.clone(),
            account,
            expires_at: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 4),
        });
        let mut a = json_answer(
            200,
            &json!({"access_token": token, "token_type": "Bearer",
                    "expires_in": lifetime, "scope": "all"}),
        );
        a.auth = Some("client_credentials");
        a.identity = Some(id.to_string());
        a
    }

    fn authenticate(&self, req: &Request<'_>, now: i64) -> Result<Who, Answer> {
        let bearer = verify::header(req.headers, "authorization");
        let app = verify::header(req.headers, "x-ovh-application");
        match (bearer, app) {
            (Some(_), Some(_)) => Err(class_error(
                400,
                "Client::BadRequest",
                "Bearer and application key together",
            )),
            (Some(b), None) => {
                let token = b
                    .strip_prefix("Bearer ")
                    .or_else(|| b.strip_prefix("bearer "))
                    .unwrap_or("");
                match self.tokens.iter().find(|t| t.token == token) {
                    Some(t) if t.expires_at > now => Ok(Who::Account(t.account)),
                    _ => Err(class_error(
                        401,
                        "Client::Unauthorized",
                        "The access token is invalid or expired",
                    )),
                }
            }
            (None, Some(ak)) => self.check_classic(req, ak, now),
            (None, None) => Err(code_error(
                401,
                "NOT_AUTHENTICATED",
                "401 Unauthorized",
                "You must login first",
            )),
        }
    }

    fn check_classic(&self, req: &Request<'_>, ak: &str, now: i64) -> Result<Who, Answer> {
        let Some(i) = self.classic.iter().position(|k| k.application_key == ak) else {
            return Err(code_error(
                403,
                "INVALID_KEY",
                "403 Forbidden",
                "This application key is invalid",
            ));
        };
        let key = &self.classic[i];
        if verify::header(req.headers, "x-ovh-consumer") != Some(key.consumer_key.as_str()) {
            return Err(code_error(
                403,
                "INVALID_CREDENTIAL",
                "403 Forbidden",
                "This credential does not exist",
            ));
        }
        let ts = verify::header(req.headers, "x-ovh-timestamp").unwrap_or("");
        let Ok(ts_num) = ts.parse::<i64>() else {
            return Err(class_error(400, "Client::BadRequest", "Invalid signature"));
        };
        if (ts_num - now).abs() > MAX_SKEW_SECS {
            return Err(code_error(
                400,
                "QUERY_TIME_OUT",
                "400 Bad Request",
                "Query out of time",
            ));
        }
        let host = verify::header(req.headers, "host").unwrap_or("");
        let full_url = if req.query.is_empty() {
            format!("http://{host}{}", req.path)
        } else {
            format!("http://{host}{}?{}", req.path, req.query)
        };
        let want = verify::classic_signature(
            &key.application_secret,
            &key.consumer_key,
            req.method,
            &full_url,
            req.body,
            ts,
        );
        if verify::header(req.headers, "x-ovh-signature") != Some(want.as_str()) {
            return Err(class_error(400, "Client::BadRequest", "Invalid signature"));
        }
        Ok(Who::Classic(i))
    }

    fn allowed(&self, who: &Who, action: &str, zone: &str) -> bool {
        match who {
            Who::Classic(_) => true,
            Who::Account(i) => self.accounts[*i]
                .policy
                .as_ref()
                .is_none_or(|p| p.allows(action, zone)),
        }
    }

    fn route(&mut self, req: &Request<'_>, rest: &str, who: &Who, now: i64) -> Answer {
        let Some(tail) = rest.strip_prefix("/domain/zone") else {
            return not_found();
        };
        let parts: Vec<&str> = tail.split('/').skip(1).collect();
        match (req.method, parts.as_slice()) {
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
        req: &Request<'_>,
        who: &Who,
        now: i64,
    ) -> Answer {
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
                let q = verify::parse_form(req.query.as_bytes());
                let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let (ft, sub) = (get("fieldType"), get("subDomain"));
                let ids: Vec<u64> = z
                    .records
                    .values()
                    .filter(|r| {
                        ft.as_deref()
                            .is_none_or(|p| verify::like(p, &r.field_type, false))
                    })
                    .filter(|r| {
                        sub.as_deref()
                            .is_none_or(|p| verify::like(p, &r.sub_domain, true))
                    })
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
                let Ok(body) = serde_json::from_slice::<Value>(req.body) else {
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

    /// What the last refresh of `zone` published, once per refresh (for the
    /// core's "served from when" model); `None` when nothing new.
    pub fn take_published(&mut self, zone: &str) -> Option<Published> {
        let z = self.zones.get_mut(zone)?;
        if !std::mem::take(&mut z.untaken) {
            return None;
        }
        Some(z.published.clone())
    }

    /// What DNS should serve for `zone` now (the last refresh, or the seed).
    pub fn published(&self, zone: &str) -> Option<&Published> {
        self.zones.get(zone).map(|z| &z.published)
    }

    /// Every zone's name (no trailing dot).
    pub fn zone_names(&self) -> Vec<String> {
        self.zones.keys().cloned().collect()
    }

    /// The records as the API sees them (edits included, published or not).
    #[cfg(test)]
    pub fn records(&self, zone: &str) -> Vec<Record> {
        self.zones
            .get(zone)
            .map(|z| z.records.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every refresh so far: (zone, simulated unix time).
    #[cfg(test)]
    pub fn refreshes(&self) -> &[(String, i64)] {
        &self.refreshes
    }

    /// Every secret known or issued: client secrets, application secrets,
    /// consumer keys, access tokens. For the leak check.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .accounts
            .iter()
            .map(|a| a.client_secret.clone())
            .collect();
        for k in &self.classic {
            out.push(k.application_secret.clone());
            out.push(k.consumer_key.clone());
        }
        out.extend(self.tokens.iter().map(|t| t.token.clone()));
        out
    }

    /// For `GET /_sim/state`: zones (API view, published view, pending edits),
    /// service accounts and tokens without any secret.
    pub fn state_json(&self, now: i64) -> Value {
        let zones: Vec<Value> = self
            .zones
            .iter()
            .map(|(name, z)| {
                json!({"name": name,
                       "records": z.records.values().map(|r| r.to_json(name)).collect::<Vec<_>>(),
                       "published": z.published.records.iter().map(|r| r.to_json(name)).collect::<Vec<_>>(),
                       "published_at": z.published.at,
                       "unpublished_edits": z.edits})
            })
            .collect();
        let tokens: Vec<Value> = self
            .tokens
            .iter()
            .map(|t| {
                json!({"client_id": self.accounts[t.account].client_id,
                       "expires_at": t.expires_at, "expired": t.expires_at <= now})
            })
            .collect();
        json!({"zones": zones,
               "service_accounts": self.accounts.iter().map(|a| json!({"client_id": a.client_id, "policy": a.policy})).collect::<Vec<_>>(),
               "application_keys": self.classic.iter().map(|k| k.application_key.clone()).collect::<Vec<_>>(),
               "tokens": tokens,
               "token_lifetime_secs": self.token_lifetime_secs,
               "apex_sub_domain_null": self.apex_sub_domain_null,
               "refreshes": self.refreshes.len()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const HOST: &str = "127.0.0.1:8080";

    fn seed() -> OvhSeed {
        OvhSeed::from_json(
            r#"{"zones": [{"name": "example.test", "records": [
                   {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign\"", "ttl": 60},
                   {"subDomain": "xacme-challenge", "fieldType": "TXT", "target": "lookalike"},
                   {"subDomain": "", "fieldType": "A", "target": "192.0.2.1"}]},
                 {"name": "other.test"}],
                "service_accounts": [
                   {"client_id": "sa-all", "client_secret": "SECRET-ALL"},
                   {"client_id": "sa-scoped", "client_secret": "SECRET-SCOPED",
                    "policy": {"actions": ["dnsZone:apiovh:record/get", "dnsZone:apiovh:record/create",
                                           "dnsZone:apiovh:get"],
                               "zones": ["example.test"]}}],
                "classic_keys": [{"application_key": "AK1", "application_secret": "AS-SECRET",
                                  "consumer_key": "CK-SECRET"}],
                "token_lifetime_secs": 100}"#,
        )
        .unwrap()
    }

    fn state() -> OvhState {
        OvhState::from_seed(&seed(), NOW).unwrap()
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn call(
        s: &mut OvhState,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &str,
        now: i64,
    ) -> (u16, Value, Answer) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let a = s.handle(
            &Request {
                method,
                path,
                query,
                headers,
                body: body.as_bytes(),
            },
            now,
        );
        let v = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        (a.status, v, a)
    }

    fn token(s: &mut OvhState, id: &str, secret: &str) -> (u16, Value) {
        let body = format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=all"
        );
        let (st, v, _) = call(
            s,
            "POST",
            TOKEN_PATH,
            &h(&[("Content-Type", "application/x-www-form-urlencoded")]),
            &body,
            NOW,
        );
        (st, v)
    }

    fn bearer(s: &mut OvhState, id: &str, secret: &str) -> Vec<(String, String)> {
        let (st, v) = token(s, id, secret);
        assert_eq!(st, 200, "{v}");
        h(&[(
            "Authorization",
            &format!("Bearer {}", v["access_token"].as_str().unwrap()),
        )])
    }

    #[test]
    fn client_credentials_and_token_lifetime() {
        let mut s = state();
        let (st, v) = token(&mut s, "sa-all", "SECRET-ALL");
        assert_eq!(st, 200);
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["expires_in"], 100);
        assert_eq!(v["scope"], "all");
        let auth = h(&[(
            "Authorization",
            &format!("Bearer {}", v["access_token"].as_str().unwrap()),
        )]);
        let (st, _, a) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW + 99);
        assert_eq!(
            (st, a.auth, a.identity.as_deref()),
            (200, Some("bearer"), Some("sa-all"))
        );
        // Expired after its lifetime.
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW + 100);
        assert_eq!(
            (st, v["class"].as_str()),
            (401, Some("Client::Unauthorized"))
        );
        // A wrong secret or unknown client: invalid_client.
        for (id, secret) in [("sa-all", "WRONG"), ("nobody", "SECRET-ALL")] {
            let (st, v) = token(&mut s, id, secret);
            assert_eq!((st, v["error"].as_str()), (401, Some("invalid_client")));
        }
        // Encoded form values are decoded.
        s.accounts[0].client_secret = "a&b=c d".into();
        assert_eq!(token(&mut s, "sa-all", "a%26b%3Dc+d").0, 200);
        // Other grants, scopes and bodies.
        let form = h(&[("Content-Type", "application/x-www-form-urlencoded")]);
        let (st, v, _) = call(
            &mut s,
            "POST",
            TOKEN_PATH,
            &form,
            "grant_type=password&scope=all",
            NOW,
        );
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("unsupported_grant_type"))
        );
        let (st, v, _) = call(
            &mut s,
            "POST",
            TOKEN_PATH,
            &h(&[]),
            "grant_type=client_credentials",
            NOW,
        );
        assert_eq!((st, v["error"].as_str()), (400, Some("invalid_request")));
        s.token_lifetime_secs = 5;
        assert_eq!(token(&mut s, "sa-all", "a%26b%3Dc+d").1["expires_in"], 5);
    }

    #[test]
    fn every_dns_call_needs_credentials() {
        let mut s = state();
        let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &[], "", NOW);
        assert_eq!((st, v), (200, json!(NOW)));
        for (m, p) in [
            ("GET", "/1.0/domain/zone"),
            ("GET", "/1.0/domain/zone/example.test"),
            ("GET", "/1.0/domain/zone/example.test/record?fieldType=TXT"),
            ("POST", "/1.0/domain/zone/example.test/record"),
            ("DELETE", "/1.0/domain/zone/example.test/record/5000000001"),
            ("POST", "/1.0/domain/zone/example.test/refresh"),
        ] {
            let (st, v, _) = call(&mut s, m, p, &[], "", NOW);
            assert_eq!(
                (st, v["errorCode"].as_str()),
                (401, Some("NOT_AUTHENTICATED")),
                "{m} {p}"
            );
            let bad = h(&[("Authorization", "Bearer not-a-token")]);
            assert_eq!(call(&mut s, m, p, &bad, "", NOW).0, 401, "{m} {p}");
        }
        assert_eq!(s.records("example.test").len(), 3);
    }

    fn signed(s: &mut OvhState, method: &str, target: &str, body: &str, ts: i64) -> (u16, Value) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let url = if query.is_empty() {
            format!("http://{HOST}{path}")
        } else {
            format!("http://{HOST}{path}?{query}")
        };
        let ts = ts.to_string();
        let sig =
            verify::classic_signature("AS-SECRET", "CK-SECRET", method, &url, body.as_bytes(), &ts);
        let headers = h(&[
            ("Host", HOST),
            ("X-Ovh-Application", "AK1"),
            ("X-Ovh-Consumer", "CK-SECRET"),
            ("X-Ovh-Timestamp", &ts),
            ("X-Ovh-Signature", &sig),
        ]);
        let (st, v, _) = call(s, method, target, &headers, body, NOW);
        (st, v)
    }

    #[test]
    fn classic_signature_checks() {
        let mut s = state();
        let (st, v) = signed(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_acme-challenge",
            "",
            NOW,
        );
        assert_eq!(st, 200, "{v}");
        let body = r#"{"fieldType":"TXT","subDomain":"","target":"v","ttl":60}"#;
        assert_eq!(
            signed(
                &mut s,
                "POST",
                "/1.0/domain/zone/example.test/record",
                body,
                NOW + 170
            )
            .0,
            200
        );
        let (st, v) = signed(&mut s, "GET", "/1.0/domain/zone", "", NOW - 181);
        assert_eq!((st, v["errorCode"].as_str()), (400, Some("QUERY_TIME_OUT")));
        // Tampered: the body, the consumer key, the application key.
        let mut headers = h(&[
            ("Host", HOST),
            ("X-Ovh-Application", "AK1"),
            ("X-Ovh-Consumer", "CK-SECRET"),
            ("X-Ovh-Timestamp", &NOW.to_string()),
            ("X-Ovh-Signature", "$1$0000"),
        ]);
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
        assert_eq!(
            (st, v["message"].as_str()),
            (400, Some("Invalid signature"))
        );
        headers[2].1 = "OTHER".into();
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
        assert_eq!(
            (st, v["errorCode"].as_str()),
            (403, Some("INVALID_CREDENTIAL"))
        );
        headers[1].1 = "AK2".into();
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
        assert_eq!((st, v["errorCode"].as_str()), (403, Some("INVALID_KEY")));
    }

    #[test]
    fn records_filter_create_delete_and_refresh_publishes() {
        let mut s = state();
        let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW);
        assert_eq!((st, v), (200, json!(["example.test", "other.test"])));
        let (_, v, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/Example.TEST",
            &auth,
            "",
            NOW,
        );
        assert_eq!(v["nameServers"], json!(["localhost."]));
        let (st, _, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/nowhere.test",
            &auth,
            "",
            NOW,
        );
        assert_eq!(st, 404);
        // `_` of the filter matches any character, case folds: the client must compare.
        let (_, ids, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_ACME-challenge",
            &auth,
            "",
            NOW,
        );
        assert_eq!(ids, json!([5_000_000_001u64, 5_000_000_002u64]));
        let (_, apex, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=",
            &auth,
            "",
            NOW,
        );
        assert_eq!(apex, json!([]));
        let (_, r, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record/5000000001",
            &auth,
            "",
            NOW,
        );
        assert_eq!(r["target"], "\"foreign\"");
        assert_eq!(r["subDomain"], "_acme-challenge");
        // Create and delete; nothing is published before the refresh.
        let body = r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"new","ttl":60}"#;
        let (st, created, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            body,
            NOW,
        );
        assert_eq!(st, 200);
        assert_eq!(created["target"], "\"new\"", "quoted by the API");
        let (st, v, _) = call(
            &mut s,
            "DELETE",
            "/1.0/domain/zone/example.test/record/5000000002",
            &auth,
            "",
            NOW,
        );
        assert_eq!((st, v), (200, Value::Null));
        assert_eq!(
            call(
                &mut s,
                "DELETE",
                "/1.0/domain/zone/example.test/record/5000000002",
                &auth,
                "",
                NOW
            )
            .0,
            404
        );
        assert_eq!(s.take_published("example.test"), None);
        assert_eq!(s.published("example.test").unwrap().records.len(), 3);
        let (st, _, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/refresh",
            &auth,
            "",
            NOW + 5,
        );
        assert_eq!(st, 200);
        let p = s.take_published("example.test").unwrap();
        assert_eq!(p.at, NOW + 5);
        let targets: Vec<&str> = p.records.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, ["\"foreign\"", "192.0.2.1", "\"new\""]);
        assert_eq!(
            p.records[2].fqdn("example.test"),
            "_acme-challenge.example.test."
        );
        assert_eq!(s.take_published("example.test"), None, "taken once");
        assert_eq!(s.refreshes(), [("example.test".to_string(), NOW + 5)]);
        // Bad bodies.
        let (st, _, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            r#"{"fieldType":"TXT"}"#,
            NOW,
        );
        assert_eq!(st, 400);
    }

    #[test]
    fn a_scoped_policy_names_the_missing_action() {
        let mut s = state();
        let auth = bearer(&mut s, "sa-scoped", "SECRET-SCOPED");
        let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW);
        assert_eq!(
            (st, v["details"]["unauthorizedActionsByIAM"].as_str()),
            (403, Some("dnsZone:apiovh:get"))
        );
        assert_eq!(
            call(
                &mut s,
                "GET",
                "/1.0/domain/zone/example.test",
                &auth,
                "",
                NOW
            )
            .0,
            200
        );
        assert_eq!(
            call(&mut s, "GET", "/1.0/domain/zone/other.test", &auth, "", NOW).0,
            403
        );
        let body = r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"v"}"#;
        let (st, r, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            body,
            NOW,
        );
        assert_eq!((st, r["ttl"].as_u64()), (200, Some(u64::from(DEFAULT_TTL))));
        let (st, v, a) = call(
            &mut s,
            "DELETE",
            "/1.0/domain/zone/example.test/record/5000000001",
            &auth,
            "",
            NOW,
        );
        assert_eq!(st, 403);
        assert_eq!(v["class"], "Client::Forbidden");
        assert_eq!(
            v["details"]["unauthorizedActionsByIAM"],
            "dnsZone:apiovh:record/delete"
        );
        assert_eq!(a.code.as_deref(), Some("Client::Forbidden"));
        let (st, v, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/refresh",
            &auth,
            "",
            NOW,
        );
        assert_eq!(
            (st, v["details"]["unauthorizedActionsByIAM"].as_str()),
            (403, Some("dnsZone:apiovh:refresh"))
        );
        assert!(s.refreshes().is_empty());
    }

    #[test]
    fn secrets_are_known_and_never_shown() {
        let mut s = state();
        let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
        let token = auth[0].1.strip_prefix("Bearer ").unwrap().to_string();
        let secrets = s.secrets();
        for x in [
            "SECRET-ALL",
            "SECRET-SCOPED",
            "AS-SECRET",
            "CK-SECRET",
            token.as_str(),
        ] {
            assert!(secrets.iter().any(|s| s == x), "{x}");
        }
        let shown = s.state_json(NOW).to_string();
        assert!(
            secrets.iter().all(|x| !shown.contains(x.as_str())),
            "{shown}"
        );
        assert!(shown.contains("sa-scoped") && shown.contains("AK1"));
    }

    #[test]
    fn the_demo_seed_round_trips_and_works() {
        let demo = OvhSeed::demo();
        let text = serde_json::to_string(&demo).unwrap();
        assert_eq!(OvhSeed::from_json(&text).unwrap(), demo);
        let mut s = OvhState::from_seed(&demo, NOW).unwrap();
        let sa = &demo.service_accounts[0];
        let auth = bearer(&mut s, &sa.client_id, &sa.client_secret);
        let (st, v, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_acme-challenge",
            &auth,
            "",
            NOW,
        );
        assert_eq!((st, v), (200, json!([5_000_000_001u64])));
        // Exactly the hook's actions: no listing.
        assert_eq!(
            call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW).0,
            403
        );
    }

    #[test]
    fn auth_time_is_refused_when_signed() {
        let mut s = state();
        // go-ovh sends X-Ovh-Application on its unauthenticated calls: fine.
        let app = h(&[("X-Ovh-Application", "AK1")]);
        let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &app, "", NOW);
        assert_eq!((st, v), (200, json!(NOW)));
        let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
        let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &auth, "", NOW);
        assert_eq!((st, v["class"].as_str()), (400, Some("Client::BadRequest")));
        for k in ["X-Ovh-Consumer", "X-Ovh-Timestamp", "X-Ovh-Signature"] {
            let signed = h(&[("X-Ovh-Application", "AK1"), (k, "x")]);
            assert_eq!(
                call(&mut s, "GET", "/1.0/auth/time", &signed, "", NOW).0,
                400,
                "{k}"
            );
        }
        // The whole classic signature too.
        assert_eq!(signed(&mut s, "GET", "/1.0/auth/time", "", NOW).0, 400);
    }

    #[test]
    fn txt_targets_are_stored_quoted_and_deletes_answer_null() {
        let mut s = state();
        let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
        let post = |s: &mut OvhState, body: &str| {
            call(
                s,
                "POST",
                "/1.0/domain/zone/example.test/record",
                &auth,
                body,
                NOW,
            )
        };
        let (st, r, _) = post(
            &mut s,
            r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"bare","ttl":60}"#,
        );
        assert_eq!((st, r["target"].as_str()), (200, Some("\"bare\"")));
        let (_, r2, _) = post(
            &mut s,
            r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"\"quoted\"","ttl":60}"#,
        );
        assert_eq!(r2["target"], "\"quoted\"");
        let (_, a, _) = post(
            &mut s,
            r#"{"fieldType":"A","subDomain":"www","target":"192.0.2.7","ttl":60}"#,
        );
        assert_eq!(a["target"], "192.0.2.7");
        let id = r["id"].as_u64().unwrap();
        let (_, got, _) = call(
            &mut s,
            "GET",
            &format!("/1.0/domain/zone/example.test/record/{id}"),
            &auth,
            "",
            NOW,
        );
        assert_eq!(got["target"], "\"bare\"");
        let (st, _, a) = call(
            &mut s,
            "DELETE",
            &format!("/1.0/domain/zone/example.test/record/{id}"),
            &auth,
            "",
            NOW,
        );
        assert_eq!((st, a.body.as_slice()), (200, b"null".as_slice()));
    }

    #[test]
    fn apex_sub_domain_null_as_a_knob() {
        let mut s = state();
        let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
        let apex_txt = r#"{"fieldType":"TXT","subDomain":"","target":"apex","ttl":60}"#;
        let (_, r, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            apex_txt,
            NOW,
        );
        assert_eq!(r["subDomain"], "", "real answers send \"\"");
        s.apex_sub_domain_null = true;
        let (_, r, _) = call(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            apex_txt,
            NOW,
        );
        assert_eq!(r["subDomain"], Value::Null);
        let (_, ids, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record?subDomain=",
            &auth,
            "",
            NOW,
        );
        // The seed's apex A record, then the two TXT records.
        assert_eq!(ids.as_array().unwrap().len(), 3, "{ids}");
        for id in ids.as_array().unwrap() {
            let (_, rec, _) = call(
                &mut s,
                "GET",
                &format!("/1.0/domain/zone/example.test/record/{id}"),
                &auth,
                "",
                NOW,
            );
            assert!(rec["subDomain"].is_null(), "{rec}");
            assert!(rec.as_object().unwrap().contains_key("subDomain"), "{rec}");
        }
        // Other names keep theirs; the state shows what is stored.
        let (_, rec, _) = call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test/record/5000000001",
            &auth,
            "",
            NOW,
        );
        assert_eq!(rec["subDomain"], "_acme-challenge");
        assert!(
            s.state_json(NOW)["zones"][0]["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["subDomain"].is_string())
        );
        let seeded: OvhSeed = OvhSeed::from_json(r#"{"apex_sub_domain_null": true}"#).unwrap();
        assert!(
            OvhState::from_seed(&seeded, NOW)
                .unwrap()
                .apex_sub_domain_null
        );
    }

    #[test]
    fn seeds_are_checked() {
        assert!(OvhSeed::from_json(r#"{"zone": []}"#).is_err());
        let twice =
            OvhSeed::from_json(r#"{"zones": [{"name": "a.test"}, {"name": "A.test."}]}"#).unwrap();
        assert!(OvhState::from_seed(&twice, NOW).is_err());
        assert_eq!(
            OvhState::from_seed(&OvhSeed::default(), NOW)
                .unwrap()
                .zone_names(),
            Vec::<String>::new()
        );
    }
}
