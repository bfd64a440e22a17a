//! Property tests (proptest) of the pure pieces the hook's correctness rests on:
//! the signer's canonical encoding (`auth`) and TXT set arithmetic (`txt`).
//! The same functions are fuzzed with `cargo fuzz` (see fuzz/ and scripts/fuzz.sh).

use otc_acme_hook::clouds::otc::auth::{canonical_query, canonical_uri, decode, parse_query};
use otc_acme_hook::encoding::percent_encode as encode;
use otc_acme_hook::txt::{Removal, add, contains, quote, remove, unquote, validate_value};
use proptest::prelude::*;

/// Cases per property; no regression files are written into tests/.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Only unreserved bytes, upper-case `%XX` escapes, and the bytes in `extra`.
fn is_canonical(s: &str, extra: &[u8]) -> bool {
    let b = s.as_bytes();
    let hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(i + 2 < b.len() && hex(b[i + 1]) && hex(b[i + 2])) {
                return false;
            }
            i += 3;
        } else if unreserved(b[i]) || extra.contains(&b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// Keys and values: any Unicode, plus the characters that matter to a query.
fn query_text() -> impl Strategy<Value = String> {
    let printable = "[\\PC]{0,8}";
    prop_oneof![any::<String>(), "[a-z0-9=&%+ ./~_-]{0,12}", printable]
}

/// A path segment: any Unicode (may hold `/` and `%`), or already escaped
/// text, malformed escapes included.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9._~-]{0,10}",
        "([a-z]{0,3}%[0-9A-Fa-fxz]{0,2}){0,3}",
        any::<String>().prop_map(|s| encode(&s)),
    ]
}

proptest! {
    #![proptest_config(config(2048))]

    /// `decode(encode(s)) == s` for any UTF-8, and encoded text is canonical.
    #[test]
    fn encode_then_decode_is_identity(s in any::<String>()) {
        let e = encode(&s);
        prop_assert!(is_canonical(&e, b""), "{e:?}");
        prop_assert_eq!(decode(&e), s);
    }

    /// Text without `%` decodes to itself (`+` included).
    #[test]
    fn decode_without_escapes_is_identity(s in "[^%]*") {
        prop_assert_eq!(decode(&s), s);
    }

    /// The canonical query is sorted, holds only unreserved characters,
    /// `%XX`, `=` and `&`, and parses back to the same multiset of pairs.
    #[test]
    fn canonical_query_is_sorted_encoded_and_round_trips(
        pairs in prop::collection::vec((query_text(), query_text()), 0..8)
    ) {
        let q = canonical_query(&pairs);
        prop_assert!(is_canonical(&q, b"=&"), "{q:?}");
        let encoded: Vec<(&str, &str)> = if q.is_empty() {
            vec![]
        } else {
            q.split('&').map(|p| p.split_once('=').expect("k=v")).collect()
        };
        prop_assert_eq!(encoded.len(), pairs.len());
        prop_assert!(encoded.is_sorted(), "not sorted: {q:?}");
        prop_assert_eq!(sorted(parse_query(&q)), sorted(pairs));
    }

    /// Whatever a raw query string parses to encodes and parses back to itself.
    #[test]
    fn parse_query_round_trips_through_canonical_query(raw in "([a-z%0-9A-F=&+]{0,6}|\\PC{0,3}){0,6}") {
        let pairs = parse_query(&raw);
        prop_assert_eq!(sorted(parse_query(&canonical_query(&pairs))), sorted(pairs));
    }

    /// The canonical URI starts and ends with `/`, is canonical, and is its own
    /// canonical form.
    #[test]
    fn canonical_uri_is_idempotent(
        segments in prop::collection::vec(segment(), 0..6),
        leading in any::<bool>(),
        trailing in any::<bool>(),
    ) {
        let mut path = segments.join("/");
        if leading {
            path.insert(0, '/');
        }
        if trailing {
            path.push('/');
        }
        let c = canonical_uri(&path);
        prop_assert!(c.starts_with('/') && c.ends_with('/'), "{c:?}");
        prop_assert!(is_canonical(&c, b"/"), "{c:?}");
        prop_assert_eq!(canonical_uri(&c), c);
    }

    /// A path canonicalises the same whether its segments are given plain or
    /// percent-encoded (decoded, then encoded once).
    #[test]
    fn canonical_uri_of_plain_and_escaped_segments_agree(
        segments in prop::collection::vec("[^/%]{0,8}", 0..6)
    ) {
        let plain = format!("/{}", segments.join("/"));
        let escaped: Vec<String> = segments.iter().map(|s| encode(s)).collect();
        let escaped = format!("/{}", escaped.join("/"));
        prop_assert_eq!(canonical_uri(&plain), canonical_uri(&escaped));
    }
}

/// An ACME validation value: base64url, 1..=255 characters.
fn acme_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,255}"
}

/// A record of someone else's, as OTC may store it: quoted, several quoted
/// character-strings, unquoted, with stray whitespace.
fn foreign_record() -> impl Strategy<Value = String> {
    let text = prop_oneof![any::<String>(), "[ -~]{0,20}", "v=spf1 [a-z: -]{0,20}"];
    let record = prop_oneof![
        text.clone().prop_map(|s| quote(&s)),
        prop::collection::vec(text.clone(), 2..4).prop_map(multi_string),
        text,
        acme_value().prop_map(|s| quote(&s)),
    ];
    (record, "[ \t]{0,2}", "[ \t]{0,2}").prop_map(|(r, a, b)| format!("{a}{r}{b}"))
}

/// Several quoted character-strings in one record: `"a" "b"`.
fn multi_string(parts: Vec<String>) -> String {
    let quoted: Vec<String> = parts.iter().map(|s| quote(s)).collect();
    quoted.join(" ")
}

/// One stored copy of `value`: quoted, quoted with whitespace, or bare.
fn copy_of(value: &str, form: u8) -> String {
    match form % 3 {
        0 => quote(value),
        1 => format!(" {} ", quote(value)),
        _ => value.to_string(),
    }
}

/// The records that are not `value`, in order, byte for byte.
fn foreign_of(records: &[String], value: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| unquote(r) != value)
        .cloned()
        .collect()
}

proptest! {
    #![proptest_config(config(1024))]

    /// `unquote` undoes `quote` for any text.
    #[test]
    fn unquote_undoes_quote(s in any::<String>()) {
        let quoted = quote(&s);
        prop_assert_eq!(unquote(&quoted), s.as_str());
    }

    /// With our value absent: add appends exactly it, a second add does
    /// nothing, and remove then restores the original list exactly (or deletes
    /// the set when it was empty).
    #[test]
    fn add_then_remove_restores_the_set(
        foreign in prop::collection::vec(foreign_record(), 0..8),
        value in acme_value(),
    ) {
        prop_assume!(!contains(&foreign, &value));
        prop_assert!(validate_value(&value).is_ok());
        prop_assert_eq!(remove(&foreign, &value), Removal::Absent);

        let added = add(&foreign, &value).expect("absent value is added");
        prop_assert_eq!(added.len(), foreign.len() + 1);
        prop_assert_eq!(&added[..foreign.len()], &foreign[..]);
        prop_assert_eq!(added.last(), Some(&quote(&value)));
        prop_assert!(contains(&added, &value));
        prop_assert_eq!(add(&added, &value), None, "add is idempotent");

        let expected = if foreign.is_empty() {
            Removal::DeleteSet
        } else {
            Removal::Update(foreign.clone())
        };
        prop_assert_eq!(remove(&added, &value), expected);
    }

    /// With copies of our value mixed in (quoted, padded, bare, repeated):
    /// every other record survives add and remove byte for byte and in order,
    /// and remove takes out every copy of ours.
    #[test]
    fn other_values_never_change(
        mixed in prop::collection::vec(
            prop_oneof![
                foreign_record().prop_map(Ok),
                any::<u8>().prop_map(Err),
            ],
            0..10,
        ),
        value in acme_value(),
    ) {
        let records: Vec<String> = mixed
            .iter()
            .map(|m| match m {
                Ok(r) => r.clone(),
                Err(form) => copy_of(&value, *form),
            })
            .collect();
        let foreign = foreign_of(&records, &value);
        let ours = records.len() - foreign.len();

        let after_add = match add(&records, &value) {
            None => {
                prop_assert!(ours > 0, "add refused a value that is not there");
                records.clone()
            }
            Some(added) => {
                prop_assert_eq!(ours, 0, "add duplicated a value already there");
                prop_assert_eq!(&added[..records.len()], &records[..]);
                added
            }
        };
        prop_assert_eq!(foreign_of(&after_add, &value), foreign.clone());
        prop_assert_eq!(add(&after_add, &value), None);

        let expected = if foreign.is_empty() {
            Removal::DeleteSet
        } else {
            Removal::Update(foreign.clone())
        };
        prop_assert_eq!(remove(&after_add, &value), expected.clone());
        if ours == 0 {
            prop_assert_eq!(remove(&records, &value), Removal::Absent);
        } else {
            prop_assert_eq!(remove(&records, &value), expected);
        }
    }
}
