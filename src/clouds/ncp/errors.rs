//! NCP's reading of its error answers (Global DNS's and the API gateway's),
//! its codes in the flow's terms ([`Kind`]), and the fixes we know.

use serde_json::Value;

use crate::api_error::{ApiError, Kind};

/// The API gateway's fix for a call the identity may not make (`401`/`210`).
pub const PERMISSION_HINT: &str = "attach the managed policy NCP_GLOBAL_DNS_MANAGER (or a policy allowing Global DNS's record and apply actions) to the server role of this server, or to the sub account whose key is used; new keys or a retry won't help";

/// The fix for a `403` (the gateway's `230` Forbidden).
pub const FORBIDDEN_HINT: &str = "give the server role (or the sub account of the key) the Global DNS permission (managed policy NCP_GLOBAL_DNS_MANAGER), and check that the domain belongs to this account";

/// The API gateway's fix for `429`/`400` Quota Exceeded.
pub const QUOTA_HINT: &str = "the API gateway's request quota for this account is used up (a daily or monthly quota, not a burst limit); retry once it resets, or ask NAVER Cloud to raise it";

/// The API gateway's error code in a refusal (`{"error":{"errorCode":…}}`).
fn gateway_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match &v["error"]["errorCode"] {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The gateway's `401`/`210` ("Permission Denied"): the identity lacks a
/// permission; its keys and clock are fine, so no fresh keys and no retry.
pub fn permission_denied(status: u16, body: &[u8]) -> bool {
    if status != 401 {
        return false;
    }
    if let Some(code) = gateway_code(body) {
        return code == "210";
    }
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    v["error"]["message"]
        .as_str()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("permission denied"))
}

/// The gateway's `429`/`400` ("Quota Exceeded"): a usage plan's daily or
/// monthly quota, not a burst limit; waiting seconds does not lift it.
pub fn quota_exceeded(status: u16, body: &[u8]) -> bool {
    status == 429 && gateway_code(body).as_deref() == Some("400")
}

/// A Global DNS or gateway refusal as one neutral error: `{"result":"FAIL",
/// "error":{"errorCode","message","devMessage"}}` or the gateway's
/// `{"error":{"errorCode","message",…}}`; anything else is not quoted.
///
/// The gateway's table (ncp-api.md, Corrections): `401`/`200` Authentication
/// Failed (keys, signature, clock), `401`/`210` Permission Denied, `403`/`230`
/// Forbidden, `429`/`400` Quota Exceeded, `429`/`410` Throttle Limited,
/// `429`/`420` Rate Limited.
pub fn api_error(status: u16, body: &[u8]) -> ApiError {
    let (code, message) = match crate::redact::error_excerpt(body) {
        Some((code, msg)) => (code, msg),
        None => (None, "no error details".to_string()),
    };
    let lower = message.to_ascii_lowercase();
    let duplicate = lower.contains("duplicat") || lower.contains("already exist");
    let e = ApiError::status(status, code, message);
    match status {
        401 if permission_denied(status, body) => {
            e.with_kind(Kind::Permission).with_hint(PERMISSION_HINT)
        }
        401 => e.with_hint(
            "check the access key and secret key (or the server role), and this host's clock: \
the API gateway refuses timestamps 5 minutes off (use NTP)",
        ),
        403 => e.with_hint(FORBIDDEN_HINT),
        429 if quota_exceeded(status, body) => e.with_kind(Kind::Fatal).with_hint(QUOTA_HINT),
        // The gateway knows no such API: a wrong --dns-endpoint, not a missing record.
        404 if gateway_code(body).as_deref() == Some("300") => e.with_hint(
            "check --dns-endpoint: the Global DNS base ends in /dns/v1 (e.g. \
https://globaldns.apigw.ntruss.com/dns/v1)",
        ),
        // An exact duplicate is refused: someone (or an earlier run) added it; read again.
        400 | 409 if duplicate => e.with_kind(Kind::Conflict),
        // A record of the batch is gone already (our own DELETE whose answer was lost
        // and that the client sent again, or someone else's): read again, compute again.
        400 | 404 if lower.contains("not found") => e.with_kind(Kind::Conflict),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_become_one_line_neutral_errors() {
        let e = api_error(
            401,
            br#"{"error":{"errorCode":"200","message":"Authentication Failed","details":"Invalid authentication information."}}"#,
        );
        assert_eq!(e.kind(), Kind::Auth);
        assert_eq!(e.to_string(), "HTTP 401 200: Authentication Failed");
        assert!(e.hint().unwrap().contains("NTP"));
        let e = api_error(503, b"<html>bad gateway</html>");
        assert_eq!(e.to_string(), "HTTP 503: no error details");
        assert!(e.is_transient());
        // Secrets in an error body are redacted, control characters escaped, one line.
        let e = api_error(
            400,
            br#"{"result":"FAIL","error":{"errorCode":"E1","message":"bad\nsecretKey=x","secretKey":"LEAK"}}"#,
        )
        .to_string();
        assert!(!e.contains("LEAK") && !e.contains('\n'), "{e}");
    }

    /// Each row of the API gateway's error table (ncp-api.md, Corrections), as
    /// the flow sees it: kind, whether it is retried as an unknown outcome, and
    /// the fix named.
    #[test]
    fn each_row_of_the_gateways_error_table() {
        let gw = |status: u16, code: &str, message: &str| {
            api_error(
                status,
                format!(r#"{{"error":{{"errorCode":"{code}","message":"{message}","details":"d"}}}}"#)
                    .as_bytes(),
            )
        };
        // 400/100 Bad Request Exception: our request is wrong; not retried.
        let e = gw(400, "100", "Bad Request Exception");
        assert_eq!((e.kind(), e.is_transient()), (Kind::Fatal, false));
        // 401/200 Authentication Failed: keys, signature or clock.
        let e = gw(401, "200", "Authentication Failed");
        assert_eq!(e.kind(), Kind::Auth);
        assert_eq!(e.to_string(), "HTTP 401 200: Authentication Failed");
        assert!(e.hint().unwrap().contains("NTP"));
        assert!(!e.hint().unwrap().contains("NCP_GLOBAL_DNS_MANAGER"));
        // 401/210 Permission Denied: the identity lacks the DNS policy.
        let e = gw(401, "210", "Permission Denied");
        assert_eq!((e.kind(), e.is_transient()), (Kind::Permission, false));
        assert_eq!(e.to_string(), "HTTP 401 210: Permission Denied");
        assert_eq!(e.hint(), Some(PERMISSION_HINT));
        assert!(PERMISSION_HINT.contains("NCP_GLOBAL_DNS_MANAGER"));
        assert!(PERMISSION_HINT.contains("server role"));
        assert!(!PERMISSION_HINT.contains("clock"));
        // ... also when only the message says so, in any case.
        let e = api_error(401, br#"{"error":{"message":"permission denied"}}"#);
        assert_eq!(e.kind(), Kind::Permission);
        // 403/230 Forbidden.
        let e = gw(403, "230", "Forbidden");
        assert_eq!((e.kind(), e.is_transient()), (Kind::Permission, false));
        assert!(e.hint().unwrap().contains("NCP_GLOBAL_DNS_MANAGER"));
        // 404/300 Not Found Exception: no such API (a wrong endpoint), not a record.
        let e = gw(404, "300", "Not Found Exception");
        assert_eq!(e.kind(), Kind::NotFound);
        assert!(e.hint().unwrap().contains("--dns-endpoint"));
        // 429/400 Quota Exceeded: not lifted by waiting; not retried.
        let e = gw(429, "400", "Quota Exceeded");
        assert_eq!((e.kind(), e.is_transient()), (Kind::Fatal, false));
        assert!(e.hint().unwrap().contains("quota"));
        assert!(quota_exceeded(429, br#"{"error":{"errorCode":"400"}}"#));
        // 429/410 Throttle Limited and 429/420 Rate Limited: throttled, retried.
        for code in ["410", "420"] {
            let e = gw(429, code, "limited");
            assert_eq!(e.kind(), Kind::Throttled, "{code}");
            assert!(e.is_transient());
            assert!(!quota_exceeded(
                429,
                format!(r#"{{"error":{{"errorCode":"{code}"}}}}"#).as_bytes()
            ));
        }
        // A 401 that is not 210 is never read as a permission error.
        assert!(!permission_denied(
            401,
            br#"{"error":{"errorCode":"200","message":"Authentication Failed"}}"#
        ));
        assert!(!permission_denied(403, br#"{"error":{"errorCode":"210"}}"#));
        assert!(permission_denied(
            401,
            br#"{"error":{"errorCode":210,"message":"x"}}"#
        ));
    }
}
