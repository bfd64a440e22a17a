//! HTTP requests and answers as every handler sees them (independent of
//! tiny_http, so handlers are testable), and the encoding helpers clouds
//! share (percent-encoding, query and form pairs, base64).

use serde_json::Value;

use super::clock::{self, Now};

/// A request as received, independent of tiny_http (so handlers are testable).
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    /// Still percent-encoded, as on the request line.
    pub raw_path: String,
    /// Without `?`.
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &str, url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Req {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Req {
            method: method.to_string(),
            raw_path: path.to_string(),
            raw_query: query.to_string(),
            headers,
            body,
        }
    }

    /// Decoded path segments; a trailing slash is ignored.
    pub fn segments(&self) -> Vec<String> {
        let path = self.raw_path.trim_start_matches('/');
        let path = path.strip_suffix('/').unwrap_or(path);
        path.split('/')
            .map(|s| String::from_utf8_lossy(&decode(s)).into_owned())
            .collect()
    }

    /// First decoded value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        query_pairs(&self.raw_query)
            .into_iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// An answer; `Date` is added on the way out from the simulated clock.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, body: &Value) -> Resp {
        Resp {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: &str) -> Resp {
        Resp {
            status,
            content_type,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// `code` or `error_code` of an error body, for the log.
    pub(crate) fn error_code(&self) -> Option<String> {
        if self.status < 400 {
            return None;
        }
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v.get("code")
            .or_else(|| v.get("error_code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub(crate) fn with_date(mut self, now: &Now) -> Resp {
        let date = httpdate::fmt_http_date(clock::system_time(now.sim_us));
        self.headers.push(("Date".to_string(), date));
        self
    }
}

/// A handler's answer plus what the request log records about it.
#[derive(Debug)]
pub(crate) struct Handled {
    pub resp: Resp,
    /// The AK the request was signed with (metadata: the AK it issued).
    pub access_key: Option<String>,
    /// `aksk`, `token`, `id_token` or `sa_token`; see `RequestEntry::auth`.
    pub auth: Option<&'static str>,
    /// The temporary AK the request issued.
    pub issued: Option<String>,
    /// The error code to log, when the body does not carry it as a
    /// top-level `code` or `error_code` (which the core reads by itself).
    pub code: Option<String>,
}

impl Handled {
    pub fn new(resp: Resp) -> Handled {
        Handled {
            resp,
            access_key: None,
            auth: None,
            issued: None,
            code: None,
        }
    }
}

/// An address one can connect to for a listener bound to `addr`.
pub(crate) fn connectable(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
}

/// First value of header `name` (case-insensitive).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Percent-encodes everything but `A-Za-z0-9-_.~`, upper-case hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `+` stays `+` (it is not a space here) and a
/// malformed escape is kept literally, as the SDKs' unquote does.
pub(crate) fn decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hi = char::from(b[i + 1]).to_digit(16);
            let lo = char::from(b[i + 2]).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The decoded `(key, value)` pairs of a raw query, in wire order.
/// A part without `=` has an empty value; empty parts are skipped.
pub(crate) fn query_pairs(raw_query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw_query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(part), Vec::new()),
        })
        .collect()
}

/// The decoded pairs of an `application/x-www-form-urlencoded` text (a form
/// body, or a query read as one): `+` is a space, `%XX` decoded as by
/// [`decode`], invalid UTF-8 replaced.
pub(crate) fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    query_pairs(&String::from_utf8_lossy(&spaced))
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect()
}

/// Standard base64 with padding, written here so the simulator shares
/// nothing with the product.
pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn req_splits_and_decodes() {
        let r = Req::new(
            "GET",
            "/v2/zones/a%20b/recordsets/?name=x%2Ey&type=TXT&name=z",
            vec![],
            vec![],
        );
        assert_eq!(r.raw_path, "/v2/zones/a%20b/recordsets/");
        assert_eq!(r.segments(), ["v2", "zones", "a b", "recordsets"]);
        assert_eq!(r.param("name").as_deref(), Some("x.y"));
        assert_eq!(r.param("type").as_deref(), Some("TXT"));
        assert_eq!(r.param("marker"), None);
    }

    #[test]
    fn forms_and_base64() {
        assert_eq!(
            form_pairs(b"a=b+c&d=%2B%41&e&=f&g=%zz"),
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "+A".into()),
                ("e".into(), String::new()),
                (String::new(), "f".into()),
                ("g".into(), "%zz".into()),
            ]
        );
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn error_code_is_read_from_either_shape() {
        assert_eq!(
            Resp::json(400, &json!({"code": "DNS.0312"}))
                .error_code()
                .as_deref(),
            Some("DNS.0312")
        );
        assert_eq!(
            Resp::json(401, &json!({"error_code": "APIG.0301"}))
                .error_code()
                .as_deref(),
            Some("APIG.0301")
        );
        assert_eq!(Resp::json(200, &json!({"code": "x"})).error_code(), None);
    }
}
