//! The server role's temporary keys, from the instance metadata service.
//!
//! Metadata v2 first: `PUT {origin}/latest/api/token` with
//! `X-NCP-METADATA-TOKEN-TTL-SECONDS`, then `X-NCP-METADATA-TOKEN` on every
//! GET. v1 (plain GETs) when that PUT is answered 404/405/403 or gets no
//! answer (reset, timeout): the official SDKs speak v1 only and break on
//! servers set to "v2 required"; we don't. A 401 on a GET fetches a new token
//! once. `GET {url}` names the role id, `GET {url}/{roleId}` holds the keys.
//! The transport is injected: the caller gives one with short timeouts and
//! never a proxy.

use serde::Deserialize;

use super::{Keys, Secret};
use crate::error::{Error, Result};
use crate::http::{Response, Transport, TransportError, Url};

pub const TOKEN_PATH: &str = "/latest/api/token";
pub const TOKEN_TTL_HEADER: &str = "X-NCP-METADATA-TOKEN-TTL-SECONDS";
pub const TOKEN_HEADER: &str = "X-NCP-METADATA-TOKEN";
/// Seconds a metadata token lives (the documented example; one run needs seconds).
pub const TOKEN_TTL_SECS: u32 = 21600;

/// The fix when no server role answers.
pub const ROLE_HINT: &str = "attach a server role holding the managed policy NCP_GLOBAL_DNS_MANAGER to this server \
(console: Server > the server > Server role; VPC servers only), or give an API key in a \
credentials file of mode 600 (--credentials-file or ~/.ncloud/configure), or set \
NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY";

/// The `security-credentials/{roleId}` document (only the fields we use).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    secret_access_key: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
}

fn failed(cause: String) -> Error {
    Error::failed("credentials", cause).hint(ROLE_HINT)
}

/// Parses the role's credential document. Errors name the role, never a
/// value of the document (it holds the secret).
pub fn parse(body: &[u8], role: &str) -> std::result::Result<Keys, String> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|_| format!("server role {role:?}: the answer is not a credential document"))?;
    // Held before anything is said: a failed document's Message may repeat its key.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        crate::redact::hold_named(&v);
    }
    match w.code.as_deref() {
        Some("Success") => {}
        other => {
            let code = other.map_or("no Code".to_string(), |c| format!("Code {}", excerpt(c)));
            let msg = w
                .message
                .as_deref()
                .map(|m| format!(": {}", excerpt(m)))
                .unwrap_or_default();
            return Err(format!(
                "server role {role:?}: metadata answered {code}{msg}, not Success"
            ));
        }
    }
    let (Some(ak), Some(sk)) = (
        w.access_key_id.filter(|v| !v.is_empty()),
        w.secret_access_key.filter(|v| !v.is_empty()),
    ) else {
        return Err(format!(
            "server role {role:?}: the credential document lacks AccessKeyId or SecretAccessKey"
        ));
    };
    let mut k = Keys::new(ak, Secret::new(sk), None).from_source("server role");
    k.expires_at = w.expiration.filter(|e| !e.is_empty());
    k.refreshable = true;
    Ok(k)
}

/// A short, escaped quote of a server word, with any secret it embeds masked
/// (a Message may quote the credential document).
fn excerpt(s: &str) -> String {
    let s = crate::redact::scrub_server_text(s);
    let clip: String = s.chars().take(100).collect();
    crate::redact::escape_controls(&clip)
}

/// One metadata session: the token (v2) or none (v1).
struct Session<'a> {
    t: &'a dyn Transport,
    url: &'a Url,
    token: Option<String>,
    renewed: bool,
}

impl Session<'_> {
    fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.url.origin())
    }

    /// `Some(token)` on 200; `None` (v1) on 404/405/403 or no answer.
    fn fetch_token(&self) -> Result<Option<String>> {
        let headers = [(TOKEN_TTL_HEADER.to_string(), TOKEN_TTL_SECS.to_string())];
        match self.t.send("PUT", &self.token_url(), &headers, b"") {
            Ok(r) if r.status == 200 => {
                let tok = String::from_utf8_lossy(&r.body).trim().to_string();
                crate::redact::hold(&tok);
                Ok((!tok.is_empty()).then_some(tok))
            }
            Ok(r) if matches!(r.status, 403..=405) => Ok(None),
            Ok(r) => Err(failed(format!(
                "metadata token request to {} answered HTTP {}",
                self.token_url(),
                r.status
            ))),
            // No connection at all (after the transport's retries): the GET
            // would go to the same place.
            Err(e) if e.never_connected() => Err(unreachable(self.url, &e)),
            // A service without v2 may reset or stall the PUT: v1 is tried.
            Err(_) => Ok(None),
        }
    }

    /// GET with the token; a 401 fetches a new token once and asks again.
    fn get(&mut self, url: &str) -> Result<Response> {
        loop {
            let headers: Vec<(String, String)> = self
                .token
                .iter()
                .map(|t| (TOKEN_HEADER.to_string(), t.clone()))
                .collect();
            let r = self
                .t
                .send("GET", url, &headers, b"")
                .map_err(|e| unreachable(self.url, &e))?;
            if r.status == 401 && !self.renewed {
                self.renewed = true;
                if let Some(tok) = self.fetch_token()? {
                    self.token = Some(tok);
                    continue;
                }
            }
            return Ok(r);
        }
    }
}

fn unreachable(url: &Url, e: &TransportError) -> Error {
    failed(format!(
        "the NCP metadata service at {} did not answer: {e}",
        url.origin()
    ))
}

/// What a non-200 answer is worth saying: the status and a recognised error
/// shape (redacted), never the raw body.
fn status_line(what: &str, r: &Response) -> String {
    let detail = match crate::redact::error_excerpt(&r.body) {
        Some((Some(code), msg)) => format!(" ({code}: {msg})"),
        Some((None, msg)) => format!(" ({msg})"),
        None => String::new(),
    };
    let v2 = if r.status == 401 {
        " (the metadata token was refused)"
    } else {
        ""
    };
    format!(
        "NCP metadata answered HTTP {}{detail}{v2} for {what}",
        r.status
    )
}

/// The server role's temporary keys, `url` being
/// `…/latest/meta-data/iam/security-credentials` ([`super::config::DEFAULT_METADATA_URL`]).
pub fn fetch(t: &dyn Transport, url: &Url) -> Result<Keys> {
    let mut s = Session {
        t,
        url,
        token: None,
        renewed: false,
    };
    s.token = s.fetch_token()?;
    let base = format!("{}{}", url.origin(), url.path.trim_end_matches('/'));
    let r = s.get(&base)?;
    if r.status != 200 {
        return Err(failed(format!(
            "{}; no server role attached?",
            status_line("the role id", &r)
        )));
    }
    let listing = String::from_utf8_lossy(&r.body);
    let role = listing.lines().map(str::trim).find(|l| !l.is_empty());
    let Some(role) = role.map(str::to_string) else {
        return Err(failed(
            "NCP metadata names no server role (empty answer)".into(),
        ));
    };
    if !role
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(failed(
            "NCP metadata answered something that is not a role id".into(),
        ));
    }
    let r = s.get(&format!("{base}/{role}"))?;
    if r.status != 200 {
        return Err(failed(status_line(&format!("server role {role:?}"), &r)));
    }
    parse(&r.body, &role).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// (method, url, headers) of one request.
    type Seen = (String, String, Vec<(String, String)>);
    type Answer = std::result::Result<Response, TransportError>;

    struct Script {
        answers: Mutex<Vec<Answer>>,
        seen: Mutex<Vec<Seen>>,
    }
    impl Script {
        fn new(a: Vec<Answer>) -> Self {
            Script {
                answers: Mutex::new(a),
                seen: Mutex::default(),
            }
        }
        fn seen(&self) -> Vec<Seen> {
            crate::sync::lock(&self.seen).clone()
        }
    }
    impl Transport for Script {
        fn send(&self, m: &str, u: &str, h: &[(String, String)], _: &[u8]) -> Answer {
            crate::sync::lock(&self.seen).push((m.into(), u.into(), h.to_vec()));
            let mut a = crate::sync::lock(&self.answers);
            assert!(!a.is_empty(), "unexpected request {m} {u}");
            a.remove(0)
        }
    }
    fn resp(status: u16, body: &str) -> Answer {
        Ok(Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        })
    }
    const DOC: &str = r#"{"Type":"NCP-HMAC","AccessKeyId":"TMPAK","SecretAccessKey":"TMPSK","Expiration":"2026-11-30T10:00:00Z","Token":"","LastUpdated":"2026-11-30T09:00:00Z","Code":"Success"}"#;
    const URL: &str = "http://169.254.169.254/latest/meta-data/iam/security-credentials";

    fn url() -> Url {
        Url::parse(URL).unwrap()
    }
    fn tok(seen: &Seen) -> Option<&str> {
        seen.2
            .iter()
            .find(|(k, _)| k == TOKEN_HEADER)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn v2_token_on_every_get() {
        let t = Script::new(vec![
            resp(200, "mdtok\n"),
            resp(200, "role-1"),
            resp(200, DOC),
        ]);
        let k = fetch(&t, &url()).unwrap();
        assert_eq!((k.access.as_str(), k.secret.expose()), ("TMPAK", "TMPSK"));
        assert_eq!(k.expires_at.as_deref(), Some("2026-11-30T10:00:00Z"));
        assert!(k.refreshable);
        assert_eq!(k.source, "server role");
        let seen = t.seen();
        assert_eq!(seen[0].0, "PUT");
        assert_eq!(seen[0].1, "http://169.254.169.254/latest/api/token");
        assert_eq!(
            seen[0].2,
            vec![(TOKEN_TTL_HEADER.to_string(), "21600".to_string())]
        );
        assert_eq!((seen[1].0.as_str(), seen[1].1.as_str()), ("GET", URL));
        assert_eq!(seen[2].1, format!("{URL}/role-1"));
        assert_eq!(tok(&seen[1]), Some("mdtok"));
        assert_eq!(tok(&seen[2]), Some("mdtok"));
    }

    #[test]
    fn v1_fallback_on_404_405_403_reset_and_timeout() {
        for first in [
            resp(404, "Path Not found."),
            resp(405, ""),
            resp(403, ""),
            Err(TransportError::Other("connection reset".into())),
            Err(TransportError::Timeout("read".into())),
        ] {
            let t = Script::new(vec![first, resp(200, "role-1"), resp(200, DOC)]);
            assert_eq!(fetch(&t, &url()).unwrap().access, "TMPAK");
            let seen = t.seen();
            assert_eq!(seen.len(), 3);
            assert!(
                seen[1].2.is_empty() && seen[2].2.is_empty(),
                "v1: no header"
            );
        }
    }

    #[test]
    fn other_token_statuses_are_errors() {
        for status in [400, 500] {
            let t = Script::new(vec![resp(status, "")]);
            let e = fetch(&t, &url()).unwrap_err().to_string();
            assert!(e.contains(&format!("HTTP {status}")), "{e}");
            assert!(e.contains("attach a server role"), "{e}");
            assert_eq!(t.seen().len(), 1);
        }
    }

    #[test]
    fn a_401_fetches_a_new_token_once() {
        let t = Script::new(vec![
            resp(200, "old"),
            resp(401, ""),
            resp(200, "new"),
            resp(200, "role-1\nrole-2\n"),
            resp(200, DOC),
        ]);
        fetch(&t, &url()).unwrap();
        let seen = t.seen();
        assert_eq!(tok(&seen[1]), Some("old"));
        assert_eq!(seen[2].0, "PUT");
        assert_eq!(tok(&seen[3]), Some("new"));
        assert_eq!(seen[4].1, format!("{URL}/role-1"), "first line only");
        assert_eq!(tok(&seen[4]), Some("new"));

        // Only once: a second 401 is the answer.
        let t = Script::new(vec![
            resp(200, "old"),
            resp(401, ""),
            resp(200, "new"),
            resp(401, ""),
        ]);
        let e = fetch(&t, &url()).unwrap_err().to_string();
        assert!(
            e.contains("HTTP 401") && e.contains("token was refused"),
            "{e}"
        );
        assert_eq!(t.seen().len(), 4);
    }

    #[test]
    fn v1_get_refused_on_a_v2_only_server_tries_a_token() {
        // The PUT stalled once, then works: the 401 on the plain GET fetches a token.
        let t = Script::new(vec![
            Err(TransportError::Timeout("x".into())),
            resp(401, ""),
            resp(200, "tok"),
            resp(200, "role-1"),
            resp(200, DOC),
        ]);
        fetch(&t, &url()).unwrap();
        assert_eq!(tok(&t.seen()[3]), Some("tok"));
    }

    #[test]
    fn no_role_and_service_down_say_attach_a_server_role() {
        let t = Script::new(vec![resp(404, ""), resp(404, "Path Not found.")]);
        let e = fetch(&t, &url()).unwrap_err();
        assert_eq!(e.exit.code(), 1);
        let e = e.to_string();
        assert!(
            e.contains("HTTP 404") && e.contains("attach a server role"),
            "{e}"
        );
        let t = Script::new(vec![
            Err(TransportError::Refused("x".into())),
            Err(TransportError::Refused("x".into())),
        ]);
        let e = fetch(&t, &url()).unwrap_err().to_string();
        assert!(
            e.contains("did not answer") && e.contains("attach a server role"),
            "{e}"
        );
        let t = Script::new(vec![resp(404, ""), resp(200, "\n")]);
        assert!(
            fetch(&t, &url())
                .unwrap_err()
                .to_string()
                .contains("no server role")
        );
    }

    #[test]
    fn a_connection_never_made_is_tried_again_twice() {
        use crate::http::{CONNECT_TIMEOUT, ConnectRetry};
        use std::time::Duration;
        let refused = || Err(TransportError::Refused("x".into()));
        let lost_syn = || Err(TransportError::Timeout(CONNECT_TIMEOUT.into()));
        let pauses = [Duration::from_millis(200), Duration::from_millis(500)];
        // On the PUT, on the role's GET, on the keys' GET: two misses each, then the answer.
        for script in [
            vec![
                refused(),
                lost_syn(),
                resp(200, "tok"),
                resp(200, "role-1"),
                resp(200, DOC),
            ],
            vec![
                resp(200, "tok"),
                lost_syn(),
                lost_syn(),
                resp(200, "role-1"),
                resp(200, DOC),
            ],
            vec![
                resp(200, "tok"),
                resp(200, "role-1"),
                refused(),
                refused(),
                resp(200, DOC),
            ],
        ] {
            let t = ConnectRetry::with_sleep(Script::new(script), &pauses, |_| {});
            assert_eq!(fetch(&t, &url()).unwrap().access, "TMPAK");
        }
        // Three misses: unreachable, without a v1 GET after a PUT that never connected.
        let t = ConnectRetry::with_sleep(
            Script::new(vec![
                lost_syn(),
                lost_syn(),
                lost_syn(),
                resp(200, "role-1"),
            ]),
            &pauses,
            |_| {},
        );
        let e = fetch(&t, &url()).unwrap_err().to_string();
        assert!(e.contains("did not answer: timed out (connect)"), "{e}");
        assert!(e.contains("attach a server role"), "{e}");
    }

    #[test]
    fn code_other_than_success_names_the_role_not_the_secrets() {
        let doc = r#"{"Code":"Failure","Message":"role detached","AccessKeyId":"TMPAK","SecretAccessKey":"LEAKME"}"#;
        let t = Script::new(vec![resp(404, ""), resp(200, "my-role"), resp(200, doc)]);
        let e = fetch(&t, &url()).unwrap_err().to_string();
        assert!(e.contains("\"my-role\"") && e.contains("Failure"), "{e}");
        assert!(e.contains("role detached"), "{e}");
        assert!(!e.contains("LEAKME"), "{e}");
        assert_eq!(e.lines().count(), 1);
    }

    #[test]
    fn error_answers_never_quote_the_document() {
        for status in [500, 203] {
            let t = Script::new(vec![resp(404, ""), resp(200, "r"), resp(status, DOC)]);
            let e = fetch(&t, &url()).unwrap_err().to_string();
            assert!(e.contains(&format!("HTTP {status}")), "{e}");
            assert!(!e.contains("TMPSK"), "{e}");
        }
        let t = Script::new(vec![
            resp(404, ""),
            resp(200, "r"),
            resp(200, r#"{"SecretAccessKey":"LEAKME""#),
        ]);
        let e = fetch(&t, &url()).unwrap_err().to_string();
        assert!(
            !e.contains("LEAKME") && e.contains("not a credential document"),
            "{e}"
        );
        let t = Script::new(vec![
            resp(404, ""),
            resp(200, "r"),
            resp(
                200,
                r#"{"Code":"Success","AccessKeyId":"A","SecretAccessKey":""}"#,
            ),
        ]);
        assert!(fetch(&t, &url()).unwrap_err().to_string().contains("lacks"));
    }

    #[test]
    fn a_role_id_that_is_not_one_is_not_put_in_a_url() {
        let t = Script::new(vec![resp(404, ""), resp(200, "<html>../x</html>")]);
        assert!(fetch(&t, &url()).is_err());
        assert_eq!(t.seen().len(), 2);
    }
}
