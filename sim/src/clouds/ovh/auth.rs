//! The OVH side's own checks, apart from the product's code on purpose: the
//! classic signature (ovh-api.md §4), form and query decoding, the API's
//! `LIKE`/`ILIKE` filters, and token generation.

use sha1::{Digest, Sha1};

/// First value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `$1$` + hex SHA-1 of `AS+CK+METHOD+URL+BODY+TS`, recomputed from what was received.
pub fn classic_signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    full_url: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    let mut h = Sha1::new();
    h.update(application_secret.as_bytes());
    h.update(b"+");
    h.update(consumer_key.as_bytes());
    h.update(b"+");
    h.update(method.as_bytes());
    h.update(b"+");
    h.update(full_url.as_bytes());
    h.update(b"+");
    h.update(body);
    h.update(b"+");
    h.update(timestamp.as_bytes());
    format!("$1${}", hex::encode(h.finalize()))
}

fn unhex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `a=b&c=d` with `%XX` and `+` (space) decoded; a malformed escape is kept as is.
pub fn parse_form(raw: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &[u8]| {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => match (unhex(s[i + 1]), unhex(s[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    raw.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// SQL `LIKE` (`ILIKE` when `fold`): `%` any run, `_` any one character.
pub fn like(pattern: &str, text: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    // matches[j]: p[..i] matches t[..j].
    let mut matches = vec![false; t.len() + 1];
    matches[0] = true;
    for pc in &p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match pc {
                '%' => matches[j] || (j > 0 && next[j - 1]),
                '_' => j > 0 && matches[j - 1],
                c => j > 0 && matches[j - 1] && t[j - 1] == *c,
            };
        }
        matches = next;
    }
    matches[t.len()]
}

/// A fresh bearer token: 64 hex characters from the process's random hasher
/// keys, the time and a sequence number (unique, unguessable enough for tests).
pub fn random_token(seq: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = sha2::Sha256::new();
    for _ in 0..2 {
        let mut x = std::collections::hash_map::RandomState::new().build_hasher();
        x.write_u64(seq);
        sha2::Digest::update(&mut h, x.finish().to_le_bytes());
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    sha2::Digest::update(&mut h, nanos.to_le_bytes());
    sha2::Digest::update(&mut h, seq.to_le_bytes());
    hex::encode(sha2::Digest::finalize(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_of_the_first_shared_vector() {
        // tests/fixtures/ovh-signing-vectors.json (root crate), vectors 1 and 3.
        assert_eq!(
            classic_signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL",
                "GET",
                "https://eu.api.ovh.com/1.0/domain/zone",
                b"",
                "1700000000"
            ),
            "$1$67bbfa3a13ddb46cd3682091290a5c0856f72b1f"
        );
        assert_eq!(
            classic_signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL",
                "POST",
                "https://eu.api.ovh.com/1.0/domain/zone/example.com/record",
                br#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0","ttl":60}"#,
                "1700000002"
            ),
            "$1$7f47e2c7860c13d70c061e298fea24d9becae007"
        );
    }

    #[test]
    fn forms_and_patterns() {
        assert_eq!(
            parse_form(b"a=b%26c&d=e+f&g&h=%zz"),
            [
                ("a".to_string(), "b&c".to_string()),
                ("d".into(), "e f".into()),
                ("g".into(), String::new()),
                ("h".into(), "%zz".into()),
            ]
        );
        assert_eq!(parse_form(b"x=%2"), [("x".to_string(), "%2".to_string())]);
        assert!(like("_acme-challenge", "xacme-challenge", true));
        assert!(like("_ACME-challenge", "_acme-challenge", true));
        assert!(!like("_ACME-challenge", "_acme-challenge", false));
        assert!(like("%", "", false) && like("a%c", "abbc", false) && !like("a_c", "ac", false));
        assert!(like("", "", true) && !like("", "a", true));
    }

    #[test]
    fn tokens_differ() {
        let (a, b) = (random_token(1), random_token(1));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
