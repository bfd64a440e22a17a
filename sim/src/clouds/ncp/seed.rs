//! NCP's part of a seed (`"ncp"`): static keys, the server role, the
//! metadata service's mode, and the domains with their records.

use serde::{Deserialize, Serialize};

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
