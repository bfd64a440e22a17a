//! NAVER Cloud's API Gateway signature v2 (`clouds::ncp::auth`).
//!
//! Before the first input, every vector of
//! `tests/fixtures/ncp-signing-vectors.json` (the NCP SDK's answers, and
//! independent ones) must give its string to sign and its three headers
//! exactly, through `http::Url::parse` and `auth::authorize`.
//!
//! Input: lines (invalid UTF-8 read lossily): method, URL, timestamp in ms
//! (unparsable: taken from the input's bytes), access key, secret key, an
//! HTTP `Date`; the rest is data for the base64 encoder.
//!
//! Invariants: no panic; the string to sign is `METHOD path\nts\naccess`; the
//! signature decodes (base64, decoded here independently) to the HMAC-SHA256
//! of that string under the secret; the headers are the timestamp, the access
//! key and that signature; a URL that parses is signed on its path and query;
//! `base64` decodes back to its input and pads to a multiple of 4; a clock
//! skew is reported only beyond the gateway's window.
#![no_main]

use std::sync::Once;

use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::clouds::ncp::auth::{
    self, WINDOW_MS, authorize, headers, path_and_query, skew_beyond_window, string_to_sign,
};
use otc_acme_hook::clouds::ncp::{Keys, Secret};
use otc_acme_hook::http::Url;
use serde_json::Value;
use sha2::Sha256;

const VECTORS: &str = include_str!("../../tests/fixtures/ncp-signing-vectors.json");

/// Standard base64 with padding, decoded strictly (an independent reader).
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for (n, chunk) in b.chunks(4).enumerate() {
        let last = n + 1 == b.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut v = 0u32;
        for &c in &chunk[..4 - pad] {
            v = (v << 6) | A.iter().position(|&x| x == c)? as u32;
        }
        v <<= 6 * pad as u32;
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

fn keys(access: &str, secret: &str) -> Keys {
    Keys::new(access, Secret::new(secret), None).from_source("fuzz")
}

fn check_vectors() {
    let doc: Value = serde_json::from_str(VECTORS).expect("vectors");
    let vectors = doc["vectors"].as_array().expect("vectors array");
    assert!(!vectors.is_empty());
    for v in vectors {
        let i = &v["inputs"];
        let s = |k: &str| i[k].as_str().expect(k);
        let url = Url::parse(s("url")).expect("vector URL");
        let ts: i64 = s("timestamp_ms").parse().unwrap();
        assert_eq!(
            string_to_sign(
                s("method"),
                &path_and_query(&url),
                s("timestamp_ms"),
                s("access_key")
            ),
            v["string_to_sign"].as_str().unwrap()
        );
        let mut got = authorize(
            &keys(s("access_key"), s("secret_key")),
            s("method"),
            &url,
            ts,
        );
        let mut want: Vec<(String, String)> = v["expected_headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "vector {}", s("url"));
    }
}

static VECTORS_CHECKED: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    VECTORS_CHECKED.call_once(check_vectors);
    let mut parts = data.splitn(7, |&b| b == b'\n');
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (method, url, ts, access, secret, date) = (next(), next(), next(), next(), next(), next());
    let rest = data.splitn(7, |&b| b == b'\n').nth(6).unwrap_or_default();
    let mut t = [0u8; 8];
    data.iter().take(8).zip(&mut t).for_each(|(b, t)| *t = *b);
    let from_bytes = i64::from_le_bytes(t);
    let ts_ms = ts.trim().parse::<i64>().unwrap_or(from_bytes);
    let ts_text = ts_ms.to_string();

    // The path signed as given, and as a parsed URL gives it.
    let k = keys(&access, &secret);
    let mut targets = vec![url.clone()];
    if let Ok(u) = Url::parse(&url) {
        let pq = path_and_query(&u);
        assert!(pq.starts_with('/'), "{pq:?}");
        assert_eq!(
            authorize(&k, &method, &u, ts_ms),
            headers(&k, &method, &pq, ts_ms)
        );
        targets.push(pq);
    }
    for pq in &targets {
        let sts = string_to_sign(&method, pq, &ts_text, &access);
        assert_eq!(
            sts,
            format!("{} {pq}\n{ts_text}\n{access}", method.to_ascii_uppercase())
        );
        let sig = auth::signature(&secret, &method, pq, &ts_text, &access);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        let want = mac.finalize().into_bytes();
        assert_eq!(
            b64_decode(&sig).as_deref(),
            Some(&want[..]),
            "signature {sig:?}"
        );
        let h = headers(&k, &method, pq, ts_ms);
        assert_eq!(
            h,
            [
                (auth::HEADER_TIMESTAMP.to_string(), ts_text.clone()),
                (auth::HEADER_ACCESS_KEY.to_string(), access.clone()),
                (auth::HEADER_SIGNATURE.to_string(), sig),
            ]
        );
    }

    let enc = otc_acme_hook::encoding::base64(rest);
    assert_eq!(enc.len(), rest.len().div_ceil(3) * 4);
    assert_eq!(b64_decode(&enc).as_deref(), Some(rest), "base64 {enc:?}");

    // The local clock: any time from 1970 to the year 9999 (a clock's range).
    let now_ms = from_bytes.rem_euclid(253_402_300_800_000);
    if let Some(skew) = skew_beyond_window(&date, now_ms) {
        assert!(skew.abs() > WINDOW_MS - 1000, "{skew}");
    }
});
