//! The classic application-key signature of OVH API v1 (ovh-api.md §4):
//! `X-Ovh-Signature: $1$` + lower-hex SHA-1 of
//! `AS+CK+METHOD+FULL_URL+BODY+TIMESTAMP` (joined by `+`), where FULL_URL is
//! the absolute URL with its query and BODY the exact bytes sent.

use sha1::{Digest, Sha1};

/// What a classic signature covers besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Absolute URL exactly as sent, query included.
    pub full_url: &'a str,
    /// Exact body bytes (empty when none).
    pub body: &'a [u8],
    /// Unix seconds, already corrected by the server's `/auth/time`.
    pub timestamp: i64,
}

/// The classic keys: the application key and secret, and the consumer key.
pub struct Keys<'a> {
    pub application_key: &'a str,
    pub application_secret: &'a str,
    pub consumer_key: &'a str,
}

/// The bytes hashed: `AS+CK+METHOD+URL+BODY+TS`.
pub fn string_to_hash(k: &Keys<'_>, r: &Request<'_>) -> Vec<u8> {
    let mut s = Vec::with_capacity(128 + r.full_url.len() + r.body.len());
    for (i, part) in [
        k.application_secret.as_bytes(),
        k.consumer_key.as_bytes(),
        r.method.as_bytes(),
        r.full_url.as_bytes(),
        r.body,
        r.timestamp.to_string().as_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            s.push(b'+');
        }
        s.extend_from_slice(part);
    }
    s
}

/// `$1$` + hex SHA-1 of [`string_to_hash`].
pub fn signature(k: &Keys<'_>, r: &Request<'_>) -> String {
    format!("$1${}", hex::encode(Sha1::digest(string_to_hash(k, r))))
}

/// The four `X-Ovh-*` headers of a signed request.
pub fn headers(k: &Keys<'_>, r: &Request<'_>) -> Vec<(String, String)> {
    vec![
        ("X-Ovh-Application".into(), k.application_key.to_string()),
        ("X-Ovh-Consumer".into(), k.consumer_key.to_string()),
        ("X-Ovh-Timestamp".into(), r.timestamp.to_string()),
        ("X-Ovh-Signature".into(), signature(k, r)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../tests/fixtures/ovh-signing-vectors.json");

    #[test]
    fn every_shared_vector_byte_for_byte() {
        let doc: Value = serde_json::from_str(VECTORS).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 7, "the fixture holds seven vectors");
        for v in vectors {
            let i = &v["inputs"];
            let s = |k: &str| i[k].as_str().unwrap();
            let keys = Keys {
                application_key: s("application_key"),
                application_secret: s("application_secret"),
                consumer_key: s("consumer_key"),
            };
            let req = Request {
                method: s("method"),
                full_url: s("full_url"),
                body: s("body").as_bytes(),
                timestamp: s("timestamp").parse().unwrap(),
            };
            assert_eq!(
                String::from_utf8(string_to_hash(&keys, &req)).unwrap(),
                v["string_to_hash"].as_str().unwrap(),
                "{}",
                s("full_url")
            );
            let want: Vec<(String, String)> = v["expected_headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let mut got = headers(&keys, &req);
            got.sort();
            let mut want = want;
            want.sort();
            assert_eq!(got, want, "{}", s("full_url"));
        }
    }

    #[test]
    fn sha1_of_a_known_message() {
        // FIPS 180 "abc", so a wrong hash would not hide behind the fixture alone.
        assert_eq!(
            hex::encode(Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
