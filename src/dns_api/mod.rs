//! The DNS backend seam: what the hook flow needs from a DNS provider, and
//! the OTC / Huawei Cloud DNS v2 implementation of it.

pub mod otc;
pub mod types;

use std::fmt;

use crate::http::TransportError;
pub use types::{RecordSet, Zone};

/// Why an API call failed. Decisions match on `status` and `code`, never the message.
#[derive(Debug, Clone)]
pub enum ApiError {
    Transport(TransportError),
    Status {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A 2xx answer we could not read (e.g. an HTML page from a proxy).
    Decode(String),
    /// Fresh temporary credentials could not be had after a 401.
    Credentials(String),
}

impl ApiError {
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// The set is in a `PENDING_*` state and can't be changed yet.
    pub fn is_not_steady(&self) -> bool {
        self.code() == Some("DNS.0314")
    }
    /// The outcome of a write is unknown (no answer, a 5xx, throttled after every
    /// retry, or a 2xx we could not read): re-read before trying again.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(TransportError::Tls(_)) => false,
            ApiError::Transport(_) | ApiError::Decode(_) => true,
            ApiError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ApiError::Credentials(_) => false,
        }
    }
    /// The recordset exists already (or another type occupies the name).
    pub fn is_exists(&self) -> bool {
        self.code() == Some("DNS.0312")
    }

    /// What the operator should do about it, when we know.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ApiError::Status { status: 401, .. } => Some(
                "the signature was refused: check the access/secret key, and that this host's clock is right (NTP)",
            ),
            ApiError::Status { status: 403, .. } => Some(
                "permission denied: give the agency (or user) the DNS Administrator role for this project",
            ),
            ApiError::Status { status: 429, .. } => {
                Some("the API is throttling requests; try again in a minute")
            }
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
            } => write!(f, "HTTP {status} {c}: {message}"),
            ApiError::Status {
                status, message, ..
            } => write!(f, "HTTP {status}: {message}"),
            ApiError::Decode(m) => write!(f, "unreadable answer: {m}"),
            ApiError::Credentials(m) => {
                write!(f, "after HTTP 401, fetching fresh credentials: {m}")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What the hook flow needs from a DNS provider. OTC's DNS v2 implements it;
/// other providers come behind the same seam.
pub trait DnsBackend {
    /// A short name for logs ("OTC DNS").
    fn name(&self) -> &str;
    /// Every public zone whose name contains `filter` (the provider may over-match;
    /// the caller compares names exactly).
    fn public_zones(&self, filter: &str) -> ApiResult<Vec<Zone>>;
    /// Host names of the zone's authoritative nameservers.
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>>;
    /// Every TXT recordset of the zone whose name contains `filter` (the
    /// provider may over-match; callers compare names exactly).
    fn txt_sets(&self, zone: &Zone, filter: &str) -> ApiResult<Vec<RecordSet>>;
    /// The TXT recordset named exactly `name` (absolute, lower-case), if any.
    fn find_txt(&self, zone: &Zone, name: &str) -> ApiResult<Option<RecordSet>> {
        Ok(self
            .txt_sets(zone, name)?
            .into_iter()
            .find(|r| r.name.eq_ignore_ascii_case(name)))
    }
    /// Re-reads one recordset; `None` once it is gone.
    fn get(&self, zone: &Zone, id: &str) -> ApiResult<Option<RecordSet>>;
    fn create_txt(
        &self,
        zone: &Zone,
        name: &str,
        ttl: u32,
        records: &[String],
        description: &str,
    ) -> ApiResult<RecordSet>;
    /// Replaces the values of `set`, keeping its TTL and description.
    fn update_records(
        &self,
        zone: &Zone,
        set: &RecordSet,
        records: &[String],
    ) -> ApiResult<RecordSet>;
    fn delete(&self, zone: &Zone, set: &RecordSet) -> ApiResult<()>;
}

/// Remembers zone listings and nameservers for one run: they don't change
/// while a hook runs, and certbot's last hook looks them up for every name.
pub struct Memo<'a> {
    inner: &'a dyn DnsBackend,
    zones: std::cell::RefCell<std::collections::HashMap<String, Vec<Zone>>>,
    nameservers: std::cell::RefCell<std::collections::HashMap<String, Vec<String>>>,
}

impl<'a> Memo<'a> {
    pub fn new(inner: &'a dyn DnsBackend) -> Self {
        Memo {
            inner,
            zones: Default::default(),
            nameservers: Default::default(),
        }
    }
}

impl DnsBackend for Memo<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn public_zones(&self, filter: &str) -> ApiResult<Vec<Zone>> {
        if let Some(z) = self.zones.borrow().get(filter) {
            return Ok(z.clone());
        }
        let z = self.inner.public_zones(filter)?;
        self.zones
            .borrow_mut()
            .insert(filter.to_string(), z.clone());
        Ok(z)
    }
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        if let Some(n) = self.nameservers.borrow().get(&zone.id) {
            return Ok(n.clone());
        }
        let n = self.inner.nameservers(zone)?;
        self.nameservers
            .borrow_mut()
            .insert(zone.id.clone(), n.clone());
        Ok(n)
    }
    fn txt_sets(&self, zone: &Zone, filter: &str) -> ApiResult<Vec<RecordSet>> {
        self.inner.txt_sets(zone, filter)
    }
    fn get(&self, zone: &Zone, id: &str) -> ApiResult<Option<RecordSet>> {
        self.inner.get(zone, id)
    }
    fn create_txt(
        &self,
        zone: &Zone,
        name: &str,
        ttl: u32,
        records: &[String],
        description: &str,
    ) -> ApiResult<RecordSet> {
        self.inner.create_txt(zone, name, ttl, records, description)
    }
    fn update_records(
        &self,
        zone: &Zone,
        set: &RecordSet,
        records: &[String],
    ) -> ApiResult<RecordSet> {
        self.inner.update_records(zone, set, records)
    }
    fn delete(&self, zone: &Zone, set: &RecordSet) -> ApiResult<()> {
        self.inner.delete(zone, set)
    }
}
