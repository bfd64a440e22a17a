//! The OVH side's own checks, apart from the product's code on purpose: the
//! classic signature (ovh-api.md §4), the API's `LIKE`/`ILIKE` filters
//! (a query read as a form: the core's `http::form_pairs`), and tokens.

use sha1::{Digest, Sha1};

use crate::core::clock;

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

/// A fresh bearer token: 64 hex characters from the core's random source.
pub fn new_token() -> String {
    hex::encode(clock::random_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http;

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
            http::form_pairs(b"a=b%26c&d=e+f&g&h=%zz"),
            [
                ("a".to_string(), "b&c".to_string()),
                ("d".into(), "e f".into()),
                ("g".into(), String::new()),
                ("h".into(), "%zz".into()),
            ]
        );
        assert_eq!(
            http::form_pairs(b"x=%2"),
            [("x".to_string(), "%2".to_string())]
        );
        assert!(like("_acme-challenge", "xacme-challenge", true));
        assert!(like("_ACME-challenge", "_acme-challenge", true));
        assert!(!like("_ACME-challenge", "_acme-challenge", false));
        assert!(like("%", "", false) && like("a%c", "abbc", false) && !like("a_c", "ac", false));
        assert!(like("", "", true) && !like("", "a", true));
    }

    #[test]
    fn tokens_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
