//! The files the hook reads its settings and keys from: the config file
//! (`config::parse`), the shared `key = value` / INI reader
//! (`keyfile::entries`), OVH's `--credentials-file`
//! (`ovh::credentials::parse_credentials_file`) and `ovh.conf` (read through
//! `ovh::credentials::resolve` from injected files), and NCP's credentials
//! file / `~/.ncloud/configure` (`ncp::credentials::parse`). (OTC's
//! credentials file is fed by `metadata_json`.)
//!
//! Input: the text of each file (invalid UTF-8 is skipped: the readers take
//! `&str`).
//!
//! Invariants: no panic; every error is one line and names the line, never a
//! value: what each reader decides and says does not change when the values
//! of the secret keys are replaced; the config file's errors come from a fixed
//! set of messages, its settings are known names with increasing line
//! numbers; entries' keys and values are trimmed.
#![no_main]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use clap::CommandFactory;
use common::{assert_one_line, values_replaced};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::clouds::ovh::credentials::{
    self as ovh, Auth, FileText, Files, Flags, Inputs, parse_credentials_file,
};
use otc_acme_hook::clouds::ovh::endpoints::EndpointInputs;
use otc_acme_hook::{clouds::ncp, config, keyfile};

const ORIGIN: &str = "/etc/otc-acme-hook/config";

fn allowed() -> &'static BTreeSet<String> {
    static ALLOWED: OnceLock<BTreeSet<String>> = OnceLock::new();
    ALLOWED.get_or_init(|| config::allowed_names(&otc_acme_hook::cli::Cli::command()))
}

/// A config file's error cause: one of the messages `config::parse` has.
fn known_config_error(cause: &str) -> bool {
    let Some(rest) = cause.strip_prefix(&format!("config file {ORIGIN}: line ")) else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    match rest.strip_prefix(": unknown name ") {
        Some(name) => allowed().iter().all(|a| a != name) && !name.contains(['=', ' ']),
        None => [
            " is not NAME=value",
            ": OTC_CONFIG can't be set in the config file",
            ": unterminated quote",
        ]
        .contains(&rest),
    }
}

fn fuzz_config(text: &str) {
    match config::parse(text, ORIGIN, allowed()) {
        Ok(lines) => {
            let mut last = 0;
            for (name, value, n) in &lines {
                assert!(allowed().contains(name) && name != config::CONFIG_VAR);
                assert!(*n > last, "line numbers go up");
                last = *n;
                assert!(value.len() <= text.len());
            }
        }
        Err(e) => {
            assert_one_line("config", &e.to_string());
            assert!(
                known_config_error(&e.cause),
                "unexpected error {:?}",
                e.cause
            );
        }
    }
}

fn fuzz_entries(text: &str) {
    let path = Path::new("/etc/keys");
    let first = keyfile::entries(text, path);
    let second = keyfile::entries(&values_replaced(text, &[], &['=']), path);
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len());
            let mut last = 0;
            for (e, f) in a.iter().zip(b) {
                assert!(e.line > last);
                last = e.line;
                assert_eq!((e.line, &e.section, &e.key), (f.line, &f.section, &f.key));
                assert_eq!(e.key, e.key.trim());
                assert!(!e.key.contains('='));
            }
        }
        (Err(e), Err(f)) => {
            assert_one_line("entries", &e.to_string());
            assert_eq!(e.to_string(), f.to_string(), "the error depends on a value");
        }
        _ => panic!("the outcome of entries depends on a value"),
    }
}

/// Same outcome and same words with the secret values replaced.
fn same_outcome<T, U>(
    what: &str,
    a: &Result<T, otc_acme_hook::error::Error>,
    b: &Result<U, otc_acme_hook::error::Error>,
) {
    match (a, b) {
        (Ok(_), Ok(_)) => {}
        (Err(e), Err(f)) => {
            assert_one_line(what, &e.to_string());
            assert_eq!(
                e.to_string(),
                f.to_string(),
                "{what}: the error depends on a value"
            );
        }
        _ => panic!("{what}: the outcome depends on a value"),
    }
}

fn fuzz_ncp(text: &str) {
    let path = Path::new("/root/.ncloud/configure");
    let keys = [
        "access_key",
        "secret_key",
        "ncloud_access_key_id",
        "ncloud_secret_access_key",
    ];
    let a = ncp::credentials::parse(text, path);
    let b = ncp::credentials::parse(&values_replaced(text, &keys, &['=']), path);
    same_outcome("ncp credentials", &a, &b);
    if let Ok(k) = &a {
        assert!(!k.access.is_empty() && !k.secret.expose().is_empty());
        assert!(!k.refreshable);
    }
}

fn fuzz_ovh_file(text: &str) {
    let path = Path::new("/etc/ovh/credentials");
    let a = parse_credentials_file(text, path);
    let b = parse_credentials_file(&values_replaced(text, &["client_secret"], &['=']), path);
    same_outcome("ovh credentials file", &a, &b);
    if let Ok(auth) = &a {
        let Auth::ServiceAccount {
            client_id,
            client_secret,
        } = auth
        else {
            panic!("a credentials file gives a service account");
        };
        assert!(!client_id.is_empty() && !client_secret.expose().is_empty());
    }
}

/// `./ovh.conf` holds the text (owner-only); no other file exists.
struct OneConf(String);

impl Files for OneConf {
    fn read(&self, path: &Path) -> std::io::Result<FileText> {
        (path == Path::new("./ovh.conf"))
            .then(|| FileText {
                text: self.0.clone(),
                mode: 0o600,
            })
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }
}

fn ovh_conf(text: &str) -> otc_acme_hook::error::Result<(String, String, String)> {
    let inputs = Inputs {
        flags: Flags::default(),
        env: Default::default(),
        files: std::sync::Arc::new(OneConf(text.to_string())),
    };
    ovh::resolve(&inputs, EndpointInputs::default()).map(|(ep, found, warnings)| {
        (
            format!("{ep:?}"),
            format!("{} {}", found.source, found.auth.describe()),
            warnings.join("\n"),
        )
    })
}

fn fuzz_ovh_conf(text: &str) {
    let keys = ["client_secret", "application_secret", "consumer_key"];
    let a = ovh_conf(text);
    let b = ovh_conf(&values_replaced(text, &keys, &['=', ':']));
    same_outcome("ovh.conf", &a, &b);
    if let (Ok(a), Ok(b)) = (&a, &b) {
        assert_eq!(a, b, "endpoints, source or warnings depend on a secret");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    fuzz_config(text);
    fuzz_entries(text);
    fuzz_ncp(text);
    fuzz_ovh_file(text);
    fuzz_ovh_conf(text);
});
