//! DNS v2 API answers: the typed bodies the client reads, and error answers.
//!
//! Invariants: no panic; the typed parse agrees with a generic JSON parse of the
//! same bytes; the state helpers of a record set agree with each other; an error
//! answer is one line whose kind follows OTC's code, else the status; its
//! message is the known error shape's redacted message, never other JSON, or
//! at most 120 characters of a non-JSON body, trimmed, escaped, never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otc_acme_hook::api_error::Kind;
use otc_acme_hook::clouds::otc::errors::status_error;
use otc_acme_hook::clouds::otc::types::{
    ErrorBody, NameServers, RecordSet, RecordSetList, Zone, ZoneList,
};
use otc_acme_hook::http::Response;
use otc_acme_hook::redact::{error_excerpt, escape_controls};
use serde_json::Value;

fn check_zone(z: &Zone, v: &Value) {
    // serde also reads a struct from an array of its fields: compare objects only.
    if !v.is_object() {
        return;
    }
    assert_eq!(v["id"].as_str(), Some(z.id.as_str()));
    assert_eq!(v["name"].as_str(), Some(z.name.as_str()));
    let public = z
        .zone_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("public"));
    assert_eq!(z.is_public(), public);
}

fn check_recordset(r: &RecordSet, v: &Value) {
    assert_eq!(r.is_active(), r.status() == "ACTIVE");
    assert!(!(r.is_active() && r.is_pending()));
    if !v.is_object() {
        return;
    }
    assert_eq!(r.status(), v["status"].as_str().unwrap_or("ACTIVE"));
    assert_eq!(v["id"].as_str(), Some(r.id.as_str()));
    assert_eq!(v["type"].as_str(), Some(r.rtype.as_str()));
    let records: Vec<&str> = v["records"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(records, r.records);
    assert_eq!(v["ttl"].as_u64(), r.ttl.map(u64::from));
}

fn fuzz_types(data: &[u8]) {
    // A generic parse refuses some numbers the typed one skips (1e999 in an
    // unknown field); only compare when it reads the bytes.
    let value = serde_json::from_slice::<Value>(data)
        .ok()
        .filter(Value::is_object);
    if let Ok(list) = serde_json::from_slice::<ZoneList>(data)
        && let Some(v) = &value
    {
        let zs = v["zones"].as_array().map(Vec::as_slice).unwrap_or_default();
        assert_eq!(zs.len(), list.zones.len());
        list.zones
            .iter()
            .zip(zs)
            .for_each(|(z, v)| check_zone(z, v));
        if !v["links"].is_array() {
            let next = list.links.as_ref().and_then(|l| l.next.as_deref());
            assert_eq!(next, v["links"]["next"].as_str());
        }
    }
    if let Ok(list) = serde_json::from_slice::<RecordSetList>(data)
        && let Some(v) = &value
    {
        let rs = v["recordsets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(rs.len(), list.recordsets.len());
        list.recordsets
            .iter()
            .zip(rs)
            .for_each(|(r, v)| check_recordset(r, v));
    }
    if let Ok(r) = serde_json::from_slice::<RecordSet>(data) {
        assert_eq!(r.is_active(), r.status() == "ACTIVE");
        if let Some(v) = &value {
            check_recordset(&r, v);
            // Reading the generic value back gives the same record set.
            assert_eq!(serde_json::from_value::<RecordSet>(v.clone()).ok(), Some(r));
        }
    }
    if let Ok(ns) = serde_json::from_slice::<NameServers>(data)
        && let Some(v) = &value
    {
        let hosts: Vec<Option<&str>> = ns
            .nameservers
            .iter()
            .map(|n| n.hostname.as_deref())
            .collect();
        let want: Vec<Option<&str>> = v["nameservers"]
            .as_array()
            .map(|a| a.iter().map(|n| n["hostname"].as_str()).collect())
            .unwrap_or_default();
        let all_objects = v["nameservers"]
            .as_array()
            .is_none_or(|a| a.iter().all(Value::is_object));
        if all_objects {
            assert_eq!(hosts, want);
        }
    }
}

fn fuzz_error(data: &[u8]) {
    let status = [400u16, 401, 403, 404, 429, 500, 503][data.len() % 7];
    let resp = Response {
        status,
        headers: vec![],
        body: data.to_vec(),
    };
    let e = status_error(&resp);
    assert_eq!(e.http_status(), Some(status));
    let body: ErrorBody = serde_json::from_slice(data).unwrap_or_default();
    let code = body.code.clone().or(body.error_code.clone());
    assert_eq!(e.code(), code.as_deref().map(escape_controls).as_deref());
    // OTC's codes first, then the status.
    let kind = match code.as_deref() {
        Some("DNS.0312" | "DNS.0313") => Kind::Conflict,
        Some("DNS.0314") => Kind::NotSettled,
        Some("DNS.0014") => Kind::Throttled,
        _ => Kind::of_status(status),
    };
    assert_eq!(e.kind(), kind);
    assert_eq!(
        e.is_transient(),
        matches!(kind, Kind::Transient | Kind::Throttled)
    );
    let hinted =
        status == 401 || (status == 403 && kind == Kind::Permission) || kind == Kind::Throttled;
    assert_eq!(e.hint().is_some(), hinted);
    let text = e.to_string();
    assert!(!text.contains(['\n', '\r']), "not one line: {text:?}");
    let prefix = format!("HTTP {status}");
    assert!(text.starts_with(&prefix), "{text:?}");
    let message = match (e.code(), text.strip_prefix(&prefix)) {
        (Some(c), Some(rest)) => rest.strip_prefix(&format!(" {c}: ")).unwrap(),
        (None, Some(rest)) => rest.strip_prefix(": ").unwrap(),
        _ => unreachable!(),
    };
    assert!(!message.trim().is_empty());
    match error_excerpt(data) {
        // A known error shape: its (redacted) message only.
        Some((_, m)) => assert_eq!(message, m),
        // Other JSON is never quoted: it may hold anything.
        None if serde_json::from_slice::<Value>(data).is_ok() => {
            assert_eq!(message, "no error detail we can show")
        }
        // Not JSON (a proxy's page): at most 120 characters of it, trimmed,
        // control characters escaped.
        None => {
            let first: String = String::from_utf8_lossy(data).chars().take(120).collect();
            let want = match first.trim() {
                "" => "no error detail".to_string(),
                t => escape_controls(t),
            };
            assert_eq!(message, want);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    fuzz_types(data);
    fuzz_error(data);
});
