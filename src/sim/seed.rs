//! The simulator's starting data: credentials, metadata behaviour, zones and
//! their record sets, delays. Every field is optional; see `Seed::default`.

use serde::{Deserialize, Serialize};

/// Starting data of a simulator. Parse with [`Seed::from_json`]; unknown
/// fields are rejected so that a typo in a seed file is not silently ignored.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Permanent AK/SK pairs the DNS API accepts. Defaults to none.
    pub credentials: Vec<SeedCredential>,
    /// How the ECS metadata service behaves.
    pub metadata: SeedMetadata,
    /// Zones with their record sets. Defaults to none.
    pub zones: Vec<SeedZone>,
    /// Name servers of every zone (API and NS/SOA answers). Defaults to `["localhost."]`.
    pub nameservers: Vec<String>,
    /// Time a record set stays `PENDING_*` after a change. Defaults to 0.
    pub pending_delay_ms: u64,
    /// Time before a change is served by the authoritative DNS. Defaults to 0.
    pub propagation_delay_ms: u64,
    /// Most items per page of a list; a client's `limit` is capped to it. Defaults to 500.
    pub page_size: usize,
    /// Lifetime of temporary credentials from the metadata service. Defaults to 3600.
    pub credential_ttl_secs: u64,
    /// Record sets per account before `DNS.0403`. Defaults to 500, as OTC.
    pub recordset_quota: usize,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            credentials: Vec::new(),
            metadata: SeedMetadata::default(),
            zones: Vec::new(),
            nameservers: vec!["localhost.".to_string()],
            pending_delay_ms: 0,
            propagation_delay_ms: 0,
            page_size: 500,
            credential_ttl_secs: 3600,
            recordset_quota: 500,
        }
    }
}

// Secrets stay out of debug output.
impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seed")
            .field("credentials", &self.credentials)
            .field("metadata", &self.metadata)
            .field("zones", &self.zones)
            .field("nameservers", &self.nameservers)
            .field("pending_delay_ms", &self.pending_delay_ms)
            .field("propagation_delay_ms", &self.propagation_delay_ms)
            .field("page_size", &self.page_size)
            .field("credential_ttl_secs", &self.credential_ttl_secs)
            .field("recordset_quota", &self.recordset_quota)
            .finish()
    }
}

/// A permanent access key / secret key pair.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedCredential {
    pub access: String,
    pub secret: String,
}

impl std::fmt::Debug for SeedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedCredential")
            .field("access", &self.access)
            .field("secret", &"** redacted **")
            .finish()
    }
}

/// Behaviour of the ECS metadata service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SeedMetadata {
    /// `false` = no agency attached: the credential endpoint answers 401. Defaults to true.
    pub enabled: bool,
    /// Whether the IMDS-style session token is optional, required, or not offered.
    /// Defaults to optional.
    pub token: TokenMode,
}

impl Default for SeedMetadata {
    fn default() -> SeedMetadata {
        SeedMetadata {
            enabled: true,
            token: TokenMode::Optional,
        }
    }
}

/// How the metadata service treats `X-Metadata-Token`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TokenMode {
    /// Tokens are issued; a request without one is served, a wrong one refused.
    #[default]
    Optional,
    /// A credential request without a valid token gets 401.
    Required,
    /// The token endpoint answers 404 (older metadata service).
    Absent,
}

/// Public zones are served by the authoritative DNS; private ones only by the API.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ZoneType {
    #[default]
    Public,
    Private,
}

impl ZoneType {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneType::Public => "public",
            ZoneType::Private => "private",
        }
    }
}

/// A zone and its record sets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedZone {
    /// Generated (32 hex digits) if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Fully qualified; a missing final dot is added, case is folded.
    pub name: String,
    #[serde(default)]
    pub zone_type: ZoneType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub records: Vec<SeedRecordSet>,
}

/// A record set, in the API's form (TXT values carry their double quotes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedRecordSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default = "default_ttl")]
    pub ttl: i64,
    pub records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn default_ttl() -> i64 {
    300
}

impl Seed {
    /// Parses and validates a seed (record values are checked as the API would).
    pub fn from_json(s: &str) -> anyhow::Result<Seed> {
        let seed: Seed =
            serde_json::from_str(s).map_err(|e| anyhow::anyhow!("invalid seed JSON: {e}"))?;
        seed.validate()?;
        Ok(seed)
    }

    /// Checks what serde cannot: limits, unique keys, and every zone and
    /// record set as the API would accept it.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.page_size >= 1, "seed: page_size must be at least 1");
        anyhow::ensure!(
            !self.nameservers.is_empty(),
            "seed: nameservers must name at least one server"
        );
        for ns in &self.nameservers {
            anyhow::ensure!(
                !ns.trim().is_empty() && !ns.contains(char::is_whitespace),
                "seed: invalid nameserver '{ns}'"
            );
        }
        for (i, c) in self.credentials.iter().enumerate() {
            anyhow::ensure!(
                !c.access.is_empty() && !c.secret.is_empty(),
                "seed: credential {i} needs a non-empty access and secret"
            );
            anyhow::ensure!(
                !self.credentials[..i].iter().any(|o| o.access == c.access),
                "seed: access key {} is listed twice",
                c.access
            );
        }
        super::state::Store::from_seed(self, &super::clock::Now::zero())?;
        Ok(())
    }

    /// Name servers lower-cased and dot-terminated.
    pub(crate) fn normalized_nameservers(&self) -> Vec<String> {
        self.nameservers
            .iter()
            .map(|ns| {
                let ns = ns.trim().to_ascii_lowercase();
                if ns.ends_with('.') {
                    ns
                } else {
                    format!("{ns}.")
                }
            })
            .collect()
    }

    /// The built-in demo: public `example.test.` (with a foreign TXT value at
    /// `_acme-challenge`, a CNAME'd alias and an A record), the nested public
    /// zone `sub.example.test.`, a private `example.test.` with its own
    /// challenge value, one permanent key, 500 ms pending, 1 s propagation.
    pub fn demo() -> Seed {
        let rs = |name: &str, rtype: &str, ttl: i64, records: &[&str], description: &str| {
            SeedRecordSet {
                id: None,
                name: name.to_string(),
                rtype: rtype.to_string(),
                ttl,
                records: records.iter().map(|r| r.to_string()).collect(),
                description: Some(description.to_string()).filter(|d| !d.is_empty()),
            }
        };
        Seed {
            credentials: vec![SeedCredential {
                access: "AKDEMOSTATIC0000KEY1".to_string(),
                secret: "SKdemoStaticSecretKey0000000000000000000".to_string(),
            }],
            zones: vec![
                SeedZone {
                    id: None,
                    name: "example.test.".to_string(),
                    zone_type: ZoneType::Public,
                    description: Some("demo public zone".to_string()),
                    records: vec![
                        rs(
                            "_acme-challenge.example.test.",
                            "TXT",
                            600,
                            &["\"keep-me\""],
                            "seeded foreign value",
                        ),
                        rs(
                            "_acme-challenge.alias.example.test.",
                            "CNAME",
                            300,
                            &["_acme-challenge.delegated.example.test."],
                            "challenge delegated by CNAME",
                        ),
                        rs("www.example.test.", "A", 300, &["127.0.0.1"], ""),
                    ],
                },
                SeedZone {
                    id: None,
                    name: "sub.example.test.".to_string(),
                    zone_type: ZoneType::Public,
                    description: Some("demo nested public zone".to_string()),
                    records: Vec::new(),
                },
                SeedZone {
                    id: None,
                    name: "example.test.".to_string(),
                    zone_type: ZoneType::Private,
                    description: Some("demo private zone of the same name".to_string()),
                    records: vec![rs(
                        "_acme-challenge.example.test.",
                        "TXT",
                        300,
                        &["\"private-value\""],
                        "private zone, never served publicly",
                    )],
                },
            ],
            pending_delay_ms: 500,
            propagation_delay_ms: 1000,
            ..Seed::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_defaults() {
        let seed = Seed::from_json("{}").unwrap();
        assert_eq!(seed, Seed::default());
        assert_eq!(seed.nameservers, vec!["localhost."]);
        assert_eq!(seed.page_size, 500);
        assert!(seed.metadata.enabled);
        assert_eq!(seed.metadata.token, TokenMode::Optional);
    }

    #[test]
    fn parses_the_documented_example() {
        let seed = Seed::from_json(
            r#"{
              "credentials": [{"access": "AKSTATIC", "secret": "SKSECRET"}],
              "metadata": {"enabled": true, "token": "required"},
              "zones": [
                {"id": "zone1", "name": "example.test.", "zone_type": "public",
                 "records": [
                   {"name": "_acme-challenge.example.test.", "type": "TXT", "ttl": 600, "records": ["\"foreign-value\""], "description": "seeded"},
                   {"name": "_acme-challenge.alias.example.test.", "type": "CNAME", "ttl": 300, "records": ["_acme-challenge.delegated.example.test."]},
                   {"name": "www.example.test.", "type": "A", "ttl": 300, "records": ["127.0.0.1"]}
                 ]}
              ],
              "nameservers": ["localhost."],
              "pending_delay_ms": 0, "propagation_delay_ms": 0, "page_size": 2, "credential_ttl_secs": 3600
            }"#,
        )
        .unwrap();
        assert_eq!(seed.metadata.token, TokenMode::Required);
        assert_eq!(seed.zones[0].records.len(), 3);
        assert_eq!(seed.page_size, 2);
    }

    #[test]
    fn rejects_bad_seeds() {
        for bad in [
            r#"{"zonez": []}"#,
            r#"{"metadata": {"token": "sometimes"}}"#,
            r#"{"zones": [{"name": "example.test.", "records": [{"name": "x.other.test.", "type": "TXT", "records": ["\"v\""]}]}]}"#,
            r#"{"zones": [{"name": "example.test.", "records": [{"name": "x.example.test.", "type": "TXT", "records": ["unquoted"]}]}]}"#,
            r#"{"zones": [{"name": "example.test."}, {"name": "EXAMPLE.test"}]}"#,
            r#"{"page_size": 0}"#,
        ] {
            assert!(Seed::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn demo_seed_is_valid_and_round_trips() {
        let demo = Seed::demo();
        let json = serde_json::to_string(&demo).unwrap();
        assert_eq!(Seed::from_json(&json).unwrap(), demo);
        assert_eq!(demo.pending_delay_ms, 500);
        assert_eq!(demo.propagation_delay_ms, 1000);
        let names: Vec<_> = demo
            .zones
            .iter()
            .map(|z| (z.name.as_str(), z.zone_type))
            .collect();
        assert!(names.contains(&("example.test.", ZoneType::Public)));
        assert!(names.contains(&("sub.example.test.", ZoneType::Public)));
        assert!(names.contains(&("example.test.", ZoneType::Private)));
    }

    #[test]
    fn debug_redacts_secrets() {
        let text = format!("{:?}", Seed::demo());
        assert!(!text.contains("SKdemo"), "{text}");
        assert!(text.contains("redacted"));
    }
}
