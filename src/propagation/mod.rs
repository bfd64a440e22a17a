//! Propagation: wait until every authoritative nameserver of the zone serves
//! the values, asking each one directly (never the system resolver, which on
//! an ECS may answer from a private zone of the same name).

pub mod net;
pub mod wire;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::clock::Clock;
use crate::cloud_api::{DnsApi, Zone};
use crate::error::{Error, Result};
use crate::report::Report;
use net::{DnsQuery, QueryError};
use wire::QType;

/// A nameserver as given by `--nameserver`, or found for a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nameserver {
    /// Host name or address, as given (for messages).
    pub name: String,
    pub addrs: Vec<SocketAddr>,
}

/// Splits `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address.
pub fn parse_host_port(
    spec: &str,
    default_port: u16,
) -> std::result::Result<(String, u16), String> {
    let s = spec.trim();
    if s.is_empty() {
        return Err("empty nameserver".into());
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("{spec:?}: missing ']'"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("{spec:?}: bad port"))?,
            None if tail.is_empty() => default_port,
            None => return Err(format!("{spec:?}: expected [V6]:PORT")),
        };
        return Ok((host.to_string(), port));
    }
    if s.matches(':').count() > 1 {
        // A bare IPv6 address: no port.
        return Ok((s.to_string(), default_port));
    }
    match s.split_once(':') {
        Some((h, p)) => Ok((
            h.to_string(),
            p.parse().map_err(|_| format!("{spec:?}: bad port"))?,
        )),
        None => Ok((s.to_string(), default_port)),
    }
}

/// Resolves a host with the system resolver (addresses only; fine for
/// finding public nameservers).
pub fn resolve_host(host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
    let h = host.trim_end_matches('.');
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let mut addrs: Vec<SocketAddr> = (h, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve nameserver {host}: {e}"))?
        .collect();
    addrs.sort();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(format!("nameserver {host} has no address"));
    }
    Ok(addrs)
}

/// The system's first resolver, from resolv.conf text.
pub fn resolv_conf_server(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';'))
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next().map(str::to_string))?
        })
}

/// One name whose values must be served by every nameserver in `nameservers`.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub values: Vec<String>,
    pub nameservers: Vec<Nameserver>,
}

/// Settings of the authoritative check.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--nameserver`: replaces discovery.
    pub nameservers: Vec<String>,
    /// Port for discovered nameservers.
    pub port: u16,
    /// `--resolver HOST[:PORT]`, for the NS fallback; else the system's.
    pub resolver: Option<String>,
    pub timeout: Duration,
    pub settle: Duration,
    /// Time between polls for the first `fast_for` of a wait, then `max_interval`.
    pub interval: Duration,
    pub fast_for: Duration,
    pub max_interval: Duration,
    /// Questions of one poll asked at once (`--parallel`).
    pub parallel: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            nameservers: Vec::new(),
            port: crate::defaults::NAMESERVER_PORT,
            resolver: None,
            timeout: crate::defaults::PROPAGATION_TIMEOUT,
            settle: Duration::from_secs(crate::defaults::SETTLE_SECS),
            interval: crate::defaults::DNS_POLL_FIRST,
            fast_for: crate::defaults::DNS_POLL_FAST_FOR,
            max_interval: crate::defaults::DNS_POLL_MAX,
            parallel: crate::defaults::PARALLEL,
        }
    }
}

/// How often a long wait looks at the API again for values another host dropped.
pub const CHECK_EVERY: Duration = crate::defaults::RECHECK_API_EVERY;

pub struct Checker<'a> {
    pub dns: &'a dyn DnsQuery,
    pub clock: &'a dyn Clock,
    pub report: &'a Report,
    pub settings: Settings,
    /// resolv.conf text, for the NS fallback (injected so tests don't read /etc).
    pub resolv_conf: String,
}

fn perr(cause: impl Into<String>) -> Error {
    Error::failed("propagation", cause)
}

impl Checker<'_> {
    /// The nameservers to ask for `zone`: the `--nameserver` list, else the
    /// API's, else NS through the recursive resolver.
    pub fn nameservers(&self, api: &dyn DnsApi, zone: &Zone) -> Result<Vec<Nameserver>> {
        if !self.settings.nameservers.is_empty() {
            return self
                .settings
                .nameservers
                .iter()
                .map(|spec| {
                    let (h, p) = parse_host_port(spec, 53)
                        .map_err(|e| Error::rejected("config", format!("--nameserver {e}")))?;
                    Ok(Nameserver {
                        name: spec.clone(),
                        addrs: resolve_host(&h, p).map_err(perr)?,
                    })
                })
                .collect();
        }
        let names = match api.nameservers(zone) {
            Ok(n) if !n.is_empty() => n,
            Ok(_) | Err(_) => {
                self.report.verbose(format!(
                    "the API named no nameservers for {}; asking the resolver for NS",
                    zone.name
                ));
                self.ns_from_resolver(&zone.name)?
            }
        };
        let mut out = Vec::new();
        for n in names {
            match resolve_host(&n, self.settings.port) {
                Ok(addrs) => out.push(Nameserver { name: n, addrs }),
                Err(e) => {
                    return Err(perr(e).hint(
                        "check this host's resolver, or name the servers with --nameserver",
                    ));
                }
            }
        }
        Ok(out)
    }

    fn resolver_addr(&self) -> Result<SocketAddr> {
        let spec = match &self.settings.resolver {
            Some(r) => r.clone(),
            None => resolv_conf_server(&self.resolv_conf).ok_or_else(|| {
                perr("no resolver in /etc/resolv.conf").hint("name one with --resolver")
            })?,
        };
        let (h, p) = parse_host_port(&spec, 53)
            .map_err(|e| Error::rejected("config", format!("--resolver {e}")))?;
        resolve_host(&h, p)
            .map_err(perr)?
            .into_iter()
            .next()
            .ok_or_else(|| perr("resolver has no address"))
    }

    /// NS names of `zone` through the recursive resolver.
    pub fn ns_from_resolver(&self, zone: &str) -> Result<Vec<String>> {
        let server = self.resolver_addr()?;
        let a = self
            .dns
            .ask(server, zone, QType::Ns, true)
            .map_err(|e| perr(format!("NS query for {zone} at resolver {server}: {e}")))?;
        if a.ns.is_empty() {
            return Err(perr(format!(
                "resolver {server} knows no NS for {zone} ({})",
                a.rcode
            ))
            .hint("check the zone's delegation, or name the servers with --nameserver"));
        }
        Ok(a.ns)
    }

    /// Follows a CNAME chain at `name`, asking the authoritative servers of the
    /// zone that holds each link. Returns the final name and its zone.
    pub fn follow_cname(
        &self,
        api: &dyn DnsApi,
        find_zone: &dyn Fn(&str) -> Result<Zone>,
        name: &str,
    ) -> Result<(String, Zone)> {
        let mut current = name.to_string();
        let mut seen = vec![current.clone()];
        let mut zone = find_zone(&current)?;
        for _ in 0..8 {
            let servers = self.nameservers(api, &zone)?;
            let Some(t) =
                self.said_cname(&zone, &current, ask_cname(self.dns, &servers, &current))?
            else {
                return Ok((current, zone));
            };
            if seen.contains(&t) {
                return Err(Error::failed(
                    "cname",
                    format!("CNAME loop at {t} (from {name})"),
                ));
            }
            self.report
                .info(format!("{current} is a CNAME to {t}; using the target"));
            zone = find_zone(&t).map_err(|e| {
                Error::failed(
                    "cname",
                    format!(
                        "{current} is a CNAME to {t}, which lies in none of our public zones ({})",
                        e.cause
                    ),
                )
                .hint("point the CNAME into a zone of this account, or pass --no-cname")
            })?;
            seen.push(t.clone());
            current = t;
        }
        Err(Error::failed(
            "cname",
            format!("CNAME chain from {name} is longer than 8 links"),
        ))
    }

    /// The CNAME target at each of `names` (in `zones`), asked of each zone's
    /// nameservers side by side (`--parallel`): a run of many names costs one
    /// round trip, not one a name. `None`: not a CNAME.
    pub fn cname_targets(
        &self,
        api: &dyn DnsApi,
        names: &[String],
        zones: &[Zone],
    ) -> Result<Vec<Option<String>>> {
        let mut servers: Vec<(String, Vec<Nameserver>)> = Vec::new();
        for z in zones {
            if !servers.iter().any(|(id, _)| *id == z.id) {
                servers.push((z.id.clone(), self.nameservers(api, z)?));
            }
        }
        let of = |z: &Zone| {
            servers
                .iter()
                .find(|(id, _)| *id == z.id)
                .map(|(_, s)| s.as_slice())
                .unwrap_or_default()
        };
        let dns = self.dns;
        let asked = crate::pool::run_all(self.settings.parallel, (0..names.len()).collect(), |i| {
            ask_cname(dns, of(&zones[i]), &names[i])
        });
        names
            .iter()
            .zip(zones)
            .zip(asked)
            .map(|((n, z), a)| self.said_cname(z, n, a))
            .collect()
    }

    /// What [`ask_cname`] found at `name`, its misses said with `-v`.
    fn said_cname(&self, zone: &Zone, name: &str, a: CnameAsked) -> Result<Option<String>> {
        for line in &a.misses {
            self.report.verbose(line);
        }
        match a.answer {
            Some(target) => Ok(target),
            None => Err(perr(format!(
                "no nameserver of {} answered for {name}",
                zone.name
            ))
            .hint("check that port 53 is reachable, or pass --no-cname")),
        }
    }

    /// Waits until every nameserver of every target serves all its values.
    pub fn wait(&self, targets: &[Target]) -> Result<()> {
        let mut owned = targets.to_vec();
        self.wait_checking(&mut owned, &mut |_| Ok(()))
    }

    /// Like [`wait`](Self::wait), calling `check` every [`CHECK_EVERY`] while
    /// some server doesn't serve yet: it may change the values waited for (a
    /// value another host's write dropped is written again, or no longer waited
    /// for when it isn't ours).
    pub fn wait_checking(
        &self,
        targets: &mut [Target],
        check: &mut dyn FnMut(&mut [Target]) -> Result<()>,
    ) -> Result<()> {
        let start = self.clock.elapsed();
        let mut last_check = start;
        // (target index, nameserver index) still to be seen serving.
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (ti, t) in targets.iter().enumerate() {
            for ni in 0..t.nameservers.len() {
                pending.push((ti, ni));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut interval = self.settings.interval;
        let mut last_said = start;
        let mut last_miss = String::new();
        let mut any_reached = false;
        loop {
            let mut still = Vec::new();
            let asked = self.poll(targets, &pending);
            for (&(ti, ni), a) in pending.iter().zip(asked) {
                let Some(a) = a else {
                    // Not asked this poll: its nameserver's lead is not served yet.
                    still.push((ti, ni));
                    continue;
                };
                for line in &a.lines {
                    self.report.verbose(line);
                }
                if let Some(m) = a.miss {
                    last_miss = m;
                }
                any_reached |= a.reached;
                if !a.reached {
                    // No address of this server is reachable from here: skipped, not waited for.
                    self.report.info(format!(
                        "cannot reach nameserver {} from this host; not waiting for it",
                        targets[ti].nameservers[ni].name
                    ));
                    continue;
                }
                if !a.served {
                    still.push((ti, ni));
                }
            }
            pending = still;
            let waited = self.clock.elapsed() - start;
            if pending.is_empty() {
                if !any_reached {
                    return Err(perr("no nameserver could be reached from this host")
                        .hint("if port 53 is blocked here, pass --no-dns-check"));
                }
                self.report.info(format!(
                    "all nameservers serve the challenge values ({:.1}s)",
                    waited.as_secs_f64()
                ));
                if !self.settings.settle.is_zero() {
                    self.report
                        .info(format!("settling for {}s", self.settings.settle.as_secs()));
                    self.clock.sleep(self.settings.settle);
                }
                return Ok(());
            }
            if waited >= self.settings.timeout {
                return Err(perr(format!("after {}s, {last_miss}", waited.as_secs()))
                    .hint("raise --propagation-timeout, or check that the zone is delegated to these nameservers"));
            }
            if self.clock.elapsed() - last_check >= CHECK_EVERY {
                last_check = self.clock.elapsed();
                check(targets)?;
            }
            if self.clock.elapsed() - last_said >= Duration::from_secs(5) {
                last_said = self.clock.elapsed();
                let (ti, ni) = pending[0];
                self.report.info(format!(
                    "waiting for {} nameserver answer(s), e.g. {} for {} ({}s so far)",
                    pending.len(),
                    targets[ti].nameservers[ni].name,
                    targets[ti].name,
                    waited.as_secs()
                ));
            }
            self.clock.sleep(interval);
            if self.clock.elapsed() - start >= self.settings.fast_for {
                interval = self.settings.max_interval;
            }
        }
    }

    /// One poll over the `pending` (target, nameserver) pairs: each
    /// nameserver is asked first for its last pending name (its *lead*: the
    /// name written last, served last), and for the rest only when the lead
    /// is served (or the server can't be reached). A wait of many names thus
    /// asks each server one question a poll until the values arrive, not one
    /// per name; polls can then be close together. Questions go out side by
    /// side (`--parallel`); the answers come back in `pending`'s order, `None`
    /// for a question not asked.
    fn poll(&self, targets: &[Target], pending: &[(usize, usize)]) -> Vec<Option<Asked>> {
        let server = |k: usize| {
            let (ti, ni) = pending[k];
            targets[ti].nameservers[ni].name.as_str()
        };
        let mut leads: Vec<usize> = Vec::new();
        for k in (0..pending.len()).rev() {
            if !leads.iter().any(|&l| server(l) == server(k)) {
                leads.push(k);
            }
        }
        let ask = |ks: Vec<usize>| {
            crate::pool::run_all(self.settings.parallel, ks, |k| {
                let (ti, ni) = pending[k];
                (k, ask_one(self.dns, &targets[ti], ni))
            })
        };
        let mut out: Vec<Option<Asked>> = pending.iter().map(|_| None).collect();
        let mut not_yet: Vec<&str> = Vec::new();
        for (k, a) in ask(leads) {
            if a.reached && !a.served {
                not_yet.push(server(k));
            }
            out[k] = Some(a);
        }
        let rest: Vec<usize> = (0..pending.len())
            .filter(|&k| out[k].is_none() && !not_yet.contains(&server(k)))
            .collect();
        for (k, a) in ask(rest) {
            out[k] = Some(a);
        }
        out
    }
}

/// The CNAME question at one name: the first answer of its nameservers.
struct CnameAsked {
    /// `Some(target)` once a server answered (`target` `None`: no CNAME).
    answer: Option<Option<String>>,
    /// Servers that did not answer, for `-v`.
    misses: Vec<String>,
}

/// Asks the nameservers in order for a CNAME at `name`, up to the first answer.
fn ask_cname(dns: &dyn DnsQuery, servers: &[Nameserver], name: &str) -> CnameAsked {
    let mut misses = Vec::new();
    for ns in servers {
        for addr in &ns.addrs {
            match dns.ask(*addr, name, QType::Cname, false) {
                Ok(a) => {
                    return CnameAsked {
                        answer: Some(a.cname),
                        misses,
                    };
                }
                Err(e) => misses.push(format!("CNAME query at {addr}: {e}")),
            }
        }
    }
    CnameAsked {
        answer: None,
        misses,
    }
}

/// What one nameserver said of one name this poll.
struct Asked {
    /// An address of it answered (or failed to, but was reached).
    reached: bool,
    /// It serves every value of the target.
    served: bool,
    /// Why not, when it was reached and does not.
    miss: Option<String>,
    /// What `-v` says of it, in order.
    lines: Vec<String>,
}

/// Asks each address of `target`'s nameserver `ni` for the TXT values at the
/// name, up to the first that serves them all.
fn ask_one(dns: &dyn DnsQuery, t: &Target, ni: usize) -> Asked {
    let ns = &t.nameservers[ni];
    let mut out = Asked {
        reached: false,
        served: false,
        miss: None,
        lines: Vec::new(),
    };
    for addr in &ns.addrs {
        match dns.ask(*addr, &t.name, QType::Txt, false) {
            Ok(a) => {
                out.reached = true;
                let missing: Vec<&String> =
                    t.values.iter().filter(|v| !a.txt.contains(v)).collect();
                out.lines.push(format!(
                    "{} ({addr}) {}{}: {} TXT at {}, {} of ours missing",
                    ns.name,
                    a.rcode,
                    if a.via_tcp {
                        " over TCP (UDP answer truncated)"
                    } else {
                        ""
                    },
                    a.txt.len(),
                    t.name,
                    missing.len()
                ));
                if missing.is_empty() {
                    out.served = true;
                    break;
                }
                out.miss = Some(format!(
                    "{} ({addr}) does not serve {:?} at {}",
                    ns.name, missing[0], t.name
                ));
            }
            Err(QueryError::Unreachable(m)) => {
                out.lines.push(format!("skipping unreachable {m}"));
            }
            Err(QueryError::Failed(m)) => {
                out.reached = true;
                let m = format!("{} did not answer for {}: {m}", ns.name, t.name);
                out.lines.push(m.clone());
                out.miss = Some(m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::report::{Capture, Level};
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use wire::Answer;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            parse_host_port("ns1.example.", 53).unwrap(),
            ("ns1.example.".into(), 53)
        );
        assert_eq!(
            parse_host_port("127.0.0.1:5353", 53).unwrap(),
            ("127.0.0.1".into(), 5353)
        );
        assert_eq!(
            parse_host_port("[::1]:5353", 53).unwrap(),
            ("::1".into(), 5353)
        );
        assert_eq!(parse_host_port("::1", 53).unwrap(), ("::1".into(), 53));
        assert!(parse_host_port("h:x", 53).is_err());
        assert!(parse_host_port("[::1", 53).is_err());
    }

    #[test]
    fn resolv_conf() {
        assert_eq!(
            resolv_conf_server("# c\nsearch x\nnameserver 10.0.0.2\nnameserver 1.1.1.1\n")
                .as_deref(),
            Some("10.0.0.2")
        );
        assert_eq!(resolv_conf_server("search x\n"), None);
    }

    /// Gives every question the same answer.
    struct Always(std::result::Result<Answer, QueryError>);
    impl DnsQuery for Always {
        fn ask(
            &self,
            _: SocketAddr,
            _: &str,
            _: QType,
            _: bool,
        ) -> std::result::Result<Answer, QueryError> {
            self.0.clone()
        }
    }

    /// Serves the value from the third query on; the v6 address is unreachable.
    struct Slow {
        calls: AtomicU32,
    }
    impl DnsQuery for Slow {
        fn ask(
            &self,
            server: SocketAddr,
            _: &str,
            _: QType,
            _: bool,
        ) -> std::result::Result<Answer, QueryError> {
            if server.is_ipv6() {
                return Err(QueryError::Unreachable("no v6".into()));
            }
            let n = self.calls.fetch_add(1, SeqCst) + 1;
            let txt = if n >= 3 {
                vec!["ours".to_string(), "other".to_string()]
            } else {
                vec!["other".to_string()]
            };
            Ok(Answer {
                rcode: "NOERROR".into(),
                txt,
                ..Answer::default()
            })
        }
    }

    fn checker<'a>(
        dns: &'a dyn DnsQuery,
        clock: &'a FakeClock,
        report: &'a Report,
        timeout: u64,
    ) -> Checker<'a> {
        Checker {
            dns,
            clock,
            report,
            settings: Settings {
                timeout: Duration::from_secs(timeout),
                ..Settings::default()
            },
            resolv_conf: String::new(),
        }
    }

    fn target() -> Vec<Target> {
        vec![Target {
            name: "_acme-challenge.example.test.".into(),
            values: vec!["ours".into()],
            nameservers: vec![Nameserver {
                name: "ns1.".into(),
                addrs: vec!["[::1]:53".parse().unwrap(), "127.0.0.1:53".parse().unwrap()],
            }],
        }]
    }

    /// Serves every question after a real pause, counting the questions in flight.
    struct Latent {
        in_flight: AtomicU32,
        peak: AtomicU32,
    }
    impl DnsQuery for Latent {
        fn ask(
            &self,
            _: SocketAddr,
            _: &str,
            _: QType,
            _: bool,
        ) -> std::result::Result<Answer, QueryError> {
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            self.in_flight.fetch_sub(1, SeqCst);
            Ok(Answer {
                rcode: "NOERROR".into(),
                txt: vec!["ours".to_string()],
                ..Answer::default()
            })
        }
    }

    /// A poll asks its questions side by side, at most `parallel` at once
    /// (one at a time with 1), and says what each found in order.
    #[test]
    fn a_poll_asks_its_questions_side_by_side() {
        let targets: Vec<Target> = (0..6)
            .map(|i| Target {
                name: format!("_acme-challenge.n{i}.example.test."),
                values: vec!["ours".into()],
                nameservers: ["ns1.", "ns2."]
                    .iter()
                    .map(|n| Nameserver {
                        name: n.to_string(),
                        addrs: vec!["127.0.0.1:53".parse().unwrap()],
                    })
                    .collect(),
            })
            .collect();
        for parallel in [4, 1] {
            let dns = Latent {
                in_flight: AtomicU32::new(0),
                peak: AtomicU32::new(0),
            };
            let clock = FakeClock::new(1_700_000_000);
            let cap = Capture::default();
            let report = Report::new(Level::Verbose, Box::new(cap.clone()));
            let mut c = checker(&dns, &clock, &report, 10);
            c.settings.parallel = parallel;
            c.wait(&targets).unwrap();
            let peak = dns.peak.load(SeqCst);
            if parallel == 1 {
                assert_eq!(peak, 1);
            } else {
                assert!((2..=4).contains(&peak), "peak {peak}");
            }
            let text = cap.text();
            let said: Vec<usize> = (0..6)
                .map(|i| text.find(&format!("at _acme-challenge.n{i}.")).unwrap())
                .collect();
            assert!(said.windows(2).all(|w| w[0] < w[1]), "in order: {text}");
        }
    }

    /// Serves `_acme-challenge.n{i}.` from `at_ms(i)` on the fake clock;
    /// counts the questions and notes every (name, server) seen served.
    struct Timed<'c> {
        clock: &'c FakeClock,
        at_ms: fn(usize) -> u64,
        questions: AtomicU32,
        asked: std::sync::Mutex<Vec<(u64, String, SocketAddr, bool)>>,
    }
    impl<'c> Timed<'c> {
        fn new(clock: &'c FakeClock, at_ms: fn(usize) -> u64) -> Self {
            Timed {
                clock,
                at_ms,
                questions: AtomicU32::new(0),
                asked: Default::default(),
            }
        }
    }
    impl DnsQuery for Timed<'_> {
        fn ask(
            &self,
            server: SocketAddr,
            name: &str,
            _: QType,
            _: bool,
        ) -> std::result::Result<Answer, QueryError> {
            self.questions.fetch_add(1, SeqCst);
            let i: usize = name
                .trim_start_matches("_acme-challenge.n")
                .split('.')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a test name");
            let now = self.clock.elapsed().as_millis() as u64;
            let served = now >= (self.at_ms)(i);
            crate::sync::lock(&self.asked).push((now, name.to_string(), server, served));
            Ok(Answer {
                rcode: "NOERROR".into(),
                txt: if served {
                    vec!["ours".into()]
                } else {
                    Vec::new()
                },
                ..Answer::default()
            })
        }
    }

    /// Six names on two nameservers (different ports of one host).
    fn six_names_two_servers() -> Vec<Target> {
        (0..6)
            .map(|i| Target {
                name: format!("_acme-challenge.n{i}.example.test."),
                values: vec!["ours".into()],
                nameservers: [("ns1.", 5301), ("ns2.", 5302)]
                    .iter()
                    .map(|(n, port)| Nameserver {
                        name: n.to_string(),
                        addrs: vec![SocketAddr::from(([127, 0, 0, 1], *port))],
                    })
                    .collect(),
            })
            .collect()
    }

    /// While nothing is served, a poll asks each nameserver one question,
    /// for its last name; once that one is served, the rest in the same poll.
    #[test]
    fn a_poll_asks_each_server_its_last_name_until_that_one_is_served() {
        let clock = FakeClock::new(1_700_000_000);
        let dns = Timed::new(&clock, |_| 1000);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        checker(&dns, &clock, &report, 10)
            .wait(&six_names_two_servers())
            .unwrap();
        // Polls at 0, 200, 400, 600 and 800 ms: two questions each; at
        // 1000 ms both leads are served and the other 10 pairs are asked.
        assert_eq!(clock.elapsed(), Duration::from_millis(1000));
        assert_eq!(dns.questions.load(SeqCst), 5 * 2 + 12);
        let asked = crate::sync::lock(&dns.asked);
        assert!(
            asked
                .iter()
                .filter(|(t, ..)| *t < 1000)
                .all(|(_, n, ..)| n == "_acme-challenge.n5.example.test."),
            "{asked:?}"
        );
    }

    /// Names served one after another, the last name first: the wait still
    /// ends only once every (name, nameserver) was seen serving.
    #[test]
    fn a_served_lead_never_stands_for_the_other_names() {
        let clock = FakeClock::new(1_700_000_000);
        let dns = Timed::new(&clock, |i| (5 - i as u64) * 100);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        let targets = six_names_two_servers();
        checker(&dns, &clock, &report, 10).wait(&targets).unwrap();
        let asked = crate::sync::lock(&dns.asked);
        for t in &targets {
            for ns in &t.nameservers {
                assert!(
                    asked
                        .iter()
                        .any(|(_, n, a, served)| *n == t.name && *a == ns.addrs[0] && *served),
                    "{} at {} never seen served: {asked:?}",
                    t.name,
                    ns.name
                );
            }
        }
        // n0, served last (500 ms), is seen at the poll of 600 ms.
        assert_eq!(clock.elapsed(), Duration::from_millis(600));
    }

    /// The first 10 s of a wait poll every 200 ms, then every 500 ms.
    #[test]
    fn polls_slow_down_after_the_first_seconds() {
        let clock = FakeClock::new(1_700_000_000);
        let dns = Timed::new(&clock, |_| 12_000);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        let one: Vec<Target> = six_names_two_servers().into_iter().take(1).collect();
        checker(&dns, &clock, &report, 60).wait(&one).unwrap();
        let asked = crate::sync::lock(&dns.asked);
        let times: Vec<u64> = asked.iter().map(|(t, ..)| *t).collect();
        let gaps: Vec<u64> = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|g| *g > 0)
            .collect();
        // Two servers asked at each poll time.
        assert!(gaps[..49].iter().all(|g| *g == 200), "{gaps:?}");
        assert!(gaps[50..].iter().all(|g| *g == 500), "{gaps:?}");
        assert_eq!(clock.elapsed(), Duration::from_millis(12_000));
    }

    /// A CNAME at `_acme-challenge.n1.`; the port-5309 server never answers;
    /// the others answer after a real pause, the questions in flight counted.
    #[derive(Default)]
    struct Cnames {
        in_flight: AtomicU32,
        peak: AtomicU32,
    }
    impl DnsQuery for Cnames {
        fn ask(
            &self,
            server: SocketAddr,
            name: &str,
            q: QType,
            _: bool,
        ) -> std::result::Result<Answer, QueryError> {
            assert_eq!(q, QType::Cname);
            if server.port() == 5309 {
                return Err(QueryError::Failed("timed out".into()));
            }
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            self.in_flight.fetch_sub(1, SeqCst);
            Ok(Answer {
                rcode: "NOERROR".into(),
                cname: name
                    .starts_with("_acme-challenge.n1.")
                    .then(|| "_acme-challenge.elsewhere.test.".to_string()),
                ..Answer::default()
            })
        }
    }

    /// Every name's CNAME question is asked (a silent first server is passed
    /// over); no answering server at all is an error naming the fix.
    #[test]
    fn cname_questions_of_a_run_are_asked_side_by_side() {
        let clock = FakeClock::new(0);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        let api = crate::fake::SetFake::new(0);
        let zone = Zone {
            name: "example.test.".into(),
            id: "z1".into(),
        };
        let names: Vec<String> = (0..3)
            .map(|i| format!("_acme-challenge.n{i}.example.test."))
            .collect();
        let zones = vec![zone.clone(); 3];
        let dns = Cnames::default();
        let mut c = checker(&dns, &clock, &report, 10);
        c.settings.nameservers = vec!["127.0.0.1:5309".into(), "127.0.0.1:5301".into()];
        let found = c.cname_targets(&api, &names, &zones).unwrap();
        assert_eq!(
            found,
            [None, Some("_acme-challenge.elsewhere.test.".into()), None]
        );
        assert!(dns.peak.load(SeqCst) >= 2, "asked one after another");
        c.settings.nameservers = vec!["127.0.0.1:5309".into()];
        let e = c.cname_targets(&api, &names, &zones).unwrap_err();
        assert!(
            e.to_string()
                .contains("no nameserver of example.test. answered")
                && e.to_string().contains("--no-cname"),
            "{e}"
        );
    }

    #[test]
    fn waits_until_served_polling_every_200_ms() {
        let dns = Slow {
            calls: AtomicU32::new(0),
        };
        let clock = FakeClock::new(1_700_000_000);
        let cap = Capture::default();
        let report = Report::new(Level::Normal, Box::new(cap.clone()));
        checker(&dns, &clock, &report, 10).wait(&target()).unwrap();
        assert_eq!(dns.calls.load(SeqCst), 3);
        // Two polls 200 ms apart.
        assert_eq!(clock.elapsed(), Duration::from_millis(400));
        assert!(cap.text().contains("all nameservers serve"));
    }

    #[test]
    fn timeout_names_server_and_value() {
        let never = Always(Ok(Answer {
            rcode: "NXDOMAIN".into(),
            ..Answer::default()
        }));
        let clock = FakeClock::new(1_700_000_000);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        let e = checker(&never, &clock, &report, 3)
            .wait(&target())
            .unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("ns1.")
                && s.contains("\"ours\"")
                && s.contains("_acme-challenge.example.test."),
            "{s}"
        );
        assert!(
            clock.elapsed() >= Duration::from_secs(3) && clock.elapsed() < Duration::from_secs(4)
        );
    }

    #[test]
    fn all_unreachable_is_an_error() {
        let down = Always(Err(QueryError::Unreachable("down".into())));
        let clock = FakeClock::new(0);
        let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
        assert!(checker(&down, &clock, &report, 3).wait(&target()).is_err());
    }
}
