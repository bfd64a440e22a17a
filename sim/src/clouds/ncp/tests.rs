use super::*;
use crate::core::clock::Now;
use state::{NcpSeedDomain, NcpSeedKey, NcpSeedRecord};

const AK: &str = "AKNCPTEST";
const SK: &str = "SKNCPTEST-secret";

fn seed() -> NcpSeed {
    NcpSeed {
        static_keys: vec![NcpSeedKey {
            access: AK.into(),
            secret: SK.into(),
        }],
        domains: vec![NcpSeedDomain {
            id: Some(7),
            name: "example.test".into(),
            records: vec![NcpSeedRecord {
                host: "_acme-challenge".into(),
                rtype: "TXT".into(),
                content: "keep".into(),
                ttl: 600,
            }],
        }],
        ..NcpSeed::default()
    }
}

fn ctx<'a>(now: &'a Now, propagation_ms: u64) -> Ctx<'a> {
    Ctx {
        now,
        base_url: "http://127.0.0.1:9",
        nameservers: &[],
        propagation_ms,
    }
}

fn call(n: &mut Ncp, now: &Now, delay: u64, method: &str, target: &str, body: &str) -> Handled {
    let ts = now.sim_us.div_euclid(1000).to_string();
    let sig = state::expected_signature(SK, method, target, &ts, AK);
    let req = Req::new(
        method,
        target,
        vec![
            ("x-ncp-apigw-timestamp".into(), ts),
            ("x-ncp-iam-access-key".into(), AK.into()),
            ("x-ncp-apigw-signature-v2".into(), sig),
        ],
        body.as_bytes().to_vec(),
    );
    n.route(&ctx(now, delay), &req)
}

fn served_txt(n: &mut Ncp, at_ms: u64) -> Vec<String> {
    n.served()
        .view(at_ms)
        .zones
        .iter()
        .flat_map(|z| z.rrsets.iter())
        .filter(|r| r.name == "_acme-challenge.example.test." && r.rtype == "TXT")
        .flat_map(|r| r.records.clone())
        .collect()
}

#[test]
fn records_are_served_only_after_apply_and_the_delay() {
    let mut n = Ncp::from_seed(&seed()).unwrap();
    assert_eq!(
        served_txt(&mut n, 0),
        ["\"keep\""],
        "seeded records are served"
    );
    let t = Now::at(1000);
    let h = call(
        &mut n,
        &t,
        500,
        "POST",
        "/dns/v1/ncpdns/record/7",
        r#"[{"host":"_acme-challenge","type":"TXT","content":"new","ttl":300}]"#,
    );
    assert_eq!(h.resp.status, 200);
    assert_eq!(h.access_key.as_deref(), Some(AK));
    assert_eq!(h.auth, Some("aksk"));
    assert_eq!(served_txt(&mut n, 10_000), ["\"keep\""], "not before apply");
    let h = call(&mut n, &t, 500, "PUT", "/dns/v1/ncpdns/record/apply/7", "");
    assert_eq!(h.resp.status, 200);
    assert!(
        !h.resp.headers.iter().any(|(k, _)| k == "Date"),
        "the core adds Date"
    );
    assert_eq!(
        served_txt(&mut n, 1_499),
        ["\"keep\""],
        "the propagation delay"
    );
    assert_eq!(served_txt(&mut n, 1_500), ["\"keep\"", "\"new\""]);
}

#[test]
fn rollback_is_answered_and_never_published() {
    let mut n = Ncp::from_seed(&seed()).unwrap();
    let t = Now::at(1000);
    call(
        &mut n,
        &t,
        0,
        "POST",
        "/dns/v1/ncpdns/record/7",
        r#"[{"host":"_acme-challenge","type":"TXT","content":"x","ttl":300}]"#,
    );
    let h = call(&mut n, &t, 0, "PUT", "/dns/v1/ncpdns/record/rollback/7", "");
    assert_eq!(h.resp.status, 200);
    assert_eq!(served_txt(&mut n, 5_000), ["\"keep\""]);
    assert_eq!(n.state_json(&t)["rollbacks"].as_array().unwrap().len(), 1);
}

#[test]
fn config_keys_and_unknown_ones() {
    let mut n = Ncp::from_seed(&seed()).unwrap();
    let patch = |v: Value| v.as_object().unwrap().clone();
    n.apply_config(patch(
        json!({"metadata_mode": "required", "metadata_down": true, "credential_ttl_secs": 5}),
    ))
    .unwrap();
    let c = n.config_json();
    assert_eq!(c["metadata_mode"], "required");
    assert_eq!(c["metadata_down"], true);
    assert_eq!(c["credential_ttl_secs"], 5);
    assert!(
        n.apply_config(patch(json!({"metadata_mode": "v3"})))
            .is_err()
    );
    // All or nothing: a bad key leaves the rest untouched.
    assert!(
        n.apply_config(patch(
            json!({"metadata_down": false, "pending_delay_ms": 1})
        ))
        .is_err()
    );
    assert_eq!(n.config_json()["metadata_down"], true);
    // No role in this seed: its policy can't be changed, and nothing else is.
    assert!(
        n.apply_config(patch(
            json!({"role_dns_policy": false, "refuse_empty_apply": true})
        ))
        .is_err()
    );
    assert_eq!(n.config_json()["refuse_empty_apply"], false);
    n.apply_config(patch(json!({"refuse_empty_apply": true})))
        .unwrap();
    let mut with_role = seed();
    with_role.role = Some(state::NcpSeedRole {
        id: "r1".into(),
        name: String::new(),
        dns_policy: true,
    });
    let mut r = Ncp::from_seed(&with_role).unwrap();
    r.apply_config(patch(json!({"role_dns_policy": false})))
        .unwrap();
    let c = r.config_json();
    assert_eq!(c["role_dns_policy"], false);
    assert_eq!(n.config_json()["refuse_empty_apply"], true);
    assert!(
        n.apply_config(patch(json!({"refuse_empty_apply": "yes"})))
            .is_err()
    );
}

#[test]
fn faults_answer_in_ncp_formats() {
    let n = Ncp::from_seed(&seed()).unwrap();
    let f: Fault =
        serde_json::from_value(json!({"kind": "status", "status": 500, "code": "X1"})).unwrap();
    let r = n.fault_response(&f).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (v["result"].as_str(), v["error"]["errorCode"].as_str()),
        (Some("FAIL"), Some("X1"))
    );
    let f: Fault = serde_json::from_value(json!({"kind": "429", "retry_after": 1})).unwrap();
    let r = n.fault_response(&f).unwrap();
    assert_eq!(r.status, 429);
    // The gateway's Rate Limited (420), not its Quota Exceeded (400).
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["errorCode"], "420");
    assert!(r.headers.iter().any(|(k, _)| k == "Retry-After"));
}

#[test]
fn unknown_paths_get_the_gateways_404() {
    let mut n = Ncp::from_seed(&seed()).unwrap();
    let t = Now::at(0);
    let h = n.route(&ctx(&t, 0), &Req::new("GET", "/v2/zones", vec![], vec![]));
    assert_eq!(h.resp.status, 404);
}
