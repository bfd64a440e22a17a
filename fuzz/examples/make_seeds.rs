//! Writes the generated seeds under `fuzz/seeds/`: DNS answers built with
//! simple-dns (`dns_wire`), and the SDK signing vectors' requests in the
//! `sign_url` line format, and the OVH and NCP signing vectors
//! (`tests/fixtures/{ovh,ncp}-signing-vectors.json`) in the `ovh_sign` and
//! `ncp_sign` line formats. The other seeds are written by hand.
//!
//! `cd fuzz && cargo +nightly run --example make_seeds`

use std::fs;
use std::path::Path;

use otc_acme_hook::encoding::percent_encode;
use otc_acme_hook::propagation::wire::{QType, query};
use simple_dns::rdata::{CNAME, NS, OPT, RData, TXT};
use simple_dns::{
    CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE, ResourceRecord, TYPE,
};

const NAME: &str = "_acme-challenge.example.test";

fn reply(
    id: u16,
    qtype: TYPE,
    flags: &[PacketFlag],
    rcode: RCODE,
    answers: Vec<ResourceRecord<'static>>,
) -> Packet<'static> {
    let mut p = Packet::new_reply(id);
    for f in flags {
        p.set_flags(*f);
    }
    *p.rcode_mut() = rcode;
    p.questions.push(Question::new(
        Name::new_unchecked(NAME),
        QTYPE::TYPE(qtype),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.answers = answers;
    p
}

fn rr(owner: &'static str, rdata: RData<'static>) -> ResourceRecord<'static> {
    ResourceRecord::new(Name::new_unchecked(owner), CLASS::IN, 60, rdata)
}

fn dns_seeds(dir: &Path) {
    let aa = PacketFlag::AUTHORITATIVE_ANSWER;
    let mut two = TXT::new();
    two.add_string("gfj9Xq-Rd_8aZ3").unwrap();
    two.add_string("Lk0pQ").unwrap();
    let txt = reply(
        0x1234,
        TYPE::TXT,
        &[aa],
        RCODE::NoError,
        vec![
            rr(
                NAME,
                RData::TXT(
                    TXT::new()
                        .with_string("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0")
                        .unwrap(),
                ),
            ),
            rr(NAME, RData::TXT(two)),
            rr(
                "other.example.test",
                RData::TXT(TXT::new().with_string("v=spf1 -all").unwrap()),
            ),
        ],
    );
    let cname = reply(
        0x0203,
        TYPE::TXT,
        &[aa],
        RCODE::NoError,
        vec![rr(
            NAME,
            RData::CNAME(CNAME(Name::new_unchecked("Acme.Delegated.Example.NET"))),
        )],
    );
    let mut ns = reply(
        0x7f7f,
        TYPE::NS,
        &[
            PacketFlag::RECURSION_DESIRED,
            PacketFlag::RECURSION_AVAILABLE,
        ],
        RCODE::NoError,
        vec![
            rr(NAME, RData::NS(NS(Name::new_unchecked("ns1.example.test")))),
            rr(NAME, RData::NS(NS(Name::new_unchecked("ns2.example.test")))),
        ],
    );
    *ns.opt_mut() = Some(OPT {
        opt_codes: Vec::new(),
        udp_packet_size: 1232,
        version: 0,
    });
    let nx = reply(0x0001, TYPE::TXT, &[aa], RCODE::NameError, vec![]);
    let tc = reply(
        0x0002,
        TYPE::TXT,
        &[aa, PacketFlag::TRUNCATION],
        RCODE::NoError,
        vec![],
    );
    let refused = reply(0x0003, TYPE::TXT, &[], RCODE::Refused, vec![]);

    let write = |name: &str, bytes: Vec<u8>| fs::write(dir.join(name), bytes).unwrap();
    write(
        "txt-compressed.bin",
        txt.build_bytes_vec_compressed().unwrap(),
    );
    write("txt.bin", txt.build_bytes_vec().unwrap());
    write("cname.bin", cname.build_bytes_vec_compressed().unwrap());
    write("ns-edns.bin", ns.build_bytes_vec_compressed().unwrap());
    write("nxdomain.bin", nx.build_bytes_vec().unwrap());
    write("truncated.bin", tc.build_bytes_vec().unwrap());
    write("refused.bin", refused.build_bytes_vec().unwrap());
    write(
        "our-query.bin",
        query(9, "_acme-challenge.example.test.", QType::Txt, false).unwrap(),
    );
}

/// method, path, query, URL, headers, body: one per line (see the target).
fn sign_seeds(dir: &Path) {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/signing-vectors.json"),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (n, case) in v["cases"].as_array().unwrap().iter().enumerate() {
        let i = &case["input"];
        let s = |k: &str| i[k].as_str().unwrap().to_string();
        let query = i["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}={}",
                    percent_encode(p[0].as_str().unwrap()),
                    percent_encode(p[1].as_str().unwrap())
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let headers = i["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    percent_encode(k),
                    percent_encode(v.as_str().unwrap())
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let url = if query.is_empty() {
            format!("https://{}{}", s("host"), s("path"))
        } else {
            format!("https://{}{}?{query}", s("host"), s("path"))
        };
        let seed = format!(
            "{}\n{}\n{query}\n{url}\n{headers}\n{}",
            s("method"),
            s("path"),
            s("body")
        );
        fs::write(dir.join(format!("vector-{n:02}.txt")), seed).unwrap();
    }
}

fn vectors(file: &str) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(file),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

/// method, full URL, timestamp, application key, application secret,
/// consumer key, body: one per line (see the target).
fn ovh_sign_seeds(dir: &Path) {
    for (n, case) in vectors("ovh-signing-vectors.json").iter().enumerate() {
        let s = |k: &str| case["inputs"][k].as_str().unwrap().to_string();
        let seed = [
            "method",
            "full_url",
            "timestamp",
            "application_key",
            "application_secret",
            "consumer_key",
            "body",
        ]
        .map(s)
        .join("\n");
        fs::write(dir.join(format!("vector-{n:02}.txt")), seed).unwrap();
    }
}

/// method, URL, timestamp (ms), access key, secret key, an HTTP date, then
/// bytes for the base64 encoder: one per line (see the target).
fn ncp_sign_seeds(dir: &Path) {
    for (n, case) in vectors("ncp-signing-vectors.json").iter().enumerate() {
        let s = |k: &str| case["inputs"][k].as_str().unwrap().to_string();
        let mut seed = ["method", "url", "timestamp_ms", "access_key", "secret_key"]
            .map(s)
            .join("\n");
        seed.push_str("\nTue, 14 Nov 2023 22:13:20 GMT\n");
        seed.push_str(&s("secret_key")[..n % 4]);
        fs::write(dir.join(format!("vector-{n:02}.txt")), seed).unwrap();
    }
}

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for (target, make) in [
        ("dns_wire", dns_seeds as fn(&Path)),
        ("sign_url", sign_seeds),
        ("ovh_sign", ovh_sign_seeds),
        ("ncp_sign", ncp_sign_seeds),
    ] {
        let dir = seeds.join(target);
        fs::create_dir_all(&dir).unwrap();
        make(&dir);
        println!("wrote {}", dir.display());
    }
}
