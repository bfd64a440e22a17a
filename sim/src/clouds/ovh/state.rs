//! The OVH model: zones with their records (the API's view), what the last
//! refresh of each published (DNS's view), the service accounts, classic keys
//! and tokens issued. Requests are answered in `api` and `auth`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::api::DEFAULT_TTL;
use super::seed::{OvhSeed, SeedClassicKey, SeedServiceAccount};

/// A token's lifetime unless the seed says otherwise (OVH's guide shows 3599).
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3599;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub sub_domain: String,
    pub field_type: String,
    pub target: String,
    pub ttl: u32,
}

impl Record {
    pub(crate) fn to_json(&self, zone: &str) -> Value {
        json!({"id": self.id, "zone": zone, "subDomain": self.sub_domain,
               "fieldType": self.field_type, "target": self.target, "ttl": self.ttl})
    }
    /// As the API answers it: with `apex_null`, the apex's `subDomain` is `null`.
    pub(crate) fn to_api_json(&self, zone: &str, apex_null: bool) -> Value {
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
pub(crate) struct SimZone {
    pub(crate) records: BTreeMap<u64, Record>,
    /// What DNS serves: the records as of the last refresh.
    pub(crate) published: Published,
    /// Edits since the last refresh.
    pub(crate) edits: u32,
    /// A refresh the core has not taken yet.
    pub(crate) untaken: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub(crate) token: String,
    pub(crate) account: usize,
    pub(crate) expires_at: i64,
}

/// The OVH side's whole state.
#[derive(Debug, Clone)]
pub struct OvhState {
    pub(crate) zones: BTreeMap<String, SimZone>,
    pub(crate) next_id: u64,
    pub(crate) nameservers: Vec<String>,
    pub(crate) accounts: Vec<SeedServiceAccount>,
    pub(crate) classic: Vec<SeedClassicKey>,
    pub(crate) tokens: Vec<IssuedToken>,
    /// Lifetime of the tokens issued from now on.
    pub token_lifetime_secs: u64,
    /// Answer `"subDomain": null` for apex records.
    pub apex_sub_domain_null: bool,
    /// Every refresh: (zone, simulated unix time).
    pub(crate) refreshes: Vec<(String, i64)>,
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
