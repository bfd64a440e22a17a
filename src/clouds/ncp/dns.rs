//! NCP Global DNS v1 behind the cloud seam ([`crate::cloud_api::DnsApi`]).
//! API reference: <https://api.ncloud-docs.com/docs/en/networking-globaldns-record>
//!
//! - zones: `GET /ncpdns/domain?page=0&size=100` (`domainName` is optional,
//!   the docs say), every page, once per process: every suffix of every name
//!   is answered from that one listing, exact `name` compare. A zone asked by
//!   name before that listing: `…&domainName={name}` (the filter may
//!   over-match: exact compare), remembered too;
//! - read: one name: `GET /ncpdns/record/{domainId}?page=0&size=100&recordType=TXT&searchContent={host}`,
//!   every page, exact `host` compare; several names of a domain, or the apex
//!   (`@`: a search by record name may not match it): one listing of the
//!   domain's TXT records without `searchContent`, every page, each name
//!   picked by exact host. TXT content may come back quoted, so values are
//!   compared unquoted;
//! - write: one `POST /ncpdns/record/{domainId}` with the array of added values,
//!   one `DELETE /ncpdns/record/{domainId}` with the array of removed ids (only
//!   ids it read), then, if it created any, a re-read to learn their ids
//!   (the answers' bodies are not relied on);
//!   [`DnsApi::write_batch`]: the same two calls for every name of a domain
//!   at once, then one read of them all to learn the new ids (the create's
//!   answer names none: the docs show no body, the simulator sends
//!   `{"result":"SUCCESS"}`); a batch that only deletes needs no read;
//! - commit: one `PUT /ncpdns/record/apply/{domainId}`. Rollback is never called:
//!   it would discard everybody's pending edits of the zone.
//!
//! Requests go through an injected [`Sender`] (signing, retries and the
//! transport are its business), so this file is pure request/answer logic;
//! its paths are relative to the DNS base (`/ncpdns/...`, the base's
//! `/dns/v1` is the sender's to add and sign).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::errors::api_error;
use super::types::{Domain, Page, Record};
use crate::api_error::{ApiError, ApiResult};
use crate::cloud_api::{Change, DnsApi, Sender, TxtSet, Zone};
use crate::encoding::percent_encode_keep_at;
use crate::http::Response;
use crate::txt::unquote;
use crate::zone::{absolute, candidate_zones};

/// Items asked per page (the API's `size`).
pub const PAGE_SIZE: u32 = 100;
/// Pages followed at most; beyond, the listing is an error, never a partial read.
const MAX_PAGES: u32 = 100;

/// The NS names of a zone, asked of the resolver (the propagation module's
/// lookup, injected when wiring).
pub type NsLookup<'a> = Box<dyn Fn(&Zone) -> ApiResult<Vec<String>> + Send + Sync + 'a>;

/// Global DNS v1 as a [`DnsApi`].
pub struct NcpDns<'a> {
    sender: Box<dyn Sender + 'a>,
    ns_lookup: Option<NsLookup<'a>>,
    /// Nameservers the domain listing named, by domain id.
    listed_ns: Mutex<HashMap<String, Vec<String>>>,
    /// Domains as listed, for the life of the process: a run's names share
    /// them (a lookup per suffix per name was 3 calls a name in a 2-label domain).
    domains: Mutex<Domains>,
}

/// What the domain listings told, kept per process.
#[derive(Default)]
struct Domains {
    /// Every domain of the account (the unfiltered listing, every page).
    all: Option<Vec<Zone>>,
    /// Exact-name lookups made before (or without) the full listing.
    named: HashMap<String, Option<Zone>>,
}

impl<'a> NcpDns<'a> {
    pub fn new(sender: impl Sender + 'a) -> Self {
        NcpDns {
            sender: Box::new(sender),
            ns_lookup: None,
            listed_ns: Default::default(),
            domains: Default::default(),
        }
    }

    /// Where nameservers come from when the API does not name them: an NS
    /// lookup. Without one, none: the shared propagation check then asks the
    /// resolver for NS (for NCP's domains, [`super::config::NAMESERVERS`]).
    pub fn with_ns_lookup(mut self, lookup: NsLookup<'a>) -> Self {
        self.ns_lookup = Some(lookup);
        self
    }

    /// A call whose non-2xx answer becomes an [`ApiError`].
    fn call(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        let r = self.sender.send(method, path_and_query, body)?;
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(api_error(r.status, &r.body))
        }
    }

    /// Every page of a Spring-style listing (`content`, `last`, `totalPages`).
    fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &str,
    ) -> ApiResult<Vec<T>> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let sep = if query.is_empty() { "" } else { "&" };
            let r = self.call(
                "GET",
                &format!("{path}?page={page}&size={PAGE_SIZE}{sep}{query}"),
                None,
            )?;
            let p: Page<T> = decode(&r.body)?;
            let n = p.content.len();
            out.extend(p.content);
            let done = match (p.last, p.total_pages) {
                (Some(last), _) => last,
                (None, Some(total)) => page + 1 >= total,
                (None, None) => n < PAGE_SIZE as usize,
            };
            if done || n == 0 {
                return Ok(out);
            }
        }
        Err(ApiError::Decode(format!(
            "{path}: more than {MAX_PAGES} pages; refusing a partial listing"
        )))
    }

    /// A listed domain as a zone; the nameservers it names are kept.
    fn remember(&self, d: Domain) -> ApiResult<Zone> {
        let id = id_string(&d.id)?;
        if let Some(ns) = d.name_servers.filter(|n| !n.is_empty()) {
            crate::sync::lock(&self.listed_ns).insert(id.clone(), ns);
        }
        Ok(Zone {
            id,
            name: absolute(&d.name),
        })
    }

    /// Every domain of the account: one listing (every page) per process.
    fn all_domains(&self) -> ApiResult<Vec<Zone>> {
        if let Some(all) = &crate::sync::lock(&self.domains).all {
            return Ok(all.clone());
        }
        let listed: Vec<Domain> = self.all_pages("/ncpdns/domain", "")?;
        let all = listed
            .into_iter()
            .map(|d| self.remember(d))
            .collect::<ApiResult<Vec<Zone>>>()?;
        crate::sync::lock(&self.domains).all = Some(all.clone());
        Ok(all)
    }

    /// The domain named exactly `name` (absolute or not): from the full
    /// listing when this process made it, else one filtered lookup, kept.
    fn lookup(&self, name: &str) -> ApiResult<Option<Zone>> {
        let want = absolute(name);
        {
            let known = crate::sync::lock(&self.domains);
            if let Some(all) = &known.all {
                return Ok(all.iter().find(|z| z.name == want).cloned());
            }
            if let Some(z) = known.named.get(&want) {
                return Ok(z.clone());
            }
        }
        let bare = want.trim_end_matches('.');
        let domains: Vec<Domain> = self.all_pages(
            "/ncpdns/domain",
            &format!("domainName={}", percent_encode_keep_at(bare)),
        )?;
        // The filter may over-match (a part of the name): exact compare.
        let found = match domains.into_iter().find(|d| absolute(&d.name) == want) {
            Some(d) => Some(self.remember(d)?),
            None => None,
        };
        crate::sync::lock(&self.domains)
            .named
            .insert(want, found.clone());
        Ok(found)
    }

    /// Every TXT record of the domain, every page; with `host`, only those a
    /// search by record name finds for it (it over-matches: pick exactly).
    fn list_txt(&self, zone: &Zone, host: Option<&str>) -> ApiResult<Vec<Record>> {
        let query = match host {
            Some(h) => format!("recordType=TXT&searchContent={}", percent_encode_keep_at(h)),
            None => "recordType=TXT".to_string(),
        };
        self.all_pages(&format!("/ncpdns/record/{}", zone.id), &query)
    }

    fn read_one(&self, zone: &Zone, name: &str) -> ApiResult<TxtSet> {
        let host = host_in(name, zone)?;
        // The search is by record name (the docs); whether `@` finds the apex
        // is unconfirmed, so the apex is read from every TXT record of the
        // domain, every page, and picked below by exact host.
        let search = (host != "@").then_some(host.as_str());
        let records = self.list_txt(zone, search)?;
        pick(&records, name, &host)
    }

    /// The changes' common calls: one `POST` of every added record, one
    /// `DELETE` of every removed id, then what is there now.
    fn batch(&self, zone: &Zone, changes: &[Change<'_>], ttl: u32) -> ApiResult<Vec<TxtSet>> {
        let mut added: Vec<Value> = Vec::new();
        let mut removed: Vec<Value> = Vec::new();
        let mut plans = Vec::with_capacity(changes.len());
        for c in changes {
            let p = plan(zone, c.before, c.after)?;
            for v in &p.added {
                let rec = json!({"host": p.host, "type": "TXT", "content": v, "ttl": ttl});
                // The same value twice at a host: the API refuses the batch.
                if !added.contains(&rec) {
                    added.push(rec);
                }
            }
            for id in &p.removed {
                let id = id_json(id);
                if !removed.contains(&id) {
                    removed.push(id);
                }
            }
            plans.push(p);
        }
        let path = format!("/ncpdns/record/{}", zone.id);
        if !added.is_empty() {
            self.call("POST", &path, Some(&to_bytes(&added)))?;
        }
        if !removed.is_empty() {
            self.call("DELETE", &path, Some(&to_bytes(&removed)))?;
        }
        if added.is_empty() {
            // Nothing created, so no id to learn: each name keeps what was
            // read less what was deleted.
            return Ok(changes
                .iter()
                .zip(&plans)
                .map(|(c, p)| without(c.before, &p.removed))
                .collect());
        }
        // The create's answer names no ids (none documented): one read of
        // every name learns them.
        let names: Vec<String> = changes.iter().map(|c| c.before.name.clone()).collect();
        self.read(zone, &names)
    }
}

/// One name's change as the API's calls see it.
struct Plan<'v> {
    /// Relative to the domain, `@` for the apex.
    host: String,
    /// Values to create, unquoted.
    added: Vec<&'v str>,
    /// Ids (as read) of the records to delete.
    removed: Vec<String>,
}

/// What `before` → `after` takes: values in both are left alone; only ids
/// that were read are ever deleted.
fn plan<'v>(zone: &Zone, before: &'v TxtSet, after: &'v [String]) -> ApiResult<Plan<'v>> {
    if before.ids.len() != before.records.len() {
        return Err(local_error(format!(
            "{}: {} ids for {} records; read it again",
            before.name,
            before.ids.len(),
            before.records.len()
        )));
    }
    let host = host_in(&before.name, zone)?;
    let wanted: Vec<&str> = after.iter().map(|v| unquote(v)).collect();
    let had: Vec<&str> = before.records.iter().map(|v| unquote(v)).collect();
    let mut added: Vec<&str> = Vec::new();
    for v in &wanted {
        if !had.contains(v) && !added.contains(v) {
            added.push(v);
        }
    }
    let removed: Vec<String> = before
        .ids
        .iter()
        .zip(&had)
        .filter(|(_, v)| !wanted.contains(v))
        .map(|(id, _)| id.clone())
        .collect();
    Ok(Plan {
        host,
        added,
        removed,
    })
}

/// `at` less the records of `removed` ids.
fn without(at: &TxtSet, removed: &[String]) -> TxtSet {
    let mut out = TxtSet {
        records: Vec::new(),
        ids: Vec::new(),
        ..at.clone()
    };
    for (id, r) in at.ids.iter().zip(&at.records) {
        if !removed.contains(id) {
            out.ids.push(id.clone());
            out.records.push(r.clone());
        }
    }
    if out.records.is_empty() {
        out.ttl = None;
    }
    out
}

/// The TXT values at `name` (host `host`) among listed records: only this
/// very host, only TXT, not deleted (a search over-matches).
fn pick(records: &[Record], name: &str, host: &str) -> ApiResult<TxtSet> {
    let mut at = TxtSet::absent(&absolute(name));
    for r in records {
        if !r.host.eq_ignore_ascii_case(host) || !r.rtype.eq_ignore_ascii_case("TXT") || r.del_yn {
            continue;
        }
        at.ids.push(id_string(&r.id)?);
        at.records.push(r.content.clone());
        at.ttl = at.ttl.or(r.ttl);
    }
    Ok(at)
}

impl DnsApi for NcpDns<'_> {
    fn name(&self) -> &str {
        "NCP Global DNS"
    }

    fn settled_word(&self) -> &'static str {
        "applied"
    }

    fn identity_word(&self) -> &'static str {
        "server role"
    }

    fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<Zone>> {
        // Every suffix answered from one listing of every domain (kept for
        // the process), never a lookup per suffix per name.
        let all = self.all_domains()?;
        // Longest first; a single label (a TLD) is never a Global DNS domain.
        Ok(candidate_zones(fqdn)
            .into_iter()
            .filter(|c| c.trim_end_matches('.').contains('.'))
            .filter_map(|c| all.iter().find(|z| z.name == c).cloned())
            .collect())
    }

    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        self.lookup(name)
    }

    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        if let Some(ns) = crate::sync::lock(&self.listed_ns).get(&zone.id) {
            return Ok(ns.clone());
        }
        match &self.ns_lookup {
            Some(lookup) => lookup(zone),
            // None named: the propagation check asks the resolver for NS.
            None => Ok(Vec::new()),
        }
    }

    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        if let [one] = names {
            return Ok(vec![self.read_one(zone, one)?]);
        }
        if names.is_empty() {
            return Ok(Vec::new());
        }
        // Several names: one listing of the domain's TXT records (every page,
        // or an error: never a partial read), each name picked by exact host.
        let hosts = names
            .iter()
            .map(|n| host_in(n, zone))
            .collect::<ApiResult<Vec<String>>>()?;
        let records = self.list_txt(zone, None)?;
        names
            .iter()
            .zip(&hosts)
            .map(|(n, h)| pick(&records, n, h))
            .collect()
    }

    fn write(&self, zone: &Zone, before: &TxtSet, after: &[String], ttl: u32) -> ApiResult<TxtSet> {
        let p = plan(zone, before, after)?;
        if p.added.is_empty() && p.removed.is_empty() {
            return Ok(before.clone());
        }
        let path = format!("/ncpdns/record/{}", zone.id);
        if !p.added.is_empty() {
            let body: Vec<Value> = p
                .added
                .iter()
                .map(|v| json!({"host": p.host, "type": "TXT", "content": v, "ttl": ttl}))
                .collect();
            self.call("POST", &path, Some(&to_bytes(&body)))?;
        }
        if !p.removed.is_empty() {
            let body: Vec<Value> = p.removed.iter().map(|id| id_json(id)).collect();
            self.call("DELETE", &path, Some(&to_bytes(&body)))?;
        }
        if p.added.is_empty() {
            // Nothing created, no id to learn: what was read less what went.
            return Ok(without(before, &p.removed));
        }
        // The create's answer names no ids (none documented): they are read.
        self.read_one(zone, &before.name)
    }

    fn write_batch(
        &self,
        zone: &Zone,
        changes: &[Change<'_>],
        ttl: u32,
    ) -> Option<ApiResult<Vec<TxtSet>>> {
        Some(self.batch(zone, changes, ttl))
    }

    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        self.call("PUT", &format!("/ncpdns/record/apply/{}", zone.id), None)
            .map(|_| ())
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::Decode(format!(
            "not a Global DNS answer ({})",
            crate::api_error::json_problem(&e)
        ))
    })
}

fn to_bytes(v: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn id_string(v: &Value) -> ApiResult<String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(ApiError::Decode("a record or domain without an id".into())),
    }
}

/// Ids go back as the API gave them: numbers as numbers.
fn id_json(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::from(id), Value::from)
}

/// A mistake of ours, not the API's: never retried.
fn local_error(message: String) -> ApiError {
    ApiError::Refused(message)
}

/// `name` relative to the zone: `@` for the apex.
pub fn host_in(name: &str, zone: &Zone) -> ApiResult<String> {
    let n = absolute(name);
    let z = absolute(&zone.name);
    if n == z {
        return Ok("@".into());
    }
    match n.strip_suffix(&format!(".{z}")) {
        Some(h) if !h.is_empty() => Ok(h.to_string()),
        _ => Err(local_error(format!("{n} is not in zone {z}"))),
    }
}

#[cfg(test)]
mod tests;
