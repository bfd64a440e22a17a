//! Every path to temporary credentials over HTTP: metadata, IAM
//! (AK/SK and token `securitytokens`, agency and OIDC tokens) and CCE.

mod common;

use otc_sim::Seed;
use serde_json::{Value, json};

use common::*;

#[test]
fn every_path_to_temporary_credentials_over_http() {
    let sim = demo_sim();
    let seed = Seed::demo();
    let perm = json!({"access": seed.credentials[0].access, "secret": seed.credentials[0].secret});
    let json_type = header_pair("Content-Type", "application/json");
    let mut issued = Vec::new();
    let mut check_dns = |cred: Value| {
        let (status, zones) = signed(&sim, "GET", "/v2/zones?name=example.test.", "", &cred);
        assert_eq!(status, 200, "{zones}");
        issued.push(cred);
    };

    // 1. AK/SK-signed assume_role at securitytokens.
    let assume = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
        {"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": 900}}}})
    .to_string();
    let (status, _, body) = signed_answer(
        &sim,
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        &assume,
        &perm,
    );
    assert_eq!(status, 201, "{body}");
    check_dns(credential_of(&body));

    // Switched off: 403, the client must take the token path.
    let (status, _, _) = http(
        &sim,
        "POST",
        "/_sim/config",
        &[],
        r#"{"iam_aksk_assume_role": false}"#,
    )
    .unwrap();
    assert_eq!(status, 200);
    let (status, _, body) = signed_answer(
        &sim,
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        &assume,
        &perm,
    );
    assert_eq!(status, 403, "{body}");

    // 2. AK/SK-signed /v3/auth/tokens, then securitytokens with the IAM token.
    let auth = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
        {"domain_name": "partner", "xrole_name": "dns-agency"}},
        "scope": {"project": {"name": "eu-de"}}}})
    .to_string();
    let (status, headers, body) = signed_answer(&sim, "POST", "/v3/auth/tokens", &auth, &perm);
    assert_eq!(status, 201, "{body}");
    let agency_token = get_header(&headers, "x-subject-token").unwrap().to_string();
    let exchange =
        r#"{"auth":{"identity":{"methods":["token"],"token":{"duration_seconds":900}}}}"#;
    let (status, _, body) = http(
        &sim,
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        &[
            header_pair("X-Auth-Token", &agency_token),
            json_type.clone(),
        ],
        exchange,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    check_dns(credential_of(&body));

    // 3. OIDC ID token -> IAM token -> credentials.
    let oidc = &seed.oidc[0];
    let id_body = json!({"auth": {"id_token": {"id": oidc.id_token},
        "scope": {"project": {"id": oidc.project_id}}}})
    .to_string();
    let (status, _, _) = http(
        &sim,
        "POST",
        "/v3.0/OS-AUTH/id-token/tokens",
        &[header_pair("X-Idp-Id", "wrong-idp"), json_type.clone()],
        &id_body,
    )
    .unwrap();
    assert_eq!(status, 401);
    let (status, headers, body) = http(
        &sim,
        "POST",
        "/v3.0/OS-AUTH/id-token/tokens",
        &[header_pair("X-Idp-Id", &oidc.idp_id), json_type.clone()],
        &id_body,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let oidc_token = get_header(&headers, "x-subject-token").unwrap().to_string();
    let (status, _, body) = http(
        &sim,
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        &[header_pair("X-Auth-Token", &oidc_token), json_type.clone()],
        exchange,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    check_dns(credential_of(&body));

    // 4. CCE pod identity, both endpoints.
    let pod = &seed.pod_identities[0];
    let url = sim.pod_credentials_url();
    let path = url.strip_prefix(&sim.base_url()).unwrap();
    assert_eq!(path, "/cce/pod-credentials");
    let (status, _, body) = http(
        &sim,
        "POST",
        path,
        &[header_pair("Authorization", &pod.token), json_type.clone()],
        "{}",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    check_dns(credential_of(&body));
    let (status, _, body) = http(
        &sim,
        "POST",
        &format!(
            "/api/v3/projects/{}/clusters/{}/assume-agency-for-pod-identity",
            pod.project_id, pod.cluster_id
        ),
        std::slice::from_ref(&json_type),
        &json!({"token": pod.token}).to_string(),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    check_dns(credential_of(&body));

    // The state says where each key came from.
    let state = sim.state_json();
    let via = |ak: &Value| {
        state["credentials"]["temporary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["access"] == *ak)
            .map(|t| t["via"].as_str().unwrap().to_string())
            .unwrap()
    };
    let vias: Vec<String> = issued.iter().map(|c| via(&c["access"])).collect();
    assert_eq!(vias, ["assume_role", "token", "oidc", "cce", "cce"]);
    assert_eq!(state["iam"]["tokens"].as_array().unwrap().len(), 2);

    // The log tells the paths apart.
    let log = sim.log_json();
    let entries: Vec<(String, u64, Option<String>, bool)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().starts_with("/v2/"))
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap(),
                r["auth"].as_str().map(str::to_string),
                r["issued"].is_string(),
            )
        })
        .collect();
    let st = "/v3.0/OS-CREDENTIAL/securitytokens".to_string();
    let a = |s: &str| Some(s.to_string());
    assert_eq!(entries[0], (st.clone(), 201, a("aksk"), true));
    assert_eq!(entries[1], (st.clone(), 403, a("aksk"), false));
    assert_eq!(
        entries[2],
        ("/v3/auth/tokens".into(), 201, a("aksk"), false)
    );
    assert_eq!(entries[3], (st.clone(), 201, a("token"), true));
    assert_eq!(entries[5].2, a("id_token"));
    assert_eq!(entries[6], (st, 201, a("token"), true));
    assert_eq!(entries[7].2, a("sa_token"));
    assert_eq!(log["requests"][0]["access_key"], perm["access"]);
    assert_eq!(log["requests"][0]["issued"], issued[0]["access"]);

    // Every secret and token is known to secrets() and shown nowhere.
    let secrets = sim.secrets();
    let mut must_know: Vec<String> = vec![
        agency_token,
        oidc_token,
        oidc.id_token.clone(),
        pod.token.clone(),
    ];
    for c in &issued {
        must_know.push(c["secret"].as_str().unwrap().to_string());
        must_know.push(c["securitytoken"].as_str().unwrap().to_string());
    }
    let shown = format!("{} {}", sim.log_json(), sim.state_json());
    for s in &must_know {
        assert!(secrets.contains(s), "secrets() lacks one");
        assert!(
            !shown.contains(s.as_str()),
            "a secret is in the log or state"
        );
    }
    let (_, _, body) = http(&sim, "GET", "/_sim/state", &[], "").unwrap();
    assert!(must_know.iter().all(|s| !body.contains(s.as_str())));
}
