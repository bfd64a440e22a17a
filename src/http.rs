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
    /// The TLS handshake failed (e.g. an untrusted certificate): trying again won't help.
    Tls(String),
    Other(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Refused(_) => f.write_str("connection refused"),
            TransportError::Tls(m) => write!(f, "TLS: {m}"),
            TransportError::Timeout(m) => write!(f, "timed out ({m})"),
            TransportError::Other(m) => f.write_str(m),
        }
    }
}

/// What [`TransportError::Timeout`] says when the connection was never set up in time.
pub const CONNECT_TIMEOUT: &str = "connect";

impl TransportError {
    /// Nothing reached the server: the connection was refused, or not set up
    /// within the connect timeout (a SYN lost on a busy host). Any request,
    /// a POST included, is safe to send again.
    pub fn never_connected(&self) -> bool {
        match self {
            TransportError::Refused(_) => true,
            TransportError::Timeout(m) => m == CONNECT_TIMEOUT,
            _ => false,
        }
    }
}

/// Sends one request. Headers are sent exactly as given (the signer adds `Host`).
pub trait Transport: Send + Sync {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError>;
}

/// A transport that sends again, after a short pause, a request that never
/// reached the server ([`TransportError::never_connected`]): one lost SYN or
/// a service restarting must not fail a renewal (aws-config retries its
/// instance metadata 3 times). For services on the link (instance metadata),
/// where a connect failure is cheap to retry; the run's deadline (its
/// watchdog) bounds it like any wait.
pub struct ConnectRetry<T> {
    inner: T,
    /// The pause before each further attempt.
    backoff: Vec<std::time::Duration>,
    sleep: fn(std::time::Duration),
}

impl<T: Transport> ConnectRetry<T> {
    pub fn new(inner: T, backoff: &[std::time::Duration]) -> Self {
        Self::with_sleep(inner, backoff, std::thread::sleep)
    }

    /// With another way to wait (tests).
    pub fn with_sleep(
        inner: T,
        backoff: &[std::time::Duration],
        sleep: fn(std::time::Duration),
    ) -> Self {
        ConnectRetry {
            inner,
            backoff: backoff.to_vec(),
            sleep,
        }
    }
}

impl<T: Transport> Transport for ConnectRetry<T> {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let mut pauses = self.backoff.iter();
        loop {
            match self.inner.send(method, url, headers, body) {
                Err(e) if e.never_connected() => match pauses.next() {
                    Some(p) => (self.sleep)(*p),
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }
}

/// Timeouts of one agent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub whole: Duration,
}

/// Where cloud API requests go: straight, or through an HTTP(S) proxy.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// `HTTPS_PROXY` (or `https_proxy`), e.g. `http://proxy.example:3128`.
    pub url: Option<String>,
    /// `NO_PROXY` entries: `*`, host names (matching subdomains too), `.suffix`, IP addresses.
    pub no_proxy: Vec<String>,
}

impl ProxyConfig {
    /// Reads `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`/`no_proxy` from `env` (blank = unset).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> ProxyConfig {
        let get = |a: &str, b: &str| env(a).or_else(|| env(b)).filter(|v| !v.trim().is_empty());
        ProxyConfig {
            url: get("HTTPS_PROXY", "https_proxy"),
            no_proxy: get("NO_PROXY", "no_proxy")
                .map(|v| {
                    v.split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether a request to `host` goes through the proxy. Loopback and
    /// link-local hosts (the simulator, the metadata and container credential
    /// services) never do, whatever the environment says.
    pub fn applies_to(&self, host: &str) -> bool {
        self.url.is_some() && !is_local_host(host) && !no_proxy_matches(&self.no_proxy, host)
    }
}

/// Loopback (`localhost`, 127/8, ::1) or link-local (169.254/16, fe80::/10).
pub fn is_local_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xffc0) == 0xfe80,
        Err(_) => false,
    }
}

/// `NO_PROXY` matching: `*` matches all; `example.com` and `.example.com` match the
/// host and its subdomains; a port suffix on an entry is ignored.
pub fn no_proxy_matches(entries: &[String], host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    entries.iter().any(|e| {
        if e == "*" {
            return true;
        }
        let e = e.trim_start_matches('[');
        let e = match e.rsplit_once(']') {
            Some((h, _)) => h,
            // host:port, but not a bare IPv6 address
            None if e.matches(':').count() == 1 => e.split(':').next().unwrap_or(e),
            None => e,
        };
        let bare = e.trim_start_matches("*.").trim_start_matches('.');
        host == bare || host.ends_with(&format!(".{bare}"))
    })
}

/// Which certificates a TLS connection trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Extra PEM bundle (`--ca-file`), e.g. a TLS-inspecting proxy's CA, trusted besides
    /// the system's store.
    pub ca_file: Option<std::path::PathBuf>,
}

/// System CA bundles of the common distributions.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn pem_certs(bytes: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(bytes)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

impl Trust {
    fn tls_config(&self) -> Result<ureq::tls::TlsConfig, TransportError> {
        use ureq::tls::{RootCerts, TlsConfig};
        let roots = match &self.ca_file {
            // The platform verifier reads the system store on the first TLS handshake only.
            None => RootCerts::PlatformVerifier,
            Some(path) => {
                let extra = std::fs::read(path).map_err(|e| {
                    TransportError::Other(format!("cannot read --ca-file {}: {e}", path.display()))
                })?;
                let mut certs = pem_certs(&extra);
                if certs.is_empty() {
                    return Err(TransportError::Other(format!(
                        "--ca-file {} holds no PEM certificate",
                        path.display()
                    )));
                }
                // ureq takes one root set: the system's bundle plus ours.
                if let Some(system) = SYSTEM_BUNDLES.iter().find_map(|p| std::fs::read(p).ok()) {
                    certs.extend(pem_certs(&system));
                }
                RootCerts::new_with_certs(&certs)
            }
        };
        Ok(TlsConfig::builder().root_certs(roots).build())
    }
}

/// ureq agents built from our configuration: status codes are answers (not
/// errors) so error bodies can be read, no redirects (a signed request must not
/// be replayed elsewhere), a proxy only where configured and not excluded.
/// Agents are made on first use, so an http-only run never loads TLS roots.
pub struct UreqTransport {
    timeouts: Timeouts,
    proxy: ProxyConfig,
    trust: Trust,
    /// One keep-alive agent each, shared by every thread of the run (ureq's
    /// `Agent` is a handle on one pool of connections).
    direct: std::sync::OnceLock<ureq::Agent>,
    proxied: std::sync::OnceLock<ureq::Agent>,
}

impl UreqTransport {
    /// No proxy, ever (the metadata service).
    pub fn new(t: Timeouts) -> Self {
        Self::with(t, ProxyConfig::default(), Trust::default())
    }

    pub fn with(timeouts: Timeouts, proxy: ProxyConfig, trust: Trust) -> Self {
        UreqTransport {
            timeouts,
            proxy,
            trust,
            direct: Default::default(),
            proxied: Default::default(),
        }
    }

    fn build(&self, proxy: Option<&str>) -> Result<ureq::Agent, TransportError> {
        let proxy = match proxy {
            Some(p) => Some(
                ureq::Proxy::new(p)
                    .map_err(|e| TransportError::Other(format!("invalid HTTPS_PROXY: {e}")))?,
            ),
            // ureq's default agent reads HTTPS_PROXY for every URL, metadata included: not ours.
            None => None,
        };
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(self.timeouts.connect))
            .timeout_global(Some(self.timeouts.whole))
            .http_status_as_error(false)
            .proxy(proxy)
            .max_redirects(0)
            .tls_config(self.trust.tls_config()?)
            .user_agent(concat!("otc-acme-hook/", env!("CARGO_PKG_VERSION")))
            // ureq opens as many connections as requests in flight; these keep
            // one idle connection per thread of the widest pool for reuse.
            .max_idle_connections_per_host(crate::defaults::PARALLEL_MAX)
            .max_idle_connections(2 * crate::defaults::PARALLEL_MAX)
            .build();
        Ok(config.into())
    }

    fn agent_for(&self, url: &str) -> Result<&ureq::Agent, TransportError> {
        let host = Url::parse(url).map(|u| u.host).unwrap_or_default();
        let (cell, proxy) = match &self.proxy.url {
            Some(p) if self.proxy.applies_to(&host) => (&self.proxied, Some(p.as_str())),
            _ => (&self.direct, None),
        };
        if let Some(a) = cell.get() {
            return Ok(a);
        }
        let agent = self.build(proxy)?;
        Ok(cell.get_or_init(|| agent))
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
        let mut resp = self.agent_for(url)?.run(req).map_err(classify)?;
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
        ureq::Error::Timeout(ureq::Timeout::Connect) => {
            TransportError::Timeout(CONNECT_TIMEOUT.to_string())
        }
        ureq::Error::Timeout(t) => TransportError::Timeout(t.to_string()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportError::Refused(io.to_string())
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout(io.to_string())
        }
        ureq::Error::ConnectionFailed => TransportError::Refused("connection failed".into()),
        ureq::Error::Tls(m) => TransportError::Tls(m.to_string()),
        ureq::Error::Rustls(e) => TransportError::Tls(e.to_string()),
        // rustls reports a refused certificate through an io::Error.
        ureq::Error::Io(io) if io.to_string().contains("certificate") => {
            TransportError::Tls(io.to_string())
        }
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
        // Messages show the URL without any user:password part.
        let shown = crate::redact::url_for_display(s);
        let s_shown = &shown;
        let uri: ureq::http::Uri = s.parse().map_err(|_| format!("invalid URL {s_shown:?}"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| format!("URL {s_shown:?} has no scheme (http:// or https://)"))?
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("URL {s_shown:?}: scheme must be http or https"));
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("URL {s_shown:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(format!(
                "URL {s_shown:?}: credentials in URLs are not supported"
            ));
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

    /// `path_and_query` (from its `/`) under this URL's path, whose trailing
    /// `/` goes; the query is what follows `?` there, none without:
    /// `https://h/v1/` joined with `/zones?a=b` is `https://h/v1/zones?a=b`.
    pub fn join(&self, path_and_query: &str) -> Url {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (path_and_query, None),
        };
        Url {
            path: format!("{}{path}", self.path.trim_end_matches('/')),
            query,
            ..self.clone()
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

    /// Answers from a list, counting the attempts.
    struct Answers(std::sync::Mutex<Vec<Result<Response, TransportError>>>);
    impl Transport for &Answers {
        fn send(
            &self,
            _: &str,
            _: &str,
            _: &[(String, String)],
            _: &[u8],
        ) -> Result<Response, TransportError> {
            crate::sync::lock(&self.0).remove(0)
        }
    }

    thread_local! {
        static PAUSES: std::cell::RefCell<Vec<Duration>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    #[test]
    fn connect_retry_sends_again_only_what_never_connected() {
        let pauses = [Duration::from_millis(200), Duration::from_millis(500)];
        let record = |d| PAUSES.with(|p| p.borrow_mut().push(d));
        let ok = || {
            Ok(Response {
                status: 200,
                headers: vec![],
                body: vec![],
            })
        };
        let refused = || Err(TransportError::Refused("x".into()));
        let lost_syn = || Err(TransportError::Timeout(CONNECT_TIMEOUT.into()));
        let a = Answers(vec![refused(), lost_syn(), ok()].into());
        let t = ConnectRetry::with_sleep(&a, &pauses, record);
        assert_eq!(t.send("PUT", "u", &[], b"").unwrap().status, 200);
        assert_eq!(PAUSES.with(|p| p.take()), pauses, "two pauses, short");
        // Twice tried again, never a fourth time.
        let a = Answers(vec![refused(), refused(), refused(), ok()].into());
        let t = ConnectRetry::with_sleep(&a, &pauses, record);
        assert!(t.send("GET", "u", &[], b"").unwrap_err().never_connected());
        assert_eq!(crate::sync::lock(&a.0).len(), 1);
        // What may have reached the server is the caller's to judge.
        for e in [
            TransportError::Timeout("receive response".into()),
            TransportError::Other("connection reset".into()),
            TransportError::Tls("x".into()),
        ] {
            let a = Answers(vec![Err(e.clone()), ok()].into());
            let t = ConnectRetry::with_sleep(&a, &pauses, record);
            assert_eq!(t.send("GET", "u", &[], b"").unwrap_err(), e);
        }
        assert!(PAUSES.with(|p| p.take()).len() == 2);
    }

    #[test]
    fn metadata_connect_timeout_outlasts_one_lost_syn() {
        // Linux sends a lost SYN again after 1 s: a 1 s connect timeout never sees it answered.
        assert!(crate::defaults::METADATA_CONNECT_TIMEOUT >= Duration::from_secs(2));
        assert!(crate::defaults::METADATA_TIMEOUT > crate::defaults::METADATA_CONNECT_TIMEOUT);
        assert_eq!(crate::defaults::METADATA_CONNECT_RETRIES.len(), 2);
    }

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
    fn join_appends_under_the_base_path() {
        let base = Url::parse("https://h:8443/dns/v1/").unwrap();
        let u = base.join("/ncpdns/domain?page=0&size=1");
        assert_eq!(
            (
                u.host_header().as_str(),
                u.path.as_str(),
                u.query.as_deref()
            ),
            ("h:8443", "/dns/v1/ncpdns/domain", Some("page=0&size=1"))
        );
        // The base's own query never carries over; no `?`, no query.
        let base = Url::parse("https://h/v1?x=1").unwrap();
        assert_eq!(base.join("/zones").path, "/v1/zones");
        assert_eq!(base.join("/zones").query, None);
        assert_eq!(base.join("/zones?").query.as_deref(), Some(""));
        // A bare origin: the path is the joined one.
        let base = Url::parse("http://127.0.0.1:8").unwrap();
        assert_eq!(base.join("/auth/time").path, "/auth/time");
        assert_eq!(base.join("").path, "");
    }

    #[test]
    fn no_proxy_rules() {
        let e = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(no_proxy_matches(&e(&["*"]), "dns.example.com"));
        assert!(no_proxy_matches(&e(&["example.com"]), "dns.example.com"));
        assert!(no_proxy_matches(&e(&[".example.com"]), "dns.example.com"));
        assert!(no_proxy_matches(&e(&["example.com:443"]), "example.com"));
        assert!(!no_proxy_matches(&e(&["example.com"]), "badexample.com"));
        assert!(no_proxy_matches(&e(&["127.0.0.1"]), "127.0.0.1"));
        assert!(no_proxy_matches(&e(&["::1"]), "[::1]"));
        let p = ProxyConfig {
            url: Some("http://p:3128".into()),
            no_proxy: e(&["localhost"]),
        };
        assert!(p.applies_to("dns.eu-de.otc.t-systems.com"));
        assert!(!p.applies_to("localhost"));
        assert!(!ProxyConfig::default().applies_to("x"));
        // Local services are never proxied.
        let p = ProxyConfig {
            url: Some("http://p:3128".into()),
            no_proxy: vec![],
        };
        for h in [
            "127.0.0.1",
            "localhost",
            "169.254.169.254",
            "169.254.170.2",
            "[::1]",
            "fe80::1",
        ] {
            assert!(!p.applies_to(h), "{h}");
        }
        assert!(p.applies_to("10.0.0.1"));
        let env = |k: &str| (k == "https_proxy").then(|| "http://p:1".to_string());
        assert_eq!(
            ProxyConfig::from_env(&env).url.as_deref(),
            Some("http://p:1")
        );
    }

    #[test]
    fn url_rejections() {
        assert!(Url::parse("dns.example.com").is_err());
        assert!(Url::parse("ftp://x/").is_err());
        let e = Url::parse("https://user:PASSWORD@x/").unwrap_err();
        assert!(!e.contains("PASSWORD"), "{e}");
        assert!(Url::parse("http://").is_err());
        let u = Url::parse("http://dns.example.com").unwrap();
        assert!(u.require_tls_unless_loopback("DNS endpoint").is_err());
        let u = Url::parse("http://localhost:1").unwrap();
        assert!(u.require_tls_unless_loopback("DNS endpoint").is_ok());
    }
}
