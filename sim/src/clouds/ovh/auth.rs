//! The OVH side's own checks, apart from the product's code on purpose: the
//! classic signature (ovh-api.md §4), the API's `LIKE`/`ILIKE` filters
//! (a query read as a form: the core's `http::form_pairs`), and tokens.

use sha1::{Digest, Sha1};

use serde_json::json;

use super::api::{class_error, code_error, json_answer};
use super::state::{IssuedToken, OvhState};
use crate::core::clock;
use crate::core::http::{self, Handled, Req};

/// The token endpoint's path on the simulator.
pub const TOKEN_PATH: &str = "/auth/oauth2/token";
/// How far a classic `X-Ovh-Timestamp` may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 180;

pub(crate) enum Who {
    Account(usize),
    Classic(usize),
}

impl OvhState {
    pub(crate) fn token(&mut self, req: &Req, now: i64) -> Handled {
        let fail = |status: u16, error: &str, description: &str| {
            let mut a = json_answer(
                status,
                &json!({"error": error, "error_description": description}),
            );
            a.code = Some(error.into());
            a.auth = Some("client_credentials");
            a
        };
        let form_type = req.header("content-type").unwrap_or("");
        if !form_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return fail(400, "invalid_request", "form body expected");
        }
        let form = http::form_pairs(&req.body);
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("grant_type") != Some("client_credentials") {
            return fail(400, "unsupported_grant_type", "client_credentials only");
        }
        if get("scope") != Some("all") {
            return fail(400, "invalid_scope", "scope must be all");
        }
        let (Some(id), Some(secret)) = (get("client_id"), get("client_secret")) else {
            return fail(401, "invalid_client", "client authentication failed");
        };
        let Some(account) = self
            .accounts
            .iter()
            .position(|a| a.client_id == id && a.client_secret == secret)
        else {
            let mut a = fail(401, "invalid_client", "client authentication failed");
            a.access_key = Some(id.to_string());
            return a;
        };
        let token = new_token();
        let lifetime = self.token_lifetime_secs;
        self.tokens.push(IssuedToken {
            token: token.clone(),
            account,
            expires_at: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 4),
        });
        let mut a = json_answer(
            200,
            &json!({"access_token": token, "token_type": "Bearer",
                    "expires_in": lifetime, "scope": "all"}),
        );
        a.auth = Some("client_credentials");
        a.access_key = Some(id.to_string());
        a
    }

    pub(crate) fn authenticate(&self, req: &Req, now: i64) -> Result<Who, Box<Handled>> {
        let bearer = req.header("authorization");
        let app = req.header("x-ovh-application");
        match (bearer, app) {
            (Some(_), Some(_)) => Err(Box::new(class_error(
                400,
                "Client::BadRequest",
                "Bearer and application key together",
            ))),
            (Some(b), None) => {
                let token = b
                    .strip_prefix("Bearer ")
                    .or_else(|| b.strip_prefix("bearer "))
                    .unwrap_or("");
                match self.tokens.iter().find(|t| t.token == token) {
                    Some(t) if t.expires_at > now => Ok(Who::Account(t.account)),
                    _ => Err(Box::new(class_error(
                        401,
                        "Client::Unauthorized",
                        "The access token is invalid or expired",
                    ))),
                }
            }
            (None, Some(ak)) => self.check_classic(req, ak, now),
            (None, None) => Err(Box::new(code_error(
                401,
                "NOT_AUTHENTICATED",
                "401 Unauthorized",
                "You must login first",
            ))),
        }
    }

    pub(crate) fn check_classic(&self, req: &Req, ak: &str, now: i64) -> Result<Who, Box<Handled>> {
        let Some(i) = self.classic.iter().position(|k| k.application_key == ak) else {
            return Err(Box::new(code_error(
                403,
                "INVALID_KEY",
                "403 Forbidden",
                "This application key is invalid",
            )));
        };
        let key = &self.classic[i];
        if req.header("x-ovh-consumer") != Some(key.consumer_key.as_str()) {
            return Err(Box::new(code_error(
                403,
                "INVALID_CREDENTIAL",
                "403 Forbidden",
                "This credential does not exist",
            )));
        }
        let ts = req.header("x-ovh-timestamp").unwrap_or("");
        let Ok(ts_num) = ts.parse::<i64>() else {
            return Err(Box::new(class_error(
                400,
                "Client::BadRequest",
                "Invalid signature",
            )));
        };
        if (ts_num - now).abs() > MAX_SKEW_SECS {
            return Err(Box::new(code_error(
                400,
                "QUERY_TIME_OUT",
                "400 Bad Request",
                "Query out of time",
            )));
        }
        let host = req.header("host").unwrap_or("");
        let full_url = if req.raw_query.is_empty() {
            format!("http://{host}{}", req.raw_path)
        } else {
            format!("http://{host}{}?{}", req.raw_path, req.raw_query)
        };
        let want = classic_signature(
            &key.application_secret,
            &key.consumer_key,
            &req.method,
            &full_url,
            &req.body,
            ts,
        );
        if req.header("x-ovh-signature") != Some(want.as_str()) {
            return Err(Box::new(class_error(
                400,
                "Client::BadRequest",
                "Invalid signature",
            )));
        }
        Ok(Who::Classic(i))
    }

    pub(crate) fn allowed(&self, who: &Who, action: &str, zone: &str) -> bool {
        match who {
            Who::Classic(_) => true,
            Who::Account(i) => self.accounts[*i]
                .policy
                .as_ref()
                .is_none_or(|p| p.allows(action, zone)),
        }
    }
}

/// `$1$` + hex SHA-1 of `AS+CK+METHOD+URL+BODY+TS`, recomputed from what was received.
pub fn classic_signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    full_url: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    let mut h = Sha1::new();
    h.update(application_secret.as_bytes());
    h.update(b"+");
    h.update(consumer_key.as_bytes());
    h.update(b"+");
    h.update(method.as_bytes());
    h.update(b"+");
    h.update(full_url.as_bytes());
    h.update(b"+");
    h.update(body);
    h.update(b"+");
    h.update(timestamp.as_bytes());
    format!("$1${}", hex::encode(h.finalize()))
}

/// A fresh bearer token: 64 hex characters from the core's random source.
pub fn new_token() -> String {
    hex::encode(clock::random_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_of_the_first_shared_vector() {
        // tests/fixtures/ovh-signing-vectors.json (root crate), vectors 1 and 3.
        assert_eq!(
            classic_signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL",
                "GET",
                "https://eu.api.ovh.com/1.0/domain/zone",
                b"",
                "1700000000"
            ),
            "$1$67bbfa3a13ddb46cd3682091290a5c0856f72b1f"
        );
        assert_eq!(
            classic_signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL",
                "POST",
                "https://eu.api.ovh.com/1.0/domain/zone/example.com/record",
                br#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0","ttl":60}"#,
                "1700000002"
            ),
            "$1$7f47e2c7860c13d70c061e298fea24d9becae007"
        );
    }

    #[test]
    pub(crate) fn tokens_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
