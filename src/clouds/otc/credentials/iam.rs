//! IAM: temporary credentials from an IAM token, and the delegated agency of
//! another account (cross-account), assumed with the base credentials.
//! API: <https://docs.otc.t-systems.com/identity-access-management/api-ref/>

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Credentials, Secret, metadata};
use crate::clock::Clock;
use crate::clouds::otc::errors::credential_status_error;
use crate::clouds::otc::signed::SignedClient;
use crate::error::{Error, Result};
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// The agency of another account to act as.
#[derive(Debug, Clone)]
pub struct Agency {
    pub name: String,
    pub domain: AgencyDomain,
    /// 900–86400 s.
    pub duration: u32,
    /// Project scope of OTC's token path (`--project-name`).
    pub project_name: String,
}

#[derive(Debug, Clone)]
pub enum AgencyDomain {
    Name(String),
    Id(String),
}

fn json_headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut h = vec![("Content-Type".to_string(), "application/json".to_string())];
    h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    h
}

fn fail(what: &str, resp: &Response) -> Error {
    Error::failed(
        "credentials",
        format!("{what}: {}", credential_status_error(resp)),
    )
}

/// An IAM token (sent unsigned, as `X-Auth-Token`) becomes temporary AK/SK.
pub fn credentials_from_token(
    t: &dyn Transport,
    iam: &Url,
    token: &Secret,
    duration: u32,
    source: &'static str,
) -> Result<Credentials> {
    let url = iam.join("/v3.0/OS-CREDENTIAL/securitytokens");
    let body =
        json!({"auth":{"identity":{"methods":["token"],"token":{"duration_seconds":duration}}}});
    let resp = t
        .send(
            "POST",
            &format!("{}{}", url.origin(), url.path),
            &json_headers(&[("X-Auth-Token", token.expose())]),
            body.to_string().as_bytes(),
        )
        .map_err(|e| Error::failed("credentials", format!("IAM {}: {e}", url.origin())))?;
    if !(200..300).contains(&resp.status) {
        return Err(fail("IAM securitytokens (token)", &resp));
    }
    metadata::parse_as(&resp.body, source)
        .map_err(|m| Error::failed("credentials", format!("IAM securitytokens: {m}")))
}

/// The `X-Subject-Token` header of a 201, the IAM token.
fn subject_token(resp: &Response, what: &str) -> Result<Secret> {
    if !(200..300).contains(&resp.status) {
        return Err(fail(what, resp));
    }
    resp.header("X-Subject-Token")
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            Error::failed(
                "credentials",
                format!("{what}: no X-Subject-Token in the answer"),
            )
        })
}

/// OIDC workload identity: a projected service-account token becomes an IAM token.
pub fn token_from_id_token(
    t: &dyn Transport,
    iam: &Url,
    idp_id: &str,
    id_token: &Secret,
    project_id: &str,
) -> Result<Secret> {
    let url = iam.join("/v3.0/OS-AUTH/id-token/tokens");
    let body =
        json!({"auth":{"id_token":{"id":id_token.expose()},"scope":{"project":{"id":project_id}}}});
    let resp = t
        .send(
            "POST",
            &format!("{}{}", url.origin(), url.path),
            &json_headers(&[("X-Idp-Id", idp_id)]),
            body.to_string().as_bytes(),
        )
        .map_err(|e| Error::failed("credentials", format!("IAM {}: {e}", url.origin())))?;
    subject_token(&resp, "IAM OIDC id-token")
}

fn domain_json(agency: &Agency) -> (&'static str, &str) {
    match &agency.domain {
        AgencyDomain::Name(n) => ("domain_name", n),
        AgencyDomain::Id(i) => ("domain_id", i),
    }
}

/// Assumes `agency` with the base credentials: first Huawei Cloud's AK/SK-signed
/// `securitytokens` (`assume_role`); when IAM refuses it (401/403), OTC's own
/// path: an AK/SK-signed `auth/tokens` (`assume_role`) then `securitytokens`
/// with that token.
pub fn assume(
    base: Credentials,
    agency: &Agency,
    iam: &Url,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    report: Arc<Report>,
) -> Result<Credentials> {
    let (dkey, dval) = domain_json(agency);
    let client = SignedClient::new(transport.clone(), base, None, clock, report.clone());
    let mut assume_role = serde_json::Map::new();
    assume_role.insert("agency_name".into(), Value::from(agency.name.as_str()));
    assume_role.insert(dkey.into(), Value::from(dval));
    assume_role.insert("duration_seconds".into(), Value::from(agency.duration));
    let body = json!({"auth":{"identity":{"methods":["assume_role"],"assume_role":assume_role}}});
    let url = iam.join("/v3.0/OS-CREDENTIAL/securitytokens");
    let resp = client
        .send("POST", &url, &[], Some(body.to_string().as_bytes()))
        .map_err(|e| Error::failed("credentials", format!("IAM {}: {e}", url.origin())))?;
    if (200..300).contains(&resp.status) {
        report.verbose(format!(
            "agency {}: assumed with AK/SK-signed securitytokens (assume_role)",
            agency.name
        ));
        return metadata::parse_as(&resp.body, "delegated agency")
            .map_err(|m| Error::failed("credentials", format!("IAM securitytokens: {m}")));
    }
    if !matches!(resp.status, 401 | 403) {
        return Err(fail("IAM assume_role", &resp)
            .hint("check --agency-name and --agency-domain-name/--agency-domain-id"));
    }
    report.verbose(format!(
        "agency {}: AK/SK securitytokens refused (HTTP {}); trying auth/tokens",
        agency.name, resp.status
    ));
    let mut role = serde_json::Map::new();
    role.insert(dkey.into(), Value::from(dval));
    role.insert("xrole_name".into(), Value::from(agency.name.as_str()));
    let body = json!({"auth":{"identity":{"methods":["assume_role"],"assume_role":role},
                      "scope":{"project":{"name":agency.project_name}}}});
    let url = iam.join("/v3/auth/tokens");
    let resp = client
        .send("POST", &url, &[], Some(body.to_string().as_bytes()))
        .map_err(|e| Error::failed("credentials", format!("IAM {}: {e}", url.origin())))?;
    let token = subject_token(&resp, "IAM auth/tokens (assume_role)").map_err(|e| {
        e.hint("the base credentials may not assume this agency: the agency must trust their account, and they need the Agent Operator role")
    })?;
    let c = credentials_from_token(
        transport.as_ref(),
        iam,
        &token,
        agency.duration,
        "delegated agency",
    )?;
    report.verbose(format!(
        "agency {}: assumed with auth/tokens (assume_role) then securitytokens (token)",
        agency.name
    ));
    Ok(c)
}
