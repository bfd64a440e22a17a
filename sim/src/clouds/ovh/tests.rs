//! The adapter: publishing at refresh, config keys, faults in OVH's formats.

use super::*;

fn seed() -> OvhSeed {
    OvhSeed::from_json(
        r#"{"zones": [{"name": "example.test", "records": [
             {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign\""}]}],
            "service_accounts": [{"client_id": "sa", "client_secret": "SA-SECRET"}]}"#,
    )
    .unwrap()
}

fn served_txt(o: &Ovh, mono_ms: u64, name: &str) -> Vec<String> {
    o.served.values_at(mono_ms, name, "TXT").unwrap_or_default()
}

fn req(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Req {
    Req::new(
        method,
        url,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body.as_bytes().to_vec(),
    )
}

#[test]
fn edits_are_served_only_after_the_refresh_and_the_delay() {
    let ns = vec!["ns1.example.test.".to_string()];
    let mut o = Ovh::from_seed(&seed(), &ns, &Now::at(0)).unwrap();
    let name = "_acme-challenge.example.test.";
    assert_eq!(served_txt(&o, 0, name), ["\"foreign\""]);
    let now = Now::at(10);
    let ctx = Ctx {
        now: &now,
        base_url: "http://127.0.0.1:9",
        nameservers: &ns,
        propagation_ms: 500,
    };
    let t = o.route(
        &ctx,
        &req(
            "POST",
            "/auth/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "grant_type=client_credentials&client_id=sa&client_secret=SA-SECRET&scope=all",
        ),
    );
    assert_eq!(t.resp.status, 200);
    assert_eq!(t.access_key.as_deref(), Some("sa"));
    let tok: Value = serde_json::from_slice(&t.resp.body).unwrap();
    let bearer = format!("Bearer {}", tok["access_token"].as_str().unwrap());
    let h = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let c = o.route(
        &ctx,
        &req(
            "POST",
            "/1.0/domain/zone/example.test/record",
            &h,
            r#"{"fieldType":"TXT","subDomain":"_acme-challenge","target":"ours","ttl":60}"#,
        ),
    );
    assert_eq!((c.resp.status, c.auth), (200, Some("bearer")));
    assert_eq!(
        served_txt(&o, 10_000, name),
        ["\"foreign\""],
        "no refresh yet"
    );
    let r = o.route(
        &ctx,
        &req("POST", "/1.0/domain/zone/example.test/refresh", &h, ""),
    );
    assert_eq!(r.resp.status, 200);
    assert_eq!(served_txt(&o, 10, name), ["\"foreign\""], "delay");
    let mut got = served_txt(&o, 510, name);
    got.sort();
    assert_eq!(got, ["\"foreign\"", "\"ours\""]);
    assert!(o.secrets().contains(&"SA-SECRET".to_string()));
}

#[test]
fn config_and_faults() {
    let mut o = Ovh::from_seed(&seed(), &[], &Now::at(0)).unwrap();
    let mut patch = Map::new();
    patch.insert("token_lifetime_secs".into(), json!(5));
    patch.insert("apex_sub_domain_null".into(), json!(true));
    o.apply_config(patch).unwrap();
    assert_eq!(o.config_json()["token_lifetime_secs"], 5);
    assert_eq!(o.config_json()["apex_sub_domain_null"], true);
    let mut bad = Map::new();
    bad.insert("apex_sub_domain_null".into(), json!(1));
    assert!(o.apply_config(bad).is_err());
    let mut bad = Map::new();
    bad.insert("typo".into(), json!(1));
    assert!(o.apply_config(bad).is_err());
    let mut c = crate::core::control::Config::new(0);
    c.apply(
        br#"{"faults": [{"kind": "status", "status": 401}]}"#,
        |_| Ok(()),
    )
    .unwrap();
    let r = o
        .fault_response(&c.take_fault("GET", "/1.0/x").unwrap())
        .unwrap();
    assert_eq!(r.status, 401);
    assert!(String::from_utf8_lossy(&r.body).contains("Client::Unauthorized"));
}
