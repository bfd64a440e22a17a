//! `--parallel N` / `OTC_PARALLEL`: how many of a run's requests may be in
//! flight at once. Outside 1..=32 it is refused before any request (exit 2),
//! from a flag, the environment or a config file; inside, a run works as before.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::cloud::Cloud;
use common::*;

fn auth(sim: &otc_sim::Sim, setup: impl FnOnce(&mut std::process::Command)) -> Run {
    let mut c = Cloud::Otc.certbot(sim).challenge(
        "auth",
        "par.example.test",
        "v-parallel",
        Some("0"),
        Some("par.example.test"),
    );
    setup(&mut c);
    run(sim, &mut c)
}

fn assert_refused(sim: &otc_sim::Sim, r: &Run, shown: &str) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(
        r.stderr.contains("--parallel") && r.stderr.contains(shown),
        "{}",
        r.stderr
    );
    assert!(requests(sim).is_empty(), "{:?}", requests(sim));
}

#[test]
fn outside_one_to_thirty_two_is_refused_before_any_request() {
    let sim = start(base_seed());
    for v in ["0", "33", "-1", "eight"] {
        let r = auth(&sim, |c| {
            c.arg(format!("--parallel={v}"));
        });
        assert_refused(&sim, &r, v);
        let r = auth(&sim, |c| {
            c.env("OTC_PARALLEL", v);
        });
        assert_refused(&sim, &r, v);
    }
    let d = std::env::temp_dir().join(format!("otc-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let conf = d.join("config");
    std::fs::write(&conf, "OTC_PARALLEL=64\n").unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = auth(&sim, |c| {
        c.arg("--config").arg(&conf);
    });
    assert_refused(&sim, &r, "64");
    assert!(
        r.stderr.contains("OTC_PARALLEL is set in config file"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn one_and_thirty_two_are_accepted_and_the_run_works() {
    let sim = start(base_seed());
    for (how, v) in [("flag", "1"), ("env", "32")] {
        let r = auth(&sim, |c| {
            if how == "flag" {
                c.args(["--parallel", v]);
            } else {
                c.env("OTC_PARALLEL", v);
            }
        });
        assert_eq!(r.code, 0, "--parallel {v}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            public_txt(&sim, "example.test.", "_acme-challenge.par.example.test."),
            vec!["v-parallel"]
        );
    }
}

/// A loopback HTTP/1.1 server that keeps connections alive, counts the
/// connections opened and the requests handled at once. Each request first
/// waits (at most 5 s, real time) until `meet` requests were in flight
/// together, so the peak shows whether they overlapped.
struct KeepAlive {
    addr: std::net::SocketAddr,
    state: std::sync::Arc<(std::sync::Mutex<Counts>, std::sync::Condvar)>,
}

#[derive(Default)]
struct Counts {
    opened: usize,
    in_flight: usize,
    /// The most requests at once since the last [`KeepAlive::next_round`].
    peak: usize,
}

impl KeepAlive {
    fn start(meet: usize) -> KeepAlive {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = std::sync::Arc::new((
            std::sync::Mutex::new(Counts::default()),
            std::sync::Condvar::new(),
        ));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                st.0.lock().unwrap().opened += 1;
                let st = st.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut conn = conn;
                    loop {
                        // The request head (GET: no body).
                        let mut line = String::new();
                        let mut head = 0;
                        loop {
                            line.clear();
                            match reader.read_line(&mut line) {
                                Ok(0) | Err(_) => return,
                                Ok(_) if line == "\r\n" => break,
                                Ok(_) => head += 1,
                            }
                        }
                        assert!(head > 0);
                        {
                            let (m, cv) = &*st;
                            let mut c = m.lock().unwrap();
                            c.in_flight += 1;
                            c.peak = c.peak.max(c.in_flight);
                            cv.notify_all();
                            let (mut c, _) = cv
                                .wait_timeout_while(c, std::time::Duration::from_secs(5), |c| {
                                    c.peak < meet
                                })
                                .unwrap();
                            c.in_flight -= 1;
                        }
                        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    }
                });
            }
        });
        KeepAlive { addr, state }
    }

    fn counts(&self) -> (usize, usize) {
        let c = self.state.0.lock().unwrap();
        (c.opened, c.peak)
    }

    fn next_round(&self) {
        self.state.0.lock().unwrap().peak = 0;
    }
}

#[test]
fn one_agent_serves_concurrent_requests_and_keeps_their_connections_alive() {
    use otc_acme_hook::http::{Timeouts, Transport, UreqTransport};
    let server = KeepAlive::start(6);
    let t = UreqTransport::new(Timeouts {
        connect: std::time::Duration::from_secs(5),
        whole: std::time::Duration::from_secs(10),
    });
    let url = format!("http://{}/x", server.addr);
    let round = || {
        otc_acme_hook::flow::run_all(6, vec![(); 6], |()| {
            t.send("GET", &url, &[], b"").map(|r| r.status).unwrap()
        })
    };
    assert_eq!(round(), vec![200; 6]);
    assert_eq!(server.counts(), (6, 6), "(connections, requests at once)");
    // Six at once again: every connection is reused (ureq's default keeps 3
    // idle per host, and three new ones would be opened).
    server.next_round();
    assert_eq!(round(), vec![200; 6]);
    assert_eq!(server.counts(), (6, 6), "no new connection");
}
