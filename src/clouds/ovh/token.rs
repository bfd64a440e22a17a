//! How an API call authenticates: a service account's OAuth2 bearer token
//! (fetched with client credentials, reused until 30 s before its end or
//! halfway through a short one, fetched again once per process after a 401),
//! a pre-minted bearer, or the classic signature with the server's clock
//! (`GET {api}/auth/time`, unauthenticated, once per process).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use super::auth;
use super::credentials::{Auth, Secret};
use crate::api_error::{ApiError, ApiResult, Kind};
use crate::clock::Clock;
use crate::credentials::Refreshing;
use crate::http::{Response, Transport};

/// The fix for a refused service account secret.
pub const INVALID_CLIENT_HINT: &str = "check OVH_CLIENT_ID and OVH_CLIENT_SECRET (or the credentials file): the secret may be mistyped or the service account deleted; create a new one with POST /me/api/oauth2/client (docs/setup.md)";
/// The fix for a refused `OVH_ACCESS_TOKEN`.
pub const ACCESS_TOKEN_HINT: &str = "OVH_ACCESS_TOKEN was refused (expired?): mint a new one, or use a service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET)";
/// A token this close to its end is fetched anew rather than used, or half
/// its lifetime before its end when that is sooner ([`reuse_until`]).
const EXPIRY_MARGIN_SECS: i64 = 30;

/// Until when a token fetched at `fetched` (unix seconds) and living
/// `lifetime` seconds is used: 30 s before its end, or halfway through a
/// token too short for that margin; a short-lived token is still reused,
/// never fetched anew for every call.
pub fn reuse_until(fetched: i64, lifetime: u64) -> i64 {
    let lifetime = i64::try_from(lifetime).unwrap_or(i64::MAX / 4);
    fetched + lifetime - EXPIRY_MARGIN_SECS.min(lifetime / 2)
}

/// The token request's body, exactly as sent (OVH's guide: the client
/// credentials in the form, `scope=all`).
pub fn form_body(client_id: &str, client_secret: &str) -> String {
    format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=all",
        crate::encoding::percent_encode(client_id),
        crate::encoding::percent_encode(client_secret)
    )
}

/// A bearer token and how long it lives.
#[derive(Debug, Clone)]
pub struct Token {
    pub access: Secret,
    pub expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

/// Reads the token endpoint's answer. `invalid_client` becomes one line naming
/// the service account and the fix; nothing of the body but an OAuth2 error
/// code and a redacted message is ever quoted, and never our own secret.
pub fn parse_answer(resp: &Response, client_id: &str, client_secret: &str) -> ApiResult<Token> {
    if (200..300).contains(&resp.status) {
        let a: TokenAnswer = serde_json::from_slice(&resp.body).map_err(|e| {
            ApiError::Decode(format!(
                "the token endpoint's answer is not a token ({})",
                crate::api_error::json_problem(&e)
            ))
        })?;
        if !a.token_type.eq_ignore_ascii_case("bearer") || a.access_token.is_empty() {
            return Err(ApiError::Decode(format!(
                "the token endpoint answered a token of type {:?}, not Bearer",
                crate::redact::escape_controls(&a.token_type)
            )));
        }
        return Ok(Token {
            access: Secret::new(a.access_token),
            expires_in: a.expires_in,
        });
    }
    let oauth = serde_json::from_slice::<OAuthError>(&resp.body).ok();
    if oauth.as_ref().is_some_and(|e| e.error == "invalid_client") {
        return Err(ApiError::status(
            resp.status,
            Some("invalid_client".into()),
            format!(
                "the token endpoint refused service account {}",
                crate::redact::escape_controls(client_id)
            ),
        )
        .with_kind(Kind::Auth)
        .with_hint(INVALID_CLIENT_HINT));
    }
    let (code, message) = match oauth {
        // OAuth2's shape; the description is quoted only as the redactor passes it.
        Some(o) => (
            Some(crate::redact::escape_controls(&o.error)),
            o.error_description
                .and(crate::redact::error_excerpt(&resp.body).map(|(_, m)| m))
                .unwrap_or_else(|| "refused".into()),
        ),
        None => crate::redact::error_excerpt(&resp.body)
            .unwrap_or((None, "the token endpoint refused the request".into())),
    };
    // A server may echo what it was sent: our secret never reaches a message,
    // nor the error code (an `error` field is quoted as the code).
    let scrub = |s: String| {
        if client_secret.is_empty() {
            s
        } else {
            s.replace(client_secret, crate::redact::REDACTED)
        }
    };
    let (code, message) = (code.map(scrub), scrub(message));
    let e = ApiError::status(resp.status, code, format!("token endpoint: {message}"));
    // A 400/401 here is about our client credentials, whatever the code.
    Err(match resp.status {
        400 | 401 | 403 => e.with_kind(Kind::Auth).with_hint(INVALID_CLIENT_HINT),
        _ => e,
    })
}

/// A token and until when it is used (unix seconds), when it ends at all.
type Held = Option<(Secret, Option<i64>)>;

/// Fetches and caches a service account's bearer token: when to fetch is
/// decided here, holding and fetching (one thread at a time: threads needing
/// a token at once wait for one rather than each fetching their own) is the
/// shared [`Refreshing`]'s.
pub struct TokenSource {
    client_id: String,
    clock: Arc<dyn Clock>,
    /// Its generation counts the tokens received so far.
    token: Refreshing<Held>,
    renewed_after_401: AtomicBool,
    fetches: Arc<AtomicU32>,
}

impl TokenSource {
    pub fn new(
        transport: Arc<dyn Transport>,
        url: &str,
        client_id: &str,
        secret: Secret,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let fetches = Arc::new(AtomicU32::new(0));
        let token = Refreshing::new(None);
        token.set_fetch({
            let (fetches, url, client_id, clock) =
                (fetches.clone(), url.to_string(), client_id.to_string(), clock.clone());
            Box::new(move || {
                fetches.fetch_add(1, Ordering::SeqCst);
                let body = form_body(&client_id, secret.expose());
                let headers = vec![
                    (
                        "Content-Type".to_string(),
                        "application/x-www-form-urlencoded".to_string(),
                    ),
                    ("Accept".to_string(), "application/json".to_string()),
                ];
                let resp = transport
                    .send("POST", &url, &headers, body.as_bytes())
                    .map_err(ApiError::Transport)?;
                let t = parse_answer(&resp, &client_id, secret.expose())?;
                let until = t.expires_in.map(|s| reuse_until(clock.unix_secs(), s));
                Ok(Some((t.access, until)))
            })
        });
        TokenSource {
            client_id: client_id.to_string(),
            clock,
            token,
            renewed_after_401: AtomicBool::new(false),
            fetches,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Token requests sent so far (for `check` and tests).
    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// The current token, fetched when there is none or it is about to end.
    pub fn bearer(&self) -> ApiResult<Secret> {
        if let Some(t) = self.usable(&self.token.lock()) {
            return Ok(t);
        }
        match self.token.fetch_unless(|held| self.usable(held).is_some())? {
            Some(Some((t, _))) => Ok(t),
            // Another thread fetched while this one waited.
            _ => self.token.current().map(|(t, _)| t).ok_or_else(|| {
                ApiError::Credentials("no OAuth2 token was fetched".into())
            }),
        }
    }

    fn usable(&self, held: &Held) -> Option<Secret> {
        let now = self.clock.unix_secs();
        match held {
            Some((t, until)) if until.is_none_or(|u| now < u) => Some(t.clone()),
            _ => None,
        }
    }

    /// After a 401: a new token, once per process. `false`: already done, give up.
    pub fn renew_after_401(&self) -> ApiResult<bool> {
        if self.renewed_after_401.swap(true, Ordering::SeqCst) {
            // A request signed before another thread's renewal never gets
            // here: the client sees the new generation and just sends again.
            return Ok(false);
        }
        self.token.fetch_unless(|_| false).map(|_| true)
    }

    /// Tokens received so far.
    fn generation(&self) -> u64 {
        self.token.generation()
    }
}

/// Adds the authentication of one request.
pub trait Authorize: Send + Sync {
    /// Headers for a request to `url` (absolute, with its query) carrying `body`.
    fn headers(&self, method: &str, url: &str, body: &[u8]) -> ApiResult<Vec<(String, String)>>;
    /// Called after a 401: `true` when the request is worth sending once more.
    fn after_401(&self) -> ApiResult<bool>;
    /// What the credentials are, for messages (never a secret).
    fn describe(&self) -> String;
    /// Tokens fetched so far (see [`crate::client::Auth::generation`]).
    fn generation(&self) -> u64 {
        0
    }
}

/// A service account's fetched token, or a pre-minted one.
pub enum Bearer {
    Fetched(TokenSource),
    Static(Secret),
}

impl Authorize for Bearer {
    fn headers(&self, _: &str, _: &str, _: &[u8]) -> ApiResult<Vec<(String, String)>> {
        let token = match self {
            Bearer::Fetched(s) => s.bearer()?,
            Bearer::Static(t) => t.clone(),
        };
        Ok(vec![(
            "Authorization".into(),
            format!("Bearer {}", token.expose()),
        )])
    }
    fn after_401(&self) -> ApiResult<bool> {
        match self {
            Bearer::Fetched(s) => s.renew_after_401(),
            Bearer::Static(_) => Ok(false),
        }
    }
    fn describe(&self) -> String {
        match self {
            Bearer::Fetched(s) => format!("service account {}", s.client_id()),
            Bearer::Static(_) => "access token (OVH_ACCESS_TOKEN)".into(),
        }
    }
    fn generation(&self) -> u64 {
        match self {
            Bearer::Fetched(s) => s.generation(),
            Bearer::Static(_) => 0,
        }
    }
}

/// Classic keys: each request signed with the server's time.
pub struct Classic {
    application_key: String,
    application_secret: Secret,
    consumer_key: Secret,
    transport: Arc<dyn Transport>,
    api_base: String,
    clock: Arc<dyn Clock>,
    /// Server time minus ours, learnt once per process.
    delta: OnceLock<i64>,
    /// Held while the server time is asked: one thread asks, the others wait.
    learning: Mutex<()>,
}

impl Classic {
    pub fn new(
        application_key: &str,
        application_secret: Secret,
        consumer_key: Secret,
        transport: Arc<dyn Transport>,
        api_base: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Classic {
            application_key: application_key.to_string(),
            application_secret,
            consumer_key,
            transport,
            api_base: api_base.trim_end_matches('/').to_string(),
            clock,
            delta: OnceLock::new(),
            learning: Mutex::new(()),
        }
    }

    /// `GET {api}/auth/time` (unauthenticated): the server's unix seconds.
    fn server_delta(&self) -> ApiResult<i64> {
        if let Some(d) = self.delta.get() {
            return Ok(*d);
        }
        let _one = crate::sync::lock(&self.learning);
        if let Some(d) = self.delta.get() {
            return Ok(*d);
        }
        let url = format!("{}/auth/time", self.api_base);
        let resp = self
            .transport
            .send(
                "GET",
                &url,
                &[("Accept".into(), "application/json".into())],
                &[],
            )
            .map_err(ApiError::Transport)?;
        if !(200..300).contains(&resp.status) {
            let (code, msg) = crate::redact::error_excerpt(&resp.body)
                .unwrap_or((None, "the server time was refused".into()));
            return Err(ApiError::status(
                resp.status,
                code,
                format!("GET /auth/time: {msg}"),
            ));
        }
        let server: i64 = std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ApiError::Decode("GET /auth/time did not answer a number".into()))?;
        let d = server - self.clock.unix_secs();
        Ok(*self.delta.get_or_init(|| d))
    }

    /// Server time minus ours, when learnt (for `check`'s clock line).
    pub fn clock_delta(&self) -> Option<i64> {
        self.delta.get().copied()
    }
}

impl Authorize for Classic {
    fn headers(&self, method: &str, url: &str, body: &[u8]) -> ApiResult<Vec<(String, String)>> {
        let ts = self.clock.unix_secs() + self.server_delta()?;
        let keys = auth::Keys {
            application_key: &self.application_key,
            application_secret: self.application_secret.expose(),
            consumer_key: self.consumer_key.expose(),
        };
        Ok(auth::headers(
            &keys,
            &auth::Request {
                method,
                full_url: url,
                body,
                timestamp: ts,
            },
        ))
    }
    fn after_401(&self) -> ApiResult<bool> {
        // Nothing of ours would be different on a second try.
        Ok(false)
    }
    fn describe(&self) -> String {
        format!("application key {}", self.application_key)
    }
}

/// The authorizer for what the chain found. `token_url` is needed for a service account only.
pub fn authorizer(
    auth: Auth,
    token_url: Option<&str>,
    api_base: &str,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
) -> Box<dyn Authorize> {
    match auth {
        Auth::ServiceAccount {
            client_id,
            client_secret,
        } => Box::new(Bearer::Fetched(TokenSource::new(
            transport,
            token_url.unwrap_or(super::endpoints::DEFAULT_REGION.token_url()),
            &client_id,
            client_secret,
            clock,
        ))),
        Auth::AccessToken(t) => Box::new(Bearer::Static(t)),
        Auth::Classic {
            application_key,
            application_secret,
            consumer_key,
        } => Box::new(Classic::new(
            &application_key,
            application_secret,
            consumer_key,
            transport,
            api_base,
            clock,
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::http::TransportError;
    use std::collections::VecDeque;

    /// Method, URL, headers, body.
    pub(crate) type Sent = (String, String, Vec<(String, String)>, Vec<u8>);

    /// Answers queued responses in order and records every request.
    #[derive(Default)]
    pub(crate) struct FakeTransport {
        pub answers: Mutex<VecDeque<Response>>,
        pub sent: Mutex<Vec<Sent>>,
    }

    pub(crate) fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    impl FakeTransport {
        pub(crate) fn with(answers: Vec<Response>) -> Arc<FakeTransport> {
            Arc::new(FakeTransport {
                answers: Mutex::new(answers.into()),
                sent: Mutex::default(),
            })
        }
    }

    impl Transport for FakeTransport {
        fn send(
            &self,
            method: &str,
            url: &str,
            headers: &[(String, String)],
            body: &[u8],
        ) -> Result<Response, TransportError> {
            crate::sync::lock(&self.sent).push((
                method.into(),
                url.into(),
                headers.to_vec(),
                body.to_vec(),
            ));
            crate::sync::lock(&self.answers)
                .pop_front()
                .ok_or_else(|| TransportError::Refused("no answer queued".into()))
        }
    }

    const TOKEN_URL: &str = "https://www.ovh.com/auth/oauth2/token";

    fn source(t: &Arc<FakeTransport>, clock: &Arc<FakeClock>) -> TokenSource {
        TokenSource::new(
            t.clone(),
            TOKEN_URL,
            "0f0f0f0f0f0f0f0f",
            Secret::new("s3cr&t=+/"),
            clock.clone(),
        )
    }

    fn ok_token(tok: &str, expires_in: u64) -> Response {
        answer(
            200,
            &format!(
                r#"{{"access_token":"{tok}","token_type":"Bearer","expires_in":{expires_in},"scope":"all"}}"#
            ),
        )
    }

    /// A token endpoint 50 ms away.
    struct Slow(Arc<FakeTransport>);

    impl Transport for Slow {
        fn send(
            &self,
            method: &str,
            url: &str,
            headers: &[(String, String)],
            body: &[u8],
        ) -> Result<Response, TransportError> {
            std::thread::sleep(std::time::Duration::from_millis(50));
            self.0.send(method, url, headers, body)
        }
    }

    /// Threads needing a token at once share one fetch: the transport has one
    /// token to give, and a second request would get no answer.
    #[test]
    fn threads_asking_at_once_fetch_one_token() {
        let t = FakeTransport::with(vec![ok_token("TOK1", 3599)]);
        let clock = Arc::new(FakeClock::new(1_700_000_000));
        let s = TokenSource::new(
            Arc::new(Slow(t.clone())),
            TOKEN_URL,
            "0f0f0f0f0f0f0f0f",
            Secret::new("s3cr&t=+/"),
            clock,
        );
        let start = std::sync::Barrier::new(4);
        let got = crate::flow::run_all(4, vec![(); 4], |()| {
            start.wait();
            s.bearer()
                .map(|t| t.expose().to_string())
                .map_err(|e| e.to_string())
        });
        assert_eq!(got, vec![Ok("TOK1".to_string()); 4]);
        assert_eq!(s.fetches(), 1);
        assert_eq!(crate::sync::lock(&t.sent).len(), 1);
    }

    #[test]
    fn the_exact_form_body_and_headers() {
        assert_eq!(
            form_body("0f0f0f0f0f0f0f0f", "xxxxx"),
            "grant_type=client_credentials&client_id=0f0f0f0f0f0f0f0f&client_secret=xxxxx&scope=all"
        );
        let t = FakeTransport::with(vec![ok_token("TOK1", 3599)]);
        let clock = Arc::new(FakeClock::new(1_700_000_000));
        let s = source(&t, &clock);
        assert_eq!(s.bearer().unwrap().expose(), "TOK1");
        let sent = crate::sync::lock(&t.sent);
        let (method, url, headers, body) = &sent[0];
        assert_eq!((method.as_str(), url.as_str()), ("POST", TOKEN_URL));
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "grant_type=client_credentials&client_id=0f0f0f0f0f0f0f0f&client_secret=s3cr%26t%3D%2B%2F&scope=all"
        );
        assert!(headers.contains(&(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )));
    }

    #[test]
    fn cached_until_near_expiry_and_renewed_once_after_401() {
        let t = FakeTransport::with(vec![
            ok_token("TOK1", 3599),
            ok_token("TOK2", 3599),
            ok_token("TOK3", 3599),
        ]);
        let clock = Arc::new(FakeClock::new(1_700_000_000));
        let s = source(&t, &clock);
        assert_eq!(s.bearer().unwrap().expose(), "TOK1");
        assert_eq!(s.bearer().unwrap().expose(), "TOK1");
        assert_eq!(s.fetches(), 1);
        assert!(s.renew_after_401().unwrap());
        assert_eq!(s.bearer().unwrap().expose(), "TOK2");
        // Once per process: a second 401 gives up.
        assert!(!s.renew_after_401().unwrap());
        assert_eq!(s.fetches(), 2);
        // Near its end, a token is fetched anew.
        clock.sleep(std::time::Duration::from_secs(3599 - 30));
        assert_eq!(s.bearer().unwrap().expose(), "TOK3");
        assert_eq!(s.fetches(), 3);
    }

    #[test]
    fn the_reuse_window_of_long_and_short_tokens() {
        // 30 s before the end, or halfway when the token is shorter than a minute.
        assert_eq!(reuse_until(1000, 3599), 1000 + 3569);
        assert_eq!(reuse_until(1000, 61), 1000 + 31);
        assert_eq!(reuse_until(1000, 60), 1000 + 30);
        assert_eq!(reuse_until(1000, 40), 1000 + 20);
        assert_eq!(reuse_until(1000, 1), 1001);
        assert_eq!(reuse_until(1000, 0), 1000);
    }

    #[test]
    fn a_short_lived_token_is_reused_not_fetched_per_call() {
        // Used to be fetched anew for every call below 60 s (6 token requests for 6 calls).
        let t = FakeTransport::with(vec![ok_token("TOK1", 40), ok_token("TOK2", 40)]);
        let clock = Arc::new(FakeClock::new(1_700_000_000));
        let s = source(&t, &clock);
        for _ in 0..6 {
            assert_eq!(s.bearer().unwrap().expose(), "TOK1");
        }
        clock.sleep(std::time::Duration::from_secs(19));
        assert_eq!(s.bearer().unwrap().expose(), "TOK1");
        assert_eq!(s.fetches(), 1);
        // Halfway through its 40 s, a new one.
        clock.sleep(std::time::Duration::from_secs(1));
        assert_eq!(s.bearer().unwrap().expose(), "TOK2");
        assert_eq!(s.bearer().unwrap().expose(), "TOK2");
        assert_eq!(s.fetches(), 2);
    }

    #[test]
    fn invalid_client_names_the_account_and_the_fix() {
        let t = FakeTransport::with(vec![answer(
            401,
            r#"{"error":"invalid_client","error_description":"bad secret s3cr&t=+/"}"#,
        )]);
        let clock = Arc::new(FakeClock::new(1_700_000_000));
        let e = source(&t, &clock).bearer().unwrap_err();
        assert_eq!(e.kind(), Kind::Auth);
        assert_eq!(e.code(), Some("invalid_client"));
        let line = format!("{e}; {}", e.hint().unwrap());
        assert!(line.contains("service account 0f0f0f0f0f0f0f0f"), "{line}");
        assert!(line.contains("OVH_CLIENT_SECRET"), "{line}");
        assert!(!line.contains("s3cr&t"), "{line}");
    }

    #[test]
    fn other_token_answers() {
        let e = parse_answer(
            &answer(200, r#"{"access_token":"x","token_type":"mac"}"#),
            "c",
            "s",
        )
        .unwrap_err();
        assert!(matches!(e, ApiError::Decode(_)), "{e}");
        let e = parse_answer(&answer(200, "<html>"), "c", "s").unwrap_err();
        assert!(e.is_transient(), "{e}");
        let e = parse_answer(&answer(503, "busy"), "c", "s").unwrap_err();
        assert_eq!(e.kind(), Kind::Transient);
        let e = parse_answer(
            &answer(
                400,
                r#"{"error":"invalid_scope","error_description":"scope x for SECRET1"}"#,
            ),
            "c",
            "SECRET1",
        )
        .unwrap_err();
        assert!(!e.to_string().contains("SECRET1"), "{e}");
        assert_eq!((e.kind(), e.code()), (Kind::Auth, Some("invalid_scope")));
        let t = parse_answer(
            &answer(200, r#"{"access_token":"x","token_type":"bearer"}"#),
            "c",
            "s",
        )
        .unwrap();
        assert_eq!(t.expires_in, None);
        assert!(!format!("{t:?}").contains("\"x\""));
    }

    /// Found by the `ovh_answers` fuzz target: an echoed secret in `error`
    /// (quoted as the code) reached the message.
    #[test]
    fn an_echoed_secret_never_reaches_the_code() {
        for body in [
            r#"{"error":"bad client_secret SECRET1"}"#,
            r#"{"error":"SECRET1","error_description":"no"}"#,
            r#"{"code":"SECRET1","message":"no"}"#,
        ] {
            let e = parse_answer(&answer(400, body), "c", "SECRET1").unwrap_err();
            assert!(!e.to_string().contains("SECRET1"), "{body}: {e}");
            assert!(e.code().is_some_and(|c| !c.contains("SECRET1")), "{body}");
        }
    }

    #[test]
    fn bearer_headers_static_and_fetched() {
        let b = Bearer::Static(Secret::new("PRE"));
        assert_eq!(
            b.headers("GET", "u", b"").unwrap(),
            [("Authorization".to_string(), "Bearer PRE".to_string())]
        );
        assert!(!b.after_401().unwrap());
        let t = FakeTransport::with(vec![ok_token("TOK1", 60)]);
        let clock = Arc::new(FakeClock::new(1));
        let b = Bearer::Fetched(source(&t, &clock));
        assert_eq!(b.headers("GET", "u", b"").unwrap()[0].1, "Bearer TOK1");
        assert_eq!(b.describe(), "service account 0f0f0f0f0f0f0f0f");
    }

    #[test]
    fn classic_signs_with_the_server_time_learnt_once() {
        // The first vector of tests/fixtures/ovh-signing-vectors.json, our clock 100 s behind.
        let t = FakeTransport::with(vec![answer(200, "1700000000")]);
        let clock = Arc::new(FakeClock::new(1_699_999_900));
        let c = Classic::new(
            "7kbG7Bk7S9Nt7ZSV",
            Secret::new("EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"),
            Secret::new("MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL"),
            t.clone(),
            "https://eu.api.ovh.com/1.0/",
            clock.clone(),
        );
        let h = c
            .headers("GET", "https://eu.api.ovh.com/1.0/domain/zone", b"")
            .unwrap();
        assert!(h.contains(&("X-Ovh-Timestamp".into(), "1700000000".into())));
        assert!(h.contains(&(
            "X-Ovh-Signature".into(),
            "$1$67bbfa3a13ddb46cd3682091290a5c0856f72b1f".into()
        )));
        assert_eq!(c.clock_delta(), Some(100));
        clock.sleep(std::time::Duration::from_secs(1));
        let h = c
            .headers("GET", "https://eu.api.ovh.com/1.0/x", b"")
            .unwrap();
        assert!(h.contains(&("X-Ovh-Timestamp".into(), "1700000001".into())));
        let sent = crate::sync::lock(&t.sent);
        assert_eq!(sent.len(), 1, "one /auth/time per process");
        assert_eq!(sent[0].1, "https://eu.api.ovh.com/1.0/auth/time");
        // Unauthenticated: OVH's `/auth` routes break when signed.
        assert_eq!(
            sent[0].2,
            [("Accept".to_string(), "application/json".to_string())]
        );
        assert!(!c.after_401().unwrap());
    }

    #[test]
    fn auth_time_failures() {
        let clock = Arc::new(FakeClock::new(1));
        let mk = |t: Arc<FakeTransport>| {
            Classic::new(
                "AK",
                Secret::new("AS"),
                Secret::new("CK"),
                t,
                "https://x/1.0",
                clock.clone(),
            )
        };
        let e = mk(FakeTransport::with(vec![answer(200, "soon")]))
            .headers("GET", "https://x/1.0/y", b"")
            .unwrap_err();
        assert!(matches!(e, ApiError::Decode(_)), "{e}");
        let e = mk(FakeTransport::with(vec![answer(503, "")]))
            .headers("GET", "https://x/1.0/y", b"")
            .unwrap_err();
        assert!(e.is_transient());
    }
}
