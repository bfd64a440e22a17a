//! Authoritative DNS for the public zones, on UDP and TCP, answering from
//! the cloud's `ServedZones` (see `served`).
//!
//! [`answer`] decides what to say from a [`DnsView`] (pure, unit-tested);
//! [`respond`] does the wire format with simple-dns, EDNS0 and truncation;
//! [`DnsServer`] runs the sockets.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::Context;
use simple_dns::rdata::{self, RData};
use simple_dns::{
    CLASS, CharacterString, Name, OPCODE, Packet, PacketFlag, QCLASS, QTYPE, RCODE, ResourceRecord,
    TYPE,
};

use super::http::connectable;
use super::served::{DnsView, DnsZone, in_zone, parse_mx, txt_strings};
use super::world::Shared;

/// Longest CNAME chain followed inside our data.
const MAX_CHAIN: usize = 8;
/// Plain DNS over UDP without EDNS0.
const MIN_UDP: usize = 512;
/// What we advertise in our own OPT record (the DNS flag day value).
const OUR_UDP_SIZE: u16 = 1232;
const NS_TTL: u32 = 172_800;
const SOA_TTL: u32 = 300;

/// One resource record to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rr {
    pub name: String,
    pub ttl: u32,
    pub data: RrData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RrData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ns(String),
    Mx(u16, String),
    /// Unquoted character-strings.
    Txt(Vec<Vec<u8>>),
    Soa {
        mname: String,
        rname: String,
        serial: u32,
    },
}

impl RrData {
    #[cfg(test)]
    fn type_name(&self) -> &'static str {
        match self {
            RrData::A(_) => "A",
            RrData::Aaaa(_) => "AAAA",
            RrData::Cname(_) => "CNAME",
            RrData::Ns(_) => "NS",
            RrData::Mx(..) => "MX",
            RrData::Txt(_) => "TXT",
            RrData::Soa { .. } => "SOA",
        }
    }
}

/// The decision for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub rcode: RCODE,
    pub answers: Vec<Rr>,
    pub authority: Vec<Rr>,
}

impl Answer {
    fn refused() -> Answer {
        Answer {
            rcode: RCODE::Refused,
            answers: Vec::new(),
            authority: Vec::new(),
        }
    }
}

/// The zone with the longest name containing `name`.
fn find_zone<'a>(view: &'a DnsView, name: &str) -> Option<&'a DnsZone> {
    view.zones
        .iter()
        .filter(|z| in_zone(name, &z.name))
        .max_by_key(|z| z.name.len())
}

fn soa(zone: &DnsZone, nameservers: &[String]) -> Rr {
    Rr {
        name: zone.name.clone(),
        ttl: SOA_TTL,
        data: RrData::Soa {
            mname: nameservers
                .first()
                .cloned()
                .unwrap_or_else(|| "localhost.".to_string()),
            rname: format!("{}.", zone.email.replacen('@', ".", 1)),
            serial: zone.serial,
        },
    }
}

/// Converts one stored value; `None` if it cannot be served (checked on input, so rare).
fn rr_data(rtype: &str, value: &str) -> Option<RrData> {
    Some(match rtype {
        "A" => RrData::A(value.trim().parse().ok()?),
        "AAAA" => RrData::Aaaa(value.trim().parse().ok()?),
        "CNAME" => RrData::Cname(value.trim().to_ascii_lowercase()),
        "NS" => RrData::Ns(value.trim().to_ascii_lowercase()),
        "MX" => {
            let (pref, host) = parse_mx(value)?;
            RrData::Mx(pref, host)
        }
        "TXT" => RrData::Txt(txt_strings(value).ok()?),
        _ => return None,
    })
}

/// Records of type `qtype` (or all, for `ANY`) at `name`, including the
/// apex NS and SOA we synthesise.
fn data_at(zone: &DnsZone, nameservers: &[String], name: &str, qtype: &str) -> Vec<Rr> {
    let mut out = Vec::new();
    let any = qtype == "ANY";
    if name == zone.name {
        if any || qtype == "SOA" {
            out.push(soa(zone, nameservers));
        }
        if any || qtype == "NS" {
            out.extend(nameservers.iter().map(|ns| Rr {
                name: zone.name.clone(),
                ttl: NS_TTL,
                data: RrData::Ns(ns.clone()),
            }));
        }
    }
    for set in zone.rrsets.iter().filter(|r| r.name == name) {
        if !any && set.rtype != qtype {
            continue;
        }
        let mut seen = Vec::new();
        for value in &set.records {
            if let Some(data) = rr_data(&set.rtype, value) {
                // DNS RRsets are sets: a value stored twice is served once.
                if !seen.contains(&data) {
                    seen.push(data.clone());
                    out.push(Rr {
                        name: name.to_string(),
                        ttl: set.ttl,
                        data,
                    });
                }
            }
        }
    }
    out
}

/// The name owns records, or is an apex, or has names below it.
fn name_exists(zone: &DnsZone, name: &str) -> bool {
    name == zone.name || zone.rrsets.iter().any(|r| in_zone(&r.name, name))
}

/// Decides the answer to `qname`/`qtype` (lower-case, dot-terminated; type
/// as a name like `"TXT"`, `"ANY"`).
pub(crate) fn answer(view: &DnsView, nameservers: &[String], qname: &str, qtype: &str) -> Answer {
    let Some(mut zone) = find_zone(view, qname) else {
        return Answer::refused();
    };
    let mut answers = Vec::new();
    let mut current = qname.to_string();
    let mut visited = HashSet::from([current.clone()]);
    loop {
        let found = data_at(zone, nameservers, &current, qtype);
        if !found.is_empty() {
            answers.extend(found);
            return Answer {
                rcode: RCODE::NoError,
                answers,
                authority: Vec::new(),
            };
        }
        let cname = data_at(zone, nameservers, &current, "CNAME")
            .into_iter()
            .find_map(|rr| match &rr.data {
                RrData::Cname(target) => Some((target.clone(), rr)),
                _ => None,
            });
        if let Some((target, rr)) = cname.filter(|_| qtype != "CNAME") {
            answers.push(rr);
            // Stop at a loop, a long chain, or a target outside our zones
            // (the resolver continues from there).
            let next_zone = find_zone(view, &target);
            if answers.len() >= MAX_CHAIN || !visited.insert(target.clone()) || next_zone.is_none()
            {
                return Answer {
                    rcode: RCODE::NoError,
                    answers,
                    authority: Vec::new(),
                };
            }
            if let Some(z) = next_zone {
                zone = z;
            }
            current = target;
            continue;
        }
        // No data here: NODATA if the name exists, else NXDOMAIN (of the
        // last name in a CNAME chain, as RFC 6604 says).
        let rcode = if name_exists(zone, &current) {
            RCODE::NoError
        } else {
            RCODE::NameError
        };
        return Answer {
            rcode,
            answers,
            authority: vec![soa(zone, nameservers)],
        };
    }
}

fn qtype_name(q: QTYPE) -> String {
    match q {
        QTYPE::ANY => "ANY".to_string(),
        QTYPE::TYPE(TYPE::A) => "A".to_string(),
        QTYPE::TYPE(TYPE::AAAA) => "AAAA".to_string(),
        QTYPE::TYPE(TYPE::CNAME) => "CNAME".to_string(),
        QTYPE::TYPE(TYPE::NS) => "NS".to_string(),
        QTYPE::TYPE(TYPE::MX) => "MX".to_string(),
        QTYPE::TYPE(TYPE::TXT) => "TXT".to_string(),
        QTYPE::TYPE(TYPE::SOA) => "SOA".to_string(),
        other => format!("TYPE{}", u16::from(other)),
    }
}

/// `Name` text of a question, lower-cased, dot-terminated.
fn name_text(name: &Name<'_>) -> String {
    let mut out = String::new();
    for label in name.get_labels() {
        out.push_str(&String::from_utf8_lossy(label.as_ref()).to_ascii_lowercase());
        out.push('.');
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

fn to_record(rr: &Rr) -> Option<ResourceRecord<'_>> {
    let data = match &rr.data {
        RrData::A(ip) => RData::A((*ip).into()),
        RrData::Aaaa(ip) => RData::AAAA((*ip).into()),
        RrData::Cname(t) => RData::CNAME(rdata::CNAME(Name::new(t).ok()?)),
        RrData::Ns(t) => RData::NS(rdata::NS(Name::new(t).ok()?)),
        RrData::Mx(preference, host) => RData::MX(rdata::MX {
            preference: *preference,
            exchange: Name::new(host).ok()?,
        }),
        RrData::Txt(strings) => {
            let mut txt = rdata::TXT::new();
            for s in strings {
                txt.add_char_string(CharacterString::new(s).ok()?);
            }
            RData::TXT(txt)
        }
        RrData::Soa {
            mname,
            rname,
            serial,
        } => RData::SOA(rdata::SOA {
            mname: Name::new(mname).ok()?,
            rname: Name::new(rname).ok()?,
            serial: *serial,
            refresh: 7200,
            retry: 900,
            expire: 1_209_600,
            minimum: SOA_TTL,
        }),
    };
    Some(ResourceRecord::new(
        Name::new(&rr.name).ok()?,
        CLASS::IN,
        rr.ttl,
        data,
    ))
}

/// A header-only error reply built from raw bytes, for queries simple-dns cannot parse.
fn raw_error(query: &[u8], rcode: u8) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    let mut out = vec![0u8; 12];
    out[..2].copy_from_slice(&query[..2]);
    // QR=1, keep opcode and RD; AA=0.
    out[2] = 0x80 | (query[2] & 0x79);
    out[3] = rcode & 0x0f;
    Some(out)
}

/// Answers one DNS message. Over UDP (`udp`) an answer larger than the
/// client's EDNS0 size (512 without EDNS0) is sent truncated: TC=1, no
/// records, so the client retries over TCP.
/// Returns `None` for messages that deserve no answer (responses, junk).
pub(crate) fn respond(
    query: &[u8],
    view: &DnsView,
    nameservers: &[String],
    udp: bool,
) -> Option<Vec<u8>> {
    let Ok(q) = Packet::parse(query) else {
        return raw_error(query, 1);
    };
    if q.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let mut reply = Packet::new_reply(q.id());
    reply.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    if q.has_flags(PacketFlag::RECURSION_DESIRED) {
        reply.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    reply.questions = q.questions.clone();
    if q.opt().is_some() {
        *reply.opt_mut() = Some(rdata::OPT {
            opt_codes: Vec::new(),
            udp_packet_size: OUR_UDP_SIZE,
            version: 0,
        });
    }
    let limit = q
        .opt()
        .map_or(MIN_UDP, |o| usize::from(o.udp_packet_size).max(MIN_UDP));

    if q.opcode() != OPCODE::StandardQuery {
        *reply.rcode_mut() = RCODE::NotImplemented;
        return reply.build_bytes_vec_compressed().ok();
    }
    let question = match q.questions.as_slice() {
        [one] => one,
        _ => {
            *reply.rcode_mut() = RCODE::FormatError;
            return reply.build_bytes_vec_compressed().ok();
        }
    };
    if !matches!(question.qclass, QCLASS::CLASS(CLASS::IN) | QCLASS::ANY) {
        *reply.rcode_mut() = RCODE::Refused;
        return reply.build_bytes_vec_compressed().ok();
    }
    let decided = answer(
        view,
        nameservers,
        &name_text(&question.qname),
        &qtype_name(question.qtype),
    );
    *reply.rcode_mut() = decided.rcode;
    if decided.rcode == RCODE::Refused {
        // Not our zone: we are no authority for it.
        reply.remove_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    }
    reply.answers = decided.answers.iter().filter_map(to_record).collect();
    reply.name_servers = decided.authority.iter().filter_map(to_record).collect();
    let bytes = reply.build_bytes_vec_compressed().ok()?;
    if udp && bytes.len() > limit {
        reply.answers.clear();
        reply.name_servers.clear();
        reply.set_flags(PacketFlag::TRUNCATION);
        return reply.build_bytes_vec_compressed().ok();
    }
    Some(bytes)
}

/// Snapshot of what DNS serves now (also logs changes that became visible).
fn snapshot(shared: &Shared) -> (DnsView, Vec<String>) {
    let (mut world, now) = shared.lock();
    let view = world.cloud.served().view(now.mono_ms);
    (view, world.core.nameservers.clone())
}

/// The running DNS server; stops on drop.
pub(crate) struct DnsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Binds UDP, then TCP on the same port. With port 0 the kernel picks the
/// UDP port, which may be taken for TCP, so that case is retried.
pub(crate) fn bind(addr: SocketAddr) -> anyhow::Result<(UdpSocket, TcpListener)> {
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last_err = None;
    for _ in 0..attempts {
        let udp =
            UdpSocket::bind(addr).with_context(|| format!("cannot bind DNS/UDP on {addr}"))?;
        let bound = udp.local_addr()?;
        match TcpListener::bind(bound) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_err = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "cannot bind DNS/TCP on the same port as DNS/UDP ({addr}): {}",
        last_err.map_or_else(|| "unknown error".to_string(), |e| e.to_string())
    ))
}

impl DnsServer {
    pub fn start(
        udp: UdpSocket,
        tcp: TcpListener,
        shared: Arc<Shared>,
    ) -> anyhow::Result<DnsServer> {
        let addr = udp.local_addr()?;
        // A timeout lets the UDP loop notice shutdown.
        udp.set_read_timeout(Some(Duration::from_millis(100)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let udp_thread = {
            let (stop, shared) = (stop.clone(), shared.clone());
            thread::Builder::new()
                .name("otc-sim-dns-udp".into())
                .spawn(move || udp_loop(&udp, &shared, &stop))?
        };
        let tcp_thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("otc-sim-dns-tcp".into())
                .spawn(move || tcp_loop(&tcp, &shared, &stop))?
        };
        Ok(DnsServer {
            addr,
            stop,
            threads: vec![udp_thread, tcp_thread],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&connectable(self.addr), Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn udp_loop(socket: &UdpSocket, shared: &Shared, stop: &AtomicBool) {
    let mut buf = [0u8; 65_535];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let (view, ns) = snapshot(shared);
        if let Some(reply) = respond(&buf[..len], &view, &ns, true) {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

fn tcp_loop(listener: &TcpListener, shared: &Arc<Shared>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let shared = shared.clone();
        let _ = thread::Builder::new()
            .name("otc-sim-dns-conn".into())
            .spawn(move || tcp_conn(stream, &shared));
    }
}

/// Serves length-prefixed messages until the client closes or goes idle.
fn tcp_conn(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut msg).is_err() {
            return;
        }
        let (view, ns) = snapshot(shared);
        let Some(reply) = respond(&msg, &view, &ns, false) else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = reply_len.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::served::DnsRrset;

    fn rrset(name: &str, rtype: &str, records: &[&str]) -> DnsRrset {
        DnsRrset {
            name: name.into(),
            rtype: rtype.into(),
            ttl: 300,
            records: records.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn view() -> DnsView {
        DnsView {
            zones: vec![
                DnsZone {
                    name: "example.test.".into(),
                    serial: 7,
                    email: "hostmaster@example.test".into(),
                    rrsets: vec![
                        rrset(
                            "_acme-challenge.example.test.",
                            "TXT",
                            &["\"keep-me\"", "\"a\" \"b\""],
                        ),
                        rrset(
                            "_acme-challenge.alias.example.test.",
                            "CNAME",
                            &["_acme-challenge.delegated.example.test."],
                        ),
                        rrset(
                            "_acme-challenge.delegated.example.test.",
                            "TXT",
                            &["\"delegated\""],
                        ),
                        rrset(
                            "dangling.example.test.",
                            "CNAME",
                            &["missing.example.test."],
                        ),
                        rrset("out.example.test.", "CNAME", &["target.elsewhere.test."]),
                        rrset("loop1.example.test.", "CNAME", &["loop2.example.test."]),
                        rrset("loop2.example.test.", "CNAME", &["loop1.example.test."]),
                        rrset("www.example.test.", "A", &["127.0.0.1"]),
                        rrset("www.example.test.", "AAAA", &["::1"]),
                        rrset("deep.empty.example.test.", "TXT", &["\"x\""]),
                        rrset("x.sub.example.test.", "TXT", &["\"parent-data\""]),
                    ],
                },
                DnsZone {
                    name: "sub.example.test.".into(),
                    serial: 1,
                    email: "hostmaster@sub.example.test".into(),
                    rrsets: vec![rrset(
                        "_acme-challenge.sub.example.test.",
                        "TXT",
                        &["\"sub\""],
                    )],
                },
            ],
        }
    }

    fn ns() -> Vec<String> {
        vec!["ns1.example.test.".into(), "ns2.example.test.".into()]
    }

    fn ask(name: &str, qtype: &str) -> Answer {
        answer(&view(), &ns(), name, qtype)
    }

    fn types(rrs: &[Rr]) -> Vec<&'static str> {
        rrs.iter().map(|r| r.data.type_name()).collect()
    }

    #[test]
    fn txt_values_are_served_unquoted() {
        let a = ask("_acme-challenge.example.test.", "TXT");
        assert_eq!(a.rcode, RCODE::NoError);
        assert_eq!(a.answers[0].data, RrData::Txt(vec![b"keep-me".to_vec()]));
        assert_eq!(
            a.answers[1].data,
            RrData::Txt(vec![b"a".to_vec(), b"b".to_vec()])
        );
        assert!(a.authority.is_empty());
    }

    #[test]
    fn nodata_and_nxdomain_carry_the_soa() {
        let a = ask("www.example.test.", "TXT");
        assert_eq!((a.rcode, a.answers.len()), (RCODE::NoError, 0));
        assert_eq!(types(&a.authority), ["SOA"]);
        let a = ask("empty.example.test.", "TXT");
        assert_eq!(a.rcode, RCODE::NoError, "empty non-terminal exists");
        let a = ask("nothing.example.test.", "TXT");
        assert_eq!(a.rcode, RCODE::NameError);
        assert_eq!(a.authority[0].name, "example.test.");
        assert_eq!(
            a.authority[0].data,
            RrData::Soa {
                mname: "ns1.example.test.".into(),
                rname: "hostmaster.example.test.".into(),
                serial: 7
            }
        );
        assert_eq!(ask("example.other.", "TXT").rcode, RCODE::Refused);
        assert_eq!(ask("test.", "NS").rcode, RCODE::Refused);
    }

    #[test]
    fn apex_has_ns_and_soa() {
        assert_eq!(types(&ask("example.test.", "NS").answers), ["NS", "NS"]);
        assert_eq!(types(&ask("example.test.", "SOA").answers), ["SOA"]);
        assert_eq!(ask("example.test.", "TXT").rcode, RCODE::NoError);
        assert_eq!(types(&ask("sub.example.test.", "SOA").answers), ["SOA"]);
    }

    #[test]
    fn cname_chains_are_followed() {
        let a = ask("_acme-challenge.alias.example.test.", "TXT");
        assert_eq!(a.rcode, RCODE::NoError);
        assert_eq!(types(&a.answers), ["CNAME", "TXT"]);
        assert_eq!(a.answers[1].name, "_acme-challenge.delegated.example.test.");
        // Asking for the CNAME itself does not follow it.
        assert_eq!(
            types(&ask("_acme-challenge.alias.example.test.", "CNAME").answers),
            ["CNAME"]
        );
        // A dangling target inside our zone: NXDOMAIN with the CNAME kept.
        let a = ask("dangling.example.test.", "TXT");
        assert_eq!(
            (a.rcode, types(&a.answers)),
            (RCODE::NameError, vec!["CNAME"])
        );
        // A target outside our zones is left to the resolver.
        let a = ask("out.example.test.", "A");
        assert_eq!(
            (a.rcode, types(&a.answers)),
            (RCODE::NoError, vec!["CNAME"])
        );
        // Loops end.
        let a = ask("loop1.example.test.", "TXT");
        assert_eq!(types(&a.answers), ["CNAME", "CNAME"]);
    }

    #[test]
    fn longest_zone_wins() {
        let a = ask("_acme-challenge.sub.example.test.", "TXT");
        assert_eq!(a.answers[0].data, RrData::Txt(vec![b"sub".to_vec()]));
        // Data stored in the parent below the child apex is not visible.
        assert_eq!(ask("x.sub.example.test.", "TXT").rcode, RCODE::NameError);
    }

    #[test]
    fn addresses() {
        let a = ask("www.example.test.", "A");
        assert_eq!(a.answers[0].data, RrData::A(Ipv4Addr::LOCALHOST));
        let a = ask("www.example.test.", "AAAA");
        assert_eq!(a.answers[0].data, RrData::Aaaa(Ipv6Addr::LOCALHOST));
        assert_eq!(
            types(&ask("www.example.test.", "ANY").answers),
            ["A", "AAAA"]
        );
    }

    fn query(name: &str, qtype: TYPE, edns: Option<u16>) -> Vec<u8> {
        let mut q = Packet::new_query(0x1234);
        q.set_flags(PacketFlag::RECURSION_DESIRED);
        q.questions.push(simple_dns::Question::new(
            Name::new_unchecked(name),
            qtype.into(),
            CLASS::IN.into(),
            false,
        ));
        if let Some(size) = edns {
            *q.opt_mut() = Some(rdata::OPT {
                opt_codes: Vec::new(),
                udp_packet_size: size,
                version: 0,
            });
        }
        q.build_bytes_vec().unwrap()
    }

    fn txt_of(p: &Packet<'_>) -> Vec<String> {
        p.answers
            .iter()
            .filter_map(|rr| match &rr.rdata {
                RData::TXT(t) => Some(
                    t.iter_raw()
                        .map(|(k, v)| {
                            let mut s = String::from_utf8_lossy(k).into_owned();
                            if let Some(v) = v {
                                s.push('=');
                                s.push_str(&String::from_utf8_lossy(v));
                            }
                            s
                        })
                        .collect::<Vec<_>>()
                        .join("|"),
                ),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn wire_answer_is_authoritative() {
        let bytes = respond(
            &query("_ACME-Challenge.Example.Test", TYPE::TXT, None),
            &view(),
            &ns(),
            true,
        )
        .unwrap();
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.id(), 0x1234);
        assert!(p.has_flags(
            PacketFlag::RESPONSE | PacketFlag::AUTHORITATIVE_ANSWER | PacketFlag::RECURSION_DESIRED
        ));
        assert!(!p.has_flags(PacketFlag::RECURSION_AVAILABLE));
        assert_eq!(p.rcode(), RCODE::NoError);
        assert_eq!(p.questions.len(), 1);
        assert_eq!(txt_of(&p), ["keep-me", "a|b"]);
        assert!(p.opt().is_none());

        let bytes = respond(
            &query("nothing.example.test", TYPE::TXT, Some(1232)),
            &view(),
            &ns(),
            true,
        )
        .unwrap();
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.rcode(), RCODE::NameError);
        assert_eq!(p.name_servers.len(), 1);
        assert!(p.opt().is_some(), "EDNS answered with EDNS");

        let bytes = respond(
            &query("nowhere.invalid", TYPE::A, None),
            &view(),
            &ns(),
            true,
        )
        .unwrap();
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.rcode(), RCODE::Refused);
        assert!(!p.has_flags(PacketFlag::AUTHORITATIVE_ANSWER));
    }

    fn big_view() -> DnsView {
        let values: Vec<String> = (0..20)
            .map(|i| format!("\"{i:02}{}\"", "x".repeat(100)))
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        DnsView {
            zones: vec![DnsZone {
                name: "big.test.".into(),
                serial: 1,
                email: "hostmaster@big.test".into(),
                rrsets: vec![rrset("txt.big.test.", "TXT", &values)],
            }],
        }
    }

    #[test]
    fn large_udp_answers_are_truncated() {
        let view = big_view();
        let bytes = respond(&query("txt.big.test", TYPE::TXT, None), &view, &ns(), true).unwrap();
        assert!(bytes.len() <= MIN_UDP);
        let p = Packet::parse(&bytes).unwrap();
        assert!(p.has_flags(PacketFlag::TRUNCATION));
        assert!(p.answers.is_empty());
        // EDNS with a big enough buffer, or TCP: everything.
        let bytes = respond(
            &query("txt.big.test", TYPE::TXT, Some(4096)),
            &view,
            &ns(),
            true,
        )
        .unwrap();
        let p = Packet::parse(&bytes).unwrap();
        assert!(!p.has_flags(PacketFlag::TRUNCATION));
        assert_eq!(p.answers.len(), 20);
        let bytes = respond(&query("txt.big.test", TYPE::TXT, None), &view, &ns(), false).unwrap();
        assert_eq!(Packet::parse(&bytes).unwrap().answers.len(), 20);
        // A tiny advertised size still gets the 512 floor.
        let bytes = respond(
            &query("txt.big.test", TYPE::TXT, Some(100)),
            &view,
            &ns(),
            true,
        )
        .unwrap();
        assert!(
            Packet::parse(&bytes)
                .unwrap()
                .has_flags(PacketFlag::TRUNCATION)
        );
    }

    #[test]
    fn junk_gets_formerr_or_nothing() {
        let mut junk = query("x.example.test", TYPE::TXT, None);
        junk.truncate(14);
        let reply = respond(&junk, &view(), &ns(), true).unwrap();
        assert_eq!(reply.len(), 12);
        assert_eq!(&reply[..2], &[0x12, 0x34]);
        assert_eq!(reply[3] & 0x0f, 1, "FORMERR");
        assert_eq!(respond(&[1, 2, 3], &view(), &ns(), true), None);
        // A response is never answered (no loops between servers).
        let resp = respond(
            &query("x.example.test", TYPE::TXT, None),
            &view(),
            &ns(),
            true,
        )
        .unwrap();
        assert_eq!(respond(&resp, &view(), &ns(), true), None);
    }
}
