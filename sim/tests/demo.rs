//! `otc-sim demo` runs the real hook end to end and reports a clean result.

use std::path::PathBuf;

/// The hook binary of this workspace: cargo puts every member's binaries in the
/// one target directory, so it sits next to otc-sim. `cargo test` at the root
/// builds it first; `cargo test -p otc-sim` alone does not.
fn hook_binary() -> PathBuf {
    let hook = PathBuf::from(env!("CARGO_BIN_EXE_otc-sim"))
        .with_file_name(format!("otc-acme-hook{}", std::env::consts::EXE_SUFFIX));
    assert!(
        hook.is_file(),
        "{} is missing: build the hook first (cargo build --bins, or run cargo test at the workspace root)",
        hook.display()
    );
    hook
}

#[test]
fn demo_runs_the_real_hook() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_otc-sim"))
        .arg("demo")
        .arg("--hook")
        .arg(hook_binary())
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("foreign value \"keep-me\" still served: true"),
        "{text}"
    );
    assert!(text.contains("private zone untouched: true"), "{text}");
    assert!(
        text.contains("is a CNAME to _acme-challenge.delegated.example.test."),
        "{text}"
    );
    assert!(
        text.contains("all nameservers serve the challenge values"),
        "{text}"
    );
}

#[test]
fn demo_of_ncp_applies_once_per_domain_per_run_and_never_rolls_back() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_otc-sim"))
        .args(["demo", "--cloud", "ncp", "--hook"])
        .arg(hook_binary())
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("foreign value \"keep-me\" still served: true"),
        "{text}"
    );
    // Two domains, the auth run and the cleanup run: four applies.
    assert!(text.contains("applies: 4; rollbacks: 0"), "{text}");
    assert!(
        text.contains("all nameservers serve the challenge values"),
        "{text}"
    );
    assert!(
        text.contains("_acme-challenge.www.sub.example.test.  NXDOMAIN (no TXT)"),
        "{text}"
    );
}

#[test]
fn the_ovh_demo_runs_the_real_hook() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_otc-sim"))
        .args(["demo", "--cloud", "ovh", "--hook"])
        .arg(hook_binary())
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "all nameservers serve the challenge values",
        "_acme-challenge.example.test.  foreign-value, demo-apex-Zp3yQ0kX1s, demo-wild-Hk2v9TbW4q",
        "_acme-challenge.www.deep.example.test.  NXDOMAIN (no TXT)",
        "zone refreshes: 1 in auth, 1 in cleanup",
        "foreign value \"foreign-value\" still served: true",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
    assert!(!text.contains("(stderr)"), "{text}");
    // The demo's fixed secret is never shown.
    assert!(!text.contains("demo-client-secret"), "{text}");
}

#[test]
fn demo_with_latency_prints_each_phase_and_the_peak_concurrency() {
    for cloud in ["otc", "ovh"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_otc-sim"))
            .args(["demo", "--latency-ms", "20", "--cloud", cloud, "--hook"])
            .arg(hook_binary())
            .env_clear()
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("latency: 20 ms added to every remote API call"),
            "{text}"
        );
        for phase in ["-- auth phase: ", "-- cleanup phase: "] {
            assert!(text.contains(phase), "{cloud}: {phase}\n{text}");
        }
        assert!(
            text.contains("most remote API calls in flight at once: "),
            "{text}"
        );
    }
}
