//! Text encodings the clouds and the ACME clients share, once: percent-encoding
//! (one function per set of bytes left as they are) and base64 in both of
//! RFC 4648's alphabets. Pure; a few lines each beat two more crates.

/// RFC 3986 §2.3 unreserved: `A-Z a-z 0-9 - . _ ~`.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn encode_except(s: &str, keep: impl Fn(u8) -> bool, hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 15)]));
        }
    }
    out
}

const UPPER: &[u8; 16] = b"0123456789ABCDEF";
const LOWER: &[u8; 16] = b"0123456789abcdef";

/// Percent-encodes every byte but the unreserved ones, upper-case hex: valid
/// in a path segment, a query and a form body alike (OTC's canonical request,
/// OVH's queries and token form).
pub fn percent_encode(s: &str) -> String {
    encode_except(s, unreserved, UPPER)
}

/// [`percent_encode`] with lower-case hex, as some clients send it (the
/// redactor looks for both forms of a secret).
pub fn percent_encode_lower(s: &str) -> String {
    encode_except(s, unreserved, LOWER)
}

/// [`percent_encode`] that leaves `@` as it is too (RFC 3986 allows it in a
/// query): NCP's gateway signs the query as sent, `@` (the zone apex) included.
pub fn percent_encode_keep_at(s: &str) -> String {
    encode_except(s, |b| unreserved(b) || b == b'@', UPPER)
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64_with(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (RFC 4648 §4) with padding (NCP's signature).
pub fn base64(data: &[u8]) -> String {
    base64_with(data, STANDARD, true)
}

/// base64url (RFC 4648 §5) without padding (the ACME DNS-01 value).
pub fn base64url(data: &[u8]) -> String {
    base64_with(data, URL_SAFE, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10's vectors.
    const RFC4648: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn base64_rfc4648_known_answers() {
        for (i, o) in RFC4648 {
            assert_eq!(base64(i.as_bytes()), o);
        }
        // The two characters that differ from base64url.
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn base64url_known_answers() {
        // RFC 4648 test vectors, unpadded.
        for (i, o) in RFC4648 {
            assert_eq!(base64url(i.as_bytes()), o.trim_end_matches('='));
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn percent_encoding_leaves_exactly_the_unreserved_set() {
        for b in 0..=u8::MAX {
            let s = char::from(b).to_string();
            let kept = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if kept {
                assert_eq!(percent_encode(&s), s);
            } else if b < 0x80 {
                assert_eq!(percent_encode(&s), format!("%{b:02X}"));
                assert_eq!(percent_encode_lower(&s), format!("%{b:02x}"));
            }
            assert_eq!(percent_encode_keep_at(&s) == s, kept || b == b'@', "{b:#x}");
        }
        // Bytes of UTF-8, each on its own; `+` and `/` are encoded.
        assert_eq!(percent_encode("a b+c/ü~"), "a%20b%2Bc%2F%C3%BC~");
        assert_eq!(percent_encode_lower("a b+c/ü~"), "a%20b%2bc%2f%c3%bc~");
        assert_eq!(percent_encode("a b+c_d"), "a%20b%2Bc_d");
        // NCP: the apex `@` as is, Korean names byte by byte.
        assert_eq!(percent_encode_keep_at("@"), "@");
        assert_eq!(percent_encode("@"), "%40");
        assert_eq!(percent_encode_keep_at("한글.kr"), "%ED%95%9C%EA%B8%80.kr");
        assert_eq!(percent_encode_keep_at("a b&c=d"), "a%20b%26c%3Dd");
    }
}
