//! Why a provider's API call failed, in terms the shared flow decides on.
//!
//! A provider maps its own error codes to a neutral [`Kind`] and may attach the fix it knows; the flow
//! matches on the kind only, never on a code or a message.

use std::fmt;

use crate::http::TransportError;

/// What the flow does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The name changed under us, or exists already: re-read and compute again.
    Conflict,
    /// The name has a change not yet served: wait, then re-read.
    NotSettled,
    /// Throttled (after the transport's own retries): the outcome of a write is unknown.
    Throttled,
    /// No answer, a 5xx, an unreadable 2xx: the outcome of a write is unknown.
    Transient,
    /// The credentials or the signature were refused.
    Auth,
    /// The identity lacks a permission.
    Permission,
    NotFound,
    Fatal,
}

impl Kind {
    /// The kind a bare HTTP status implies, before a provider looks at its codes.
    pub fn of_status(status: u16) -> Kind {
        match status {
            401 => Kind::Auth,
            403 => Kind::Permission,
            404 => Kind::NotFound,
            409 | 412 => Kind::Conflict,
            429 => Kind::Throttled,
            500 | 502 | 503 | 504 => Kind::Transient,
            _ => Kind::Fatal,
        }
    }
}

/// Why an API call failed. Decisions match on [`kind`](ApiError::kind).
#[derive(Debug, Clone)]
pub enum ApiError {
    Transport(TransportError),
    Status {
        status: u16,
        /// The provider's own error code, shown to the operator.
        code: Option<String>,
        message: String,
        kind: Kind,
        /// The fix, when the provider knows it.
        hint: Option<&'static str>,
    },
    /// A 2xx answer we could not read (e.g. an HTML page from a proxy).
    Decode(String),
    /// Fresh temporary credentials could not be had after a 401.
    Credentials(String),
    /// A request we refuse to send (it would be wrong whatever the answer).
    Refused(String),
}

impl ApiError {
    /// A non-2xx answer, classified by its status alone.
    pub fn status(status: u16, code: Option<String>, message: String) -> ApiError {
        ApiError::Status {
            status,
            code,
            message,
            kind: Kind::of_status(status),
            hint: None,
        }
    }

    /// The same error, classified as `kind` (a provider's reading of its code).
    pub fn with_kind(mut self, k: Kind) -> ApiError {
        if let ApiError::Status { kind, .. } = &mut self {
            *kind = k;
        }
        self
    }

    /// The same error with the provider's fix attached.
    pub fn with_hint(mut self, h: &'static str) -> ApiError {
        if let ApiError::Status { hint, .. } = &mut self {
            *hint = Some(h);
        }
        self
    }

    pub fn kind(&self) -> Kind {
        match self {
            ApiError::Transport(TransportError::Tls(_)) => Kind::Fatal,
            ApiError::Transport(_) | ApiError::Decode(_) => Kind::Transient,
            ApiError::Status { kind, .. } => *kind,
            ApiError::Credentials(_) => Kind::Auth,
            ApiError::Refused(_) => Kind::Fatal,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The outcome of a write is unknown: re-read before trying again, never repeat blind.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind(), Kind::Transient | Kind::Throttled)
    }

    /// What the operator should do about it, when we know.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ApiError::Status { hint: Some(h), .. } => Some(h),
            ApiError::Status {
                kind: Kind::Throttled,
                ..
            } => Some("the API is throttling requests; try again in a minute"),
            ApiError::Transport(TransportError::Tls(_)) => Some(
                "the server's certificate is not trusted: behind a TLS-inspecting proxy, give its CA with --ca-file",
            ),
            ApiError::Transport(_) => {
                Some("check the DNS endpoint (--dns-endpoint) and this host's network")
            }
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport(e) => write!(f, "{e}"),
            ApiError::Status {
                status,
                code: Some(c),
                message,
                ..
            } => write!(f, "HTTP {status} {c}: {message}"),
            ApiError::Status {
                status, message, ..
            } => write!(f, "HTTP {status}: {message}"),
            ApiError::Decode(m) => write!(f, "unreadable answer: {m}"),
            ApiError::Credentials(m) => {
                write!(f, "after HTTP 401, fetching fresh credentials: {m}")
            }
            ApiError::Refused(m) => f.write_str(m),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Why serde refused a JSON document, in a few words that quote none of it
/// (an answer may hold secrets): for "not a … answer (…)" messages.
pub fn json_problem(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "i/o",
        Category::Syntax => "invalid JSON",
        Category::Data => "missing or wrong fields",
        Category::Eof => "truncated JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_status_and_provider() {
        let e = ApiError::status(503, None, "busy".into());
        assert!(e.is_transient());
        assert_eq!(e.to_string(), "HTTP 503: busy");
        let e = ApiError::status(429, None, "slow".into());
        assert_eq!(e.kind(), Kind::Throttled);
        assert!(e.is_transient());
        assert!(e.hint().unwrap().contains("throttling"));
        let e = ApiError::status(400, Some("X.1".into()), "busy".into())
            .with_kind(Kind::NotSettled)
            .with_hint("wait");
        assert_eq!(e.kind(), Kind::NotSettled);
        assert!(!e.is_transient());
        assert_eq!(e.hint(), Some("wait"));
        assert_eq!(e.to_string(), "HTTP 400 X.1: busy");
        assert_eq!(
            ApiError::status(501, None, String::new()).kind(),
            Kind::Fatal
        );
        assert_eq!(
            ApiError::Transport(TransportError::Tls("x".into())).kind(),
            Kind::Fatal
        );
        assert!(ApiError::Transport(TransportError::Timeout("x".into())).is_transient());
        assert_eq!(ApiError::Credentials("x".into()).kind(), Kind::Auth);
    }

    #[test]
    fn json_problems_name_the_category_and_quote_nothing() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            token: String,
        }
        let problem = |body: &str| json_problem(&serde_json::from_str::<Doc>(body).unwrap_err());
        assert_eq!(problem("<html>SECRET"), "invalid JSON");
        assert_eq!(problem(r#"{"token":"SECRET"#), "truncated JSON");
        assert_eq!(problem(r#"{"other":"SECRET"}"#), "missing or wrong fields");
        assert_eq!(problem(r#"{"token":7}"#), "missing or wrong fields");
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("reset"))
            }
        }
        let io = serde_json::from_reader::<_, Doc>(Broken).unwrap_err();
        assert_eq!(json_problem(&io), "i/o");
    }
}
