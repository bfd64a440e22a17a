//! The HTTP server: one listener for every endpoint of the cloud and the
//! control API.
//!
//! Layout: a small TCP relay owns the public port and forwards each
//! connection to a tiny_http server on a private loopback port. Why the
//! relay: tiny_http cannot close a connection without answering (dropping a
//! request sends a 500), but the `reset` fault must do exactly that. The relay
//! knows the client socket behind each tiny_http connection and shuts it down.
//! Each request is handled on its own thread so a `slow` fault blocks nobody.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use super::http::{Req, Resp, connectable};
use super::router::{Outcome, dispatch};
use super::world::Shared;

/// Larger bodies are refused; the API's own are a few hundred bytes.
const MAX_BODY: u64 = 1 << 20;

/// Client sockets by the relay's upstream address (what tiny_http reports
/// as the peer), so a handler can cut its client off.
type Conns = Arc<Mutex<HashMap<SocketAddr, TcpStream>>>;

fn lock_conns(conns: &Conns) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, TcpStream>> {
    conns.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running HTTP server; stops on drop.
pub(crate) struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    conns: Conns,
    threads: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds the public listener; `shared` is built once the address is known.
    pub fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
        TcpListener::bind(addr).with_context(|| format!("cannot bind HTTP on {addr}"))
    }

    pub fn start(listener: TcpListener, shared: Arc<Shared>) -> anyhow::Result<HttpServer> {
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::http("127.0.0.1:0")
            .map_err(|e| anyhow::anyhow!("cannot start the HTTP server: {e}"))?;
        let inner = server
            .server_addr()
            .to_ip()
            .context("tiny_http did not listen on an IP address")?;
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Conns = Arc::default();

        let accept = {
            let (stop, conns) = (stop.clone(), conns.clone());
            thread::Builder::new()
                .name("otc-sim-http-accept".into())
                .spawn(move || accept_loop(&listener, inner, &stop, &conns))?
        };
        let serve = {
            let (stop, server, conns) = (stop.clone(), server.clone(), conns.clone());
            thread::Builder::new()
                .name("otc-sim-http".into())
                .spawn(move || serve_loop(&server, &shared, &stop, &conns))?
        };
        Ok(HttpServer {
            addr,
            stop,
            server,
            conns,
            threads: vec![accept, serve],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so its thread sees the flag.
        let _ = TcpStream::connect_timeout(&connectable(self.addr), Duration::from_secs(1));
        self.server.unblock();
        for stream in lock_conns(&self.conns).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, inner: SocketAddr, stop: &AtomicBool, conns: &Conns) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(client) => {
                let conns = conns.clone();
                let _ = thread::Builder::new()
                    .name("otc-sim-relay".into())
                    .spawn(move || relay(client, inner, &conns));
            }
            // E.g. out of file descriptors: back off instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Relays one client connection to tiny_http, each request over an inner
/// connection of its own that tiny_http is asked to close after it. tiny_http
/// 0.12 gives each open connection a pool thread for its whole life and can
/// lose a wake-up when several connect at once: a client's parallel keep-alive
/// connections then waited (seconds) for another one to close. The client
/// keeps its keep-alive connection; only the hop behind the relay closes.
fn relay(client: TcpStream, inner: SocketAddr, conns: &Conns) {
    // The relay forwards whatever arrives at once: Nagle's algorithm would hold
    // back the second small write (a body after its headers) for a delayed ACK.
    let _ = client.set_nodelay(true);
    let (Ok(reader), Ok(mut client_w)) = (client.try_clone(), client.try_clone()) else {
        return;
    };
    let mut reader = io::BufReader::new(reader);
    loop {
        let Some(head) = read_head(&mut reader) else {
            return;
        };
        let Ok(upstream) = TcpStream::connect(inner) else {
            return;
        };
        let _ = upstream.set_nodelay(true);
        let Ok(key) = upstream.local_addr() else {
            return;
        };
        if let Ok(handle) = client.try_clone() {
            lock_conns(conns).insert(key, handle);
        }
        let sent = match head.body {
            // A chunked body (no client of ours sends one): the rest of the
            // connection goes through as it comes, one request after another.
            Body::Chunked => {
                let up_r = upstream.try_clone();
                let _ = (&upstream).write_all(&head.bytes);
                if let Ok(up_r) = up_r {
                    let w = client_w.try_clone();
                    let back = thread::spawn(move || {
                        if let Ok(mut w) = w {
                            let _ = io::copy(&mut &up_r, &mut w);
                            let _ = w.shutdown(Shutdown::Write);
                        }
                    });
                    let _ = io::copy(&mut reader, &mut &upstream);
                    let _ = upstream.shutdown(Shutdown::Write);
                    let _ = back.join();
                }
                lock_conns(conns).remove(&key);
                return;
            }
            Body::Length(n) => (&upstream)
                .write_all(&head.bytes)
                .and_then(|_| io::copy(&mut (&mut reader).take(n), &mut &upstream)),
        };
        let answered = sent.is_ok() && io::copy(&mut &upstream, &mut client_w).is_ok();
        lock_conns(conns).remove(&key);
        if !answered || head.close {
            let _ = client_w.shutdown(Shutdown::Write);
            return;
        }
    }
}

enum Body {
    Length(u64),
    Chunked,
}

/// A request's head as forwarded (its `Connection` header replaced by
/// `Connection: close`) and how its body is framed.
struct Head {
    bytes: Vec<u8>,
    body: Body,
    /// The client asked to close after this request (or speaks HTTP/1.0).
    close: bool,
}

/// Reads one request head (up to the blank line); `None` at the end of the
/// connection or for a head over 64 KiB.
fn read_head(reader: &mut impl io::BufRead) -> Option<Head> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut size = 0;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        size += line.len();
        if size > 64 * 1024 {
            return None;
        }
        let blank = line == b"\r\n" || line == b"\n";
        if blank && lines.is_empty() {
            continue; // a stray line break between requests
        }
        if blank {
            break;
        }
        lines.push(line);
    }
    let mut body = Body::Length(0);
    let first = String::from_utf8_lossy(&lines[0]).to_string();
    let mut close = first.trim_end().ends_with("HTTP/1.0");
    let mut bytes = Vec::with_capacity(size + 20);
    for (i, line) in lines.iter().enumerate() {
        let text = String::from_utf8_lossy(line);
        if i > 0
            && let Some((name, value)) = text.split_once(':')
        {
            let name = name.trim();
            if name.eq_ignore_ascii_case("connection") {
                let v = value.to_ascii_lowercase();
                close = v.contains("close") || (close && !v.contains("keep-alive"));
                continue;
            }
            if name.eq_ignore_ascii_case("content-length") {
                body = Body::Length(value.trim().parse().unwrap_or(0));
            }
            if name.eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
            {
                body = Body::Chunked;
            }
        }
        bytes.extend_from_slice(line);
    }
    bytes.extend_from_slice(b"Connection: close\r\n\r\n");
    Some(Head { bytes, body, close })
}

fn serve_loop(server: &tiny_http::Server, shared: &Arc<Shared>, stop: &AtomicBool, conns: &Conns) {
    loop {
        let request = server.recv();
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(request) = request else { continue };
        let (shared, conns) = (shared.clone(), conns.clone());
        let _ = thread::Builder::new()
            .name("otc-sim-request".into())
            .spawn(move || handle_request(request, &shared, &conns));
    }
}

fn handle_request(mut request: tiny_http::Request, shared: &Shared, conns: &Conns) {
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
        .collect();
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_BODY {
        let resp = Resp::json(
            413,
            &json!({"code": "APIG.0201", "message": "Request body too large or unreadable"}),
        );
        let _ = request.respond(to_tiny(resp));
        return;
    }
    let req = Req::new(request.method().as_str(), request.url(), headers, body);
    match dispatch(shared, &req) {
        Outcome::Respond(resp) => {
            let _ = request.respond(to_tiny(resp));
        }
        Outcome::Reset => {
            let peer = request.remote_addr().copied();
            let client =
                peer.and_then(|p| lock_conns(conns).get(&p).and_then(|s| s.try_clone().ok()));
            match client {
                Some(client) => {
                    let _ = client.shutdown(Shutdown::Both);
                    // Take the writer so tiny_http does not send its own 500.
                    drop(request.into_writer());
                }
                // Not via the relay (someone found the private port): the best
                // tiny_http can do is the 500 it sends for a dropped request.
                None => drop(request),
            }
        }
    }
}

fn to_tiny(resp: Resp) -> tiny_http::Response<io::Cursor<Vec<u8>>> {
    let mut out = tiny_http::Response::from_data(resp.body).with_status_code(resp.status);
    let headers = std::iter::once(("Content-Type".to_string(), resp.content_type.to_string()))
        .chain(resp.headers);
    for (k, v) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            out.add_header(h);
        }
    }
    out
}
