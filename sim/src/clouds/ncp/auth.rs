//! Identity on NCP: the API Gateway's signature v2 (recomputed here, never
//! the product's code) with its 5-minute window, and the instance metadata
//! service (v1/v2 tokens, the server role's temporary keys).

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::api::{gateway, json_answer, text_answer};
use super::seed::MetadataMode;
use super::state::{NcpState, TempKey};
use crate::core::clock;
use crate::core::http::{self, Handled, Req};

/// Metadata paths.
pub const TOKEN_PATH: &str = "/latest/api/token";
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials";
/// The gateway's window around its clock for `x-ncp-apigw-timestamp`.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;

/// The v2 signature as the gateway computes it over what it received.
pub fn expected_signature(
    secret: &str,
    method: &str,
    target: &str,
    ts: &str,
    access: &str,
) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{method} {target}\n{ts}\n{access}").as_bytes());
    http::base64(&mac.finalize().into_bytes())
}

impl NcpState {
    pub(crate) fn metadata(&mut self, req: &Req, now_ms: i64) -> Handled {
        if !self.metadata_enabled {
            return text_answer(404, "Path Not found.");
        }
        self.tokens.retain(|(_, exp)| *exp > now_ms);
        if req.raw_path == TOKEN_PATH {
            if self.metadata == MetadataMode::Absent {
                return text_answer(404, "Path Not found.");
            }
            if req.method != "PUT" {
                return text_answer(405, "Method Not Allowed");
            }
            let ttl = req
                .header("X-NCP-METADATA-TOKEN-TTL-SECONDS")
                .and_then(|v| v.trim().parse::<i64>().ok());
            let Some(ttl) = ttl.filter(|t| (1..=21600).contains(t)) else {
                return text_answer(400, "Bad Request");
            };
            let tok = self.fresh("mdtok-", 40);
            self.tokens.push((tok.clone(), now_ms + ttl * 1000));
            return text_answer(200, &tok);
        }
        if req.method != "GET" {
            return text_answer(405, "Method Not Allowed");
        }
        match req.header("X-NCP-METADATA-TOKEN") {
            Some(t) if !self.tokens.iter().any(|(k, _)| k == t) => {
                return text_answer(401, "Unauthorized");
            }
            None if self.metadata == MetadataMode::Required => {
                return text_answer(401, "Unauthorized");
            }
            _ => {}
        }
        let Some(role) = self.role.clone() else {
            return text_answer(404, "Path Not found.");
        };
        if req.raw_path == CREDENTIALS_PATH {
            return text_answer(200, &role.id);
        }
        if req.raw_path[CREDENTIALS_PATH.len() + 1..] != role.id {
            return text_answer(404, "Path Not found.");
        }
        // The same key until it is within a minute of expiring, like the real service's cache.
        let reuse = self
            .temp_keys
            .iter()
            .rev()
            .find(|k| k.expires_ms - 60_000 > now_ms)
            .cloned();
        let key = match reuse {
            Some(k) => k,
            None => {
                let k = TempKey {
                    access: self.fresh("ncp_iam_BPASKR", 20),
                    secret: self.fresh("ncp_iam_BPKSKR", 40),
                    expires_ms: now_ms + self.credential_ttl_secs as i64 * 1000,
                };
                self.temp_keys.push(k.clone());
                k
            }
        };
        let mut a = json_answer(
            200,
            json!({"Type": "NCP-HMAC", "AccessKeyId": key.access, "SecretAccessKey": key.secret,
                   "Expiration": clock::format_rfc3339_secs(key.expires_ms.div_euclid(1000)), "Token": "",
                   "LastUpdated": clock::format_rfc3339_secs(now_ms.div_euclid(1000)), "Code": "Success"}),
        );
        a.access_key = Some(key.access.clone());
        a.issued = Some(key.access);
        a
    }

    /// The gateway: the v2 signature over what was received, the window, the key.
    pub(crate) fn authenticate(&self, req: &Req, now_ms: i64) -> Result<String, Box<Handled>> {
        let denied =
            |details: &str| Box::new(gateway(401, "200", "Authentication Failed", details));
        let (Some(ts), Some(ak), Some(sig)) = (
            req.header("x-ncp-apigw-timestamp"),
            req.header("x-ncp-iam-access-key"),
            req.header("x-ncp-apigw-signature-v2"),
        ) else {
            return Err(denied("Invalid authentication information."));
        };
        let Ok(ts_ms) = ts.parse::<i64>() else {
            return Err(denied("Invalid timestamp."));
        };
        if (ts_ms - now_ms).abs() > WINDOW_MS {
            let mut a = denied("Request timestamp is out of the allowed range.");
            a.access_key = Some(ak.to_string());
            return Err(a);
        }
        let secret = match self.static_keys.iter().find(|k| k.access == ak) {
            Some(k) => k.secret.clone(),
            None => match self.temp_keys.iter().find(|k| k.access == ak) {
                Some(k) if k.expires_ms > now_ms => k.secret.clone(),
                Some(_) => {
                    let mut a = denied("The access key has expired.");
                    a.access_key = Some(ak.to_string());
                    return Err(a);
                }
                None => return Err(denied("Unknown access key.")),
            },
        };
        let target = if req.raw_query.is_empty() {
            req.raw_path.to_string()
        } else {
            format!("{}?{}", req.raw_path, req.raw_query)
        };
        let want = expected_signature(&secret, &req.method, &target, ts, ak);
        if want != sig {
            let mut a = denied("Invalid signature.");
            a.access_key = Some(ak.to_string());
            return Err(a);
        }
        // The role's keys are fine, its policies lack Global DNS: the
        // gateway's 401 with code 210 (not 403).
        let role_key = self.temp_keys.iter().any(|k| k.access == ak);
        if role_key && self.role.as_ref().is_some_and(|r| !r.dns_policy) {
            let mut a = gateway(
                401,
                "210",
                "Permission Denied",
                "You have no permission for this API.",
            );
            a.access_key = Some(ak.to_string());
            return Err(Box::new(a));
        }
        Ok(ak.to_string())
    }
}
