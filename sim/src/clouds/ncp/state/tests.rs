use serde_json::{Value, json};

use super::*;

const VECTORS: &str = include_str!("../../../../../tests/fixtures/ncp-signing-vectors.json");
const T0: i64 = 1_800_000_000_000;
const AK: &str = "ncp_iam_BPAMKRSIMSTATIC0001";
const SK: &str = "ncp_iam_BPKMKRSIMSECRET00000000000000001";

fn state() -> NcpState {
    NcpState::from_seed(&NcpSeed::demo()).unwrap()
}

fn hdr(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// A request signed at `ts` with (ak, sk), as a client would send it.
fn signed(
    s: &mut NcpState,
    method: &str,
    target: &str,
    body: &str,
    (ak, sk): (&str, &str),
    ts: i64,
    now: i64,
) -> Answer {
    let sig = expected_signature(sk, method, target, &ts.to_string(), ak);
    let headers = vec![
        hdr("x-ncp-apigw-timestamp", &ts.to_string()),
        hdr("x-ncp-iam-access-key", ak),
        hdr("x-ncp-apigw-signature-v2", &sig),
    ];
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    s.handle(
        &Request {
            method,
            path,
            query,
            headers: &headers,
            body: body.as_bytes(),
        },
        now,
    )
    .unwrap()
}

fn call(s: &mut NcpState, method: &str, target: &str, body: &str) -> (u16, Value) {
    let a = signed(s, method, target, body, (AK, SK), T0, T0);
    (
        a.status,
        serde_json::from_slice(&a.body).unwrap_or(Value::Null),
    )
}

fn plain(
    s: &mut NcpState,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    now: i64,
) -> Answer {
    s.handle(
        &Request {
            method,
            path,
            query: "",
            headers,
            body: b"",
        },
        now,
    )
    .unwrap()
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

#[test]
fn own_signature_matches_every_shared_vector() {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 9);
    for vec in vectors {
        let i = &vec["inputs"];
        let s = |k: &str| i[k].as_str().unwrap();
        let url = s("url");
        let target = &url[url.find("/dns/").unwrap()..];
        assert_eq!(
            expected_signature(
                s("secret_key"),
                s("method"),
                target,
                s("timestamp_ms"),
                s("access_key")
            ),
            vec["expected_headers"]["x-ncp-apigw-signature-v2"]
                .as_str()
                .unwrap(),
            "{url}"
        );
    }
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
}

#[test]
fn gateway_checks_signature_key_and_window() {
    let mut s = state();
    let target = "/dns/v1/ncpdns/domain?page=0&size=20&domainName=example.test";
    let ok = signed(&mut s, "GET", target, "", (AK, SK), T0, T0);
    assert_eq!(ok.status, 200, "{}", text(&ok));
    assert_eq!(ok.access_key.as_deref(), Some(AK));
    assert!(ok.headers.iter().any(|(k, _)| k == "Date"));
    // Inside the window either way, then just outside.
    assert_eq!(
        signed(&mut s, "GET", target, "", (AK, SK), T0 - WINDOW_MS, T0).status,
        200
    );
    for ts in [T0 - WINDOW_MS - 1, T0 + WINDOW_MS + 1] {
        let a = signed(&mut s, "GET", target, "", (AK, SK), ts, T0);
        assert_eq!((a.status, a.code.as_deref()), (401, Some("200")));
        assert!(text(&a).contains("Authentication Failed"));
    }
    // The Date of a refusal is the simulated clock, so a client can correct its own.
    let a = signed(&mut s, "GET", target, "", (AK, SK), T0 - 3_600_000, T0);
    let date = a
        .headers
        .iter()
        .find(|(k, _)| k == "Date")
        .unwrap()
        .1
        .clone();
    let t = httpdate::parse_http_date(&date).unwrap();
    assert_eq!(
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
        T0
    );
    // Wrong secret, unknown key, the signed query altered, the v1 header name.
    assert_eq!(
        signed(&mut s, "GET", target, "", (AK, "wrong"), T0, T0).status,
        401
    );
    assert_eq!(
        signed(&mut s, "GET", target, "", ("nobody", SK), T0, T0).status,
        401
    );
    let sig = expected_signature(SK, "GET", target, &T0.to_string(), AK);
    let tampered = [
        hdr("x-ncp-apigw-timestamp", &T0.to_string()),
        hdr("x-ncp-iam-access-key", AK),
        hdr("x-ncp-apigw-signature-v2", &sig),
    ];
    let a = s
        .handle(
            &Request {
                method: "GET",
                path: "/dns/v1/ncpdns/domain",
                query: "page=0&size=20&domainName=other.test",
                headers: &tampered,
                body: b"",
            },
            T0,
        )
        .unwrap();
    assert_eq!(a.status, 401);
    let v1 = [
        hdr("x-ncp-apigw-timestamp", &T0.to_string()),
        hdr("x-ncp-iam-access-key", AK),
        hdr("x-ncp-apigw-signature-v1", &sig),
    ];
    assert_eq!(
        plain(&mut s, "GET", "/dns/v1/ncpdns/domain", &v1, T0).status,
        401
    );
}

#[test]
fn other_paths_are_not_ncp() {
    let mut s = state();
    let r = Request {
        method: "GET",
        path: "/v2/zones",
        query: "",
        headers: &[],
        body: b"",
    };
    assert!(s.handle(&r, T0).is_none());
}

#[test]
fn metadata_v2_v1_and_v2_required() {
    let mut s = state();
    let put = |s: &mut NcpState, ttl: &str| {
        plain(
            s,
            "PUT",
            TOKEN_PATH,
            &[hdr("X-NCP-METADATA-TOKEN-TTL-SECONDS", ttl)],
            T0,
        )
    };
    let tok = put(&mut s, "21600");
    assert_eq!(tok.status, 200);
    let token = text(&tok);
    assert!(!token.ends_with('\n'));
    assert_eq!(put(&mut s, "0").status, 400);
    assert_eq!(put(&mut s, "21601").status, 400);
    let with = [hdr("X-NCP-METADATA-TOKEN", &token)];
    let role = plain(&mut s, "GET", CREDENTIALS_PATH, &with, T0);
    assert_eq!(
        (role.status, text(&role).as_str()),
        (200, "a1b2c3d4-0000-4000-8000-00000000dns1")
    );
    let doc = plain(
        &mut s,
        "GET",
        &format!("{CREDENTIALS_PATH}/{}", text(&role)),
        &with,
        T0,
    );
    assert_eq!(doc.status, 200);
    let v: Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(
        (v["Code"].as_str(), v["Type"].as_str(), v["Token"].as_str()),
        (Some("Success"), Some("NCP-HMAC"), Some(""))
    );
    assert_eq!(v["Expiration"], rfc3339(T0 + 3_600_000));
    assert_eq!(doc.issued.as_deref(), v["AccessKeyId"].as_str());
    assert!(s.secrets().contains(&token));
    assert!(
        s.secrets()
            .contains(&v["SecretAccessKey"].as_str().unwrap().to_string())
    );
    // v1: no token, answered while optional.
    assert_eq!(plain(&mut s, "GET", CREDENTIALS_PATH, &[], T0).status, 200);
    // A token that is not ours is refused in any mode.
    assert_eq!(
        plain(
            &mut s,
            "GET",
            CREDENTIALS_PATH,
            &[hdr("X-NCP-METADATA-TOKEN", "forged")],
            T0
        )
        .status,
        401
    );
    // v2 required: plain GETs 401, token GETs fine.
    s.metadata = MetadataMode::Required;
    assert_eq!(plain(&mut s, "GET", CREDENTIALS_PATH, &[], T0).status, 401);
    assert_eq!(
        plain(&mut s, "GET", CREDENTIALS_PATH, &with, T0).status,
        200
    );
    // The token expires with its TTL.
    let short = text(&put(&mut s, "1"));
    let later = [hdr("X-NCP-METADATA-TOKEN", &short)];
    assert_eq!(
        plain(&mut s, "GET", CREDENTIALS_PATH, &later, T0 + 2000).status,
        401
    );
    // No v2 at all: the PUT is 404, so clients fall back to v1.
    s.metadata = MetadataMode::Absent;
    assert_eq!(put(&mut s, "21600").status, 404);
    assert_eq!(plain(&mut s, "GET", CREDENTIALS_PATH, &[], T0).status, 200);
    // No role attached, or metadata switched off: 404 "Path Not found.".
    s.metadata = MetadataMode::Optional;
    let mut none = NcpState::from_seed(&NcpSeed::default()).unwrap();
    let a = plain(&mut none, "GET", CREDENTIALS_PATH, &[], T0);
    assert_eq!((a.status, text(&a).as_str()), (404, "Path Not found."));
    s.metadata_enabled = false;
    assert_eq!(put(&mut s, "21600").status, 404);
}

#[test]
fn temporary_keys_sign_until_they_expire_then_new_ones_come() {
    let mut s = state();
    s.credential_ttl_secs = 120;
    let path = format!("{CREDENTIALS_PATH}/a1b2c3d4-0000-4000-8000-00000000dns1");
    let doc = |s: &mut NcpState, now| -> (String, String) {
        let a = plain(s, "GET", &path, &[], now);
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        (
            v["AccessKeyId"].as_str().unwrap().into(),
            v["SecretAccessKey"].as_str().unwrap().into(),
        )
    };
    let (ak, sk) = doc(&mut s, T0);
    assert_eq!(doc(&mut s, T0 + 30_000).0, ak, "cached while fresh");
    let target = "/dns/v1/ncpdns/domain?page=0&size=20";
    assert_eq!(
        signed(&mut s, "GET", target, "", (&ak, &sk), T0, T0).status,
        200
    );
    let late = T0 + 121_000;
    let a = signed(&mut s, "GET", target, "", (&ak, &sk), late, late);
    assert_eq!(
        (a.status, a.access_key.as_deref()),
        (401, Some(ak.as_str()))
    );
    let (ak2, sk2) = doc(&mut s, late);
    assert_ne!(ak2, ak);
    assert_eq!(
        signed(&mut s, "GET", target, "", (&ak2, &sk2), late, late).status,
        200
    );
    let st = s.state_json(late).to_string();
    assert!(
        !st.contains(&sk) && !st.contains(&sk2) && !st.contains(SK),
        "no secret in the state"
    );
    assert!(st.contains(&ak2));
}

#[test]
fn domains_over_match_and_page() {
    let mut s = state();
    let (status, v) = call(
        &mut s,
        "GET",
        "/dns/v1/ncpdns/domain?page=0&size=1&domainName=example.test",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(
        v["totalElements"], 2,
        "the filter over-matches sub.example.test"
    );
    assert_eq!(v["content"][0]["name"], "example.test");
    assert_eq!(v["last"], false);
    let (_, v) = call(
        &mut s,
        "GET",
        "/dns/v1/ncpdns/domain?page=1&size=1&domainName=example.test",
        "",
    );
    assert_eq!(
        (v["content"][0]["name"].as_str(), v["last"].as_bool()),
        (Some("sub.example.test"), Some(true))
    );
    let (status, v) = call(
        &mut s,
        "GET",
        "/dns/v1/ncpdns/domain?domainName=example.test",
        "",
    );
    assert_eq!((status, v["result"].as_str()), (400, Some("FAIL")));
}

fn records(s: &mut NcpState, q: &str) -> Vec<Value> {
    let (status, v) = call(
        s,
        "GET",
        &format!("/dns/v1/ncpdns/record/120?page=0&size=100&{q}"),
        "",
    );
    assert_eq!(status, 200, "{v}");
    v["content"].as_array().unwrap().clone()
}

#[test]
fn add_delete_apply_and_what_dns_serves() {
    let mut s = state();
    let add = json!([{"host": "_acme-challenge", "type": "TXT", "content": "v1", "ttl": 300},
                     {"host": "_acme-challenge.www", "type": "TXT", "content": "v2", "ttl": 300}]);
    assert_eq!(
        call(
            &mut s,
            "POST",
            "/dns/v1/ncpdns/record/120",
            &add.to_string()
        )
        .0,
        200
    );
    // Listed at once (quoted), served only after apply.
    let got = records(&mut s, "recordType=TXT&searchContent=_acme-challenge");
    assert_eq!(got.len(), 2, "the search over-matches the www host");
    assert_eq!(got[0]["content"], "\"v1\"");
    assert_eq!(got[0]["name"], "example.test");
    assert!(
        s.published("example.test")
            .unwrap()
            .iter()
            .all(|r| r.rtype != "TXT")
    );
    assert!(s.take_applies().is_empty());
    // An exact duplicate is refused, quoted or not.
    let dup = json!([{"host": "_acme-challenge", "type": "TXT", "content": "\"v1\"", "ttl": 300}]);
    let (status, v) = call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &dup.to_string(),
    );
    assert_eq!(
        (status, v["error"]["errorCode"].as_str()),
        (400, Some("X00011"))
    );
    assert_eq!(v["result"], "FAIL");
    assert_eq!(
        call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "").0,
        200
    );
    let applied = s.take_applies();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (applied[0].domain.as_str(), applied[0].t_ms),
        ("example.test", T0)
    );
    assert_eq!(
        applied[0]
            .records
            .iter()
            .filter(|r| r.rtype == "TXT")
            .count(),
        2
    );
    // Delete by id, apply again.
    let id = got[0]["id"].as_u64().unwrap();
    assert_eq!(
        call(
            &mut s,
            "DELETE",
            "/dns/v1/ncpdns/record/120",
            &json!([id]).to_string()
        )
        .0,
        200
    );
    assert_eq!(
        s.published("example.test")
            .unwrap()
            .iter()
            .filter(|r| r.rtype == "TXT")
            .count(),
        2
    );
    call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "");
    let txt: Vec<String> = s
        .published("example.test.")
        .unwrap()
        .iter()
        .filter(|r| r.rtype == "TXT")
        .map(|r| r.host.clone())
        .collect();
    assert_eq!(txt, ["_acme-challenge.www"]);
    // Unknown ids and domains are refused; nothing is half done.
    let (status, _) = call(
        &mut s,
        "DELETE",
        "/dns/v1/ncpdns/record/120",
        &json!([id]).to_string(),
    );
    assert_eq!(status, 400);
    assert_eq!(
        call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/999", "").0,
        404
    );
    assert_eq!(
        call(
            &mut s,
            "POST",
            "/dns/v1/ncpdns/record/120",
            r#"[{"host":"x"}]"#
        )
        .0,
        400
    );
    assert!(s.rollbacks().is_empty());
}

#[test]
fn rollback_discards_every_pending_edit_and_is_recorded() {
    let mut s = state();
    let add = json!([{"host": "keep", "type": "TXT", "content": "applied", "ttl": 300}]);
    call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &add.to_string(),
    );
    call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "");
    let kept = records(&mut s, "recordType=TXT&searchContent=keep")[0]["id"]
        .as_u64()
        .unwrap();
    // A colleague's pending add and delete.
    let add = json!([{"host": "colleague", "type": "TXT", "content": "pending", "ttl": 300}]);
    call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &add.to_string(),
    );
    call(
        &mut s,
        "DELETE",
        "/dns/v1/ncpdns/record/120",
        &json!([kept]).to_string(),
    );
    assert_eq!(records(&mut s, "recordType=TXT").len(), 1);
    assert_eq!(
        call(&mut s, "PUT", "/dns/v1/ncpdns/record/rollback/120", "").0,
        200
    );
    let after = records(&mut s, "recordType=TXT");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["host"], "keep");
    assert_eq!(s.rollbacks(), [("example.test".to_string(), T0)]);
    assert_eq!(s.state_json(T0)["rollbacks"][0]["domain"], "example.test");
}

#[test]
fn seed_is_checked() {
    let seed: NcpSeed = serde_json::from_str(
        r#"{"metadata":"required","credential_ttl_secs":60,"role":{"id":"r1"},
            "domains":[{"id":7,"name":"a.test.","records":[{"host":"@","type":"txt","content":"x"}]}]}"#,
    )
    .unwrap();
    let s = NcpState::from_seed(&seed).unwrap();
    assert_eq!(s.metadata, MetadataMode::Required);
    let p = s.published("a.test").unwrap();
    assert_eq!(
        (p[0].rtype.as_str(), p[0].content.as_str(), p[0].ttl),
        ("TXT", "\"x\"", 300)
    );
    assert!(serde_json::from_str::<NcpSeed>(r#"{"bogus":1}"#).is_err());
    let twice: NcpSeed =
        serde_json::from_str(r#"{"domains":[{"name":"a.test"},{"name":"A.test."}]}"#).unwrap();
    assert!(NcpState::from_seed(&twice).is_err());
}

/// ncp-api.md Corrections: the gateway answers keys that may not call Global
/// DNS with `401` and code `210` ("Permission Denied"), not 403.
#[test]
fn a_role_without_the_dns_policy_gets_401_code_210() {
    let mut s = state();
    s.set_role_dns_policy(false).unwrap();
    let path = format!("{CREDENTIALS_PATH}/a1b2c3d4-0000-4000-8000-00000000dns1");
    let a = plain(&mut s, "GET", &path, &[], T0);
    let v: Value = serde_json::from_slice(&a.body).unwrap();
    let (ak, sk) = (
        v["AccessKeyId"].as_str().unwrap().to_string(),
        v["SecretAccessKey"].as_str().unwrap().to_string(),
    );
    let target = "/dns/v1/ncpdns/domain?page=0&size=20";
    let a = signed(&mut s, "GET", target, "", (&ak, &sk), T0, T0);
    let body: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(a.status, 401);
    assert_eq!(body["error"]["errorCode"], "210");
    assert_eq!(body["error"]["message"], "Permission Denied");
    assert_eq!(a.code.as_deref(), Some("210"));
    assert_eq!(a.access_key.as_deref(), Some(ak.as_str()));
    // A bad signature is still 401/200, and a static key is not the role's.
    let a = signed(&mut s, "GET", target, "", (&ak, "wrong"), T0, T0);
    assert_eq!(a.code.as_deref(), Some("200"));
    assert_eq!(
        signed(&mut s, "GET", target, "", (AK, SK), T0, T0).status,
        200
    );
    // With the policy attached, the same keys work.
    s.set_role_dns_policy(true).unwrap();
    assert_eq!(
        signed(&mut s, "GET", target, "", (&ak, &sk), T0, T0).status,
        200
    );
    assert_eq!(s.state_json(T0)["metadata"]["role"]["dns_policy"], true);
    let mut none = NcpState::from_seed(&NcpSeed::default()).unwrap();
    assert!(none.set_role_dns_policy(false).is_err());
}

/// The search is "by record name" (the docs): a substring of `host.domain`
/// (the domain itself for the apex), so `@` matches nothing.
#[test]
fn the_search_is_by_record_name_and_at_matches_nothing() {
    let mut s = state();
    let add = json!([{"host": "@", "type": "TXT", "content": "apex", "ttl": 300},
                     {"host": "_acme-challenge", "type": "TXT", "content": "v1", "ttl": 300},
                     {"host": "_acme-challenge.www", "type": "TXT", "content": "v2", "ttl": 300}]);
    call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &add.to_string(),
    );
    assert!(records(&mut s, "recordType=TXT&searchContent=@").is_empty());
    assert!(records(&mut s, "recordType=TXT&searchContent=%40").is_empty());
    let hosts = |v: Vec<Value>| -> Vec<String> {
        v.iter()
            .map(|r| r["host"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        hosts(records(
            &mut s,
            "recordType=TXT&searchContent=_acme-challenge.example"
        )),
        ["_acme-challenge"]
    );
    assert_eq!(
        hosts(records(
            &mut s,
            "recordType=TXT&searchContent=_acme-challenge"
        )),
        ["_acme-challenge", "_acme-challenge.www"]
    );
    // Every record's name holds the domain's: the apex only this way.
    assert_eq!(
        hosts(records(&mut s, "recordType=TXT&searchContent=example.test")),
        ["@", "_acme-challenge", "_acme-challenge.www"]
    );
    // TXT content is listed quoted (ncp-api.md, Corrections).
    assert_eq!(records(&mut s, "recordType=TXT")[0]["content"], "\"apex\"");
}

/// The docs show no success body for DELETE: 200 and nothing else.
#[test]
fn delete_answers_200_without_a_body() {
    let mut s = state();
    let add = json!([{"host": "x", "type": "TXT", "content": "v", "ttl": 300}]);
    call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &add.to_string(),
    );
    let id = records(&mut s, "recordType=TXT")[0]["id"].as_u64().unwrap();
    let a = signed(
        &mut s,
        "DELETE",
        "/dns/v1/ncpdns/record/120",
        &json!([id]).to_string(),
        (AK, SK),
        T0,
        T0,
    );
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty(), "{}", text(&a));
}

/// An apply with nothing pending is undocumented; told to, the simulator
/// refuses it with the generic `X00006`.
#[test]
fn an_empty_apply_is_refused_when_told_to() {
    let mut s = state();
    assert_eq!(
        call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "").0,
        200
    );
    s.refuse_empty_apply = true;
    let (status, v) = call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "");
    assert_eq!(
        (status, v["error"]["errorCode"].as_str()),
        (400, Some("X00006"))
    );
    let add = json!([{"host": "x", "type": "TXT", "content": "v", "ttl": 300}]);
    call(
        &mut s,
        "POST",
        "/dns/v1/ncpdns/record/120",
        &add.to_string(),
    );
    assert_eq!(
        call(&mut s, "PUT", "/dns/v1/ncpdns/record/apply/120", "").0,
        200
    );
}
