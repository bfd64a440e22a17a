//! DNS messages for the propagation check, pure: build a query, read an answer.

use simple_dns::rdata::{OPT, RData};
use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE, TYPE};

/// Our EDNS0 UDP payload size (the DNS flag day value).
pub const EDNS_PAYLOAD: u16 = 1232;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    Txt,
    Cname,
    Ns,
}

impl QType {
    fn to_qtype(self) -> QTYPE {
        QTYPE::TYPE(match self {
            QType::Txt => TYPE::TXT,
            QType::Cname => TYPE::CNAME,
            QType::Ns => TYPE::NS,
        })
    }
}

/// Builds a query. `recursion` only for the resolver (NS discovery), never for
/// the authoritative check.
pub fn query(id: u16, name: &str, qtype: QType, recursion: bool) -> Result<Vec<u8>, String> {
    let mut p = Packet::new_query(id);
    if recursion {
        p.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    let qname =
        Name::new(name.trim_end_matches('.')).map_err(|e| format!("bad name {name:?}: {e}"))?;
    p.questions.push(Question::new(
        qname,
        qtype.to_qtype(),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    *p.opt_mut() = Some(OPT {
        opt_codes: Vec::new(),
        udp_packet_size: EDNS_PAYLOAD,
        version: 0,
    });
    p.build_bytes_vec().map_err(|e| e.to_string())
}

/// What an answer said about one name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// TC: retry over TCP.
    pub truncated: bool,
    /// The answer came over TCP (after a truncated UDP answer).
    pub via_tcp: bool,
    pub authoritative: bool,
    /// "NOERROR", "NXDOMAIN", "REFUSED", …
    pub rcode: String,
    /// TXT values at the name (character-strings of one record concatenated).
    pub txt: Vec<String>,
    /// CNAME target at the name, if any (absolute, lower-case).
    pub cname: Option<String>,
    /// NS host names at the name (absolute, lower-case).
    pub ns: Vec<String>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn absolute(n: &str) -> String {
    format!("{}.", n.trim_end_matches('.').to_ascii_lowercase())
}

/// Parses an answer to our query `id` for `name`. Bounds: the parser never reads
/// past the message; records for other names are ignored.
pub fn parse(bytes: &[u8], id: u16, name: &str) -> Result<Answer, String> {
    let p = Packet::parse(bytes).map_err(|e| format!("malformed DNS answer: {e}"))?;
    if p.id() != id {
        return Err("answer to another query (id mismatch)".into());
    }
    let rcode = match p.rcode() {
        RCODE::NoError => "NOERROR".to_string(),
        RCODE::NameError => "NXDOMAIN".to_string(),
        RCODE::Refused => "REFUSED".to_string(),
        RCODE::ServerFailure => "SERVFAIL".to_string(),
        other => format!("{other:?}").to_ascii_uppercase(),
    };
    let mut a = Answer {
        truncated: p.has_flags(PacketFlag::TRUNCATION),
        authoritative: p.has_flags(PacketFlag::AUTHORITATIVE_ANSWER),
        rcode,
        ..Answer::default()
    };
    for rr in &p.answers {
        let owner = rr.name.to_string();
        if !same_name(&owner, name) {
            continue;
        }
        match &rr.rdata {
            RData::TXT(t) => {
                if let Ok(s) = String::try_from(t.clone()) {
                    a.txt.push(s);
                }
            }
            RData::CNAME(c) => a.cname = Some(absolute(&c.0.to_string())),
            RData::NS(n) => a.ns.push(absolute(&n.0.to_string())),
            _ => {}
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::ResourceRecord;
    use simple_dns::rdata::{CNAME, TXT};

    fn reply(id: u16, name: &str, f: impl FnOnce(&mut Packet<'static>)) -> Vec<u8> {
        let _ = name;
        let mut p = Packet::new_reply(id);
        p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        f(&mut p);
        p.build_bytes_vec().unwrap()
    }

    #[test]
    fn query_has_edns_and_no_recursion() {
        let q = query(7, "_acme-challenge.example.test.", QType::Txt, false).unwrap();
        let p = Packet::parse(&q).unwrap();
        assert!(!p.has_flags(PacketFlag::RECURSION_DESIRED));
        assert_eq!(p.opt().unwrap().udp_packet_size, EDNS_PAYLOAD);
        assert_eq!(
            p.questions[0].qname.to_string(),
            "_acme-challenge.example.test"
        );
        let q = query(7, "example.test.", QType::Ns, true).unwrap();
        assert!(
            Packet::parse(&q)
                .unwrap()
                .has_flags(PacketFlag::RECURSION_DESIRED)
        );
    }

    #[test]
    fn reads_txt_concatenated_and_cname() {
        let name = "_acme-challenge.example.test";
        let bytes = reply(9, name, |p| {
            let mut t = TXT::new();
            t.add_string("abc").unwrap();
            t.add_string("def").unwrap();
            p.answers.push(ResourceRecord::new(
                Name::new_unchecked(name),
                CLASS::IN,
                60,
                RData::TXT(t),
            ));
            p.answers.push(ResourceRecord::new(
                Name::new_unchecked(name),
                CLASS::IN,
                60,
                RData::TXT(TXT::new().with_string("other").unwrap()),
            ));
            p.answers.push(ResourceRecord::new(
                Name::new_unchecked("unrelated.example.test"),
                CLASS::IN,
                60,
                RData::TXT(TXT::new().with_string("nope").unwrap()),
            ));
        });
        let a = parse(&bytes, 9, "_acme-challenge.example.test.").unwrap();
        assert_eq!(a.txt, vec!["abcdef", "other"]);
        assert!(a.authoritative && !a.truncated);
        assert_eq!(a.rcode, "NOERROR");

        let bytes = reply(3, name, |p| {
            p.answers.push(ResourceRecord::new(
                Name::new_unchecked(name),
                CLASS::IN,
                60,
                RData::CNAME(CNAME(Name::new_unchecked("Target.Example.test"))),
            ));
        });
        let a = parse(&bytes, 3, name).unwrap();
        assert_eq!(a.cname.as_deref(), Some("target.example.test."));
    }

    #[test]
    fn rejects_garbage_and_wrong_id() {
        assert!(parse(b"\x00\x01", 1, "x.").is_err());
        let bytes = reply(5, "x", |_| {});
        assert!(parse(&bytes, 6, "x.").is_err());
    }
}
