//! `otc-sim demo` runs the real hook end to end and reports a clean result.

#[test]
fn demo_runs_the_real_hook() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_otc-sim"))
        .args(["demo", "--hook", env!("CARGO_BIN_EXE_otc-acme-hook")])
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
