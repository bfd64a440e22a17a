//! What may be shown of a server's answer: one JSON-aware redactor for `api`
//! and every error excerpt, the error shapes we quote, and escaping of
//! control characters so server text can't drive the operator's terminal.
//!
//! Secrets are also masked by value: every secret the process loads or
//! receives is [`hold`]-ed the moment it exists (the [`Secret`] constructor,
//! the token and metadata parsers, any secret-named field of an error body),
//! and [`scrub`] masks each held value in every printed line (the error line,
//! report lines, `check`, `api`'s output), whatever key a server put it under.

use std::sync::Mutex;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "** redacted **";

/// A string that never prints itself (its `Debug` says [`REDACTED`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, held (see [`hold`]) so no printed line can carry it.
    pub fn new(s: impl Into<String>) -> Self {
        let s = s.into();
        hold(&s);
        Secret(s)
    }
    /// The value, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Shortest value masked by value: a shorter one would mask ordinary words
/// (such a secret is still masked by its key name).
pub const MIN_HELD: usize = 8;
/// A clipped quote of a held value: a prefix this long at the end of a text
/// (or a suffix at its start) is masked too.
const FRAGMENT: usize = 12;

/// Every secret value this process holds, in each form a server could echo it.
static HELD: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Registers `value` as a secret of this process: from now on [`scrub`] masks
/// it (raw, JSON-escaped, percent-encoded) in every printed line.
pub fn hold(value: &str) {
    let v = value.trim();
    if v.chars().count() < MIN_HELD {
        return;
    }
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    for form in forms(v) {
        if !held.contains(&form) {
            held.push(form);
        }
    }
}

/// The secrets held so far (each form), for [`scrub_with`].
pub fn held() -> Vec<String> {
    HELD.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The forms a value travels in: as is, inside a JSON string, in a form or a
/// query (percent-encoded, either case; `+` for a space).
fn forms(v: &str) -> Vec<String> {
    let json = serde_json::to_string(v).expect("a string serialises");
    let json = json[1..json.len() - 1].to_string();
    let upper = crate::encoding::percent_encode(v);
    let lower = crate::encoding::percent_encode_lower(v);
    let plus = upper.replace("%20", "+");
    let mut out = vec![v.to_string()];
    for f in [json, upper, lower, plus] {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// `text` with every value held by this process masked.
pub fn scrub(text: &str) -> String {
    scrub_with(text, &held())
}

/// `text` with each of `held` masked wherever it occurs, and a clipped quote
/// of one (a prefix of at least 12 characters ending the text, a suffix
/// starting it) masked too. Pure: the tests give their own list.
pub fn scrub_with(text: &str, held: &[String]) -> String {
    let mut hide = vec![false; text.len()];
    let mut mark = |from: usize, to: usize| hide[from..to].iter_mut().for_each(|h| *h = true);
    for s in held.iter().filter(|s| s.len() >= MIN_HELD) {
        for (i, m) in text.match_indices(s.as_str()) {
            mark(i, i + m.len());
        }
        let bounds = |t: &str| t.char_indices().map(|(i, _)| i).collect::<Vec<_>>();
        // The longest prefix of `s` that ends `text`.
        for i in bounds(s).into_iter().skip(1).rev() {
            if i >= FRAGMENT && text.ends_with(&s[..i]) {
                mark(text.len() - i, text.len());
                break;
            }
        }
        // The longest suffix of `s` that starts `text`.
        for i in bounds(s).into_iter().skip(1) {
            if s.len() - i >= FRAGMENT && text.starts_with(&s[i..]) {
                mark(0, s.len() - i);
                break;
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut hiding = false;
    for (i, c) in text.char_indices() {
        if hide[i] {
            if !hiding {
                out.push_str(REDACTED);
            }
            hiding = true;
        } else {
            out.push(c);
            hiding = false;
        }
    }
    out
}

/// Server text (an error message, a non-JSON answer) with what follows a
/// secret-looking name masked: `"SecretAccessKey":"…"`, `client_secret=…`,
/// `Authorization: Bearer …`, also inside an escaped JSON document, then every
/// held value. A quoted value is masked whatever its length, a bare one from
/// 8 characters (`token: expired` still reads). A value masked so is held:
/// its other occurrences (under no name) are masked too.
pub fn scrub_server_text(text: &str) -> String {
    let (masked, found) = mask_named(text);
    found.iter().for_each(|v| hold(v));
    scrub(&masked)
}

/// `text` with the values after secret names masked, and those values.
fn mask_named(text: &str) -> (String, Vec<String>) {
    let mut found = Vec::new();
    let b = text.as_bytes();
    let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if !is_name(b[i]) || (i > 0 && is_name(b[i - 1])) {
            let c = text[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let start = i;
        while i < b.len() && is_name(b[i]) {
            i += 1;
        }
        out.push_str(&text[start..i]);
        if !names_secret(&text[start..i]) {
            continue;
        }
        // After the name: a closing quote, blanks, `:` or `=`, blanks, an opening quote.
        let mut j = i;
        let skip_quote = |j: &mut usize| {
            if b.get(*j) == Some(&b'\\') && matches!(b.get(*j + 1), Some(b'"')) {
                *j += 2;
            } else if matches!(b.get(*j), Some(b'"' | b'\'')) {
                *j += 1;
            }
        };
        skip_quote(&mut j);
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        if !matches!(b.get(j), Some(b':' | b'=')) {
            continue;
        }
        j += 1;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        let value_start = j;
        let quote: Option<&[u8]> = if b[j..].starts_with(b"\\\"") {
            Some(b"\\\"")
        } else if matches!(b.get(j), Some(b'"' | b'\'')) {
            Some(&b[j..j + 1])
        } else {
            None
        };
        let (from, to) = match quote {
            Some(q) => {
                let from = j + q.len();
                let len = b[from..].windows(q.len()).position(|w| w == q);
                (from, len.map_or(b.len(), |l| from + l))
            }
            None => {
                let end = |k: usize| {
                    b[k..]
                        .iter()
                        .position(|c| c.is_ascii_whitespace() || b",;&}])\"'\\".contains(c))
                        .map_or(b.len(), |l| k + l)
                };
                let mut to = end(j);
                // `Bearer TOKEN`, `SDK-HMAC-SHA256 Access=…`: the scheme and its credential.
                if b.get(to) == Some(&b' ')
                    && b[j..to].iter().all(|c| is_name(*c))
                    && to + 1 < b.len()
                    && !b[to + 1].is_ascii_whitespace()
                {
                    to = end(to + 1);
                }
                if to - j < MIN_HELD {
                    continue;
                }
                (j, to)
            }
        };
        out.push_str(&text[i..value_start.max(i)]);
        out.push_str(&text[value_start..from]);
        out.push_str(REDACTED);
        found.push(text[from..to].to_string());
        i = to;
    }
    (out, found)
}

/// Whether a name in server text introduces a secret: a credential-named key,
/// or a header that carries one (`Authorization`, `X-Ovh-Signature`,
/// `x-ncp-apigw-signature-v2`, `X-Auth-Token`, `X-Security-Token`).
fn names_secret(name: &str) -> bool {
    is_secret_name(name)
}

/// Whether a JSON key names a credential: compared case-insensitively with
/// `_` and `-` removed; any name containing one of the words or
/// `authorization`, ending in `signature` (`X-Ovh-Signature`) or holding
/// `signaturev` (`x-ncp-apigw-signature-v2`), or exactly `sk` or
/// `xovhconsumer` (OVH's consumer key header).
pub fn is_secret_name(key: &str) -> bool {
    const WORDS: [&str; 7] = [
        "secret",
        "token",
        "password",
        "passwd",
        "private",
        "credential",
        "consumerkey",
    ];
    let k: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    k == "sk"
        || k == "xovhconsumer"
        || k.ends_with("signature")
        || k.contains("signaturev")
        || k.contains("authorization")
        || WORDS.iter().any(|w| k.contains(w))
}

/// Replaces the values of secret-looking keys, at any depth.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_name(k) {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Holds (see [`hold`]) every string under a secret-named key, at any depth.
pub fn hold_named(v: &Value) {
    fn all(v: &Value) {
        match v {
            Value::String(s) => hold(s),
            Value::Array(items) => items.iter().for_each(all),
            Value::Object(map) => map.values().for_each(all),
            _ => {}
        }
    }
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if is_secret_name(k) {
                    all(val);
                } else {
                    hold_named(val);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(hold_named),
        _ => {}
    }
}

/// Masks every held value inside the strings of `v` (a string equal to one
/// becomes [`REDACTED`]), keys included.
pub fn scrub_json(v: &mut Value, held: &[String]) {
    match v {
        Value::String(s) => *s = scrub_with(s, held),
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_json(i, held)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut val) in old {
                scrub_json(&mut val, held);
                map.insert(scrub_with(&k, held), val);
            }
        }
        _ => {}
    }
}

/// Escapes control characters (ESC, CR, LF, …) as `\u{..}`, so one line stays one
/// line and a server's text can't move the cursor or recolour the terminal.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Longest excerpt of a server's message we quote.
const MAX_EXCERPT: usize = 200;

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The error code and message of a body in one of the error shapes we know
/// (`code`/`message`; `error_code`/`error_msg`; Keystone's `error: {code,
/// message}`; `error` as a string with an optional `error_description`; OVH's
/// `class`/`message`), after redaction; `None` for anything else, which is
/// then never quoted. Never the raw body.
pub fn error_excerpt(body: &[u8]) -> Option<(Option<String>, String)> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    // A secret the server sent under its name may be repeated in the message.
    hold_named(&v);
    redact(&mut v);
    let obj = v.as_object()?;
    let pick = |code: Option<String>, msg: Option<String>| -> Option<(Option<String>, String)> {
        let msg = scrub_server_text(&msg?);
        let clip: String = msg.chars().take(MAX_EXCERPT).collect();
        Some((
            code.map(|c| escape_controls(&scrub_server_text(&c))),
            escape_controls(&clip),
        ))
    };
    if let Some(found) = pick(
        text(obj.get("code")).or_else(|| text(obj.get("class"))),
        text(obj.get("message")),
    ) {
        return Some(found);
    }
    if let Some(found) = pick(text(obj.get("error_code")), text(obj.get("error_msg"))) {
        return Some(found);
    }
    match obj.get("error") {
        Some(Value::Object(inner)) => pick(
            text(inner.get("code"))
                .or_else(|| text(inner.get("errorCode")))
                .or_else(|| text(inner.get("title"))),
            text(inner.get("message")),
        ),
        Some(e @ Value::String(_)) => match text(obj.get("error_description")) {
            Some(d) => pick(text(Some(e)), Some(d)),
            None => pick(None, text(Some(e))),
        },
        _ => None,
    }
}

/// A URL as we may print it: without `user:password@`.
pub fn url_for_display(raw: &str) -> String {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => authority.to_string(),
    };
    let shown = match scheme {
        Some(s) => format!("{s}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    };
    escape_controls(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for k in [
            "secret",
            "SecretAccessKey",
            "securitytoken",
            "security_token",
            "secret_key",
            "client_secret",
            "private_key",
            "access_key_secret",
            "id_token",
            "passwd",
            "Password",
            "credential",
            "consumer-key",
            "consumerKey",
            "sk",
            "SK",
            "signature",
            "X-Security-Token",
            "Authorization",
            "X-Ovh-Signature",
            "x-ncp-apigw-signature-v2",
            "X-Auth-Token",
            "X-Ovh-Consumer",
        ] {
            assert!(is_secret_name(k), "{k}");
        }
        for k in [
            "access",
            "accessKeyId",
            "name",
            "skip",
            "task",
            "signatures_count",
        ] {
            assert!(!is_secret_name(k), "{k}");
        }
    }

    #[test]
    fn redacts_at_any_depth() {
        let mut v: Value = serde_json::from_str(
            r#"{"data":{"access":"AK","secret":"S","securitytoken":"T"},
                "credentials":[{"secretAccessKey":"X"}],
                "list":[{"security_token":"Y","accessKeyId":"Z","client_secret":"C"}],
                "user":{"Password":"P","name":"n","private_key":"K","id_token":"I","passwd":"W"}}"#,
        )
        .unwrap();
        redact(&mut v);
        let s = v.to_string();
        for leaked in [
            "\"S\"", "\"T\"", "\"X\"", "\"Y\"", "\"P\"", "\"C\"", "\"K\"", "\"I\"", "\"W\"",
        ] {
            assert!(!s.contains(leaked), "{s}");
        }
        assert!(s.contains("\"AK\"") && s.contains("\"Z\"") && s.contains("\"n\""));
    }

    #[test]
    fn excerpts_only_of_known_error_shapes() {
        let e = |b: &str| error_excerpt(b.as_bytes());
        assert_eq!(
            e(r#"{"code":"DNS.0312","message":"exists"}"#),
            Some((Some("DNS.0312".into()), "exists".into()))
        );
        assert_eq!(
            e(r#"{"error_code":"APIG.0301","error_msg":"bad sig"}"#),
            Some((Some("APIG.0301".into()), "bad sig".into()))
        );
        assert_eq!(
            e(
                r#"{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}"#
            ),
            Some((
                Some("401".into()),
                "The request you have made requires authentication.".into()
            ))
        );
        assert_eq!(
            e(r#"{"error":"Please configure Cloud Service Agency first"}"#),
            Some((None, "Please configure Cloud Service Agency first".into()))
        );
        assert_eq!(
            e(r#"{"error":"invalid_client","error_description":"bad secret"}"#),
            Some((Some("invalid_client".into()), "bad secret".into()))
        );
        // A credential document, plain text, HTML: nothing to quote.
        assert_eq!(
            e(r#"{"credential":{"access":"A","secret":"LEAK","securitytoken":"TOK"}}"#),
            None
        );
        assert_eq!(e("secret=LEAK"), None);
        assert_eq!(e("<html>x</html>"), None);
        // A message that carries a credential-named field is never shown raw.
        let got = e(r#"{"code":"X","message":"\u001b[31mred"}"#).unwrap();
        assert_eq!(got.1, "\\u{1b}[31mred");
    }

    fn held_of(v: &[&str]) -> Vec<String> {
        v.iter().flat_map(|s| forms(s)).collect()
    }

    #[test]
    fn held_values_are_masked_in_every_form_and_when_clipped() {
        let h = held_of(&["S3cr&t/+value==", "TOKENVALUE-0123456789"]);
        let m = |t: &str| scrub_with(t, &h);
        assert_eq!(
            m("key S3cr&t/+value== refused"),
            "key ** redacted ** refused"
        );
        // In a form body, in a JSON document quoted inside a message.
        assert_eq!(
            m("body client_secret=S3cr%26t%2F%2Bvalue%3D%3D&scope=all"),
            "body client_secret=** redacted **&scope=all"
        );
        assert_eq!(
            m(r#"doc {\"k\":\"TOKENVALUE-0123456789\"}"#),
            r#"doc {\"k\":\"** redacted **\"}"#
        );
        // Twice, and side by side: one mask per run.
        assert_eq!(
            m("TOKENVALUE-0123456789TOKENVALUE-0123456789 x"),
            "** redacted ** x"
        );
        // A quote clipped by the server: a long prefix at the end, a suffix at the start.
        assert_eq!(m("denied: TOKENVALUE-0123"), "denied: ** redacted **");
        assert_eq!(m("LUE-0123456789 was denied"), "** redacted ** was denied");
        // Short fragments and short values are ordinary words.
        assert_eq!(m("denied: TOKEN"), "denied: TOKEN");
        assert_eq!(scrub_with("a PASS b", &held_of(&["PASS"])), "a PASS b");
        // Multi-byte text around a mask stays whole.
        assert_eq!(m("é S3cr&t/+value== ü"), "é ** redacted ** ü");
    }

    #[test]
    fn named_values_in_server_text_are_masked() {
        let m = |t: &str| mask_named(t).0;
        assert_eq!(
            m(r#"failed: {"AccessKeyId":"AK1","SecretAccessKey":"abc"}"#),
            r#"failed: {"AccessKeyId":"AK1","SecretAccessKey":"** redacted **"}"#
        );
        assert_eq!(
            m(r#"raw {\"secret\":\"x y\",\"name\":\"n\"}"#),
            r#"raw {\"secret\":\"** redacted **\",\"name\":\"n\"}"#
        );
        assert_eq!(
            m("headers: Authorization: Bearer eyJabc.def-ghi, Host: x"),
            "headers: Authorization: ** redacted **, Host: x"
        );
        assert_eq!(
            m("X-Ovh-Signature: $1$0123456789abcdef X-Ovh-Consumer: MtSwSrPpNjqfVSmJ"),
            "X-Ovh-Signature: ** redacted ** X-Ovh-Consumer: ** redacted **"
        );
        assert_eq!(
            m("x-ncp-apigw-signature-v2=AbCdEf0123456789+/= done"),
            "x-ncp-apigw-signature-v2=** redacted ** done"
        );
        assert_eq!(
            m("grant_type=client_credentials&client_secret=s3cr%26t%3D&scope=all"),
            "grant_type=client_credentials&client_secret=** redacted **&scope=all"
        );
        // An unquoted word after a name is kept when short: the message still reads.
        assert_eq!(m("token: expired"), "token: expired");
        assert_eq!(m("The token is invalid"), "The token is invalid");
        // A quote left open (clipped): masked to the end.
        assert_eq!(m(r#"{"secret":"abc"#), r#"{"secret":"** redacted **"#);
        // What was masked is returned, to be held.
        assert_eq!(
            mask_named(r#"{"secret":"x y","token":"t"}"#).1,
            vec!["x y".to_string(), "t".to_string()]
        );
    }

    #[test]
    fn error_excerpts_hold_what_the_server_sent_under_a_secret_name() {
        let body = r#"{"code":"E1","message":"issued ncpUNIQUEsecret0123456789 then failed","detail":{"SecretAccessKey":"ncpUNIQUEsecret0123456789"}}"#;
        let (code, msg) = error_excerpt(body.as_bytes()).unwrap();
        assert_eq!(code.as_deref(), Some("E1"));
        assert_eq!(msg, "issued ** redacted ** then failed");
        assert!(held().contains(&"ncpUNIQUEsecret0123456789".to_string()));
        let mut v: Value = serde_json::from_str(
            r#"{"a":"ncpUNIQUEsecret0123456789","b":["x ncpUNIQUEsecret0123456789"]}"#,
        )
        .unwrap();
        scrub_json(&mut v, &held());
        assert_eq!(
            v.to_string(),
            r#"{"a":"** redacted **","b":["x ** redacted **"]}"#
        );
    }

    #[test]
    fn controls_and_urls() {
        assert_eq!(
            escape_controls("a\u{1b}[2Jb\rc\nd"),
            "a\\u{1b}[2Jb\\u{d}c\\u{a}d"
        );
        assert_eq!(
            url_for_display("https://u:PASS@dns.example/v2?x=1"),
            "https://…@dns.example/v2?x=1"
        );
        assert_eq!(
            url_for_display("https://dns.example/v2"),
            "https://dns.example/v2"
        );
        assert_eq!(url_for_display("dns.example"), "dns.example");
    }
}
