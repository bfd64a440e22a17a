//! DNS v2 API answers: the typed bodies the client reads, and error answers.
//!
//! Invariants: no panic; the typed parse agrees with a generic JSON parse of the
//! same bytes; the state helpers of a record set agree with each other; an error
//! answer always yields a one-line-safe message: the body's own message field,
//! or at most 120 characters of the body, trimmed, never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otc_acme_hook::dns_api::types::{
    ErrorBody, NameServers, RecordSet, RecordSetList, Zone, ZoneList,
};
use otc_acme_hook::http::Response;
use otc_acme_hook::signed::status_error;
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
    assert_eq!(e.status(), Some(status));
    let body: ErrorBody = serde_json::from_slice(data).unwrap_or_default();
    let code = body.code.clone().or(body.error_code.clone());
    assert_eq!(e.code(), code.as_deref());
    assert_eq!(e.is_exists(), code.as_deref() == Some("DNS.0312"));
    assert_eq!(e.is_not_steady(), code.as_deref() == Some("DNS.0314"));
    assert_eq!(
        e.is_transient(),
        matches!(status, 429 | 500 | 502 | 503 | 504)
    );
    assert_eq!(e.hint().is_some(), matches!(status, 401 | 403 | 429));
    let text = e.to_string();
    let prefix = format!("HTTP {status}");
    assert!(text.starts_with(&prefix), "{text:?}");
    let message = match (&code, text.strip_prefix(&prefix)) {
        (Some(c), Some(rest)) => rest.strip_prefix(&format!(" {c}: ")).unwrap(),
        (None, Some(rest)) => rest.strip_prefix(": ").unwrap(),
        _ => unreachable!(),
    };
    match body.message.or(body.error_msg) {
        Some(m) => assert_eq!(message, m),
        None => {
            // The body itself, cut to 120 characters and trimmed.
            assert!(!message.is_empty());
            assert!(message.chars().count() <= 120, "{message:?}");
            assert_eq!(message, message.trim());
            let lossy = String::from_utf8_lossy(data);
            assert!(message == "no error detail" || lossy.contains(message));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    fuzz_types(data);
    fuzz_error(data);
});
