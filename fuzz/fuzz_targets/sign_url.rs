//! The signer's canonicalisation (`auth::{encode, decode, canonical_uri,
//! canonical_query, parse_query, sign}`) and `http::Url::parse`.
//!
//! Input: lines (invalid UTF-8 is read lossily), so seeds stay readable:
//! method, path, query (raw, parsed with `parse_query`: `%XX` gives any pair),
//! a URL, headers (raw query form: `name=value&...`), then the body. The
//! body's length picks a security token, a project id and the date.
//!
//! Invariants: no panic; `decode(encode(s)) == s`; encoded text holds only
//! unreserved characters and upper-case `%XX`; the canonical query is sorted,
//! holds only those plus `=` and `&`, and parses back to the same pairs; the
//! canonical URI starts and ends with `/` and is idempotent; a signature is the
//! HMAC of the string to sign, whose hash line is the canonical request's;
//! `Debug` of a signed request is the same whatever the token and secret; a
//! parsed URL is http(s), has a lower-case host, and its origin parses back.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::clouds::otc::auth::{self, Request};
use otc_acme_hook::clouds::otc::credentials::{self, Credentials, Secret};
use otc_acme_hook::http::Url;
use sha2::{Digest, Sha256};

const SECRET: &str = "FUZZ-SECRET-KEY-0123456789abcdef";
const TOKEN: &str = "FUZZ-SECURITY-TOKEN-5b1f0e7c";

struct Input {
    raw: String,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    project: Option<String>,
    with_token: bool,
    time: i64,
}

impl Input {
    fn new(data: &[u8]) -> Input {
        let mut parts = data.splitn(6, |&b| b == b'\n');
        let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let (method, path, raw_query, url, raw_headers) = (next(), next(), next(), next(), next());
        let body = data
            .splitn(6, |&b| b == b'\n')
            .nth(5)
            .unwrap_or_default()
            .to_vec();
        let mut t = [0u8; 8];
        body.iter().take(8).zip(&mut t).for_each(|(b, t)| *t = *b);
        Input {
            query: auth::parse_query(&raw_query),
            headers: auth::parse_query(&raw_headers),
            raw: url,
            method,
            path,
            project: (body.len() % 3 == 0).then(|| "0123456789abcdef".to_string()),
            with_token: body.len() % 2 == 0,
            time: i64::from_le_bytes(t),
            body,
        }
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Only unreserved bytes, upper-case `%XX`, and the bytes in `extra`.
fn assert_canonical(s: &str, extra: &[u8]) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
            assert!(
                i + 2 < b.len() && hex(b[i + 1]) && hex(b[i + 2]),
                "bad escape in {s:?}"
            );
            i += 3;
        } else {
            assert!(unreserved(b[i]) || extra.contains(&b[i]), "{s:?}");
            i += 1;
        }
    }
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn check_encoding(s: &str) {
    let e = otc_acme_hook::encoding::percent_encode(s);
    assert_canonical(&e, b"");
    assert_eq!(auth::decode(&e), s);
    if !s.contains('%') {
        assert_eq!(auth::decode(s), s);
    }
}

fn check_query(pairs: &[(String, String)]) {
    let q = auth::canonical_query(pairs);
    assert_canonical(&q, b"=&");
    let encoded: Vec<(String, String)> = if q.is_empty() {
        vec![]
    } else {
        q.split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("every pair has `=`");
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    assert_eq!(encoded.len(), pairs.len());
    assert!(encoded.is_sorted(), "not sorted: {q:?}");
    // Decoded back, the same multiset of pairs.
    let back = auth::parse_query(&q);
    assert_eq!(sorted(back), sorted(pairs.to_vec()));
}

fn check_uri(path: &str) {
    let c = auth::canonical_uri(path);
    assert!(c.starts_with('/') && c.ends_with('/'), "{c:?}");
    assert_canonical(&c, b"/");
    assert_eq!(auth::canonical_uri(&c), c, "not idempotent for {path:?}");
}

fn check_raw_query(raw: &str) {
    let pairs = auth::parse_query(raw);
    assert!(pairs.len() <= raw.split('&').count());
    // Any parsed query re-encodes and parses back to itself.
    let back = auth::parse_query(&auth::canonical_query(&pairs));
    assert_eq!(sorted(back), sorted(pairs));
}

fn check_url(raw: &str) {
    let Ok(u) = Url::parse(raw) else { return };
    assert!(u.scheme == "http" || u.scheme == "https", "{u:?}");
    assert!(!u.host.is_empty(), "{u:?}");
    assert!(
        !u.host
            .chars()
            .any(|c| c.is_ascii_uppercase() || c == '[' || c == ']')
    );
    assert!(!u.path.is_empty(), "{u:?}");
    let origin = u.origin();
    let again = Url::parse(&origin).unwrap_or_else(|e| panic!("origin {origin:?} of {raw:?}: {e}"));
    assert_eq!(
        (&again.scheme, &again.host),
        (&u.scheme, &u.host),
        "{raw:?}"
    );
    let default = if u.scheme == "http" { 80 } else { 443 };
    assert_eq!(
        again.port.unwrap_or(default),
        u.port.unwrap_or(default),
        "{raw:?}"
    );
    assert_eq!(again.host_header(), u.host_header());
    let _ = u.is_loopback();
}

fn check_sign(i: &Input) {
    let creds = Credentials::new(
        "FUZZAK0000",
        Secret::new(SECRET),
        i.with_token.then(|| Secret::new(TOKEN)),
    );
    let date = auth::sdk_date(i.time);
    let req = Request {
        method: &i.method,
        host: "dns.example.test",
        path: &i.path,
        query: &i.query,
        headers: &i.headers,
        body: &i.body,
    };
    let s = auth::sign(&req, &credentials::key(&creds), i.project.as_deref(), &date);
    let again = auth::sign(&req, &credentials::key(&creds), i.project.as_deref(), &date);
    assert_eq!(s.authorization, again.authorization, "not deterministic");

    assert_eq!(s.query_string, auth::canonical_query(&i.query));
    let head = format!(
        "{}\n{}\n{}\n",
        i.method,
        auth::canonical_uri(&i.path),
        s.query_string
    );
    assert!(s.canonical_request.starts_with(&head));
    let body_hash = hex::encode(Sha256::digest(&i.body));
    assert!(s.canonical_request.ends_with(&format!("\n{body_hash}")));
    let request_hash = hex::encode(Sha256::digest(s.canonical_request.as_bytes()));
    assert_eq!(
        s.string_to_sign,
        format!("{}\n{date}\n{request_hash}", auth::ALGORITHM)
    );

    // Signed headers: every header name, lower-case, sorted (names holding
    // `;` would blur the list; callers only sign fixed names).
    if !i.headers.iter().any(|(k, _)| k.contains(';')) {
        let names: Vec<&str> = s.signed_headers.split(';').collect();
        assert!(names.is_sorted(), "{:?}", s.signed_headers);
        assert!(names.contains(&"host") && names.contains(&"x-sdk-date"));
        assert!(!i.with_token || names.contains(&"x-security-token"));
        let project = i.project.as_deref().is_some_and(|p| !p.is_empty());
        let expected = i.headers.len() + 2 + usize::from(i.with_token) + usize::from(project);
        assert_eq!(names.len(), expected);
        assert!(
            !names
                .iter()
                .any(|n| n.chars().any(|c| c.is_ascii_uppercase()))
        );
    }

    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(s.string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    assert_eq!(
        s.authorization,
        format!(
            "{} Access=FUZZAK0000, SignedHeaders={}, Signature={signature}",
            auth::ALGORITHM,
            s.signed_headers
        )
    );
    assert_eq!(
        s.headers.last(),
        Some(&("Authorization".to_string(), s.authorization.clone()))
    );

    // Debug never shows the token or the secret: it prints the same with
    // others. (A substring test would be fooled by the input: the encoded
    // query `Con%2FUZZ-...` holds `FUZZ-...`.)
    let other = Credentials::new(
        "FUZZAK0000",
        Secret::new("other secret"),
        i.with_token.then(|| Secret::new("other token")),
    );
    let s2 = auth::sign(&req, &credentials::key(&other), i.project.as_deref(), &date);
    assert_ne!(s.authorization, s2.authorization);
    assert_eq!(
        format!("{s:?}"),
        format!("{s2:?}"),
        "Debug depends on a secret"
    );

    // X-Sdk-Date: YYYYMMDDTHHMMSSZ for years 0..=9999.
    if (-62_167_219_200..=253_402_300_799).contains(&i.time) {
        let d = date.as_bytes();
        assert_eq!(d.len(), 16, "{date:?}");
        assert!(d[8] == b'T' && d[15] == b'Z', "{date:?}");
        assert!(
            d.iter()
                .enumerate()
                .all(|(n, c)| n == 8 || n == 15 || c.is_ascii_digit()),
            "{date:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let i = Input::new(data);
    check_encoding(&String::from_utf8_lossy(data));
    for s in [&i.raw, &i.method, &i.path] {
        check_encoding(s);
    }
    for (k, v) in &i.query {
        check_encoding(k);
        check_encoding(v);
    }
    check_query(&i.query);
    check_uri(&i.path);
    check_uri(&i.raw);
    check_raw_query(&i.raw);
    check_url(&i.raw);
    check_sign(&i);
});
