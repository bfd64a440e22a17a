use super::*;
use crate::clouds::ovh::auth;
use crate::clouds::ovh::seed::*;
use crate::clouds::ovh::state::*;

const NOW: i64 = 1_700_000_000;
const HOST: &str = "127.0.0.1:8080";

fn seed() -> OvhSeed {
    OvhSeed::from_json(
        r#"{"zones": [{"name": "example.test", "records": [
               {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign\"", "ttl": 60},
               {"subDomain": "xacme-challenge", "fieldType": "TXT", "target": "lookalike"},
               {"subDomain": "", "fieldType": "A", "target": "192.0.2.1"}]},
             {"name": "other.test"}],
            "service_accounts": [
               {"client_id": "sa-all", "client_secret": "SECRET-ALL"},
               {"client_id": "sa-scoped", "client_secret": "SECRET-SCOPED",
                "policy": {"actions": ["dnsZone:apiovh:record/get", "dnsZone:apiovh:record/create",
                                       "dnsZone:apiovh:get"],
                           "zones": ["example.test"]}}],
            "classic_keys": [{"application_key": "AK1", "application_secret": "AS-SECRET",
                              "consumer_key": "CK-SECRET"}],
            "token_lifetime_secs": 100}"#,
    )
    .unwrap()
}

fn state() -> OvhState {
    OvhState::from_seed(&seed(), NOW).unwrap()
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn call(
    s: &mut OvhState,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
    now: i64,
) -> (u16, Value, Handled) {
    let req = Req::new(method, target, headers.to_vec(), body.as_bytes().to_vec());
    let a = s.handle(&req, now);
    let v = serde_json::from_slice(&a.resp.body).unwrap_or(Value::Null);
    (a.resp.status, v, a)
}

fn token(s: &mut OvhState, id: &str, secret: &str) -> (u16, Value) {
    let body =
        format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=all");
    let (st, v, _) = call(
        s,
        "POST",
        TOKEN_PATH,
        &h(&[("Content-Type", "application/x-www-form-urlencoded")]),
        &body,
        NOW,
    );
    (st, v)
}

fn bearer(s: &mut OvhState, id: &str, secret: &str) -> Vec<(String, String)> {
    let (st, v) = token(s, id, secret);
    assert_eq!(st, 200, "{v}");
    h(&[(
        "Authorization",
        &format!("Bearer {}", v["access_token"].as_str().unwrap()),
    )])
}

#[test]
fn client_credentials_and_token_lifetime() {
    let mut s = state();
    let (st, v) = token(&mut s, "sa-all", "SECRET-ALL");
    assert_eq!(st, 200);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 100);
    assert_eq!(v["scope"], "all");
    let auth = h(&[(
        "Authorization",
        &format!("Bearer {}", v["access_token"].as_str().unwrap()),
    )]);
    let (st, _, a) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW + 99);
    assert_eq!(
        (st, a.auth, a.access_key.as_deref()),
        (200, Some("bearer"), Some("sa-all"))
    );
    // Expired after its lifetime.
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW + 100);
    assert_eq!(
        (st, v["class"].as_str()),
        (401, Some("Client::Unauthorized"))
    );
    // A wrong secret or unknown client: invalid_client.
    for (id, secret) in [("sa-all", "WRONG"), ("nobody", "SECRET-ALL")] {
        let (st, v) = token(&mut s, id, secret);
        assert_eq!((st, v["error"].as_str()), (401, Some("invalid_client")));
    }
    // Encoded form values are decoded.
    s.accounts[0].client_secret = "a&b=c d".into();
    assert_eq!(token(&mut s, "sa-all", "a%26b%3Dc+d").0, 200);
    // Other grants, scopes and bodies.
    let form = h(&[("Content-Type", "application/x-www-form-urlencoded")]);
    let (st, v, _) = call(
        &mut s,
        "POST",
        TOKEN_PATH,
        &form,
        "grant_type=password&scope=all",
        NOW,
    );
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (st, v, _) = call(
        &mut s,
        "POST",
        TOKEN_PATH,
        &h(&[]),
        "grant_type=client_credentials",
        NOW,
    );
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_request")));
    s.token_lifetime_secs = 5;
    assert_eq!(token(&mut s, "sa-all", "a%26b%3Dc+d").1["expires_in"], 5);
}

#[test]
fn every_dns_call_needs_credentials() {
    let mut s = state();
    let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &[], "", NOW);
    assert_eq!((st, v), (200, json!(NOW)));
    for (m, p) in [
        ("GET", "/1.0/domain/zone"),
        ("GET", "/1.0/domain/zone/example.test"),
        ("GET", "/1.0/domain/zone/example.test/record?fieldType=TXT"),
        ("POST", "/1.0/domain/zone/example.test/record"),
        ("DELETE", "/1.0/domain/zone/example.test/record/5000000001"),
        ("POST", "/1.0/domain/zone/example.test/refresh"),
    ] {
        let (st, v, _) = call(&mut s, m, p, &[], "", NOW);
        assert_eq!(
            (st, v["errorCode"].as_str()),
            (401, Some("NOT_AUTHENTICATED")),
            "{m} {p}"
        );
        let bad = h(&[("Authorization", "Bearer not-a-token")]);
        assert_eq!(call(&mut s, m, p, &bad, "", NOW).0, 401, "{m} {p}");
    }
    assert_eq!(s.records("example.test").len(), 3);
}

fn signed(s: &mut OvhState, method: &str, target: &str, body: &str, ts: i64) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let url = if query.is_empty() {
        format!("http://{HOST}{path}")
    } else {
        format!("http://{HOST}{path}?{query}")
    };
    let ts = ts.to_string();
    let sig = auth::classic_signature("AS-SECRET", "CK-SECRET", method, &url, body.as_bytes(), &ts);
    let headers = h(&[
        ("Host", HOST),
        ("X-Ovh-Application", "AK1"),
        ("X-Ovh-Consumer", "CK-SECRET"),
        ("X-Ovh-Timestamp", &ts),
        ("X-Ovh-Signature", &sig),
    ]);
    let (st, v, _) = call(s, method, target, &headers, body, NOW);
    (st, v)
}

#[test]
fn classic_signature_checks() {
    let mut s = state();
    let (st, v) = signed(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_acme-challenge",
        "",
        NOW,
    );
    assert_eq!(st, 200, "{v}");
    let body = r#"{"fieldType":"TXT","subDomain":"","target":"v","ttl":60}"#;
    assert_eq!(
        signed(
            &mut s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            body,
            NOW + 170
        )
        .0,
        200
    );
    let (st, v) = signed(&mut s, "GET", "/1.0/domain/zone", "", NOW - 181);
    assert_eq!((st, v["errorCode"].as_str()), (400, Some("QUERY_TIME_OUT")));
    // Tampered: the body, the consumer key, the application key.
    let mut headers = h(&[
        ("Host", HOST),
        ("X-Ovh-Application", "AK1"),
        ("X-Ovh-Consumer", "CK-SECRET"),
        ("X-Ovh-Timestamp", &NOW.to_string()),
        ("X-Ovh-Signature", "$1$0000"),
    ]);
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
    assert_eq!(
        (st, v["message"].as_str()),
        (400, Some("Invalid signature"))
    );
    headers[2].1 = "OTHER".into();
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
    assert_eq!(
        (st, v["errorCode"].as_str()),
        (403, Some("INVALID_CREDENTIAL"))
    );
    headers[1].1 = "AK2".into();
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &headers, "", NOW);
    assert_eq!((st, v["errorCode"].as_str()), (403, Some("INVALID_KEY")));
}

#[test]
fn records_filter_create_delete_and_refresh_publishes() {
    let mut s = state();
    let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW);
    assert_eq!((st, v), (200, json!(["example.test", "other.test"])));
    let (_, v, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/Example.TEST",
        &auth,
        "",
        NOW,
    );
    assert_eq!(v["nameServers"], json!(["localhost."]));
    let (st, _, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/nowhere.test",
        &auth,
        "",
        NOW,
    );
    assert_eq!(st, 404);
    // `_` of the filter matches any character, case folds: the client must compare.
    let (_, ids, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_ACME-challenge",
        &auth,
        "",
        NOW,
    );
    assert_eq!(ids, json!([5_000_000_001u64, 5_000_000_002u64]));
    let (_, apex, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=",
        &auth,
        "",
        NOW,
    );
    assert_eq!(apex, json!([]));
    let (_, r, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record/5000000001",
        &auth,
        "",
        NOW,
    );
    assert_eq!(r["target"], "\"foreign\"");
    assert_eq!(r["subDomain"], "_acme-challenge");
    // Create and delete; nothing is published before the refresh.
    let body = r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"new","ttl":60}"#;
    let (st, created, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/record",
        &auth,
        body,
        NOW,
    );
    assert_eq!(st, 200);
    assert_eq!(created["target"], "\"new\"", "quoted by the API");
    let (st, v, _) = call(
        &mut s,
        "DELETE",
        "/1.0/domain/zone/example.test/record/5000000002",
        &auth,
        "",
        NOW,
    );
    assert_eq!((st, v), (200, Value::Null));
    assert_eq!(
        call(
            &mut s,
            "DELETE",
            "/1.0/domain/zone/example.test/record/5000000002",
            &auth,
            "",
            NOW
        )
        .0,
        404
    );
    assert_eq!(s.take_published("example.test"), None);
    assert_eq!(s.published("example.test").unwrap().records.len(), 3);
    let (st, _, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/refresh",
        &auth,
        "",
        NOW + 5,
    );
    assert_eq!(st, 200);
    let p = s.take_published("example.test").unwrap();
    assert_eq!(p.at, NOW + 5);
    let targets: Vec<&str> = p.records.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["\"foreign\"", "192.0.2.1", "\"new\""]);
    assert_eq!(
        p.records[2].fqdn("example.test"),
        "_acme-challenge.example.test."
    );
    assert_eq!(s.take_published("example.test"), None, "taken once");
    assert_eq!(s.refreshes(), [("example.test".to_string(), NOW + 5)]);
    // Bad bodies.
    let (st, _, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/record",
        &auth,
        r#"{"fieldType":"TXT"}"#,
        NOW,
    );
    assert_eq!(st, 400);
}

#[test]
fn a_scoped_policy_names_the_missing_action() {
    let mut s = state();
    let auth = bearer(&mut s, "sa-scoped", "SECRET-SCOPED");
    let (st, v, _) = call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW);
    assert_eq!(
        (st, v["details"]["unauthorizedActionsByIAM"].as_str()),
        (403, Some("dnsZone:apiovh:get"))
    );
    assert_eq!(
        call(
            &mut s,
            "GET",
            "/1.0/domain/zone/example.test",
            &auth,
            "",
            NOW
        )
        .0,
        200
    );
    assert_eq!(
        call(&mut s, "GET", "/1.0/domain/zone/other.test", &auth, "", NOW).0,
        403
    );
    let body = r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"v"}"#;
    let (st, r, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/record",
        &auth,
        body,
        NOW,
    );
    assert_eq!((st, r["ttl"].as_u64()), (200, Some(u64::from(DEFAULT_TTL))));
    let (st, v, a) = call(
        &mut s,
        "DELETE",
        "/1.0/domain/zone/example.test/record/5000000001",
        &auth,
        "",
        NOW,
    );
    assert_eq!(st, 403);
    assert_eq!(v["class"], "Client::Forbidden");
    assert_eq!(
        v["details"]["unauthorizedActionsByIAM"],
        "dnsZone:apiovh:record/delete"
    );
    assert_eq!(a.code.as_deref(), Some("Client::Forbidden"));
    let (st, v, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/refresh",
        &auth,
        "",
        NOW,
    );
    assert_eq!(
        (st, v["details"]["unauthorizedActionsByIAM"].as_str()),
        (403, Some("dnsZone:apiovh:refresh"))
    );
    assert!(s.refreshes().is_empty());
}

#[test]
fn secrets_are_known_and_never_shown() {
    let mut s = state();
    let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
    let token = auth[0].1.strip_prefix("Bearer ").unwrap().to_string();
    let secrets = s.secrets();
    for x in [
        "SECRET-ALL",
        "SECRET-SCOPED",
        "AS-SECRET",
        "CK-SECRET",
        token.as_str(),
    ] {
        assert!(secrets.iter().any(|s| s == x), "{x}");
    }
    let shown = s.state_json(NOW).to_string();
    assert!(
        secrets.iter().all(|x| !shown.contains(x.as_str())),
        "{shown}"
    );
    assert!(shown.contains("sa-scoped") && shown.contains("AK1"));
}

#[test]
fn the_demo_seed_round_trips_and_works() {
    let demo = OvhSeed::demo();
    let text = serde_json::to_string(&demo).unwrap();
    assert_eq!(OvhSeed::from_json(&text).unwrap(), demo);
    let mut s = OvhState::from_seed(&demo, NOW).unwrap();
    let sa = &demo.service_accounts[0];
    let auth = bearer(&mut s, &sa.client_id, &sa.client_secret);
    let (st, v, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=_acme-challenge",
        &auth,
        "",
        NOW,
    );
    assert_eq!((st, v), (200, json!([5_000_000_001u64])));
    // Exactly the hook's actions: no listing.
    assert_eq!(
        call(&mut s, "GET", "/1.0/domain/zone", &auth, "", NOW).0,
        403
    );
}

#[test]
fn auth_time_is_refused_when_signed() {
    let mut s = state();
    // go-ovh sends X-Ovh-Application on its unauthenticated calls: fine.
    let app = h(&[("X-Ovh-Application", "AK1")]);
    let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &app, "", NOW);
    assert_eq!((st, v), (200, json!(NOW)));
    let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
    let (st, v, _) = call(&mut s, "GET", "/1.0/auth/time", &auth, "", NOW);
    assert_eq!((st, v["class"].as_str()), (400, Some("Client::BadRequest")));
    for k in ["X-Ovh-Consumer", "X-Ovh-Timestamp", "X-Ovh-Signature"] {
        let signed = h(&[("X-Ovh-Application", "AK1"), (k, "x")]);
        assert_eq!(
            call(&mut s, "GET", "/1.0/auth/time", &signed, "", NOW).0,
            400,
            "{k}"
        );
    }
    // The whole classic signature too.
    assert_eq!(signed(&mut s, "GET", "/1.0/auth/time", "", NOW).0, 400);
}

#[test]
fn txt_targets_are_stored_quoted_and_deletes_answer_null() {
    let mut s = state();
    let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
    let post = |s: &mut OvhState, body: &str| {
        call(
            s,
            "POST",
            "/1.0/domain/zone/example.test/record",
            &auth,
            body,
            NOW,
        )
    };
    let (st, r, _) = post(
        &mut s,
        r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"bare","ttl":60}"#,
    );
    assert_eq!((st, r["target"].as_str()), (200, Some("\"bare\"")));
    let (_, r2, _) = post(
        &mut s,
        r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"\"quoted\"","ttl":60}"#,
    );
    assert_eq!(r2["target"], "\"quoted\"");
    let (_, a, _) = post(
        &mut s,
        r#"{"fieldType":"A","subDomain":"www","target":"192.0.2.7","ttl":60}"#,
    );
    assert_eq!(a["target"], "192.0.2.7");
    let id = r["id"].as_u64().unwrap();
    let (_, got, _) = call(
        &mut s,
        "GET",
        &format!("/1.0/domain/zone/example.test/record/{id}"),
        &auth,
        "",
        NOW,
    );
    assert_eq!(got["target"], "\"bare\"");
    let (st, _, a) = call(
        &mut s,
        "DELETE",
        &format!("/1.0/domain/zone/example.test/record/{id}"),
        &auth,
        "",
        NOW,
    );
    assert_eq!((st, a.resp.body.as_slice()), (200, b"null".as_slice()));
}

#[test]
fn apex_sub_domain_null_as_a_knob() {
    let mut s = state();
    let auth = bearer(&mut s, "sa-all", "SECRET-ALL");
    let apex_txt = r#"{"fieldType":"TXT","subDomain":"","target":"apex","ttl":60}"#;
    let (_, r, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/record",
        &auth,
        apex_txt,
        NOW,
    );
    assert_eq!(r["subDomain"], "", "real answers send \"\"");
    s.apex_sub_domain_null = true;
    let (_, r, _) = call(
        &mut s,
        "POST",
        "/1.0/domain/zone/example.test/record",
        &auth,
        apex_txt,
        NOW,
    );
    assert_eq!(r["subDomain"], Value::Null);
    let (_, ids, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record?subDomain=",
        &auth,
        "",
        NOW,
    );
    // The seed's apex A record, then the two TXT records.
    assert_eq!(ids.as_array().unwrap().len(), 3, "{ids}");
    for id in ids.as_array().unwrap() {
        let (_, rec, _) = call(
            &mut s,
            "GET",
            &format!("/1.0/domain/zone/example.test/record/{id}"),
            &auth,
            "",
            NOW,
        );
        assert!(rec["subDomain"].is_null(), "{rec}");
        assert!(rec.as_object().unwrap().contains_key("subDomain"), "{rec}");
    }
    // Other names keep theirs; the state shows what is stored.
    let (_, rec, _) = call(
        &mut s,
        "GET",
        "/1.0/domain/zone/example.test/record/5000000001",
        &auth,
        "",
        NOW,
    );
    assert_eq!(rec["subDomain"], "_acme-challenge");
    assert!(
        s.state_json(NOW)["zones"][0]["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["subDomain"].is_string())
    );
    let seeded: OvhSeed = OvhSeed::from_json(r#"{"apex_sub_domain_null": true}"#).unwrap();
    assert!(
        OvhState::from_seed(&seeded, NOW)
            .unwrap()
            .apex_sub_domain_null
    );
}

#[test]
fn seeds_are_checked() {
    assert!(OvhSeed::from_json(r#"{"zone": []}"#).is_err());
    let twice =
        OvhSeed::from_json(r#"{"zones": [{"name": "a.test"}, {"name": "A.test."}]}"#).unwrap();
    assert!(OvhState::from_seed(&twice, NOW).is_err());
    assert_eq!(
        OvhState::from_seed(&OvhSeed::default(), NOW)
            .unwrap()
            .zone_names(),
        Vec::<String>::new()
    );
}

#[test]
fn forms_and_patterns() {
    assert_eq!(
        http::form_pairs(b"a=b%26c&d=e+f&g&h=%zz"),
        [
            ("a".to_string(), "b&c".to_string()),
            ("d".into(), "e f".into()),
            ("g".into(), String::new()),
            ("h".into(), "%zz".into()),
        ]
    );
    assert_eq!(
        http::form_pairs(b"x=%2"),
        [("x".to_string(), "%2".to_string())]
    );
    assert!(like("_acme-challenge", "xacme-challenge", true));
    assert!(like("_ACME-challenge", "_acme-challenge", true));
    assert!(!like("_ACME-challenge", "_acme-challenge", false));
    assert!(like("%", "", false) && like("a%c", "abbc", false) && !like("a_c", "ac", false));
    assert!(like("", "", true) && !like("", "a", true));
}
