//! The NCP model: domains with their records, changes pending until an
//! apply, what each apply published, the metadata tokens and temporary keys
//! issued, and the seed it starts from. Requests are answered in `api`
//! (Global DNS) and `auth` (the gateway's signature, instance metadata).
//!
//! As ncp-api.md's Corrections say: TXT content stored and listed quoted, a
//! role without a Global DNS policy refused with `401`/`210`, `searchContent`
//! by record name. Not confirmed against the real API: the duplicate
//! refusal's code, error codes of unknown ids, whether the listing shows
//! unapplied changes (here: it does), the answer to an apply with nothing
//! pending (here: accepted, or `X00006` with `refuse_empty_apply`).

use serde_json::{Value, json};

use super::seed::{MetadataMode, NcpSeed, NcpSeedKey, NcpSeedRole};
use crate::core::clock;

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
pub(crate) enum Pending {
    Added(u64),
    Deleted(Record),
}

#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub(crate) id: u64,
    pub(crate) name: String,
    /// What the API lists: applied and pending changes.
    pub(crate) records: Vec<Record>,
    pub(crate) pending: Vec<Pending>,
    /// What DNS serves (the records as of the last apply).
    pub(crate) published: Vec<Record>,
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
pub(crate) struct TempKey {
    pub(crate) access: String,
    pub(crate) secret: String,
    pub(crate) expires_ms: i64,
}

/// The NCP world of one simulator.
#[derive(Debug)]
pub struct NcpState {
    pub metadata: MetadataMode,
    pub metadata_enabled: bool,
    pub credential_ttl_secs: u64,
    pub(crate) role: Option<NcpSeedRole>,
    pub(crate) static_keys: Vec<NcpSeedKey>,
    pub(crate) temp_keys: Vec<TempKey>,
    /// Metadata tokens and when they expire.
    pub(crate) tokens: Vec<(String, i64)>,
    pub(crate) domains: Vec<Domain>,
    pub(crate) next_id: u64,
    pub(crate) rollbacks: Vec<(String, i64)>,
    pub(crate) applies: Vec<Applied>,
    /// An apply of a domain with nothing pending is refused (`X00006`): how
    /// NCP answers one is undocumented, so tests can make it fail.
    pub refuse_empty_apply: bool,
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

    pub(crate) fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// `prefix` and `len` upper-case hex digits from the core's random source.
    pub(crate) fn fresh(&mut self, prefix: &str, len: usize) -> String {
        format!("{prefix}{}", clock::random_string(b"0123456789ABCDEF", len))
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
}

/// TXT content as Global DNS stores it: quoted.
pub(crate) fn quote_txt(content: &str) -> String {
    if content.len() >= 2 && content.starts_with('"') && content.ends_with('"') {
        content.to_string()
    } else {
        format!("\"{content}\"")
    }
}
