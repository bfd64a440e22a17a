//! `--ca-file`: a private CA (as a TLS-inspecting proxy has) is trusted only
//! when given. The TLS server is `openssl s_server` on loopback, with a CA and
//! a leaf certificate made by openssl for this test.

use std::process::{Command, Stdio};
use std::time::Duration;

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed for this test (scripts/install-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn private_ca_is_trusted_only_with_ca_file() {
    let dir = std::env::temp_dir().join(format!("otc-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=otc-acme-hook test CA",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                "leaf.pem",
                "-key",
                "leaf.key",
                "-www",
                "-quiet",
            ])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("https://127.0.0.1:{port}/");
    let call = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_otc-acme-hook"));
        c.env_clear()
            .args([
                "api",
                "GET",
                &url,
                "--ak",
                "AKTLS",
                "--sk",
                "SKTLS",
                "--retries",
                "0",
                "--http-timeout",
                "5",
            ])
            .args(extra);
        c.output().unwrap()
    };
    // Wait for the server to listen.
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = call(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // Not retried (a refused certificate stays refused), and the fix is named.
    assert!(!err.contains("retrying"), "{err}");
    assert!(err.contains("give its CA with --ca-file"), "{err}");
    let ca = dir.join("ca.pem");
    let out = call(&["--ca-file", ca.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("s_server"),
        "the answer came from the TLS server"
    );
    // A file without certificates is refused with its name.
    std::fs::write(dir.join("empty.pem"), "not a pem\n").unwrap();
    let out = call(&["--ca-file", dir.join("empty.pem").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no PEM certificate"));
    std::fs::remove_dir_all(dir).ok();
}
