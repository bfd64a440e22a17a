//! Credential documents: ECS metadata `securitykey` JSON, the CCE pod-identity
//! answer, and the `key = value` credentials file.
//!
//! Invariants: no panic; a parsed credential has every required field
//! non-empty; `Debug` of credentials never depends on the secret or the token;
//! error messages come from a fixed vocabulary (JSON sources) or do not depend
//! on any value in the file (credentials file), so a secret is never echoed.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use otc_acme_hook::clouds::otc::credentials::{Credentials, Secret, container, file, metadata};

/// Every message `metadata::parse` may return: it never quotes the body.
const METADATA_ERRORS: [&str; 5] = [
    "unexpected answer (not a credential document: i/o)",
    "unexpected answer (not a credential document: invalid JSON)",
    "unexpected answer (not a credential document: missing or wrong fields)",
    "unexpected answer (not a credential document: truncated JSON)",
    "credential document has an empty field",
];
const POD_ERRORS: [&str; 2] = [
    "unexpected answer (not a pod credential document)",
    "pod credential document has an empty field",
];

/// `Debug` must print the same with any secret and token of the same presence.
fn assert_debug_hides_secrets(c: &Credentials) {
    let mut twin = Credentials::new(
        c.access(),
        Secret::new("other secret"),
        c.token().map(|_| Secret::new("other token")),
    );
    twin.source = c.source;
    twin.expires_at = c.expires_at.clone();
    twin.project_id = c.project_id.clone();
    twin.refreshable = c.refreshable;
    assert_eq!(
        format!("{c:?}"),
        format!("{twin:?}"),
        "Debug shows a secret"
    );
}

fn check_json_credentials(c: &Credentials, source: &str) {
    assert!(!c.access().is_empty() && !c.secret().is_empty());
    assert!(c.token().is_some_and(|t| !t.is_empty()));
    assert!(c.refreshable && c.is_temporary());
    assert_eq!(c.source, source);
    assert_debug_hides_secrets(c);
}

fn fuzz_metadata(data: &[u8]) {
    match metadata::parse(data) {
        Ok(c) => {
            check_json_credentials(&c, "ECS metadata");
            // The typed parse agrees with a generic one (when that can read it:
            // it refuses numbers the typed parse skips, e.g. 1e999 in an unknown field).
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                let w = &v["credential"];
                assert_eq!(w["access"].as_str(), Some(c.access()));
                assert_eq!(w["secret"].as_str(), Some(c.secret()));
                assert_eq!(w["securitytoken"].as_str(), c.token());
                assert_eq!(w["expires_at"].as_str(), c.expires_at.as_deref());
            }
        }
        Err(e) => assert!(
            METADATA_ERRORS.contains(&e.as_str()),
            "unexpected error {e:?}"
        ),
    }
}

fn fuzz_pod(data: &[u8]) {
    match container::parse_pod(data) {
        Ok(c) => {
            check_json_credentials(&c, "container identity");
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                let w = &v["credentials"];
                assert_eq!(w["accessKeyId"].as_str(), Some(c.access()));
                assert_eq!(w["secretAccessKey"].as_str(), Some(c.secret()));
                assert_eq!(w["securityToken"].as_str(), c.token());
            }
        }
        Err(e) => assert!(POD_ERRORS.contains(&e.as_str()), "unexpected error {e:?}"),
    }
}

/// The file with the value of every known key replaced by a fixed one of the
/// same emptiness: what `parse` decides (and says) must not change.
fn values_replaced(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, raw)| {
            let line = raw.trim();
            let Some((k, v)) = line.split_once('=') else {
                return raw.to_string();
            };
            let known = matches!(
                k.trim(),
                "access_key" | "secret_key" | "security_token" | "project_id"
            );
            if line.starts_with('#') || !known {
                return raw.to_string();
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            if v.is_empty() {
                format!("{k}=")
            } else {
                format!("{k}=R{i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn fuzz_file(text: &str) {
    let path = Path::new("/etc/otc/credentials");
    let first = file::parse(text, path);
    let second = file::parse(&values_replaced(text), path);
    match (&first, &second) {
        (Ok(c), Ok(d)) => {
            assert!(!c.access().is_empty() && !c.secret().is_empty());
            assert!(c.token().is_none_or(|t| !t.is_empty()));
            assert!(c.project_id.as_deref().is_none_or(|p| !p.is_empty()));
            assert!(!c.refreshable);
            assert_eq!(c.source, "credentials file");
            assert_eq!(c.token().is_some(), d.token().is_some());
            assert_eq!(c.project_id.is_some(), d.project_id.is_some());
            assert_debug_hides_secrets(c);
        }
        (Err(e), Err(f)) => {
            let (e, f) = (e.to_string(), f.to_string());
            assert!(!e.contains(['\n', '\r']), "error is not one line: {e:?}");
            assert_eq!(e, f, "the error depends on a value in the file");
        }
        _ => panic!(
            "outcome depends on a value: {:?} vs {:?}",
            first.map(|_| ()),
            second.map(|_| ())
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    fuzz_metadata(data);
    fuzz_pod(data);
    if let Ok(text) = std::str::from_utf8(data) {
        fuzz_file(text);
    }
});
