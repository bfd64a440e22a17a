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
