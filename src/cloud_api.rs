//! The cloud seam: what the shared code needs from a cloud (its DNS API,
//! [`DnsApi`]; its [`Connection`] for `check` and `api`; its [`CloudInput`]).
//!
//! The flow (see [`crate::flow::hook`]) owns the decisions: which values to add or
//! remove (TXT set arithmetic, foreign values always kept), when to re-read,
//! when to wait, when to give up. A provider owns its API: how a name's TXT
//! values are stored, read and changed, and how a zone's changes get served.
//! Three shapes are known, and the seam is cut so that each fits:
//!
//! - **OTC / Huawei Cloud DNS v2** — one *recordset* per name holding every
//!   value. A write answers `PENDING_*` and the set must settle (`ACTIVE`)
//!   before the next write is accepted; there is no conditional update, so a
//!   write replaces the whole set. [`DnsApi::write`] creates, updates or
//!   deletes the set; [`TxtSet::status`] reports the pending state; commit has
//!   nothing to send: the flow waits until [`DnsApi::read`] says settled.
//! - **OVHcloud** — one *record per value*, each with an id; a write is one
//!   `POST` per added value and one `DELETE` per removed id. Nothing is served
//!   until the zone is refreshed: [`DnsApi::commit`] sends that refresh.
//! - **NCP Global DNS** — records with ids, added and deleted in batches (one
//!   `POST` of the added values, one `DELETE` of the removed ids). Nothing is
//!   served until the zone's pending changes are applied: [`DnsApi::commit`]
//!   sends that apply.
//!
//! The flow asks a provider to make one name's values go from *before* (a
//! fresh, complete read) to *after*; the provider computes its own calls from
//! the difference. Once per zone per run the flow commits; a commit is retried
//! on its own and never turns into a repeated write. Errors reach the flow as
//! an [`ApiError`] of a neutral [`Kind`](crate::api_error::Kind); provider
//! error codes stay in the provider.

use std::collections::HashMap;
use std::sync::Mutex;

pub use crate::api_error::{ApiError, ApiResult, Kind};
use crate::http::Response;

/// Sends one request to a cloud's API: how each cloud's `dns.rs` reaches it,
/// so that file is pure request/answer logic, unit-tested over a fake.
/// Authentication, retries and the transport are the sender's business.
///
/// `path_and_query` is relative to the sender's base (the cloud's API base,
/// which the sender puts in front), query already encoded; `body` is JSON.
/// Any HTTP answer is `Ok`, non-2xx included; `Err` only when there was none.
pub trait Sender: Send + Sync {
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response>;
}

impl<S: Sender + ?Sized> Sender for &S {
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        (**self).send(method, path_and_query, body)
    }
}

impl<S: Sender + ?Sized> Sender for std::sync::Arc<S> {
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        (**self).send(method, path_and_query, body)
    }
}

/// A cloud's API through the shared client, its base in front of each path
/// (OVH's `…/1.0`, NCP's `…/dns/v1`): the [`Sender`]
/// its `dns.rs` is written over. The query travels in the path.
pub struct BaseSender {
    pub client: crate::client::Client,
    pub base: crate::http::Url,
}

impl Sender for BaseSender {
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        self.client
            .send(method, &self.base.join(path_and_query), &[], body)
    }
}

/// A closure as a [`Sender`] (tests and fuzz targets script answers so).
pub struct FnSender<F>(pub F);

impl<F> Sender for FnSender<F>
where
    F: Fn(&str, &str, Option<&[u8]>) -> ApiResult<Response> + Send + Sync,
{
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        (self.0)(method, path_and_query, body)
    }
}

/// A zone of the provider: its id (OVH: the zone's name) and absolute name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// Whether a name's last change is served by the API yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Settled,
    /// A change is still being applied (the provider's word for it).
    Pending(String),
    /// The provider could not apply the change (its word for it).
    Failed(String),
}

/// The TXT values at one name, as the provider holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtSet {
    /// Absolute, lower-case.
    pub name: String,
    /// Every value at the name, as stored (a TXT record may come back quoted).
    pub records: Vec<String>,
    /// The provider's handles of what was read: OTC the recordset's id; OVH and
    /// NCP one id per record, in the order of `records`. Empty: nothing there.
    pub ids: Vec<String>,
    pub ttl: Option<u32>,
    pub status: Status,
}

impl TxtSet {
    /// Nothing at `name`.
    pub fn absent(name: &str) -> TxtSet {
        TxtSet {
            name: name.to_string(),
            records: Vec::new(),
            ids: Vec::new(),
            ttl: None,
            status: Status::Settled,
        }
    }
    pub fn exists(&self) -> bool {
        !self.ids.is_empty() || !self.records.is_empty()
    }
    pub fn is_settled(&self) -> bool {
        self.status == Status::Settled
    }
    pub fn is_pending(&self) -> bool {
        matches!(self.status, Status::Pending(_))
    }
    /// The provider's word for the state, for messages.
    pub fn status_word(&self) -> &str {
        match &self.status {
            Status::Settled => "settled",
            Status::Pending(w) | Status::Failed(w) => w,
        }
    }
}

/// What the hook flow needs from a cloud's DNS API.
pub trait DnsApi: Send + Sync {
    /// A short name for messages ("OTC DNS").
    fn name(&self) -> &str;
    /// Public zones that may hold `fqdn`: at least every existing zone among its
    /// suffixes (more is fine: the flow compares names exactly).
    fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<Zone>>;
    /// The public zone named exactly `name` (absolute), if there is one.
    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>>;
    /// Host names of the zone's authoritative nameservers.
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>>;
    /// The TXT values at each of `names` (absolute, lower-case; [`TxtSet::absent`]
    /// where there is nothing), in order, with as few calls as the API allows.
    /// Every value at a name, or an error: never a partial read.
    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>>;
    /// `at` read once more, right before a write is computed from it.
    fn reread(&self, zone: &Zone, at: &TxtSet) -> ApiResult<TxtSet> {
        let mut v = self.read(zone, std::slice::from_ref(&at.name))?;
        Ok(v.pop().unwrap_or_else(|| TxtSet::absent(&at.name)))
    }
    /// Makes the values at `before.name` go from `before` (a fresh read) to
    /// `after` (records as to be stored; foreign ones exactly as read). Values
    /// in both are left alone; an empty `after` leaves nothing at the name.
    /// Returns the name's state as far as the answer tells it.
    fn write(&self, zone: &Zone, before: &TxtSet, after: &[String], ttl: u32) -> ApiResult<TxtSet>;
    /// Publishes the zone's changes (OVH refresh, NCP apply; OTC nothing to send).
    fn commit(&self, zone: &Zone) -> ApiResult<()>;
    /// Whether a write replaces every value at the name (OTC: no conditional
    /// update): another host's read-modify-write racing ours can then drop a
    /// value or bring one back, so the flow reads again a second after its
    /// last write. Record-per-value APIs touch only the records named.
    fn whole_set_writes(&self) -> bool {
        false
    }
    /// The provider's word for a served change, for messages (OTC: `ACTIVE`,
    /// OVH: refreshed, NCP: applied).
    fn settled_word(&self) -> &'static str {
        "settled"
    }
    /// The provider's noun for what holds a name's TXT values, for messages:
    /// OTC `recordset` (one per name), OVH and NCP `record` (one per value).
    /// The shared flow says "TXT record(s)" wherever no noun of a cloud fits.
    fn record_word(&self) -> &'static str {
        "record"
    }
    /// Whose DNS permissions a refused call points at, for fixes: OTC the
    /// agency, OVH the service account, NCP the server role.
    fn identity_word(&self) -> &'static str {
        "credentials"
    }
    /// Several names' changes in one zone with the API's batch calls, where it
    /// has them (NCP: one `POST` of every added record, one `DELETE` of every
    /// removed id). Each change is as in [`write`](Self::write); the answer has
    /// one state per change, in order. An `Err` leaves every change's outcome
    /// unknown: the flow reads each name again, never repeating a write blind.
    /// `None`: no batch call; the flow writes name by name.
    fn write_batch(
        &self,
        _zone: &Zone,
        _changes: &[Change<'_>],
        _ttl: u32,
    ) -> Option<ApiResult<Vec<TxtSet>>> {
        None
    }
    /// What this host's journal knows of `name` before a read: the id each of
    /// our creates answered, with the value it holds (`(id, value)`). A
    /// provider that reads records by id may skip those reads (its listing
    /// still confirms each id is there); nothing is written from this alone.
    /// Default: nothing to do.
    fn known(&self, _zone: &Zone, _name: &str, _known: &[(String, String)]) {}
}

/// One name's change for [`DnsApi::write_batch`]: from `before` (a fresh,
/// complete read) to `after`.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub before: &'a TxtSet,
    pub after: &'a [String],
}

/// Remembers zone lookups and nameservers for one run: they don't change
/// while a hook runs, and certbot's last hook looks them up for every name.
pub struct ZoneCache<'a> {
    inner: &'a dyn DnsApi,
    holding: Mutex<HashMap<String, Vec<Zone>>>,
    named: Mutex<HashMap<String, Option<Zone>>>,
    nameservers: Mutex<HashMap<String, Vec<String>>>,
}

impl<'a> ZoneCache<'a> {
    pub fn new(inner: &'a dyn DnsApi) -> Self {
        ZoneCache {
            inner,
            holding: Default::default(),
            named: Default::default(),
            nameservers: Default::default(),
        }
    }
}

fn cached<K: std::hash::Hash + Eq + Clone, V: Clone>(
    cache: &Mutex<HashMap<K, V>>,
    key: &K,
    get: impl FnOnce() -> ApiResult<V>,
) -> ApiResult<V> {
    if let Some(v) = crate::sync::lock(cache).get(key) {
        return Ok(v.clone());
    }
    // Not locked while asking: threads asking for other keys don't wait.
    let v = get()?;
    crate::sync::lock(cache).insert(key.clone(), v.clone());
    Ok(v)
}

impl DnsApi for ZoneCache<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<Zone>> {
        cached(&self.holding, &fqdn.to_string(), || {
            self.inner.zones_holding(fqdn)
        })
    }
    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        cached(&self.named, &name.to_string(), || {
            self.inner.zone_named(name)
        })
    }
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        cached(&self.nameservers, &zone.id, || self.inner.nameservers(zone))
    }
    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        self.inner.read(zone, names)
    }
    fn reread(&self, zone: &Zone, at: &TxtSet) -> ApiResult<TxtSet> {
        self.inner.reread(zone, at)
    }
    fn write(&self, zone: &Zone, before: &TxtSet, after: &[String], ttl: u32) -> ApiResult<TxtSet> {
        self.inner.write(zone, before, after, ttl)
    }
    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        self.inner.commit(zone)
    }
    fn whole_set_writes(&self) -> bool {
        self.inner.whole_set_writes()
    }
    fn settled_word(&self) -> &'static str {
        self.inner.settled_word()
    }
    fn record_word(&self) -> &'static str {
        self.inner.record_word()
    }
    fn identity_word(&self) -> &'static str {
        self.inner.identity_word()
    }
    fn write_batch(
        &self,
        zone: &Zone,
        changes: &[Change<'_>],
        ttl: u32,
    ) -> Option<ApiResult<Vec<TxtSet>>> {
        self.inner.write_batch(zone, changes, ttl)
    }
    fn known(&self, zone: &Zone, name: &str, known: &[(String, String)]) {
        self.inner.known(zone, name, known)
    }
}

/// What a cloud's configuration is built from: the shared flags whose meaning
/// (and default) depends on the cloud, as given, before any default applies.
/// Its `Debug` names the variables, never their values.
#[derive(Clone, Default)]
pub struct CloudInput {
    /// `--cloud`.
    pub cloud: String,
    pub region: Option<String>,
    pub dns_endpoint: Option<String>,
    pub metadata_url: Option<String>,
    /// `--ak`/`--sk`/`--token` given on the command line.
    pub flag_keys: Keys,
    /// The same from the environment under OTC's names (`OS_*`), which clap
    /// reads; a cloud of other names ignores them and reads its own from `env`.
    pub os_keys: Keys,
    /// `--credentials`: only this kind of source.
    pub credentials: Option<String>,
    pub credentials_file: Option<String>,
    /// The environment (config file values included), for a cloud's own names.
    pub env: HashMap<String, String>,
    /// Ids of the selected cloud's own flags given on the command line (clap
    /// merges a flag with its variable; a credential chain keeps them apart).
    pub cli_flags: Vec<String>,
}

/// A setting given blank (`--region ''`, `OS_REGION=`) counts as not given.
pub fn nonblank(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.trim().is_empty())
}

/// Static keys as given (blank values already dropped). Its `Debug` shows
/// which are set, never a secret.
#[derive(Clone, Default)]
pub struct Keys {
    pub access: Option<String>,
    pub secret: Option<String>,
    pub token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| crate::redact::REDACTED);
        f.debug_struct("Keys")
            .field("access", &self.access)
            .field("secret", &shown(&self.secret))
            .field("token", &shown(&self.token))
            .finish()
    }
}

impl std::fmt::Debug for CloudInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        f.debug_struct("CloudInput")
            .field("cloud", &self.cloud)
            .field("region", &self.region)
            .field("dns_endpoint", &self.dns_endpoint)
            .field("metadata_url", &self.metadata_url)
            .field("flag_keys", &self.flag_keys)
            .field("os_keys", &self.os_keys)
            .field("credentials", &self.credentials)
            .field("credentials_file", &self.credentials_file)
            .field("env (names only)", &names)
            .finish_non_exhaustive()
    }
}

/// A cloud, connected: its DNS provider, and what `check` and `api` need.
pub trait Connection: Send + Sync {
    fn dns(&self) -> &dyn DnsApi;
    /// Where the identity came from, for `check` (never a secret).
    fn identity(&self) -> String;
    /// A cheap authorized read for `check`: the API answers, and its `Date`.
    fn probe_url(&self) -> crate::http::Url;
    /// Sends one authorized call (`api`, `check`); any status is an answer.
    fn send(
        &self,
        method: &str,
        url: &crate::http::Url,
        body: Option<&[u8]>,
    ) -> ApiResult<crate::http::Response>;
    /// This cloud's reading of a non-2xx answer.
    fn error_of(&self, resp: &crate::http::Response) -> ApiError;
    /// The clock correction learnt from a 401 (seconds), 0 if none.
    fn clock_offset(&self) -> i64;
    /// An authorized read for `check`'s "credentials work" line, where the
    /// probe is sent without credentials (OVH's `/auth/time`): one the policy
    /// grants for `zone` (the first domain's), or, without one, the
    /// credentials' widest read. `None` (the default): the probe showed it.
    fn credentials_probe(&self, _zone: Option<&Zone>) -> Option<crate::http::Url> {
        None
    }
}

/// A cloud's settings, validated before any network call.
pub trait CloudConfig: std::fmt::Debug + Send + Sync {
    /// The DNS API base (the journal keys its entries by its origin).
    fn dns_endpoint(&self) -> &crate::http::Url;
    /// Connects: its credentials, client and DNS API.
    fn connect(
        &self,
        net: &crate::client::Net,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
        report: &std::sync::Arc<crate::report::Report>,
    ) -> crate::error::Result<Box<dyn Connection>>;
}

/// Reads a cloud's own flags (its clap `Args`) from the matches it is given.
pub fn own_flags<T: clap::FromArgMatches>(m: &clap::ArgMatches) -> crate::error::Result<T> {
    T::from_arg_matches(m).map_err(|e| crate::error::Error::rejected("config", e.to_string()))
}

/// A cloud's settings and the warnings to print once.
pub type Configured = crate::error::Result<(Box<dyn CloudConfig>, Vec<String>)>;

/// `(label, text)` pairs of a setting's `--help` default, in the order shown
/// (`label: text`; an empty label shows the text alone).
pub type HelpDefaults = &'static [(&'static str, &'static str)];

/// A cloud as the registry ([`crate::clouds`]) knows it: every name,
/// default and help text shared code may ask of it. Each cloud's `mod.rs`
/// defines one, `CLOUD`; shared code reads nothing else of a cloud.
pub struct Cloud {
    /// Its values of `--cloud`; the first is the folder's.
    pub names: &'static [&'static str],
    /// Adds its own flags to the CLI (clap's `Args::augment_args`).
    pub flags: fn(clap::Command) -> clap::Command,
    /// Its settings from the shared flags (`input`) and its own (read from
    /// `matches`), and warnings to print once.
    pub configure: fn(input: &CloudInput, matches: &clap::ArgMatches) -> Configured,
    /// Variables it reads by hand (not through clap), which the config file
    /// may set too, and their heading in the config template.
    pub env_read_by_hand: &'static [&'static str],
    pub env_read_by_hand_what: &'static str,
    /// Its variables that hold a secret, named exactly.
    pub secret_variables: &'static [&'static str],
    /// Names of one setting (the primary one first).
    pub aliases: &'static [&'static [&'static str]],
    /// Whether it reads the key flags' variables (`--ak`/`--sk`/`--token`:
    /// `OS_*`, OTC's names); other clouds read their own names by hand.
    pub reads_key_variables: bool,
    /// Whether `name` is one of its own variables, which no other cloud reads.
    pub owns_variable: fn(name: &str) -> bool,
    /// Variables of a short-lived token: read when set, never saved for a
    /// renewal months later.
    pub temporary_variables: &'static [&'static str],
    /// `--help`'s defaults of `--region`, and a note after them.
    pub region_help: HelpDefaults,
    pub region_note: &'static str,
    /// `--help`'s defaults of `--dns-endpoint` and `--metadata-url`.
    pub dns_endpoint_help: HelpDefaults,
    pub metadata_url_help: HelpDefaults,
    /// `--help`'s credential sources, first found first (one sentence or more).
    pub credentials_help: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let mut input = CloudInput {
            flag_keys: Keys {
                access: Some("AKVISIBLE".into()),
                secret: Some("SKHIDDEN".into()),
                token: Some("TOKHIDDEN".into()),
            },
            ..Default::default()
        };
        input.env.insert("OS_SECRET_KEY".into(), "ENVHIDDEN".into());
        let d = format!("{input:?}");
        assert!(
            d.contains("AKVISIBLE") && d.contains("OS_SECRET_KEY"),
            "{d}"
        );
        for s in ["SKHIDDEN", "TOKHIDDEN", "ENVHIDDEN"] {
            assert!(!d.contains(s), "{d}");
        }
    }
}
