//! The simulator's own SDK-HMAC-SHA256 verifier.
//!
//! Written independently of the product's signer (`src/sign.rs`) on purpose:
//! if both sides shared code, one canonicalisation bug could hide on both.
//! Algorithm: otc-api.md §1 (the project's OTC reference); checked against every
//! case of `tests/fixtures/signing-vectors.json`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::core::clock;
use crate::core::http::Req;
pub(crate) use crate::core::http::{decode, encode, header, query_pairs};

pub(crate) const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The gateway rejects dates further than this from its clock.
pub(crate) const MAX_SKEW_SECS: i64 = 15 * 60;

/// The parts of an HTTP request that the signature covers, as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub method: &'a str,
    /// Path as it appeared on the request line (still percent-encoded).
    pub raw_path: &'a str,
    /// Query as it appeared on the request line, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The signed parts of a request.
pub(crate) fn parts(req: &Req) -> Parts<'_> {
    Parts {
        method: &req.method,
        raw_path: &req.raw_path,
        raw_query: &req.raw_query,
        headers: &req.headers,
        body: &req.body,
    }
}

/// Each path segment decoded then encoded once, joined by `/`, with a
/// trailing `/` appended if missing (only the signature has it).
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    let mut out = raw_path
        .split('/')
        .map(|seg| encode(&decode(seg)))
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Decoded pairs sorted by key then value, re-encoded, joined `k=v&...`.
pub(crate) fn canonical_query(raw_query: &str) -> String {
    let mut pairs = query_pairs(raw_query);
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request for the given signed header names (lower-case, in
/// the order the client listed them). `Err` names a signed header that the
/// request does not carry.
pub(crate) fn canonical_request(parts: &Parts<'_>, signed: &[String]) -> Result<String, String> {
    let mut headers = String::new();
    for name in signed {
        let value = header(parts.headers, name)
            .ok_or_else(|| format!("signed header '{name}' is missing from the request"))?;
        headers.push_str(name);
        headers.push(':');
        headers.push_str(value.trim());
        headers.push('\n');
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        canonical_uri(parts.raw_path),
        canonical_query(parts.raw_query),
        headers,
        signed.join(";"),
        hex::encode(Sha256::digest(parts.body)),
    ))
}

pub(crate) fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn mac(secret: &str, string_to_sign: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(string_to_sign.as_bytes());
    Some(mac)
}

/// hex(HMAC-SHA256(secret, string_to_sign)); the server side only compares
/// (this signs for tests).
pub(crate) fn signature(secret: &str, string_to_sign: &str) -> String {
    match mac(secret, string_to_sign) {
        Some(mac) => hex::encode(mac.finalize().into_bytes()),
        None => String::new(),
    }
}

/// Constant-time check of a hex signature.
fn signature_matches(secret: &str, string_to_sign: &str, hex_sig: &str) -> bool {
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    mac(secret, string_to_sign).is_some_and(|mac| mac.verify_slice(&given).is_ok())
}

/// A parsed `Authorization: SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub(crate) fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| format!("authorization does not start with '{ALGORITHM} '"))?;
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("malformed authorization part '{}'", part.trim()))?;
        match k {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.to_string()),
            "Signature" => sig = Some(v.to_string()),
            _ => return Err(format!("unknown authorization part '{k}'")),
        }
    }
    let access = access
        .filter(|a| !a.is_empty())
        .ok_or("authorization has no Access")?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or("authorization has no SignedHeaders")?;
    let signature = sig
        .filter(|s| !s.is_empty())
        .ok_or("authorization has no Signature")?;
    Ok(Authorization {
        access,
        signed_headers: signed.split(';').map(str::to_string).collect(),
        signature,
    })
}

/// What the verifier knows about an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A permanent key from the seed: no security token.
    Permanent,
    /// Issued by the metadata service: needs its token, expires.
    Temporary { token: String, expires_at_secs: i64 },
}

#[derive(Debug, Clone)]
pub(crate) struct KeyInfo {
    pub secret: String,
    pub kind: KeyKind,
}

/// Why a request was rejected; becomes a gateway 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthFailure {
    /// `APIG.0301` (bad credentials) or `APIG.0303` (date out of window).
    pub code: &'static str,
    pub message: String,
    /// The access key the request named, if it could be read (not secret).
    pub access: Option<String>,
    /// The key exists, so the failure counts toward its lockout.
    pub known_key: bool,
}

impl AuthFailure {
    fn new(access: Option<&str>, known_key: bool, detail: impl std::fmt::Display) -> AuthFailure {
        AuthFailure {
            code: "APIG.0301",
            message: format!("Incorrect IAM authentication information: {detail}"),
            access: access.map(str::to_string),
            known_key,
        }
    }
}

/// Checks the signature and the signing policy of a request.
///
/// `now_secs` is the simulated clock; `lookup` finds an access key's secret.
/// Returns the access key on success.
pub(crate) fn verify(
    parts: &Parts<'_>,
    now_secs: i64,
    lookup: impl Fn(&str) -> Option<KeyInfo>,
) -> Result<String, AuthFailure> {
    let auth_value = header(parts.headers, "authorization")
        .ok_or_else(|| AuthFailure::new(None, false, "Authorization header is missing"))?;
    let auth = parse_authorization(auth_value).map_err(|e| AuthFailure::new(None, false, e))?;
    let ak = Some(auth.access.as_str());

    let date = header(parts.headers, "x-sdk-date")
        .ok_or_else(|| AuthFailure::new(ak, false, "X-Sdk-Date header is missing"))?;
    let date_secs = clock::parse_compact_utc(date.trim()).ok_or_else(|| {
        AuthFailure::new(
            ak,
            false,
            "X-Sdk-Date is not in the format YYYYMMDDTHHMMSSZ",
        )
    })?;

    let Some(key) = lookup(&auth.access) else {
        return Err(AuthFailure::new(ak, false, "the access key does not exist"));
    };

    if (date_secs - now_secs).abs() > MAX_SKEW_SECS {
        return Err(AuthFailure {
            code: "APIG.0303",
            message: format!(
                "Incorrect IAM authentication information: signature expired, X-Sdk-Date {} is more than 15 minutes from the server time {}",
                date.trim(),
                clock::format_compact_utc(now_secs)
            ),
            access: Some(auth.access.clone()),
            known_key: true,
        });
    }

    let fail = |detail: String| AuthFailure::new(ak, true, detail);
    let signed = &auth.signed_headers;
    let is_signed = |name: &str| signed.iter().any(|h| h == name);
    if let Some(bad) = signed
        .iter()
        .find(|h| h.chars().any(|c| c.is_ascii_uppercase()))
    {
        return Err(fail(format!("signed header '{bad}' is not lower-case")));
    }
    let mut required = vec!["host", "x-sdk-date"];
    if !parts.body.is_empty() {
        required.push("content-type");
    }
    if header(parts.headers, "x-project-id").is_some() {
        required.push("x-project-id");
    }
    let token = header(parts.headers, "x-security-token").map(str::trim);
    match (&key.kind, token) {
        (KeyKind::Permanent, Some(_)) => {
            return Err(fail(
                "X-Security-Token was sent with a permanent access key".to_string(),
            ));
        }
        (KeyKind::Permanent, None) => {}
        (KeyKind::Temporary { .. }, None) => {
            return Err(fail(
                "a temporary access key needs the X-Security-Token header".to_string(),
            ));
        }
        (
            KeyKind::Temporary {
                token: issued,
                expires_at_secs,
            },
            Some(given),
        ) => {
            if given != issued {
                return Err(fail(
                    "the security token does not belong to this access key".to_string(),
                ));
            }
            if now_secs >= *expires_at_secs {
                return Err(fail(format!(
                    "the temporary credential expired at {}",
                    clock::format_compact_utc(*expires_at_secs)
                )));
            }
            required.push("x-security-token");
        }
    }
    if let Some(missing) = required.iter().find(|h| !is_signed(h)) {
        return Err(fail(format!(
            "header '{missing}' must be listed in SignedHeaders"
        )));
    }

    let canonical = canonical_request(parts, signed).map_err(fail)?;
    let sts = string_to_sign(date.trim(), &canonical);
    if !signature_matches(&key.secret, &sts, &auth.signature) {
        return Err(fail("verify aksk signature fail".to_string()));
    }
    Ok(auth.access)
}

/// Headers that make `parts` a validly signed request, for tests that
/// need to talk to the simulator without the product's signer.
pub(crate) fn sign_for_test(
    parts: &Parts<'_>,
    access: &str,
    secret: &str,
    token: Option<&str>,
    sdk_date: &str,
) -> Vec<(String, String)> {
    let mut headers = parts.headers.to_vec();
    headers.push(("X-Sdk-Date".to_string(), sdk_date.to_string()));
    if let Some(t) = token {
        headers.push(("X-Security-Token".to_string(), t.to_string()));
    }
    let mut signed: Vec<String> = headers.iter().map(|(k, _)| k.to_lowercase()).collect();
    signed.sort();
    signed.dedup();
    let with_headers = Parts {
        headers: &headers,
        ..*parts
    };
    let canonical = canonical_request(&with_headers, &signed).unwrap_or_default();
    let sig = signature(secret, &string_to_sign(sdk_date, &canonical));
    headers.push((
        "Authorization".to_string(),
        format!(
            "{ALGORITHM} Access={access}, SignedHeaders={}, Signature={sig}",
            signed.join(";")
        ),
    ));
    headers
}

/// [`sign_for_test`] for the usual test request: `url` with its query, `Host`, and a
/// JSON body (with its `Content-Type`) when there is one.
pub(crate) fn sign_json_for_test(
    method: &str,
    url: &str,
    host: &str,
    body: &str,
    (access, secret, token): (&str, &str, Option<&str>),
    sdk_date: &str,
) -> Vec<(String, String)> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut headers = vec![("Host".to_string(), host.to_string())];
    if !body.is_empty() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let parts = Parts {
        method,
        raw_path: path,
        raw_query: query,
        headers: &headers,
        body: body.as_bytes(),
    };
    sign_for_test(&parts, access, secret, token, sdk_date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../../tests/fixtures/signing-vectors.json");

    /// One fixture case turned into a request as the simulator would receive it.
    struct Case {
        name: String,
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        access: String,
        secret: String,
        token: Option<String>,
        date: String,
        expected: Value,
    }

    impl Case {
        fn parts(&self) -> Parts<'_> {
            Parts {
                method: &self.method,
                raw_path: &self.path,
                raw_query: &self.query,
                headers: &self.headers,
                body: &self.body,
            }
        }

        fn key(&self) -> KeyInfo {
            KeyInfo {
                secret: self.secret.clone(),
                kind: match &self.token {
                    Some(t) => KeyKind::Temporary {
                        token: t.clone(),
                        expires_at_secs: i64::MAX,
                    },
                    None => KeyKind::Permanent,
                },
            }
        }

        fn now(&self) -> i64 {
            clock::parse_compact_utc(&self.date).unwrap()
        }

        fn verify_with(&self, secret: &str) -> Result<String, AuthFailure> {
            let mut key = self.key();
            key.secret = secret.to_string();
            verify(&self.parts(), self.now(), |ak| {
                (ak == self.access).then(|| key.clone())
            })
        }
    }

    fn cases() -> Vec<Case> {
        let doc: Value = serde_json::from_str(VECTORS).unwrap();
        let s = |v: &Value| v.as_str().unwrap().to_string();
        doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let i = &c["input"];
                let query = i["query"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        format!(
                            "{}={}",
                            encode(p[0].as_str().unwrap().as_bytes()),
                            encode(p[1].as_str().unwrap().as_bytes())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("&");
                let mut headers: Vec<(String, String)> = i["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), s(v)))
                    .collect();
                headers.push(("Host".into(), s(&i["host"])));
                headers.push(("X-Sdk-Date".into(), s(&i["x_sdk_date"])));
                let token = i["security_token"].as_str().map(str::to_string);
                if let Some(t) = &token {
                    headers.push(("X-Security-Token".into(), t.clone()));
                }
                if let Some(p) = i["project_id"].as_str() {
                    headers.push(("X-Project-Id".into(), p.to_string()));
                }
                headers.push(("Authorization".into(), s(&c["expected"]["authorization"])));
                Case {
                    name: s(&c["name"]),
                    method: s(&i["method"]),
                    path: s(&i["path"]),
                    query,
                    headers,
                    body: s(&i["body"]).into_bytes(),
                    access: s(&i["access_key"]),
                    secret: s(&i["secret_key"]),
                    token,
                    date: s(&i["x_sdk_date"]),
                    expected: c["expected"].clone(),
                }
            })
            .collect()
    }

    fn set_header(headers: &mut [(String, String)], name: &str, value: &str) {
        for (k, v) in headers.iter_mut() {
            if k.eq_ignore_ascii_case(name) {
                *v = value.to_string();
            }
        }
    }

    #[test]
    fn reproduces_every_vector() {
        let all = cases();
        assert!(all.len() >= 10, "fixture has {} cases", all.len());
        for case in &all {
            let auth = parse_authorization(header(&case.headers, "authorization").unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let canonical = canonical_request(&case.parts(), &auth.signed_headers).unwrap();
            assert_eq!(
                canonical, case.expected["canonical_request"],
                "{}: canonical request",
                case.name
            );
            let sts = string_to_sign(&case.date, &canonical);
            assert_eq!(sts, case.expected["string_to_sign"], "{}", case.name);
            assert_eq!(
                auth.signed_headers.join(";"),
                case.expected["signed_headers"],
                "{}",
                case.name
            );
            assert_eq!(
                case.verify_with(&case.secret),
                Ok(case.access.clone()),
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn tampering_breaks_every_vector() {
        for mut case in cases() {
            assert!(case.verify_with("wrong-secret").is_err(), "{}", case.name);

            let original_body = case.body.clone();
            case.body.extend_from_slice(b" ");
            if original_body.is_empty() {
                // A body now needs a signed content-type; either way it must fail.
                assert!(case.verify_with(&case.secret.clone()).is_err());
            } else {
                let err = case.verify_with(&case.secret.clone()).unwrap_err();
                assert!(err.message.contains("signature"), "{}", case.name);
            }
            case.body = original_body;

            let mut headers = case.headers.clone();
            set_header(&mut headers, "host", "evil.example:1");
            let tampered = Case {
                headers,
                ..clone_case(&case)
            };
            let err = tampered.verify_with(&case.secret).unwrap_err();
            assert_eq!(err.code, "APIG.0301", "{}", case.name);

            let tampered = Case {
                path: format!("{}x", case.path),
                ..clone_case(&case)
            };
            assert!(tampered.verify_with(&case.secret).is_err(), "{}", case.name);

            let tampered = Case {
                method: "PATCH".into(),
                ..clone_case(&case)
            };
            assert!(tampered.verify_with(&case.secret).is_err(), "{}", case.name);
        }
    }

    fn clone_case(c: &Case) -> Case {
        Case {
            name: c.name.clone(),
            method: c.method.clone(),
            path: c.path.clone(),
            query: c.query.clone(),
            headers: c.headers.clone(),
            body: c.body.clone(),
            access: c.access.clone(),
            secret: c.secret.clone(),
            token: c.token.clone(),
            date: c.date.clone(),
            expected: c.expected.clone(),
        }
    }

    fn first_case(name_part: &str) -> Case {
        cases()
            .into_iter()
            .find(|c| c.name.contains(name_part))
            .unwrap()
    }

    #[test]
    fn canonical_query_decodes_sorts_and_reencodes() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        // '+' is not a space; a bare key gets an empty value.
        assert_eq!(canonical_query("q=a+b&flag"), "flag=&q=a%2Bb");
        assert_eq!(canonical_query("n=%7e%2f%zz"), "n=~%2F%25zz");
    }

    #[test]
    fn canonical_uri_appends_slash_and_reencodes() {
        assert_eq!(canonical_uri("/v2/zones"), "/v2/zones/");
        assert_eq!(canonical_uri("/v2/zones/"), "/v2/zones/");
        assert_eq!(canonical_uri("/a%20b/c d/%7E"), "/a%20b/c%20d/~/");
    }

    #[test]
    fn rejects_dates_outside_the_window() {
        let case = first_case("permanent credentials");
        let ok = |now: i64| verify(&case.parts(), now, |_| Some(case.key()));
        let t = case.now();
        assert!(ok(t + MAX_SKEW_SECS).is_ok());
        assert!(ok(t - MAX_SKEW_SECS).is_ok());
        let err = ok(t + MAX_SKEW_SECS + 1).unwrap_err();
        assert_eq!(err.code, "APIG.0303");
        assert!(err.message.contains("server time"), "{}", err.message);
        assert_eq!(ok(t - MAX_SKEW_SECS - 1).unwrap_err().code, "APIG.0303");
    }

    #[test]
    fn enforces_the_signing_policy() {
        // Temporary key: token must match and be unexpired.
        let case = first_case("temporary credentials + project");
        let with = |kind: KeyKind| {
            verify(&case.parts(), case.now(), |_| {
                Some(KeyInfo {
                    secret: case.secret.clone(),
                    kind: kind.clone(),
                })
            })
        };
        let token = case.token.clone().unwrap();
        assert!(
            with(KeyKind::Temporary {
                token: "other".into(),
                expires_at_secs: i64::MAX
            })
            .is_err()
        );
        let expired = with(KeyKind::Temporary {
            token: token.clone(),
            expires_at_secs: case.now(),
        })
        .unwrap_err();
        assert!(expired.message.contains("expired"), "{}", expired.message);
        assert!(
            with(KeyKind::Permanent).is_err(),
            "token with a permanent key"
        );

        // Unknown key, no authorization, malformed authorization.
        let unknown = verify(&case.parts(), case.now(), |_| None).unwrap_err();
        assert!(!unknown.known_key);
        assert_eq!(unknown.access.as_deref(), Some(case.access.as_str()));
        let mut headers = case.headers.clone();
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        let no_auth = Case {
            headers,
            ..clone_case(&case)
        };
        assert!(no_auth.verify_with(&case.secret).is_err());
        let mut headers = case.headers.clone();
        set_header(&mut headers, "authorization", "SDK-HMAC-SHA256 Access=AK");
        let bad = Case {
            headers,
            ..clone_case(&case)
        };
        assert!(bad.verify_with(&case.secret).is_err());

        // A validly computed signature that leaves out x-project-id is refused.
        let mut headers: Vec<(String, String)> = case
            .headers
            .iter()
            .filter(|(k, _)| {
                !k.eq_ignore_ascii_case("authorization")
                    && !k.eq_ignore_ascii_case("x-sdk-date")
                    && !k.eq_ignore_ascii_case("x-security-token")
            })
            .cloned()
            .collect();
        let parts = Parts {
            headers: &headers,
            ..case.parts()
        };
        let mut signed =
            sign_for_test(&parts, &case.access, &case.secret, Some(&token), &case.date);
        // Re-sign without x-project-id in SignedHeaders.
        signed.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        let names = vec![
            "host".to_string(),
            "x-sdk-date".to_string(),
            "x-security-token".to_string(),
        ];
        let p = Parts {
            headers: &signed,
            ..case.parts()
        };
        let sig = signature(
            &case.secret,
            &string_to_sign(&case.date, &canonical_request(&p, &names).unwrap()),
        );
        signed.push((
            "Authorization".into(),
            format!(
                "{ALGORITHM} Access={}, SignedHeaders={}, Signature={sig}",
                case.access,
                names.join(";")
            ),
        ));
        let err = verify(
            &Parts {
                headers: &signed,
                ..case.parts()
            },
            case.now(),
            |_| Some(case.key()),
        )
        .unwrap_err();
        assert!(err.message.contains("x-project-id"), "{}", err.message);

        // sign_for_test itself produces requests the verifier accepts.
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-project-id"));
        let parts = Parts {
            headers: &headers,
            ..case.parts()
        };
        let signed = sign_for_test(&parts, &case.access, &case.secret, Some(&token), &case.date);
        assert!(
            verify(
                &Parts {
                    headers: &signed,
                    ..case.parts()
                },
                case.now(),
                |_| Some(case.key())
            )
            .is_ok()
        );
    }

    #[test]
    fn body_requires_signed_content_type() {
        let case = first_case("create TXT recordset");
        assert!(case.verify_with(&case.secret).is_ok());
        // Sign the same request without content-type in SignedHeaders.
        let base: Vec<(String, String)> = case
            .headers
            .iter()
            .filter(|(k, _)| ["host", "x-project-id"].contains(&k.to_lowercase().as_str()))
            .cloned()
            .collect();
        let parts = Parts {
            headers: &base,
            ..case.parts()
        };
        let mut signed = sign_for_test(
            &parts,
            &case.access,
            &case.secret,
            case.token.as_deref(),
            &case.date,
        );
        signed.push(("Content-Type".into(), "application/json".into()));
        let err = verify(
            &Parts {
                headers: &signed,
                ..case.parts()
            },
            case.now(),
            |_| Some(case.key()),
        )
        .unwrap_err();
        assert!(err.message.contains("content-type"), "{}", err.message);
    }

    #[test]
    fn parse_authorization_shapes() {
        let a = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=abcd",
        )
        .unwrap();
        assert_eq!(a.access, "AK1");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(a.signature, "abcd");
        for bad in [
            "",
            "AWS4-HMAC-SHA256 Access=a, SignedHeaders=h, Signature=s",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=h",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=h, Signature=s",
            "SDK-HMAC-SHA256 Access=a SignedHeaders=h Signature=s",
            "SDK-HMAC-SHA256 Access=a, Foo=b, SignedHeaders=h, Signature=s",
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decode_handles_edges() {
        assert_eq!(decode("%"), b"%");
        assert_eq!(decode("%4"), b"%4");
        assert_eq!(decode("%41"), b"A");
        assert_eq!(decode("a%2"), b"a%2");
        assert_eq!(decode("%C3%BC"), "ü".as_bytes());
    }
}
