//! The operator's path on every cloud (issue 19): the config file chooses the
//! cloud (`generate config` writes `OTC_CLOUD=`), another cloud's variables
//! set while a different cloud is in force are said in one warning line, and
//! an OVHcloud or NAVER Cloud run speaks no OTC word (recordset, agency,
//! `ACTIVE`, ECS, `OS_*`).

mod common;

use common::cloud::challenge_on;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use otc_sim::Sim;
use serde_json::{Value, json};

/// Words of OTC's DNS and identity that an OVHcloud or NCP user must not read.
const OTC_WORDS: [&str; 7] = [
    "recordset",
    "agency",
    "ACTIVE",
    "ECS",
    "OS_",
    "Open Telekom",
    "OTC DNS",
];

fn no_otc_word(what: &str, r: &Run) {
    for line in r.stdout.lines().chain(r.stderr.lines()) {
        for w in OTC_WORDS {
            assert!(!line.contains(w), "{what}: {w:?} in {line:?}");
        }
    }
}

fn ok(what: &str, r: &Run) {
    assert_eq!(
        r.code, 0,
        "{what}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
}

/// The warning lines of a run.
fn warnings(r: &Run) -> Vec<&str> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with("otc-acme-hook: warning: "))
        .collect()
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otc-oppath-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_private(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.to_path_buf()
}

// ---- the cloud is chosen in the config file ----

#[test]
fn generate_config_writes_the_cloud_in_force() {
    let gen_with = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.env_clear().args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let set = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        set(&gen_with(&["generate", "config"], &[])),
        ["OTC_CLOUD=otc"]
    );
    assert_eq!(
        set(&gen_with(&["--cloud", "ncp", "generate", "config"], &[])),
        ["OTC_CLOUD=ncp"]
    );
    assert_eq!(
        set(&gen_with(&["generate", "config"], &[("OTC_CLOUD", "ovh")])),
        ["OTC_CLOUD=ovh"]
    );
}

// ---- another cloud's variables: one warning line naming OTC_CLOUD ----

/// `usage.md`'s way to test a timer's renewal, `env -i … check`, with an OVH
/// variable in the environment and no cloud chosen: the OTC run works and
/// warns, once, that the OVH name is ignored and where the cloud is chosen.
#[test]
fn env_i_check_with_an_ovh_variable_warns_under_the_default_cloud() {
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.env("OTC_RESOLVER", sim.dns_addr().to_string())
        .env("OVH_CLIENT_ID", "cid-not-shown")
        .args(["check", "--read-only", "example.test"]);
    let r = run(&sim, &mut c);
    ok("check", &r);
    assert_eq!(
        warnings(&r),
        [
            "otc-acme-hook: warning: OVH_CLIENT_ID is set but the cloud in force is otc (the default: OTC_CLOUD is not set), so it is ignored; to use it, set OTC_CLOUD=ovh in the config file"
        ],
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("cid-not-shown"), "{}", r.stderr);
}

/// The same with the OVH lines in the config file (a timer's run reads only
/// the file): warned about; with `OTC_CLOUD=ovh` in the file too, no warning
/// and the run is OVHcloud's.
#[test]
fn the_config_file_s_ovh_lines_are_warned_about_until_the_file_chooses_ovh() {
    let sim = start(base_seed());
    let d = dir("file-ovh");
    let secret = write_private(&d.join("ovh_client_secret"), "cs\n");
    let settings = format!(
        "OTC_DNS_ENDPOINT={}\nOTC_METADATA_URL={}\nOTC_NAMESERVER_PORT={}\nOTC_LOCK_DIR={}\n\
         OTC_RESOLVER={}\nOVH_CLIENT_ID=cid\nOVH_CLIENT_SECRET_FILE={}\n",
        sim.base_url(),
        sim.metadata_url(),
        sim.dns_addr().port(),
        lock_dir(&sim).display(),
        sim.dns_addr(),
        secret.display()
    );
    let conf = write_private(&d.join("config"), &settings);
    let mut c = Command::new(BIN);
    c.env_clear()
        .arg("--config")
        .arg(&conf)
        .args(["check", "--read-only", "example.test"]);
    let r = run(&sim, &mut c);
    ok("check with the file's OVH lines", &r);
    assert_eq!(
        warnings(&r),
        [
            "otc-acme-hook: warning: OVH_CLIENT_ID, OVH_CLIENT_SECRET_FILE are set but the cloud in force is otc (the default: OTC_CLOUD is not set), so they are ignored; to use them, set OTC_CLOUD=ovh in the config file"
        ],
        "{}",
        r.stderr
    );

    // The file chooses OTC explicitly: still warned, naming where the choice was made.
    let conf = write_private(&d.join("config"), &format!("{settings}OTC_CLOUD=otc\n"));
    let mut c = Command::new(BIN);
    c.env_clear()
        .arg("--config")
        .arg(&conf)
        .args(["check", "--read-only", "example.test"]);
    let r = run(&sim, &mut c);
    ok("check, OTC_CLOUD=otc in the file", &r);
    let w = warnings(&r);
    assert!(
        w.len() == 1 && w[0].contains("in force is otc (OTC_CLOUD=otc)"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn the_file_choosing_ovh_reaches_check_with_no_warning() {
    let sim = start_cloud(ovh_seed(), "ovh");
    let d = dir("file-chooses-ovh");
    let secret = write_private(&d.join("ovh_client_secret"), &format!("{}\n", SA.1));
    let conf = write_private(
        &d.join("config"),
        &format!(
            "OTC_CLOUD=ovh\nOTC_DNS_ENDPOINT={}/1.0\nOTC_TOKEN_ENDPOINT={}/auth/oauth2/token\n\
             OTC_NAMESERVER_PORT={}\nOTC_LOCK_DIR={}\nOTC_PROPAGATION_TIMEOUT=20\n\
             OTC_RESOLVER={}\nOVH_CLIENT_ID={}\nOVH_CLIENT_SECRET_FILE={}\n",
            sim.base_url(),
            sim.base_url(),
            sim.dns_addr().port(),
            lock_dir(&sim).display(),
            sim.dns_addr(),
            SA.0,
            secret.display()
        ),
    );
    // `env -i otc-acme-hook check`, as usage.md tests a timer's renewal.
    let mut c = Command::new(BIN);
    c.env_clear()
        .current_dir(std::env::temp_dir())
        .arg("--config")
        .arg(&conf)
        .args(["check", "example.test"]);
    let r = run(&sim, &mut c);
    ok("check", &r);
    assert!(warnings(&r).is_empty(), "{}", r.stderr);
    assert!(r.stdout.contains("service account"), "{}", r.stdout);
    no_otc_word("check from the file", &r);
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn otc_keys_under_ncp_and_ncp_keys_under_ovh_are_warned_about() {
    let sim = common::ncp::start(common::ncp::seed());
    let mut c = common::ncp::cmd(&sim);
    c.env("OS_ACCESS_KEY", "AKOTC")
        .env("OS_SECRET_KEY", "SKOTC-not-shown")
        .args(["check", "--read-only", "example.test"]);
    let r = run(&sim, &mut c);
    ok("ncp check", &r);
    assert_eq!(
        warnings(&r),
        [
            "otc-acme-hook: warning: OS_ACCESS_KEY, OS_SECRET_KEY are set but the cloud in force is ncp (OTC_CLOUD=ncp), so they are ignored; to use them, set OTC_CLOUD=otc in the config file"
        ],
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("SKOTC"), "{}", r.stderr);

    let sim = start_cloud(ovh_seed(), "ovh");
    let mut c = ovh_cmd(&sim);
    c.env("NCLOUD_ACCESS_KEY_ID", "ncp-ak").args([
        "--cloud",
        "ovh",
        "check",
        "--read-only",
        "example.test",
    ]);
    let r = run(&sim, &mut c);
    ok("ovh check", &r);
    let w = warnings(&r);
    assert!(
        w.len() == 1
            && w[0].contains(
                "NCLOUD_ACCESS_KEY_ID is set but the cloud in force is ovh (--cloud ovh)"
            )
            && w[0].contains("set OTC_CLOUD=ncp in the config file"),
        "{}",
        r.stderr
    );
}

// ---- the words of an OVHcloud and an NCP run ----

const SA: (&str, &str) = ("sa-words", "SA-SECRET-WORDS-0000000001");

fn ovh_seed() -> Value {
    json!({
        "nameservers": ["localhost."],
        "propagation_delay_ms": 0,
        "ovh": {
            "zones": [{"name": "example.test", "records": [
                {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600}
            ]}],
            "service_accounts": [{"client_id": SA.0, "client_secret": SA.1, "policy": {
                "actions": [
                    "dnsZone:apiovh:get",
                    "dnsZone:apiovh:record/get",
                    "dnsZone:apiovh:record/create",
                    "dnsZone:apiovh:record/delete",
                    "dnsZone:apiovh:refresh"
                ],
                "zones": ["example.test"]
            }}]
        }
    })
}

fn ovh_cmd(sim: &Sim) -> Command {
    let mut c = cmd_for(sim, "ovh");
    c.env("OVH_CLIENT_ID", SA.0)
        .env("OVH_CLIENT_SECRET", SA.1)
        .env("OTC_RESOLVER", sim.dns_addr().to_string());
    c
}

/// Every line a run of each client shape prints on `cloud`, verbose, through
/// the shared flow's messages: an issuance (apex + wildcard), its cleanup, a
/// cleanup that finds nothing, lego's `present`/`cleanup` with the last value
/// removed, a run without the DNS check, and `check`.
fn every_line(sim: &Sim, hook: &dyn Fn() -> Command, cloud: &str) {
    let certbot = |verb: &str, value: &str, left: u32, extra: &[&str]| {
        let mut c = hook();
        c.arg("-v").args(extra);
        challenge_on(
            &mut c,
            verb,
            "example.test",
            value,
            Some(&left.to_string()),
            Some("example.test,*.example.test"),
        );
        run(sim, &mut c)
    };
    for (verb, value, left) in [
        ("auth", "words-apex", 1),
        ("auth", "words-wild", 0),
        ("cleanup", "words-apex", 1),
        ("cleanup", "words-wild", 0),
        ("cleanup", "words-wild", 0),
    ] {
        let r = certbot(verb, value, left, &[]);
        ok(&format!("{cloud} certbot {verb} {value}"), &r);
        no_otc_word(&format!("{cloud} certbot {verb} {value}"), &r);
    }
    let r = certbot("auth", "words-nocheck", 0, &["--no-dns-check"]);
    ok(&format!("{cloud} auth --no-dns-check"), &r);
    no_otc_word(&format!("{cloud} auth --no-dns-check"), &r);
    // -v: every line on stderr. The API's word for a published change is the cloud's.
    let word = if cloud == "ovh" {
        "refreshed"
    } else {
        "applied"
    };
    assert!(
        r.stderr.contains(&format!(
            "the API took the change ({word}); the nameservers are not asked (DNS check disabled)"
        )),
        "{}",
        r.stderr
    );
    let r = certbot("cleanup", "words-nocheck", 0, &["--no-dns-check"]);
    ok(&format!("{cloud} cleanup --no-dns-check"), &r);

    // lego: a name of its own, so its last value goes and the record with it.
    for (i, verb) in ["present", "cleanup", "cleanup"].into_iter().enumerate() {
        let mut c = hook();
        c.args([
            "-v",
            verb,
            "_acme-challenge.www.example.test.",
            "words-lego",
        ]);
        let r = run(sim, &mut c);
        ok(&format!("{cloud} lego {verb}"), &r);
        no_otc_word(&format!("{cloud} lego {verb}"), &r);
        let said = [
            "(1 new record)",
            "(last value: record deleted)",
            "no TXT record at _acme-challenge.www.example.test.; nothing to remove",
        ][i];
        assert!(r.stderr.contains(said), "{said}: {}", r.stderr);
    }
    let mut c = hook();
    c.args(["-v", "check", "example.test"]);
    let r = run(sim, &mut c);
    ok(&format!("{cloud} check"), &r);
    no_otc_word(&format!("{cloud} check"), &r);
}

#[test]
fn an_ovh_run_speaks_no_otc_word() {
    let sim = start_cloud(ovh_seed(), "ovh");
    every_line(&sim, &|| ovh_cmd(&sim), "ovh");
}

#[test]
fn an_ncp_run_speaks_no_otc_word() {
    let sim = common::ncp::start(common::ncp::seed());
    every_line(&sim, &|| common::ncp::cmd(&sim), "ncp");
}

// ---- "no credential source": the fix names the secret file before the variable ----

#[test]
fn every_no_credential_source_fix_names_the_file_way_first() {
    let lock = std::env::temp_dir().join(format!("otc-oppath-{}-nocreds", std::process::id()));
    // (cloud, the file way, the environment way), each metadata service unreachable.
    let cases = [
        ("otc", "credentials file of mode 600", "OS_ACCESS_KEY"),
        (
            "ncp",
            "credentials file of mode 600",
            "NCLOUD_ACCESS_KEY_ID",
        ),
        ("ovh", "OVH_CLIENT_SECRET_FILE", "OVH_CLIENT_SECRET last"),
    ];
    for (cloud, file_way, env_way) in cases {
        let out = Command::new(BIN)
            .env_clear()
            .current_dir(std::env::temp_dir())
            .env("OTC_CLOUD", cloud)
            .env("OTC_LOCK_DIR", &lock)
            .env("OTC_HTTP_TIMEOUT", "2")
            .env(
                "OTC_METADATA_URL",
                "http://127.0.0.1:9/latest/meta-data/iam/security-credentials",
            )
            .args(["check", "example.com"])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{cloud}: {text}");
        let line = text
            .lines()
            .find(|l| l.contains("credential source answered"))
            .unwrap_or_else(|| panic!("{cloud}: no such line in {text}"));
        // The fix follows the parenthesis that lists the sources skipped.
        let open = line.find("answered (").unwrap() + "answered ".len();
        let mut depth = 0;
        let close = line[open..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| open + i)
            .expect("the sources' parenthesis closes");
        let fix = &line[close..];
        let (file, env) = (fix.find(file_way), fix.find(env_way));
        assert!(
            file.is_some() && env.is_some() && file < env,
            "{cloud}: the fix should name {file_way:?} before {env_way:?}: {line}"
        );
    }
    let _ = std::fs::remove_dir_all(&lock);
}
