//! The configuration file (`--config` / `OTC_CONFIG`): a timer's renewal with
//! an empty environment, precedence, and the refusals before any network call.

mod common;

use common::cloud::challenge_on;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use otc_sim::Sim;

/// A directory of its own per test.
fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otc-config-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str, mode: u32) -> PathBuf {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.to_path_buf()
}

/// What `cmd()` puts into the environment, as config file lines.
fn sim_settings(sim: &Sim) -> String {
    format!(
        "# the simulator, as a timer's renewal would find it\n\
         OTC_DNS_ENDPOINT=\"{}\"\n\
         OTC_METADATA_URL='{}'\n\
         OTC_NAMESERVER_PORT={}\n\
         OTC_PROPAGATION_TIMEOUT=20\n\
         OTC_LOCK_DIR={}\n\
         OTC_HTTP_TIMEOUT=5\n",
        sim.base_url(),
        sim.metadata_url(),
        sim.dns_addr().port(),
        lock_dir(sim).display()
    )
}

/// The binary with an empty environment, as systemd starts certbot from a timer.
fn bare() -> Command {
    let mut c = Command::new(BIN);
    c.env_clear();
    c
}

fn hook(c: &mut Command, hook: &str, domain: &str, value: &str) {
    challenge_on(c, hook, domain, value, Some("0"), Some(domain));
}

#[test]
fn a_timer_renewal_with_an_empty_environment_takes_every_setting_from_the_file() {
    let sim = start(base_seed());
    let d = dir("timer");
    let conf = write(&d.join("config"), &sim_settings(&sim), 0o600);
    let conf_arg = conf.to_str().unwrap();

    let mut c = bare();
    c.args(["--config", conf_arg]);
    hook(&mut c, "auth", "renew.example.test", "timer-value-1");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "auth: {}", r.stderr);
    assert!(
        public_txt(&sim, "example.test.", "_acme-challenge.renew.example.test.")
            .contains(&"timer-value-1".to_string())
    );

    // OTC_CONFIG names the file as well as --config does.
    let mut c = bare();
    c.env("OTC_CONFIG", &conf);
    hook(&mut c, "cleanup", "renew.example.test", "timer-value-1");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "cleanup: {}", r.stderr);
    assert_gone_or_going(&sim, "timer-value-1");
    assert_foreign_intact(&sim);

    // `check` says which file it read.
    let mut c = bare();
    c.args([&format!("--config={conf_arg}"), "check"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "check: {}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("ok    config file: read {conf_arg}\n")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ok    credentials: ECS agency"),
        "{}",
        r.stdout
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn static_keys_and_their_aliases_from_a_private_file() {
    let sim = start(base_seed());
    let d = dir("keys");
    for secret_name in ["OS_SECRET_KEY", "OS_ACCESS_SECRET"] {
        let conf = write(
            &d.join(format!("config-{secret_name}")),
            &format!(
                "{}OTC_CREDENTIALS=static\nOS_ACCESS_KEY=AKSTATIC000000000001\n\
                 {secret_name}=\"SKstatic-secret-0000000000000000000000001\"\n",
                sim_settings(&sim)
            ),
            0o600,
        );
        let mut c = bare();
        c.arg("--config")
            .arg(&conf)
            .args(["api", "GET", "/v2/zones"]);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0, "{secret_name}: {}", r.stderr);
        assert!(r.stdout.contains("example.test."), "{}", r.stdout);
        // From the file, not the command line: no `ps` warning.
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn the_environment_beats_the_file_and_a_flag_beats_the_environment() {
    let sim = start(base_seed());
    let d = dir("precedence");
    let conf = write(&d.join("config"), "OTC_TTL=600\n", 0o644);
    let ttl_of = |name: &str| {
        txt_set(
            &sim,
            "public",
            "example.test.",
            &format!("_acme-challenge.{name}.example.test."),
        )
        .expect("the set was created")
        .1
    };

    let mut c = cmd(&sim);
    c.arg("--config").arg(&conf).arg("-v");
    hook(&mut c, "auth", "file.example.test", "v-file");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ttl_of("file"), 600, "the file beats the default (300)");
    assert!(
        r.stderr
            .contains(&format!("config file: read {}\n", conf.display())),
        "-v names the file: {}",
        r.stderr
    );

    let mut c = cmd(&sim);
    c.arg("--config").arg(&conf).env("OTC_TTL", "900");
    hook(&mut c, "auth", "env.example.test", "v-env");
    assert_eq!(run(&sim, &mut c).code, 0);
    assert_eq!(ttl_of("env"), 900, "the environment beats the file");

    let mut c = cmd(&sim);
    c.arg("--config")
        .arg(&conf)
        .env("OTC_TTL", "900")
        .args(["--ttl", "1200"]);
    hook(&mut c, "auth", "flag.example.test", "v-flag");
    assert_eq!(run(&sim, &mut c).code, 0);
    assert_eq!(ttl_of("flag"), 1200, "a flag beats the environment");
    std::fs::remove_dir_all(d).ok();
}

/// Runs `auth` against `sim` with `--config conf`, which must be refused before any request.
fn refused(sim: &Sim, conf: &Path) -> String {
    let mut c = cmd(sim);
    c.arg("--config").arg(conf);
    hook(&mut c, "auth", "refused.example.test", "never-written");
    let r = run(sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(requests(sim).is_empty(), "{:?}", requests(sim));
    r.stderr
}

#[test]
fn an_unknown_name_is_refused_with_its_line_number_before_any_request() {
    let sim = start(base_seed());
    let d = dir("unknown");
    let conf = write(
        &d.join("config"),
        "# typo below\nOTC_TTL=600\n\nOTC_PROPAGATON_TIMEOUT=600\n",
        0o600,
    );
    let err = refused(&sim, &conf);
    assert_eq!(
        err,
        format!(
            "otc-acme-hook: config: config file {}: line 4: unknown name OTC_PROPAGATON_TIMEOUT; use the hook's own variable names (otc-acme-hook generate config lists them)\n",
            conf.display()
        )
    );
    // Another program's variables don't belong here either.
    let conf = write(&d.join("lego"), "EXEC_SEQUENCE_INTERVAL=1\n", 0o600);
    assert!(refused(&sim, &conf).contains("line 1: unknown name EXEC_SEQUENCE_INTERVAL"));
    // A value clap refuses names the file it came from.
    let conf = write(&d.join("ttl"), "OTC_TTL=30\n", 0o600);
    let err = refused(&sim, &conf);
    assert!(
        err.starts_with(&format!(
            "otc-acme-hook: usage: OTC_TTL is set in config file {}: invalid value '30' for '--ttl <SECONDS>'",
            conf.display()
        )),
        "{err}"
    );
    let conf = write(&d.join("bad"), "OTC_TTL=600\nSKnot-a-line\n", 0o600);
    let err = refused(&sim, &conf);
    assert!(err.contains("line 2 is not NAME=value"), "{err}");
    assert!(!err.contains("SKnot"), "{err}");
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn a_secret_in_a_file_others_can_read_is_refused() {
    let sim = start(base_seed());
    let d = dir("perm");
    let secret = "SKstatic-secret-0000000000000000000000001";
    let conf = write(
        &d.join("config"),
        &format!("OS_ACCESS_KEY=AKSTATIC000000000001\nOS_SECRET_KEY={secret}\n"),
        0o644,
    );
    let err = refused(&sim, &conf);
    assert!(
        err.contains("holds OS_SECRET_KEY but is readable by others (mode 644)"),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with(&format!("chmod 600 {}", conf.display())),
        "{err}"
    );
    assert!(!err.contains(secret));

    // The same file, made private, is read.
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd(&sim);
    c.arg("--config")
        .arg(&conf)
        .args(["api", "GET", "/v2/zones"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A link is not followed, and a --config file must exist.
    let link = d.join("link");
    std::os::unix::fs::symlink(&conf, &link).unwrap();
    let sim = start(base_seed());
    assert!(refused(&sim, &link).contains("is a symlink"));
    let err = refused(&sim, &d.join("missing"));
    assert!(
        err.contains("does not exist; fix --config / OTC_CONFIG"),
        "{err}"
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn a_file_of_another_user_is_refused() {
    let sim = start(base_seed());
    let d = dir("owner");
    let conf = write(&d.join("config"), "OTC_TTL=600\n", 0o600);
    let me = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    // Only root can give a file away; as anyone else the refusal is the uid check
    // on a file we own, which the unit tests cover.
    if me.ok() == Some(0) {
        let out = Command::new("chown")
            .arg("65534")
            .arg(&conf)
            .status()
            .unwrap();
        assert!(out.success());
        let err = refused(&sim, &conf);
        assert!(
            err.contains("belongs to uid 65534, neither this user nor root"),
            "{err}"
        );
    } else {
        let mut c = cmd(&sim);
        c.arg("--config")
            .arg(&conf)
            .args(["api", "GET", "/v2/zones"]);
        assert_eq!(run(&sim, &mut c).code, 0);
    }
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn generate_config_parses_back_and_every_setting_is_accepted() {
    use clap::CommandFactory;
    use otc_acme_hook::config;

    let out = bare().args(["generate", "config"]).output().unwrap();
    assert!(out.status.success());
    let template = String::from_utf8(out.stdout).unwrap();
    let allowed = config::allowed_names(&otc_acme_hook::cli::Cli::command());
    assert_eq!(
        config::parse(&template, "template", &allowed).unwrap(),
        [(
            "OTC_CLOUD".to_string(),
            "otc".to_string(),
            line_of(&template, "OTC_CLOUD=")
        )],
        "every line of the template but the cloud is a comment"
    );

    // Uncommented, every setting is there with its default.
    let uncommented: String = template
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let lines = config::parse(&uncommented, "template", &allowed).unwrap();
    let names: std::collections::BTreeSet<String> =
        lines.iter().map(|(k, _, _)| k.clone()).collect();
    assert_eq!(names, allowed, "the template names every setting once");
    assert!(lines.contains(&(
        "OTC_TTL".into(),
        "300".into(),
        line_of(&uncommented, "OTC_TTL=")
    )));

    // And the binary accepts it: every default is a valid value.
    let sim = start(base_seed());
    let d = dir("template");
    let conf = write(&d.join("config"), &uncommented, 0o600);
    let mut c = cmd(&sim);
    c.arg("--config")
        .arg(&conf)
        .args(["api", "GET", "/v2/zones"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_dir_all(d).ok();
}

fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

#[test]
fn help_works_with_a_broken_file() {
    let d = dir("help");
    let conf = write(&d.join("config"), "NOPE=1\n", 0o600);
    let out = bare()
        .arg("--config")
        .arg(&conf)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--config <FILE>"), "{help}");
    std::fs::remove_dir_all(d).ok();
}
