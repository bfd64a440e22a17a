//! `SDK-HMAC-SHA256` request signing, as a pure function of the request parts,
//! the credentials and the time. No I/O: the HTTP layer sends exactly the
//! query string and body bytes that [`auth`] hashed.

use crate::encoding::percent_encode;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name, the first line of the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// One request as it will go on the wire.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Host as sent in the `Host` header: with `:port` when not the default.
    pub host: &'a str,
    /// Path as it will be sent (may already hold `%XX` escapes).
    pub path: &'a str,
    /// Decoded query pairs, in any order.
    pub query: &'a [(String, String)],
    /// Extra headers to sign and send (e.g. `Content-Type`).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What signing produced: the headers to add, plus the intermediate strings
/// (kept so tests can compare them with the SDK's vectors).
#[derive(Clone)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub authorization: String,
    /// The query string to send, identical to the signed canonical query.
    pub query_string: String,
    /// Every header to send: the caller's, plus `Host`, `X-Sdk-Date`,
    /// `X-Security-Token`, `X-Project-Id` and `Authorization`.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Signed {
    // The header list carries the security token: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("signed_headers", &self.signed_headers)
            .field("query_string", &self.query_string)
            .finish_non_exhaustive()
    }
}

/// Formats a UNIX time (seconds) as `X-Sdk-Date`: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn sdk_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

// Howard Hinnant's days-to-civil algorithm; avoids a date crate for one format.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Decodes `%XX` escapes; anything malformed is kept literally. `+` stays `+`.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|v| v as u8)
}

/// Canonical URI: each segment decoded then encoded once, with a trailing `/`.
pub fn canonical_uri(path: &str) -> String {
    let mut out: String = path
        .split('/')
        .map(|seg| percent_encode(&decode(seg)))
        .collect::<Vec<_>>()
        .join("/");
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Canonical query: pairs sorted by key then value, both encoded.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    enc.sort();
    enc.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits a raw query string into decoded pairs (`k` alone gives an empty value).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The key the signer needs, borrowed from wherever the credentials live.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub access: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
}

/// Signs `req` with `creds` at `date` (an `X-Sdk-Date` string).
pub fn sign(req: &Request<'_>, creds: &Key<'_>, project_id: Option<&str>, date: &str) -> Signed {
    let mut headers: Vec<(String, String)> = req.headers.to_vec();
    headers.push(("Host".into(), req.host.into()));
    headers.push(("X-Sdk-Date".into(), date.into()));
    if let Some(token) = creds.token {
        headers.push(("X-Security-Token".into(), token.into()));
    }
    if let Some(p) = project_id.filter(|p| !p.is_empty()) {
        headers.push(("X-Project-Id".into(), p.into()));
    }

    let mut canon: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    canon.sort();
    let signed_headers = canon
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = canon.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let query_string = canonical_query(req.query);

    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        query_string,
        canonical_headers,
        signed_headers,
        sha256_hex(req.body)
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(creds.secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let authorization = format!(
        "{ALGORITHM} Access={}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access
    );
    headers.push(("Authorization".into(), authorization.clone()));
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        authorization,
        query_string,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let v: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/signing-vectors.json"))
                .unwrap();
        v["cases"].as_array().unwrap().clone()
    }

    #[test]
    fn reproduces_every_sdk_vector() {
        let cases = vectors();
        assert_eq!(cases.len(), 10, "fixture changed: review the new cases");
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let i = &case["input"];
            let e = &case["expected"];
            let creds = Key {
                access: i["access_key"].as_str().unwrap(),
                secret: i["secret_key"].as_str().unwrap(),
                token: i["security_token"].as_str(),
            };
            let query: Vec<(String, String)> = i["query"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let headers: Vec<(String, String)> = i["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let req = Request {
                method: i["method"].as_str().unwrap(),
                host: i["host"].as_str().unwrap(),
                path: i["path"].as_str().unwrap(),
                query: &query,
                headers: &headers,
                body: i["body"].as_str().unwrap().as_bytes(),
            };
            let s = sign(
                &req,
                &creds,
                i["project_id"].as_str(),
                i["x_sdk_date"].as_str().unwrap(),
            );
            assert_eq!(
                s.canonical_request,
                e["canonical_request"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                s.string_to_sign,
                e["string_to_sign"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                s.signed_headers,
                e["signed_headers"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                s.authorization,
                e["authorization"].as_str().unwrap(),
                "{name}"
            );
            // The wire query is the signed one.
            assert_eq!(
                s.query_string,
                e["canonical_request"]
                    .as_str()
                    .unwrap()
                    .split('\n')
                    .nth(2)
                    .unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn sdk_date_formats_utc() {
        // 2024-01-02T03:04:05Z
        assert_eq!(sdk_date(1_704_164_645), "20240102T030405Z");
        assert_eq!(sdk_date(0), "19700101T000000Z");
        // Leap day.
        assert_eq!(sdk_date(1_709_164_800), "20240229T000000Z");
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(percent_encode("a b+c/ü~"), "a%20b%2Bc%2F%C3%BC~");
        assert_eq!(decode("a%20b+%zz%4"), "a b+%zz%4");
        assert_eq!(canonical_uri("/v2/zones"), "/v2/zones/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(
            parse_query("b=2&a=&c"),
            vec![
                ("b".into(), "2".into()),
                ("a".into(), String::new()),
                ("c".into(), String::new())
            ]
        );
    }

    #[test]
    fn debug_hides_token() {
        let creds = Key {
            access: "AK",
            secret: "SK",
            token: Some("TOKEN-XYZ"),
        };
        let req = Request {
            method: "GET",
            host: "h",
            path: "/",
            query: &[],
            headers: &[],
            body: b"",
        };
        let s = sign(&req, &creds, None, "20240102T030405Z");
        assert!(!format!("{s:?}").contains("TOKEN-XYZ"));
    }
}
