//! NAVER Cloud answers: Global DNS v1 bodies (domain listing pages, record
//! pages, writes, apply) read by `clouds::ncp::dns::NcpDns` over a scripted
//! sender, error bodies (`ncp::errors::api_error`), and the metadata server's
//! role credential document (`ncp::metadata::parse`).
//!
//! Input: the first line is the name worked on, then answers separated by
//! `===` lines, each a status line and a body (see `common::Script`); the whole
//! input is also one error body and one credential document.
//!
//! Invariants: no panic and no endless loop (paging is bounded); every error
//! is one non-empty line; a read gives each name asked, in order, with one id
//! per record; a credential document gives non-empty keys marked refreshable,
//! `Debug` hides the secret, and what `parse` decides and says does not change
//! when the keys' values are replaced (no value is ever echoed).
#![no_main]

mod common;

use common::{Script, check_api_error};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::cloud_api::FnSender;
use otc_acme_hook::clouds::ncp::dns::NcpDns;
use otc_acme_hook::clouds::ncp::errors::api_error;
use otc_acme_hook::clouds::ncp::metadata;
use otc_acme_hook::clouds::ncp::{Keys, Secret};
use serde_json::Value;

const FALLBACK_NAME: &str = "_acme-challenge.www.example.com.";
const ROLE: &str = "fuzz-role";

fn fuzz_dns(data: &[u8]) {
    let script = Script::new(data);
    let name = match script.name.as_str() {
        n if n.contains('.') && n.len() < 200 => n.to_ascii_lowercase(),
        _ => FALLBACK_NAME.to_string(),
    };
    let dns = NcpDns::new(FnSender(|m: &str, p: &str, _b: Option<&[u8]>| {
        script.answer(m, p)
    }));
    common::drive_dns(&dns, &name, 300);
    assert!(script.calls.lock().unwrap().len() < 2000, "too many calls");
}

fn fuzz_error(status: u16, body: &[u8]) {
    let e = api_error(status, body);
    check_api_error("api_error", &e);
    assert_eq!(e.http_status(), Some(status));
}

/// The document with both keys' values replaced by fixed ones of the same
/// emptiness; `None` when it is not an object holding one of them.
fn keys_replaced(v: &Value) -> Option<(Vec<u8>, Vec<u8>)> {
    let obj = v.as_object()?;
    if !obj.contains_key("AccessKeyId") && !obj.contains_key("SecretAccessKey") {
        return None;
    }
    let mut w = v.clone();
    for (k, fixed) in [("AccessKeyId", "ACCESS"), ("SecretAccessKey", "SECRET")] {
        if let Some(Value::String(s)) = w.get_mut(k)
            && !s.is_empty()
        {
            *s = fixed.to_string();
        }
    }
    Some((serde_json::to_vec(v).ok()?, serde_json::to_vec(&w).ok()?))
}

fn check_keys(k: &Keys) {
    assert!(!k.access.is_empty() && !k.secret.expose().is_empty());
    assert!(k.refreshable);
    assert_eq!(k.source, "server role");
    let mut twin = k.clone();
    twin.secret = Secret::new("another secret");
    assert_eq!(
        format!("{k:?}"),
        format!("{twin:?}"),
        "Debug shows the secret"
    );
}

fn fuzz_metadata(data: &[u8]) {
    match metadata::parse(data, ROLE) {
        Ok(k) => check_keys(&k),
        Err(e) => common::assert_one_line("metadata", &e),
    }
    let Some((same, replaced)) = serde_json::from_slice::<Value>(data)
        .ok()
        .as_ref()
        .and_then(keys_replaced)
    else {
        return;
    };
    match (
        metadata::parse(&same, ROLE),
        metadata::parse(&replaced, ROLE),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(a.expires_at, b.expires_at),
        (Err(a), Err(b)) => assert_eq!(a, b, "the error depends on a key's value"),
        (a, b) => panic!(
            "outcome depends on a key's value: {:?} vs {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    fuzz_dns(data);
    const STATUSES: [u16; 7] = [400, 401, 403, 404, 409, 429, 500];
    fuzz_error(STATUSES[data.len() % STATUSES.len()], data);
    fuzz_metadata(data);
});
