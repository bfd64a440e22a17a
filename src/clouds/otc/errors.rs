//! OTC's reading of its error answers: `code`/`message` (DNS) or
//! `error_code`/`error_msg` (the API gateway), its codes in the flow's terms
//! ([`Kind`]) and the fixes we know, never quoting a credential.

use super::types::ErrorBody;
use crate::api_error::{ApiError, Kind};
use crate::http::Response;

/// Reads `code`/`message` (or the gateway's `error_code`/`error_msg`) from an error
/// answer. A body of no known error shape is quoted only when it is not JSON (an HTML
/// page from a proxy, say), escaped and cut short; a JSON body only through the redactor.
pub fn status_error(resp: &Response) -> ApiError {
    classify(error_of(resp, false))
}

/// Like [`status_error`], for endpoints that hand out credentials (metadata, IAM,
/// container identity): only a recognised error shape is quoted, never the body.
pub fn credential_status_error(resp: &Response) -> ApiError {
    classify(error_of(resp, true))
}

/// OTC's codes in the flow's terms, and the fixes we know.
fn classify(e: ApiError) -> ApiError {
    let e = match e.code() {
        // The set exists already / changed meanwhile.
        Some("DNS.0312") | Some("DNS.0313") => e.with_kind(Kind::Conflict),
        // A `PENDING_*` set can't be changed yet.
        Some("DNS.0314") => e.with_kind(Kind::NotSettled),
        Some("DNS.0014") => e.with_kind(Kind::Throttled),
        _ => e,
    };
    match e.http_status() {
        Some(401) => e.with_hint(
            "the signature was refused: check the access/secret key, and that this host's clock is right (NTP)",
        ),
        Some(403) if e.kind() == Kind::Permission => e.with_hint(
            "permission denied: give the agency (or user) the DNS Administrator role for this project",
        ),
        _ => e,
    }
}

fn error_of(resp: &Response, credential_endpoint: bool) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = parsed
        .code
        .or(parsed.error_code)
        .map(|c| crate::redact::escape_controls(&crate::redact::scrub_server_text(&c)));
    let message = match crate::redact::error_excerpt(&resp.body) {
        Some((_, m)) => m,
        None if credential_endpoint
            || serde_json::from_slice::<serde_json::Value>(&resp.body).is_ok() =>
        {
            "no error detail we can show".to_string()
        }
        None => {
            // Plain text may echo our request: its credentials are masked before the clip.
            let text: String =
                crate::redact::scrub_server_text(&String::from_utf8_lossy(&resp.body))
                    .chars()
                    .take(120)
                    .collect();
            if text.trim().is_empty() {
                "no error detail".to_string()
            } else {
                crate::redact::escape_controls(text.trim())
            }
        }
    };
    ApiError::status(resp.status, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_both_shapes() {
        let r = |b: &str| Response {
            status: 400,
            headers: vec![],
            body: b.as_bytes().to_vec(),
        };
        let e = status_error(&r(r#"{"code":"DNS.0312","message":"exists"}"#));
        assert_eq!(e.kind(), Kind::Conflict);
        let e = status_error(&r(r#"{"error_code":"APIG.0301","error_msg":"bad sig"}"#));
        assert_eq!(e.code(), Some("APIG.0301"));
        assert_eq!(e.to_string(), "HTTP 400 APIG.0301: bad sig");
        let e = status_error(&r("<html>\nproxy\n</html>"));
        assert_eq!(e.code(), None);
        // A credential endpoint's body is never quoted unless it is a known error shape.
        let doc = r#"{"credential":{"access":"A","secret":"LEAK","securitytoken":"TOK"}}"#;
        for e in [status_error(&r(doc)), credential_status_error(&r(doc))] {
            assert!(!e.to_string().contains("LEAK"), "{e}");
        }
        let e = credential_status_error(&r("secret=LEAK"));
        assert!(!e.to_string().contains("LEAK"), "{e}");
        let e = status_error(&r(r#"{"code":"X","message":"a\u001b[2Jb"}"#));
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }
}
