//! OVHcloud's reading of its error answers: the shapes it sends, its codes in
//! the flow's terms ([`Kind`]), and the fixes we know.

use serde_json::Value;

use crate::api_error::{ApiError, Kind};

/// The fix for a 403 that names an IAM action.
pub const IAM_HINT: &str = "allow that action on urn:v1:<eu|ca|us>:resource:dnsZone:<zone> in the IAM policy of the service account (docs/setup.md has the complete policy)";
/// The fix for a refused classic consumer key.
pub const CLASSIC_KEYS_HINT: &str = "check OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (a consumer key must be validated and not expired), or use a service account";
/// The fix for a classic request whose timestamp was refused.
pub const CLOCK_HINT: &str = "the request's timestamp was refused: check this host's clock (NTP); the server time is read once per run from /auth/time";
/// The fix for a call the consumer key's access rules don't grant.
pub const ACCESS_RULES_HINT: &str = "the consumer key's access rules must grant GET, POST and DELETE on /domain/zone/*; create a new consumer key with them, or use a service account";
/// The fix for a 401 on a bearer.
pub const BEARER_HINT: &str = "the bearer token was refused twice: check the service account (OVH_CLIENT_ID) and its IAM policy";

/// Our reading of an OVH error answer: `{"class","message"}` (API errors),
/// `{"errorCode","httpCode","message"}` (classic authentication), and
/// `details.unauthorizedActionsByIAM` (a policy denial). `action` is what the
/// call needs, named when the server does not say. Only redacted text is quoted.
pub fn api_error(status: u16, body: &[u8], action: Option<&str>) -> ApiError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let (mut code, message) = crate::redact::error_excerpt(body)
        .unwrap_or((None, format!("HTTP {status} without an error message")));
    let error_code = s("errorCode");
    if let Some(ec) = &error_code {
        code = Some(crate::redact::escape_controls(ec));
    }
    let iam: Vec<String> = match v.pointer("/details/unauthorizedActionsByIAM") {
        Some(Value::String(a)) => a.split(',').map(|x| x.trim().to_string()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let iam: Vec<String> = iam
        .into_iter()
        .filter(|a| !a.is_empty())
        .map(|a| crate::redact::escape_controls(&a))
        .collect();
    let class = s("class").unwrap_or_default();
    let e = |m: String| ApiError::status(status, code.clone(), m);
    match (status, error_code.as_deref()) {
        (
            _,
            Some("INVALID_KEY" | "INVALID_CREDENTIAL" | "NOT_CREDENTIAL" | "NOT_AUTHENTICATED"),
        ) => e(message)
            .with_kind(Kind::Auth)
            .with_hint(CLASSIC_KEYS_HINT),
        (_, Some("QUERY_TIME_OUT")) => e(message).with_kind(Kind::Auth).with_hint(CLOCK_HINT),
        (_, Some("NOT_GRANTED_CALL")) => e(message)
            .with_kind(Kind::Permission)
            .with_hint(ACCESS_RULES_HINT),
        (400, _) if message.to_ascii_lowercase().contains("signature") => e(message)
            .with_kind(Kind::Auth)
            .with_hint(CLASSIC_KEYS_HINT),
        (401, _) => e(message).with_kind(Kind::Auth).with_hint(BEARER_HINT),
        (403, _) => {
            let missing = if iam.is_empty() {
                action.map(|a| format!("needs IAM action {a}"))
            } else {
                Some(format!("missing IAM action {}", iam.join(", ")))
            };
            let m = match missing {
                Some(x) => format!("{message} ({x})"),
                None => message,
            };
            e(m).with_kind(Kind::Permission).with_hint(IAM_HINT)
        }
        _ if class == "Client::Conflict" => e(message).with_kind(Kind::Conflict),
        _ => e(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_and_other_errors() {
        let e = api_error(403, br#"{"errorCode":"INVALID_CREDENTIAL","httpCode":"403 Forbidden","message":"This credential is not valid"}"#, None);
        assert_eq!(
            (e.kind(), e.code()),
            (Kind::Auth, Some("INVALID_CREDENTIAL"))
        );
        assert_eq!(e.hint(), Some(CLASSIC_KEYS_HINT));
        let e = api_error(
            403,
            br#"{"errorCode":"NOT_GRANTED_CALL","message":"This call has not been granted"}"#,
            None,
        );
        assert_eq!(
            (e.kind(), e.hint()),
            (Kind::Permission, Some(ACCESS_RULES_HINT))
        );
        let e = api_error(
            400,
            br#"{"class":"Client::BadRequest","message":"Invalid signature"}"#,
            None,
        );
        assert_eq!(e.kind(), Kind::Auth);
        let e = api_error(
            401,
            br#"{"class":"Client::Unauthorized","message":"token expired"}"#,
            None,
        );
        assert_eq!(e.kind(), Kind::Auth);
        assert_eq!(
            api_error(409, br#"{"class":"Client::Conflict","message":"x"}"#, None).kind(),
            Kind::Conflict
        );
        assert_eq!(api_error(429, b"", None).kind(), Kind::Throttled);
        assert!(api_error(500, b"<html>", None).is_transient());
        // A credential in an error body is never quoted.
        let e = api_error(
            400,
            br#"{"class":"Client::BadRequest","message":"bad","access_token":"LEAK"}"#,
            None,
        );
        assert!(!format!("{e} {e:?}").contains("LEAK"), "{e:?}");
    }

    #[test]
    fn a_refused_timestamp_points_at_the_clock() {
        let e = api_error(
            400,
            br#"{"errorCode":"QUERY_TIME_OUT","httpCode":"400 Bad Request","message":"Query out of time"}"#,
            None,
        );
        assert_eq!((e.kind(), e.hint()), (Kind::Auth, Some(CLOCK_HINT)));
    }
}
