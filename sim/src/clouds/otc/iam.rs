//! IAM, as far as the hook needs it (otc-api.md §4 and §5):
//!
//! - `POST /v3.0/OS-CREDENTIAL/securitytokens` with `methods: ["assume_role"]`,
//!   AK/SK-signed: temporary credentials of an agency of another account
//!   (201). Refused with 403 when `iam_aksk_assume_role` is off, as OTC
//!   documents this call with an IAM token only.
//! - `POST /v3/auth/tokens` with `methods: ["assume_role"]` (`xrole_name`, or
//!   `agency_name` as an alias), AK/SK-signed: the agency's IAM token in
//!   `X-Subject-Token` (201), the path of OTC's own Go SDK.
//! - `POST /v3.0/OS-AUTH/id-token/tokens` with `X-Idp-Id` and an OIDC ID
//!   token: an IAM token for OTC CCE workload identity (201).
//! - `POST /v3.0/OS-CREDENTIAL/securitytokens` with `methods: ["token"]` and
//!   the IAM token in `X-Auth-Token` (or in `token.id`, as Huawei's SDKs send
//!   it), not signed: temporary credentials that act as whoever the token
//!   stands for (201).
//!
//! `duration_seconds` is 900..=86400 (default 900); anything else is a 400.
//! IAM tokens live 24 hours of simulated time.
//!
//! Errors carry Keystone's body `{"error":{"code":N,"message":"...","title":"..."}}`:
//! 400 malformed request, 401 unknown or expired token / wrong ID token,
//! 403 caller not trusted by the agency (or the AK/SK path switched off),
//! 404 no such agency in that account. A bad signature gets the gateway's
//! 401 (`APIG.0301`/`APIG.0303`, `{"error_code","error_msg"}`) as on the DNS
//! API, and counts toward the access key's lockout.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Otc;
use super::auth;
use super::creds::{Origin, TempCredential};
use super::seed::{OtcSeed, SeedAgency, SeedOidc, SeedPodIdentity};
use crate::core::clock::{self, Now};
use crate::core::http::{Handled, Req, Resp};

pub(crate) const SECURITYTOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
pub(crate) const AUTH_TOKENS_PATH: &str = "/v3/auth/tokens";
pub(crate) const ID_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";

const MIN_DURATION_SECS: i64 = 900;
const MAX_DURATION_SECS: i64 = 86_400;
const DEFAULT_DURATION_SECS: i64 = 900;
/// IAM tokens are valid for 24 hours.
const IAM_TOKEN_TTL_SECS: i64 = 86_400;
/// Expired IAM tokens are forgotten (and dropped from `secrets()`) after this long.
const KEEP_EXPIRED_SECS: i64 = 86_400;

/// What an IAM token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Agency {
        name: String,
        domain_name: String,
        domain_id: String,
    },
    Oidc {
        idp_id: String,
        project_id: String,
    },
}

#[derive(Clone)]
struct IamToken {
    subject: Subject,
    expires_at_us: i64,
}

/// The identities IAM and CCE know (seeded agencies, OIDC providers, pod
/// identities) and the IAM tokens issued so far.
#[derive(Default)]
pub(crate) struct Identities {
    pub agencies: Vec<SeedAgency>,
    pub oidc: Vec<SeedOidc>,
    pub pods: Vec<SeedPodIdentity>,
    tokens: HashMap<String, IamToken>,
}

impl Identities {
    pub fn from_seed(seed: &OtcSeed<'_>) -> Identities {
        Identities {
            agencies: seed.agencies.to_vec(),
            oidc: seed.oidc.to_vec(),
            pods: seed.pod_identities.to_vec(),
            tokens: HashMap::new(),
        }
    }

    /// A fresh IAM token (long and opaque, like the real ones) and its expiry.
    fn issue_token(&mut self, now: &Now, subject: Subject) -> (String, i64) {
        let cutoff = now.sim_us.saturating_sub(KEEP_EXPIRED_SECS * 1_000_000);
        self.tokens.retain(|_, t| t.expires_at_us > cutoff);
        let token = format!("MIIT{}", clock::random_string(clock::TOKEN_CHARS, 1200));
        let expires_at_us = now.sim_us.saturating_add(IAM_TOKEN_TTL_SECS * 1_000_000);
        self.tokens.insert(
            token.clone(),
            IamToken {
                subject,
                expires_at_us,
            },
        );
        (token, expires_at_us)
    }

    /// The subject of a token the simulator issued, if it has not expired.
    fn valid_token(&self, token: &str, now: &Now) -> Option<&IamToken> {
        self.tokens
            .get(token)
            .filter(|t| t.expires_at_us > now.sim_us)
    }

    /// Seeded ID tokens and service account tokens, and every IAM token issued.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.oidc.iter().map(|o| o.id_token.clone()).collect();
        out.extend(self.pods.iter().map(|p| p.token.clone()));
        out.extend(self.tokens.keys().cloned());
        out
    }

    /// For `/_sim/state`: no token, ID token or service account token.
    pub fn state_json(&self, now: &Now) -> Value {
        let mut tokens: Vec<&IamToken> = self.tokens.values().collect();
        tokens.sort_by_key(|t| t.expires_at_us);
        let tokens: Vec<Value> = tokens
            .iter()
            .map(|t| {
                let mut v = match &t.subject {
                    Subject::Agency {
                        name,
                        domain_name,
                        domain_id,
                    } => json!({"origin": "assume_role", "agency": name,
                                "domain_name": domain_name, "domain_id": domain_id}),
                    Subject::Oidc { idp_id, project_id } => {
                        json!({"origin": "oidc", "idp_id": idp_id, "project_id": project_id})
                    }
                };
                v["expires_at"] = json!(clock::format_rfc3339_micros(t.expires_at_us));
                v["expired"] = json!(t.expires_at_us <= now.sim_us);
                v
            })
            .collect();
        json!({
            "agencies": self.agencies,
            "oidc": self.oidc.iter().map(|o| json!({"idp_id": o.idp_id, "project_id": o.project_id})).collect::<Vec<_>>(),
            "pod_identities": self.pods.iter().map(|p| json!({"project_id": p.project_id, "cluster_id": p.cluster_id})).collect::<Vec<_>>(),
            "tokens": tokens,
        })
    }
}

/// Keystone's error body.
pub(crate) fn iam_error(status: u16, message: impl Into<String>) -> Resp {
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    Resp::json(
        status,
        &json!({"error": {"code": status, "message": message.into(), "title": title}}),
    )
}

fn parse_body(req: &Req) -> Result<Value, Resp> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(iam_error(400, "The request body must be a JSON object")),
    }
}

/// `auth.identity.methods` as strings (non-strings are dropped).
fn methods(identity: &Value) -> Vec<&str> {
    identity["methods"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A non-empty string field, or `None` when absent; `Err` if present but not one.
fn opt_string(v: &Value, key: &str) -> Result<Option<String>, Resp> {
    match &v[key] {
        Value::Null => Ok(None),
        Value::String(s) if !s.trim().is_empty() => Ok(Some(s.clone())),
        _ => Err(iam_error(
            400,
            format!("'{key}' must be a non-empty string"),
        )),
    }
}

/// `duration_seconds`: absent means 900; otherwise an integer 900..=86400.
fn duration(v: &Value) -> Result<i64, Resp> {
    match &v["duration_seconds"] {
        Value::Null => Ok(DEFAULT_DURATION_SECS),
        d => d
            .as_i64()
            .filter(|d| (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(d))
            .ok_or_else(|| {
                iam_error(
                    400,
                    format!(
                        "duration_seconds must be an integer from {MIN_DURATION_SECS} to {MAX_DURATION_SECS}"
                    ),
                )
            }),
    }
}

/// Which agency an `assume_role` names.
#[derive(Debug)]
struct AgencyRef {
    name: String,
    domain_name: Option<String>,
    domain_id: Option<String>,
}

/// Reads `agency_name` or `xrole_name` (either spelling, in both endpoints)
/// and `domain_name` and/or `domain_id`.
fn agency_ref(v: &Value) -> Result<AgencyRef, Resp> {
    let by_agency = opt_string(v, "agency_name")?;
    let by_xrole = opt_string(v, "xrole_name")?;
    let name = match (by_agency, by_xrole) {
        (Some(a), Some(x)) if a != x => {
            return Err(iam_error(
                400,
                "agency_name and xrole_name name different agencies",
            ));
        }
        (Some(a), _) => a,
        (None, Some(x)) => x,
        (None, None) => {
            return Err(iam_error(
                400,
                "assume_role needs agency_name (or xrole_name)",
            ));
        }
    };
    let domain_name = opt_string(v, "domain_name")?;
    let domain_id = opt_string(v, "domain_id")?;
    if domain_name.is_none() && domain_id.is_none() {
        return Err(iam_error(
            400,
            "assume_role needs domain_name or domain_id of the delegating account",
        ));
    }
    Ok(AgencyRef {
        name,
        domain_name,
        domain_id,
    })
}

/// The agency `r` names, if `access` may assume it: 404 when the account or
/// agency does not exist, 403 when the caller is not trusted.
fn resolve_agency(world: &Otc, r: &AgencyRef, access: &str) -> Result<SeedAgency, Resp> {
    let found = world.iam.agencies.iter().find(|a| {
        a.name == r.name
            && r.domain_name.as_ref().is_none_or(|d| *d == a.domain_name)
            && r.domain_id.as_ref().is_none_or(|d| *d == a.domain_id)
    });
    let account = r
        .domain_name
        .as_deref()
        .or(r.domain_id.as_deref())
        .unwrap_or_default();
    let Some(agency) = found else {
        return Err(iam_error(
            404,
            format!("Could not find agency '{}' in account '{account}'", r.name),
        ));
    };
    if !agency.trusts(access) {
        return Err(iam_error(
            403,
            format!(
                "Access key {access} is not trusted by agency '{}' of account '{account}'",
                agency.name
            ),
        ));
    }
    Ok(agency.clone())
}

/// The `securitytokens` answer.
fn credential_response(cred: &TempCredential) -> Resp {
    Resp::json(
        201,
        &json!({"credential": {
            "access": cred.access,
            "secret": cred.secret,
            "securitytoken": cred.token,
            "expires_at": clock::format_rfc3339_micros(cred.expires_at_us),
        }}),
    )
}

/// Checks the AK/SK signature as the gateway does; `Err` is the finished 401.
fn authenticate(world: &mut Otc, now: &Now, req: &Req) -> Result<String, Box<Handled>> {
    let lockout = world.config.ak_lockout;
    world
        .creds
        .authenticate(&auth::parts(req), now, lockout)
        .map_err(|f| {
            Box::new(Handled {
                resp: Resp::json(401, &json!({"error_code": f.code, "error_msg": f.message})),
                access_key: f.access,
                auth: Some("aksk"),
                issued: None,
                code: None,
            })
        })
}

/// `POST /v3.0/OS-CREDENTIAL/securitytokens`.
pub(crate) fn securitytokens(world: &mut Otc, now: &Now, req: &Req) -> Handled {
    let body = match parse_body(req) {
        Ok(b) => b,
        Err(r) => return Handled::new(r),
    };
    let identity = &body["auth"]["identity"];
    match methods(identity).as_slice() {
        ["assume_role"] => assume_role_credentials(world, now, req, &identity["assume_role"]),
        ["token"] => token_credentials(world, now, req, &identity["token"]),
        _ => Handled::new(iam_error(
            400,
            r#"auth.identity.methods must be ["assume_role"] or ["token"]"#,
        )),
    }
}

fn assume_role_credentials(world: &mut Otc, now: &Now, req: &Req, params: &Value) -> Handled {
    let ak = match authenticate(world, now, req) {
        Ok(ak) => ak,
        Err(h) => return *h,
    };
    let result = (|| {
        if !world.config.iam_aksk_assume_role {
            return Err(iam_error(
                403,
                "This API requires an IAM token (X-Auth-Token); AK/SK authentication is not allowed",
            ));
        }
        let r = agency_ref(params)?;
        let secs = duration(params)?;
        let agency = resolve_agency(world, &r, &ak)?;
        let origin = Origin::AssumeRole {
            agency: agency.name,
            domain_id: agency.domain_id,
        };
        Ok(world.creds.issue(now, secs.unsigned_abs(), origin))
    })();
    finish(result, Some(ak), "aksk")
}

fn token_credentials(world: &mut Otc, now: &Now, req: &Req, params: &Value) -> Handled {
    let result = (|| {
        let from_header = req
            .header("x-auth-token")
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let from_body = params["id"]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = from_header.or(from_body) else {
            return Err(iam_error(
                401,
                "The request you have made requires authentication: X-Auth-Token is missing",
            ));
        };
        let Some(subject) = world.iam.valid_token(token, now).map(|t| t.subject.clone()) else {
            return Err(iam_error(401, "The token is invalid or has expired"));
        };
        let secs = duration(params)?;
        let origin = match subject {
            Subject::Agency {
                name, domain_id, ..
            } => Origin::Token {
                agency: name,
                domain_id,
            },
            Subject::Oidc { idp_id, project_id } => Origin::Oidc { idp_id, project_id },
        };
        Ok(world.creds.issue(now, secs.unsigned_abs(), origin))
    })();
    finish(result, None, "token")
}

fn finish(
    result: Result<TempCredential, Resp>,
    access_key: Option<String>,
    auth: &'static str,
) -> Handled {
    let (resp, issued) = match result {
        Ok(cred) => (credential_response(&cred), Some(cred.access)),
        Err(resp) => (resp, None),
    };
    Handled {
        resp,
        access_key,
        auth: Some(auth),
        issued,
        code: None,
    }
}

/// 201 with the IAM token in `X-Subject-Token` and a small token document.
fn token_response(token: String, expires_at_us: i64, now: &Now, token_doc: Value) -> Resp {
    let mut doc = token_doc;
    doc["expires_at"] = json!(clock::format_rfc3339_micros(expires_at_us));
    doc["issued_at"] = json!(clock::format_rfc3339_micros(now.sim_us));
    let mut resp = Resp::json(201, &json!({ "token": doc }));
    resp.headers.push(("X-Subject-Token".to_string(), token));
    resp
}

/// `POST /v3/auth/tokens` (only `assume_role`, AK/SK-signed).
pub(crate) fn auth_tokens(world: &mut Otc, now: &Now, req: &Req) -> Handled {
    let body = match parse_body(req) {
        Ok(b) => b,
        Err(r) => return Handled::new(r),
    };
    let identity = &body["auth"]["identity"];
    if methods(identity) != ["assume_role"] {
        return Handled::new(iam_error(
            400,
            r#"the simulator only supports auth.identity.methods ["assume_role"] here"#,
        ));
    }
    let ak = match authenticate(world, now, req) {
        Ok(ak) => ak,
        Err(h) => return *h,
    };
    let result = (|| {
        let r = agency_ref(&identity["assume_role"])?;
        let agency = resolve_agency(world, &r, &ak)?;
        let project = &body["auth"]["scope"]["project"];
        let mut doc = json!({
            "methods": ["assume_role"],
            "user": {"name": format!("{}/{}", agency.domain_name, agency.name),
                     "domain": {"name": agency.domain_name, "id": agency.domain_id}},
            "assumed_by": {"user": {"access_key": ak}},
        });
        if project.is_object() {
            doc["project"] = json!({"name": project["name"], "id": project["id"]});
        }
        let subject = Subject::Agency {
            name: agency.name,
            domain_name: agency.domain_name,
            domain_id: agency.domain_id,
        };
        let (token, expires) = world.iam.issue_token(now, subject);
        Ok(token_response(token, expires, now, doc))
    })();
    Handled {
        resp: result.unwrap_or_else(|r| r),
        access_key: Some(ak),
        auth: Some("aksk"),
        issued: None,
        code: None,
    }
}

/// `POST /v3.0/OS-AUTH/id-token/tokens` (OIDC ID token -> IAM token).
pub(crate) fn id_token(world: &mut Otc, now: &Now, req: &Req) -> Handled {
    let result = (|| {
        let Some(idp) = req
            .header("x-idp-id")
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Err(iam_error(400, "The X-Idp-Id header is missing"));
        };
        let body = parse_body(req)?;
        let Some(jwt) = body["auth"]["id_token"]["id"].as_str().map(str::trim) else {
            return Err(iam_error(400, "auth.id_token.id is missing"));
        };
        let Some(entry) = world
            .iam
            .oidc
            .iter()
            .find(|o| o.idp_id == idp && o.id_token == jwt)
            .cloned()
        else {
            return Err(iam_error(
                401,
                format!("The ID token was not accepted by identity provider '{idp}'"),
            ));
        };
        let project = &body["auth"]["scope"]["project"];
        if let Some(id) = project["id"].as_str()
            && id != entry.project_id
        {
            return Err(iam_error(
                401,
                format!("The ID token is not valid for project '{id}'"),
            ));
        }
        let doc = json!({
            "methods": ["mapped"],
            "project": {"id": entry.project_id},
            "user": {"OS-FEDERATION": {"identity_provider": {"id": entry.idp_id}}},
        });
        let subject = Subject::Oidc {
            idp_id: entry.idp_id,
            project_id: entry.project_id,
        };
        let (token, expires) = world.iam.issue_token(now, subject);
        Ok(token_response(token, expires, now, doc))
    })();
    Handled {
        resp: result.unwrap_or_else(|r| r),
        access_key: None,
        auth: Some("id_token"),
        issued: None,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::auth;
    use super::super::seed::SeedCredential;
    use super::*;
    use crate::seed::Seed;

    const AK: &str = "AKTRUSTED";
    const SK: &str = "SKTRUSTED";
    const AK2: &str = "AKSTRANGER";
    const SK2: &str = "SKSTRANGER";

    fn world() -> Otc {
        let mut seed = Seed::demo();
        seed.credentials = vec![
            SeedCredential {
                access: AK.into(),
                secret: SK.into(),
            },
            SeedCredential {
                access: AK2.into(),
                secret: SK2.into(),
            },
        ];
        seed.agencies[0].trusted_access_keys = vec![AK.into()];
        super::super::testing::otc(&seed)
    }

    fn signed(path: &str, body: &Value, ak: &str, sk: &str, now: &Now) -> Req {
        let body = body.to_string();
        let headers = vec![
            ("Host".to_string(), "127.0.0.1:9".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        let parts = auth::Parts {
            method: "POST",
            raw_path: path,
            raw_query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let headers = auth::sign_for_test(
            &parts,
            ak,
            sk,
            None,
            &clock::format_compact_utc(now.sim_secs()),
        );
        Req::new("POST", path, headers, body.into_bytes())
    }

    fn plain(path: &str, body: &Value, headers: &[(&str, &str)]) -> Req {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Req::new("POST", path, headers, body.to_string().into_bytes())
    }

    fn assume_role(params: Value) -> Value {
        json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": params}}})
    }

    fn body(h: &Handled) -> Value {
        serde_json::from_slice(&h.resp.body).unwrap()
    }

    fn subject_token(h: &Handled) -> String {
        h.resp
            .headers
            .iter()
            .find(|(k, _)| k == "X-Subject-Token")
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    #[test]
    fn aksk_assume_role_issues_agency_credentials() {
        let mut w = world();
        let now = Now::at(0);
        let req = signed(
            SECURITYTOKENS_PATH,
            &assume_role(
                json!({"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": 3600}),
            ),
            AK,
            SK,
            &now,
        );
        let h = securitytokens(&mut w, &now, &req);
        assert_eq!(h.resp.status, 201, "{}", body(&h));
        let c = &body(&h)["credential"];
        assert_eq!(h.issued.as_deref(), c["access"].as_str());
        assert_eq!((h.access_key.as_deref(), h.auth), (Some(AK), Some("aksk")));
        assert_eq!(
            c["expires_at"],
            clock::format_rfc3339_micros(now.sim_us + 3_600_000_000)
        );
        let state = w.creds.state_json(&now);
        assert_eq!(state["temporary"][0]["via"], "assume_role");
        assert_eq!(state["temporary"][0]["agency"], "dns-agency");
        assert!(
            w.creds
                .secrets()
                .contains(&c["securitytoken"].as_str().unwrap().to_string())
        );

        // domain_id instead of domain_name, and the default duration.
        let req = signed(
            SECURITYTOKENS_PATH,
            &assume_role(
                json!({"agency_name": "dns-agency", "domain_id": "d0000000000000000000000000000001"}),
            ),
            AK,
            SK,
            &now,
        );
        let h = securitytokens(&mut w, &now, &req);
        assert_eq!(h.resp.status, 201);
        assert_eq!(
            body(&h)["credential"]["expires_at"],
            clock::format_rfc3339_micros(now.sim_us + 900_000_000)
        );
    }

    #[test]
    fn assume_role_refusals() {
        let mut w = world();
        let now = Now::at(0);
        let mut status = |params: Value, ak: &str, sk: &str| {
            let req = signed(SECURITYTOKENS_PATH, &assume_role(params), ak, sk, &now);
            let h = securitytokens(&mut w, &now, &req);
            assert!(h.issued.is_none() || h.resp.status == 201);
            h.resp.status
        };
        let good = json!({"agency_name": "dns-agency", "domain_name": "partner"});
        assert_eq!(status(good.clone(), AK2, SK2), 403, "untrusted caller");
        assert_eq!(status(good.clone(), AK, "wrong"), 401, "bad signature");
        for (params, want) in [
            (
                json!({"agency_name": "nope", "domain_name": "partner"}),
                404,
            ),
            (
                json!({"agency_name": "dns-agency", "domain_name": "other"}),
                404,
            ),
            (
                json!({"agency_name": "dns-agency", "domain_name": "partner", "domain_id": "wrong"}),
                404,
            ),
            (json!({"agency_name": "dns-agency"}), 400),
            (json!({"domain_name": "partner"}), 400),
            (
                json!({"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": 899}),
                400,
            ),
            (
                json!({"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": 86401}),
                400,
            ),
            (
                json!({"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": "900"}),
                400,
            ),
            (
                json!({"agency_name": "dns-agency", "xrole_name": "other", "domain_name": "partner"}),
                400,
            ),
            (
                json!({"xrole_name": "dns-agency", "domain_name": "partner", "duration_seconds": 86400}),
                201,
            ),
        ] {
            assert_eq!(status(params.clone(), AK, SK), want, "{params}");
        }

        let mut w = world();
        w.config.iam_aksk_assume_role = false;
        let req = signed(SECURITYTOKENS_PATH, &assume_role(good), AK, SK, &now);
        let h = securitytokens(&mut w, &now, &req);
        assert_eq!(h.resp.status, 403);
        assert!(
            body(&h)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("IAM token")
        );

        for garbage in [
            &b"not json"[..],
            b"[]",
            br#"{"auth":{"identity":{"methods":["password"]}}}"#,
        ] {
            let h = securitytokens(
                &mut w,
                &now,
                &Req::new("POST", SECURITYTOKENS_PATH, vec![], garbage.to_vec()),
            );
            assert_eq!(h.resp.status, 400);
        }
    }

    #[test]
    fn token_path_from_aksk_to_credentials() {
        let mut w = world();
        let now = Now::at(0);
        let req = signed(
            AUTH_TOKENS_PATH,
            &json!({"auth": {"identity": {"methods": ["assume_role"],
                "assume_role": {"domain_name": "partner", "xrole_name": "dns-agency"}},
                "scope": {"project": {"name": "eu-de"}}}}),
            AK,
            SK,
            &now,
        );
        // The AK/SK switch only concerns securitytokens.
        w.config.iam_aksk_assume_role = false;
        let h = auth_tokens(&mut w, &now, &req);
        assert_eq!(h.resp.status, 201, "{}", body(&h));
        assert_eq!((h.access_key.as_deref(), h.auth), (Some(AK), Some("aksk")));
        let token = subject_token(&h);
        assert!(token.len() > 1000);
        let doc = body(&h);
        assert_eq!(doc["token"]["methods"], json!(["assume_role"]));
        assert_eq!(doc["token"]["project"]["name"], "eu-de");
        assert!(!doc.to_string().contains(&token));
        assert!(w.iam.secrets().contains(&token));

        let exchange = json!({"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}});
        let h = securitytokens(
            &mut w,
            &now,
            &plain(SECURITYTOKENS_PATH, &exchange, &[("X-Auth-Token", &token)]),
        );
        assert_eq!(h.resp.status, 201, "{}", body(&h));
        assert_eq!((h.access_key, h.auth), (None, Some("token")));
        let state = w.creds.state_json(&now);
        assert_eq!(state["temporary"][0]["via"], "token");
        assert_eq!(state["temporary"][0]["agency"], "dns-agency");

        // Huawei's SDKs put the token in the body.
        let in_body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token, "duration_seconds": 21600}}}});
        let h = securitytokens(&mut w, &now, &plain(SECURITYTOKENS_PATH, &in_body, &[]));
        assert_eq!(h.resp.status, 201);

        for headers in [vec![], vec![("X-Auth-Token", "forged")]] {
            let h = securitytokens(
                &mut w,
                &now,
                &plain(SECURITYTOKENS_PATH, &exchange, &headers),
            );
            assert_eq!(h.resp.status, 401);
        }
        // A day later the IAM token has expired.
        let later = Now {
            sim_us: now.sim_us + IAM_TOKEN_TTL_SECS * 1_000_000,
            ..now
        };
        let h = securitytokens(
            &mut w,
            &later,
            &plain(SECURITYTOKENS_PATH, &exchange, &[("X-Auth-Token", &token)]),
        );
        assert_eq!(h.resp.status, 401);
        assert!(w.iam.state_json(&later)["tokens"][0]["expired"] == json!(true));
    }

    #[test]
    fn auth_tokens_refusals() {
        let mut w = world();
        let now = Now::at(0);
        let mut status = |params: Value, ak: &str, sk: &str| {
            let req = signed(AUTH_TOKENS_PATH, &assume_role(params), ak, sk, &now);
            auth_tokens(&mut w, &now, &req).resp.status
        };
        let good =
            json!({"agency_name": "dns-agency", "domain_id": "d0000000000000000000000000000001"});
        assert_eq!(status(good.clone(), AK, SK), 201, "agency_name alias");
        assert_eq!(status(good.clone(), AK2, SK2), 403);
        assert_eq!(status(good, AK, "bad"), 401);
        assert_eq!(
            status(json!({"xrole_name": "x", "domain_name": "partner"}), AK, SK),
            404
        );
        let password = json!({"auth": {"identity": {"methods": ["password"]}}});
        let h = auth_tokens(
            &mut w,
            &now,
            &signed(AUTH_TOKENS_PATH, &password, AK, SK, &now),
        );
        assert_eq!(h.resp.status, 400);
    }

    #[test]
    fn oidc_exchange() {
        let mut w = world();
        let now = Now::at(0);
        let jwt = w.iam.oidc[0].id_token.clone();
        let project = w.iam.oidc[0].project_id.clone();
        let req = |idp: &str, jwt: &str, project: &str| {
            plain(
                ID_TOKEN_PATH,
                &json!({"auth": {"id_token": {"id": jwt}, "scope": {"project": {"id": project}}}}),
                &[("X-Idp-Id", idp)],
            )
        };
        let h = id_token(&mut w, &now, &req("cce-idp", &jwt, &project));
        assert_eq!(h.resp.status, 201, "{}", body(&h));
        assert_eq!(h.auth, Some("id_token"));
        assert_eq!(body(&h)["token"]["methods"], json!(["mapped"]));
        let token = subject_token(&h);

        let exchange = json!({"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}});
        let h = securitytokens(
            &mut w,
            &now,
            &plain(SECURITYTOKENS_PATH, &exchange, &[("X-Auth-Token", &token)]),
        );
        assert_eq!(h.resp.status, 201);
        let state = w.creds.state_json(&now);
        assert_eq!(state["temporary"][0]["via"], "oidc");
        assert_eq!(state["temporary"][0]["idp_id"], "cce-idp");

        assert_eq!(
            id_token(&mut w, &now, &req("other-idp", &jwt, &project))
                .resp
                .status,
            401
        );
        assert_eq!(
            id_token(&mut w, &now, &req("cce-idp", "forged", &project))
                .resp
                .status,
            401
        );
        assert_eq!(
            id_token(&mut w, &now, &req("cce-idp", &jwt, "other"))
                .resp
                .status,
            401
        );
        let no_scope = plain(
            ID_TOKEN_PATH,
            &json!({"auth": {"id_token": {"id": jwt}}}),
            &[("X-Idp-Id", "cce-idp")],
        );
        assert_eq!(
            id_token(&mut w, &now, &no_scope).resp.status,
            201,
            "scope is optional"
        );
        let no_idp = plain(
            ID_TOKEN_PATH,
            &json!({"auth": {"id_token": {"id": jwt}}}),
            &[],
        );
        assert_eq!(id_token(&mut w, &now, &no_idp).resp.status, 400);

        let state = w.iam.state_json(&now).to_string();
        assert!(!state.contains(&jwt) && !state.contains(&token));
        assert!(state.contains("cce-idp"));
        assert!(w.iam.secrets().contains(&jwt));
    }
}
