//! The chain runner over fake sources: no socket, no file, no environment.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::error::{Error, Exit, Result};

/// What the network sources are given: here, a count of their loads.
#[derive(Default)]
struct Net(AtomicUsize);

fn none() -> NoneAnswered {
    NoneAnswered {
        what: "no credential source answered",
        exit: Exit::Failed,
        hint: "give keys",
    }
}

fn skip(name: &'static str, kind: &'static str, why: &'static str) -> Source<String, Net> {
    Source::local(name, kind, move || Ok(Attempt::NotConfigured(why.into())))
}
fn answer(name: &'static str, kind: &'static str, v: &'static str) -> Source<String, Net> {
    Source::local(name, kind, move || Ok(Attempt::Loaded(v.into())))
}
fn broken(name: &'static str, kind: &'static str) -> Source<String, Net> {
    Source::local(name, kind, move || {
        Err(Error::rejected(
            "credentials",
            format!("{name} is half given"),
        ))
    })
}
fn remote(name: &'static str, kind: &'static str, v: Option<&'static str>) -> Source<String, Net> {
    Source::network(name, kind, move |n: &Net| {
        n.0.fetch_add(1, Ordering::SeqCst);
        match v {
            Some(v) => Ok(Attempt::Loaded(v.into())),
            None => Err(Error::failed("credentials", "metadata did not answer")),
        }
    })
}
fn never(name: &'static str) -> Source<String, Net> {
    Source::local(name, "static", move || panic!("{name} must not be asked"))
}

fn chain(sources: Vec<Source<String, Net>>, only: Option<&'static str>) -> Chain<String, Net> {
    Chain {
        sources,
        only,
        none: none(),
    }
}

/// Runs a chain at setup and at first use, collecting the `-v` lines.
fn run(c: Chain<String, Net>, net: &Net) -> (Result<Resolved<String>>, Vec<String>) {
    let lines = Mutex::new(Vec::new());
    let log = |l: &str| crate::sync::lock(&lines).push(l.to_string());
    let r = c.resolve(net, &log);
    (r, lines.into_inner().unwrap())
}

#[test]
fn sources_are_tried_in_order_and_the_first_answer_wins() {
    let c = chain(
        vec![
            skip("flags", "static", "no --ak/--sk"),
            answer("environment", "static", "ENV"),
            never("file"),
        ],
        None,
    );
    let (r, log) = run(c, &Net::default());
    let r = r.unwrap();
    assert_eq!((r.value.as_str(), r.source), ("ENV", "environment"));
    assert_eq!(r.tried.skipped, ["flags: no --ak/--sk"]);
    assert_eq!(
        log,
        [
            "credentials: flags skipped (no --ak/--sk)",
            "credentials: environment answered"
        ]
    );
}

#[test]
fn nothing_configured_is_one_line_naming_each_source_and_why() {
    let c = chain(
        vec![skip("a", "static", "no A"), skip("b", "file", "no B")],
        None,
    );
    let e = run(c, &Net::default()).0.unwrap_err();
    assert_eq!(e.exit, Exit::Failed);
    assert_eq!(e.cause, "no credential source answered (a: no A; b: no B)");
    assert_eq!(e.hint.as_deref(), Some("give keys"));
    // A cloud's own wording and exit code.
    let mut c = chain(vec![skip("a", "static", "no A")], None);
    c.none = NoneAnswered {
        what: "no OVH credential source answered",
        exit: Exit::Rejected,
        hint: "h",
    };
    let e = c.resolve(&Net::default(), &|_| {}).unwrap_err();
    assert_eq!(e.exit.code(), 2);
    assert_eq!(e.cause, "no OVH credential source answered (a: no A)");
}

#[test]
fn a_configured_source_that_fails_stops_the_chain_with_its_own_error() {
    let c = chain(
        vec![
            skip("a", "static", "no A"),
            broken("b", "static"),
            never("c"),
        ],
        None,
    );
    let e = run(c, &Net::default()).0.unwrap_err();
    assert_eq!((e.exit.code(), e.cause.as_str()), (2, "b is half given"));
}

#[test]
fn the_last_resort_s_failure_says_why_each_source_was_passed_over() {
    let c = chain(
        vec![
            skip("flags", "static", "no --ak/--sk"),
            remote("metadata", "metadata", None).last_resort(),
        ],
        None,
    );
    let e = run(c, &Net::default()).0.unwrap_err();
    assert_eq!(e.exit.code(), 1);
    assert_eq!(
        e.cause,
        "no credential source answered (flags: no --ak/--sk; metadata: metadata did not answer)"
    );
    // Alone (the others filtered out), its error is its own.
    let c = chain(
        vec![
            skip("flags", "static", "no --ak/--sk"),
            remote("metadata", "metadata", None).last_resort(),
        ],
        Some("metadata"),
    );
    let e = run(c, &Net::default()).0.unwrap_err();
    assert_eq!(e.cause, "metadata did not answer");
    // A source not marked so keeps its error as it is.
    let c = chain(
        vec![
            skip("flags", "static", "no --ak/--sk"),
            remote("container", "container", None),
        ],
        None,
    );
    assert_eq!(
        run(c, &Net::default()).0.unwrap_err().cause,
        "metadata did not answer"
    );
}

#[test]
fn the_filter_keeps_only_its_kind() {
    let sources = || {
        vec![
            answer("environment", "static", "ENV"),
            skip("credentials file", "file", "no --credentials-file"),
            remote("metadata", "metadata", Some("ROLE")),
        ]
    };
    let (r, log) = run(chain(sources(), Some("metadata")), &Net::default());
    assert_eq!(r.unwrap().value, "ROLE");
    assert_eq!(log, ["credentials: metadata answered"], "the others unsaid");
    let e = run(chain(sources(), Some("file")), &Net::default())
        .0
        .unwrap_err();
    assert_eq!(e.exit.code(), 2);
    assert_eq!(
        e.cause,
        "the source forced by --credentials is not configured (credentials file: no --credentials-file)"
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("configure it, or drop --credentials / OTC_CREDENTIALS")
    );
}

#[test]
fn the_filter_s_values_are_the_cloud_s() {
    let k = Kinds {
        cloud: "NCP",
        values: &["static", "file", "metadata"],
    };
    assert_eq!(k.only(None).unwrap(), None);
    assert_eq!(k.only(Some(" ")).unwrap(), None);
    assert_eq!(k.only(Some("file")).unwrap(), Some("file"));
    let e = k.only(Some("container")).unwrap_err();
    assert_eq!(e.exit.code(), 2);
    assert_eq!(
        e.cause,
        "--credentials \"container\" is not one of NCP's sources (static, file, metadata)"
    );
    // A cloud without the filter ignores the setting.
    let none = Kinds {
        cloud: "X",
        values: &[],
    };
    assert_eq!(none.only(Some("container")).unwrap(), None);
}

#[test]
fn local_sources_come_first() {
    let good = chain(
        vec![
            skip("flags", "static", "x"),
            remote("metadata", "metadata", None),
        ],
        None,
    );
    assert!(good.local_first());
    let bad = chain(
        vec![
            remote("metadata", "metadata", None),
            skip("flags", "static", "x"),
        ],
        None,
    );
    assert!(!bad.local_first());
}

#[test]
fn local_sources_answer_before_any_network_source_and_a_refresh_asks_again() {
    let net = Net::default();
    // A local answer: the network never asked.
    let c = chain(
        vec![
            answer("flags", "static", "F"),
            remote("metadata", "metadata", Some("R")),
        ],
        None,
    );
    assert_eq!(c.resolve(&net, &|_| {}).unwrap().value, "F");
    assert_eq!(net.0.load(Ordering::SeqCst), 0);
    // A broken local source stops the chain before any network source.
    let e = chain(
        vec![
            broken("env", "static"),
            remote("metadata", "metadata", None),
        ],
        None,
    )
    .resolve(&net, &|_| {})
    .unwrap_err();
    assert_eq!(e.exit.code(), 2);
    assert_eq!(net.0.load(Ordering::SeqCst), 0);
    // Each resolve (a refresh) tries the sources anew, saying the same lines.
    let c = chain(
        vec![
            skip("flags", "static", "no --ak/--sk"),
            remote("metadata", "metadata", Some("R")),
        ],
        None,
    );
    for n in 1..=2 {
        let lines = Mutex::new(Vec::new());
        let r = c
            .resolve(&net, &|l| crate::sync::lock(&lines).push(l.to_string()))
            .unwrap();
        assert_eq!((r.value.as_str(), r.source), ("R", "metadata"));
        assert_eq!(net.0.load(Ordering::SeqCst), n);
        assert_eq!(
            lines.into_inner().unwrap(),
            [
                "credentials: flags skipped (no --ak/--sk)",
                "credentials: metadata answered"
            ]
        );
    }
}

const HINTS: PairHints = PairHints {
    no_secret: "give the secret",
    no_access: "give the access key",
    token_alone: "give the pair",
};

#[test]
fn half_a_key_pair_is_rejected_naming_the_missing_half() {
    let s = Secret::new("SECRETVALUE1");
    let t = Secret::new("TOKENVALUE1");
    let pair = |a, s, t| static_pair(a, s, t, "environment", "A/B", &HINTS);
    match pair(None, None, None).unwrap() {
        Attempt::NotConfigured(why) => assert_eq!(why, "no A/B"),
        Attempt::Loaded(_) => panic!("nothing given"),
    }
    // Blank counts as not given.
    assert!(matches!(
        pair(Some(" "), None, None).unwrap(),
        Attempt::NotConfigured(_)
    ));
    let e = pair(Some("AK"), None, None).unwrap_err();
    assert_eq!(
        (e.exit.code(), e.cause.as_str(), e.hint.as_deref()),
        (
            2,
            "an access key was given (environment) but no secret key",
            Some("give the secret")
        )
    );
    let e = pair(None, Some(&s), None).unwrap_err();
    assert_eq!(
        e.cause,
        "a secret key was given (environment) but no access key"
    );
    let e = pair(None, None, Some(&t)).unwrap_err();
    assert_eq!(
        e.cause,
        "a security token was given (environment) without access key and secret key"
    );
    let Attempt::Loaded(k) = pair(Some("AK"), Some(&s), Some(&t)).unwrap() else {
        panic!("a pair")
    };
    assert_eq!(
        (k.access(), k.secret(), k.token(), k.source),
        ("AK", "SECRETVALUE1", Some("TOKENVALUE1"), "environment")
    );
    assert!(k.is_temporary() && !k.refreshable);
}

#[test]
fn a_key_pair_never_prints_its_secrets() {
    let k = KeyPair::new(
        "AKIDEXAMPLE",
        Secret::new("TOPSECRET"),
        Some(Secret::new("TOKENVALUE")),
    );
    let d = format!("{k:?}");
    assert!(
        !d.contains("TOPSECRET") && !d.contains("TOKENVALUE") && !d.contains("AKIDEXAMPLE"),
        "{d}"
    );
    assert!(d.contains("AKID…"), "{d}");
}
