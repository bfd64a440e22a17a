//! The simulator's starting data: credentials, metadata behaviour, zones and
//! their record sets, delays, and the identities IAM and CCE accept (agencies,
//! OIDC identity providers, pod identities). Every field is optional; see
//! `Seed::default`.
//!
//! One flat JSON document (unknown fields are refused), composed of the core
//! part (`core::seed`: zones, name servers, propagation delay) and each
//! cloud's part (`clouds::otc::seed`). Only `lib.rs` and the cloud registry
//! read this type; a cloud is built from its own view (e.g. [`Seed::otc`]).

use serde::{Deserialize, Serialize};

use crate::clouds::ncp::state::NcpSeed;
use crate::clouds::otc::seed::OtcSeed;
pub use crate::clouds::otc::seed::{
    SeedAgency, SeedCredential, SeedMetadata, SeedOidc, SeedPodIdentity, TokenMode,
};
pub use crate::clouds::ovh::OvhSeed;
pub use crate::core::seed::{SeedRecordSet, SeedZone, ZoneType};
use crate::core::seed::{normalized_nameservers, validate_nameservers};

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
    /// Added to every remote request (DNS API, token, IAM; not the
    /// metadata service), as a real API's round trip. Defaults to 0.
    pub latency_ms: u64,
    /// Most items per page of a list; a client's `limit` is capped to it. Defaults to 500.
    pub page_size: usize,
    /// Lifetime of temporary credentials from the metadata service. Defaults to 3600.
    pub credential_ttl_secs: u64,
    /// Record sets per account before `DNS.0403`. Defaults to 500, as OTC.
    pub recordset_quota: usize,
    /// Agencies of other accounts that IAM lets a trusted caller assume. Defaults to none.
    pub agencies: Vec<SeedAgency>,
    /// OIDC identity providers (OTC CCE workload identity). Defaults to none.
    pub oidc: Vec<SeedOidc>,
    /// Service account tokens CCE pod identity accepts. Defaults to none.
    pub pod_identities: Vec<SeedPodIdentity>,
    /// Whether `securitytokens` with `assume_role` may be AK/SK-signed (Huawei
    /// Cloud does it; OTC documents an IAM token only). Defaults to true.
    pub iam_aksk_assume_role: bool,
    /// OVHcloud (`--cloud ovh`): its zones, service accounts, classic keys.
    #[serde(skip_serializing_if = "OvhSeed::is_empty")]
    pub ovh: OvhSeed,
    /// NAVER Cloud's part (`--cloud ncp`): API keys, the server role, the
    /// metadata mode, Global DNS domains. Defaults to empty.
    #[serde(skip_serializing_if = "NcpSeed::is_empty")]
    pub ncp: NcpSeed,
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
            latency_ms: 0,
            page_size: 500,
            credential_ttl_secs: 3600,
            recordset_quota: 500,
            agencies: Vec::new(),
            oidc: Vec::new(),
            pod_identities: Vec::new(),
            iam_aksk_assume_role: true,
            ovh: OvhSeed::default(),
            ncp: NcpSeed::default(),
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
            .field("latency_ms", &self.latency_ms)
            .field("page_size", &self.page_size)
            .field("credential_ttl_secs", &self.credential_ttl_secs)
            .field("recordset_quota", &self.recordset_quota)
            .field("agencies", &self.agencies)
            .field("oidc", &self.oidc)
            .field("pod_identities", &self.pod_identities)
            .field("iam_aksk_assume_role", &self.iam_aksk_assume_role)
            .field("ovh_zones", &self.ovh.zones.len())
            .field("ncp_domains", &self.ncp.domains.len())
            .finish()
    }
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
        // The order of the checks (and so which error a bad seed reports
        // first) is today's: page size, name servers, then OTC's parts.
        anyhow::ensure!(self.page_size >= 1, "seed: page_size must be at least 1");
        anyhow::ensure!(
            self.latency_ms <= crate::core::control::MAX_LATENCY_MS,
            "seed: latency_ms must be within 0..={}",
            crate::core::control::MAX_LATENCY_MS
        );
        validate_nameservers(&self.nameservers)?;
        self.otc().validate()?;
        crate::clouds::ovh::OvhState::from_seed(&self.ovh, 0).map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }

    /// The built-in demo of `--cloud ncp`: one API key, a server role,
    /// Global DNS domains `example.test` (a foreign TXT value at
    /// `_acme-challenge`) and `sub.example.test`, 1 s propagation.
    pub fn ncp_demo() -> Seed {
        let mut ncp = NcpSeed::demo();
        ncp.domains[0]
            .records
            .push(crate::clouds::ncp::state::NcpSeedRecord {
                host: "_acme-challenge".into(),
                rtype: "TXT".into(),
                content: "keep-me".into(),
                ttl: 600,
            });
        Seed {
            ncp,
            propagation_delay_ms: 1000,
            ..Seed::default()
        }
    }

    /// OTC's view of this seed.
    pub(crate) fn otc(&self) -> OtcSeed<'_> {
        OtcSeed {
            credentials: &self.credentials,
            metadata: &self.metadata,
            zones: &self.zones,
            pending_delay_ms: self.pending_delay_ms,
            page_size: self.page_size,
            credential_ttl_secs: self.credential_ttl_secs,
            recordset_quota: self.recordset_quota,
            agencies: &self.agencies,
            oidc: &self.oidc,
            pod_identities: &self.pod_identities,
            iam_aksk_assume_role: self.iam_aksk_assume_role,
        }
    }

    /// Name servers lower-cased and dot-terminated.
    pub(crate) fn normalized_nameservers(&self) -> Vec<String> {
        normalized_nameservers(&self.nameservers)
    }

    /// The built-in demo: public `example.test.` (with a foreign TXT value at
    /// `_acme-challenge`, a CNAME'd alias and an A record), the nested public
    /// zone `sub.example.test.`, a private `example.test.` with its own
    /// challenge value, one permanent key, 500 ms pending, 1 s propagation;
    /// the agency `dns-agency` of account `partner` trusting that key, the
    /// OIDC provider `cce-idp` and one pod identity.
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
            agencies: vec![SeedAgency {
                name: "dns-agency".to_string(),
                domain_name: "partner".to_string(),
                domain_id: "d0000000000000000000000000000001".to_string(),
                trusted_access_keys: vec!["AKDEMOSTATIC0000KEY1".to_string()],
            }],
            oidc: vec![SeedOidc {
                idp_id: "cce-idp".to_string(),
                id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpob29rIn0.demo-signature".to_string(),
                project_id: "p0000000000000000000000000000001".to_string(),
            }],
            pod_identities: vec![SeedPodIdentity {
                token: "demo-service-account-token-0001".to_string(),
                project_id: "p0000000000000000000000000000001".to_string(),
                cluster_id: "c0000000000000000000000000000001".to_string(),
            }],
            ovh: OvhSeed::demo(),
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
            r#"{"agencies": [{"name": "a", "domain_name": "d"}]}"#,
            r#"{"agencies": [{"name": "", "domain_name": "d", "domain_id": "1"}]}"#,
            r#"{"agencies": [{"name": "a", "domain_name": "d", "domain_id": "1", "trusted_access_keys": [""]}]}"#,
            r#"{"agencies": [{"name": "a", "domain_name": "d", "domain_id": "1"}, {"name": "a", "domain_name": "d", "domain_id": "1"}]}"#,
            r#"{"agencies": [{"name": "a", "domain_name": "d", "domain_id": "1"}, {"name": "b", "domain_name": "d", "domain_id": "2"}]}"#,
            r#"{"oidc": [{"idp_id": "i", "id_token": " ", "project_id": "p"}]}"#,
            r#"{"oidc": [{"idp_id": "i", "id_token": "t", "project_id": "p"}, {"idp_id": "i", "id_token": "t", "project_id": "q"}]}"#,
            r#"{"pod_identities": [{"token": "t", "project_id": "p"}]}"#,
            r#"{"pod_identities": [{"token": "t", "project_id": "p", "cluster_id": "c"}, {"token": "t", "project_id": "p", "cluster_id": "d"}]}"#,
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
        assert_eq!(demo.agencies[0].name, "dns-agency");
        assert!(demo.agencies[0].trusts(&demo.credentials[0].access));
        assert!(!demo.agencies[0].trusts("AKOTHER"));
        assert_eq!(demo.oidc[0].idp_id, "cce-idp");
        assert_eq!(demo.pod_identities.len(), 1);
        assert!(demo.iam_aksk_assume_role);
    }

    #[test]
    fn identity_sections_parse() {
        let seed = Seed::from_json(
            r#"{
              "agencies": [{"name": "dns-agency", "domain_name": "partner",
                            "domain_id": "d0000000000000000000000000000001",
                            "trusted_access_keys": ["AKSTATIC"]},
                           {"name": "open", "domain_name": "partner",
                            "domain_id": "d0000000000000000000000000000001",
                            "trusted_access_keys": ["*"]}],
              "oidc": [{"idp_id": "cce-idp", "id_token": "jwt", "project_id": "p1"}],
              "pod_identities": [{"token": "sa", "project_id": "p1", "cluster_id": "c1"}],
              "iam_aksk_assume_role": false
            }"#,
        )
        .unwrap();
        assert!(!seed.iam_aksk_assume_role);
        assert!(seed.agencies[1].trusts("AKANY"));
        assert_eq!(seed.pod_identities[0].cluster_id, "c1");
    }

    #[test]
    fn debug_redacts_secrets() {
        let demo = Seed::demo();
        let text = format!("{demo:?}");
        assert!(!text.contains("SKdemo"), "{text}");
        assert!(!text.contains(&demo.oidc[0].id_token), "{text}");
        assert!(!text.contains(&demo.pod_identities[0].token), "{text}");
        assert!(text.contains("cce-idp") && text.contains("dns-agency"));
        assert!(text.contains("redacted"));
    }
}
