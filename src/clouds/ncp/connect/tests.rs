use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::clock::FakeClock;
use crate::cloud_api::{CloudInput, Keys as InputKeys};
use crate::http::TransportError;
use crate::report::{Capture, Level};

type Answer = std::result::Result<Response, TransportError>;
/// (method, url, headers)
type Seen = (String, String, Vec<(String, String)>);

/// Answers in order; records what was sent.
struct Script {
    answers: Mutex<Vec<Answer>>,
    seen: Mutex<Vec<Seen>>,
}

impl Script {
    fn new(answers: Vec<Answer>) -> Arc<Script> {
        Arc::new(Script {
            answers: Mutex::new(answers),
            seen: Mutex::default(),
        })
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

fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
    Ok(Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
}

fn header<'a>(s: &'a Seen, k: &str) -> Option<&'a str> {
    s.2.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// 1_700_000_000 s = Tue, 14 Nov 2023 22:13:20 GMT
const T: u64 = 1_700_000_000;
const LISTING: &str = r#"{"content":[{"id":7,"name":"example.com"}],"last":true}"#;
fn role_doc(ak: &str, sk: &str) -> String {
    format!(
        r#"{{"Type":"NCP-HMAC","AccessKeyId":"{ak}","SecretAccessKey":"{sk}","Expiration":"2023-11-14T23:13:20Z","Token":"","Code":"Success"}}"#
    )
}

fn config(env: &[(&str, &str)], flag_keys: InputKeys) -> NcpConfig {
    crate::clouds::ncp::config::configure(&CloudInput {
        cloud: "ncp".into(),
        dns_endpoint: Some("https://globaldns.apigw.ntruss.com/dns/v1".into()),
        flag_keys,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        ..CloudInput::default()
    })
    .unwrap()
}

fn wire(cfg: &NcpConfig, api: Arc<Script>, md: Arc<Script>) -> (NcpConnection, Capture) {
    wire_retrying(cfg, api, md, 0)
}

fn wire_retrying(
    cfg: &NcpConfig,
    api: Arc<Script>,
    md: Arc<Script>,
    retries: u32,
) -> (NcpConnection, Capture) {
    let out = Capture::default();
    let c = connect_with(
        cfg,
        Wiring {
            api,
            metadata: md,
            clock: Arc::new(FakeClock::new(T)),
            report: Arc::new(Report::new(Level::Verbose, Box::new(out.clone()))),
            retry: RetryPolicy {
                retries,
                base: std::time::Duration::ZERO,
            },
        },
    )
    .unwrap();
    (c, out)
}

fn static_keys() -> InputKeys {
    InputKeys {
        access: Some("ncp_iam_BPAMKR1a2b3c4d5e6f7g".into()),
        secret: Some("ncp_iam_BPKMKRxyzSECRETabcdefghijklmnopqrstu".into()),
        token: None,
    }
}

#[test]
fn the_probe_is_signed_over_the_request_target_as_sent() {
    let api = Script::new(vec![resp(200, &[], LISTING)]);
    let (c, _) = wire(
        &config(&[], static_keys()),
        api.clone(),
        Script::new(vec![]),
    );
    let r = c.send("GET", &c.probe_url(), None).unwrap();
    assert_eq!(r.status, 200);
    let seen = api.seen();
    assert_eq!(
        seen[0].1,
        "https://globaldns.apigw.ntruss.com/dns/v1/ncpdns/domain?page=0&size=1"
    );
    let ts = header(&seen[0], "x-ncp-apigw-timestamp").unwrap();
    assert_eq!(ts, "1700000000000");
    assert_eq!(
        header(&seen[0], "x-ncp-apigw-signature-v2"),
        Some(
            auth::signature(
                "ncp_iam_BPKMKRxyzSECRETabcdefghijklmnopqrstu",
                "GET",
                "/dns/v1/ncpdns/domain?page=0&size=1",
                ts,
                "ncp_iam_BPAMKR1a2b3c4d5e6f7g"
            )
            .as_str()
        )
    );
    assert_eq!(c.identity(), "flags (access key ncp_…, permanent)");
}

#[test]
fn a_provider_call_goes_through_the_client_with_the_base_in_front() {
    let api = Script::new(vec![resp(200, &[], LISTING)]);
    let (c, _) = wire(
        &config(&[], static_keys()),
        api.clone(),
        Script::new(vec![]),
    );
    let z = c.dns().zone_named("example.com.").unwrap().unwrap();
    assert_eq!(z.id, "7");
    assert_eq!(
        api.seen()[0].1,
        "https://globaldns.apigw.ntruss.com/dns/v1/ncpdns/domain?page=0&size=100&domainName=example.com"
    );
}

#[test]
fn role_keys_refused_with_a_401_are_fetched_again_once() {
    let md = Script::new(vec![
        resp(200, &[], "mdtok"),
        resp(200, &[], "role-1"),
        resp(200, &[], &role_doc("OLDAK", "OLDSK")),
        resp(200, &[], "mdtok2"),
        resp(200, &[], "role-1"),
        resp(200, &[], &role_doc("NEWAK", "NEWSK")),
    ]);
    let date = "Tue, 14 Nov 2023 22:13:21 GMT";
    let expired = r#"{"error":{"errorCode":"200","message":"Authentication Failed","details":"The access key has expired."}}"#;
    let api = Script::new(vec![
        resp(401, &[("Date", date)], expired),
        resp(200, &[("Date", date)], LISTING),
    ]);
    let (c, log) = wire(&config(&[], InputKeys::default()), api.clone(), md.clone());
    assert!(
        c.identity()
            .starts_with("server role (access key OLDA…, temporary, expires 2023-11-14T23:13:20Z")
    );
    c.dns().zone_named("example.com").unwrap().unwrap();
    let seen = api.seen();
    assert_eq!(header(&seen[0], "x-ncp-iam-access-key"), Some("OLDAK"));
    assert_eq!(header(&seen[1], "x-ncp-iam-access-key"), Some("NEWAK"));
    assert_eq!(md.seen().len(), 6, "the role was asked once more");
    assert!(
        log.text()
            .contains("fetched fresh credentials from server role"),
        "{}",
        log.text()
    );

    // A second 401 on the same call is the answer: no loop.
    let md = Script::new(vec![
        resp(404, &[], ""),
        resp(200, &[], "role-1"),
        resp(200, &[], &role_doc("OLDAK", "OLDSK")),
        resp(404, &[], ""),
        resp(200, &[], "role-1"),
        resp(200, &[], &role_doc("OLDAK", "OLDSK")),
    ]);
    let api = Script::new(vec![
        resp(401, &[("Date", date)], expired),
        resp(401, &[("Date", date)], expired),
    ]);
    let (c, _) = wire(&config(&[], InputKeys::default()), api.clone(), md);
    let e = c.dns().zone_named("example.com").unwrap_err();
    assert_eq!(e.http_status(), Some(401));
    assert!(e.to_string().contains("Authentication Failed"), "{e}");
    assert!(e.hint().unwrap().contains("NTP"));
    assert_eq!(api.seen().len(), 2);
}

#[test]
fn static_keys_refused_are_not_retried_and_os_names_are_not_read() {
    let api = Script::new(vec![resp(
        401,
        &[("Date", "Tue, 14 Nov 2023 22:13:20 GMT")],
        r#"{"error":{"errorCode":"200","message":"Authentication Failed"}}"#,
    )]);
    let cfg = config(
        &[
            ("NCLOUD_ACCESS_KEY", "ENVAK"),
            ("NCLOUD_SECRET_KEY", "ENVSK"),
            ("OS_ACCESS_KEY", "OSAK"),
            ("OS_SECRET_KEY", "OSSK"),
        ],
        InputKeys::default(),
    );
    let (c, _) = wire(&cfg, api.clone(), Script::new(vec![]));
    assert!(
        c.identity()
            .starts_with("environment (access key ENVA…, permanent")
    );
    assert!(c.dns().zone_named("example.com").is_err());
    assert_eq!(api.seen().len(), 1);
}

#[test]
fn a_clock_ten_minutes_slow_is_corrected_once_from_the_date() {
    // The gateway's clock is 10 minutes ahead of ours.
    let date = "Tue, 14 Nov 2023 22:23:20 GMT";
    let api = Script::new(vec![
        resp(
            401,
            &[("Date", date)],
            r#"{"error":{"errorCode":"200","message":"Authentication Failed"}}"#,
        ),
        resp(200, &[("Date", date)], LISTING),
    ]);
    let (c, log) = wire(
        &config(&[], static_keys()),
        api.clone(),
        Script::new(vec![]),
    );
    c.dns().zone_named("example.com").unwrap().unwrap();
    let seen = api.seen();
    assert_eq!(
        header(&seen[0], "x-ncp-apigw-timestamp"),
        Some("1700000000000")
    );
    assert_eq!(
        header(&seen[1], "x-ncp-apigw-timestamp"),
        Some("1700000600000")
    );
    assert_eq!(c.clock_offset(), 600);
    assert!(log.text().contains("600 s behind"), "{}", log.text());
}

#[test]
fn query_pairs_of_the_client_are_encoded_and_signed_as_sent() {
    let url = Url::parse("https://h/dns/v1/ncpdns/record/1?page=0").unwrap();
    let q = vec![("searchContent".to_string(), "_acme challenge".to_string())];
    let out = Outgoing {
        method: "GET",
        url: &url,
        query: &q,
        body: None,
        now_ms: 1,
    };
    assert_eq!(
        request_target(&out),
        "/dns/v1/ncpdns/record/1?page=0&searchContent=_acme%20challenge"
    );
}

/// A write through the provider, the client and the auth: vector 3 of
/// tests/fixtures/ncp-signing-vectors.json (same key, time and request-target).
#[test]
fn a_write_is_signed_like_the_shared_vector() {
    let api = Script::new(vec![
        resp(200, &[], r#"{"result":"SUCCESS"}"#),
        resp(200, &[], r#"{"content":[],"last":true}"#),
    ]);
    let out = Capture::default();
    let clock = FakeClock::new(T);
    clock.offset.set(std::time::Duration::from_millis(2));
    let c = connect_with(
        &config(&[], static_keys()),
        Wiring {
            api: api.clone(),
            metadata: Script::new(vec![]),
            clock: Arc::new(clock),
            report: Arc::new(Report::new(Level::Quiet, Box::new(out))),
            retry: RetryPolicy::default(),
        },
    )
    .unwrap();
    let z = crate::cloud_api::Zone {
        id: "12345".into(),
        name: "example.com.".into(),
    };
    c.dns()
        .write(
            &z,
            &crate::cloud_api::TxtSet::absent("_acme-challenge.example.com."),
            &["v".into()],
            300,
        )
        .unwrap();
    let seen = api.seen();
    assert_eq!(
        (seen[0].0.as_str(), seen[0].1.as_str()),
        (
            "POST",
            "https://globaldns.apigw.ntruss.com/dns/v1/ncpdns/record/12345"
        )
    );
    assert_eq!(
        header(&seen[0], "x-ncp-apigw-signature-v2"),
        Some("e/PchGE9dSXviiNDWQxud3IgE8I9q6cdZ2+C/K+OHkY=")
    );
    assert_eq!(
        header(&seen[0], "x-ncp-apigw-timestamp"),
        Some("1700000000002")
    );
    assert_eq!(header(&seen[0], "Content-Type"), Some("application/json"));
    assert!(
        !seen[0].2.iter().any(|(_, v)| v.contains("SECRET")),
        "the secret is never sent"
    );
}

const DENIED: &str = r#"{"error":{"errorCode":"210","message":"Permission Denied","details":"You have no permission for this API."}}"#;

/// The gateway's 401/210: the role lacks the DNS policy. Its keys are fine:
/// no second metadata fetch, no clock correction (even with a far-off Date),
/// no retry; one line naming the managed policy.
#[test]
fn a_401_permission_denied_is_not_retried_nor_answered_with_fresh_keys() {
    let md = Script::new(vec![
        resp(200, &[], "mdtok"),
        resp(200, &[], "role-1"),
        resp(200, &[], &role_doc("ROLEAK", "ROLESK")),
    ]);
    // The gateway's clock 20 minutes ahead: still not blamed on the clock.
    let date = "Tue, 14 Nov 2023 22:33:20 GMT";
    let api = Script::new(vec![resp(401, &[("Date", date)], DENIED)]);
    let (c, log) = wire_retrying(
        &config(&[], InputKeys::default()),
        api.clone(),
        md.clone(),
        3,
    );
    let e = c.dns().zone_named("example.com").unwrap_err();
    assert_eq!(e.kind(), crate::api_error::Kind::Permission);
    assert_eq!(e.to_string(), "HTTP 401 210: Permission Denied");
    let hint = e.hint().unwrap();
    assert!(hint.contains("NCP_GLOBAL_DNS_MANAGER"), "{hint}");
    assert!(hint.contains("server role"), "{hint}");
    assert!(!hint.contains("clock"), "{hint}");
    assert_eq!(api.seen().len(), 1, "no retry");
    assert_eq!(
        md.seen().len(),
        3,
        "the role's keys fetched once, not again"
    );
    assert_eq!(c.clock_offset(), 0, "the clock is not corrected");
    assert!(!log.text().contains("fresh credentials"), "{}", log.text());
}

/// 401 "Permission Denied" without a code is read the same way.
#[test]
fn a_401_saying_permission_denied_without_a_code_is_a_permission_error() {
    let api = Script::new(vec![resp(
        401,
        &[],
        r#"{"error":{"message":"Permission Denied"}}"#,
    )]);
    let (c, _) = wire(
        &config(&[], static_keys()),
        api.clone(),
        Script::new(vec![]),
    );
    let e = c.dns().zone_named("example.com").unwrap_err();
    assert_eq!(e.kind(), crate::api_error::Kind::Permission);
    assert_eq!(api.seen().len(), 1);
}

/// 429/410 Throttle Limited and 429/420 Rate Limited are waited out and sent
/// again; 429/400 Quota Exceeded is not (a daily or monthly quota).
#[test]
fn throttle_and_rate_limits_are_retried_a_quota_is_not() {
    for code in ["410", "420"] {
        let body = format!(r#"{{"error":{{"errorCode":"{code}","message":"limited"}}}}"#);
        let api = Script::new(vec![
            resp(429, &[("Retry-After", "0")], &body),
            resp(200, &[], LISTING),
        ]);
        let (c, _) = wire_retrying(
            &config(&[], static_keys()),
            api.clone(),
            Script::new(vec![]),
            3,
        );
        c.dns().zone_named("example.com").unwrap().unwrap();
        assert_eq!(api.seen().len(), 2, "{code}: sent again");
    }
    let api = Script::new(vec![resp(
        429,
        &[],
        r#"{"error":{"errorCode":"400","message":"Quota Exceeded"}}"#,
    )]);
    let (c, _) = wire_retrying(
        &config(&[], static_keys()),
        api.clone(),
        Script::new(vec![]),
        3,
    );
    let e = c.dns().zone_named("example.com").unwrap_err();
    assert_eq!(api.seen().len(), 1, "a quota is not retried");
    assert_eq!(e.kind(), crate::api_error::Kind::Fatal);
    assert!(e.hint().unwrap().contains("quota"), "{e}");
}
