//! The authoritative DNS over UDP and TCP: big answers truncate over UDP
//! and fit over TCP.

mod common;

use otc_sim::{Seed, SeedRecordSet, Sim, SimOptions};
use simple_dns::RCODE;

use common::*;

#[test]
fn big_answers_truncate_over_udp_and_fit_over_tcp() {
    let mut seed = Seed::demo();
    let values: Vec<String> = (0..20)
        .map(|i| format!("\"{i:02}{}\"", "v".repeat(100)))
        .collect();
    seed.zones[0].records.push(SeedRecordSet {
        id: None,
        name: "big.example.test.".into(),
        rtype: "TXT".into(),
        ttl: 300,
        records: values,
        description: None,
    });
    let sim = Sim::start(SimOptions {
        seed,
        ..SimOptions::default()
    })
    .unwrap();
    assert_eq!(
        txt_count(&udp_ask(&sim, "big.example.test.")),
        (RCODE::NoError, true, 0)
    );
    assert_eq!(
        txt_count(&tcp_ask(&sim, "big.example.test.")),
        (RCODE::NoError, false, 20)
    );
}
