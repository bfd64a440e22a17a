//! OVHcloud DNS (API v1) behind the [`DnsApi`] seam: one record per value,
//! each with an id; nothing is served until `POST /domain/zone/{zone}/refresh`
//! ([`DnsApi::commit`]). Calls (ovh-api.md §2):
//!
//! - zones: `GET /domain/zone` (names); when that listing is refused (403: a
//!   policy scoped to one zone may not grant it) or holds no suffix of the
//!   name (it may be filtered by IAM), `GET /domain/zone/{candidate}` for the
//!   name's suffixes, longest first, up to the first found;
//! - nameservers: `GET /domain/zone/{zone}` (`nameServers`);
//! - read of several names: one `GET /domain/zone/{zone}/record?fieldType=TXT`
//!   (every TXT id of the zone), then `GET …/record/{id}` for each id not yet
//!   known, side by side, when those are fewer than the names; else, and for
//!   one name: per name, side by side,
//!   `GET /domain/zone/{zone}/record?fieldType=TXT&subDomain={sub}` → ids,
//!   then `GET …/record/{id}` for each id not yet known to this process (an id
//!   is never reused, and our records are never changed in place: a record
//!   read or created once is known for the process); the filter is case-insensitive and
//!   pattern-like (`_` matches any character), so each record's `subDomain` is
//!   compared again here; the apex is `""` (a `null` `subDomain` in an answer too);
//! - write: `POST …/record` per added value, `DELETE …/record/{id}` per removed
//!   one, only ids this run read;
//! - commit: one `POST /domain/zone/{zone}/refresh`.
//!
//! Requests go through an injected [`Sender`] (authentication, transport and
//! retries are its business), so all of this is tested without sockets; its
//! paths are relative to the API base (which includes `/1.0`), e.g.
//! `/domain/zone/example.com/record?fieldType=TXT`.

use serde::Deserialize;

use super::errors::api_error;
use super::types::{NewRecord, Record, ZoneInfo};
use crate::api_error::{ApiError, ApiResult, Kind};
use crate::cloud_api::{DnsApi, Sender, Status, TxtSet, Zone};
use crate::http::Response;
use crate::txt;
use crate::zone::{absolute, candidate_zones};

/// The IAM actions of the calls (ovh-api.md §1.5).
pub mod action {
    pub const ZONE_GET: &str = "dnsZone:apiovh:get";
    pub const RECORD_GET: &str = "dnsZone:apiovh:record/get";
    pub const RECORD_CREATE: &str = "dnsZone:apiovh:record/create";
    pub const RECORD_DELETE: &str = "dnsZone:apiovh:record/delete";
    pub const REFRESH: &str = "dnsZone:apiovh:refresh";
}

fn decode<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|_| {
        let start: String = crate::redact::scrub_server_text(&String::from_utf8_lossy(body))
            .chars()
            .take(40)
            .collect();
        ApiError::Decode(format!(
            "{what}: expected JSON; got {:?}",
            crate::redact::escape_controls(start.trim())
        ))
    })
}

/// A zone name as a path segment: OVH's zone names are host names; anything
/// else is refused rather than sent.
fn zone_segment(name: &str) -> ApiResult<String> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty()
        || !n
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(ApiError::Decode(format!(
            "{:?} is not a zone name",
            crate::redact::escape_controls(name)
        )));
    }
    Ok(n)
}

/// The name relative to the zone (`""` for the apex), or `None` when outside it.
pub fn sub_domain(name: &str, zone: &Zone) -> Option<String> {
    let (name, zone) = (absolute(name), absolute(&zone.name));
    if name == zone {
        return Some(String::new());
    }
    name.strip_suffix(&format!(".{zone}")).map(str::to_string)
}

/// Whether `rec` is a TXT record at `sub`: DNS names compare
/// case-insensitively, but never as patterns (the API's filter is one).
fn at_sub(rec: &Record, sub: &str) -> bool {
    rec.sub_domain.eq_ignore_ascii_case(sub) && rec.field_type.eq_ignore_ascii_case("TXT")
}

/// OVHcloud DNS over an injected [`Sender`].
pub struct OvhDns<S> {
    sender: S,
    /// `nameServers` of each zone read this run: a zone probe already has
    /// them, and they don't change while a hook runs.
    nameservers: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// This run's zone listing: `Some(None)` when it was refused. Zones don't
    /// come and go while a hook runs, and certbot's last hook asks for each name.
    listing: std::sync::Mutex<Option<Option<Vec<String>>>>,
    /// Candidates probed this run that are no zone (404).
    not_zones: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Records known to this process, by id: read by id, or answered by the
    /// create. A listing still names the ids at a name on every read (so a
    /// record gone or new is seen); only ids not here are read one by one.
    known: std::sync::Mutex<std::collections::HashMap<u64, Record>>,
    /// Calls of one read that go out at once (`--parallel`).
    parallel: usize,
}

impl<S: Sender> OvhDns<S> {
    pub fn new(sender: S) -> Self {
        OvhDns {
            sender,
            nameservers: Default::default(),
            listing: Default::default(),
            not_zones: Default::default(),
            known: Default::default(),
            parallel: 1,
        }
    }

    /// Sends a read's several calls up to `n` at once.
    pub fn with_parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// The TXT records at each of `subs` from one listing of the zone's TXT
    /// ids, reading by id those not known (side by side); `None` when those
    /// are as many as the names or more: a listing per name costs less then.
    fn zone_records(&self, zone: &Zone, subs: &[String]) -> ApiResult<Option<Vec<Vec<Record>>>> {
        let seg = zone_segment(&zone.id)?;
        let r = self.call(
            "GET",
            &format!("/domain/zone/{seg}/record?fieldType=TXT"),
            None,
            Some(action::RECORD_GET),
        )?;
        let ids: Vec<u64> = decode("GET …/record", &r.body)?;
        let unknown: Vec<u64> = {
            let known = crate::sync::lock(&self.known);
            ids.iter()
                .copied()
                .filter(|id| !known.contains_key(id))
                .collect()
        };
        if unknown.len() >= subs.len() {
            return Ok(None);
        }
        // Every unknown id read, or an error: never a partial read.
        for got in crate::pool::run_all(self.parallel, unknown, |id| self.get_record(&seg, id)) {
            got?;
        }
        let known = crate::sync::lock(&self.known);
        Ok(Some(
            subs.iter()
                .map(|sub| {
                    ids.iter()
                        // Not known now: deleted between the listing and its read.
                        .filter_map(|id| known.get(id))
                        .filter(|rec| at_sub(rec, sub))
                        .cloned()
                        .collect()
                })
                .collect(),
        ))
    }

    /// One call; a non-2xx answer becomes an [`ApiError`] needing `action`.
    fn call(
        &self,
        method: &str,
        path_query: &str,
        body: Option<&[u8]>,
        action: Option<&str>,
    ) -> ApiResult<Response> {
        let resp = self.sender.send(method, path_query, body)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(api_error(resp.status, &resp.body, action))
        }
    }

    /// `GET /domain/zone` once per run: the zone names, or `None` when refused.
    fn listing(&self) -> ApiResult<Option<Vec<String>>> {
        if let Some(l) = &*crate::sync::lock(&self.listing) {
            return Ok(l.clone());
        }
        let l = match self.call("GET", "/domain/zone", None, None) {
            Ok(r) => Some(decode::<Vec<String>>("GET /domain/zone", &r.body)?),
            Err(e) if e.kind() == Kind::Permission => None,
            Err(e) => return Err(e),
        };
        *crate::sync::lock(&self.listing) = Some(l.clone());
        Ok(l)
    }

    /// A zone probe, remembered for the run: `None` when there is no such zone.
    fn probe(&self, name: &str) -> ApiResult<Option<Zone>> {
        let seg = zone_segment(name)?;
        if crate::sync::lock(&self.not_zones).contains(&seg) {
            return Ok(None);
        }
        if crate::sync::lock(&self.nameservers).contains_key(&seg) {
            return Ok(Some(Zone {
                name: absolute(&seg),
                id: seg,
            }));
        }
        let found = self.zone_info(&seg)?.map(|(z, _)| z);
        if found.is_none() {
            crate::sync::lock(&self.not_zones).insert(seg);
        }
        Ok(found)
    }

    /// `GET /domain/zone/{name}`: `None` when there is no such zone.
    fn zone_info(&self, name: &str) -> ApiResult<Option<(Zone, ZoneInfo)>> {
        let seg = zone_segment(name)?;
        match self.call(
            "GET",
            &format!("/domain/zone/{seg}"),
            None,
            Some(action::ZONE_GET),
        ) {
            Ok(r) => {
                let info: ZoneInfo = decode("GET /domain/zone/{zone}", &r.body)?;
                crate::sync::lock(&self.nameservers).insert(seg.clone(), info.name_servers.clone());
                let zone = Zone {
                    name: absolute(&seg),
                    id: seg,
                };
                Ok(Some((zone, info)))
            }
            Err(e) if e.kind() == Kind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The TXT records at `sub`, exactly (the API's filter is a pattern).
    fn records_at(&self, zone: &Zone, sub: &str) -> ApiResult<Vec<Record>> {
        let seg = zone_segment(&zone.id)?;
        let r = self.call(
            "GET",
            &format!(
                "/domain/zone/{seg}/record?fieldType=TXT&subDomain={}",
                crate::encoding::percent_encode(sub)
            ),
            None,
            Some(action::RECORD_GET),
        )?;
        let ids: Vec<u64> = decode("GET …/record", &r.body)?;
        let mut out = Vec::new();
        for id in ids {
            let known = crate::sync::lock(&self.known).get(&id).cloned();
            let rec = match known {
                Some(rec) => Some(rec),
                None => self.get_record(&seg, id)?,
            };
            let Some(rec) = rec else {
                // Deleted between the listing and now: it holds no value.
                continue;
            };
            if at_sub(&rec, sub) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// `GET …/record/{id}`, remembered; `None` when it is gone (404). Any
    /// other failure is an error: a listing is resolved completely or not at all.
    fn get_record(&self, seg: &str, id: u64) -> ApiResult<Option<Record>> {
        let rec = match self.call(
            "GET",
            &format!("/domain/zone/{seg}/record/{id}"),
            None,
            Some(action::RECORD_GET),
        ) {
            Ok(r) => decode::<Record>("GET …/record/{id}", &r.body)?,
            Err(e) if e.kind() == Kind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if rec.id != id {
            return Err(ApiError::Decode(format!(
                "GET …/record/{id} answered record {}",
                rec.id
            )));
        }
        crate::sync::lock(&self.known).insert(id, rec.clone());
        Ok(Some(rec))
    }
}

impl<S: Sender> DnsApi for OvhDns<S> {
    fn name(&self) -> &str {
        "OVHcloud DNS"
    }

    fn settled_word(&self) -> &'static str {
        "refreshed"
    }

    fn identity_word(&self) -> &'static str {
        "service account"
    }

    /// Records this host created (their ids journaled with their values):
    /// known without a GET; the id listing at the name still decides which
    /// of them are there. A record this process already read stays as read.
    fn known(&self, zone: &Zone, name: &str, known: &[(String, String)]) {
        let Some(sub) = sub_domain(name, zone) else {
            return;
        };
        let mut cache = crate::sync::lock(&self.known);
        for (id, value) in known {
            let Ok(id) = id.parse::<u64>() else { continue };
            cache.entry(id).or_insert_with(|| Record {
                id,
                sub_domain: sub.clone(),
                field_type: "TXT".into(),
                target: txt::unquote(value).to_string(),
                ttl: None,
            });
        }
    }

    fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<Zone>> {
        let cands = candidate_zones(fqdn);
        // A refused listing (a policy scoped to one zone may not grant it) is no error.
        if let Some(names) = self.listing()? {
            let found: Vec<Zone> = names
                .into_iter()
                .filter(|n| cands.contains(&absolute(n)))
                .map(|n| Zone {
                    name: absolute(&n),
                    id: n.trim_end_matches('.').to_ascii_lowercase(),
                })
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
            // A listing filtered by IAM may leave out a zone we may still
            // use (unconfirmed either way): probe before saying "no zone".
        }
        // The longest existing suffix is the zone: stop at the first found.
        // A single label is never an OVH zone: not probed.
        let mut refused = None;
        for cand in cands
            .iter()
            .filter(|c| c.trim_end_matches('.').contains('.'))
            // No zone starts with an underscore label (`_acme-challenge.…`): not a host name.
            .filter(|c| !c.starts_with('_'))
        {
            match self.probe(cand) {
                Ok(Some(z)) => return Ok(vec![z]),
                Ok(None) => {}
                Err(e) if e.kind() == Kind::Permission => {
                    refused.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match refused {
            // Nothing found and something refused: that refusal is the news.
            Some(e) => Err(e),
            None => Ok(Vec::new()),
        }
    }

    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        Ok(self.zone_info(name)?.map(|(z, _)| z))
    }

    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        if let Some(ns) = crate::sync::lock(&self.nameservers).get(&zone_segment(&zone.id)?) {
            return Ok(ns.clone());
        }
        match self.zone_info(&zone.id)? {
            Some((_, info)) => Ok(info.name_servers),
            None => Err(ApiError::status(
                404,
                None,
                format!("zone {} vanished", zone.id),
            )),
        }
    }

    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        let subs = names
            .iter()
            .map(|name| {
                sub_domain(name, zone)
                    .ok_or_else(|| ApiError::Decode(format!("{name} is not in zone {}", zone.name)))
            })
            .collect::<ApiResult<Vec<String>>>()?;
        let by_zone = if subs.len() > 1 {
            self.zone_records(zone, &subs)?
        } else {
            None
        };
        let recs = match by_zone {
            Some(recs) => recs,
            None => crate::pool::run_all(self.parallel, subs.iter().collect(), |sub| {
                self.records_at(zone, sub)
            })
            .into_iter()
            .collect::<ApiResult<Vec<_>>>()?,
        };
        Ok(names
            .iter()
            .zip(recs)
            .map(|(name, recs)| {
                if recs.is_empty() {
                    return TxtSet::absent(name);
                }
                TxtSet {
                    name: name.clone(),
                    ttl: recs.iter().find_map(|r| r.ttl),
                    records: recs.iter().map(|r| r.target.clone()).collect(),
                    ids: recs.iter().map(|r| r.id.to_string()).collect(),
                    status: Status::Settled,
                }
            })
            .collect())
    }

    fn write(&self, zone: &Zone, before: &TxtSet, after: &[String], ttl: u32) -> ApiResult<TxtSet> {
        let seg = zone_segment(&zone.id)?;
        let sub = sub_domain(&before.name, zone).ok_or_else(|| {
            ApiError::Decode(format!("{} is not in zone {}", before.name, zone.name))
        })?;
        // A value is the same quoted or not (OVH stores what it is sent).
        let holds =
            |set: &[String], r: &str| set.iter().any(|x| txt::unquote(x) == txt::unquote(r));
        // Checked before any call: a write is never computed from a partial read.
        if before.records.len() != before.ids.len()
            || before
                .ids
                .iter()
                .any(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ApiError::Decode(format!(
                "the read of {} does not pair each value with a record id",
                before.name
            )));
        }
        let mut records = Vec::new();
        let mut ids = Vec::new();
        // Removals: only records this run read, by the id it read.
        for (rec, id) in before.records.iter().zip(&before.ids) {
            if holds(after, rec) {
                records.push(rec.clone());
                ids.push(id.clone());
                continue;
            }
            match self.call(
                "DELETE",
                &format!("/domain/zone/{seg}/record/{id}"),
                None,
                Some(action::RECORD_DELETE),
            ) {
                Ok(_) => {}
                // Gone already: what we wanted.
                Err(e) if e.kind() == Kind::NotFound => {}
                Err(e) => return Err(e),
            }
            if let Ok(id) = id.parse::<u64>() {
                crate::sync::lock(&self.known).remove(&id);
            }
        }
        let mut added: Vec<String> = Vec::new();
        for value in after.iter().filter(|v| !holds(&before.records, v)) {
            // One record per value, even if `after` names it twice.
            if holds(&added, value) {
                continue;
            }
            added.push(value.clone());
            // Sent unquoted, as lego and acme.sh do.
            let body = serde_json::to_vec(&NewRecord {
                field_type: "TXT",
                sub_domain: &sub,
                target: txt::unquote(value),
                ttl,
            })
            .map_err(|e| ApiError::Decode(e.to_string()))?;
            let r = self.call(
                "POST",
                &format!("/domain/zone/{seg}/record"),
                Some(&body),
                Some(action::RECORD_CREATE),
            )?;
            let rec: Record = decode("POST …/record", &r.body)?;
            // The answer is the record: no GET for it later in this process.
            crate::sync::lock(&self.known).insert(rec.id, rec.clone());
            records.push(rec.target);
            ids.push(rec.id.to_string());
        }
        Ok(TxtSet {
            name: before.name.clone(),
            records,
            ids,
            ttl: Some(ttl),
            status: Status::Settled,
        })
    }

    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        let seg = zone_segment(&zone.id)?;
        self.call(
            "POST",
            &format!("/domain/zone/{seg}/refresh"),
            None,
            Some(action::REFRESH),
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// Answers by exact (method, path+query); records every request in order.
    #[derive(Default)]
    struct Fake {
        routes: Mutex<Vec<(String, String, VecDeque<Response>)>>,
        sent: Mutex<Vec<(String, String, Option<String>)>>,
    }

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    impl Fake {
        fn on(self, method: &str, path: &str, status: u16, body: &str) -> Self {
            {
                let mut r = crate::sync::lock(&self.routes);
                match r.iter_mut().find(|(m, p, _)| m == method && p == path) {
                    Some((_, _, q)) => q.push_back(resp(status, body)),
                    None => r.push((method.into(), path.into(), [resp(status, body)].into())),
                }
            }
            self
        }
        fn sent(&self) -> Vec<String> {
            crate::sync::lock(&self.sent)
                .iter()
                .map(|(m, p, b)| match b {
                    Some(b) => format!("{m} {p} {b}"),
                    None => format!("{m} {p}"),
                })
                .collect()
        }
    }

    impl Sender for Fake {
        fn send(&self, method: &str, path: &str, body: Option<&[u8]>) -> ApiResult<Response> {
            crate::sync::lock(&self.sent).push((
                method.into(),
                path.into(),
                body.map(|b| String::from_utf8_lossy(b).into_owned()),
            ));
            let mut routes = crate::sync::lock(&self.routes);
            let q = routes
                .iter_mut()
                .find(|(m, p, _)| m == method && p == path)
                .map(|(_, _, q)| q);
            match q {
                // The last answer repeats.
                Some(q) if q.len() > 1 => Ok(q.pop_front().unwrap()),
                Some(q) => Ok(q[0].clone()),
                None => Ok(resp(
                    404,
                    r#"{"class":"Client::NotFound","message":"This service does not exist"}"#,
                )),
            }
        }
    }

    fn zone() -> Zone {
        Zone {
            id: "example.com".into(),
            name: "example.com.".into(),
        }
    }

    fn rec(id: u64, sub: &str, target: &str) -> String {
        format!(
            r#"{{"id":{id},"zone":"example.com","subDomain":"{sub}","fieldType":"TXT","target":"{target}","ttl":60}}"#
        )
    }

    const LIST: &str =
        "/domain/zone/example.com/record?fieldType=TXT&subDomain=_acme-challenge.www";

    #[test]
    fn zone_listing_picks_suffixes_exactly() {
        let f = Fake::default().on(
            "GET",
            "/domain/zone",
            200,
            r#"["example.com","ample.com","www.example.com","other.org"]"#,
        );
        let dns = OvhDns::new(&f);
        let zones = dns
            .zones_holding("_acme-challenge.www.example.com.")
            .unwrap();
        let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["example.com.", "www.example.com."]);
        assert_eq!(zones[0].id, "example.com");
        assert_eq!(f.sent(), ["GET /domain/zone"]);
    }

    #[test]
    fn a_refused_listing_probes_suffixes_longest_first() {
        let denied =
            r#"{"class":"Client::Forbidden","message":"User not granted for this request"}"#;
        let f = Fake::default()
            .on("GET", "/domain/zone", 403, denied)
            .on(
                "GET",
                "/domain/zone/_acme-challenge.a.example.com",
                403,
                denied,
            )
            .on(
                "GET",
                "/domain/zone/example.com",
                200,
                r#"{"name":"example.com","nameServers":["dns1.ovh.net","ns1.ovh.net"]}"#,
            );
        let dns = OvhDns::new(&f);
        let zones = dns.zones_holding("_acme-challenge.a.example.com.").unwrap();
        assert_eq!(zones, [zone()]);
        // `_acme-challenge.…` is no host name, so never a zone: not asked for.
        assert_eq!(
            f.sent(),
            [
                "GET /domain/zone",
                "GET /domain/zone/a.example.com",
                "GET /domain/zone/example.com",
            ]
        );
        // The probe read the nameservers already: not asked again.
        assert_eq!(
            dns.nameservers(&zone()).unwrap(),
            ["dns1.ovh.net", "ns1.ovh.net"]
        );
        assert_eq!(f.sent().len(), 3);
        // Another name of the run: the refused listing and the probes are remembered.
        let zones = dns
            .zones_holding("_acme-challenge.b.a.example.com.")
            .unwrap();
        assert_eq!(zones, [zone()]);
        assert_eq!(
            f.sent()[3..],
            ["GET /domain/zone/b.a.example.com"],
            "only the new candidate is asked"
        );
        // Nothing found, something refused: the refusal, with the action it lacks.
        let f = Fake::default().on("GET", "/domain/zone", 403, denied).on(
            "GET",
            "/domain/zone/example.org",
            403,
            denied,
        );
        let e = OvhDns::new(&f).zones_holding("example.org.").unwrap_err();
        assert_eq!(e.kind(), Kind::Permission);
        assert!(
            e.to_string()
                .contains("needs IAM action dnsZone:apiovh:get"),
            "{e}"
        );
        // Nothing anywhere: no zone.
        let f = Fake::default().on("GET", "/domain/zone", 403, denied);
        assert_eq!(OvhDns::new(&f).zones_holding("x.example.net.").unwrap(), []);
        // A listing without the zone is not the last word either.
        let f = Fake::default()
            .on("GET", "/domain/zone", 200, r#"["other.org"]"#)
            .on(
                "GET",
                "/domain/zone/example.com",
                200,
                r#"{"nameServers":[]}"#,
            );
        assert_eq!(
            OvhDns::new(&f).zones_holding("a.example.com.").unwrap(),
            [zone()]
        );
        assert_eq!(
            f.sent(),
            [
                "GET /domain/zone",
                "GET /domain/zone/a.example.com",
                "GET /domain/zone/example.com"
            ]
        );
    }

    #[test]
    fn zone_named_and_nameservers() {
        let f = Fake::default().on(
            "GET",
            "/domain/zone/example.com",
            200,
            r#"{"name":"example.com","nameServers":["dns10.ovh.net","ns10.ovh.net"]}"#,
        );
        let dns = OvhDns::new(&f);
        assert_eq!(dns.zone_named("Example.COM.").unwrap(), Some(zone()));
        assert_eq!(dns.zone_named("example.net.").unwrap(), None);
        assert_eq!(
            dns.nameservers(&zone()).unwrap(),
            ["dns10.ovh.net", "ns10.ovh.net"]
        );
        assert!(dns.zone_named("bad/../name").is_err());
    }

    #[test]
    fn several_names_are_read_from_one_zone_listing_when_it_costs_less() {
        const ZONE_TXT: &str = "/domain/zone/example.com/record?fieldType=TXT";
        let names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| format!("_acme-challenge.{n}.example.com."))
            .collect();
        let f = Fake::default()
            .on("GET", ZONE_TXT, 200, "[10,11,12]")
            .on(
                "GET",
                "/domain/zone/example.com/record/10",
                200,
                &rec(10, "_acme-challenge.A", "va"),
            )
            // Someone else's TXT elsewhere in the zone.
            .on(
                "GET",
                "/domain/zone/example.com/record/11",
                200,
                &rec(11, "", "v=spf1 -all"),
            );
        // 12 is ours, known from the journal: never read by id. 10 and 11
        // are fewer than the 3 names: read by id, side by side.
        let dns = OvhDns::new(&f).with_parallel(4);
        dns.known(
            &zone(),
            &names[2],
            &[("12".into(), "vc".into()), ("99".into(), "gone".into())],
        );
        let at = dns.read(&zone(), &names).unwrap();
        assert_eq!(at[0].records, ["va"]);
        assert_eq!(at[0].ids, ["10"]);
        assert_eq!(at[1], TxtSet::absent(&names[1]));
        assert_eq!(
            (at[2].records.clone(), at[2].ids.clone()),
            (vec!["vc".to_string()], vec!["12".to_string()]),
            "the known record 99 is not listed: not there"
        );
        let mut sent = f.sent();
        sent.sort();
        assert_eq!(
            sent,
            [
                "GET /domain/zone/example.com/record/10",
                "GET /domain/zone/example.com/record/11",
                "GET /domain/zone/example.com/record?fieldType=TXT",
            ]
        );
        // Read again in the same process: the listing alone.
        dns.read(&zone(), &names).unwrap();
        assert_eq!(f.sent().len(), 4);

        // As many unknown ids as names: a listing per name instead.
        let per = |n: &str| format!("{ZONE_TXT}&subDomain=_acme-challenge.{n}");
        let f = Fake::default()
            .on("GET", ZONE_TXT, 200, "[20,21,22]")
            .on("GET", &per("a"), 200, "[]")
            .on("GET", &per("b"), 200, "[]")
            .on("GET", &per("c"), 200, "[]");
        let at = OvhDns::new(&f)
            .with_parallel(4)
            .read(&zone(), &names)
            .unwrap();
        assert!(at.iter().all(|t| !t.exists()));
        let mut sent = f.sent();
        sent.sort();
        let mut want = vec![format!("GET {ZONE_TXT}")];
        want.extend(["a", "b", "c"].map(|n| format!("GET {}", per(n))));
        want.sort();
        assert_eq!(sent, want);

        // An unknown id whose read fails: an error, never a partial read.
        let f = Fake::default().on("GET", ZONE_TXT, 200, "[30]").on(
            "GET",
            "/domain/zone/example.com/record/30",
            503,
            "",
        );
        let e = OvhDns::new(&f).read(&zone(), &names).unwrap_err();
        assert!(e.is_transient());
    }

    #[test]
    fn read_compares_sub_domain_exactly_and_skips_vanished_ids() {
        let f = Fake::default()
            .on("GET", LIST, 200, "[1,2,3,4,5]")
            .on(
                "GET",
                "/domain/zone/example.com/record/1",
                200,
                &rec(1, "_acme-challenge.www", "v1"),
            )
            // `_` of the filter matched another name: not ours.
            .on(
                "GET",
                "/domain/zone/example.com/record/2",
                200,
                &rec(2, "xacme-challenge.www", "v2"),
            )
            .on(
                "GET",
                "/domain/zone/example.com/record/3",
                200,
                &rec(3, "_ACME-challenge.www", "\\\"v3\\\""),
            )
            // 4 is gone (404 by default).
            .on(
                "GET",
                "/domain/zone/example.com/record/5",
                200,
                r#"{"id":5,"subDomain":"_acme-challenge.www","fieldType":"SPF","target":"v=spf1"}"#,
            );
        let dns = OvhDns::new(&f);
        let at = dns
            .read(&zone(), &["_acme-challenge.www.example.com.".to_string()])
            .unwrap();
        assert_eq!(at[0].records, ["v1", "\"v3\""]);
        assert_eq!(at[0].ids, ["1", "3"]);
        assert_eq!(at[0].ttl, Some(60));
        assert!(at[0].is_settled());
        // The apex is "".
        let f = Fake::default().on(
            "GET",
            "/domain/zone/example.com/record?fieldType=TXT&subDomain=",
            200,
            "[]",
        );
        let at = OvhDns::new(&f)
            .read(&zone(), &["example.com.".to_string()])
            .unwrap();
        assert_eq!(at[0], TxtSet::absent("example.com."));
        // A failing record read is an error, never a partial read.
        let f = Fake::default().on("GET", LIST, 200, "[1]").on(
            "GET",
            "/domain/zone/example.com/record/1",
            503,
            "",
        );
        let e = OvhDns::new(&f)
            .read(&zone(), &["_acme-challenge.www.example.com.".to_string()])
            .unwrap_err();
        assert!(e.is_transient());
    }

    #[test]
    fn a_null_sub_domain_is_the_apex() {
        // The schema allows `null` where real answers send "" (ovh-api.md "Corrections").
        let apex_list = "/domain/zone/example.com/record?fieldType=TXT&subDomain=";
        let f = Fake::default()
            .on("GET", apex_list, 200, "[7,8,9]")
            .on(
                "GET",
                "/domain/zone/example.com/record/7",
                200,
                r#"{"id":7,"zone":"example.com","subDomain":null,"fieldType":"TXT","target":"\"ours\"","ttl":60}"#,
            )
            .on(
                "GET",
                "/domain/zone/example.com/record/8",
                200,
                r#"{"id":8,"zone":"example.com","fieldType":"TXT","target":"\"absent-field\"","ttl":60}"#,
            )
            .on(
                "GET",
                "/domain/zone/example.com/record/9",
                200,
                r#"{"id":9,"zone":"example.com","subDomain":"www","fieldType":"TXT","target":"\"not-apex\"","ttl":60}"#,
            );
        let at = OvhDns::new(&f)
            .read(&zone(), &["example.com.".to_string()])
            .unwrap();
        assert_eq!(at[0].records, ["\"ours\"", "\"absent-field\""]);
        assert_eq!(at[0].ids, ["7", "8"]);
        // Nor is a null the apex when reading another name.
        let f = Fake::default().on("GET", LIST, 200, "[7]").on(
            "GET",
            "/domain/zone/example.com/record/7",
            200,
            r#"{"id":7,"subDomain":null,"fieldType":"TXT","target":"x"}"#,
        );
        let at = OvhDns::new(&f)
            .read(&zone(), &["_acme-challenge.www.example.com.".to_string()])
            .unwrap();
        assert!(at[0].records.is_empty(), "{at:?}");
        // A created record answered with a null subDomain is read as written.
        let f = Fake::default().on(
            "POST",
            "/domain/zone/example.com/record",
            200,
            r#"{"id":11,"zone":"example.com","subDomain":null,"fieldType":"TXT","target":"\"v\"","ttl":60}"#,
        );
        let w = OvhDns::new(&f)
            .write(
                &zone(),
                &TxtSet::absent("example.com."),
                &["v".to_string()],
                60,
            )
            .unwrap();
        assert_eq!(
            (w.records, w.ids),
            (vec!["\"v\"".to_string()], vec!["11".to_string()])
        );
    }

    #[test]
    fn write_posts_added_values_and_deletes_only_ids_read() {
        let f = Fake::default()
            .on(
                "POST",
                "/domain/zone/example.com/record",
                200,
                &rec(9, "_acme-challenge.www", "new"),
            )
            .on("DELETE", "/domain/zone/example.com/record/3", 200, "null");
        let dns = OvhDns::new(&f);
        let before = TxtSet {
            name: "_acme-challenge.www.example.com.".into(),
            records: vec!["foreign".into(), "\"old\"".into()],
            ids: vec!["1".into(), "3".into()],
            ttl: Some(60),
            status: Status::Settled,
        };
        // The flow hands values quoted; the foreign one stays as read.
        let after = ["foreign".to_string(), "\"new\"".to_string()];
        let got = dns.write(&zone(), &before, &after, 300).unwrap();
        assert_eq!(
            f.sent(),
            [
                "DELETE /domain/zone/example.com/record/3",
                r#"POST /domain/zone/example.com/record {"fieldType":"TXT","subDomain":"_acme-challenge.www","target":"new","ttl":300}"#,
            ]
        );
        assert_eq!(got.records, ["foreign", "new"]);
        assert_eq!(got.ids, ["1", "9"]);
        // A value named twice is one record.
        let f = Fake::default().on(
            "POST",
            "/domain/zone/example.com/record",
            200,
            &rec(11, "", "d"),
        );
        OvhDns::new(&f)
            .write(
                &zone(),
                &TxtSet::absent("example.com."),
                &["d".to_string(), "\"d\"".to_string()],
                60,
            )
            .unwrap();
        assert_eq!(f.sent().len(), 1);
        // Nothing to do: no call. Quoted or not is the same value.
        let f = Fake::default();
        let same = ["\"foreign\"".to_string(), "old".to_string()];
        OvhDns::new(&f).write(&zone(), &before, &same, 300).unwrap();
        assert!(f.sent().is_empty());
        // Apex and a record already gone.
        let f = Fake::default().on(
            "POST",
            "/domain/zone/example.com/record",
            200,
            &rec(10, "", "a"),
        );
        let apex = TxtSet {
            name: "example.com.".into(),
            records: vec!["gone".into()],
            ids: vec!["7".into()],
            ttl: None,
            status: Status::Settled,
        };
        let got = OvhDns::new(&f)
            .write(&zone(), &apex, &["a".to_string()], 60)
            .unwrap();
        assert_eq!(got.ids, ["10"]);
        assert_eq!(
            f.sent()[1],
            r#"POST /domain/zone/example.com/record {"fieldType":"TXT","subDomain":"","target":"a","ttl":60}"#
        );
    }

    #[test]
    fn a_write_with_unknown_outcome_is_reported_not_repeated() {
        let f = Fake::default().on("POST", "/domain/zone/example.com/record", 502, "");
        let e = OvhDns::new(&f)
            .write(
                &zone(),
                &TxtSet::absent("example.com."),
                &["a".to_string()],
                60,
            )
            .unwrap_err();
        assert!(e.is_transient());
        assert_eq!(f.sent().len(), 1);
    }

    #[test]
    fn a_read_without_ids_is_refused_before_any_call() {
        let f = Fake::default();
        let before = TxtSet {
            name: "example.com.".into(),
            records: vec!["a".into(), "b".into()],
            ids: vec!["1".into()],
            ttl: None,
            status: Status::Settled,
        };
        assert!(OvhDns::new(&f).write(&zone(), &before, &[], 60).is_err());
        let before = TxtSet {
            ids: vec!["1".into(), "../2".into()],
            ..before
        };
        assert!(OvhDns::new(&f).write(&zone(), &before, &[], 60).is_err());
        assert!(f.sent().is_empty());
    }

    #[test]
    fn commit_is_one_refresh() {
        let f = Fake::default().on("POST", "/domain/zone/example.com/refresh", 200, "null");
        OvhDns::new(&f).commit(&zone()).unwrap();
        assert_eq!(f.sent(), ["POST /domain/zone/example.com/refresh"]);
    }

    #[test]
    fn iam_denials_name_the_action_and_the_fix() {
        let body = r#"{"class":"Client::Forbidden","message":"User not granted for this request","details":{"unauthorizedActionsByIAM":"dnsZone:apiovh:record/create"}}"#;
        let f = Fake::default().on("POST", "/domain/zone/example.com/record", 403, body);
        let e = OvhDns::new(&f)
            .write(
                &zone(),
                &TxtSet::absent("example.com."),
                &["a".to_string()],
                60,
            )
            .unwrap_err();
        assert_eq!(e.kind(), Kind::Permission);
        assert_eq!(e.code(), Some("Client::Forbidden"));
        assert_eq!(
            e.to_string(),
            "HTTP 403 Client::Forbidden: User not granted for this request (missing IAM action dnsZone:apiovh:record/create)"
        );
        assert!(e.hint().unwrap().contains("IAM policy"));
        // Without details, the action the call needs.
        let e = api_error(
            403,
            br#"{"class":"Client::Forbidden","message":"no"}"#,
            Some(action::REFRESH),
        );
        assert!(
            e.to_string()
                .contains("needs IAM action dnsZone:apiovh:refresh"),
            "{e}"
        );
        // Arrays are read too.
        let e = api_error(
            403,
            br#"{"message":"no","details":{"unauthorizedActionsByIAM":["a:b","c:d"]}}"#,
            None,
        );
        assert!(e.to_string().contains("missing IAM action a:b, c:d"), "{e}");
    }

    #[test]
    fn sub_domains() {
        assert_eq!(sub_domain("example.com.", &zone()).as_deref(), Some(""));
        assert_eq!(
            sub_domain("_acme-challenge.a.b.example.com.", &zone()).as_deref(),
            Some("_acme-challenge.a.b")
        );
        assert_eq!(sub_domain("xexample.com.", &zone()), None);
        assert_eq!(crate::encoding::percent_encode("a b+c_d"), "a%20b%2Bc_d");
    }

    const NAME: &str = "_acme-challenge.www.example.com.";

    fn gets_by_id(f: &Fake) -> usize {
        f.sent()
            .iter()
            .filter(|s| s.starts_with("GET /domain/zone/example.com/record/"))
            .count()
    }

    #[test]
    fn a_record_is_read_by_id_once_per_process_and_every_read_lists_the_ids() {
        let f = Fake::default()
            .on("GET", LIST, 200, "[1]")
            .on("GET", LIST, 200, "[1,2]")
            .on("GET", LIST, 200, "[2]")
            .on(
                "GET",
                "/domain/zone/example.com/record/1",
                200,
                &rec(1, "_acme-challenge.www", "theirs"),
            )
            .on(
                "GET",
                "/domain/zone/example.com/record/2",
                200,
                &rec(2, "_acme-challenge.www", "new"),
            );
        let dns = OvhDns::new(&f);
        let names = [NAME.to_string()];
        let first = dns.read(&zone(), &names).unwrap().pop().unwrap();
        assert_eq!(
            (&first.records[..], &first.ids[..]),
            (&["theirs".to_string()][..], &["1".to_string()][..])
        );
        assert_eq!(gets_by_id(&f), 1);
        // The re-read lists again: a new record is seen (and read), a known one is not.
        let again = dns.reread(&zone(), &first).unwrap();
        assert_eq!(again.ids, ["1", "2"]);
        assert_eq!(again.records, ["theirs", "new"]);
        assert_eq!(gets_by_id(&f), 2);
        // Record 1 gone from the listing: gone from the read.
        let last = dns.read(&zone(), &names).unwrap().pop().unwrap();
        assert_eq!(last.ids, ["2"]);
        assert_eq!(gets_by_id(&f), 2, "{:?}", f.sent());
        assert_eq!(
            f.sent()
                .iter()
                .filter(|s| s.starts_with("GET /domain/zone/example.com/record?"))
                .count(),
            3
        );
    }

    #[test]
    fn a_created_record_is_known_by_its_answer_and_never_read_by_id() {
        let f = Fake::default()
            .on("GET", LIST, 200, "[]")
            .on("GET", LIST, 200, "[7]")
            .on(
                "POST",
                "/domain/zone/example.com/record",
                200,
                &rec(7, "_acme-challenge.www", "ours"),
            );
        let dns = OvhDns::new(&f);
        let names = [NAME.to_string()];
        let before = dns.read(&zone(), &names).unwrap().pop().unwrap();
        dns.write(&zone(), &before, &["ours".to_string()], 60)
            .unwrap();
        let after = dns.read(&zone(), &names).unwrap().pop().unwrap();
        assert_eq!(
            (after.records, after.ids),
            (vec!["ours".to_string()], vec!["7".to_string()])
        );
        assert_eq!(gets_by_id(&f), 0, "{:?}", f.sent());
    }

    #[test]
    fn an_id_that_cannot_be_read_is_an_error_never_a_shorter_read() {
        let f = Fake::default()
            .on("GET", LIST, 200, "[1,2,3]")
            .on(
                "GET",
                "/domain/zone/example.com/record/1",
                200,
                &rec(1, "_acme-challenge.www", "a"),
            )
            .on(
                "GET",
                "/domain/zone/example.com/record/2",
                500,
                r#"{"class":"Server::InternalServerError","message":"boom"}"#,
            );
        let dns = OvhDns::new(&f);
        assert!(dns.read(&zone(), &[NAME.to_string()]).is_err());
        // An answer naming another record is no answer for this id.
        let f = Fake::default().on("GET", LIST, 200, "[1]").on(
            "GET",
            "/domain/zone/example.com/record/1",
            200,
            &rec(9, "_acme-challenge.www", "a"),
        );
        let dns = OvhDns::new(&f);
        assert!(dns.read(&zone(), &[NAME.to_string()]).is_err());
        // Gone (404) between the listing and the GET: no value there, and no error.
        let f = Fake::default().on("GET", LIST, 200, "[4]");
        let dns = OvhDns::new(&f);
        assert!(!dns.read(&zone(), &[NAME.to_string()]).unwrap()[0].exists());
    }
}
