use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::api_error::Kind;
use crate::cloud_api::FnSender;
use crate::clouds::ncp::auth;
use crate::http::Url;

/// One record of the fake API.
#[derive(Clone)]
struct Rec {
    id: u64,
    domain: u64,
    host: String,
    content: String,
    ttl: u32,
}

/// An in-memory Global DNS v1: over-matching filters, pages, ids, a log.
struct Fake {
    domains: Vec<(u64, &'static str)>,
    records: Mutex<Vec<Rec>>,
    next_id: AtomicU64,
    log: Mutex<Vec<(String, String, Option<Value>)>>,
    /// Answered instead, once, by the next request whose method matches.
    fail: Mutex<Option<(&'static str, u16, &'static str)>>,
    /// Quote TXT content as the real API does.
    quoted: bool,
}

fn query_param<'q>(q: &'q str, k: &str) -> Option<&'q str> {
    q.split('&')
        .find_map(|kv| kv.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
}

fn resp(status: u16, body: Value) -> ApiResult<Response> {
    Ok(Response {
        status,
        headers: vec![],
        body: body.to_string().into_bytes(),
    })
}

fn page(items: Vec<Value>, q: &str) -> ApiResult<Response> {
    let page: usize = query_param(q, "page").unwrap().parse().unwrap();
    let size: usize = query_param(q, "size").unwrap().parse().unwrap();
    let total = items.len().div_ceil(size).max(1);
    let content: Vec<Value> = items.into_iter().skip(page * size).take(size).collect();
    resp(
        200,
        json!({"content": content, "last": page + 1 >= total, "totalPages": total,
               "first": page == 0, "size": size}),
    )
}

impl Fake {
    fn new(quoted: bool) -> Fake {
        Fake {
            domains: vec![
                (11, "example.com"),
                (12, "sub.example.com"),
                (13, "myexample.com"),
            ],
            records: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1000),
            log: Mutex::default(),
            fail: Mutex::default(),
            quoted,
        }
    }

    fn seed(&self, domain: u64, host: &str, content: &str) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        crate::sync::lock(&self.records).push(Rec {
            id,
            domain,
            host: host.into(),
            content: content.into(),
            ttl: 300,
        });
        id
    }

    fn calls(&self) -> Vec<String> {
        crate::sync::lock(&self.log)
            .iter()
            .map(|(m, p, _)| format!("{m} {p}"))
            .collect()
    }

    fn handle(&self, method: &str, pq: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        let body: Option<Value> = body.map(|b| serde_json::from_slice(b).unwrap());
        crate::sync::lock(&self.log).push((method.into(), pq.into(), body.clone()));
        let fail = *crate::sync::lock(&self.fail);
        if let Some((m, status, text)) = fail
            && m == method
        {
            crate::sync::lock(&self.fail).take();
            return Ok(Response {
                status,
                headers: vec![],
                body: text.as_bytes().to_vec(),
            });
        }
        let (path, q) = pq.split_once('?').unwrap_or((pq, ""));
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, segs.as_slice()) {
            ("GET", ["ncpdns", "domain"]) => {
                // Optional (the docs); over-matching: a part of the name.
                let f = query_param(q, "domainName").unwrap_or("");
                let items = self
                    .domains
                    .iter()
                    .filter(|(_, n)| n.contains(f))
                    .map(|(id, n)| json!({"id": id, "name": n, "status": "SUCCESS"}))
                    .collect();
                page(items, q)
            }
            ("GET", ["ncpdns", "record", d]) => {
                assert_eq!(query_param(q, "recordType"), Some("TXT"));
                let f = query_param(q, "searchContent");
                let d: u64 = d.parse().unwrap();
                let dname = self.domains.iter().find(|(i, _)| *i == d).unwrap().1;
                // By record name, as the docs say: `@` matches nothing.
                let name = |h: &str| {
                    if h == "@" {
                        dname.to_string()
                    } else {
                        format!("{h}.{dname}")
                    }
                };
                let items = crate::sync::lock(&self.records)
                    .iter()
                    .filter(|r| r.domain == d && f.is_none_or(|f| name(&r.host).contains(f)))
                    .map(|r| {
                        let c = if self.quoted {
                            format!("\"{}\"", r.content)
                        } else {
                            r.content.clone()
                        };
                        json!({"id": r.id, "host": r.host, "type": "TXT", "content": c,
                               "ttl": r.ttl, "delYn": false})
                    })
                    .collect();
                page(items, q)
            }
            ("POST", ["ncpdns", "record", d]) => {
                let d: u64 = d.parse().unwrap();
                for item in body.unwrap().as_array().unwrap() {
                    let (host, content) = (
                        item["host"].as_str().unwrap(),
                        item["content"].as_str().unwrap(),
                    );
                    assert_eq!(item["type"], "TXT");
                    let dup = crate::sync::lock(&self.records)
                        .iter()
                        .any(|r| r.domain == d && r.host == host && r.content == content);
                    if dup {
                        return resp(
                            400,
                            json!({"result":"FAIL","error":{"errorCode":"X00011",
                                "message":"Duplicate record exists.","devMessage":"dup"}}),
                        );
                    }
                    let id = self.seed(d, host, content);
                    crate::sync::lock(&self.records).last_mut().unwrap().ttl =
                        item["ttl"].as_u64().unwrap() as u32;
                    let _ = id;
                }
                resp(200, json!({"result": "SUCCESS"}))
            }
            ("DELETE", ["ncpdns", "record", _]) => {
                let ids: Vec<u64> = body
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().expect("ids are numbers"))
                    .collect();
                crate::sync::lock(&self.records).retain(|r| !ids.contains(&r.id));
                resp(200, json!({"result": "SUCCESS"}))
            }
            ("PUT", ["ncpdns", "record", "apply", _]) => resp(200, json!({"result": "SUCCESS"})),
            _ => resp(
                404,
                json!({"error": {"errorCode": "300", "message": "Not Found"}}),
            ),
        }
    }
}

fn dns(fake: &Fake) -> NcpDns<'_> {
    NcpDns::new(FnSender(move |m: &str, p: &str, b: Option<&[u8]>| fake.handle(m, p, b)))
}

fn zone() -> Zone {
    Zone {
        id: "11".into(),
        name: "example.com.".into(),
    }
}

#[test]
fn zones_by_exact_name_longest_first() {
    let fake = Fake::new(true);
    let d = dns(&fake);
    let zones = d
        .zones_holding("_acme-challenge.www.sub.example.com.")
        .unwrap();
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["sub.example.com.", "example.com."]);
    assert_eq!(zones[1].id, "11");
    // One listing of every domain, not a lookup per suffix.
    assert_eq!(fake.calls(), ["GET /ncpdns/domain?page=0&size=100"]);
    // Exact compare: myexample.com holds none of these names.
    let z = d.zones_holding("_acme-challenge.myexample.com.").unwrap();
    assert_eq!(z[0].name, "myexample.com.");
    assert_eq!(z.len(), 1);
    assert_eq!(d.zone_named("example.com").unwrap(), Some(zone()));
    assert_eq!(d.zone_named("ample.com.").unwrap(), None);
    assert_eq!(fake.calls().len(), 1, "answered from the listing");
}

/// A run of many names in one domain (each with its own suffixes) costs one
/// domain listing in all; a name asked before that listing is one filtered
/// lookup, exact compare, kept.
#[test]
fn domains_are_listed_once_per_process_and_found_by_exact_name() {
    let fake = Fake::new(true);
    let d = dns(&fake);
    // "example.com" over-matches myexample.com and sub.example.com: exact compare.
    assert_eq!(d.zone_named("example.com.").unwrap(), Some(zone()));
    assert_eq!(d.zone_named("example.com").unwrap(), Some(zone()));
    assert_eq!(d.zone_named("ample.com.").unwrap(), None);
    assert_eq!(d.zone_named("ample.com.").unwrap(), None);
    assert_eq!(
        fake.calls(),
        [
            "GET /ncpdns/domain?page=0&size=100&domainName=example.com",
            "GET /ncpdns/domain?page=0&size=100&domainName=ample.com",
        ],
        "one lookup per name, kept"
    );
    crate::sync::lock(&fake.log).clear();
    for i in 0..10 {
        for name in [
            format!("_acme-challenge.host{i}.example.com."),
            format!("_acme-challenge.a.host{i}.sub.example.com."),
        ] {
            let zones = d.zones_holding(&name).unwrap();
            assert!(zones.iter().any(|z| z.name == "example.com."), "{zones:?}");
        }
    }
    assert_eq!(fake.calls(), ["GET /ncpdns/domain?page=0&size=100"]);
    // A listing of more than a page is followed to its end, once.
    let mut many = Fake::new(true);
    many.domains = (0..150)
        .map(|i| {
            let name: &'static str = format!("d{i}.example.net").leak();
            (100 + i, name)
        })
        .chain([(11, "example.com")])
        .collect();
    let d = dns(&many);
    let z = d.zones_holding("_acme-challenge.example.com.").unwrap();
    assert_eq!(z, [zone()]);
    assert!(
        d.zones_holding("_acme-challenge.d149.example.net.")
            .unwrap()[0]
            .id
            == "249"
    );
    assert_eq!(
        many.calls(),
        [
            "GET /ncpdns/domain?page=0&size=100",
            "GET /ncpdns/domain?page=1&size=100",
        ]
    );
    // A page that fails fails the lookup; nothing partial is kept.
    let fake = Fake::new(true);
    *crate::sync::lock(&fake.fail) = Some(("GET", 500, "{}"));
    let d = dns(&fake);
    assert!(d.zones_holding("_acme-challenge.example.com.").is_err());
    assert_eq!(
        d.zones_holding("_acme-challenge.example.com.").unwrap(),
        [zone()]
    );
}

#[test]
fn listings_follow_every_page() {
    let fake = Fake::new(true);
    for i in 0..250 {
        fake.seed(11, "_acme-challenge", &format!("v{i}"));
    }
    fake.seed(11, "_acme-challenge.www", "other-host");
    let d = dns(&fake);
    let at = d
        .read(&zone(), &["_acme-challenge.example.com.".into()])
        .unwrap();
    assert_eq!(at[0].records.len(), 250);
    assert_eq!(at[0].ids.len(), 250);
    assert_eq!(at[0].records[0], "\"v0\"", "content as stored");
    assert_eq!(
        fake.calls().last().unwrap(),
        "GET /ncpdns/record/11?page=2&size=100&recordType=TXT&searchContent=_acme-challenge"
    );
    assert_eq!(fake.calls().len(), 3);
}

#[test]
fn read_compares_hosts_exactly_and_uses_at_for_the_apex() {
    let fake = Fake::new(true);
    let a = fake.seed(11, "_acme-challenge", "A");
    fake.seed(11, "_acme-challenge.www", "B");
    fake.seed(12, "_acme-challenge", "other zone");
    let apex = fake.seed(11, "@", "apex");
    let d = dns(&fake);
    let got = d
        .read(
            &zone(),
            &[
                "_acme-challenge.example.com.".into(),
                "example.com.".into(),
                "_acme-challenge.nothing.example.com.".into(),
            ],
        )
        .unwrap();
    assert_eq!(got[0].records, ["\"A\""]);
    assert_eq!(got[0].ids, [a.to_string()]);
    assert_eq!(got[0].ttl, Some(300));
    assert!(got[0].is_settled());
    assert_eq!(got[1].ids, [apex.to_string()]);
    assert_eq!(got[1].name, "example.com.");
    assert!(!got[2].exists());
    // Several names: one listing of every TXT record of the domain, no
    // search (`@` would match nothing).
    assert_eq!(
        fake.calls(),
        ["GET /ncpdns/record/11?page=0&size=100&recordType=TXT"]
    );
    // One name alone: the search by record name, picked exactly.
    let one = d
        .read(&zone(), &["_acme-challenge.example.com.".into()])
        .unwrap();
    assert_eq!(one[0].records, ["\"A\""]);
    assert_eq!(
        fake.calls()[1],
        "GET /ncpdns/record/11?page=0&size=100&recordType=TXT&searchContent=_acme-challenge"
    );
    assert!(!fake.calls().iter().any(|c| c.contains("searchContent=@")));
    let e = d.read(&zone(), &["x.example.org.".into()]).unwrap_err();
    assert_eq!(e.kind(), Kind::Fatal);
}

#[test]
fn write_adds_and_removes_in_one_call_each_keeping_foreign_values() {
    for quoted in [true, false] {
        let fake = Fake::new(quoted);
        fake.seed(11, "_acme-challenge", "foreign");
        let old = fake.seed(11, "_acme-challenge", "old");
        let d = dns(&fake);
        let name = "_acme-challenge.example.com.".to_string();
        let before = d.reread(&zone(), &TxtSet::absent(&name)).unwrap();
        let foreign = before.records[0].clone();
        let after = vec![foreign.clone(), "\"new1\"".into(), "new2".into()];
        crate::sync::lock(&fake.log).clear();
        let now = d.write(&zone(), &before, &after, 60).unwrap();
        let log = crate::sync::lock(&fake.log).clone();
        assert_eq!(log.len(), 3, "POST, DELETE, re-read");
        assert_eq!(
            (log[0].0.as_str(), log[0].1.as_str()),
            ("POST", "/ncpdns/record/11")
        );
        assert_eq!(
            log[0].2,
            Some(json!([
                {"host": "_acme-challenge", "type": "TXT", "content": "new1", "ttl": 60},
                {"host": "_acme-challenge", "type": "TXT", "content": "new2", "ttl": 60}
            ]))
        );
        assert_eq!(
            (log[1].0.as_str(), log[1].2.clone()),
            ("DELETE", Some(json!([old])))
        );
        let values: Vec<&str> = now.records.iter().map(|r| unquote(r)).collect();
        assert_eq!(values, ["foreign", "new1", "new2"], "quoted={quoted}");
        assert_eq!(now.ids.len(), 3);
        // Nothing to do: no call at all.
        crate::sync::lock(&fake.log).clear();
        d.write(&zone(), &now, &after, 60).unwrap();
        assert!(crate::sync::lock(&fake.log).is_empty());
    }
}

#[test]
fn write_deletes_only_ids_it_read() {
    let fake = Fake::new(true);
    let mine = fake.seed(11, "_acme-challenge", "mine");
    let d = dns(&fake);
    let name = "_acme-challenge.example.com.".to_string();
    let before = d
        .read(&zone(), std::slice::from_ref(&name))
        .unwrap()
        .remove(0);
    // Someone adds the same value again after our read: not ours to delete.
    fake.seed(11, "_acme-challenge", "late");
    let now = d.write(&zone(), &before, &[], 300).unwrap();
    let log = crate::sync::lock(&fake.log).clone();
    let delete = log.iter().find(|(m, _, _)| m == "DELETE").unwrap();
    assert_eq!(delete.2, Some(json!([mine])));
    assert!(!log.iter().any(|(m, _, _)| m == "POST"));
    // Only a deletion: no id to learn, so no re-read; the answer is what was
    // read less what went. The late value is untouched.
    assert_eq!(log.last().unwrap().0, "DELETE");
    assert!(!now.exists());
    let now = d.reread(&zone(), &now).unwrap();
    assert_eq!(now.records, ["\"late\""]);
    // A before whose ids don't match its records is refused, nothing sent.
    let mut broken = now.clone();
    broken.ids.clear();
    crate::sync::lock(&fake.log).clear();
    assert_eq!(
        d.write(&zone(), &broken, &[], 300).unwrap_err().kind(),
        Kind::Fatal
    );
    assert!(crate::sync::lock(&fake.log).is_empty());
}

#[test]
fn an_exact_duplicate_is_a_conflict() {
    let fake = Fake::new(true);
    let d = dns(&fake);
    let name = "_acme-challenge.example.com.".to_string();
    let before = TxtSet::absent(&name);
    // Added by someone else between our read and our write.
    fake.seed(11, "_acme-challenge", "v");
    let e = d.write(&zone(), &before, &["v".into()], 300).unwrap_err();
    assert_eq!(e.kind(), Kind::Conflict, "{e}");
    assert_eq!(e.code(), Some("X00011"));
    assert_eq!(e.to_string(), "HTTP 400 X00011: Duplicate record exists.");
}

#[test]
fn commit_is_one_apply_and_never_a_rollback() {
    let fake = Fake::new(true);
    let d = dns(&fake);
    d.commit(&zone()).unwrap();
    assert_eq!(fake.calls(), ["PUT /ncpdns/record/apply/11"]);
    assert!(
        crate::sync::lock(&fake.log)[0].2.is_none(),
        "apply has no body"
    );
    *crate::sync::lock(&fake.fail) = Some((
        "PUT",
        400,
        r#"{"result":"FAIL","error":{"errorCode":"X00006","message":"apply failed","devMessage":"d"}}"#,
    ));
    let e = d.commit(&zone()).unwrap_err();
    assert_eq!((e.kind(), e.code()), (Kind::Fatal, Some("X00006")));
}

#[test]
fn unreadable_or_partial_answers_are_errors_not_empty_reads() {
    let d = NcpDns::new(FnSender(|_: &str, _: &str, _: Option<&[u8]>| {
        resp(
            200,
            json!({"content": [{"id": 1, "host": "_acme-challenge", "type": "TXT"}]}),
        )
    }));
    let e = d
        .read(&zone(), &["_acme-challenge.example.com.".into()])
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    let d = NcpDns::new(FnSender(|_: &str, _: &str, _: Option<&[u8]>| {
        Ok(Response {
            status: 200,
            headers: vec![],
            body: b"<html>".to_vec(),
        })
    }));
    assert!(d.zone_named("example.com").is_err());
    // A listing that never ends is refused rather than cut short.
    let d = NcpDns::new(FnSender(|_: &str, _: &str, _: Option<&[u8]>| {
        resp(
            200,
            json!({"content": [{"id": 1, "name": "x.com"}], "last": false}),
        )
    }));
    let e = d.zone_named("example.com").unwrap_err();
    assert!(e.to_string().contains("partial"), "{e}");
}

#[test]
fn nameservers_from_the_listing_else_the_lookup_else_none_for_the_resolver() {
    let d = NcpDns::new(FnSender(|_: &str, _: &str, _: Option<&[u8]>| {
        resp(
            200,
            json!({"content": [{"id": 11, "name": "example.com", "nameServers": ["ns-a.example."]}],
                   "last": true}),
        )
    }));
    let z = d.zone_named("example.com").unwrap().unwrap();
    assert_eq!(d.nameservers(&z).unwrap(), ["ns-a.example."]);
    let fake = Fake::new(true);
    let z = dns(&fake).zone_named("example.com").unwrap().unwrap();
    assert!(dns(&fake).nameservers(&z).unwrap().is_empty());
    let asked = Mutex::new(Vec::new());
    let d = dns(&fake).with_ns_lookup(Box::new(|z: &Zone| {
        crate::sync::lock(&asked).push(z.name.clone());
        Ok(vec!["ns.resolver.".into()])
    }));
    assert_eq!(d.nameservers(&z).unwrap(), ["ns.resolver."]);
    assert_eq!(*crate::sync::lock(&asked), ["example.com."]);
}

#[test]
fn query_values_are_encoded_as_sent() {
    assert_eq!(
        percent_encode_keep_at("_acme-challenge.www"),
        "_acme-challenge.www"
    );
    assert_eq!(percent_encode_keep_at("@"), "@");
    assert_eq!(percent_encode_keep_at("한글.kr"), "%ED%95%9C%EA%B8%80.kr");
    assert_eq!(percent_encode_keep_at("a b&c=d"), "a%20b%26c%3Dd");
    // `@` stays literal and survives URL parsing (what is signed is what is sent).
    let u = Url::parse(&format!(
        "https://h/dns/v1/ncpdns/record/1?searchContent={}",
        percent_encode_keep_at("@")
    ))
    .unwrap();
    assert_eq!(u.query.as_deref(), Some("searchContent=@"));
    assert_eq!(
        auth::path_and_query(&u),
        "/dns/v1/ncpdns/record/1?searchContent=@"
    );
}

/// The apex among many TXT records of the domain: every page is read, and
/// only records whose host is exactly `@` count (never `_acme-challenge`,
/// whose content is the same value).
#[test]
fn the_apex_pages_through_every_txt_record_and_compares_exactly() {
    let fake = Fake::new(true);
    for i in 0..230 {
        fake.seed(11, &format!("h{i}"), "v");
    }
    fake.seed(11, "_acme-challenge", "apex-value");
    let apex = fake.seed(11, "@", "apex-value");
    let d = dns(&fake);
    let got = d.read(&zone(), &["example.com.".into()]).unwrap();
    assert_eq!(got[0].ids, [apex.to_string()]);
    assert_eq!(got[0].records, ["\"apex-value\""]);
    assert_eq!(
        fake.calls(),
        [
            "GET /ncpdns/record/11?page=0&size=100&recordType=TXT",
            "GET /ncpdns/record/11?page=1&size=100&recordType=TXT",
            "GET /ncpdns/record/11?page=2&size=100&recordType=TXT",
        ]
    );
    // Adding at the apex writes host `@` and reads the apex back the same way.
    let mut after = got[0].records.clone();
    after.push("second".into());
    let w = d.write(&zone(), &got[0], &after, 300).unwrap();
    assert_eq!(w.records.len(), 2);
    let post = crate::sync::lock(&fake.log)
        .iter()
        .find(|(m, _, _)| m == "POST")
        .cloned()
        .unwrap();
    assert_eq!(post.2.unwrap()[0]["host"], "@");
}

const NAMES: [&str; 4] = [
    "_acme-challenge.a.example.com.",
    "_acme-challenge.example.com.",
    "example.com.",
    "_acme-challenge.none.example.com.",
];

fn names() -> Vec<String> {
    NAMES.iter().map(|n| n.to_string()).collect()
}

/// Several names of a domain: one listing of its TXT records (every page),
/// each name picked by exact host; not one search per name.
#[test]
fn several_names_are_one_paged_listing_of_the_domains_txt_records() {
    let fake = Fake::new(true);
    for i in 0..150 {
        fake.seed(11, &format!("h{i}"), "filler");
    }
    let a = fake.seed(11, "_acme-challenge.a", "A");
    let b = fake.seed(11, "_acme-challenge", "B");
    let b2 = fake.seed(11, "_acme-challenge", "B2");
    let apex = fake.seed(11, "@", "apex");
    fake.seed(12, "_acme-challenge", "other domain");
    fake.seed(11, "x._acme-challenge.a", "longer host");
    let d = dns(&fake);
    let got = d.read(&zone(), &names()).unwrap();
    assert_eq!(
        fake.calls(),
        [
            "GET /ncpdns/record/11?page=0&size=100&recordType=TXT",
            "GET /ncpdns/record/11?page=1&size=100&recordType=TXT",
        ]
    );
    let got: Vec<(&str, Vec<String>, Vec<String>)> = got
        .iter()
        .map(|t| (t.name.as_str(), t.records.clone(), t.ids.clone()))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (NAMES[0], s(&["\"A\""]), vec![a.to_string()]),
            (
                NAMES[1],
                s(&["\"B\"", "\"B2\""]),
                vec![b.to_string(), b2.to_string()]
            ),
            (NAMES[2], s(&["\"apex\""]), vec![apex.to_string()]),
            (NAMES[3], vec![], vec![]),
        ]
    );
    // A name outside the domain is refused before any call.
    crate::sync::lock(&fake.log).clear();
    let mut bad = names();
    bad.push("_acme-challenge.example.org.".into());
    assert!(d.read(&zone(), &bad).is_err());
    assert!(fake.calls().is_empty());
}

/// A page that fails fails the whole read: never the names of the first page.
#[test]
fn a_page_error_fails_the_read_never_a_partial_one() {
    let fake = Fake::new(true);
    for i in 0..150 {
        fake.seed(11, &format!("h{i}"), "filler");
    }
    fake.seed(11, "_acme-challenge", "B");
    for (status, body) in [
        (
            500,
            r#"{"result":"FAIL","error":{"errorCode":"X00000","message":"boom"}}"#,
        ),
        (200, "<html>"),
    ] {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let d = NcpDns::new(FnSender(|m: &str, p: &str, b: Option<&[u8]>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if p.contains("page=1") {
                return Ok(Response {
                    status,
                    headers: vec![],
                    body: body.as_bytes().to_vec(),
                });
            }
            fake.handle(m, p, b)
        }));
        let e = d.read(&zone(), &names()).unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}

/// One name's `Change` for `write_batch`.
fn change<'a>(before: &'a TxtSet, after: &'a [String]) -> Change<'a> {
    Change { before, after }
}

fn bodies(fake: &Fake, method: &str) -> Vec<Value> {
    crate::sync::lock(&fake.log)
        .iter()
        .filter(|(m, _, _)| m == method)
        .map(|(_, _, b)| b.clone().unwrap())
        .collect()
}

/// Every added record of every name in one POST, every removed id in one
/// DELETE, then one listing to learn the new ids (the create's answer names
/// none); one state per change, in order; foreign values untouched.
#[test]
fn write_batch_is_one_post_one_delete_and_one_read_mapped_in_order() {
    let fake = Fake::new(true);
    let foreign = fake.seed(11, "_acme-challenge", "foreign");
    let old = fake.seed(11, "_acme-challenge", "old");
    let stale = fake.seed(11, "_acme-challenge.a", "stale");
    let d = dns(&fake);
    let before = d.read(&zone(), &names()).unwrap();
    crate::sync::lock(&fake.log).clear();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    // a: stale → new-a; _acme-challenge: keeps foreign (as read, quoted),
    // drops old, adds two; apex: adds one; none: stays empty.
    let afters = [
        s(&["new-a"]),
        s(&["\"foreign\"", "v1", "v2", "v1"]),
        s(&["apex-v"]),
        s(&[]),
    ];
    let changes: Vec<Change> = before
        .iter()
        .zip(&afters)
        .map(|(b, a)| change(b, a))
        .collect();
    let got = d.write_batch(&zone(), &changes, 60).unwrap().unwrap();
    assert_eq!(
        fake.calls(),
        [
            "POST /ncpdns/record/11",
            "DELETE /ncpdns/record/11",
            "GET /ncpdns/record/11?page=0&size=100&recordType=TXT",
        ]
    );
    assert_eq!(
        bodies(&fake, "POST"),
        [json!([
            {"host": "_acme-challenge.a", "type": "TXT", "content": "new-a", "ttl": 60},
            {"host": "_acme-challenge", "type": "TXT", "content": "v1", "ttl": 60},
            {"host": "_acme-challenge", "type": "TXT", "content": "v2", "ttl": 60},
            {"host": "@", "type": "TXT", "content": "apex-v", "ttl": 60},
        ])]
    );
    // Ids as numbers, as the API gave them.
    assert_eq!(bodies(&fake, "DELETE"), [json!([stale, old])]);
    assert_eq!(got.len(), 4);
    let names: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, NAMES);
    assert_eq!(got[0].records, ["\"new-a\""]);
    assert_eq!(got[1].records, ["\"foreign\"", "\"v1\"", "\"v2\""]);
    assert_eq!(got[1].ids[0], foreign.to_string());
    assert_eq!(got[2].records, ["\"apex-v\""]);
    assert!(!got[3].exists());
    // The ids of the new records, from the read: what cleanup deletes by.
    let id = |n: u64| (stale + n).to_string();
    assert_eq!(got[0].ids, [id(1)]);
    assert_eq!(got[1].ids, [foreign.to_string(), id(2), id(3)]);
    assert_eq!(got[2].ids, [id(4)]);
    assert_eq!(got[0].ttl, Some(60));
}

/// Only deletions: one DELETE and no read (no id to learn); a batch with
/// nothing to change sends nothing.
#[test]
fn write_batch_of_deletions_only_needs_no_read() {
    let fake = Fake::new(false);
    let foreign = fake.seed(11, "_acme-challenge", "foreign");
    let ours = fake.seed(11, "_acme-challenge", "ours");
    let apex = fake.seed(11, "@", "apex-ours");
    let d = dns(&fake);
    let before = d.read(&zone(), &names()).unwrap();
    crate::sync::lock(&fake.log).clear();
    let keep = vec!["foreign".to_string()];
    let none: Vec<String> = Vec::new();
    let a0 = before[0].records.clone();
    let changes = [
        change(&before[0], &a0),
        change(&before[1], &keep),
        change(&before[2], &none),
    ];
    let got = d.write_batch(&zone(), &changes, 60).unwrap().unwrap();
    assert_eq!(fake.calls(), ["DELETE /ncpdns/record/11"]);
    assert_eq!(bodies(&fake, "DELETE"), [json!([ours, apex])]);
    assert_eq!(got[1].records, ["foreign"]);
    assert_eq!(got[1].ids, [foreign.to_string()]);
    assert!(!got[2].exists() && got[2].ttl.is_none());
    assert!(!got[0].exists());
    crate::sync::lock(&fake.log).clear();
    let same = [change(&got[1], &keep)];
    let again = d.write_batch(&zone(), &same, 60).unwrap().unwrap();
    assert_eq!(again, [got[1].clone()]);
    assert!(fake.calls().is_empty());
}

/// A refused POST (or DELETE) is an error for the whole batch: nothing is
/// sent after it, and the error is the API's, for the flow to re-read.
#[test]
fn write_batch_error_is_one_error_for_every_change() {
    let fake = Fake::new(true);
    let old = fake.seed(11, "_acme-challenge", "old");
    let d = dns(&fake);
    let before = d.read(&zone(), &names()).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let (a, b) = (s(&["new-a"]), s(&["new-b"]));
    let changes = [change(&before[0], &a), change(&before[1], &b)];
    crate::sync::lock(&fake.log).clear();
    *crate::sync::lock(&fake.fail) = Some((
        "POST",
        500,
        r#"{"result":"FAIL","error":{"errorCode":"X1","message":"boom"}}"#,
    ));
    let e = d.write_batch(&zone(), &changes, 60).unwrap().unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(
        fake.calls(),
        ["POST /ncpdns/record/11"],
        "no DELETE after a failed POST"
    );
    crate::sync::lock(&fake.log).clear();
    *crate::sync::lock(&fake.fail) = Some((
        "DELETE",
        400,
        r#"{"result":"FAIL","error":{"errorCode":"X00010","message":"record 1 not found"}}"#,
    ));
    let e = d.write_batch(&zone(), &changes, 60).unwrap().unwrap_err();
    assert_eq!(e.kind(), Kind::Conflict, "{e}");
    assert_eq!(
        fake.calls(),
        ["POST /ncpdns/record/11", "DELETE /ncpdns/record/11"]
    );
    assert_eq!(bodies(&fake, "DELETE"), [json!([old])]);
    // A change that does not fit (ids and records apart) is refused before any call.
    let mut odd = before[1].clone();
    odd.ids.clear();
    crate::sync::lock(&fake.log).clear();
    let e = d
        .write_batch(&zone(), &[change(&before[0], &a), change(&odd, &b)], 60)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Fatal, "{e}");
    assert!(fake.calls().is_empty());
}
