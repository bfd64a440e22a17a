//! No secret in any printed line, whatever the server sends (issue 18 item 5).
//!
//! Hostile servers for every credential endpoint (OTC and NCP metadata, OVH's
//! token endpoint, IAM, CCE) and a DNS API of each cloud answer errors that
//! embed each secret the run holds: in the message, in a nested document,
//! and by echoing the request (headers and body). The built binary runs with
//! a cleared environment; no secret (nor a credential header's value) may
//! appear on stdout or stderr, and the line must still say what went wrong.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::BIN;
use serde_json::{Value, json};

/// One request as the server read it.
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
    /// How many requests with this method and path came before.
    n: usize,
}

impl Req {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }
    /// The request as a server echoing it would quote it: the credential
    /// headers first (tokens, then signatures), then the body, then the rest,
    /// so the part a client quotes (its first 200 characters) holds them.
    fn echo(&self) -> String {
        let rank = |k: &str| {
            CREDENTIAL_HEADERS
                .iter()
                .rev()
                .position(|c| c.eq_ignore_ascii_case(k))
        };
        let mut creds: Vec<&(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| rank(k).is_some())
            .collect();
        creds.sort_by_key(|(k, _)| rank(k));
        let line = |(k, v): &&(String, String)| format!("{k}: {v}");
        let creds: Vec<String> = creds.iter().map(line).collect();
        let rest: Vec<String> = self
            .headers
            .iter()
            .filter(|(k, _)| rank(k).is_none())
            .map(|h| line(&h))
            .collect();
        format!(
            "{}\n{}\n{} {}\n{}",
            creds.join("\n"),
            self.body,
            self.method,
            self.target,
            rest.join("\n")
        )
    }
}

type Answer = (u16, Vec<(String, String)>, String);

/// Request headers that carry a credential, whose values must never be printed.
const CREDENTIAL_HEADERS: [&str; 8] = [
    "Authorization",
    "X-Ovh-Signature",
    "X-Ovh-Consumer",
    "x-ncp-apigw-signature-v2",
    "X-Auth-Token",
    "X-Security-Token",
    "X-Metadata-Token",
    "X-NCP-METADATA-TOKEN",
];

struct Server {
    url: String,
    /// The credential parts of the requests' headers (a bearer token, a signature).
    sent: Arc<Mutex<Vec<String>>>,
}

/// Serves `handler` on loopback until the test ends.
fn serve(handler: impl Fn(&Req) -> Answer + Send + Sync + 'static) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let sent = Arc::new(Mutex::new(Vec::new()));
    let counts: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let log = sent.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let len = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0usize);
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("").to_string();
            for (k, v) in &headers {
                if CREDENTIAL_HEADERS.iter().any(|c| c.eq_ignore_ascii_case(k)) {
                    // `Bearer T`, `SDK-HMAC-SHA256 Access=…, Signature=S`: the last part.
                    let last = v.rsplit([' ', '=']).find(|p| !p.is_empty()).unwrap_or(v);
                    log.lock().unwrap().push(last.to_string());
                    log.lock().unwrap().push(v.clone());
                }
            }
            let key = format!("{method} {}", target.split('?').next().unwrap_or(""));
            let n = {
                let mut c = counts.lock().unwrap();
                c.push(key.clone());
                c.iter().filter(|k| **k == key).count() - 1
            };
            let req = Req {
                method,
                target,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                n,
            };
            let (status, extra, body) = handler(&req);
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = s.write_all(out.as_bytes());
        }
    });
    Server { url, sent }
}

fn json_answer(status: u16, v: Value) -> Answer {
    (
        status,
        vec![("Content-Type".into(), "application/json".into())],
        v.to_string(),
    )
}

/// How a hostile answer carries the secrets.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// In the message's free text.
    Message,
    /// In a credential document quoted inside the message.
    Nested,
    /// The request echoed: its headers and body.
    Echo,
}

const MODES: [Mode; 3] = [Mode::Message, Mode::Nested, Mode::Echo];

/// The message a hostile server answers with.
fn leak(mode: Mode, secrets: &[&str], req: &Req) -> String {
    match mode {
        Mode::Message => format!("request refused: {} are not valid", secrets.join(" and ")),
        // Each secret once under its name, once under none.
        Mode::Nested => format!(
            "failed: {}",
            json!({"credentials": secrets.iter().map(|s| json!({"secret": s})).collect::<Vec<_>>(),
                   "data": {"items": secrets}})
        ),
        Mode::Echo => format!("your request was:\n{}", req.echo()),
    }
}

/// A command with nothing of the developer's environment and no retries.
fn cmd(name: &str) -> Command {
    let dir = std::env::temp_dir().join(format!("otc-nosecret-{}-{name}", std::process::id()));
    common::private_dir(&dir);
    let mut c = Command::new(BIN);
    c.env_clear()
        .current_dir(&dir)
        .env("OTC_LOCK_DIR", dir.join("state"))
        .env("OTC_HTTP_TIMEOUT", "5")
        .env("OTC_RETRIES", "0")
        .env("OTC_PROPAGATION_TIMEOUT", "5")
        .env("OTC_METADATA_URL", "http://127.0.0.1:1/nothing");
    common::cloud::challenge_on(&mut c, "auth", "example.test", "v-nosecret", None, None);
    c
}

fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otc-nosecret-{}-files", std::process::id()));
    common::private_dir(&dir);
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Percent-encoded, as a form body carries a value.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs `c`; fails if any secret (raw or percent-encoded) or any credential
/// header's value shows on stdout or stderr, or if stderr does not say `says`.
fn run_clean(c: &mut Command, server: &Server, secrets: &[&str], says: &str, what: &str) {
    let out = c.output().expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut forbidden: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    forbidden.extend(secrets.iter().map(|s| pct(s)));
    forbidden.extend(
        server
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.len() >= 8)
            .cloned(),
    );
    for s in &forbidden {
        assert!(
            !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
            "{what}: {s:?} printed\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    eprintln!("{what}: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.contains(says), "{what}: {says:?} not said: {stderr}");
}

// ---- NCP metadata ----

const NCP_META: &str = "/latest/meta-data/iam/security-credentials";
const NCP_SK: &str = "ncpSECRETkey/+0123456789abcdefghijABCDEFG";
const NCP_META_TOKEN: &str = "NCPMETATOKEN-0123456789abcdef";

#[test]
fn ncp_metadata_error_embedding_the_credential_document_prints_no_secret() {
    // Why: "an NCP metadata error {code,message} whose message embeds the
    // credential document prints SecretAccessKey".
    for (mode, held_earlier) in MODES
        .iter()
        .map(|m| (*m, false))
        .chain([(Mode::Message, true)])
    {
        let server = serve(move |r| match (r.method.as_str(), r.path()) {
            ("PUT", "/latest/api/token") => (200, vec![], NCP_META_TOKEN.into()),
            ("GET", NCP_META) => (200, vec![], "role1\n".into()),
            ("GET", p) if p == format!("{NCP_META}/role1") => {
                // Keys first when the run must hold them; then the refused document.
                if held_earlier && r.n == 0 {
                    return json_answer(
                        200,
                        json!({"Code":"Success","AccessKeyId":"ncpTEMPAK01","SecretAccessKey":NCP_SK,
                               "Expiration":"2099-01-01T00:00:00Z"}),
                    );
                }
                let message = match (mode, held_earlier) {
                    // The key is held from the first answer: only its value says it.
                    (_, true) => format!("keys {NCP_SK} were revoked"),
                    (Mode::Nested, _) => format!(
                        "could not issue: {}",
                        json!({"AccessKeyId":"ncpTEMPAK01","SecretAccessKey":NCP_SK,
                               "Expiration":"2099-01-01T00:00:00Z"})
                    ),
                    _ => leak(mode, &[NCP_SK, NCP_META_TOKEN], r),
                };
                let mut doc = json!({"Code":"Failure","Message":message});
                if matches!(mode, Mode::Message) && !held_earlier {
                    doc["SecretAccessKey"] = json!(NCP_SK);
                }
                json_answer(200, doc)
            }
            // Global DNS: the keys are refused, so the run asks the metadata again.
            _ => json_answer(
                401,
                json!({"error":{"errorCode":"200","message":"Authentication Failed"}}),
            ),
        });
        let mut c = cmd("ncp-meta");
        c.env("OTC_CLOUD", "ncp")
            .env("OTC_DNS_ENDPOINT", format!("{}/dns/v1", server.url))
            .env("OTC_METADATA_URL", format!("{}{NCP_META}", server.url));
        let what = format!("{mode:?}, held earlier: {held_earlier}");
        run_clean(&mut c, &server, &[NCP_SK, NCP_META_TOKEN], "Failure", &what);
    }
}

// ---- OTC metadata ----

const OTC_META: &str = "/openstack/latest/securitykey";
const OTC_META_SK: &str = "otcMETAsecret/0123456789abcdefghijKLMNOP";
const OTC_META_ST: &str = "otcMETAsecuritytoken+0123456789abcdefghijklmnopqrstuvwxyz";
const OTC_META_TOKEN: &str = "OTCMETATOKEN-0123456789abcdef";

#[test]
fn otc_metadata_errors_print_no_secret() {
    for (mode, held_earlier) in MODES
        .iter()
        .map(|m| (*m, false))
        .chain([(Mode::Message, true)])
    {
        let server = serve(move |r| match (r.method.as_str(), r.path()) {
            ("PUT", "/meta-data/latest/api/token") => (200, vec![], OTC_META_TOKEN.into()),
            ("GET", OTC_META) => {
                if held_earlier && r.n == 0 {
                    return json_answer(
                        200,
                        json!({"credential":{"access":"OTCMETAAK0001","secret":OTC_META_SK,
                            "securitytoken":OTC_META_ST,"expires_at":"2099-01-01T00:00:00Z"}}),
                    );
                }
                let secrets = [OTC_META_SK, OTC_META_ST, OTC_META_TOKEN];
                let message = if held_earlier {
                    format!("{OTC_META_SK} / {OTC_META_ST} were revoked")
                } else {
                    leak(mode, &secrets, r)
                };
                let mut doc = json!({"code":"ECS.5000","message":message});
                if matches!(mode, Mode::Message) && !held_earlier {
                    doc["credential"] = json!({"access":"OTCMETAAK0001","secret":OTC_META_SK,"securitytoken":OTC_META_ST});
                }
                json_answer(500, doc)
            }
            _ => json_answer(
                401,
                json!({"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}),
            ),
        });
        let mut c = cmd("otc-meta");
        c.env("OTC_DNS_ENDPOINT", &server.url)
            .env("OTC_METADATA_URL", format!("{}{OTC_META}", server.url));
        let what = format!("{mode:?}, held earlier: {held_earlier}");
        let secrets = [OTC_META_SK, OTC_META_ST, OTC_META_TOKEN];
        run_clean(&mut c, &server, &secrets, "ECS.5000", &what);
    }
}

// ---- OVH ----

const OVH_CS: &str = "ovhCLIENTsecret/s3cr&t+0123456789abcdef";
const OVH_BEARER: &str = "eyJovhBEARERtoken.0123456789abcdefghij.klmnopqrst";
const OVH_AS: &str = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF";
const OVH_CK: &str = "MtSwSrPpNjqfVSmJhLbPyr2i45lSDTLL";

fn ovh_cmd(name: &str, server: &Server) -> Command {
    let mut c = cmd(name);
    c.env("OTC_CLOUD", "ovh")
        .env("OTC_DNS_ENDPOINT", format!("{}/1.0", server.url))
        .env(
            "OTC_TOKEN_ENDPOINT",
            format!("{}/auth/oauth2/token", server.url),
        )
        .env_remove("OTC_METADATA_URL");
    c
}

#[test]
fn ovh_token_endpoint_errors_print_no_client_secret() {
    for mode in MODES {
        let server = serve(move |r| {
            json_answer(
                400,
                json!({"error":"invalid_request","error_description":leak(mode, &[OVH_CS], r)}),
            )
        });
        let mut c = ovh_cmd("ovh-token", &server);
        c.env("OVH_CLIENT_ID", "ovh-client-id-0001")
            .env("OVH_CLIENT_SECRET", OVH_CS);
        let what = format!("{mode:?}");
        run_clean(&mut c, &server, &[OVH_CS], "invalid_request", &what);
    }
}

#[test]
fn ovh_api_errors_echoing_the_bearer_print_no_token() {
    // Why: "an OVH API error echoing Authorization: Bearer … prints the token".
    for mode in MODES {
        let server = serve(move |r| match r.path() {
            "/auth/oauth2/token" => json_answer(
                200,
                json!({"access_token":OVH_BEARER,"token_type":"Bearer","expires_in":3600}),
            ),
            _ => json_answer(
                400,
                json!({"class":"Client::BadRequest","message":leak(mode, &[OVH_BEARER, OVH_CS], r)}),
            ),
        });
        let mut c = ovh_cmd("ovh-dns", &server);
        c.env("OVH_CLIENT_ID", "ovh-client-id-0001")
            .env("OVH_CLIENT_SECRET", OVH_CS);
        let what = format!("{mode:?}");
        run_clean(
            &mut c,
            &server,
            &[OVH_BEARER, OVH_CS],
            "Client::BadRequest",
            &what,
        );
    }
}

#[test]
fn ovh_api_errors_echoing_classic_keys_print_no_key() {
    for mode in MODES {
        let server = serve(move |r| match r.path() {
            "/1.0/auth/time" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                (200, vec![], now.to_string())
            }
            _ => json_answer(
                400,
                json!({"class":"Client::BadRequest","message":leak(mode, &[OVH_AS, OVH_CK], r)}),
            ),
        });
        let mut c = ovh_cmd("ovh-classic", &server);
        c.env("OVH_APPLICATION_KEY", "ovhAPPkey0001")
            .env("OVH_APPLICATION_SECRET", OVH_AS)
            .env("OVH_CONSUMER_KEY", OVH_CK);
        let what = format!("{mode:?}");
        run_clean(
            &mut c,
            &server,
            &[OVH_AS, OVH_CK],
            "Client::BadRequest",
            &what,
        );
    }
}

// ---- NCP Global DNS ----

#[test]
fn ncp_api_errors_print_no_secret_key() {
    for mode in MODES {
        let server = serve(move |r| {
            json_answer(
                400,
                json!({"error":{"errorCode":"77777","message":leak(mode, &[NCP_SK], r)}}),
            )
        });
        let mut c = cmd("ncp-dns");
        c.env("OTC_CLOUD", "ncp")
            .env("OTC_DNS_ENDPOINT", format!("{}/dns/v1", server.url))
            .env("NCLOUD_ACCESS_KEY_ID", "ncp_iam_BPAMKRNOSECRET01")
            .env("NCLOUD_SECRET_ACCESS_KEY", NCP_SK);
        let what = format!("{mode:?}");
        run_clean(&mut c, &server, &[NCP_SK], "77777", &what);
    }
}

// ---- OTC DNS, IAM, CCE ----

const OTC_SK: &str = "otcSECRETkey/0123456789abcdefghijABCDEFGH";
const OTC_ST: &str = "otcSECURITYtoken+0123456789abcdefghijklmnopqrstuvwxyz";
const IAM_TOKEN: &str = "MIIotcIAMsubjectTOKEN-0123456789abcdefghijklmnop";
const POD_TOKEN: &str = "eyJpodSERVICEaccountTOKEN.0123456789abcdef.ghijklmnop";

#[test]
fn otc_api_errors_print_no_secret_key_or_token() {
    // JSON answers in each mode, then a plain-text answer echoing the request.
    for (mode, text) in MODES
        .iter()
        .map(|m| (*m, false))
        .chain([(Mode::Echo, true)])
    {
        let server = serve(move |r| {
            if text {
                return (400, vec![], format!("DNS.9999 refused; {}", r.echo()));
            }
            json_answer(
                400,
                json!({"code":"DNS.9999","message":leak(mode, &[OTC_SK, OTC_ST], r)}),
            )
        });
        let mut c = cmd("otc-dns");
        c.env("OTC_DNS_ENDPOINT", &server.url)
            .env("OS_ACCESS_KEY", "OTCAKNOSECRET0001")
            .env("OS_SECRET_KEY", OTC_SK)
            .env("OS_SECURITY_TOKEN", OTC_ST);
        let what = format!("{mode:?}, text: {text}");
        run_clean(&mut c, &server, &[OTC_SK, OTC_ST], "DNS.9999", &what);
    }
}

#[test]
fn iam_agency_errors_print_no_secret_key_or_iam_token() {
    for mode in MODES {
        let server = serve(move |r| match r.path() {
            "/v3.0/OS-CREDENTIAL/securitytokens" if r.header("X-Auth-Token").is_none() => {
                json_answer(
                    403,
                    json!({"error":{"code":"IAM.0002","message":leak(mode, &[OTC_SK], r)}}),
                )
            }
            "/v3/auth/tokens" => (
                201,
                vec![("X-Subject-Token".into(), IAM_TOKEN.into())],
                json!({"token":{"expires_at":"2099-01-01T00:00:00Z"}}).to_string(),
            ),
            _ => json_answer(
                400,
                json!({"error":{"code":"IAM.0101","message":leak(mode, &[IAM_TOKEN, OTC_SK], r)}}),
            ),
        });
        let mut c = cmd("iam");
        c.args([
            "--agency-name",
            "dns-agency",
            "--agency-domain-name",
            "partner",
        ])
        .env("OTC_IAM_ENDPOINT", &server.url)
        .env("OTC_DNS_ENDPOINT", &server.url)
        .env("OS_ACCESS_KEY", "OTCAKNOSECRET0001")
        .env("OS_SECRET_KEY", OTC_SK);
        let what = format!("{mode:?}");
        run_clean(
            &mut c,
            &server,
            &[OTC_SK, IAM_TOKEN],
            "IAM securitytokens (token)",
            &what,
        );
    }
}

#[test]
fn cce_token_exchange_errors_print_no_pod_token() {
    let token = file("pod-token", &format!("{POD_TOKEN}\n"));
    for mode in MODES {
        let server = serve(move |r| {
            json_answer(
                400,
                json!({"error_code":"CCE.01400001","error_msg":leak(mode, &[POD_TOKEN], r)}),
            )
        });
        let mut c = cmd("cce");
        c.args([
            "--cce-project-id",
            "p0000000000000000000000000000001",
            "--cce-cluster-id",
            "c0000000000000000000000000000001",
            "--cce-token-file",
            token.to_str().unwrap(),
        ])
        .env("OTC_CCE_ENDPOINT", &server.url)
        .env("OTC_DNS_ENDPOINT", &server.url);
        let what = format!("{mode:?}");
        run_clean(
            &mut c,
            &server,
            &[POD_TOKEN],
            "CCE assume-agency-for-pod-identity",
            &what,
        );
    }
}

// ---- api ----

/// `api GET` of an echoing server, for each cloud's way of authorizing.
#[test]
fn api_redacts_credential_headers_and_held_values() {
    // Why: "`api` prints Authorization, X-Ovh-Signature, x-ncp-apigw-signature-v2 in full".
    type Setup = fn(&mut Command);
    let clouds: [(&str, &[&str], Setup); 4] = [
        ("otc", &[OTC_SK, OTC_ST], |c| {
            c.env("OS_ACCESS_KEY", "OTCAKNOSECRET0001")
                .env("OS_SECRET_KEY", OTC_SK)
                .env("OS_SECURITY_TOKEN", OTC_ST);
        }),
        ("ovh", &[OVH_AS, OVH_CK], |c| {
            c.env("OTC_CLOUD", "ovh")
                .env("OVH_APPLICATION_KEY", "ovhAPPkey0001")
                .env("OVH_APPLICATION_SECRET", OVH_AS)
                .env("OVH_CONSUMER_KEY", OVH_CK);
        }),
        ("ovh-bearer", &[OVH_BEARER], |c| {
            c.env("OTC_CLOUD", "ovh")
                .env("OVH_ACCESS_TOKEN", OVH_BEARER);
        }),
        ("ncp", &[NCP_SK], |c| {
            c.env("OTC_CLOUD", "ncp")
                .env("NCLOUD_ACCESS_KEY_ID", "ncp_iam_BPAMKRNOSECRET01")
                .env("NCLOUD_SECRET_ACCESS_KEY", NCP_SK);
        }),
    ];
    for (cloud, secrets, setup) in clouds {
        for text in [false, true] {
            let held: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
            let server = serve(move |r| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                if r.path().ends_with("/auth/time") {
                    return (200, vec![], now.to_string());
                }
                if text {
                    return (200, vec![], format!("note: fine\n{}", r.echo()));
                }
                let headers: serde_json::Map<String, Value> = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect();
                json_answer(
                    200,
                    json!({"headers": headers, "note": "fine", "echo": {"value": held[0],
                           "said": format!("you hold {}", held.join(" "))}}),
                )
            });
            let mut c = Command::new(BIN);
            let dir = std::env::temp_dir().join(format!("otc-nosecret-{}-api", std::process::id()));
            common::private_dir(&dir);
            c.env_clear()
                .current_dir(&dir)
                .env("OTC_LOCK_DIR", dir.join("state"))
                .env("OTC_HTTP_TIMEOUT", "5")
                .env("OTC_RETRIES", "0")
                .env("OTC_METADATA_URL", "http://127.0.0.1:1/nothing")
                .env("OTC_DNS_ENDPOINT", format!("{}/1.0", server.url))
                .args(["api", "GET", &format!("{}/1.0/echo", server.url)]);
            setup(&mut c);
            let out = c.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("{cloud}, text: {text}");
            assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
            let sent = server.sent.lock().unwrap().clone();
            assert!(!sent.is_empty(), "{what}: no credential header sent");
            for s in secrets
                .iter()
                .map(|s| s.to_string())
                .chain(sent.into_iter().filter(|v| v.len() >= 8))
            {
                assert!(
                    !stdout.contains(&s) && !stderr.contains(&s),
                    "{what}: {s:?} printed\n{stdout}{stderr}"
                );
            }
            assert!(stdout.contains("** redacted **"), "{what}: {stdout}");
            assert!(stdout.contains("fine"), "{what}: {stdout}");
        }
    }
}

#[test]
fn api_redacts_every_secret_looking_field() {
    let body = r#"{"security_token":"L1","secret_key":"L2","client_secret":"L3","private_key":"L4","access_key_secret":"L5","id_token":"L6","passwd":"L7","nested":[{"Consumer-Key":"L8","sk":"L9"}],"name":"shown"}"#;
    let server = common::hostile::Hostile::start(move |_, _| common::hostile::json(200, body));
    let sim = common::start(common::base_seed());
    let mut c = common::cmd(&sim);
    c.args(["api", "GET", &format!("{}/anything", server.url())]);
    let r = common::run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for leak in ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"] {
        assert!(!r.stdout.contains(&format!("\"{leak}\"")), "{}", r.stdout);
    }
    assert!(r.stdout.contains("shown"), "{}", r.stdout);
}
