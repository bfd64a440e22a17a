//! API Gateway signature v2, pure: `x-ncp-apigw-signature-v2` =
//! base64(HMAC-SHA256(secret, METHOD + " " + PATH_AND_QUERY + "\n" + TS + "\n" + AK)).
//! The body is not signed; PATH_AND_QUERY is the request-target exactly as
//! sent (gateway prefix such as `/dns/v1` included, percent-encoding as sent).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Keys;

/// Header names, as the gateway documents them.
pub const HEADER_TIMESTAMP: &str = "x-ncp-apigw-timestamp";
pub const HEADER_ACCESS_KEY: &str = "x-ncp-iam-access-key";
pub const HEADER_SIGNATURE: &str = "x-ncp-apigw-signature-v2";

/// How far a timestamp may be from the gateway's clock before it refuses the request.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;

/// The text that is signed.
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    timestamp_ms: &str,
    access: &str,
) -> String {
    format!(
        "{} {path_and_query}\n{timestamp_ms}\n{access}",
        method.to_ascii_uppercase()
    )
}

/// The signature of one request.
pub fn signature(
    secret: &str,
    method: &str,
    path_and_query: &str,
    timestamp_ms: &str,
    access: &str,
) -> String {
    // HMAC takes keys of any length: new_from_slice cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC key");
    mac.update(string_to_sign(method, path_and_query, timestamp_ms, access).as_bytes());
    crate::encoding::base64(&mac.finalize().into_bytes())
}

/// The three headers that authenticate a request at `timestamp_ms`
/// (milliseconds since the Unix epoch, the clock's offset already applied).
pub fn headers(
    keys: &Keys,
    method: &str,
    path_and_query: &str,
    timestamp_ms: i64,
) -> Vec<(String, String)> {
    let ts = timestamp_ms.to_string();
    let sig = signature(
        keys.secret.expose(),
        method,
        path_and_query,
        &ts,
        &keys.access,
    );
    vec![
        (HEADER_TIMESTAMP.to_string(), ts),
        (HEADER_ACCESS_KEY.to_string(), keys.access.clone()),
        (HEADER_SIGNATURE.to_string(), sig),
    ]
}

/// The headers for a request to an absolute URL (what an authorizer of the
/// shared HTTP client adds).
pub fn authorize(
    keys: &Keys,
    method: &str,
    url: &crate::http::Url,
    timestamp_ms: i64,
) -> Vec<(String, String)> {
    headers(keys, method, &path_and_query(url), timestamp_ms)
}

/// The request-target to sign for an absolute URL: its path and query as
/// they will be sent, without scheme and host.
pub fn path_and_query(url: &crate::http::Url) -> String {
    match &url.query {
        Some(q) => format!("{}?{q}", url.path),
        None => url.path.clone(),
    }
}

/// How far the gateway's clock (its `Date` header) is ahead of ours, in
/// milliseconds, when that is beyond the gateway's window: a 401 with such a
/// `Date` is a clock problem, worth one retry with the offset applied.
pub fn skew_beyond_window(date_header: &str, local_now_ms: i64) -> Option<i64> {
    let server = httpdate::parse_http_date(date_header).ok()?;
    let server_ms = match server.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).ok()?,
        Err(_) => return None,
    };
    let skew = server_ms - local_now_ms;
    // Date has a resolution of one second.
    (skew.abs() > WINDOW_MS - 1000).then_some(skew)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clouds::ncp::Secret;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../tests/fixtures/ncp-signing-vectors.json");

    #[test]
    fn every_shared_vector_byte_for_byte() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let vectors = v["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 9, "the fixture holds nine vectors");
        for (n, vec) in vectors.iter().enumerate() {
            let inp = &vec["inputs"];
            let s = |k: &str| inp[k].as_str().unwrap();
            let url = crate::http::Url::parse(s("url")).unwrap();
            let target = path_and_query(&url);
            let ts = s("timestamp_ms");
            assert_eq!(
                string_to_sign(s("method"), &target, ts, s("access_key")),
                vec["string_to_sign"].as_str().unwrap(),
                "vector {n}"
            );
            let keys =
                Keys::new(s("access_key"), Secret::new(s("secret_key")), None).from_source("test");
            let got = authorize(&keys, s("method"), &url, ts.parse().unwrap());
            assert_eq!(
                got,
                headers(&keys, s("method"), &target, ts.parse().unwrap())
            );
            let want = vec["expected_headers"].as_object().unwrap();
            assert_eq!(got.len(), want.len(), "vector {n}");
            for (k, v) in &got {
                assert_eq!(
                    Some(v.as_str()),
                    want[k.as_str()].as_str(),
                    "vector {n}: {k}"
                );
            }
        }
    }

    #[test]
    fn method_is_upper_cased_and_the_body_plays_no_part() {
        let a = signature("S", "get", "/dns/v1/x", "1", "AK");
        assert_eq!(a, signature("S", "GET", "/dns/v1/x", "1", "AK"));
        assert_ne!(a, signature("S", "GET", "/dns/v1/x?", "1", "AK"));
        assert_ne!(
            a,
            signature("S", "GET", "/x", "1", "AK"),
            "the prefix is signed"
        );
    }

    #[test]
    fn skew_only_beyond_the_window() {
        // 1700000000 s = Tue, 14 Nov 2023 22:13:20 GMT
        let date = "Tue, 14 Nov 2023 22:13:20 GMT";
        let server = 1_700_000_000_000i64;
        assert_eq!(skew_beyond_window(date, server), None);
        assert_eq!(skew_beyond_window(date, server - 60_000), None);
        assert_eq!(skew_beyond_window(date, server - 600_000), Some(600_000));
        assert_eq!(skew_beyond_window(date, server + 400_000), Some(-400_000));
        assert_eq!(skew_beyond_window("garbage", server), None);
    }
}
