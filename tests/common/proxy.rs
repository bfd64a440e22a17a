//! A loopback HTTP proxy for integration tests (test utility, std only).
//!
//! - Absolute-form requests (`GET http://127.0.0.1:1234/v2/zones HTTP/1.1`)
//!   are forwarded in origin form with `Connection: close` (one request per
//!   connection; `Host` and every other header pass unchanged, so AK/SK
//!   signatures stay valid), and the answer is relayed with `Connection: close`.
//! - `CONNECT host:port` opens a tunnel (`200 Connection Established`) and
//!   copies bytes both ways, for https or for clients (like ureq 3) that
//!   tunnel plain http too.
//!
//! [`Proxy::seen`] lists one entry per request, in arrival order:
//! `"GET http://host:port/path?query"` (method and target exactly as on the
//! request line) or `"CONNECT host:port"`. Anything else is recorded the
//! same way (`"METHOD target"`) and refused with 400; an unreachable target
//! gets 502; an upstream that closes without answering gets the client's
//! connection closed without an answer too.
//!
//! Bounded: each connection gives up after 10 s without traffic (connect,
//! reads and writes), a tunnel ends when either side closes, and dropping
//! the proxy shuts every open connection down and joins all its threads.
//!
//! Use: `pub mod proxy;` in `tests/common/mod.rs`, then
//! `let p = common::proxy::Proxy::start();` and point the client's
//! `HTTPS_PROXY`/`HTTP_PROXY` (or `--proxy`) at `p.url()`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Idle limit of every connection: connect, each read, each write.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Sockets of the open connections, so that drop can cut them off.
type Open = Arc<Mutex<HashMap<u64, Vec<TcpStream>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running proxy on `127.0.0.1`; stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    open: Open,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Binds a free loopback port and starts accepting. Panics if it cannot
    /// bind (a test setup failure).
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("proxy: local address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Open = Arc::default();
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (seen, stop, open, threads) =
                (seen.clone(), stop.clone(), open.clone(), threads.clone());
            thread::Builder::new()
                .name("test-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &seen, &stop, &open, &threads))
                .expect("proxy: spawn the accept thread")
        };
        Proxy {
            addr,
            seen,
            stop,
            open,
            threads,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One entry per request so far: `"GET http://host:port/path"` or `"CONNECT host:port"`.
    pub fn seen(&self) -> Vec<String> {
        lock(&self.seen).clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for socks in lock(&self.open).values() {
            for s in socks {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        let threads: Vec<_> = lock(&self.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    seen: &Arc<Mutex<Vec<String>>>,
    stop: &AtomicBool,
    open: &Open,
    threads: &Mutex<Vec<JoinHandle<()>>>,
) {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if let Ok(c) = client.try_clone() {
            lock(open).insert(id, vec![c]);
        }
        let (seen, open) = (seen.clone(), open.clone());
        let spawned = thread::Builder::new()
            .name("test-proxy-conn".into())
            .spawn(move || {
                let _ = handle(client, id, &seen, &open);
                lock(&open).remove(&id);
            });
        let mut threads = lock(threads);
        threads.retain(|t| !t.is_finished());
        if let Ok(t) = spawned {
            threads.push(t);
        }
    }
}

/// Reads up to and including the blank line; returns the head and any bytes
/// already read past it.
fn read_head(stream: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn configure(s: &TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    s.set_nodelay(true)
}

fn simple_answer(client: &mut TcpStream, status: &str) -> io::Result<()> {
    write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    client.flush()
}

/// Connects to `authority` (`host:port`, `[v6]:port`, or `host` for port 80).
fn connect(authority: &str) -> io::Result<TcpStream> {
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:80")
    } else {
        authority.to_string()
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in with_port.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Header lines of a head (after its first line), hop-by-hop ones removed.
fn end_to_end_headers(head: &str) -> Vec<&str> {
    head.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            !l.split_once(':')
                .is_some_and(|(k, _)| is_hop_by_hop(k.trim()))
        })
        .collect()
}

fn handle(
    mut client: TcpStream,
    id: u64,
    seen: &Mutex<Vec<String>>,
    open: &Open,
) -> io::Result<()> {
    configure(&client)?;
    let (head, rest) = read_head(&mut client)?;
    let request_line = head.split("\r\n").next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    lock(seen).push(format!("{method} {target}"));

    if method.eq_ignore_ascii_case("CONNECT") {
        let Ok(upstream) = connect(target) else {
            return simple_answer(&mut client, "502 Bad Gateway");
        };
        track(open, id, &upstream);
        configure(&upstream)?;
        client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
        let mut up = upstream.try_clone()?;
        up.write_all(&rest)?;
        return tunnel(client, upstream);
    }

    let Some(after_scheme) = target.strip_prefix("http://") else {
        return simple_answer(&mut client, "400 Bad Request");
    };
    let (authority, path) = match after_scheme.find('/') {
        Some(i) => after_scheme.split_at(i),
        None => (after_scheme, "/"),
    };
    if authority.is_empty() {
        return simple_answer(&mut client, "400 Bad Request");
    }
    let Ok(mut upstream) = connect(authority) else {
        return simple_answer(&mut client, "502 Bad Gateway");
    };
    track(open, id, &upstream);
    configure(&upstream)?;

    // The request, in origin form, for this one exchange only.
    let version = parts.next().unwrap_or("HTTP/1.1");
    let headers = end_to_end_headers(&head);
    let mut out = format!("{method} {path} {version}\r\n");
    if !headers.iter().any(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
    }) {
        out.push_str(&format!("Host: {authority}\r\n"));
    }
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes())?;
    upstream.write_all(&rest)?;

    // The rest of the request body (if any) flows on while the answer comes back.
    let (mut client_r, mut upstream_w) = (client.try_clone()?, upstream.try_clone()?);
    let body = thread::spawn(move || {
        let _ = io::copy(&mut client_r, &mut upstream_w);
    });
    let relayed = relay_answer(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    let _ = body.join();
    relayed
}

/// Copies the upstream answer to the client, its head with `Connection: close`.
fn relay_answer(upstream: &mut TcpStream, client: &mut TcpStream) -> io::Result<()> {
    // No answer at all (e.g. the simulator's `reset` fault): the client's
    // connection is closed without one too.
    let (head, rest) = read_head(upstream)?;
    let status_line = head.split("\r\n").next().unwrap_or_default();
    let mut out = format!("{status_line}\r\n");
    for h in end_to_end_headers(&head) {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    client.write_all(out.as_bytes())?;
    client.write_all(&rest)?;
    io::copy(upstream, client)?;
    client.flush()
}

fn track(open: &Open, id: u64, s: &TcpStream) {
    if let Ok(c) = s.try_clone()
        && let Some(socks) = lock(open).get_mut(&id)
    {
        socks.push(c);
    }
}

/// Copies both ways; when the upstream side ends, everything ends; when the
/// client stops sending, upstream is told and may still finish its answer.
fn tunnel(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut client_r, mut upstream_w) = (client.try_clone()?, upstream.try_clone()?);
    let to_upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let (mut upstream_r, mut client_w) = (upstream, client);
    let _ = io::copy(&mut upstream_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Both);
    let _ = upstream_r.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
    Ok(())
}
