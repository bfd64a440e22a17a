//! ECS metadata: the temporary AK/SK + security token of the VM's agency.

use serde::Deserialize;

use super::{Credentials, Secret};
use crate::error::{Error, Result};
use crate::http::{Transport, TransportError, Url};

/// The default metadata URL of an ECS.
pub const DEFAULT_URL: &str = "http://169.254.169.254/openstack/latest/securitykey";

const AGENCY_HINT: &str = "attach an IAM agency with the DNS Administrator role to this ECS \
(console: ECS > the server > Modify agency), or give keys in a credentials file of mode 600 \
(--credentials-file), or set OS_ACCESS_KEY and OS_SECRET_KEY";

#[derive(Deserialize)]
struct Envelope {
    credential: Wire,
}

#[derive(Deserialize)]
struct Wire {
    access: String,
    secret: String,
    securitytoken: String,
    #[serde(default)]
    expires_at: Option<String>,
}

/// Parses the `securitykey` document. Errors never quote the body (it holds secrets).
pub fn parse(body: &[u8]) -> std::result::Result<Credentials, String> {
    parse_as(body, "ECS agency")
}

/// Parses a `{"credential":{"access","secret","securitytoken","expires_at"}}`
/// document (metadata and IAM `securitytokens` share it).
pub fn parse_as(body: &[u8], source: &'static str) -> std::result::Result<Credentials, String> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        format!(
            "unexpected answer (not a credential document: {})",
            crate::api_error::json_problem(&e)
        )
    })?;
    let w = env.credential;
    if w.access.is_empty() || w.secret.is_empty() || w.securitytoken.is_empty() {
        return Err("credential document has an empty field".into());
    }
    let mut c = Credentials::new(
        w.access,
        Secret::new(w.secret),
        Some(Secret::new(w.securitytoken)),
    );
    c.source = source;
    c.expires_at = w.expires_at;
    c.refreshable = true;
    Ok(c)
}

/// The optional metadata-token handshake: `Some(token)` on 200, `None` when
/// the service does not offer it (404, 405, 503, a reset or a stall). No
/// connection at all (refused or timed out, after the transport's retries)
/// is the service being unreachable: the GET would go to the same place.
fn session_token(t: &dyn Transport, url: &Url) -> Result<Option<String>> {
    let token_url = format!("{}/meta-data/latest/api/token", url.origin());
    let headers = [(
        "X-Metadata-Token-Ttl-Seconds".to_string(),
        "21600".to_string(),
    )];
    match t.send("PUT", &token_url, &headers, b"") {
        Ok(r) if r.status == 200 => {
            let tok = String::from_utf8_lossy(&r.body).trim().to_string();
            crate::redact::hold(&tok);
            Ok((!tok.is_empty()).then_some(tok))
        }
        Ok(r) if matches!(r.status, 404 | 405 | 503) => Ok(None),
        Err(e) if e.never_connected() => Err(unreachable(url, &e)),
        // The token is optional: a reset or a stall on its PUT falls back to the plain GET.
        Err(_) => Ok(None),
        Ok(r) => Err(Error::failed(
            "credentials",
            format!(
                "metadata token request to {token_url} answered HTTP {}",
                r.status
            ),
        )
        .hint(AGENCY_HINT)),
    }
}

fn unreachable(url: &Url, e: &TransportError) -> Error {
    Error::failed(
        "credentials",
        format!(
            "ECS metadata service at {} did not answer: {e}",
            url.origin()
        ),
    )
    .hint(AGENCY_HINT)
}

/// Fetches the agency's temporary credentials.
pub fn fetch(t: &dyn Transport, url: &Url) -> Result<Credentials> {
    let token = session_token(t, url)?;
    let mut headers = Vec::new();
    if let Some(tok) = token {
        headers.push(("X-Metadata-Token".to_string(), tok));
    }
    let full = format!("{}{}", url.origin(), url.path);
    // One more try after a hiccup (5xx, throttling, a dropped connection); a
    // 4xx is an answer and comes back at once, and a connection never made
    // was already tried again by the transport.
    let mut resp = t.send("GET", &full, &headers, b"");
    let hiccup = match &resp {
        Ok(r) => matches!(r.status, 429 | 500 | 502 | 503 | 504),
        Err(e) => !e.never_connected(),
    };
    if hiccup {
        std::thread::sleep(std::time::Duration::from_millis(300));
        resp = t.send("GET", &full, &headers, b"");
    }
    let resp = resp.map_err(|e| unreachable(url, &e))?;
    if resp.status != 200 {
        // The body may be the credential document itself (a 203, a 500 from a
        // broken relay): only a recognised error shape is quoted, never the body.
        let detail = match crate::redact::error_excerpt(&resp.body) {
            Some((Some(code), msg)) => format!(" ({code}: {msg})"),
            Some((None, msg)) => format!(" ({msg})"),
            None => String::new(),
        };
        return Err(Error::failed(
            "credentials",
            format!(
                "ECS metadata answered HTTP {}{detail}; no agency credentials",
                resp.status
            ),
        )
        .hint(AGENCY_HINT));
    }
    parse(&resp.body)
        .map_err(|m| Error::failed("credentials", format!("ECS metadata: {m}")).hint(AGENCY_HINT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;
    use std::sync::Mutex;

    /// (method, url, headers) of one request.
    type Seen = (String, String, Vec<(String, String)>);

    /// Answers from a script and records what was asked.
    struct Script {
        answers: Mutex<Vec<std::result::Result<Response, TransportError>>>,
        seen: Mutex<Vec<Seen>>,
    }
    impl Script {
        fn new(a: Vec<std::result::Result<Response, TransportError>>) -> Self {
            Script {
                answers: Mutex::new(a),
                seen: Mutex::default(),
            }
        }
    }
    impl Transport for Script {
        fn send(
            &self,
            m: &str,
            u: &str,
            h: &[(String, String)],
            _: &[u8],
        ) -> std::result::Result<Response, TransportError> {
            crate::sync::lock(&self.seen).push((m.into(), u.into(), h.to_vec()));
            crate::sync::lock(&self.answers).remove(0)
        }
    }
    fn resp(status: u16, body: &str) -> std::result::Result<Response, TransportError> {
        Ok(Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        })
    }
    const DOC: &str = r#"{"credential":{"access":"TMPAK","secret":"TMPSK","securitytoken":"TMPTOK","expires_at":"2020-01-08T03:50:07.574000Z"}}"#;

    #[test]
    fn token_handshake_then_get() {
        let t = Script::new(vec![resp(200, "mdtoken\n"), resp(200, DOC)]);
        let url = Url::parse("http://127.0.0.1:8/openstack/latest/securitykey").unwrap();
        let c = fetch(&t, &url).unwrap();
        assert_eq!(
            (c.access(), c.secret(), c.token()),
            ("TMPAK", "TMPSK", Some("TMPTOK"))
        );
        let seen = crate::sync::lock(&t.seen);
        assert_eq!(seen[0].0, "PUT");
        assert_eq!(seen[0].1, "http://127.0.0.1:8/meta-data/latest/api/token");
        assert_eq!(seen[0].2[0].1, "21600");
        assert_eq!(seen[1].1, "http://127.0.0.1:8/openstack/latest/securitykey");
        assert_eq!(
            seen[1].2,
            vec![("X-Metadata-Token".into(), "mdtoken".into())]
        );
    }

    #[test]
    fn token_not_offered_goes_on_without() {
        for first in [resp(404, ""), resp(405, ""), resp(503, "")] {
            let t = Script::new(vec![first, resp(200, DOC)]);
            let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
            fetch(&t, &url).unwrap();
            assert!(crate::sync::lock(&t.seen)[1].2.is_empty());
        }
    }

    #[test]
    fn token_put_reset_or_stall_falls_back_to_the_plain_get() {
        for first in [
            Err(TransportError::Other("connection reset".into())),
            Err(TransportError::Timeout("read".into())),
        ] {
            let t = Script::new(vec![first, resp(200, DOC)]);
            let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
            fetch(&t, &url).unwrap();
            assert!(crate::sync::lock(&t.seen)[1].2.is_empty());
        }
    }

    #[test]
    fn a_connection_never_made_is_tried_again_twice() {
        use crate::http::{CONNECT_TIMEOUT, ConnectRetry};
        use std::time::Duration;
        let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
        let refused = || Err(TransportError::Refused("x".into()));
        let lost_syn = || Err(TransportError::Timeout(CONNECT_TIMEOUT.into()));
        let pauses = [Duration::from_millis(200), Duration::from_millis(500)];
        // Refused, then a lost SYN, then the service answers: on the token PUT, then on the GET.
        for script in [
            vec![refused(), lost_syn(), resp(200, "tok"), resp(200, DOC)],
            vec![resp(200, "tok"), lost_syn(), refused(), resp(200, DOC)],
        ] {
            let t = ConnectRetry::with_sleep(Script::new(script), &pauses, |_| {});
            let c = fetch(&t, &url).unwrap();
            assert_eq!(c.access(), "TMPAK");
        }
        // Three times no connection: unreachable, the GET not tried after a PUT that never connected.
        let t = ConnectRetry::with_sleep(
            Script::new(vec![refused(), lost_syn(), refused()]),
            &pauses,
            |_| {},
        );
        let e = fetch(&t, &url).unwrap_err().to_string();
        assert!(e.contains("did not answer: connection refused"), "{e}");
        // On the GET: three attempts, no fourth from the hiccup retry.
        let t = Script::new(vec![
            resp(404, ""),
            lost_syn(),
            lost_syn(),
            lost_syn(),
            resp(200, DOC),
        ]);
        let t = ConnectRetry::with_sleep(t, &pauses, |_| {});
        let e = fetch(&t, &url).unwrap_err().to_string();
        assert!(e.contains("did not answer: timed out (connect)"), "{e}");
    }

    #[test]
    fn a_credential_document_in_an_error_answer_is_never_quoted() {
        let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
        for status in [500, 203] {
            // A 500 is a hiccup worth one more try: it answers the same again.
            let t = Script::new(vec![resp(404, ""), resp(status, DOC), resp(status, DOC)]);
            let e = fetch(&t, &url).unwrap_err().to_string();
            assert!(e.contains(&format!("HTTP {status}")), "{e}");
            assert!(!e.contains("TMPSK") && !e.contains("TMPTOK"), "{e}");
        }
        let t = Script::new(vec![
            resp(404, ""),
            resp(
                401,
                r#"{"error":"Please configure Cloud Service Agency first"}"#,
            ),
        ]);
        let e = fetch(&t, &url).unwrap_err().to_string();
        assert!(
            e.contains("Please configure Cloud Service Agency first"),
            "{e}"
        );
    }

    #[test]
    fn other_token_answer_is_an_error() {
        let t = Script::new(vec![resp(500, "")]);
        let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
        let e = fetch(&t, &url).unwrap_err();
        assert!(e.to_string().contains("attach an IAM agency"), "{e}");
    }

    #[test]
    fn no_agency_names_the_fix_and_never_echoes_secrets() {
        let t = Script::new(vec![
            resp(404, ""),
            resp(401, "Please configure Cloud Service Agency first"),
        ]);
        let url = Url::parse("http://169.254.169.254/openstack/latest/securitykey").unwrap();
        let e = fetch(&t, &url).unwrap_err().to_string();
        assert!(
            e.contains("HTTP 401") && e.contains("attach an IAM agency"),
            "{e}"
        );
        assert!(
            !e.contains("Please configure"),
            "plain text is never quoted: {e}"
        );
        // A 200 with a body we can't use: the body is not quoted.
        let t = Script::new(vec![
            resp(404, ""),
            resp(200, r#"{"credential":{"access":"A","secret":"LEAKME"}}"#),
        ]);
        let e = fetch(&t, &url).unwrap_err().to_string();
        assert!(!e.contains("LEAKME"), "{e}");
    }
}
