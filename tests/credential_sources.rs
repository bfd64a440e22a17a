//! How credentials and the files around them are judged (issue 18 items 3,
//! 4, 7, 9): a systemd credential a `User=` unit reads through an ACL, an
//! `ovh.conf` others can write or plant, the environment's alias against
//! the config file's name, a URL that is no secret, and the metadata service
//! refusing a connection before it answers. The built binary with a cleared
//! environment against the simulator.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::cloud::Cloud;
use common::{Run, cmd_for, run, start, start_cloud};
use serde_json::{Value, json};

const SA: (&str, &str) = ("sa-all", "SA-SECRET-ALL-000000000001");

fn ovh_sim() -> otc_sim::Sim {
    start_cloud(
        json!({
            "nameservers": ["localhost."],
            "ovh": {
                "zones": [{"name": "example.test", "records": []}],
                "service_accounts": [{"client_id": SA.0, "client_secret": SA.1}]
            }
        }),
        "ovh",
    )
}

/// A fresh directory of this test (`mode`), removed first.
fn dir(name: &str, mode: u32) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otc-test-creds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
    d
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn zone_answered(r: &Run) {
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.stdout));
    assert_eq!(v["nameServers"], json!(["localhost."]), "{}", r.stdout);
}

/// Issue 18, Medium: systemd writes a credential 0400 root-owned and lets a
/// `User=` unit read it through a POSIX ACL, so `st_mode` shows 0440. The
/// hook demanded `chmod 600` of it.
#[test]
fn a_systemd_credential_a_user_unit_reads_through_an_acl() {
    common::require_root("needs root to make a root-owned credential and run as nobody");
    let sim = ovh_sim();
    let creds = dir("systemd", 0o755);
    let f = creds.join("ovh_client_secret");
    write(&f, SA.1, 0o400);
    let acl = Command::new("setfacl")
        .args(["-m", "u:nobody:r"])
        .arg(&f)
        .status()
        .expect("setfacl (package acl; scripts/install-test-deps.sh installs it)");
    assert!(acl.success());
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o440, "the ACL mask shows in the group bits");

    // As the unit's user, with only the credential and the client id.
    let unit = |secret_dir: &Path| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(common::BIN)
            .args(["api", "GET", "/domain/zone/example.test"])
            .env_clear()
            .env("OTC_CLOUD", "ovh")
            .env("OTC_DNS_ENDPOINT", format!("{}/1.0", sim.base_url()))
            .env(
                "OTC_TOKEN_ENDPOINT",
                format!("{}/auth/oauth2/token", sim.base_url()),
            )
            .env("OVH_CLIENT_ID", SA.0)
            .env("CREDENTIALS_DIRECTORY", secret_dir)
            .current_dir("/");
        run(&sim, &mut c)
    };
    zone_answered(&unit(&creds));

    // Writable by the group, it is refused, naming the file.
    write(&f, SA.1, 0o460);
    let r = unit(&creds);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("writable by group or others"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&creds);
}

/// A listener that records whether anyone connected (the "attacker's" endpoint).
fn recording_listener() -> (String, TcpListener) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    (format!("http://{}/1.0", l.local_addr().unwrap()), l)
}

fn connected(l: &TcpListener) -> bool {
    l.accept().is_ok()
}

/// A "proxy" that answers 403 to everything: requests to the real OVH API
/// (the default endpoint) stop here, so nothing leaves the machine.
fn refusing_proxy() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    url
}

/// Issue 18, Medium: a group/world-writable `ovh.conf` could set `endpoint=`
/// and receive the bearer token; it was judged only when it held a secret.
#[test]
fn an_ovh_conf_others_can_write_moves_no_endpoint() {
    let (evil, listener) = recording_listener();
    let home = dir("home", 0o700);
    write(
        &home.join(".ovh.conf"),
        &format!("[default]\nendpoint={evil}\n"),
        0o666,
    );
    let mut c = Command::new(common::BIN);
    c.env_clear()
        .env("OTC_CLOUD", "ovh")
        .env("HOME", &home)
        .env("OVH_ACCESS_TOKEN", "PRE-MINTED-TOKEN-0000000000001")
        .env("HTTPS_PROXY", refusing_proxy())
        .env("OTC_HTTP_TIMEOUT", "5")
        .env("OTC_RETRIES", "0")
        .args(["api", "GET", "/domain/zone/example.test"])
        .current_dir(&home);
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !connected(&listener),
        "the bearer token went to the ovh.conf's endpoint: {stderr}"
    );
    assert!(!stderr.contains("PRE-MINTED"), "{stderr}");
    let warning = format!(
        "{}/.ovh.conf skipped: writable by group or others (mode 666)",
        home.display()
    );
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
    // The default endpoint was asked (through the refusing proxy), not exit 2.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}

/// Issue 18, Medium: another user's comment-only `./ovh.conf` in a shared
/// working directory made root's `--cloud ovh` runs exit 2, with every
/// credential in the environment.
#[test]
fn a_planted_ovh_conf_in_a_shared_directory_is_skipped_with_a_warning() {
    common::require_root("needs root to plant a file as another user");
    let sim = ovh_sim();
    let shared = dir("shared", 0o1777);
    let planted = shared.join("ovh.conf");
    write(&planted, "# nothing to see\n", 0o644);
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.env("OVH_CLIENT_ID", SA.0)
        .env("OVH_CLIENT_SECRET", SA.1)
        .args(["api", "GET", "/domain/zone/example.test"])
        .current_dir(&shared);
    let r = run(&sim, &mut c);
    zone_answered(&r);
    assert_eq!(
        r.stderr
            .matches("./ovh.conf skipped: the working directory is writable by other users")
            .count(),
        1,
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&shared);
}

fn config_file(name: &str, text: &str, mode: u32) -> (PathBuf, PathBuf) {
    let d = dir(name, 0o700);
    let f = d.join("config");
    write(&f, text, mode);
    (d, f)
}

/// Issue 18, Low: `NCLOUD_SECRET_KEY` in the environment lost to a stale
/// `NCLOUD_SECRET_ACCESS_KEY` in the config file.
#[test]
fn the_environment_s_ncp_alias_beats_the_file_s_name() {
    use common::ncp;
    let sim = ncp::start(ncp::seed());
    let (d, f) = config_file(
        "ncp-alias",
        "NCLOUD_ACCESS_KEY_ID=ncp_iam_BPAMKRTESTSTATIC001\nNCLOUD_SECRET_ACCESS_KEY=stale-secret-from-the-file\n",
        0o600,
    );
    let mut c = Cloud::Ncp
        .certbot(&sim)
        .env("OTC_CONFIG", &f)
        .env("NCLOUD_SECRET_KEY", ncp::SK)
        .lone("auth", "example.test", "v-alias");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(ncp::txt(&sim, "example.test", "_acme-challenge").contains(&"v-alias".to_string()));
    let _ = std::fs::remove_dir_all(&d);
}

/// The same for OTC: `OS_ACCESS_SECRET` in the environment beats the file's `OS_SECRET_KEY`.
#[test]
fn the_environment_s_otc_alias_beats_the_file_s_name() {
    let sim = start(common::base_seed());
    let (d, f) = config_file(
        "otc-alias",
        "OS_SECRET_KEY=stale-secret-from-the-file\n",
        0o600,
    );
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_CONFIG", &f)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env(
            "OS_ACCESS_SECRET",
            "SKstatic-secret-0000000000000000000000001",
        )
        .lone("auth", "example.test", "v-alias");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        common::public_txt(&sim, "example.test.", "_acme-challenge.example.test.")
            .contains(&"v-alias".to_string())
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 18, Low: a world-readable config holding only `OTC_TOKEN_ENDPOINT`
/// (a URL) was refused as holding a secret.
#[test]
fn a_readable_config_with_a_token_url_is_no_secret() {
    let sim = ovh_sim();
    let (d, f) = config_file(
        "token-url",
        &format!("OTC_TOKEN_ENDPOINT={}/auth/oauth2/token\n", sim.base_url()),
        0o644,
    );
    let mut c = cmd_for(&sim, "ovh");
    c.env_remove("OTC_TOKEN_ENDPOINT")
        .env("OTC_CONFIG", &f)
        .env("OVH_CLIENT_ID", SA.0)
        .env("OVH_CLIENT_SECRET", SA.1)
        .args(["api", "GET", "/domain/zone/example.test"]);
    zone_answered(&run(&sim, &mut c));
    // A secret in the same file still needs it private.
    write(
        &f,
        &format!(
            "OTC_TOKEN_ENDPOINT={}/auth/oauth2/token\nOVH_CLIENT_SECRET={}\n",
            sim.base_url(),
            SA.1
        ),
        0o644,
    );
    let mut c = cmd_for(&sim, "ovh");
    c.env_remove("OTC_TOKEN_ENDPOINT")
        .env("OTC_CONFIG", &f)
        .env("OVH_CLIENT_ID", SA.0)
        .args(["api", "GET", "/domain/zone/example.test"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("holds OVH_CLIENT_SECRET but is readable by others"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Whether the process's main thread sleeps (`std::thread::sleep`): the hook
/// waiting before it tries a connection again.
fn sleeping(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("nanosleep"))
}

/// Copies one connection to `to` and back.
fn forward(client: TcpStream, to: std::net::SocketAddr) {
    let Ok(server) = TcpStream::connect(to) else {
        return;
    };
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut s2);
        let _ = s2.shutdown(std::net::Shutdown::Write);
    });
    let (mut c, mut s) = (client, server);
    let _ = std::io::copy(&mut s, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
}

/// Runs `c` with its metadata service on a port that refuses connections
/// until the hook pauses to try again, then forwards to `sim`.
fn with_metadata_refused_first(sim: &otc_sim::Sim, mut c: Command, path: &str) -> Run {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    c.env("OTC_METADATA_URL", format!("http://127.0.0.1:{port}{path}"));
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Nothing listens until the hook, refused, waits before its next attempt.
    while child.try_wait().unwrap().is_none() && !sleeping(child.id()) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    if child.try_wait().unwrap().is_none() {
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let to = sim.http_addr();
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                std::thread::spawn(move || forward(conn, to));
            }
        });
    }
    let out = child.wait_with_output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    common::assert_no_secrets(sim, &r);
    r
}

/// Issue 18, seen earlier: a connection to the metadata service that fails
/// (refused, or one lost SYN past a 1 s connect timeout) was not tried again,
/// and a renewal failed. OTC's ECS metadata.
#[test]
fn otc_metadata_refused_then_answering_is_tried_again() {
    let sim = start(common::base_seed());
    let c = Cloud::Otc
        .certbot(&sim)
        .lone("auth", "example.test", "v-metadata");
    let r = with_metadata_refused_first(&sim, c, "/openstack/latest/securitykey");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        common::public_txt(&sim, "example.test.", "_acme-challenge.example.test.")
            .contains(&"v-metadata".to_string())
    );
}

/// The same for NCP's server role.
#[test]
fn ncp_metadata_refused_then_answering_is_tried_again() {
    use common::ncp;
    let sim = ncp::start(ncp::seed());
    let c = Cloud::Ncp
        .certbot(&sim)
        .lone("auth", "example.test", "v-metadata");
    let r = with_metadata_refused_first(&sim, c, ncp::METADATA_PATH);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(ncp::txt(&sim, "example.test", "_acme-challenge").contains(&"v-metadata".to_string()));
}

/// Issue 19: a section-less `~/.ncloud/configure` with a key we don't read
/// (`ncloud_api_url`, which NCP's CLI writes) exited 2; a key we read with a
/// bad value still fails, naming the line.
#[test]
fn a_section_less_ncloud_configure_with_the_cli_s_extra_key() {
    use common::ncp;
    let sim = ncp::start(ncp::seed());
    let home = dir("ncloud", 0o700);
    std::fs::create_dir_all(home.join(".ncloud")).unwrap();
    let configure = home.join(".ncloud/configure");
    write(
        &configure,
        &format!(
            "ncloud_access_key_id = {}\nncloud_secret_access_key = {}\nncloud_api_url = https://ncloud.apigw.ntruss.com\n",
            ncp::AK,
            ncp::SK
        ),
        0o600,
    );
    let auth = || {
        let mut c =
            Cloud::Ncp
                .certbot(&sim)
                .env("HOME", &home)
                .lone("auth", "example.test", "v-configure");
        run(&sim, &mut c)
    };
    let r = auth();
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(ncp::txt(&sim, "example.test", "_acme-challenge").contains(&"v-configure".to_string()));
    write(
        &configure,
        &format!(
            "ncloud_api_url = https://ncloud.apigw.ntruss.com\nncloud_access_key_id =\nncloud_secret_access_key = {}\n",
            ncp::SK
        ),
        0o600,
    );
    let r = auth();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("configure: line 2: ncloud_access_key_id is empty"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&home);
}
