//! Open Telekom Cloud (and Huawei Cloud): the ECS metadata service
//! (`securitykey`), the DNS v2 API with its `PENDING_*` life cycle, IAM's
//! agency, token and OIDC calls, CCE pod identity, all signed with
//! SDK-HMAC-SHA256 (checked by `auth`).
//!
//! Files as in every cloud folder: `seed.rs` (OTC's seed fields),
//! `state.rs` (the DNS data), `api.rs` (the DNS v2 API), `auth.rs` (the
//! signature check), this adapter; and OTC's extra pieces: `creds.rs` (keys
//! accepted, lockout), `metadata.rs`, `iam.rs`, `cce.rs`, `config.rs`.
//!
//! DNS publishing: every accepted write is handed to the core's
//! [`ServedZones`] at once (`state`), to be served after the propagation
//! delay; `PENDING_*` settles separately after the pending delay.
//!
//! # Seed (OTC's fields; `otc-sim print-seed` prints the demo seed)
//!
//! [`Seed`] is the starting data, as JSON; every field is optional
//! (`otc-sim print-seed` prints the demo seed):
//!
//! ```json
//! {"credentials": [{"access": "AKSTATIC...", "secret": "SK..."}],
//!  "metadata": {"enabled": true, "token": "optional|required|absent"},
//!  "zones": [{"id": "optional", "name": "example.test.", "zone_type": "public|private",
//!             "records": [{"name": "_acme-challenge.example.test.", "type": "TXT", "ttl": 600,
//!                          "records": ["\"value\""], "description": "optional"}]}],
//!  "nameservers": ["localhost."], "pending_delay_ms": 0, "propagation_delay_ms": 0, "latency_ms": 0,
//!  "page_size": 500, "credential_ttl_secs": 3600, "recordset_quota": 500,
//!  "agencies": [{"name": "dns-agency", "domain_name": "partner",
//!                "domain_id": "d0000000000000000000000000000001",
//!                "trusted_access_keys": ["AKSTATIC..."]}],
//!  "oidc": [{"idp_id": "cce-idp", "id_token": "<exact token string accepted>",
//!            "project_id": "p0000000000000000000000000000001"}],
//!  "pod_identities": [{"token": "<service account token>",
//!                      "project_id": "p0000000000000000000000000000001",
//!                      "cluster_id": "c0000000000000000000000000000001"}],
//!  "iam_aksk_assume_role": true}
//! ```
//!
//! - `agencies`: agencies other accounts (`domain_name`/`domain_id`, one ID per
//!   name) created for us. `trusted_access_keys` lists the keys that may assume
//!   one; `"*"` trusts every key the simulator accepts, temporary ones too.
//! - `oidc`: an identity provider of IAM and the one ID token it accepts,
//!   compared as a string (never parsed as a JWT).
//! - `pod_identities`: service account tokens CCE accepts, and where.
//! - `iam_aksk_assume_role` (default true): whether `securitytokens` with
//!   `assume_role` may be AK/SK-signed.
//!
//! The DNS data belongs to one account: keys of any origin see the same zones.
//!
//! `"ncp"` (for `--cloud ncp`, [`CloudKind::Ncp`]) holds NAVER Cloud's part:
//! `{"static_keys": [{"access", "secret"}], "role": {"id", "name"}, "metadata":
//! "optional|required|absent", "metadata_enabled": true, "credential_ttl_secs": 3600,
//! "domains": [{"id": 120, "name": "example.test", "records": [{"host": "@", "type",
//! "content", "ttl"}]}]}`; see [`ncp::NcpSeed`] and `docs/simulator.md`.
//!
//! # HTTP (the OTC pieces)
//!
//! One port serves everything:
//!
//! - ECS metadata (otc-api.md §3): `PUT /meta-data/latest/api/token`,
//!   `GET /openstack/latest/securitykey`.
//! - DNS v2 API (§2): `/v2/zones...`, every request signed.
//! - IAM (§4, §5), 201 on success:
//!   - `POST /v3.0/OS-CREDENTIAL/securitytokens`
//!     `{"auth":{"identity":{"methods":["assume_role"],"assume_role":{"agency_name",
//!     "domain_name"|"domain_id","duration_seconds"}}}}`, AK/SK-signed →
//!     `{"credential":{"access","secret","securitytoken","expires_at"}}`.
//!     `xrole_name` is accepted for `agency_name`. 403 when
//!     `iam_aksk_assume_role` is off.
//!   - `POST /v3/auth/tokens` `{"auth":{"identity":{"methods":["assume_role"],
//!     "assume_role":{"domain_name"|"domain_id","xrole_name"}},"scope":{"project":{"name"}}}}`
//!     (`agency_name` accepted for `xrole_name`), AK/SK-signed → the agency's
//!     IAM token in `X-Subject-Token`, body `{"token":{"expires_at","issued_at",
//!     "methods":["assume_role"],...}}`.
//!   - `POST /v3.0/OS-AUTH/id-token/tokens`, header `X-Idp-Id`,
//!     `{"auth":{"id_token":{"id":"<jwt>"},"scope":{"project":{"id"}}}}` (scope
//!     optional) → IAM token in `X-Subject-Token`, `methods: ["mapped"]`.
//!   - `POST /v3.0/OS-CREDENTIAL/securitytokens`
//!     `{"auth":{"identity":{"methods":["token"],"token":{"duration_seconds":900}}}}`
//!     with `X-Auth-Token: <IAM token>` (or `token.id` in the body), unsigned →
//!     credentials as above that act as the token's agency or OIDC identity.
//!
//!   `duration_seconds`: 900..=86400, default 900, else 400. IAM tokens live
//!   24 h of simulated time. Errors: Keystone's `{"error":{"code","message","title"}}`
//!   with 400 (malformed), 401 (unknown/expired IAM token, wrong IdP or ID
//!   token, or project scope), 403 (caller's key not trusted by the agency;
//!   AK/SK assume_role switched off), 404 (no such agency in that account);
//!   a bad signature gets the gateway's 401 (`APIG.0301`/`APIG.0303`).
//! - CCE pod identity (§5), 200 `{"credentials":{"accessKeyId","secretAccessKey",
//!   "securityToken","expiration"},"audience":"service.cce.pods"}`, valid
//!   `credential_ttl_secs`:
//!   - `POST /cce/pod-credentials` ([`Sim::pod_credentials_url`], for
//!     `HC_CONTAINER_CREDENTIALS_FULL_URI`), body `{}` or empty, header
//!     `Authorization: <service account token>`.
//!   - `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/assume-agency-for-pod-identity`
//!     `{"token":"<service account token>"}` (no IAM token or signature checked).
//!
//!   Errors `{"error_code","error_msg"}`: 400 malformed, 401 unknown token,
//!   403 token of another project/cluster.
//!
//! # OTC behaviour reproduced (otc-api.md)
//!
//! Fuzzy zone/record set name filters, pagination with `links.next`,
//! `PENDING_*` states (none when `pending_delay_ms` is 0) and `DNS.0314` while
//! pending, `DNS.0312` for a duplicate name+type and for CNAME conflicts, quoted TXT values (`DNS.0308`), TTL
//! 300.. (`DNS.0319`), the 500 record set quota (`DNS.0403`), the 15-minute
//! signature window (`APIG.0303`, IAM included), the lockout of an AK after
//! more than 5 consecutive failures (5 minutes of simulated time, IAM
//! included), 429 `APIG.0308` throttling (as a fault), a propagation delay
//! before DNS serves a change, and the two ways from AK/SK to an agency of
//! another account (§4).

pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod cce;
pub(crate) mod config;
pub(crate) mod creds;
pub(crate) mod iam;
pub(crate) mod metadata;
pub(crate) mod seed;
pub(crate) mod state;

use serde_json::{Map, Value, json};

use crate::core::clock::Now;
use crate::core::cloud::{Cloud, Ctx};
use crate::core::control::{Fault, FaultKind};
use crate::core::http::{Handled, Req, Resp};
use crate::core::served::ServedZones;

use config::OtcConfig;
use creds::Creds;
use iam::Identities;
use seed::OtcSeed;
use state::{Delays, Store};

/// The simulated OTC account.
pub(crate) struct Otc {
    pub store: Store,
    pub creds: Creds,
    /// Agencies, OIDC providers, pod identities and issued IAM tokens.
    pub iam: Identities,
    pub config: OtcConfig,
}

impl Otc {
    /// Builds the account a (validated) seed describes.
    pub fn from_seed(seed: &OtcSeed<'_>, now: &Now) -> anyhow::Result<Otc> {
        Ok(Otc {
            store: Store::from_seed(seed.zones, seed.recordset_quota, now)?,
            creds: Creds::new(seed.credentials),
            iam: Identities::from_seed(seed),
            config: OtcConfig::from_seed(seed),
        })
    }

    pub fn delays(&self, propagation_ms: u64) -> Delays {
        Delays {
            pending_ms: self.config.pending_delay_ms,
            propagation_ms,
        }
    }
}

impl Cloud for Otc {
    /// The ECS metadata service (169.254.169.254: all of `/openstack/` and
    /// `/meta-data/`) and CCE's node-local pod credential agent; IAM, DNS and
    /// CCE's own API are remote.
    fn is_local(&self, path: &str) -> bool {
        path.starts_with("/openstack/")
            || path.starts_with("/meta-data/")
            || path == cce::CONTAINER_PATH
    }

    fn route(&mut self, ctx: &Ctx<'_>, req: &Req) -> Handled {
        let now = ctx.now;
        match (req.method.as_str(), req.raw_path.as_str()) {
            ("PUT", metadata::TOKEN_PATH) => Handled::new(metadata::token(self, now, req)),
            ("GET", metadata::SECURITYKEY_PATH) => {
                let (resp, issued) = metadata::securitykey(self, now, req);
                Handled {
                    access_key: issued.clone(),
                    issued,
                    ..Handled::new(resp)
                }
            }
            ("POST", iam::SECURITYTOKENS_PATH) => iam::securitytokens(self, now, req),
            ("POST", iam::AUTH_TOKENS_PATH) => iam::auth_tokens(self, now, req),
            ("POST", iam::ID_TOKEN_PATH) => iam::id_token(self, now, req),
            ("POST", cce::CONTAINER_PATH) => cce::container(self, now, req),
            _ if req.raw_path.starts_with("/v2/") => {
                let (resp, access_key) = api::handle(self, ctx, req);
                Handled {
                    access_key,
                    auth: Some("aksk"),
                    ..Handled::new(resp)
                }
            }
            _ if req.raw_path.starts_with("/api/v3/") => {
                cce::api(self, now, req).unwrap_or_else(|| Handled::new(api::no_such_api()))
            }
            _ => Handled::new(api::no_such_api()),
        }
    }

    /// Settles `PENDING_*` record sets.
    fn tick(&mut self, now: &Now) {
        self.store.settle(now.mono_ms);
    }

    fn served(&mut self) -> &mut ServedZones {
        self.store.served_mut()
    }

    /// Secret keys, security tokens, metadata session tokens, IAM tokens,
    /// seeded ID and service account tokens.
    fn secrets(&self) -> Vec<String> {
        let mut out = self.creds.secrets();
        out.extend(self.iam.secrets());
        out
    }

    /// `zones` (the API view), `credentials` (no secret), `iam` (no token value).
    fn state_json(&self, now: &Now) -> Map<String, Value> {
        let zones: Vec<Value> = self
            .store
            .zones()
            .iter()
            .map(|z| {
                json!({
                    "id": z.id,
                    "name": z.name,
                    "zone_type": z.zone_type.as_str(),
                    "recordsets": z.recordsets.iter().map(|r| json!({
                        "id": r.id,
                        "name": r.name,
                        "type": r.rtype,
                        "ttl": r.ttl,
                        "records": r.records,
                        "status": r.status.as_str(),
                        "description": r.description,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut m = Map::new();
        m.insert("zones".into(), Value::Array(zones));
        m.insert("credentials".into(), self.creds.state_json(now));
        m.insert("iam".into(), self.iam.state_json(now));
        m
    }

    fn config_json(&self) -> Map<String, Value> {
        self.config.to_json()
    }

    fn apply_config(&mut self, patch: Map<String, Value>) -> Result<(), String> {
        self.config.apply(patch)
    }

    /// `429` in the API gateway's format (`APIG.0308`); other faults as the core has them.
    fn fault_response(&self, fault: &Fault) -> Option<Resp> {
        match fault.kind {
            FaultKind::Throttle => Some(fault.throttled(
                &json!({"error_code": "APIG.0308", "error_msg": "The request is throttled."}),
            )),
            _ => fault.response(),
        }
    }

    /// Removes the value from every public TXT set holding it, as another
    /// host's read-modify-write PUT would.
    fn drop_value(&mut self, ctx: &Ctx<'_>, value: &str) -> bool {
        let delays = self.delays(ctx.propagation_ms);
        self.store.drop_value(value, ctx.now, delays)
    }
}

/// An OTC world for unit tests: the cloud and a core context built from a seed.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub const BASE: &str = "http://127.0.0.1:9";

    pub fn otc(seed: &crate::seed::Seed) -> Otc {
        seed.validate().unwrap();
        Otc::from_seed(&seed.otc(), &Now::at(0)).unwrap()
    }

    pub fn ctx<'a>(now: &'a Now, nameservers: &'a [String]) -> Ctx<'a> {
        Ctx {
            now,
            base_url: BASE,
            nameservers,
            propagation_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::control::Config;
    use crate::seed::Seed;

    /// The core's config and OTC's, as one `POST /_sim/config` sees them.
    fn configs() -> (Config, OtcConfig) {
        let seed = Seed::default();
        (
            Config::new(seed.propagation_delay_ms),
            OtcConfig::from_seed(&seed.otc()),
        )
    }

    fn apply(c: &mut Config, o: &mut OtcConfig, body: &[u8]) -> Result<(), String> {
        c.apply(body, |rest| o.apply(rest))
    }

    #[test]
    fn apply_merges_and_rejects_atomically() {
        let (mut c, mut o) = configs();
        apply(
            &mut c,
            &mut o,
            br#"{"pending_delay_ms": 7, "clock_offset_secs": -1200, "metadata_down": true}"#,
        )
        .unwrap();
        assert_eq!(
            (o.pending_delay_ms, c.clock_offset_secs, o.metadata_down),
            (7, -1200, true)
        );
        assert_eq!(o.page_size, 500, "untouched");
        assert!(o.iam_aksk_assume_role, "default from the seed");
        apply(&mut c, &mut o, br#"{"iam_aksk_assume_role": false}"#).unwrap();
        assert!(!o.iam_aksk_assume_role);
        for bad in [
            &br#"{"pending_delay_ms": 1, "typo": 1}"#[..],
            br#"{"page_size": 0}"#,
            br#"{"clock_offset_secs": -9223372036854775808}"#,
            br#"{"faults": [{"kind": "status"}]}"#,
            br#"{"faults": [{"kind": "slow"}]}"#,
            br#"{"faults": [{"kind": "explode"}]}"#,
            br#"{"faults": [{"kind": "reset", "count": 0}]}"#,
            b"not json",
        ] {
            let before = (c.clone(), o.clone());
            assert!(
                apply(&mut c, &mut o, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
            assert_eq!(o.pending_delay_ms, before.1.pending_delay_ms);
            assert_eq!(c.clock_offset_secs, before.0.clock_offset_secs);
            assert_eq!(c.faults, before.0.faults);
        }
    }

    #[test]
    fn throttling_answers_in_the_gateway_format() {
        let mut c = Config::new(0);
        c.apply(
            br#"{"faults": [{"kind": "429", "retry_after": 3}, {"kind": "garbage"}]}"#,
            |_| Ok(()),
        )
        .unwrap();
        let otc = testing::otc(&Seed::default());
        let r = otc
            .fault_response(&c.take_fault("GET", "/").unwrap())
            .unwrap();
        assert_eq!(r.status, 429);
        assert!(
            r.headers
                .contains(&("Retry-After".to_string(), "3".to_string()))
        );
        assert!(String::from_utf8_lossy(&r.body).contains("APIG.0308"));
        let r = otc
            .fault_response(&c.take_fault("GET", "/").unwrap())
            .unwrap();
        assert_eq!((r.status, r.content_type), (200, "text/html"));
    }

    #[test]
    fn config_json_holds_otc_keys() {
        let (_, o) = configs();
        assert_eq!(o.to_json()["metadata_token"], "optional");
    }
}
