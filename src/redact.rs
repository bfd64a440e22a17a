//! What may be shown of a server's answer: one JSON-aware redactor for `api`
//! and every error excerpt, the error shapes we quote, and escaping of
//! control characters so server text can't drive the operator's terminal.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "** redacted **";

/// A string that never prints itself (its `Debug` says [`REDACTED`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
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

/// Whether a JSON key names a credential: compared case-insensitively with
/// `_` and `-` removed; any name containing one of the words, or exactly `sk`
/// or `signature`.
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
    k == "sk" || k == "signature" || WORDS.iter().any(|w| k.contains(w))
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
    redact(&mut v);
    let obj = v.as_object()?;
    let pick = |code: Option<String>, msg: Option<String>| -> Option<(Option<String>, String)> {
        let msg = msg?;
        let clip: String = msg.chars().take(MAX_EXCERPT).collect();
        Some((code.map(|c| escape_controls(&c)), escape_controls(&clip)))
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
