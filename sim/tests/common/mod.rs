//! Helpers of the end-to-end tests: raw HTTP/1.1 and DNS exchanges with a
//! running simulator, and requests signed with the simulator's own OTC signer
//! (`otc_sim::testing`), never the product's.
#![allow(dead_code)] // each test file uses some of them

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use otc_sim::{Seed, Sim, SimOptions};
use serde_json::{Value, json};
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, PacketFlag, Question, RCODE, TYPE};

/// Status, lower-cased headers, body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// A minimal HTTP/1.1 exchange on a fresh connection.
/// Returns `None` if the server closed the connection without answering.
pub fn http(
    sim: &Sim,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Option<Answer> {
    let mut s = TcpStream::connect(sim.http_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {url} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {}\r\n", sim.http_addr()));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    if raw.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, body.to_string()))
}

pub fn get_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A request signed with this module's own verifier helpers.
pub fn signed(sim: &Sim, method: &str, url: &str, body: &str, cred: &Value) -> (u16, Value) {
    let (status, _, body) = signed_answer(sim, method, url, body, cred);
    (status, serde_json::from_str(&body).unwrap())
}

/// Like [`signed`], with the headers and the raw body.
pub fn signed_answer(sim: &Sim, method: &str, url: &str, body: &str, cred: &Value) -> Answer {
    let headers = otc_sim::testing::sign_json(
        method,
        url,
        &sim.http_addr().to_string(),
        body,
        (
            cred["access"].as_str().unwrap(),
            cred["secret"].as_str().unwrap(),
            cred["securitytoken"].as_str(),
        ),
        &httpdate_now_sdk(),
    );
    http(sim, method, url, &headers, body).unwrap()
}

pub fn httpdate_now_sdk() -> String {
    otc_sim::testing::sdk_date_now()
}

pub fn dns_query(name: &str, qtype: TYPE) -> Vec<u8> {
    let mut q = Packet::new_query(7);
    q.questions.push(Question::new(
        Name::new_unchecked(name),
        qtype.into(),
        CLASS::IN.into(),
        false,
    ));
    q.build_bytes_vec().unwrap()
}

pub fn udp_ask(sim: &Sim, name: &str) -> Vec<u8> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&dns_query(name, TYPE::TXT), sim.dns_addr())
        .unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    buf[..n].to_vec()
}

pub fn tcp_ask(sim: &Sim, name: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(sim.dns_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let q = dns_query(name, TYPE::TXT);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    s.write_all(&framed).unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut msg).unwrap();
    msg
}

pub fn txt_count(bytes: &[u8]) -> (RCODE, bool, usize) {
    let p = Packet::parse(bytes).unwrap();
    let n = p
        .answers
        .iter()
        .filter(|a| matches!(a.rdata, RData::TXT(_)))
        .count();
    (p.rcode(), p.has_flags(PacketFlag::TRUNCATION), n)
}

pub fn demo_sim() -> Sim {
    let mut seed = Seed::demo();
    seed.pending_delay_ms = 0;
    seed.propagation_delay_ms = 300;
    seed.zones[0].id = Some("zone-public".into());
    Sim::start(SimOptions {
        seed,
        ..SimOptions::default()
    })
    .unwrap()
}

/// The credential of an IAM `securitytokens` answer, or a CCE one in the same shape.
pub fn credential_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap();
    if let Some(c) = v.get("credentials") {
        return json!({"access": c["accessKeyId"], "secret": c["secretAccessKey"],
                      "securitytoken": c["securityToken"]});
    }
    v["credential"].clone()
}

pub fn header_pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}
