//! Open Telekom Cloud (and Huawei Cloud): the ECS metadata service
//! (`securitykey`), the DNS v2 API with its `PENDING_*` life cycle, IAM's
//! agency, token and OIDC calls, CCE pod identity, all signed with
//! SDK-HMAC-SHA256 (checked by `verify`).
//!
//! DNS publishing: every accepted write is handed to the core's
//! [`ServedZones`] at once (`store`), to be served after the propagation
//! delay; `PENDING_*` settles separately after the pending delay.

pub(crate) mod api;
pub(crate) mod cce;
pub(crate) mod config;
pub(crate) mod creds;
pub(crate) mod iam;
pub(crate) mod metadata;
pub(crate) mod seed;
pub(crate) mod store;
pub(crate) mod verify;

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
use store::{Delays, Store};

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
