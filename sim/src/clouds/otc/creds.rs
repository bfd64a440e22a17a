//! Access keys the simulated gateway accepts: the seed's permanent keys and
//! every temporary key issued (by the metadata service, IAM or CCE, each
//! remembering where it came from); metadata session tokens; and the
//! gateway's lockout after repeated failures.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::auth::{self, AuthFailure, KeyInfo, KeyKind, Parts};
use super::seed::SeedCredential;
use crate::core::clock::{self, Now};

/// More than this many consecutive failures lock an access key (OTC: 5).
const LOCK_AFTER_FAILURES: u32 = 5;
const LOCK_SECS: i64 = 5 * 60;
/// Expired temporary keys are kept this long so a late request gets
/// "expired" rather than "unknown key".
const KEEP_EXPIRED_SECS: i64 = 24 * 3600;

/// Who handed out a temporary credential, and on whose behalf it acts.
/// Shown in `/_sim/state` as `via` plus the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// ECS metadata service (`via: "metadata"`).
    Metadata,
    /// AK/SK-signed `securitytokens` with `assume_role` (`via: "assume_role"`).
    AssumeRole { agency: String, domain_id: String },
    /// `securitytokens` with an IAM token from `/v3/auth/tokens` assume_role
    /// (`via: "token"`): acts as that agency.
    Token { agency: String, domain_id: String },
    /// `securitytokens` with an IAM token from the OIDC exchange (`via: "oidc"`).
    Oidc { idp_id: String, project_id: String },
    /// CCE pod identity (`via: "cce"`).
    Cce {
        project_id: String,
        cluster_id: String,
    },
}

impl Origin {
    pub fn via(&self) -> &'static str {
        match self {
            Origin::Metadata => "metadata",
            Origin::AssumeRole { .. } => "assume_role",
            Origin::Token { .. } => "token",
            Origin::Oidc { .. } => "oidc",
            Origin::Cce { .. } => "cce",
        }
    }

    /// `{"via": ..., details...}` for the state document; nothing secret.
    fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("via".into(), json!(self.via()));
        match self {
            Origin::Metadata => {}
            Origin::AssumeRole { agency, domain_id } | Origin::Token { agency, domain_id } => {
                m.insert("agency".into(), json!(agency));
                m.insert("domain_id".into(), json!(domain_id));
            }
            Origin::Oidc { idp_id, project_id } => {
                m.insert("idp_id".into(), json!(idp_id));
                m.insert("project_id".into(), json!(project_id));
            }
            Origin::Cce {
                project_id,
                cluster_id,
            } => {
                m.insert("project_id".into(), json!(project_id));
                m.insert("cluster_id".into(), json!(cluster_id));
            }
        }
        m
    }
}

/// A temporary credential as the metadata service, IAM or CCE hands it out.
#[derive(Clone)]
pub(crate) struct TempCredential {
    pub access: String,
    pub secret: String,
    pub token: String,
    /// Simulated time, microseconds since the epoch.
    pub expires_at_us: i64,
    pub origin: Origin,
}

impl std::fmt::Debug for TempCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempCredential")
            .field("access", &self.access)
            .field("expires_at_us", &self.expires_at_us)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Failures {
    consecutive: u32,
    locked_until_secs: Option<i64>,
}

#[derive(Default)]
pub(crate) struct Creds {
    permanent: Vec<SeedCredential>,
    temporary: HashMap<String, TempCredential>,
    failures: HashMap<String, Failures>,
    /// Metadata session token -> expiry (simulated seconds).
    metadata_tokens: HashMap<String, i64>,
}

impl Creds {
    pub fn new(permanent: &[SeedCredential]) -> Creds {
        Creds {
            permanent: permanent.to_vec(),
            ..Creds::default()
        }
    }

    /// Issues fresh temporary credentials valid for `ttl_secs` of simulated time.
    pub fn issue(&mut self, now: &Now, ttl_secs: u64, origin: Origin) -> TempCredential {
        let ttl_us = i64::try_from(ttl_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000);
        let cred = TempCredential {
            access: clock::random_string(clock::UPPER_ALNUM, 20),
            secret: clock::random_string(clock::ALNUM, 40),
            token: format!("gQ{}", clock::random_string(clock::TOKEN_CHARS, 510)),
            expires_at_us: now.sim_us.saturating_add(ttl_us),
            origin,
        };
        let cutoff = now.sim_us.saturating_sub(KEEP_EXPIRED_SECS * 1_000_000);
        self.temporary.retain(|_, c| c.expires_at_us > cutoff);
        self.temporary.insert(cred.access.clone(), cred.clone());
        cred
    }

    fn lookup(&self, access: &str) -> Option<KeyInfo> {
        if let Some(p) = self.permanent.iter().find(|c| c.access == access) {
            return Some(KeyInfo {
                secret: p.secret.clone(),
                kind: KeyKind::Permanent,
            });
        }
        self.temporary.get(access).map(|t| KeyInfo {
            secret: t.secret.clone(),
            kind: KeyKind::Temporary {
                token: t.token.clone(),
                expires_at_secs: t.expires_at_us.div_euclid(1_000_000),
            },
        })
    }

    /// Verifies a signed request; with `lockout`, applies the gateway's
    /// "more than 5 consecutive failures lock the key for 5 minutes".
    pub fn authenticate(
        &mut self,
        parts: &Parts<'_>,
        now: &Now,
        lockout: bool,
    ) -> Result<String, AuthFailure> {
        let now_secs = now.sim_secs();
        let named = auth::header(parts.headers, "authorization")
            .and_then(|v| auth::parse_authorization(v).ok())
            .map(|a| a.access);
        if let Some(ak) = &named {
            let locked = self
                .failures
                .get(ak)
                .and_then(|f| f.locked_until_secs)
                .filter(|until| *until > now_secs);
            if let (true, Some(until)) = (lockout, locked) {
                return Err(AuthFailure {
                    code: "APIG.0301",
                    message: format!(
                        "Incorrect IAM authentication information: the access key is locked after more than {LOCK_AFTER_FAILURES} consecutive authentication failures, until {}",
                        clock::format_compact_utc(until)
                    ),
                    access: Some(ak.clone()),
                    known_key: true,
                });
            }
        }
        match auth::verify(parts, now_secs, |ak| self.lookup(ak)) {
            Ok(ak) => {
                self.failures.remove(&ak);
                Ok(ak)
            }
            Err(failure) => {
                if let (true, Some(ak)) = (failure.known_key, &failure.access) {
                    let f = self.failures.entry(ak.clone()).or_default();
                    f.consecutive += 1;
                    if lockout && f.consecutive > LOCK_AFTER_FAILURES {
                        f.consecutive = 0;
                        f.locked_until_secs = Some(now_secs.saturating_add(LOCK_SECS));
                    }
                }
                Err(failure)
            }
        }
    }

    pub fn issue_metadata_token(&mut self, now: &Now, ttl_secs: i64) -> String {
        let now_secs = now.sim_secs();
        self.metadata_tokens.retain(|_, exp| *exp > now_secs);
        let token = clock::random_string(clock::TOKEN_CHARS, 56);
        self.metadata_tokens
            .insert(token.clone(), now_secs.saturating_add(ttl_secs));
        token
    }

    pub fn metadata_token_valid(&self, token: &str, now: &Now) -> bool {
        self.metadata_tokens
            .get(token)
            .is_some_and(|exp| *exp > now.sim_secs())
    }

    /// Every secret key and token known or issued, for leak checks in tests.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.permanent.iter().map(|c| c.secret.clone()).collect();
        for t in self.temporary.values() {
            out.push(t.secret.clone());
            out.push(t.token.clone());
        }
        out.extend(self.metadata_tokens.keys().cloned());
        out
    }

    /// Access keys only, never secrets or tokens.
    pub fn state_json(&self, now: &Now) -> Value {
        let mut temporary: Vec<&TempCredential> = self.temporary.values().collect();
        temporary.sort_by_key(|t| t.expires_at_us);
        let now_secs = now.sim_secs();
        let mut locked: Vec<Value> = self
            .failures
            .iter()
            .filter_map(|(ak, f)| {
                f.locked_until_secs
                    .filter(|u| *u > now_secs)
                    .map(|u| json!({"access": ak, "until": clock::format_compact_utc(u)}))
            })
            .collect();
        locked.sort_by(|a, b| a["access"].as_str().cmp(&b["access"].as_str()));
        json!({
            "permanent": self.permanent.iter().map(|c| c.access.as_str()).collect::<Vec<_>>(),
            "temporary": temporary.iter().map(|t| {
                let mut entry = t.origin.to_json();
                entry.insert("access".into(), json!(t.access));
                entry.insert("expires_at".into(), json!(clock::format_rfc3339_micros(t.expires_at_us)));
                entry.insert("expired".into(), json!(t.expires_at_us <= now.sim_us));
                Value::Object(entry)
            }).collect::<Vec<_>>(),
            "locked": locked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(access: &str, secret: &str, token: Option<&str>, now: &Now) -> Vec<(String, String)> {
        let headers = vec![("Host".to_string(), "127.0.0.1:1".to_string())];
        let parts = Parts {
            method: "GET",
            raw_path: "/v2/zones",
            raw_query: "",
            headers: &headers,
            body: b"",
        };
        auth::sign_for_test(
            &parts,
            access,
            secret,
            token,
            &clock::format_compact_utc(now.sim_secs()),
        )
    }

    fn auth(c: &mut Creds, headers: &[(String, String)], now: &Now) -> Result<String, AuthFailure> {
        let parts = Parts {
            method: "GET",
            raw_path: "/v2/zones",
            raw_query: "",
            headers,
            body: b"",
        };
        c.authenticate(&parts, now, true)
    }

    #[test]
    fn issued_credentials_work_until_they_expire() {
        let mut c = Creds::new(&[]);
        let now = Now::at(0);
        let t = c.issue(&now, 3600, Origin::Metadata);
        assert_eq!(t.access.len(), 20);
        assert!(
            t.access
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(t.secret.len(), 40);
        assert!(t.token.len() > 200);
        assert_ne!(
            c.issue(&now, 3600, Origin::Metadata).access,
            t.access,
            "fresh on every call"
        );

        let h = signed(&t.access, &t.secret, Some(&t.token), &now);
        assert_eq!(auth(&mut c, &h, &now), Ok(t.access.clone()));

        let later = Now {
            sim_us: now.sim_us + 3600 * 1_000_000,
            ..now
        };
        let h = signed(&t.access, &t.secret, Some(&t.token), &later);
        let err = auth(&mut c, &h, &later).unwrap_err();
        assert!(err.message.contains("expired"), "{}", err.message);
    }

    #[test]
    fn repeated_failures_lock_the_key() {
        let perm = SeedCredential {
            access: "AKPERM".into(),
            secret: "good".into(),
        };
        let mut c = Creds::new(std::slice::from_ref(&perm));
        let now = Now::at(0);
        let bad = signed("AKPERM", "bad", None, &now);
        let good = signed("AKPERM", "good", None, &now);
        for _ in 0..5 {
            assert!(auth(&mut c, &bad, &now).is_err());
        }
        // Five failures then a success: the count starts over.
        assert!(auth(&mut c, &good, &now).is_ok());
        for _ in 0..6 {
            assert!(auth(&mut c, &bad, &now).is_err());
        }
        let err = auth(&mut c, &good, &now).unwrap_err();
        assert!(err.message.contains("locked"), "{}", err.message);
        assert_eq!(c.state_json(&now)["locked"][0]["access"], "AKPERM");

        let after = Now {
            sim_us: now.sim_us + 301 * 1_000_000,
            ..now
        };
        let good = signed("AKPERM", "good", None, &after);
        assert!(
            auth(&mut c, &good, &after).is_ok(),
            "lock lifts after 5 minutes"
        );
    }

    #[test]
    fn metadata_tokens_expire() {
        let mut c = Creds::new(&[]);
        let now = Now::at(0);
        let t = c.issue_metadata_token(&now, 10);
        assert!(c.metadata_token_valid(&t, &now));
        assert!(!c.metadata_token_valid("other", &now));
        let later = Now {
            sim_us: now.sim_us + 10_000_000,
            ..now
        };
        assert!(!c.metadata_token_valid(&t, &later));
    }

    #[test]
    fn state_never_shows_secrets() {
        let mut c = Creds::new(&[SeedCredential {
            access: "AKPERM".into(),
            secret: "topsecret".into(),
        }]);
        let t = c.issue(
            &Now::at(0),
            60,
            Origin::AssumeRole {
                agency: "dns-agency".into(),
                domain_id: "d1".into(),
            },
        );
        let state = c.state_json(&Now::at(0));
        assert_eq!(state["temporary"][0]["via"], "assume_role");
        assert_eq!(state["temporary"][0]["agency"], "dns-agency");
        let text = state.to_string();
        assert!(text.contains(&t.access));
        assert!(
            !text.contains(&t.secret) && !text.contains(&t.token) && !text.contains("topsecret")
        );
        assert!(!format!("{t:?}").contains(&t.secret));
        let secrets = c.secrets();
        assert!(secrets.contains(&t.secret) && secrets.contains(&t.token));
        assert!(secrets.contains(&"topsecret".to_string()));
    }
}
