//! Huawei Cloud CCE pod identity (otc-api.md §5): a service account token
//! becomes temporary credentials of the agency associated with the pod.
//!
//! - `POST /cce/pod-credentials` (the simulator's stand-in for the node-local
//!   endpoint the SDKs read from `HC_CONTAINER_CREDENTIALS_FULL_URI`): body
//!   `{}` (or empty), header `Authorization: <service account token>`.
//! - `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/assume-agency-for-pod-identity`:
//!   body `{"token": "<service account token>"}`. The real API also wants an
//!   IAM token or AK/SK; the simulator does not check one.
//!
//! Both answer 200 `{"credentials":{"accessKeyId","secretAccessKey",
//! "securityToken","expiration"},"audience":"service.cce.pods"}`, valid
//! `credential_ttl_secs`. Errors use CCE's `{"error_code","error_msg"}`
//! shape (the codes are illustrative, not taken from the service): 400
//! malformed body, 401 unknown token, 403 token of another project or
//! cluster (second endpoint only).

use serde_json::{Value, json};

use super::Otc;
use super::creds::Origin;
use super::seed::SeedPodIdentity;
use crate::core::clock::{self, Now};
use crate::core::http::{Handled, Req, Resp};

pub(crate) const CONTAINER_PATH: &str = "/cce/pod-credentials";

fn cce_error(status: u16, code: &str, message: impl Into<String>) -> Resp {
    Resp::json(
        status,
        &json!({"error_code": code, "error_msg": message.into()}),
    )
}

fn unknown_token() -> Resp {
    cce_error(
        401,
        "CCE.01401001",
        "The service account token is not associated with a pod identity",
    )
}

fn find_pod(world: &Otc, token: &str) -> Option<SeedPodIdentity> {
    world.iam.pods.iter().find(|p| p.token == token).cloned()
}

/// Issues the credentials and builds the 200 answer.
fn credentials(world: &mut Otc, now: &Now, pod: SeedPodIdentity) -> Handled {
    let ttl = world.config.credential_ttl_secs;
    let origin = Origin::Cce {
        project_id: pod.project_id,
        cluster_id: pod.cluster_id,
    };
    let cred = world.creds.issue(now, ttl, origin);
    let body = json!({
        "credentials": {
            "accessKeyId": cred.access,
            "secretAccessKey": cred.secret,
            "securityToken": cred.token,
            "expiration": clock::format_rfc3339_millis(cred.expires_at_us),
        },
        "audience": "service.cce.pods",
    });
    Handled {
        resp: Resp::json(200, &body),
        access_key: None,
        auth: Some("sa_token"),
        issued: Some(cred.access),
        code: None,
    }
}

fn refused(resp: Resp) -> Handled {
    Handled {
        auth: Some("sa_token"),
        ..Handled::new(resp)
    }
}

/// `POST /cce/pod-credentials`.
pub(crate) fn container(world: &mut Otc, now: &Now, req: &Req) -> Handled {
    let Some(token) = req
        .header("authorization")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return refused(cce_error(
            401,
            "CCE.01401001",
            "The Authorization header with the service account token is missing",
        ));
    };
    let body_ok = req.body.iter().all(u8::is_ascii_whitespace)
        || serde_json::from_slice::<Value>(&req.body).is_ok_and(|v| v.is_object());
    if !body_ok {
        return refused(cce_error(
            400,
            "CCE.01400001",
            "The request body must be a JSON object",
        ));
    }
    match find_pod(world, token) {
        Some(pod) => credentials(world, now, pod),
        None => refused(unknown_token()),
    }
}

/// `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/assume-agency-for-pod-identity`;
/// `None` for any other path under `/api/`.
pub(crate) fn api(world: &mut Otc, now: &Now, req: &Req) -> Option<Handled> {
    let segments = req.segments();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (project_id, cluster_id) = match (req.method.as_str(), s.as_slice()) {
        (
            "POST",
            [
                "api",
                "v3",
                "projects",
                p,
                "clusters",
                c,
                "assume-agency-for-pod-identity",
            ],
        ) => (p.to_string(), c.to_string()),
        _ => return None,
    };
    let token = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v["token"].as_str().map(|t| t.trim().to_string()))
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Some(refused(cce_error(
            400,
            "CCE.01400001",
            "The request body must be {\"token\": \"<service account token>\"}",
        )));
    };
    let handled = match find_pod(world, &token) {
        None => refused(unknown_token()),
        Some(pod) if pod.project_id != project_id || pod.cluster_id != cluster_id => {
            refused(cce_error(
                403,
                "CCE.01403001",
                format!(
                    "The service account token does not belong to cluster {cluster_id} of project {project_id}"
                ),
            ))
        }
        Some(pod) => credentials(world, now, pod),
    };
    Some(handled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn world() -> Otc {
        super::super::testing::otc(&Seed::demo())
    }

    fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Req {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Req::new("POST", url, headers, body.as_bytes().to_vec())
    }

    fn body(h: &Handled) -> Value {
        serde_json::from_slice(&h.resp.body).unwrap()
    }

    #[test]
    fn container_endpoint() {
        let mut w = world();
        let now = Now::at(0);
        let token = w.iam.pods[0].token.clone();
        let h = container(
            &mut w,
            &now,
            &post(
                CONTAINER_PATH,
                &[("Authorization", &format!("{token}\n"))],
                "{}",
            ),
        );
        assert_eq!(h.resp.status, 200, "{}", body(&h));
        let c = &body(&h)["credentials"];
        assert_eq!(h.issued.as_deref(), c["accessKeyId"].as_str());
        assert_eq!(h.auth, Some("sa_token"));
        assert_eq!(
            c["expiration"],
            clock::format_rfc3339_millis(now.sim_us + 3_600_000_000)
        );
        assert!(c["securityToken"].as_str().unwrap().len() > 200);
        let state = w.creds.state_json(&now);
        assert_eq!(state["temporary"][0]["via"], "cce");
        assert_eq!(
            state["temporary"][0]["cluster_id"],
            w.iam.pods[0].cluster_id
        );

        let empty = post(CONTAINER_PATH, &[("Authorization", &token)], "");
        assert_eq!(container(&mut w, &now, &empty).resp.status, 200);
        let forged = post(CONTAINER_PATH, &[("Authorization", "forged")], "{}");
        let h = container(&mut w, &now, &forged);
        assert_eq!((h.resp.status, h.issued), (401, None));
        assert_eq!(
            container(&mut w, &now, &post(CONTAINER_PATH, &[], "{}"))
                .resp
                .status,
            401
        );
        let garbage = post(CONTAINER_PATH, &[("Authorization", &token)], "nope");
        assert_eq!(container(&mut w, &now, &garbage).resp.status, 400);
    }

    #[test]
    fn assume_agency_api() {
        let mut w = world();
        let now = Now::at(0);
        let pod = w.iam.pods[0].clone();
        let url = |p: &str, c: &str| {
            format!("/api/v3/projects/{p}/clusters/{c}/assume-agency-for-pod-identity")
        };
        let good = url(&pod.project_id, &pod.cluster_id);
        let body_with = |t: &str| json!({"token": t}).to_string();
        let mut status =
            |url: &str, body: &str| api(&mut w, &now, &post(url, &[], body)).map(|h| h.resp.status);
        assert_eq!(status(&good, &body_with(&pod.token)), Some(200));
        assert_eq!(status(&good, &body_with("forged")), Some(401));
        assert_eq!(status(&good, "{}"), Some(400));
        assert_eq!(status(&good, "garbage"), Some(400));
        assert_eq!(
            status(&url(&pod.project_id, "other"), &body_with(&pod.token)),
            Some(403)
        );
        assert_eq!(status("/api/v3/projects/p/clusters", "{}"), None);
        let get = Req::new("GET", &good, vec![], vec![]);
        assert!(api(&mut w, &now, &get).is_none());
    }
}
