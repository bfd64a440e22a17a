//! Connecting to OVHcloud: the shared retrying [`Client`] with OVH's [`Auth`]
//! (a service account's bearer token, a pre-minted one, or the classic
//! signature over the exact URL and body sent), the DNS provider over it, and
//! what `check` and `api` need ([`OvhConnection`]).
//!
//! The client retries 429/5xx of GET and DELETE, never a POST (a create or a
//! refresh with an unknown outcome is re-read by the flow, not repeated), and
//! after a 401 asks [`Auth::refresh`] once: a service account fetches a new
//! token, once per process; a pre-minted token or classic keys have nothing new.

use std::sync::Arc;

use super::config::OvhConfig;
use super::credentials::{Auth as Creds, Found};
use super::dns::OvhDns;
use super::errors::api_error;
use super::token::{Authorize, Bearer, Classic, TokenSource};
use crate::api_error::{ApiError, ApiResult};
use crate::client::{Auth, Client, Net, Outgoing};
use crate::clock::Clock;
use crate::cloud_api::{BaseSender, Connection, DnsApi, Zone};
use crate::error::Result;
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// OVH's part of sending: authentication headers over the exact request.
pub struct OvhAuth {
    inner: Box<dyn Authorize>,
    /// Where a new token comes from (for `-v`), when there is one to fetch.
    token_url: Option<String>,
    /// `{api}/auth/time`, always sent without credentials ([`unauthenticated`]).
    time_url: String,
}

/// `GET /auth/time` is called without a bearer or signature, as go-ovh and
/// python-ovh do: OVH's `/auth` routes "are actually broken if authenticated".
/// Sending it bare also spends no token on a read that needs none.
pub fn unauthenticated(target: &str, time_url: &str) -> bool {
    target.split('?').next() == Some(time_url)
}

/// `{api}/auth/time` for an API base (with or without a trailing slash).
fn time_url(base: &Url) -> String {
    let u = base.join("/auth/time");
    format!("{}{}", u.origin(), u.path)
}

/// The URL exactly as sent: the URL's own query, then `query` encoded.
pub fn target(url: &Url, query: &[(String, String)]) -> String {
    let mut t = format!("{}{}", url.origin(), url.path);
    let mut q = url.query.clone().unwrap_or_default();
    for (k, v) in query {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!(
            "{}={}",
            crate::encoding::percent_encode(k),
            crate::encoding::percent_encode(v)
        ));
    }
    if !q.is_empty() {
        t.push('?');
        t.push_str(&q);
    }
    t
}

impl Auth for OvhAuth {
    fn prepare(&self, r: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)> {
        let target = target(r.url, r.query);
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if r.body.is_some() {
            headers.push((
                "Content-Type".to_string(),
                "application/json;charset=utf-8".to_string(),
            ));
        }
        if unauthenticated(&target, &self.time_url) {
            return Ok((target, headers));
        }
        headers.extend(
            self.inner
                .headers(r.method, &target, r.body.unwrap_or_default())?,
        );
        Ok((target, headers))
    }

    /// A bearer carries no time, and the classic signature's comes from the
    /// API's own clock (`/auth/time`): a 401 is about the credentials.
    fn signs_with_our_clock(&self) -> bool {
        false
    }

    /// A new token once per process (service accounts only).
    fn refresh(&self) -> ApiResult<Option<String>> {
        Ok(if self.inner.after_401()? {
            Some(format!(
                "the OAuth2 token endpoint {}",
                self.token_url.as_deref().unwrap_or("")
            ))
        } else {
            None
        })
    }

    fn generation(&self) -> u64 {
        self.inner.generation()
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        api_error(resp.status, &resp.body, None)
    }
}

/// The authorizer for what the chain found.
fn authorizer(
    cfg: &OvhConfig,
    found: &Found,
    token_url: Option<&str>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
) -> Box<dyn Authorize> {
    match found.auth.clone() {
        Creds::ServiceAccount {
            client_id,
            client_secret,
        } => Box::new(Bearer::Fetched(TokenSource::new(
            transport,
            token_url.unwrap_or_default(),
            &client_id,
            client_secret,
            clock,
        ))),
        Creds::AccessToken(t) => Box::new(Bearer::Static(t)),
        Creds::Classic {
            application_key,
            application_secret,
            consumer_key,
        } => Box::new(Classic::new(
            &application_key,
            application_secret,
            consumer_key,
            transport,
            &cfg.endpoints.api_base,
            clock,
        )),
    }
}

pub struct OvhConnection {
    dns: OvhDns<Arc<BaseSender>>,
    sender: Arc<BaseSender>,
    identity: String,
}

/// Builds the client and the provider; no network call is made here (the
/// token is fetched with the first call that needs it).
pub fn connect(
    cfg: &OvhConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<OvhConnection> {
    with_transport(cfg, net.api_transport(), net, clock, report)
}

/// [`connect`] over a given transport (tests).
pub fn with_transport(
    cfg: &OvhConfig,
    transport: Arc<dyn Transport>,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<OvhConnection> {
    let (found, token_url) = cfg.credentials()?;
    let inner = authorizer(
        cfg,
        &found,
        token_url.as_deref(),
        transport.clone(),
        clock.clone(),
    );
    let mut identity = format!("{} from {}", inner.describe(), found.source);
    match &found.auth {
        Creds::ServiceAccount { .. } => identity.push_str(&format!(
            " (OAuth2 token from {})",
            token_url.as_deref().unwrap_or_default()
        )),
        Creds::Classic { .. } => {
            identity.push_str(" (signed with the API's clock, read once from /auth/time)")
        }
        Creds::AccessToken(_) => {}
    }
    report.verbose(format!("credentials: {identity}"));
    if !found.skipped.is_empty() {
        report.verbose(format!(
            "credential sources skipped: {}",
            found.skipped.join("; ")
        ));
    }
    let auth = Arc::new(OvhAuth {
        inner,
        token_url,
        time_url: time_url(&cfg.dns_endpoint),
    });
    let client = Client::new(transport, auth, clock, report.clone()).with_policy(net.retry);
    let sender = Arc::new(BaseSender {
        client,
        base: cfg.dns_endpoint.clone(),
    });
    Ok(OvhConnection {
        dns: OvhDns::new(sender.clone()).with_parallel(net.parallel),
        sender,
        identity,
    })
}

impl Connection for OvhConnection {
    fn dns(&self) -> &dyn DnsApi {
        &self.dns
    }

    fn identity(&self) -> String {
        self.identity.clone()
    }

    /// `GET /auth/time`: answers with the API's `Date`; sent without
    /// credentials ([`unauthenticated`]), so [`Connection::credentials_probe`]
    /// shows they work.
    fn probe_url(&self) -> Url {
        self.sender.base.join("/auth/time")
    }

    /// `GET /domain/zone/{zone}` (`dnsZone:apiovh:get`, which finding the zone
    /// needs anyway, so a policy scoped to the zone passes); without a zone the
    /// listing `GET /domain/zone`, which such a policy may refuse.
    fn credentials_probe(&self, zone: Option<&Zone>) -> Option<Url> {
        Some(match zone {
            Some(z) => self.sender.base.join(&format!(
                "/domain/zone/{}",
                crate::encoding::percent_encode(z.id.trim_end_matches('.'))
            )),
            None => self.sender.base.join("/domain/zone"),
        })
    }

    fn send(&self, method: &str, url: &Url, body: Option<&[u8]>) -> ApiResult<Response> {
        self.sender.client.send(method, url, &[], body)
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        api_error(resp.status, &resp.body, None)
    }

    fn clock_offset(&self) -> i64 {
        self.sender.client.clock_offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::RetryPolicy;
    use crate::cloud_api::Sender;
    use crate::clock::FakeClock;
    use crate::credentials::{Attempt, Chain, NoneAnswered, Source};
    use crate::http::ProxyConfig;
    use crate::clouds::ovh::credentials::Secret;
    use crate::clouds::ovh::endpoints::{EndpointInputs, resolve};
    use crate::clouds::ovh::token::tests::{FakeTransport, Sent, answer};
    use crate::report::Level;

    fn token(t: &str) -> Response {
        answer(
            200,
            &format!(r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":3599}}"#),
        )
    }

    fn auth_of(sent: &Sent) -> Option<String> {
        sent.2
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone())
    }

    fn cfg(auth: Creds, base: &str) -> OvhConfig {
        let endpoints = resolve(&EndpointInputs {
            dns_endpoint: Some(base.into()),
            token_endpoint: Some("http://127.0.0.1:1/auth/oauth2/token".into()),
            ..Default::default()
        })
        .unwrap();
        OvhConfig {
            dns_endpoint: Url::parse(&endpoints.api_base).unwrap(),
            endpoints,
            // A chain of one source: the environment, holding `auth`.
            credentials: Chain {
                sources: vec![Source::local("environment", "static", move || {
                    Ok(Attempt::Loaded((auth.clone(), "environment".into())))
                })],
                only: None,
                none: NoneAnswered {
                    what: "none",
                    exit: crate::error::Exit::Rejected,
                    hint: "",
                },
            },
        }
    }

    fn conn(c: &OvhConfig, t: &Arc<FakeTransport>, now: u64) -> OvhConnection {
        let net = Net {
            http_timeout: std::time::Duration::from_secs(5),
            retry: RetryPolicy {
                retries: 2,
                base: std::time::Duration::from_millis(1),
            },
            proxy: ProxyConfig::default(),
            trust: Default::default(),
            parallel: 4,
        };
        let report = Arc::new(Report::new(Level::Quiet, Box::new(std::io::sink())));
        with_transport(c, t.clone(), &net, Arc::new(FakeClock::new(now)), &report).unwrap()
    }

    #[test]
    fn a_401_fetches_a_new_token_once_and_retries() {
        let t = FakeTransport::with(vec![
            token("T1"),
            answer(
                401,
                r#"{"class":"Client::Unauthorized","message":"expired"}"#,
            ),
            token("T2"),
            answer(200, "[]"),
            answer(401, "{}"),
        ]);
        let c = cfg(
            Creds::ServiceAccount {
                client_id: "cid".into(),
                client_secret: Secret::new("cs"),
            },
            "http://127.0.0.1:1/1.0/",
        );
        let conn = conn(&c, &t, 1_700_000_000);
        let url = conn.sender.base.join("/domain/zone");
        assert_eq!(conn.send("GET", &url, None).unwrap().status, 200);
        // A second 401 in the same process is answered as it is.
        assert_eq!(conn.send("GET", &url, None).unwrap().status, 401);
        let sent = crate::sync::lock(&t.sent);
        let urls: Vec<&str> = sent.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:1/auth/oauth2/token",
                "http://127.0.0.1:1/1.0/domain/zone",
                "http://127.0.0.1:1/auth/oauth2/token",
                "http://127.0.0.1:1/1.0/domain/zone",
                "http://127.0.0.1:1/1.0/domain/zone",
            ]
        );
        assert_eq!(auth_of(&sent[1]).as_deref(), Some("Bearer T1"));
        assert_eq!(auth_of(&sent[3]).as_deref(), Some("Bearer T2"));
        assert_eq!(auth_of(&sent[4]).as_deref(), Some("Bearer T2"));
        assert!(conn.identity().contains("service account cid"));
        assert!(!conn.identity().contains("cs"));
    }

    #[test]
    fn a_401_renews_the_token_even_when_the_clocks_disagree() {
        let mut expired = answer(
            401,
            r#"{"class":"Client::Unauthorized","message":"expired"}"#,
        );
        expired.headers = vec![("Date".into(), "Mon, 01 Jan 2001 00:00:00 GMT".into())];
        let t = FakeTransport::with(vec![token("T1"), expired, token("T2"), answer(200, "[]")]);
        let c = cfg(
            Creds::ServiceAccount {
                client_id: "cid".into(),
                client_secret: Secret::new("cs"),
            },
            "http://127.0.0.1:1/1.0",
        );
        let conn = conn(&c, &t, 1_700_000_000);
        let url = conn.sender.base.join("/domain/zone");
        assert_eq!(conn.send("GET", &url, None).unwrap().status, 200);
        assert_eq!(
            auth_of(&crate::sync::lock(&t.sent)[3]).as_deref(),
            Some("Bearer T2")
        );
        assert_eq!(conn.clock_offset(), 0);
    }

    #[test]
    fn classic_signs_the_full_url_and_the_exact_body() {
        // Vector 3 of tests/fixtures/ovh-signing-vectors.json, end to end.
        let t = FakeTransport::with(vec![answer(200, "1700000002"), answer(200, "{}")]);
        let c = cfg(
            Creds::Classic {
                application_key: "7kbG7Bk7S9Nt7ZSV".into(),
                application_secret: Secret::new("EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"),
                consumer_key: Secret::new("MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL"),
            },
            "https://eu.api.ovh.com/1.0",
        );
        let conn = conn(&c, &t, 1_700_000_002);
        let body = br#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0","ttl":60}"#;
        conn.sender
            .send("POST", "/domain/zone/example.com/record", Some(body))
            .unwrap();
        let sent = crate::sync::lock(&t.sent);
        assert_eq!(sent[0].1, "https://eu.api.ovh.com/1.0/auth/time");
        let (m, url, headers, sent_body) = &sent[1];
        assert_eq!(
            (m.as_str(), url.as_str()),
            (
                "POST",
                "https://eu.api.ovh.com/1.0/domain/zone/example.com/record"
            )
        );
        assert_eq!(sent_body.as_slice(), body.as_slice());
        assert!(headers.contains(&(
            "X-Ovh-Signature".into(),
            "$1$7f47e2c7860c13d70c061e298fea24d9becae007".into()
        )));
        assert!(headers.contains(&(
            "Content-Type".into(),
            "application/json;charset=utf-8".into()
        )));
    }

    #[test]
    fn a_post_is_not_repeated_after_a_5xx_but_a_get_is() {
        let t = FakeTransport::with(vec![
            answer(
                503,
                r#"{"class":"Server::ServiceUnavailable","message":"busy"}"#,
            ),
            answer(503, "{}"),
            answer(200, "[]"),
        ]);
        let c = cfg(
            Creds::AccessToken(Secret::new("PRE")),
            "http://127.0.0.1:1/1.0",
        );
        let conn = conn(&c, &t, 1);
        let r = conn
            .sender
            .send("POST", "/domain/zone/example.com/refresh", None)
            .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(crate::sync::lock(&t.sent).len(), 1);
        let r = conn.sender.send("GET", "/domain/zone", None).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(crate::sync::lock(&t.sent).len(), 3);
        assert_eq!(
            target(
                &Url::parse("http://h/1.0/x?a=b").unwrap(),
                &[("c d".into(), "e".into())]
            ),
            "http://h/1.0/x?a=b&c%20d=e"
        );
    }

    /// Credential headers of a request: what `/auth/time` must never carry.
    fn credential_headers(sent: &Sent) -> Vec<String> {
        sent.2
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k == "Authorization" || k.starts_with("X-Ovh-"))
            .collect()
    }

    #[test]
    fn auth_time_is_sent_without_credentials_and_check_reads_a_granted_call() {
        let sa = Creds::ServiceAccount {
            client_id: "cid".into(),
            client_secret: Secret::new("cs"),
        };
        let t = FakeTransport::with(vec![
            answer(200, "1700000000"),
            token("T1"),
            answer(200, r#"{"name":"example.com"}"#),
        ]);
        let sa_conn = conn(&cfg(sa, "http://127.0.0.1:1/1.0/"), &t, 1_700_000_000);
        let probe = sa_conn.probe_url();
        assert_eq!(sa_conn.send("GET", &probe, None).unwrap().status, 200);
        // No token fetched for it.
        assert_eq!(crate::sync::lock(&t.sent).len(), 1);
        assert_eq!(
            crate::sync::lock(&t.sent)[0].1,
            "http://127.0.0.1:1/1.0/auth/time"
        );
        assert!(credential_headers(&crate::sync::lock(&t.sent)[0]).is_empty());
        // check's "credentials work" call: the zone found, with the bearer.
        let zone = Zone {
            name: "example.com.".into(),
            id: "example.com".into(),
        };
        let url = sa_conn.credentials_probe(Some(&zone)).unwrap();
        assert_eq!(sa_conn.send("GET", &url, None).unwrap().status, 200);
        let sent = crate::sync::lock(&t.sent);
        assert_eq!(sent[2].1, "http://127.0.0.1:1/1.0/domain/zone/example.com");
        assert_eq!(auth_of(&sent[2]).as_deref(), Some("Bearer T1"));
        assert_eq!(
            sa_conn.credentials_probe(None).unwrap().path,
            "/1.0/domain/zone"
        );

        // Classic keys: neither the server-time read nor a probe of it is signed.
        let t = FakeTransport::with(vec![answer(200, "1700000000"), answer(200, "1700000000")]);
        let c = cfg(
            Creds::Classic {
                application_key: "AK".into(),
                application_secret: Secret::new("AS"),
                consumer_key: Secret::new("CK"),
            },
            "http://127.0.0.1:1/1.0",
        );
        let classic = conn(&c, &t, 1_700_000_000);
        let probe = classic.probe_url();
        assert_eq!(classic.send("GET", &probe, None).unwrap().status, 200);
        classic.sender.send("GET", "/auth/time?x=1", None).unwrap();
        let sent = crate::sync::lock(&t.sent);
        assert_eq!(sent.len(), 2);
        for s in sent.iter() {
            assert!(
                s.1.starts_with("http://127.0.0.1:1/1.0/auth/time"),
                "{}",
                s.1
            );
            assert!(credential_headers(s).is_empty(), "{:?}", s.2);
        }
        assert!(unauthenticated(
            "https://eu.api.ovh.com/1.0/auth/time",
            "https://eu.api.ovh.com/1.0/auth/time"
        ));
        assert!(!unauthenticated(
            "https://eu.api.ovh.com/1.0/auth/credential",
            "https://eu.api.ovh.com/1.0/auth/time"
        ));
    }
}
