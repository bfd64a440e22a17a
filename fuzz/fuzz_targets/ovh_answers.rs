//! OVHcloud API answers: the DNS calls' bodies (zone listing, zone info,
//! record ids, records, writes) read by `clouds::ovh::dns::OvhDns` over a
//! scripted sender, error bodies (`ovh::errors::api_error`), and the OAuth2 token
//! endpoint's answer (`ovh::token::parse_answer`).
//!
//! Input: the first line is the name worked on, then answers separated by
//! `===` lines, each a status line and a body (see `common::Script`); the whole
//! input is also one error body and one token answer (status from its length).
//!
//! Invariants: no panic and no endless loop; every error is one non-empty
//! line; a read gives each name asked, in order, with one id per record; a
//! token error never holds the client secret, even when the body echoes it;
//! a token's `Debug` is the same whatever the token.
#![no_main]

mod common;

use common::{Script, check_api_error};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::api_error::{ApiResult, Kind};
use otc_acme_hook::cloud_api::Sender;
use otc_acme_hook::clouds::ovh::credentials::Secret;
use otc_acme_hook::clouds::ovh::dns::OvhDns;
use otc_acme_hook::clouds::ovh::errors::api_error;
use otc_acme_hook::clouds::ovh::token::{Token, parse_answer};
use otc_acme_hook::http::Response;

const CLIENT_ID: &str = "EU.fuzz-client";
const CLIENT_SECRET: &str = "fuzz-client-secret-5b1f0e7c";
const FALLBACK_NAME: &str = "_acme-challenge.www.example.com.";

impl Sender for Script {
    fn send(&self, method: &str, path_query: &str, _body: Option<&[u8]>) -> ApiResult<Response> {
        self.answer(method, path_query)
    }
}

fn fuzz_dns(data: &[u8]) {
    let script = Script::new(data);
    let name = match script.name.as_str() {
        n if n.contains('.') && n.len() < 200 => n.to_ascii_lowercase(),
        _ => FALLBACK_NAME.to_string(),
    };
    let dns = OvhDns::new(&script);
    common::drive_dns(&dns, &name, 60);
}

fn fuzz_error(status: u16, body: &[u8]) {
    let e = api_error(status, body, Some("dnsZone:apiovh:record/get"));
    check_api_error("api_error", &e);
    assert_eq!(e.http_status(), Some(status));
    if status == 401 && e.code().is_none() {
        assert_eq!(e.kind(), Kind::Auth);
    }
}

fn fuzz_token(status: u16, body: &[u8]) {
    let resp = Response {
        status,
        headers: vec![],
        body: body.to_vec(),
    };
    match parse_answer(&resp, CLIENT_ID, CLIENT_SECRET) {
        Ok(t) => {
            assert!((200..300).contains(&status));
            assert!(!t.access.expose().is_empty());
            let twin = Token {
                access: Secret::new("another token"),
                expires_in: t.expires_in,
            };
            assert_eq!(
                format!("{t:?}"),
                format!("{twin:?}"),
                "Debug shows the token"
            );
        }
        Err(e) => {
            check_api_error("token", &e);
            let text = e.to_string();
            assert!(!text.contains(CLIENT_SECRET), "secret echoed: {text:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    fuzz_dns(data);
    // Statuses the code tells apart, picked by the input's length.
    const STATUSES: [u16; 8] = [200, 400, 401, 403, 404, 409, 429, 500];
    let status = STATUSES[data.len() % STATUSES.len()];
    fuzz_error(status, data);
    fuzz_token(status, data);
    fuzz_token(200, data);
});
