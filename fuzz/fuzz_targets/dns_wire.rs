//! DNS answers read by the propagation check (`propagation::wire::parse`).
//!
//! Two inputs from each fuzz case:
//! - the raw bytes as an answer, for the name of its first question (or a
//!   fixed name). Invariants: no panic; the id must match (and another id is
//!   refused); the TC/AA flags are read from the header bits; no more values
//!   than answer records; CNAME/NS targets are absolute and lower-case.
//! - a structured answer built from the same bytes with simple-dns (TXT sets of
//!   one or more strings, a CNAME, NS, records of other names, any letter case,
//!   compressed or not). Invariant: `parse` reads back exactly what was built.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use otc_acme_hook::propagation::wire::{Answer, parse};
use simple_dns::rdata::{A, CNAME, NS, RData, TXT};
use simple_dns::{CLASS, Name, Packet, PacketFlag, RCODE, ResourceRecord};

const FIXED_NAME: &str = "_acme-challenge.example.test.";

fn check_raw(data: &[u8]) {
    let name = Packet::parse(data)
        .ok()
        .and_then(|p| p.questions.first().map(|q| q.qname.to_string()))
        .unwrap_or_else(|| FIXED_NAME.to_string());
    let id = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    match parse(data, id, &name) {
        Ok(a) => {
            assert_eq!(parse(data, id, &name), Ok(a.clone()), "not deterministic");
            let e = parse(data, id ^ 1, &name).unwrap_err();
            assert!(e.contains("id mismatch"), "{e}");
            assert_eq!(a.truncated, data[2] & 0x02 != 0, "TC bit");
            assert_eq!(a.authoritative, data[2] & 0x04 != 0, "AA bit");
            assert!(!a.via_tcp);
            assert!(!a.rcode.is_empty());
            assert!(!a.rcode.chars().any(|c| c.is_ascii_lowercase()));
            let ancount = usize::from(u16::from_be_bytes([data[6], data[7]]));
            assert!(a.txt.len() + a.ns.len() + usize::from(a.cname.is_some()) <= ancount);
            for n in a.cname.iter().chain(&a.ns) {
                assert!(n.ends_with('.'), "{n:?}");
                assert!(!n.chars().any(|c| c.is_ascii_uppercase()), "{n:?}");
            }
        }
        Err(e) => assert!(e.starts_with("malformed DNS answer: "), "{e}"),
    }
}

/// A DNS name of 1..=4 labels of `[a-z0-9_-]`.
fn dns_name(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_-";
    let labels = u.int_in_range(1..=4)?;
    let mut out = Vec::new();
    for _ in 0..labels {
        let len = u.int_in_range(1..=20)?;
        let label: String = (0..len)
            .map(|_| u.choose(CHARS).map(|&c| c as char))
            .collect::<arbitrary::Result<_>>()?;
        out.push(label);
    }
    Ok(out.join("."))
}

/// One character-string: any UTF-8 of at most 255 bytes.
fn char_string(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut s = String::arbitrary(u)?;
    while s.len() > 255 {
        s.pop();
    }
    Ok(s)
}

fn mixed_case(u: &mut Unstructured<'_>, s: &str) -> arbitrary::Result<String> {
    s.chars()
        .map(|c| {
            Ok(if bool::arbitrary(u)? {
                c.to_ascii_uppercase()
            } else {
                c
            })
        })
        .collect()
}

enum Rec {
    Txt(Vec<String>),
    Cname(String),
    Ns(String),
    A,
}

fn check_structured(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let id = u16::arbitrary(u)?;
    let name = dns_name(u)?;
    let other = format!("other-{name}");
    let (aa, tc, compressed) = (
        bool::arbitrary(u)?,
        bool::arbitrary(u)?,
        bool::arbitrary(u)?,
    );
    let rcode = *u.choose(&[
        (RCODE::NoError, "NOERROR"),
        (RCODE::NameError, "NXDOMAIN"),
        (RCODE::Refused, "REFUSED"),
        (RCODE::ServerFailure, "SERVFAIL"),
    ])?;
    // (owner is ours, owner as written, record)
    let mut recs: Vec<(bool, String, Rec)> = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let ours = bool::arbitrary(u)?;
        let owner = mixed_case(u, if ours { &name } else { &other })?;
        let rec = match u.int_in_range(0..=3)? {
            0 => {
                let n = u.int_in_range(1..=3)?;
                Rec::Txt(
                    (0..n)
                        .map(|_| char_string(u))
                        .collect::<arbitrary::Result<_>>()?,
                )
            }
            1 => {
                let target = dns_name(u)?;
                Rec::Cname(mixed_case(u, &target)?)
            }
            2 => {
                let host = dns_name(u)?;
                Rec::Ns(mixed_case(u, &host)?)
            }
            _ => Rec::A,
        };
        recs.push((ours, owner, rec));
    }

    let mut p = Packet::new_reply(id);
    if aa {
        p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    }
    if tc {
        p.set_flags(PacketFlag::TRUNCATION);
    }
    *p.rcode_mut() = rcode.0;
    let mut want = Answer {
        truncated: tc,
        authoritative: aa,
        rcode: rcode.1.to_string(),
        ..Answer::default()
    };
    for (ours, owner, rec) in &recs {
        let rdata = match rec {
            Rec::Txt(strings) => {
                let mut t = TXT::new();
                for s in strings {
                    t.add_string(s).expect("at most 255 bytes");
                }
                if *ours {
                    want.txt.push(strings.concat());
                }
                RData::TXT(t)
            }
            Rec::Cname(target) => {
                if *ours {
                    want.cname = Some(format!("{}.", target.to_ascii_lowercase()));
                }
                RData::CNAME(CNAME(Name::new(target).expect("valid name")))
            }
            Rec::Ns(host) => {
                if *ours {
                    want.ns.push(format!("{}.", host.to_ascii_lowercase()));
                }
                RData::NS(NS(Name::new(host).expect("valid name")))
            }
            Rec::A => RData::A(A {
                address: 0x7f00_0001,
            }),
        };
        p.answers.push(ResourceRecord::new(
            Name::new(owner).expect("valid name"),
            CLASS::IN,
            60,
            rdata,
        ));
    }
    let bytes = if compressed {
        p.build_bytes_vec_compressed()
    } else {
        p.build_bytes_vec()
    }
    .expect("simple-dns builds it");
    // Asked with or without the trailing dot, in any case.
    let asked = format!("{}.", mixed_case(u, &name)?);
    assert_eq!(parse(&bytes, id, &asked), Ok(want.clone()));
    assert_eq!(parse(&bytes, id, &name), Ok(want));
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    check_raw(data);
    let _ = check_structured(&mut Unstructured::new(data));
});
