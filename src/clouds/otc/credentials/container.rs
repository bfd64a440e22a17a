//! Container identities: Huawei Cloud CCE pod identity (the SDKs' container
//! credentials URI, or the documented `assume-agency-for-pod-identity` call),
//! and OTC CCE's OIDC workload identity (projected token → IAM token →
//! temporary AK/SK).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::{Credentials, Ctx, Secret, iam};
use crate::credentials::Attempt;
use crate::error::{Error, Result};
use crate::http::Url;

/// Every container setting; at most one identity is used (in the order below).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `HC_CONTAINER_CREDENTIALS_FULL_URI`.
    pub hc_uri: Option<Url>,
    /// `HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
    pub hc_token_file: Option<PathBuf>,
    /// `OTC_CCE_ENDPOINT` (default from the cloud profile).
    pub cce_endpoint: Option<Url>,
    pub cce_project_id: Option<String>,
    pub cce_cluster_id: Option<String>,
    pub cce_token_file: Option<PathBuf>,
    /// `OTC_IDP_ID`, `OTC_ID_TOKEN_FILE`, with the project id and IAM endpoint.
    pub idp_id: Option<String>,
    pub id_token_file: Option<PathBuf>,
    pub project_id: Option<String>,
    pub iam: Option<Url>,
}

#[derive(Deserialize)]
struct PodEnvelope {
    credentials: PodCredentials,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodCredentials {
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
    #[serde(default)]
    expiration: Option<String>,
}

/// Parses the pod-identity answer. Errors never quote the body.
pub fn parse_pod(body: &[u8]) -> std::result::Result<Credentials, String> {
    let p: PodEnvelope = serde_json::from_slice(body)
        .map_err(|_| "unexpected answer (not a pod credential document)".to_string())?;
    let c = p.credentials;
    if c.access_key_id.is_empty() || c.secret_access_key.is_empty() || c.security_token.is_empty() {
        return Err("pod credential document has an empty field".into());
    }
    let mut out = Credentials::new(
        c.access_key_id,
        Secret::new(c.secret_access_key),
        Some(Secret::new(c.security_token)),
    );
    out.source = "container identity";
    out.expires_at = c.expiration;
    out.refreshable = true;
    Ok(out)
}

fn read_token(path: &Path, what: &str) -> Result<Secret> {
    let t = std::fs::read_to_string(path).map_err(|e| {
        Error::rejected(
            "credentials",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    })?;
    let t = t.trim();
    if t.is_empty() {
        return Err(Error::rejected(
            "credentials",
            format!("{what} {} is empty", path.display()),
        ));
    }
    Ok(Secret::new(t))
}

fn missing(names: &str) -> Error {
    Error::rejected(
        "credentials",
        format!("container identity is partly configured: {names} missing"),
    )
    .hint("set every setting of one identity, or none")
}

fn post(
    transport: &dyn crate::http::Transport,
    url: &Url,
    headers: &[(String, String)],
    body: &str,
    what: &str,
) -> Result<Credentials> {
    let target = format!("{}{}", url.origin(), url.path);
    let resp = transport
        .send("POST", &target, headers, body.as_bytes())
        .map_err(|e| Error::failed("credentials", format!("{what} at {}: {e}", url.origin())))?;
    if !(200..300).contains(&resp.status) {
        return Err(Error::failed(
            "credentials",
            format!(
                "{what} answered {}",
                crate::clouds::otc::errors::credential_status_error(&resp)
            ),
        )
        .hint("check the pod's service account token and the cluster's identity settings"));
    }
    parse_pod(&resp.body).map_err(|m| Error::failed("credentials", format!("{what}: {m}")))
}

pub fn load(cfg: &Config, ctx: &Ctx) -> Result<Attempt<Credentials>> {
    let json = ("Content-Type".to_string(), "application/json".to_string());
    if let Some(uri) = &cfg.hc_uri {
        let file = cfg
            .hc_token_file
            .as_ref()
            .ok_or_else(|| missing("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE"))?;
        let token = read_token(file, "container token file")?;
        let headers = [
            json,
            ("Authorization".to_string(), token.expose().to_string()),
        ];
        // The node-local endpoint (plain http, its token in clear) never goes through a proxy.
        return post(
            ctx.metadata_transport.as_ref(),
            uri,
            &headers,
            "{}",
            "container credentials URI",
        )
        .map(Attempt::Loaded);
    }
    if cfg.cce_project_id.is_some() || cfg.cce_cluster_id.is_some() || cfg.cce_token_file.is_some()
    {
        let (Some(project), Some(cluster), Some(file), Some(endpoint)) = (
            &cfg.cce_project_id,
            &cfg.cce_cluster_id,
            &cfg.cce_token_file,
            &cfg.cce_endpoint,
        ) else {
            return Err(missing(
                "one of OTC_CCE_PROJECT_ID, OTC_CCE_CLUSTER_ID, OTC_CCE_TOKEN_FILE, OTC_CCE_ENDPOINT",
            ));
        };
        let token = read_token(file, "CCE token file")?;
        let url = endpoint.join(&format!(
            "/api/v3/projects/{project}/clusters/{cluster}/assume-agency-for-pod-identity"
        ));
        let body = json!({"token": token.expose()}).to_string();
        return post(
            ctx.api_transport.as_ref(),
            &url,
            &[json],
            &body,
            "CCE assume-agency-for-pod-identity",
        )
        .map(Attempt::Loaded);
    }
    if cfg.idp_id.is_some() || cfg.id_token_file.is_some() {
        let (Some(idp), Some(file), Some(project), Some(iam_url)) =
            (&cfg.idp_id, &cfg.id_token_file, &cfg.project_id, &cfg.iam)
        else {
            return Err(missing(
                "one of OTC_IDP_ID, OTC_ID_TOKEN_FILE, OS_PROJECT_ID",
            ));
        };
        let jwt = read_token(file, "OIDC token file")?;
        let token =
            iam::token_from_id_token(ctx.api_transport.as_ref(), iam_url, idp, &jwt, project)?;
        let mut c = iam::credentials_from_token(
            ctx.api_transport.as_ref(),
            iam_url,
            &token,
            900,
            "container identity",
        )?;
        c.refreshable = true;
        ctx.report.verbose(format!(
            "container identity: OIDC workload identity via IdP {idp}"
        ));
        return Ok(Attempt::Loaded(c));
    }
    Ok(Attempt::NotConfigured(
        "no HC_CONTAINER_CREDENTIALS_FULL_URI, OTC_CCE_CLUSTER_ID or OTC_IDP_ID".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_document() {
        let c = parse_pod(br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"S","securityToken":"T","expiration":"2030-01-01T00:00:00Z"}}"#).unwrap();
        assert_eq!((c.access(), c.secret(), c.token()), ("A", "S", Some("T")));
        assert!(c.refreshable);
        let e = parse_pod(br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"LEAK"}}"#)
            .unwrap_err();
        assert!(!e.contains("LEAK"));
    }
}
