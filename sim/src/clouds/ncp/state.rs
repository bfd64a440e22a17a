//! The NAVER Cloud (NCP) part of the simulator, self-contained: instance
//! metadata (v1 and v2, with a "v2 required" switch), the server role's
//! temporary keys, and Global DNS v1 with the API Gateway signature v2
//! recomputed here (never the product's code) and its 5-minute window.
//!
//! [`NcpState::handle`] is pure over its inputs (request, simulated time);
//! the cloud adapter beside it (`clouds::ncp::Ncp`) routes `/latest/...` and
//! `/dns/v1/...` to it, hands the core what [`Answer`] says for the log
//! (status, `access_key`, `code`, `issued`), and publishes each domain's
//! records to the authoritative DNS from [`NcpState::take_applies`] on (plus
//! the propagation delay). Rollback is answered and recorded
//! ([`NcpState::rollbacks`]) so tests can assert it is never called.
//!
//! As ncp-api.md's Corrections say: TXT content stored and listed quoted, a
//! role without a Global DNS policy refused with `401`/`210`, `searchContent`
//! by record name. Not confirmed against the real API: the duplicate
//! refusal's code, error codes of unknown ids, whether the listing shows
//! unapplied changes (here: it does), the answer to an apply with nothing
//! pending (here: accepted, or `X00006` with `refuse_empty_apply`).

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

/// Where the DNS API lives on the simulator's port (the real gateway's prefix).
pub const DNS_PREFIX: &str = "/dns/v1";
/// Metadata paths.
pub const TOKEN_PATH: &str = "/latest/api/token";
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials";
/// The gateway's window around its clock for `x-ncp-apigw-timestamp`.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Largest page `size` accepted.
pub const MAX_PAGE_SIZE: usize = 1000;

/// How the metadata service answers tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataMode {
    /// "v1 and v2": a token is offered; GETs without one are answered.
    Optional,
    /// "v2 (token required)": GETs without a valid token get 401.
    Required,
    /// No v2 at all: the token PUT is 404 (an older service).
    Absent,
}

/// Starting data, as JSON; every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NcpSeed {
    /// API keys (main or sub account).
    pub static_keys: Vec<NcpSeedKey>,
    /// The server role attached to the instance; `null`: none.
    pub role: Option<NcpSeedRole>,
    pub metadata: MetadataMode,
    pub metadata_enabled: bool,
    /// Lifetime of the role's temporary keys.
    pub credential_ttl_secs: u64,
    pub domains: Vec<NcpSeedDomain>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcpSeedKey {
    pub access: String,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcpSeedRole {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Whether the role has a Global DNS policy (`NCP_GLOBAL_DNS_MANAGER`);
    /// without, the gateway answers its keys `401`/`210` Permission Denied.
    #[serde(default = "yes")]
    pub dns_policy: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcpSeedDomain {
    #[serde(default)]
    pub id: Option<u64>,
    /// Without a trailing dot, e.g. `example.test`.
    pub name: String,
    /// Applied (served) from the start.
    #[serde(default)]
    pub records: Vec<NcpSeedRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcpSeedRecord {
    pub host: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub content: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
}

fn default_ttl() -> u32 {
    300
}

impl Default for NcpSeed {
    fn default() -> NcpSeed {
        NcpSeed {
            static_keys: Vec::new(),
            role: None,
            metadata: MetadataMode::Optional,
            metadata_enabled: true,
            credential_ttl_secs: 3600,
            domains: Vec::new(),
        }
    }
}

impl NcpSeed {
    /// Nothing of NCP in the seed (it is left out of `print-seed`).
    pub fn is_empty(&self) -> bool {
        *self == NcpSeed::default()
    }

    /// One static key, a role, `example.test` and `sub.example.test`.
    pub fn demo() -> NcpSeed {
        NcpSeed {
            static_keys: vec![NcpSeedKey {
                access: "ncp_iam_BPAMKRSIMSTATIC0001".into(),
                secret: "ncp_iam_BPKMKRSIMSECRET00000000000000001".into(),
            }],
            role: Some(NcpSeedRole {
                id: "a1b2c3d4-0000-4000-8000-00000000dns1".into(),
                name: "dns-role".into(),
                dns_policy: true,
            }),
            domains: vec![
                NcpSeedDomain {
                    id: None,
                    name: "example.test".into(),
                    records: vec![NcpSeedRecord {
                        host: "@".into(),
                        rtype: "NS".into(),
                        content: "ns1-1.ns-ncloud.com.".into(),
                        ttl: 86400,
                    }],
                },
                NcpSeedDomain {
                    id: None,
                    name: "sub.example.test".into(),
                    records: vec![],
                },
            ],
            ..NcpSeed::default()
        }
    }
}

/// One record of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub host: String,
    pub rtype: String,
    /// As stored (TXT content quoted).
    pub content: String,
    pub ttl: u32,
}

/// A change not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Added(u64),
    Deleted(Record),
}

#[derive(Debug, Clone)]
struct Domain {
    id: u64,
    name: String,
    /// What the API lists: applied and pending changes.
    records: Vec<Record>,
    pending: Vec<Pending>,
    /// What DNS serves (the records as of the last apply).
    published: Vec<Record>,
}

/// An apply, for the core's "served from when" model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub domain: String,
    pub t_ms: i64,
    /// The domain's whole record list as published.
    pub records: Vec<Record>,
}

#[derive(Debug, Clone)]
struct TempKey {
    access: String,
    secret: String,
    expires_ms: i64,
}

/// One request as received.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// As on the request line (still percent-encoded).
    pub path: &'a str,
    /// As on the request line, without `?`; empty when none.
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// One answer and what the log should say of it.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The key the request was signed with (metadata: the key it issued).
    pub access_key: Option<String>,
    /// The error code answered, if any.
    pub code: Option<String>,
    /// A temporary key handed out.
    pub issued: Option<String>,
}

/// The NCP world of one simulator.
#[derive(Debug)]
pub struct NcpState {
    pub metadata: MetadataMode,
    pub metadata_enabled: bool,
    pub credential_ttl_secs: u64,
    role: Option<NcpSeedRole>,
    static_keys: Vec<NcpSeedKey>,
    temp_keys: Vec<TempKey>,
    /// Metadata tokens and when they expire.
    tokens: Vec<(String, i64)>,
    domains: Vec<Domain>,
    next_id: u64,
    serial: u64,
    rollbacks: Vec<(String, i64)>,
    applies: Vec<Applied>,
    /// An apply of a domain with nothing pending is refused (`X00006`): how
    /// NCP answers one is undocumented, so tests can make it fail.
    pub refuse_empty_apply: bool,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn query_param<'q>(q: &'q str, k: &str) -> Option<&'q str> {
    q.split('&')
        .find_map(|kv| kv.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
}

/// Decodes `%XX` (and nothing else: `+` is a plus).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `YYYY-MM-DDThh:mm:ssZ` of a time in ms since the Unix epoch.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Standard base64 with padding, written here so the simulator shares nothing
/// with the product.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// The v2 signature as the gateway computes it over what it received.
pub fn expected_signature(
    secret: &str,
    method: &str,
    target: &str,
    ts: &str,
    access: &str,
) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{method} {target}\n{ts}\n{access}").as_bytes());
    base64(&mac.finalize().into_bytes())
}

fn json_answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        headers: vec![(
            "Content-Type".into(),
            "application/json;charset=UTF-8".into(),
        )],
        body: body.to_string().into_bytes(),
        ..Answer::default()
    }
}

fn text_answer(status: u16, text: &str) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: text.as_bytes().to_vec(),
        ..Answer::default()
    }
}

/// The gateway's own refusal.
fn gateway(status: u16, code: &str, message: &str, details: &str) -> Answer {
    let mut a = json_answer(
        status,
        json!({"error": {"errorCode": code, "message": message, "details": details}}),
    );
    a.code = Some(code.into());
    a
}

/// Global DNS's refusal.
fn fail(status: u16, code: &str, message: &str) -> Answer {
    let mut a = json_answer(
        status,
        json!({"result": "FAIL", "error": {"errorCode": code, "message": message,
                                            "devMessage": message}}),
    );
    a.code = Some(code.into());
    a
}

fn quote_txt(content: &str) -> String {
    if content.len() >= 2 && content.starts_with('"') && content.ends_with('"') {
        content.to_string()
    } else {
        format!("\"{content}\"")
    }
}

impl NcpState {
    pub fn from_seed(seed: &NcpSeed) -> Result<NcpState, String> {
        let mut s = NcpState {
            metadata: seed.metadata,
            metadata_enabled: seed.metadata_enabled,
            credential_ttl_secs: seed.credential_ttl_secs,
            role: seed.role.clone(),
            static_keys: seed.static_keys.clone(),
            temp_keys: Vec::new(),
            tokens: Vec::new(),
            domains: Vec::new(),
            next_id: 2_600_000,
            serial: 0,
            rollbacks: Vec::new(),
            applies: Vec::new(),
            refuse_empty_apply: false,
        };
        for (i, d) in seed.domains.iter().enumerate() {
            let name = d.name.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() || s.domains.iter().any(|x| x.name == name) {
                return Err(format!(
                    "ncp seed: domain {:?} empty or given twice",
                    d.name
                ));
            }
            let id = d.id.unwrap_or(120 + i as u64);
            let mut records = Vec::new();
            for r in &d.records {
                let rtype = r.rtype.to_ascii_uppercase();
                let content = if rtype == "TXT" {
                    quote_txt(&r.content)
                } else {
                    r.content.clone()
                };
                records.push(Record {
                    id: s.new_id(),
                    host: r.host.clone(),
                    rtype,
                    content,
                    ttl: r.ttl,
                });
            }
            s.domains.push(Domain {
                id,
                name,
                published: records.clone(),
                records,
                pending: Vec::new(),
            });
        }
        Ok(s)
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn fresh(&mut self, prefix: &str, len: usize) -> String {
        // Deterministic but unguessable enough for a loopback test tool.
        self.serial += 1;
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(b"otc-sim ncp").expect("any key length");
        mac.update(&self.serial.to_le_bytes());
        mac.update(prefix.as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("{prefix}{}", &hex[..len.min(hex.len())])
    }

    /// Every secret the simulator knows or handed out (static and temporary
    /// secret keys, metadata tokens), for the harness's leak check.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.static_keys.iter().map(|k| k.secret.clone()).collect();
        out.extend(self.temp_keys.iter().map(|k| k.secret.clone()));
        out.extend(self.tokens.iter().map(|(t, _)| t.clone()));
        out
    }

    /// Whether the role has the Global DNS policy (`None`: no role).
    pub fn role_dns_policy(&self) -> Option<bool> {
        self.role.as_ref().map(|r| r.dns_policy)
    }

    /// Gives the role the Global DNS policy or takes it away.
    pub fn set_role_dns_policy(&mut self, on: bool) -> Result<(), String> {
        match self.role.as_mut() {
            Some(r) => {
                r.dns_policy = on;
                Ok(())
            }
            None => Err("role_dns_policy: the seed has no server role".into()),
        }
    }

    /// Times rollback was called: `(domain name, t_ms)`.
    pub fn rollbacks(&self) -> &[(String, i64)] {
        &self.rollbacks
    }

    /// The applies since the last call, oldest first (drained).
    pub fn take_applies(&mut self) -> Vec<Applied> {
        std::mem::take(&mut self.applies)
    }

    /// The domains' names (no trailing dot), in seed order.
    pub fn domain_names(&self) -> Vec<String> {
        self.domains.iter().map(|d| d.name.clone()).collect()
    }

    /// What DNS serves for `domain` (as of its last apply).
    pub fn published(&self, domain: &str) -> Option<&[Record]> {
        let d = domain.trim_end_matches('.').to_ascii_lowercase();
        self.domains
            .iter()
            .find(|x| x.name == d)
            .map(|x| x.published.as_slice())
    }

    /// The state as the control API shows it: no secret, no token.
    pub fn state_json(&self, now_ms: i64) -> Value {
        let rec = |r: &Record| {
            json!({"id": r.id, "host": r.host, "type": r.rtype,
                                       "content": r.content, "ttl": r.ttl})
        };
        json!({
            "metadata": {"mode": format!("{:?}", self.metadata).to_lowercase(),
                         "enabled": self.metadata_enabled,
                         "role": self.role.as_ref().map(|r| json!({"id": r.id, "name": r.name,
                                                                    "dns_policy": r.dns_policy})),
                         "tokens": self.tokens.len()},
            "credentials": {
                "static": self.static_keys.iter().map(|k| k.access.clone()).collect::<Vec<_>>(),
                "temporary": self.temp_keys.iter().map(|k| json!({"access": k.access,
                    "expires_ms": k.expires_ms, "expired": k.expires_ms <= now_ms})).collect::<Vec<_>>(),
            },
            "domains": self.domains.iter().map(|d| json!({
                "id": d.id, "name": d.name,
                "records": d.records.iter().map(rec).collect::<Vec<_>>(),
                "published": d.published.iter().map(rec).collect::<Vec<_>>(),
                "pending": d.pending.len(),
            })).collect::<Vec<_>>(),
            "rollbacks": self.rollbacks.iter().map(|(d, t)| json!({"domain": d, "t_ms": t})).collect::<Vec<_>>(),
        })
    }

    /// Answers one request at simulated time `now_ms` (ms since the Unix
    /// epoch); `None` when the path is not NCP's. Every answer has a `Date`.
    pub fn handle(&mut self, req: &Request<'_>, now_ms: i64) -> Option<Answer> {
        let mut a = if req.path == TOKEN_PATH
            || req.path == CREDENTIALS_PATH
            || req.path.starts_with(&format!("{CREDENTIALS_PATH}/"))
        {
            self.metadata(req, now_ms)
        } else if req.path.starts_with(&format!("{DNS_PREFIX}/")) {
            self.dns(req, now_ms)
        } else {
            return None;
        };
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms.max(0) as u64);
        a.headers.push(("Date".into(), httpdate::fmt_http_date(t)));
        Some(a)
    }

    fn metadata(&mut self, req: &Request<'_>, now_ms: i64) -> Answer {
        if !self.metadata_enabled {
            return text_answer(404, "Path Not found.");
        }
        self.tokens.retain(|(_, exp)| *exp > now_ms);
        if req.path == TOKEN_PATH {
            if self.metadata == MetadataMode::Absent {
                return text_answer(404, "Path Not found.");
            }
            if req.method != "PUT" {
                return text_answer(405, "Method Not Allowed");
            }
            let ttl = header(req.headers, "X-NCP-METADATA-TOKEN-TTL-SECONDS")
                .and_then(|v| v.trim().parse::<i64>().ok());
            let Some(ttl) = ttl.filter(|t| (1..=21600).contains(t)) else {
                return text_answer(400, "Bad Request");
            };
            let tok = self.fresh("mdtok-", 40);
            self.tokens.push((tok.clone(), now_ms + ttl * 1000));
            return text_answer(200, &tok);
        }
        if req.method != "GET" {
            return text_answer(405, "Method Not Allowed");
        }
        match header(req.headers, "X-NCP-METADATA-TOKEN") {
            Some(t) if !self.tokens.iter().any(|(k, _)| k == t) => {
                return text_answer(401, "Unauthorized");
            }
            None if self.metadata == MetadataMode::Required => {
                return text_answer(401, "Unauthorized");
            }
            _ => {}
        }
        let Some(role) = self.role.clone() else {
            return text_answer(404, "Path Not found.");
        };
        if req.path == CREDENTIALS_PATH {
            return text_answer(200, &role.id);
        }
        if req.path[CREDENTIALS_PATH.len() + 1..] != role.id {
            return text_answer(404, "Path Not found.");
        }
        // The same key until it is within a minute of expiring, like the real service's cache.
        let reuse = self
            .temp_keys
            .iter()
            .rev()
            .find(|k| k.expires_ms - 60_000 > now_ms)
            .cloned();
        let key = match reuse {
            Some(k) => k,
            None => {
                let k = TempKey {
                    access: self.fresh("ncp_iam_BPASKR", 20),
                    secret: self.fresh("ncp_iam_BPKSKR", 40),
                    expires_ms: now_ms + self.credential_ttl_secs as i64 * 1000,
                };
                self.temp_keys.push(k.clone());
                k
            }
        };
        let mut a = json_answer(
            200,
            json!({"Type": "NCP-HMAC", "AccessKeyId": key.access, "SecretAccessKey": key.secret,
                   "Expiration": rfc3339(key.expires_ms), "Token": "",
                   "LastUpdated": rfc3339(now_ms), "Code": "Success"}),
        );
        a.access_key = Some(key.access.clone());
        a.issued = Some(key.access);
        a
    }

    /// The gateway: the v2 signature over what was received, the window, the key.
    fn authenticate(&self, req: &Request<'_>, now_ms: i64) -> Result<String, Box<Answer>> {
        let denied =
            |details: &str| Box::new(gateway(401, "200", "Authentication Failed", details));
        let (Some(ts), Some(ak), Some(sig)) = (
            header(req.headers, "x-ncp-apigw-timestamp"),
            header(req.headers, "x-ncp-iam-access-key"),
            header(req.headers, "x-ncp-apigw-signature-v2"),
        ) else {
            return Err(denied("Invalid authentication information."));
        };
        let Ok(ts_ms) = ts.parse::<i64>() else {
            return Err(denied("Invalid timestamp."));
        };
        if (ts_ms - now_ms).abs() > WINDOW_MS {
            let mut a = denied("Request timestamp is out of the allowed range.");
            a.access_key = Some(ak.to_string());
            return Err(a);
        }
        let secret = match self.static_keys.iter().find(|k| k.access == ak) {
            Some(k) => k.secret.clone(),
            None => match self.temp_keys.iter().find(|k| k.access == ak) {
                Some(k) if k.expires_ms > now_ms => k.secret.clone(),
                Some(_) => {
                    let mut a = denied("The access key has expired.");
                    a.access_key = Some(ak.to_string());
                    return Err(a);
                }
                None => return Err(denied("Unknown access key.")),
            },
        };
        let target = if req.query.is_empty() {
            req.path.to_string()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let want = expected_signature(&secret, req.method, &target, ts, ak);
        if want != sig {
            let mut a = denied("Invalid signature.");
            a.access_key = Some(ak.to_string());
            return Err(a);
        }
        // The role's keys are fine, its policies lack Global DNS: the
        // gateway's 401 with code 210 (not 403).
        let role_key = self.temp_keys.iter().any(|k| k.access == ak);
        if role_key && self.role.as_ref().is_some_and(|r| !r.dns_policy) {
            let mut a = gateway(
                401,
                "210",
                "Permission Denied",
                "You have no permission for this API.",
            );
            a.access_key = Some(ak.to_string());
            return Err(Box::new(a));
        }
        Ok(ak.to_string())
    }

    fn dns(&mut self, req: &Request<'_>, now_ms: i64) -> Answer {
        let ak = match self.authenticate(req, now_ms) {
            Ok(ak) => ak,
            Err(a) => return *a,
        };
        let mut a = self.dns_call(req, now_ms);
        a.access_key = Some(ak);
        a
    }

    fn domain_index(&self, id: &str) -> Option<usize> {
        let id: u64 = id.parse().ok()?;
        self.domains.iter().position(|d| d.id == id)
    }

    fn dns_call(&mut self, req: &Request<'_>, now_ms: i64) -> Answer {
        let rest = &req.path[DNS_PREFIX.len()..];
        let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let q = req.query;
        match (req.method, segs.as_slice()) {
            ("GET", ["ncpdns", "domain"]) => {
                let filter = query_param(q, "domainName").map(percent_decode);
                let items: Vec<Value> = self
                    .domains
                    .iter()
                    // Over-matches like the real filter may: a substring.
                    .filter(|d| {
                        filter
                            .as_deref()
                            .is_none_or(|f| d.name.contains(&f.to_ascii_lowercase()))
                    })
                    .map(|d| {
                        json!({"id": d.id, "name": d.name, "completeYn": true,
                                    "dnssecYn": false, "status": "SUCCESS"})
                    })
                    .collect();
                page(items, q)
            }
            ("GET", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let d = &self.domains[i];
                let rtype = query_param(q, "recordType").map(|t| t.to_ascii_uppercase());
                let search =
                    query_param(q, "searchContent").map(|s| percent_decode(s).to_ascii_lowercase());
                let items: Vec<Value> = d
                    .records
                    .iter()
                    .filter(|r| rtype.as_deref().is_none_or(|t| r.rtype == t))
                    // A partial, case-insensitive match on the record's name, as
                    // the docs describe the search ("by record name"): the apex's
                    // name is the domain's, so `@` matches nothing.
                    .filter(|r| {
                        search
                            .as_deref()
                            .is_none_or(|s| record_name(&d.name, &r.host).contains(s))
                    })
                    .map(|r| {
                        json!({"id": r.id, "name": d.name, "host": r.host, "type": r.rtype,
                                    "content": r.content, "ttl": r.ttl, "aliasId": null,
                                    "aliasYn": false, "lbId": null, "lbYn": false,
                                    "lbRegionCode": null, "delYn": false})
                    })
                    .collect();
                page(items, q)
            }
            ("POST", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let Ok(items) = serde_json::from_slice::<Vec<Value>>(req.body) else {
                    return fail(400, "X00001", "the body must be a JSON array of records");
                };
                let mut new = Vec::new();
                for item in &items {
                    let (Some(host), Some(rtype), Some(content), Some(ttl)) = (
                        item["host"].as_str(),
                        item["type"].as_str(),
                        item["content"].as_str(),
                        item["ttl"].as_u64(),
                    ) else {
                        return fail(400, "X00001", "host, type, content and ttl are required");
                    };
                    let rtype = rtype.to_ascii_uppercase();
                    let content = if rtype == "TXT" {
                        quote_txt(content)
                    } else {
                        content.to_string()
                    };
                    let host = if host.is_empty() { "@" } else { host };
                    let dup = self.domains[i]
                        .records
                        .iter()
                        .chain(new.iter())
                        .any(|r: &Record| {
                            r.host.eq_ignore_ascii_case(host)
                                && r.rtype == rtype
                                && r.content == content
                        });
                    if dup {
                        return fail(400, "X00011", "Duplicate record exists.");
                    }
                    new.push(Record {
                        id: 0,
                        host: host.to_string(),
                        rtype,
                        content,
                        ttl: ttl.min(u64::from(u32::MAX)) as u32,
                    });
                }
                for mut r in new {
                    r.id = self.new_id();
                    let d = &mut self.domains[i];
                    d.pending.push(Pending::Added(r.id));
                    d.records.push(r);
                }
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            ("DELETE", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let Ok(ids) = serde_json::from_slice::<Vec<u64>>(req.body) else {
                    return fail(400, "X00001", "the body must be a JSON array of record ids");
                };
                let d = &mut self.domains[i];
                if let Some(missing) = ids
                    .iter()
                    .find(|id| !d.records.iter().any(|r| r.id == **id))
                {
                    return fail(400, "X00010", &format!("record {missing} not found"));
                }
                let (gone, kept): (Vec<Record>, Vec<Record>) =
                    d.records.drain(..).partition(|r| ids.contains(&r.id));
                d.records = kept;
                for r in gone {
                    if let Some(p) = d.pending.iter().position(|p| *p == Pending::Added(r.id)) {
                        d.pending.remove(p);
                    } else {
                        d.pending.push(Pending::Deleted(r));
                    }
                }
                // The docs show no success body for this call: none is sent.
                Answer {
                    status: 200,
                    ..Answer::default()
                }
            }
            ("PUT", ["ncpdns", "record", "apply", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let refuse = self.refuse_empty_apply;
                let d = &mut self.domains[i];
                if refuse && d.pending.is_empty() {
                    return fail(400, "X00006", "There are no changes to apply.");
                }
                d.pending.clear();
                d.published = d.records.clone();
                self.applies.push(Applied {
                    domain: d.name.clone(),
                    t_ms: now_ms,
                    records: d.published.clone(),
                });
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            ("PUT", ["ncpdns", "record", "rollback", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let d = &mut self.domains[i];
                // Every pending edit of the zone is discarded, whoever made it.
                for p in std::mem::take(&mut d.pending).into_iter().rev() {
                    match p {
                        Pending::Added(id) => d.records.retain(|r| r.id != id),
                        Pending::Deleted(r) => d.records.push(r),
                    }
                }
                d.records.sort_by_key(|r| r.id);
                self.rollbacks.push((d.name.clone(), now_ms));
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            _ => gateway(404, "300", "Not Found", "No such API."),
        }
    }
}

/// A record's name as the search sees it: `host.domain`, the domain for `@`.
fn record_name(domain: &str, host: &str) -> String {
    if host == "@" || host.is_empty() {
        domain.to_string()
    } else {
        format!("{}.{domain}", host.to_ascii_lowercase())
    }
}

/// A Spring page of `items` as asked by `page` (from 0) and `size` (required).
fn page(items: Vec<Value>, q: &str) -> Answer {
    let (Some(page), Some(size)) = (
        query_param(q, "page").and_then(|p| p.parse::<usize>().ok()),
        query_param(q, "size").and_then(|s| s.parse::<usize>().ok()),
    ) else {
        return fail(400, "X00001", "page and size are required");
    };
    if size == 0 || size > MAX_PAGE_SIZE {
        return fail(400, "X00001", "size must be 1..1000");
    }
    let total = items.len();
    let pages = total.div_ceil(size);
    let content: Vec<Value> = items.into_iter().skip(page * size).take(size).collect();
    json_answer(
        200,
        json!({"content": content, "pageable": {"pageNumber": page, "pageSize": size},
               "last": page + 1 >= pages, "totalElements": total, "totalPages": pages,
               "first": page == 0, "size": size, "number": page,
               "numberOfElements": content.len(), "empty": content.is_empty()}),
    )
}

#[cfg(test)]
mod tests;
