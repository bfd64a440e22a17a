//! Every credential source end to end: the DNS calls really carry the derived
//! credentials (seen in the simulator's log), and proxies are used for the
//! cloud APIs but never for the metadata service.

mod common;

use common::cloud::Cloud;
use common::hostile::{Hostile, json};
use common::proxy::Proxy;
use common::*;
use otc_sim::Sim;
use serde_json::{Value, json};

const STATIC_AK: &str = "AKSTATIC000000000001";
const STATIC_SK: &str = "SKstatic-secret-0000000000000000000000001";
const POD_TOKEN: &str = "pod-sa-token-0001";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-0001.sig";

fn seed() -> Value {
    let mut s = base_seed();
    s["agencies"] = json!([{"name": "dns-agency", "domain_name": "partner",
        "domain_id": "d0000000000000000000000000000001", "trusted_access_keys": ["*"]}]);
    s["oidc"] = json!([{"idp_id": "cce-idp", "id_token": OIDC_TOKEN, "project_id": "p0000000000000000000000000000001"}]);
    s["pod_identities"] = json!([{"token": POD_TOKEN, "project_id": "p0000000000000000000000000000001",
        "cluster_id": "c0000000000000000000000000000001"}]);
    s
}

fn log_requests(sim: &Sim) -> Vec<Value> {
    sim.log_json()["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The access key every DNS API request was signed with (all must agree).
fn dns_key(sim: &Sim) -> String {
    let keys: Vec<String> = log_requests(sim)
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/v2/")))
        .map(|r| r["access_key"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!keys.is_empty(), "no DNS request logged");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    keys[0].clone()
}

/// The temporary access key issued by the request at `path` (the last one).
fn issued_by(sim: &Sim, path: &str) -> String {
    log_requests(sim)
        .iter()
        .rev()
        .find(|r| r["path"] == path && r["issued"].is_string())
        .unwrap_or_else(|| panic!("nothing issued at {path}: {:?}", log_requests(sim)))["issued"]
        .as_str()
        .unwrap()
        .to_string()
}

fn via(sim: &Sim, ak: &str) -> String {
    let state = sim.state_json();
    state["credentials"]["temporary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["access"] == ak || c["access_key"] == ak)
        .map(|c| c["via"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn auth_with(sim: &Sim, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut hooks = Cloud::Otc
        .certbot(sim)
        .hook_args(["-v"])
        .hook_args(args.iter().copied());
    for (k, v) in envs {
        hooks = hooks.env(k, v);
    }
    let mut c = hooks
        .env("OTC_IAM_ENDPOINT", sim.base_url())
        .env("OTC_CCE_ENDPOINT", sim.base_url())
        .lone("auth", "example.test", "v-identity");
    run(sim, &mut c)
}

const NO_METADATA: (&str, &str) = (
    "OTC_METADATA_URL",
    "http://127.0.0.1:1/openstack/latest/securitykey",
);

#[test]
fn metadata_credentials_sign_the_dns_calls() {
    let sim = start(seed());
    let r = auth_with(&sim, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = dns_key(&sim);
    assert_eq!(key, issued_by(&sim, "/openstack/latest/securitykey"));
    assert_eq!(via(&sim, &key), "metadata");
}

#[test]
fn flags_and_environment_sign_the_dns_calls() {
    let sim = start(seed());
    let r = auth_with(
        &sim,
        &["--ak", STATIC_AK, "--sk", STATIC_SK],
        &[NO_METADATA],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("credentials from flags"), "{}", r.stderr);
    assert_eq!(dns_key(&sim), STATIC_AK);
    let sim = start(seed());
    let r = auth_with(
        &sim,
        &[],
        &[
            NO_METADATA,
            ("OS_ACCESS_KEY", STATIC_AK),
            ("OS_SECRET_KEY", STATIC_SK),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from environment"),
        "{}",
        r.stderr
    );
    assert_eq!(dns_key(&sim), STATIC_AK);
}

#[test]
fn delegated_agency_with_aksk_signed_assume_role() {
    let sim = start(seed());
    let r = auth_with(
        &sim,
        &[
            "--agency-name",
            "dns-agency",
            "--agency-domain-name",
            "partner",
        ],
        &[
            NO_METADATA,
            ("OS_ACCESS_KEY", STATIC_AK),
            ("OS_SECRET_KEY", STATIC_SK),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("assumed with AK/SK-signed securitytokens (assume_role)"),
        "{}",
        r.stderr
    );
    let key = dns_key(&sim);
    assert_ne!(
        key, STATIC_AK,
        "DNS calls carry the agency's keys, not the base keys"
    );
    assert_eq!(key, issued_by(&sim, "/v3.0/OS-CREDENTIAL/securitytokens"));
    assert_eq!(via(&sim, &key), "assume_role");
}

#[test]
fn delegated_agency_falls_back_to_otc_token_path() {
    let mut s = seed();
    s["iam_aksk_assume_role"] = json!(false);
    let sim = start(s);
    // Base credentials from metadata this time, agency by domain id.
    let r = auth_with(
        &sim,
        &[
            "--agency-name",
            "dns-agency",
            "--agency-domain-id",
            "d0000000000000000000000000000001",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("AK/SK securitytokens refused (HTTP 403); trying auth/tokens"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("assumed with auth/tokens (assume_role) then securitytokens (token)"),
        "{}",
        r.stderr
    );
    let key = dns_key(&sim);
    assert_eq!(key, issued_by(&sim, "/v3.0/OS-CREDENTIAL/securitytokens"));
    assert_eq!(via(&sim, &key), "token");
    assert!(
        log_requests(&sim)
            .iter()
            .any(|r| r["path"] == "/v3/auth/tokens" && r["status"] == 201)
    );
}

#[test]
fn unknown_agency_fails_with_a_hint() {
    let sim = start(seed());
    let r = auth_with(
        &sim,
        &["--agency-name", "nope", "--agency-domain-name", "partner"],
        &[],
    );
    assert_eq!(r.code, 1);
    let last = r.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("otc-acme-hook: credentials: IAM assume_role: HTTP 404"),
        "{last}"
    );
    assert!(last.contains("--agency-name"), "{last}");
}

fn token_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("otc-id-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("token");
    std::fs::write(&p, format!("{content}\n")).unwrap();
    p
}

#[test]
fn cce_pod_identity_through_the_container_credentials_uri() {
    let sim = start(seed());
    let file = token_file("hc", POD_TOKEN);
    let r = auth_with(
        &sim,
        &[],
        &[
            NO_METADATA,
            (
                "HC_CONTAINER_CREDENTIALS_FULL_URI",
                &sim.pod_credentials_url(),
            ),
            (
                "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                file.to_str().unwrap(),
            ),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from container identity"),
        "{}",
        r.stderr
    );
    let key = dns_key(&sim);
    assert_eq!(key, issued_by(&sim, "/cce/pod-credentials"));
    assert_eq!(via(&sim, &key), "cce");
}

#[test]
fn cce_pod_identity_through_assume_agency_for_pod_identity() {
    let sim = start(seed());
    let file = token_file("cce", POD_TOKEN);
    let r = auth_with(
        &sim,
        &[
            "--cce-project-id",
            "p0000000000000000000000000000001",
            "--cce-cluster-id",
            "c0000000000000000000000000000001",
            "--cce-token-file",
            file.to_str().unwrap(),
        ],
        &[NO_METADATA],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = dns_key(&sim);
    assert_eq!(
        key,
        issued_by(
            &sim,
            "/api/v3/projects/p0000000000000000000000000000001/clusters/c0000000000000000000000000000001/assume-agency-for-pod-identity"
        )
    );
    assert_eq!(via(&sim, &key), "cce");
    // A wrong token is an error of the configured source, not a silent fall-through.
    let bad = token_file("bad", "not-the-token");
    let r = auth_with(
        &sim,
        &[
            "--cce-project-id",
            "p0000000000000000000000000000001",
            "--cce-cluster-id",
            "c0000000000000000000000000000001",
        ],
        &[("OTC_CCE_TOKEN_FILE", bad.to_str().unwrap())],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("CCE assume-agency-for-pod-identity answered HTTP 401"),
        "{}",
        r.stderr
    );
}

#[test]
fn oidc_workload_identity() {
    let sim = start(seed());
    let file = token_file("oidc", OIDC_TOKEN);
    let r = auth_with(
        &sim,
        &[
            "--idp-id",
            "cce-idp",
            "--id-token-file",
            file.to_str().unwrap(),
            "--project-id",
            "p0000000000000000000000000000001",
        ],
        &[NO_METADATA],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("OIDC workload identity via IdP cce-idp"),
        "{}",
        r.stderr
    );
    let key = dns_key(&sim);
    assert_eq!(via(&sim, &key), "oidc");
    // Half configured: refused before any call.
    let sim = start(seed());
    let r = auth_with(&sim, &["--idp-id", "cce-idp"], &[NO_METADATA]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(requests(&sim).is_empty());
}

#[test]
fn expiring_temporary_credentials_are_fetched_again_once() {
    let mut s = seed();
    s["credential_ttl_secs"] = json!(3);
    let sim = start(s);
    // The set stays PENDING for 3.5 s after its creation, which comes after the first
    // fetch, so the first credentials always expire while the hook waits. The fresh ones
    // are fetched at the earliest 3 s after the first and live 3 s more; the hook sees
    // ACTIVE at most one poll (1 s) after the 3.5 s, so one refresh is enough with ~1.5 s
    // to spare on a loaded machine (2 s / 3 s left none: CI saw a second 401).
    configure(&sim, json!({"pending_delay_ms": 3500}));
    let r = auth_with(&sim, &["--no-dns-check"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("HTTP 401: fetched fresh credentials from ECS agency"),
        "{}",
        r.stderr
    );
    let metadata_fetches = log_requests(&sim)
        .iter()
        .filter(|r| r["path"] == "/openstack/latest/securitykey")
        .count();
    assert!(metadata_fetches >= 2, "{metadata_fetches}");
    assert_eq!(
        requests(&sim).iter().filter(|(_, _, s)| *s == 401).count(),
        1
    );
    assert_foreign_intact(&sim);
}

#[test]
fn proxy_carries_the_api_but_never_the_metadata_service() {
    let sim = start(seed());
    let port = sim.http_addr().port();
    // A remote API goes through the proxy (its CONNECT line shows where to); the
    // metadata service (by name here) never does. The proxy can't reach the
    // made-up host, so the run fails after the CONNECT: no traffic leaves the machine.
    let proxy = Proxy::start();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env(
            "OTC_METADATA_URL",
            format!("http://localhost:{port}/openstack/latest/securitykey"),
        )
        .env("OTC_DNS_ENDPOINT", "https://dns.proxied.invalid")
        .env("HTTPS_PROXY", proxy.url())
        .hook_args(["--retries", "0"])
        .lone("auth", "example.test", "v-proxy");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let seen = proxy.seen();
    assert!(
        seen.iter().any(|s| s.contains("dns.proxied.invalid:443")),
        "API not proxied: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| s.contains("localhost")),
        "metadata went through the proxy: {seen:?}"
    );
    // NO_PROXY exempts the API host.
    let proxy = Proxy::start();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_DNS_ENDPOINT", "https://dns.proxied.invalid")
        .env("HTTPS_PROXY", proxy.url())
        .env("NO_PROXY", "proxied.invalid")
        .hook_args(["--retries", "0"])
        .lone("auth", "example.test", "v-proxy2");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    // A loopback endpoint (the simulator here) never goes through a proxy.
    let proxy = Proxy::start();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("HTTPS_PROXY", proxy.url())
        .lone("auth", "example.test", "v-proxy3");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
}

#[test]
fn the_pod_token_never_goes_through_a_proxy() {
    let mut seed = base_seed();
    seed["metadata"] = json!({"enabled": false});
    seed["pod_identities"] =
        json!([{"token": "pod-sa-token-never-proxied", "project_id": "p1", "cluster_id": "c1"}]);
    let sim = start(seed);
    let token =
        std::env::temp_dir().join(format!("otc-id-{}-pod-token-proxied", std::process::id()));
    std::fs::write(&token, "pod-sa-token-never-proxied").unwrap();
    let proxy = proxy::Proxy::start();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("HTTPS_PROXY", proxy.url())
        .env("HTTP_PROXY", proxy.url())
        .env(
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            sim.pod_credentials_url(),
        )
        .env("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token)
        .lone("auth", "example.test", "v-pod");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
}

#[test]
fn error_answers_of_the_metadata_service_never_quote_a_credential_document() {
    let doc = r#"{"credential":{"access":"AKLEAK0000","secret":"SKLEAK-secret-value","securitytoken":"TOKLEAK-token-value","expires_at":"2030-01-01T00:00:00Z"}}"#;
    for status in [500, 203] {
        let server = Hostile::start(move |m, _| match m {
            "PUT" => json(404, "{}"),
            _ => json(status, doc),
        });
        let sim = start(base_seed());
        let mut c = Cloud::Otc
            .certbot(&sim)
            .env(
                "OTC_METADATA_URL",
                format!("{}/openstack/latest/securitykey", server.url()),
            )
            .lone("auth", "example.test", "v-meta");
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains(&format!("HTTP {status}")), "{}", r.stderr);
        for s in ["SKLEAK", "TOKLEAK"] {
            assert!(
                !r.stderr.contains(s) && !r.stdout.contains(s),
                "{}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_reset_or_stalled_metadata_token_request_falls_back_to_the_plain_get() {
    let sim = start(base_seed());
    for fault in [
        json!({"kind": "reset"}),
        json!({"kind": "slow", "ms": 5000}),
    ] {
        let mut f = fault.clone();
        f["method"] = json!("PUT");
        f["path_prefix"] = json!("/meta-data/");
        configure(&sim, json!({"faults": [f]}));
        let r = certbot_one(&sim, "auth", "example.test", "v-token-fallback");
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    certbot_one(&sim, "cleanup", "example.test", "v-token-fallback");
}

#[cfg(unix)]
#[test]
fn credentials_file_source() {
    use std::os::unix::fs::PermissionsExt;
    let sim = start(base_seed());
    let dir = std::env::temp_dir().join(format!("otc-cf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials");
    std::fs::write(
        &path,
        "# test\naccess_key = AKSTATIC000000000001\nsecret_key = SKstatic-secret-0000000000000000000000001\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let p = path.to_str().unwrap();
    let r = lone_auth(&sim, &["--credentials-file", p]);
    assert_eq!(r.code, 2, "group-readable file refused: {}", r.stderr);
    assert!(r.stderr.contains(&format!("chmod 600 {p}")), "{}", r.stderr);
    assert!(requests(&sim).is_empty());

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_CREDENTIALS_FILE", p)
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .hook_args(["-v"])
        .lone("auth", "example.test", "v-file");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from credentials file"),
        "{}",
        r.stderr
    );
    let keys: Vec<String> = sim.log_json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["access_key"].as_str().map(str::to_string))
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "AKSTATIC000000000001"),
        "{keys:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn forced_source_and_skipped_sources_message() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .lone("auth", "example.test", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    let line = r.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for part in [
        "flags: no --ak/--sk",
        "environment: no OS_ACCESS_KEY",
        "credentials file: no --credentials-file",
        "container identity: no",
        "ECS metadata: ",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    // Forcing the file source while keys sit in the environment: refused before any call.
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .hook_args(["--credentials", "file"])
        .lone("auth", "example.test", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("forced by --credentials"), "{}", r.stderr);
    // Forcing metadata ignores keys in the environment.
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .hook_args(["--credentials", "metadata", "-v"])
        .lone("auth", "example.test", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from ECS agency"),
        "{}",
        r.stderr
    );
}

/// A "proxy" that records the first request line and refuses it: shows where a
/// request was headed without any traffic leaving the machine.
fn refusing_proxy() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming().take(4) {
            let Ok(mut s) = conn else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&s).read_line(&mut line);
            let _ = tx.send(line.trim().to_string());
            let _ = s.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, rx)
}

#[test]
fn huawei_cloud_profile_sets_default_endpoints_and_explicit_ones_win() {
    let sim = start(base_seed());
    let (proxy, seen) = refusing_proxy();
    // Where the default DNS endpoint points, per profile; OTC keeps public DNS in
    // eu-de whatever the region.
    let cases: [(&[&str], &str); 2] = [
        (
            &["--cloud", "huawei", "--region", "ap-southeast-1"],
            "dns.ap-southeast-1.myhuaweicloud.com:443",
        ),
        (&["--region", "eu-nl"], "dns.eu-de.otc.t-systems.com:443"),
    ];
    for (profile, host) in cases {
        let mut c = cmd(&sim);
        c.env_remove("OTC_DNS_ENDPOINT")
            .env("HTTPS_PROXY", &proxy)
            .args(["api", "GET", "/v2/zones", "--retries", "0"])
            .args(profile);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 1);
        let line = seen
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(line, format!("CONNECT {host} HTTP/1.1"));
    }
    // An explicit endpoint wins over the profile.
    let mut c = cmd(&sim);
    c.args(["api", "GET", "/v2/zones", "--cloud", "huawei"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
