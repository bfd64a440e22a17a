//! OVH's classic application-key signature (`clouds::ovh::sign`).
//!
//! Before the first input, every vector of
//! `tests/fixtures/ovh-signing-vectors.json` (python-ovh's own answers) must
//! give its string to hash and its four headers exactly.
//!
//! Input: lines (invalid UTF-8 read lossily): method, full URL, timestamp
//! (unparsable: taken from the input's bytes), application key, application
//! secret, consumer key, then the body's exact bytes.
//!
//! Invariants: no panic; the string to hash is the six parts joined by `+`;
//! the signature is `$1$` and the lower-hex SHA-1 of that string, computed
//! here independently; the headers are the keys, the timestamp and that
//! signature, in order, and the timestamp and signature headers never hold
//! the application secret.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use otc_acme_hook::clouds::ovh::auth::{Keys, Request, headers, signature, string_to_hash};
use serde_json::Value;
use sha1::{Digest, Sha1};

const VECTORS: &str = include_str!("../../tests/fixtures/ovh-signing-vectors.json");

fn check_vectors() {
    let doc: Value = serde_json::from_str(VECTORS).expect("vectors");
    let vectors = doc["vectors"].as_array().expect("vectors array");
    assert!(!vectors.is_empty());
    for v in vectors {
        let i = &v["inputs"];
        let s = |k: &str| i[k].as_str().expect(k);
        let k = Keys {
            application_key: s("application_key"),
            application_secret: s("application_secret"),
            consumer_key: s("consumer_key"),
        };
        let r = Request {
            method: s("method"),
            full_url: s("full_url"),
            body: s("body").as_bytes(),
            timestamp: s("timestamp").parse().expect("timestamp"),
        };
        assert_eq!(
            string_to_hash(&k, &r),
            v["string_to_hash"].as_str().unwrap().as_bytes()
        );
        let want: Vec<(String, String)> = v["expected_headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let mut got = headers(&k, &r);
        let mut want = want;
        got.sort();
        want.sort();
        assert_eq!(got, want, "vector {}", s("full_url"));
    }
}

static VECTORS_CHECKED: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    VECTORS_CHECKED.call_once(check_vectors);
    let mut parts = data.splitn(7, |&b| b == b'\n');
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (method, url, ts, ak, secret, ck) = (next(), next(), next(), next(), next(), next());
    let body = data.splitn(7, |&b| b == b'\n').nth(6).unwrap_or_default();
    let timestamp = ts.trim().parse::<i64>().unwrap_or_else(|_| {
        let mut t = [0u8; 8];
        data.iter().take(8).zip(&mut t).for_each(|(b, t)| *t = *b);
        i64::from_le_bytes(t)
    });
    let k = Keys {
        application_key: &ak,
        application_secret: &secret,
        consumer_key: &ck,
    };
    let r = Request {
        method: &method,
        full_url: &url,
        body,
        timestamp,
    };

    let hashed = string_to_hash(&k, &r);
    let mut expected = Vec::new();
    for (i, part) in [
        secret.as_bytes(),
        ck.as_bytes(),
        method.as_bytes(),
        url.as_bytes(),
        body,
        timestamp.to_string().as_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            expected.push(b'+');
        }
        expected.extend_from_slice(part);
    }
    assert_eq!(hashed, expected, "string to hash");

    let sig = signature(&k, &r);
    let digest = Sha1::digest(&expected);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sig, format!("$1${hex}"), "signature");

    let h = headers(&k, &r);
    let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "X-Ovh-Application",
            "X-Ovh-Consumer",
            "X-Ovh-Timestamp",
            "X-Ovh-Signature"
        ]
    );
    assert_eq!(h[0].1, ak);
    assert_eq!(h[1].1, ck);
    assert_eq!(h[2].1, timestamp.to_string());
    assert_eq!(h[3].1, sig);
    // The timestamp and signature headers are digits, `-`, `$` and hex: a
    // secret with any other character cannot show up there by chance.
    let could_be_chance = secret.chars().all(|c| "0123456789abcdef$-".contains(c));
    if !could_be_chance {
        assert!(
            h.iter().skip(2).all(|(_, v)| !v.contains(&secret)),
            "a header holds the application secret"
        );
    }
});
