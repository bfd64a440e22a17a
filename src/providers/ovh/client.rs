//! The [`Sender`] of the real API: absolute URL from the API base, JSON
//! headers, the authorizer's headers over the exact bytes sent, and one more
//! try after a 401 when the authorizer has something new (a fresh token).
//! Retries of 429/5xx belong to the shared retrying client and are not here.

use std::rc::Rc;

use super::dns::Sender;
use super::token::Authorize;
use crate::api_error::{ApiError, ApiResult};
use crate::http::{Response, Transport};

pub struct OvhClient {
    transport: Rc<dyn Transport>,
    /// Including `/1.0`, no trailing `/`.
    api_base: String,
    auth: Box<dyn Authorize>,
}

impl OvhClient {
    pub fn new(transport: Rc<dyn Transport>, api_base: &str, auth: Box<dyn Authorize>) -> Self {
        OvhClient {
            transport,
            api_base: api_base.trim_end_matches('/').to_string(),
            auth,
        }
    }

    pub fn authorizer(&self) -> &dyn Authorize {
        self.auth.as_ref()
    }

    fn once(&self, method: &str, url: &str, body: &[u8]) -> ApiResult<Response> {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if !body.is_empty() {
            headers.push((
                "Content-Type".to_string(),
                "application/json;charset=utf-8".to_string(),
            ));
        }
        headers.extend(self.auth.headers(method, url, body)?);
        self.transport
            .send(method, url, &headers, body)
            .map_err(ApiError::Transport)
    }
}

impl Sender for OvhClient {
    fn send(&self, method: &str, path_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        let url = format!("{}{path_query}", self.api_base);
        let body = body.unwrap_or_default();
        let resp = self.once(method, &url, body)?;
        if resp.status == 401 && self.auth.after_401()? {
            return self.once(method, &url, body);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::providers::ovh::credentials::Secret;
    use crate::providers::ovh::token::tests::{FakeTransport, Sent, answer};
    use crate::providers::ovh::token::{Bearer, Classic, TokenSource};

    fn token(t: &str) -> crate::http::Response {
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
        let clock = Rc::new(FakeClock::new(1_700_000_000));
        let src = TokenSource::new(
            t.clone(),
            "http://127.0.0.1:1/auth/oauth2/token",
            "cid",
            Secret::new("cs"),
            clock,
        );
        let c = OvhClient::new(
            t.clone(),
            "http://127.0.0.1:1/1.0/",
            Box::new(Bearer::Fetched(src)),
        );
        let r = c.send("GET", "/domain/zone", None).unwrap();
        assert_eq!(r.status, 200);
        // A second 401 in the same process is answered as it is.
        let r = c.send("GET", "/domain/zone", None).unwrap();
        assert_eq!(r.status, 401);
        let sent = t.sent.borrow();
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
    }

    #[test]
    fn classic_signs_the_full_url_and_the_exact_body() {
        // Vector 3 of tests/fixtures/ovh-signing-vectors.json, end to end.
        let t = FakeTransport::with(vec![answer(200, "1700000002"), answer(200, "{}")]);
        let clock = Rc::new(FakeClock::new(1_700_000_002));
        let classic = Classic::new(
            "7kbG7Bk7S9Nt7ZSV",
            Secret::new("EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"),
            Secret::new("MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL"),
            t.clone(),
            "https://eu.api.ovh.com/1.0",
            clock,
        );
        let c = OvhClient::new(t.clone(), "https://eu.api.ovh.com/1.0", Box::new(classic));
        let body = br#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0","ttl":60}"#;
        c.send("POST", "/domain/zone/example.com/record", Some(body))
            .unwrap();
        let sent = t.sent.borrow();
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
}
