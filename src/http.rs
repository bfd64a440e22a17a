//! HTTP transport: agents built explicitly from our configuration, and a
//! small trait so the flows can be tested without sockets.

use std::time::Duration;

/// Largest response body we read; OTC answers are a few KiB.
pub const MAX_BODY: u64 = 4 * 1024 * 1024;

/// A response reduced to what the callers decide on.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Nothing listens there (connection refused).
    Refused(String),
    Timeout(String),
    Other(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Refused(_) => f.write_str("connection refused"),
            TransportError::Timeout(m) => write!(f, "timed out ({m})"),
            TransportError::Other(m) => f.write_str(m),
        }
    }
}

/// Sends one request. Headers are sent exactly as given (the signer adds `Host`).
pub trait Transport {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError>;
}

/// Timeouts of one agent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub whole: Duration,
}

/// A ureq agent: no proxy unless configured, status codes are answers (not
/// errors) so error bodies can be read, no redirects (a signed request must
/// not be replayed elsewhere).
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl UreqTransport {
    pub fn new(t: Timeouts) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(t.connect))
            .timeout_global(Some(t.whole))
            .http_status_as_error(false)
            // ureq's default agent reads HTTPS_PROXY for every URL, metadata included.
            .proxy(None)
            .max_redirects(0)
            .user_agent(concat!("otc-acme-hook/", env!("CARGO_PKG_VERSION")))
            .build();
        UreqTransport {
            agent: config.into(),
        }
    }
}

impl Transport for UreqTransport {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req
            .body(body.to_vec())
            .map_err(|e| TransportError::Other(format!("invalid request: {e}")))?;
        let mut resp = self.agent.run(req).map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(classify)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(t) => TransportError::Timeout(t.to_string()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportError::Refused(io.to_string())
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout(io.to_string())
        }
        ureq::Error::ConnectionFailed => TransportError::Refused("connection failed".into()),
        other => TransportError::Other(other.to_string()),
    }
}

/// Parsed parts of an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    /// Host without brackets or port.
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Option<String>,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, String> {
        let uri: ureq::http::Uri = s.parse().map_err(|e| format!("invalid URL {s:?}: {e}"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| format!("URL {s:?} has no scheme (http:// or https://)"))?
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("URL {s:?}: scheme must be http or https"));
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("URL {s:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(format!("URL {s:?}: credentials in URLs are not supported"));
        }
        let path = match uri.path() {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        Ok(Url {
            scheme,
            host,
            port: uri.port_u16(),
            path,
            query: uri.query().map(str::to_string),
        })
    }

    /// The `Host` header value: with `:port` only when not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.scheme.as_str(), self.port) {
            ("http", Some(80)) | ("https", Some(443)) | (_, None) => host,
            (_, Some(p)) => format!("{host}:{p}"),
        }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host_header())
    }

    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Plain http is only for loopback (tests, the simulator).
    pub fn require_tls_unless_loopback(&self, what: &str) -> Result<(), String> {
        if self.scheme == "http" && !self.is_loopback() {
            return Err(format!(
                "{what} {} uses plain http; use https (http is only allowed for loopback hosts)",
                self.origin()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        let u = Url::parse("https://dns.eu-de.otc.t-systems.com/v2/zones?a=b").unwrap();
        assert_eq!(u.host_header(), "dns.eu-de.otc.t-systems.com");
        assert_eq!(u.path, "/v2/zones");
        assert_eq!(u.query.as_deref(), Some("a=b"));
        let u = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(u.host_header(), "127.0.0.1:8080");
        assert_eq!(u.path, "/");
        assert!(u.is_loopback());
        let u = Url::parse("https://h:443/x").unwrap();
        assert_eq!(u.host_header(), "h");
        let u = Url::parse("http://[::1]:53/").unwrap();
        assert_eq!(u.host_header(), "[::1]:53");
        assert!(u.is_loopback());
    }

    #[test]
    fn url_rejections() {
        assert!(Url::parse("dns.example.com").is_err());
        assert!(Url::parse("ftp://x/").is_err());
        assert!(Url::parse("https://user:pw@x/").is_err());
        assert!(Url::parse("http://").is_err());
        let u = Url::parse("http://dns.example.com").unwrap();
        assert!(u.require_tls_unless_loopback("DNS endpoint").is_err());
        let u = Url::parse("http://localhost:1").unwrap();
        assert!(u.require_tls_unless_loopback("DNS endpoint").is_ok());
    }
}
