//! The ECS metadata service: session token and the agency's temporary
//! credentials (otc-api.md §3). No signature.

use serde_json::json;

use super::Otc;
use super::creds::Origin;
use super::seed::TokenMode;
use crate::core::clock::{self, Now};
use crate::core::http::{Req, Resp};

pub(crate) const TOKEN_PATH: &str = "/meta-data/latest/api/token";
pub(crate) const SECURITYKEY_PATH: &str = "/openstack/latest/securitykey";
/// Longest session token the service grants (as the SDKs request).
const MAX_TOKEN_TTL: i64 = 21_600;

fn down() -> Resp {
    Resp::json(503, &json!({"error": "metadata service unavailable"}))
}

/// `PUT /meta-data/latest/api/token`.
pub(crate) fn token(world: &mut Otc, now: &Now, req: &Req) -> Resp {
    if world.config.metadata_down {
        return down();
    }
    if world.config.metadata_token == TokenMode::Absent {
        return Resp::json(404, &json!({"error": "Not Found"}));
    }
    let ttl = req
        .header("x-metadata-token-ttl-seconds")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|t| (1..=MAX_TOKEN_TTL).contains(t));
    let Some(ttl) = ttl else {
        return Resp::json(
            400,
            &json!({"error": format!("X-Metadata-Token-Ttl-Seconds must be 1..{MAX_TOKEN_TTL}")}),
        );
    };
    // The token is the whole body, as text, like the real service.
    Resp::text(
        200,
        "text/plain",
        &world.creds.issue_metadata_token(now, ttl),
    )
}

/// `GET /openstack/latest/securitykey`; returns the issued access key for the log.
pub(crate) fn securitykey(world: &mut Otc, now: &Now, req: &Req) -> (Resp, Option<String>) {
    if world.config.metadata_down {
        return (down(), None);
    }
    let token_ok = match req.header("x-metadata-token") {
        Some(t) => {
            world.config.metadata_token != TokenMode::Absent
                && world.creds.metadata_token_valid(t.trim(), now)
        }
        None => world.config.metadata_token != TokenMode::Required,
    };
    if !token_ok {
        return (
            Resp::json(
                401,
                &json!({"error": "Unauthorized: missing or invalid X-Metadata-Token"}),
            ),
            None,
        );
    }
    if !world.config.metadata_enabled {
        return (
            Resp::json(
                401,
                &json!({"error": "Please configure Cloud Service Agency first"}),
            ),
            None,
        );
    }
    let ttl = world.config.credential_ttl_secs;
    let cred = world.creds.issue(now, ttl, Origin::Metadata);
    let body = json!({"credential": {
        "access": cred.access,
        "secret": cred.secret,
        "securitytoken": cred.token,
        "expires_at": clock::format_rfc3339_micros(cred.expires_at_us),
    }});
    (Resp::json(200, &body), Some(cred.access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;
    use serde_json::Value;

    fn world() -> Otc {
        super::super::testing::otc(&Seed::default())
    }

    fn get(w: &mut Otc, token: Option<&str>) -> (u16, Value, Option<String>) {
        let headers = token
            .map(|t| vec![("X-Metadata-Token".to_string(), t.to_string())])
            .unwrap_or_default();
        let (r, ak) = securitykey(
            w,
            &Now::at(0),
            &Req::new("GET", SECURITYKEY_PATH, headers, vec![]),
        );
        (r.status, serde_json::from_slice(&r.body).unwrap(), ak)
    }

    fn put(w: &mut Otc, ttl: Option<&str>) -> (u16, String) {
        let headers = ttl
            .map(|t| vec![("X-Metadata-Token-Ttl-Seconds".to_string(), t.to_string())])
            .unwrap_or_default();
        let r = token(
            w,
            &Now::at(0),
            &Req::new("PUT", TOKEN_PATH, headers, vec![]),
        );
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    }

    #[test]
    fn issues_fresh_credentials() {
        let mut w = world();
        let (status, v, ak) = get(&mut w, None);
        assert_eq!(status, 200);
        let c = &v["credential"];
        assert_eq!(ak.as_deref(), c["access"].as_str());
        let expires = c["expires_at"].as_str().unwrap();
        assert_eq!(
            expires,
            clock::format_rfc3339_micros(Now::at(0).sim_us + 3_600_000_000)
        );
        assert_eq!(expires.len(), "2026-11-23T06:02:03.123456Z".len());
        let (_, v2, _) = get(&mut w, None);
        assert_ne!(v2["credential"]["access"], c["access"]);
    }

    #[test]
    fn token_modes() {
        let mut w = world();
        let (status, tok) = put(&mut w, Some("21600"));
        assert_eq!(status, 200);
        assert_eq!(get(&mut w, Some(&tok)).0, 200);
        assert_eq!(
            get(&mut w, Some("forged")).0,
            401,
            "a wrong token is refused even when optional"
        );
        assert_eq!(put(&mut w, None).0, 400);
        assert_eq!(put(&mut w, Some("0")).0, 400);

        w.config.metadata_token = TokenMode::Required;
        assert_eq!(get(&mut w, None).0, 401);
        assert_eq!(get(&mut w, Some(&tok)).0, 200);

        w.config.metadata_token = TokenMode::Absent;
        assert_eq!(put(&mut w, Some("60")).0, 404);
        assert_eq!(get(&mut w, None).0, 200);
    }

    #[test]
    fn agency_missing_and_service_down() {
        let mut w = world();
        w.config.metadata_enabled = false;
        let (status, v, ak) = get(&mut w, None);
        assert_eq!((status, ak), (401, None));
        assert_eq!(
            v,
            json!({"error": "Please configure Cloud Service Agency first"})
        );
        w.config.metadata_down = true;
        assert_eq!(get(&mut w, None).0, 503);
        assert_eq!(put(&mut w, Some("60")).0, 503);
    }
}
