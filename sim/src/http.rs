//! The HTTP side: one server for metadata, DNS API, IAM, CCE and control endpoints.
//!
//! Layout: a small TCP relay owns the public port and forwards each
//! connection to a tiny_http server on a private loopback port. Why the
//! relay: tiny_http cannot close a connection without answering (dropping a
//! request sends a 500), but the `reset` fault must do exactly that. The relay
//! knows the client socket behind each tiny_http connection and shuts it down.
//! Each request is handled on its own thread so a `slow` fault blocks nobody.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::clock::{self, Now};
use crate::control::{self, FaultKind, RequestEntry};
use crate::verify::{self, Parts};
use crate::world::Shared;
use crate::{api, cce, iam, metadata};

/// Larger bodies are refused; the API's own are a few hundred bytes.
const MAX_BODY: u64 = 1 << 20;

/// A request as received, independent of tiny_http (so handlers are testable).
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    /// Still percent-encoded, as on the request line.
    pub raw_path: String,
    /// Without `?`.
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &str, url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Req {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Req {
            method: method.to_string(),
            raw_path: path.to_string(),
            raw_query: query.to_string(),
            headers,
            body,
        }
    }

    pub fn parts(&self) -> Parts<'_> {
        Parts {
            method: &self.method,
            raw_path: &self.raw_path,
            raw_query: &self.raw_query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Decoded path segments; a trailing slash is ignored.
    pub fn segments(&self) -> Vec<String> {
        let path = self.raw_path.trim_start_matches('/');
        let path = path.strip_suffix('/').unwrap_or(path);
        path.split('/')
            .map(|s| String::from_utf8_lossy(&verify::decode(s)).into_owned())
            .collect()
    }

    /// First decoded value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        verify::query_pairs(&self.raw_query)
            .into_iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        verify::header(&self.headers, name)
    }
}

/// An answer; `Date` is added on the way out from the simulated clock.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, body: &Value) -> Resp {
        Resp {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: &str) -> Resp {
        Resp {
            status,
            content_type,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// `code` or `error_code` of an error body, for the log.
    fn error_code(&self) -> Option<String> {
        if self.status < 400 {
            return None;
        }
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v.get("code")
            .or_else(|| v.get("error_code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn with_date(mut self, now: &Now) -> Resp {
        let date = httpdate::fmt_http_date(clock::system_time(now.sim_us));
        self.headers.push(("Date".to_string(), date));
        self
    }
}

/// A handler's answer plus what the request log records about it.
#[derive(Debug)]
pub(crate) struct Handled {
    pub resp: Resp,
    /// The AK the request was signed with (metadata: the AK it issued).
    pub access_key: Option<String>,
    /// `aksk`, `token`, `id_token` or `sa_token`; see `RequestEntry::auth`.
    pub auth: Option<&'static str>,
    /// The temporary AK the request issued.
    pub issued: Option<String>,
}

impl Handled {
    pub fn new(resp: Resp) -> Handled {
        Handled {
            resp,
            access_key: None,
            auth: None,
            issued: None,
        }
    }
}

/// Routes a non-control, non-fault request to its handler.
fn route(world: &mut crate::world::World, now: &Now, req: &Req, base_url: &str) -> Handled {
    match (req.method.as_str(), req.raw_path.as_str()) {
        ("PUT", metadata::TOKEN_PATH) => Handled::new(metadata::token(world, now, req)),
        ("GET", metadata::SECURITYKEY_PATH) => {
            let (resp, issued) = metadata::securitykey(world, now, req);
            Handled {
                access_key: issued.clone(),
                issued,
                ..Handled::new(resp)
            }
        }
        ("POST", iam::SECURITYTOKENS_PATH) => iam::securitytokens(world, now, req),
        ("POST", iam::AUTH_TOKENS_PATH) => iam::auth_tokens(world, now, req),
        ("POST", iam::ID_TOKEN_PATH) => iam::id_token(world, now, req),
        ("POST", cce::CONTAINER_PATH) => cce::container(world, now, req),
        _ if req.raw_path.starts_with("/v2/") => {
            let (resp, access_key) = api::handle(world, now, req, base_url);
            Handled {
                access_key,
                auth: Some("aksk"),
                ..Handled::new(resp)
            }
        }
        _ if req.raw_path.starts_with("/api/v3/") => {
            cce::api(world, now, req).unwrap_or_else(|| Handled::new(api::no_such_api()))
        }
        _ => Handled::new(api::no_such_api()),
    }
}

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond(Resp),
    /// Close the connection without a word (`reset` fault).
    Reset,
}

/// Routes one request: control, faults, metadata, DNS API; logs it.
pub(crate) fn dispatch(shared: &Shared, req: &Req) -> Outcome {
    if req.raw_path == "/_sim" || req.raw_path.starts_with("/_sim/") {
        let (mut world, now) = shared.lock();
        return Outcome::Respond(control::handle(&mut world, &now, req).with_date(&now));
    }

    let fault = shared
        .lock()
        .0
        .config
        .take_fault(&req.method, &req.raw_path);
    if let Some(f) = fault.as_ref().filter(|f| f.kind == FaultKind::Slow) {
        // Outside the lock: a slow answer must not stall other requests.
        thread::sleep(Duration::from_millis(f.ms.unwrap_or(0)));
    }

    let (mut world, now) = shared.lock();
    let mut fault = fault;
    if let Some(f) = fault.as_ref().filter(|f| f.kind == FaultKind::DropValue) {
        let delays = world.delays();
        if !world
            .store
            .drop_value(f.value.as_deref().unwrap_or(""), &now, delays)
        {
            // Nothing to drop yet: the fault waits for a request that finds the value.
            world.config.requeue(f.clone());
            fault = None;
        }
    }
    let fault_name = fault.as_ref().map(|f| f.kind.as_str());
    let (outcome, handled) = match &fault {
        Some(f) if f.kind == FaultKind::Reset => (Outcome::Reset, None),
        Some(f) if f.kind != FaultKind::Slow && f.kind != FaultKind::DropValue => {
            match f.response() {
                Some(r) => (Outcome::Respond(r), None),
                None => (Outcome::Reset, None),
            }
        }
        _ => {
            let mut h = route(&mut world, &now, req, &shared.base_url);
            let resp = std::mem::replace(&mut h.resp, Resp::text(500, "text/plain", ""));
            (Outcome::Respond(resp), Some(h))
        }
    };
    let (status, code) = match &outcome {
        Outcome::Respond(r) => (Some(r.status), r.error_code()),
        Outcome::Reset => (None, None),
    };
    world.log.request(RequestEntry {
        t_ms: now.real_ms,
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.raw_query.clone(),
        status,
        access_key: handled.as_ref().and_then(|h| h.access_key.clone()),
        auth: handled.as_ref().and_then(|h| h.auth),
        issued: handled.and_then(|h| h.issued),
        code,
        fault: fault_name,
    });
    match outcome {
        Outcome::Respond(r) => Outcome::Respond(r.with_date(&now)),
        Outcome::Reset => Outcome::Reset,
    }
}

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

/// An address one can connect to for a listener bound to `addr`.
pub(crate) fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
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

/// Copies bytes both ways between a client and tiny_http until both sides end.
fn relay(client: TcpStream, inner: SocketAddr, conns: &Conns) {
    let Ok(upstream) = TcpStream::connect(inner) else {
        return;
    };
    // The relay forwards whatever arrives at once: Nagle's algorithm would hold
    // back the second small write (a body after its headers) for a delayed ACK.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(key), Ok(client_w), Ok(upstream_r)) = (
        upstream.local_addr(),
        client.try_clone(),
        upstream.try_clone(),
    ) else {
        return;
    };
    if let Ok(handle) = client.try_clone() {
        lock_conns(conns).insert(key, handle);
    }
    let to_upstream = thread::Builder::new()
        .name("otc-sim-relay".into())
        .spawn(move || {
            let _ = io::copy(&mut &client, &mut &upstream);
            let _ = upstream.shutdown(Shutdown::Write);
        });
    let _ = io::copy(&mut &upstream_r, &mut &client_w);
    let _ = client_w.shutdown(Shutdown::Write);
    if let Ok(t) = to_upstream {
        let _ = t.join();
    }
    lock_conns(conns).remove(&key);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_splits_and_decodes() {
        let r = Req::new(
            "GET",
            "/v2/zones/a%20b/recordsets/?name=x%2Ey&type=TXT&name=z",
            vec![],
            vec![],
        );
        assert_eq!(r.raw_path, "/v2/zones/a%20b/recordsets/");
        assert_eq!(r.segments(), ["v2", "zones", "a b", "recordsets"]);
        assert_eq!(r.param("name").as_deref(), Some("x.y"));
        assert_eq!(r.param("type").as_deref(), Some("TXT"));
        assert_eq!(r.param("marker"), None);
    }

    #[test]
    fn error_code_is_read_from_either_shape() {
        assert_eq!(
            Resp::json(400, &json!({"code": "DNS.0312"}))
                .error_code()
                .as_deref(),
            Some("DNS.0312")
        );
        assert_eq!(
            Resp::json(401, &json!({"error_code": "APIG.0301"}))
                .error_code()
                .as_deref(),
            Some("APIG.0301")
        );
        assert_eq!(Resp::json(200, &json!({"code": "x"})).error_code(), None);
    }
}
