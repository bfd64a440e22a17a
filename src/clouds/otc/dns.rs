//! OTC DNS v2 (also Huawei Cloud DNS: same API and signer).
//! API reference: <https://docs.otc.t-systems.com/domain-name-service/api-ref/>

use serde::de::DeserializeOwned;

use std::collections::HashMap;
use std::sync::Mutex;

use super::errors::status_error;
use super::types::{
    CreateBody, Links, NameServers, RecordSet, RecordSetList, UpdateBody, Zone, ZoneList,
};
use crate::api_error::{ApiError, ApiResult};
use crate::cloud_api::{self, DnsApi, Sender, Status, TxtSet};
use crate::encoding::percent_encode;
use crate::http::{Response, Url};
use crate::zone;

/// Description of the recordsets we create.
pub const DESCRIPTION: &str = "ACME DNS-01 challenge; managed by otc-acme-hook";

/// Default public DNS endpoint: public zones live there for every OTC region.
pub const DEFAULT_ENDPOINT: &str = "https://dns.eu-de.otc.t-systems.com";

/// Pages followed at most in one listing (500 items each).
const MAX_PAGES: usize = 200;

/// OTC DNS v2 over an injected [`Sender`] (signing, retries and the clock
/// correction are its business: [`super::signed::DnsSender`]), whose base is
/// the endpoint's origin: paths here are absolute on that host, as the
/// pagination links name them.
pub struct OtcDns<S> {
    sender: S,
    /// Its path is put in front of every call's; its origin is the only one
    /// a pagination link may point to.
    endpoint: Url,
    /// The public zones, listed once per process (every page): the last hook
    /// of a certbot run looks up the zone of every name, and zones don't come
    /// and go while a hook runs. Each name is matched against it here.
    zones: Mutex<Option<Vec<Zone>>>,
    /// The sets last read, by id: an update sends back their TTL and description.
    sets: Mutex<HashMap<String, RecordSet>>,
}

impl<S: Sender> OtcDns<S> {
    pub fn new(sender: S, endpoint: Url) -> Self {
        OtcDns {
            sender,
            endpoint,
            zones: Default::default(),
            sets: Default::default(),
        }
    }

    pub fn sender(&self) -> &S {
        &self.sender
    }

    /// Sends; a non-2xx answer becomes OTC's error ([`status_error`]).
    fn call(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        let resp = self.sender.send(method, path_and_query, body)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(status_error(&resp))
        }
    }

    /// `path` under the endpoint's path, with `query` encoded (the signer
    /// decodes it again and signs it sorted).
    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut out = self.endpoint.join(path).path;
        for (i, (k, v)) in query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&percent_encode(k));
            out.push('=');
            out.push_str(&percent_encode(v));
        }
        out
    }

    fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> ApiResult<T> {
        let resp = self.call("GET", path_and_query, None)?;
        decode(&resp.body)
    }

    /// Follows `links.next` (same origin only: a signed request never goes
    /// elsewhere). A listing is complete or an error: a link seen before (a
    /// loop) or past [`MAX_PAGES`] is never taken for the end of the list.
    /// The next page's path and query, as the link has them.
    fn next_page(&self, links: Option<Links>, seen: &mut Vec<String>) -> ApiResult<Option<String>> {
        let Some(next) = links.and_then(|l| l.next).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        if seen.contains(&next) {
            return Err(ApiError::Decode(
                "the listing's next page is one already read (a pagination loop)".into(),
            ));
        }
        if seen.len() >= MAX_PAGES {
            return Err(ApiError::Decode(format!(
                "the listing goes on past {MAX_PAGES} pages"
            )));
        }
        seen.push(next.clone());
        let url = Url::parse(&next).map_err(ApiError::Decode)?;
        if url.origin() != self.endpoint.origin() {
            return Err(ApiError::Decode(format!(
                "pagination link points to another host ({})",
                url.origin()
            )));
        }
        Ok(Some(match url.query {
            Some(q) => format!("{}?{q}", url.path),
            None => url.path,
        }))
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        let start: String = crate::redact::scrub_server_text(&String::from_utf8_lossy(body))
            .chars()
            .take(40)
            .collect();
        ApiError::Decode(format!("expected JSON ({e}); got {:?}", start.trim()))
    })
}

/// The DNS v2 calls, in the API's own terms.
impl<S: Sender> OtcDns<S> {
    /// Public zones whose name contains `filter` (every public zone: `""`).
    pub fn public_zones(&self, filter: &str) -> ApiResult<Vec<Zone>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let mut query = vec![("type", "public"), ("limit", "500")];
        if !filter.is_empty() {
            query.push(("name", filter));
        }
        let mut page: ZoneList = self.get_json(&self.url("/v2/zones", &query))?;
        loop {
            out.extend(page.zones.into_iter().filter(Zone::is_public));
            match self.next_page(page.links, &mut seen)? {
                Some(next) => page = self.get_json(&next)?,
                None => return Ok(out),
            }
        }
    }

    pub fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        let ns: NameServers =
            self.get_json(&self.url(&format!("/v2/zones/{}/nameservers", zone.id), &[]))?;
        Ok(ns
            .nameservers
            .into_iter()
            .filter_map(|n| n.hostname.or(n.address))
            .collect())
    }

    /// The zone's TXT sets whose name contains `filter` (every one: `""`),
    /// every page of them.
    pub fn txt_sets(&self, zone: &Zone, filter: &str) -> ApiResult<Vec<RecordSet>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let mut query = vec![("type", "TXT"), ("limit", "500")];
        if !filter.is_empty() {
            query.insert(0, ("name", filter));
        }
        let mut page: RecordSetList =
            self.get_json(&self.url(&format!("/v2/zones/{}/recordsets", zone.id), &query))?;
        loop {
            out.extend(
                page.recordsets
                    .into_iter()
                    .filter(|r| r.rtype.eq_ignore_ascii_case("TXT")),
            );
            match self.next_page(page.links, &mut seen)? {
                Some(next) => page = self.get_json(&next)?,
                None => return Ok(out),
            }
        }
    }

    pub fn get(&self, zone: &Zone, id: &str) -> ApiResult<Option<RecordSet>> {
        let url = self.url(&format!("/v2/zones/{}/recordsets/{id}", zone.id), &[]);
        match self.get_json(&url) {
            Ok(rs) => Ok(Some(rs)),
            Err(e) if e.http_status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn create_txt(
        &self,
        zone: &Zone,
        name: &str,
        ttl: u32,
        records: &[String],
        description: &str,
    ) -> ApiResult<RecordSet> {
        let body = serde_json::to_vec(&CreateBody {
            name,
            rtype: "TXT",
            ttl,
            records,
            description,
        })
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let url = self.url(&format!("/v2/zones/{}/recordsets", zone.id), &[]);
        let resp = self.call("POST", &url, Some(&body))?;
        decode(&resp.body)
    }

    pub fn update_records(
        &self,
        zone: &Zone,
        set: &RecordSet,
        records: &[String],
    ) -> ApiResult<RecordSet> {
        let body = serde_json::to_vec(&UpdateBody {
            name: &set.name,
            rtype: &set.rtype,
            ttl: set.ttl,
            records,
            description: set.description.as_deref(),
        })
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let url = self.url(&format!("/v2/zones/{}/recordsets/{}", zone.id, set.id), &[]);
        let resp = self.call("PUT", &url, Some(&body))?;
        decode(&resp.body)
    }

    pub fn delete(&self, zone: &Zone, set: &RecordSet) -> ApiResult<()> {
        let url = self.url(&format!("/v2/zones/{}/recordsets/{}", zone.id, set.id), &[]);
        let resp = self.call("DELETE", &url, None)?;
        // The service answers with the set (PENDING_DELETE); anything else (an HTML
        // page from a proxy, say) leaves the outcome unknown: the caller re-reads.
        if !resp.body.iter().all(u8::is_ascii_whitespace) {
            decode::<serde_json::Value>(&resp.body)?;
        }
        Ok(())
    }
}

/// A recordset in the flow's terms.
fn txt_set(set: &RecordSet) -> TxtSet {
    let status = match set.status.as_deref() {
        None | Some("ACTIVE") => Status::Settled,
        Some(p) if p.starts_with("PENDING") => Status::Pending(p.to_string()),
        // ERROR, and any state we don't know (FREEZE, DISABLE): not to be waited for.
        Some(other) => Status::Failed(other.to_string()),
    };
    TxtSet {
        name: set.name.to_ascii_lowercase(),
        records: set.records.clone(),
        ids: vec![set.id.clone()],
        ttl: set.ttl,
        status,
    }
}

fn zone_of(z: &Zone) -> cloud_api::Zone {
    cloud_api::Zone {
        id: z.id.clone(),
        name: z.name.clone(),
    }
}

fn wire_zone(z: &cloud_api::Zone) -> Zone {
    Zone {
        id: z.id.clone(),
        name: z.name.clone(),
        zone_type: None,
    }
}

impl<S: Sender> OtcDns<S> {
    fn remember(&self, set: &RecordSet) -> TxtSet {
        crate::sync::lock(&self.sets).insert(set.id.clone(), set.clone());
        txt_set(set)
    }

    /// Every public zone, listed on first use only.
    fn listing(&self) -> ApiResult<Vec<Zone>> {
        if let Some(z) = &*crate::sync::lock(&self.zones) {
            return Ok(z.clone());
        }
        let z = self.public_zones("")?;
        *crate::sync::lock(&self.zones) = Some(z.clone());
        Ok(z)
    }

    /// The set named exactly `name`, if any.
    fn find(&self, zone: &Zone, name: &str) -> ApiResult<Option<RecordSet>> {
        Ok(self
            .txt_sets(zone, name)?
            .into_iter()
            .find(|r| r.name.eq_ignore_ascii_case(name)))
    }
}

impl<S: Sender> DnsApi for OtcDns<S> {
    fn name(&self) -> &str {
        "OTC DNS"
    }

    fn record_word(&self) -> &'static str {
        "recordset"
    }

    fn identity_word(&self) -> &'static str {
        "agency"
    }

    /// The zones among `fqdn`'s suffixes, from the process's one listing.
    fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<cloud_api::Zone>> {
        let cands = zone::candidate_zones(fqdn);
        Ok(self
            .listing()?
            .iter()
            .filter(|z| cands.contains(&zone::absolute(&z.name)))
            .map(zone_of)
            .collect())
    }

    /// From the process's listing when there is one; else (a forced zone,
    /// asked once a run) a listing filtered by the name: one call either way.
    fn zone_named(&self, name: &str) -> ApiResult<Option<cloud_api::Zone>> {
        let want = zone::absolute(name);
        let listed = crate::sync::lock(&self.zones).clone();
        let zones = match listed {
            Some(z) => z,
            None => self.public_zones(want.trim_end_matches('.'))?,
        };
        Ok(zones
            .iter()
            .find(|z| zone::absolute(&z.name) == want)
            .map(zone_of))
    }

    fn nameservers(&self, zone: &cloud_api::Zone) -> ApiResult<Vec<String>> {
        OtcDns::nameservers(self, &wire_zone(zone))
    }

    /// One name: a listing filtered by it (a small answer); several names:
    /// one TXT listing of the zone, every page (of its challenge names where
    /// they all are, else of every TXT set), never one listing per name.
    fn read(&self, zone: &cloud_api::Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        let z = wire_zone(zone);
        let sets: Vec<Option<RecordSet>> = if names.len() > 1 {
            let challenges = names.iter().all(|n| n.starts_with("_acme-challenge."));
            let all = self.txt_sets(&z, if challenges { "_acme-challenge" } else { "" })?;
            names
                .iter()
                .map(|n| all.iter().find(|s| s.name.eq_ignore_ascii_case(n)).cloned())
                .collect()
        } else {
            names
                .iter()
                .map(|n| self.find(&z, n))
                .collect::<ApiResult<_>>()?
        };
        Ok(names
            .iter()
            .zip(sets)
            .map(|(n, s)| match s {
                Some(s) => self.remember(&s),
                None => TxtSet::absent(n),
            })
            .collect())
    }

    /// The set read by its id: a full, fresh read of that very set.
    fn reread(&self, zone: &cloud_api::Zone, at: &TxtSet) -> ApiResult<TxtSet> {
        let Some(id) = at.ids.first() else {
            let mut v = self.read(zone, std::slice::from_ref(&at.name))?;
            return Ok(v.pop().unwrap_or_else(|| TxtSet::absent(&at.name)));
        };
        Ok(match self.get(&wire_zone(zone), id)? {
            Some(s) => self.remember(&s),
            None => TxtSet::absent(&at.name),
        })
    }

    /// A new set when there is none; the whole set replaced (OTC has no
    /// conditional update); the set deleted when nothing is left.
    fn write(
        &self,
        zone: &cloud_api::Zone,
        before: &TxtSet,
        after: &[String],
        ttl: u32,
    ) -> ApiResult<TxtSet> {
        let z = wire_zone(zone);
        let Some(id) = before.ids.first() else {
            let set = self.create_txt(&z, &before.name, ttl, after, DESCRIPTION)?;
            return Ok(self.remember(&set));
        };
        let set = crate::sync::lock(&self.sets)
            .get(id)
            .cloned()
            .unwrap_or(RecordSet {
                id: id.clone(),
                name: before.name.clone(),
                rtype: "TXT".into(),
                ttl: before.ttl,
                records: before.records.clone(),
                status: None,
                description: None,
            });
        if after.is_empty() {
            self.delete(&z, &set)?;
            return Ok(TxtSet {
                status: Status::Pending("PENDING_DELETE".into()),
                records: Vec::new(),
                ..before.clone()
            });
        }
        let updated = self.update_records(&z, &set, after)?;
        Ok(self.remember(&updated))
    }

    /// Nothing to send: a change is served once its set is `ACTIVE`, which
    /// [`read`](DnsApi::read) reports.
    fn commit(&self, _zone: &cloud_api::Zone) -> ApiResult<()> {
        Ok(())
    }

    fn whole_set_writes(&self) -> bool {
        true
    }

    fn settled_word(&self) -> &'static str {
        "ACTIVE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::clouds::otc::credentials::Credentials;
    use crate::clouds::otc::signed::{DnsSender, SignedClient};
    use crate::http::{Response, Transport, TransportError};
    use crate::redact::Secret;
    use crate::report::{Level, Report};
    use std::sync::Arc;

    const BASE: &str = "https://dns.test";

    /// A route: a part of the URL, and its answers (status, body) in order.
    type Route = (String, Vec<(u16, String)>);

    /// Answers the first route whose key the URL contains (the last answer of
    /// a route repeats); records every URL asked for.
    #[derive(Default)]
    struct Fake {
        routes: std::sync::Mutex<Vec<Route>>,
        seen: std::sync::Mutex<Vec<String>>,
    }

    impl Fake {
        fn on(self, key: &str, status: u16, body: &str) -> Self {
            {
                let mut r = crate::sync::lock(&self.routes);
                match r.iter_mut().find(|(k, _)| k == key) {
                    Some((_, q)) => q.push((status, body.to_string())),
                    None => r.push((key.to_string(), vec![(status, body.to_string())])),
                }
            }
            self
        }
        fn asked(&self, part: &str) -> usize {
            crate::sync::lock(&self.seen)
                .iter()
                .filter(|u| u.contains(part))
                .count()
        }
    }

    impl Transport for Fake {
        fn send(
            &self,
            _method: &str,
            url: &str,
            _headers: &[(String, String)],
            _body: &[u8],
        ) -> Result<Response, TransportError> {
            crate::sync::lock(&self.seen).push(url.to_string());
            let mut routes = crate::sync::lock(&self.routes);
            let (status, body) = match routes.iter_mut().find(|(k, _)| url.contains(k.as_str())) {
                Some((_, q)) if q.len() > 1 => q.remove(0),
                Some((_, q)) => q[0].clone(),
                None => (
                    404,
                    r#"{"code":"DNS.0101","message":"not found"}"#.to_string(),
                ),
            };
            Ok(Response {
                status,
                headers: vec![],
                body: body.into_bytes(),
            })
        }
    }

    fn dns(fake: Arc<Fake>) -> OtcDns<DnsSender> {
        let creds = Credentials::new("AKTEST", Secret::new("SKTEST-0123456789"), None);
        let client = SignedClient::new(
            fake,
            creds,
            Some("project".into()),
            Arc::new(FakeClock::new(1_700_000_000)),
            Arc::new(Report::new(Level::Quiet, Box::new(std::io::sink()))),
        );
        let endpoint = Url::parse(BASE).unwrap();
        OtcDns::new(DnsSender::new(client, &endpoint), endpoint)
    }

    fn zone_json(id: &str, name: &str) -> String {
        format!(r#"{{"id":"{id}","name":"{name}","zone_type":"public"}}"#)
    }

    fn set_json(id: &str, name: &str, value: &str) -> String {
        format!(
            r#"{{"id":"{id}","name":"{name}","type":"TXT","ttl":300,"records":["\"{value}\""],"status":"ACTIVE"}}"#
        )
    }

    fn zone() -> cloud_api::Zone {
        cloud_api::Zone {
            id: "z1".into(),
            name: "example.com.".into(),
        }
    }

    #[test]
    fn zones_are_listed_once_per_process_every_page_and_matched_here() {
        let page1 = format!(
            r#"{{"zones":[{},{}],"links":{{"next":"{BASE}/v2/zones?marker=z2&limit=500&type=public"}}}}"#,
            zone_json("z1", "example.com."),
            zone_json("z2", "other.org.")
        );
        let page2 = format!(r#"{{"zones":[{}]}}"#, zone_json("z3", "sub.example.com."));
        let fake = Arc::new(Fake::default().on("marker=z2", 200, &page2).on(
            "/v2/zones?",
            200,
            &page1,
        ));
        let d = dns(fake.clone());
        let z = d
            .zones_holding("_acme-challenge.a.sub.example.com.")
            .unwrap();
        let names: Vec<&str> = z.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["example.com.", "sub.example.com."]);
        let z = d.zones_holding("_acme-challenge.www.other.org.").unwrap();
        assert_eq!(z[0].id, "z2");
        assert!(
            d.zones_holding("_acme-challenge.x.net.")
                .unwrap()
                .is_empty()
        );
        assert_eq!(d.zone_named("other.org").unwrap().unwrap().id, "z2");
        assert_eq!(
            fake.asked("/v2/zones?"),
            2,
            "{:?}",
            crate::sync::lock(&fake.seen)
        );
        // No name filter: one listing serves every domain.
        assert!(
            crate::sync::lock(&fake.seen)
                .iter()
                .all(|u| !u.contains("name="))
        );
    }

    #[test]
    fn the_query_goes_out_as_signed_whatever_its_characters() {
        // The query travels encoded in the path to the sender, which the signer
        // decodes into pairs again: the wire must be the canonical query of the
        // pairs themselves (sorted, each encoded once), as before.
        let fake = Arc::new(Fake::default().on("/recordsets?", 200, r#"{"recordsets":[]}"#));
        let filter = "a b+c%2F/é*&=.example.com.";
        dns(fake.clone()).txt_sets(&wire_zone(&zone()), filter).unwrap();
        let pairs = [("name", filter), ("type", "TXT"), ("limit", "500")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            *crate::sync::lock(&fake.seen),
            [format!(
                "{BASE}/v2/zones/z1/recordsets?{}",
                crate::clouds::otc::auth::canonical_query(&pairs)
            )]
        );
        assert!(crate::sync::lock(&fake.seen)[0].contains("name=a%20b%2Bc%252F%2F%C3%A9%2A%26%3D.example.com."));
    }

    #[test]
    fn several_names_are_one_listing_of_the_zone_followed_to_the_end() {
        let page1 = format!(
            r#"{{"recordsets":[{}],"links":{{"next":"{BASE}/v2/zones/z1/recordsets?marker=s1&type=TXT"}}}}"#,
            set_json("s1", "a.example.com.", "va")
        );
        let page2 = format!(
            r#"{{"recordsets":[{}]}}"#,
            set_json("s2", "b.example.com.", "vb")
        );
        let fake = Arc::new(Fake::default().on("marker=s1", 200, &page2).on(
            "/recordsets?",
            200,
            &page1,
        ));
        let d = dns(fake.clone());
        let names: Vec<String> = ["a.example.com.", "b.example.com.", "c.example.com."]
            .map(String::from)
            .to_vec();
        let read = d.read(&zone(), &names).unwrap();
        assert_eq!(read[0].records, ["\"va\""]);
        assert_eq!(read[1].records, ["\"vb\""]);
        assert!(!read[2].exists());
        assert_eq!(
            fake.asked("/recordsets?"),
            2,
            "{:?}",
            crate::sync::lock(&fake.seen)
        );
        // Names of other shapes: the zone's TXT sets, no name filter.
        assert!(
            crate::sync::lock(&fake.seen)
                .iter()
                .all(|u| !u.contains("name="))
        );
    }

    #[test]
    fn a_page_that_fails_or_loops_is_an_error_never_a_shorter_read() {
        let page1 = format!(
            r#"{{"recordsets":[{}],"links":{{"next":"{BASE}/v2/zones/z1/recordsets?marker=s1&type=TXT"}}}}"#,
            set_json("s1", "_acme-challenge.a.example.com.", "va")
        );
        let names: Vec<String> = [
            "_acme-challenge.a.example.com.",
            "_acme-challenge.b.example.com.",
        ]
        .map(String::from)
        .to_vec();
        let failing = Arc::new(
            Fake::default()
                .on(
                    "marker=s1",
                    400,
                    r#"{"code":"DNS.0001","message":"bad marker"}"#,
                )
                .on("/recordsets?", 200, &page1),
        );
        let e = dns(failing).read(&zone(), &names).unwrap_err();
        assert!(e.to_string().contains("bad marker"), "{e}");
        // The next page links back to itself: a loop, not the end of the list.
        let looping = Arc::new(Fake::default().on("marker=s1", 200, &page1).on(
            "/recordsets?",
            200,
            &page1,
        ));
        let e = dns(looping).read(&zone(), &names).unwrap_err();
        assert!(e.to_string().contains("loop"), "{e}");
    }

    /// The DNS v2 calls over a fake [`Sender`]: no signing, no transport.
    mod over_a_sender {
        use super::super::*;
        use crate::api_error::Kind;
        use std::sync::Mutex;

        /// One request as the sender got it.
        #[derive(Debug, Clone, PartialEq)]
        struct Sent {
            method: String,
            url: String,
            query: Vec<(String, String)>,
            body: Option<String>,
        }

        /// Answers each request with the next canned answer; records it.
        #[derive(Default)]
        struct FakeSender {
            answers: Mutex<Vec<(u16, String)>>,
            sent: Mutex<Vec<Sent>>,
        }

        impl FakeSender {
            fn answering(answers: &[(u16, &str)]) -> Self {
                FakeSender {
                    answers: Mutex::new(answers.iter().map(|(s, b)| (*s, b.to_string())).collect()),
                    sent: Mutex::default(),
                }
            }
            fn sent(&self) -> Vec<Sent> {
                crate::sync::lock(&self.sent).clone()
            }
        }

        /// Its base is the endpoint's origin; the query is read back into pairs.
        impl Sender for FakeSender {
            fn send(
                &self,
                method: &str,
                path_and_query: &str,
                body: Option<&[u8]>,
            ) -> ApiResult<Response> {
                let (path, query) = path_and_query
                    .split_once('?')
                    .unwrap_or((path_and_query, ""));
                crate::sync::lock(&self.sent).push(Sent {
                    method: method.to_string(),
                    url: format!("https://dns.test{path}"),
                    query: crate::clouds::otc::auth::parse_query(query),
                    body: body.map(|b| String::from_utf8_lossy(b).into_owned()),
                });
                let (status, body) = crate::sync::lock(&self.answers).remove(0);
                Ok(Response {
                    status,
                    headers: vec![],
                    body: body.into_bytes(),
                })
            }
        }

        fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }

        fn dns(answers: &[(u16, &str)]) -> OtcDns<FakeSender> {
            OtcDns::new(
                FakeSender::answering(answers),
                Url::parse("https://dns.test/base/").unwrap(),
            )
        }

        fn zone() -> Zone {
            Zone {
                id: "z1".into(),
                name: "example.com.".into(),
                zone_type: None,
            }
        }

        const SET: &str = r#"{"id":"s1","name":"_acme-challenge.example.com.","type":"TXT","ttl":600,"records":["\"v1\""],"status":"PENDING_CREATE","description":"theirs"}"#;

        #[test]
        fn public_zones_asks_for_public_zones_by_name_and_skips_private_ones() {
            let d = dns(&[(
                200,
                r#"{"zones":[{"id":"z1","name":"example.com.","zone_type":"public"},{"id":"z2","name":"example.com.","zone_type":"private"}]}"#,
            )]);
            let z = d.public_zones("example.com").unwrap();
            assert_eq!(z.iter().map(|z| z.id.as_str()).collect::<Vec<_>>(), ["z1"]);
            let sent = d.sender().sent();
            assert_eq!(sent[0].method, "GET");
            assert_eq!(sent[0].url, "https://dns.test/base/v2/zones");
            assert_eq!(
                sent[0].query,
                q(&[("type", "public"), ("limit", "500"), ("name", "example.com")])
            );
        }

        #[test]
        fn nameservers_are_host_names_or_else_addresses() {
            let d = dns(&[(
                200,
                r#"{"nameservers":[{"hostname":"ns1.example.net."},{"address":"192.0.2.53"}]}"#,
            )]);
            assert_eq!(
                d.nameservers(&zone()).unwrap(),
                ["ns1.example.net.", "192.0.2.53"]
            );
            assert_eq!(
                d.sender().sent()[0].url,
                "https://dns.test/base/v2/zones/z1/nameservers"
            );
        }

        #[test]
        fn get_of_a_set_gone_is_none_and_other_errors_are_kept() {
            let d = dns(&[
                (404, r#"{"code":"DNS.0305","message":"gone"}"#),
                (200, SET),
                (500, r#"{"code":"DNS.0001","message":"boom"}"#),
            ]);
            assert_eq!(d.get(&zone(), "s1").unwrap(), None);
            let set = d.get(&zone(), "s1").unwrap().unwrap();
            assert!(set.is_pending());
            let e = d.get(&zone(), "s1").unwrap_err();
            assert_eq!(e.http_status(), Some(500));
            assert_eq!(
                d.sender().sent()[0].url,
                "https://dns.test/base/v2/zones/z1/recordsets/s1"
            );
        }

        #[test]
        fn create_posts_the_whole_set_with_our_description() {
            let d = dns(&[(202, SET)]);
            let set = d
                .create_txt(
                    &zone(),
                    "_acme-challenge.example.com.",
                    300,
                    &["\"v1\"".to_string()],
                    DESCRIPTION,
                )
                .unwrap();
            assert_eq!(set.id, "s1");
            let sent = &d.sender().sent()[0];
            assert_eq!(sent.method, "POST");
            assert_eq!(sent.url, "https://dns.test/base/v2/zones/z1/recordsets");
            let body: serde_json::Value =
                serde_json::from_str(sent.body.as_deref().unwrap()).unwrap();
            assert_eq!(body["type"], "TXT");
            assert_eq!(body["ttl"], 300);
            assert_eq!(body["records"][0], "\"v1\"");
            assert_eq!(body["description"], DESCRIPTION);
        }

        #[test]
        fn update_sends_back_the_set_s_own_ttl_and_description() {
            let d = dns(&[(202, SET)]);
            let set: RecordSet = serde_json::from_str(SET).unwrap();
            d.update_records(&zone(), &set, &["\"v1\"".into(), "\"v2\"".into()])
                .unwrap();
            let sent = &d.sender().sent()[0];
            assert_eq!(sent.method, "PUT");
            assert_eq!(sent.url, "https://dns.test/base/v2/zones/z1/recordsets/s1");
            let body: serde_json::Value =
                serde_json::from_str(sent.body.as_deref().unwrap()).unwrap();
            assert_eq!(body["ttl"], 600);
            assert_eq!(body["description"], "theirs");
            assert_eq!(body["records"].as_array().unwrap().len(), 2);
        }

        #[test]
        fn a_delete_answered_by_something_not_json_is_an_unknown_outcome() {
            let set: RecordSet = serde_json::from_str(SET).unwrap();
            let d = dns(&[(202, SET), (204, ""), (200, "<html>proxy</html>")]);
            d.delete(&zone(), &set).unwrap();
            d.delete(&zone(), &set).unwrap();
            assert!(matches!(
                d.delete(&zone(), &set).unwrap_err(),
                ApiError::Decode(_)
            ));
            assert!(d.sender().sent().iter().all(|s| s.method == "DELETE"));
        }

        #[test]
        fn otc_codes_reach_the_flow_as_neutral_kinds() {
            let set: RecordSet = serde_json::from_str(SET).unwrap();
            let d = dns(&[
                (400, r#"{"code":"DNS.0312","message":"exists"}"#),
                (400, r#"{"code":"DNS.0314","message":"pending"}"#),
            ]);
            let e = d
                .create_txt(&zone(), &set.name, 300, &set.records, DESCRIPTION)
                .unwrap_err();
            assert_eq!(e.kind(), Kind::Conflict);
            let e = d.update_records(&zone(), &set, &set.records).unwrap_err();
            assert_eq!(e.kind(), Kind::NotSettled);
        }

        #[test]
        fn a_next_page_on_another_host_is_refused_not_followed() {
            let d = dns(&[(
                200,
                r#"{"recordsets":[],"links":{"next":"https://elsewhere.test/v2/zones/z1/recordsets?marker=x"}}"#,
            )]);
            let e = d.txt_sets(&zone(), "").unwrap_err();
            assert!(e.to_string().contains("another host"), "{e}");
            assert_eq!(d.sender().sent().len(), 1);
        }
    }
}
