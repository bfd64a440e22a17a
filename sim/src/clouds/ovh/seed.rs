//! OVH's part of a seed (`"ovh"`): zones and their records, service
//! accounts with their IAM policies, classic application keys.

use serde::{Deserialize, Serialize};

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
    pub(crate) fn allows(&self, action: &str, zone: &str) -> bool {
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
