//! Signed HTTP calls: signs each request with the current credentials and
//! sends exactly what was signed (query string and body bytes).

use std::rc::Rc;

use crate::clock::Clock;
use crate::credentials::Credentials;
use crate::dns_api::types::ErrorBody;
use crate::dns_api::{ApiError, ApiResult};
use crate::http::{Response, Transport, Url};
use crate::sign;

pub struct SignedClient {
    transport: Box<dyn Transport>,
    creds: Credentials,
    project_id: Option<String>,
    clock: Rc<dyn Clock>,
}

impl SignedClient {
    pub fn new(
        transport: Box<dyn Transport>,
        creds: Credentials,
        project_id: Option<String>,
        clock: Rc<dyn Clock>,
    ) -> Self {
        SignedClient {
            transport,
            creds,
            project_id,
            clock,
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// Signs and sends; any HTTP status is returned as an answer.
    pub fn send(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let mut query = url
            .query
            .as_deref()
            .map(sign::parse_query)
            .unwrap_or_default();
        query.extend_from_slice(extra_query);
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        let host = url.host_header();
        let body = body.unwrap_or(b"");
        let req = sign::Request {
            method,
            host: &host,
            path: &url.path,
            query: &query,
            headers: &headers,
            body,
        };
        let date = sign::sdk_date(self.clock.unix_secs());
        let signed = sign::sign(&req, &self.creds, self.project_id.as_deref(), &date);
        let mut target = format!("{}{}", url.origin(), url.path);
        if !signed.query_string.is_empty() {
            target.push('?');
            target.push_str(&signed.query_string);
        }
        self.transport
            .send(method, &target, &signed.headers, body)
            .map_err(ApiError::Transport)
    }

    /// Like [`send`](Self::send), but a non-2xx answer becomes an [`ApiError::Status`].
    pub fn call(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let resp = self.send(method, url, extra_query, body)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(status_error(&resp))
        }
    }
}

/// Reads `code`/`message` (or the gateway's `error_code`/`error_msg`) from an error answer.
pub fn status_error(resp: &Response) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = parsed.code.or(parsed.error_code);
    let message = parsed.message.or(parsed.error_msg).unwrap_or_else(|| {
        let text: String = String::from_utf8_lossy(&resp.body)
            .chars()
            .take(120)
            .collect();
        if text.trim().is_empty() {
            "no error detail".to_string()
        } else {
            text.trim().to_string()
        }
    });
    ApiError::Status {
        status: resp.status,
        code,
        message,
    }
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
        assert!(e.is_exists());
        let e = status_error(&r(r#"{"error_code":"APIG.0301","error_msg":"bad sig"}"#));
        assert_eq!(e.code(), Some("APIG.0301"));
        assert_eq!(e.to_string(), "HTTP 400 APIG.0301: bad sig");
        let e = status_error(&r("<html>\nproxy\n</html>"));
        assert_eq!(e.code(), None);
    }
}
