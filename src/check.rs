//! `otc-acme-hook check [DOMAIN…]`: the preflight an operator runs once on the
//! VM. Each line says ok, warn or FAIL; a FAIL line ends with the fix. Exit 0
//! only when a real run would work.

use std::io::Write;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::api_error::Kind;
use crate::cli::CheckArgs;
use crate::cloud_api::{Connection, DnsApi, Zone, ZoneCache};
use crate::error::{Error, Result};
use crate::flow::engine::Flow;
use crate::host_state::HostState;
use crate::options::Options;
use crate::propagation::net::{DnsQuery, NetDns};
use crate::propagation::wire::QType;
use crate::report::Report;
use crate::wiring;
use crate::world::World;
use crate::zone;

struct Lines<'a> {
    out: &'a mut dyn Write,
    failed: usize,
    /// A "credentials work" line still owed (OVH), shown after the first zone found.
    owed: Option<&'a dyn Connection>,
}

impl Lines<'_> {
    /// One line, without any secret the process holds.
    fn line(&mut self, text: String) {
        let _ = writeln!(self.out, "{}", crate::redact::scrub(&text));
    }
    fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        self.line(format!("ok    {what}: {}", detail.as_ref()));
    }
    fn warn(&mut self, what: &str, detail: impl AsRef<str>) {
        self.line(format!("warn  {what}: {}", detail.as_ref()));
    }
    fn fail(&mut self, what: &str, detail: impl AsRef<str>, fix: impl AsRef<str>) {
        self.failed += 1;
        self.line(format!(
            "FAIL  {what}: {}; fix: {}",
            detail.as_ref(),
            fix.as_ref()
        ));
    }
    fn fail_err(&mut self, what: &str, e: &Error) {
        self.failed += 1;
        let fix = e.hint.as_deref().unwrap_or("see the cause");
        self.line(format!("FAIL  {what}: {}; fix: {fix}", e.cause));
    }
}

/// A probe value: unique per run, shaped like an ACME value.
fn probe_value(now: std::time::SystemTime) -> String {
    let n = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("otc-acme-hook-check-{n:x}")
}

pub fn run(
    args: &CheckArgs,
    opts: &Options,
    world: &mut World,
    report: &Arc<Report>,
    local: Option<&HostState>,
) -> Result<()> {
    let mut domains = Vec::new();
    for d in &args.domains {
        let n = zone::normalize_domain(d).map_err(|e| Error::rejected("check", e))?;
        // example.com and *.example.com share one challenge name: check it once.
        if !domains.contains(&n) {
            domains.push(n);
        }
    }
    let mut stdout = std::mem::replace(&mut world.stdout, Box::new(std::io::sink()));
    let mut lines = Lines {
        out: stdout.as_mut(),
        failed: 0,
        owed: None,
    };

    // Which file the settings came from: a timer's run may read another than a shell's.
    lines.ok("config file", opts.config.to_string());

    // Credentials: the source that answered, never the secret.
    let cloud = match wiring::connect(opts, world, report) {
        Ok(c) => c,
        Err(e) if e.exit == crate::error::Exit::Rejected => return Err(e),
        Err(e) => {
            lines.fail_err("credentials", &e);
            let _ = stdout.flush();
            world.stdout = stdout;
            return Err(Error::failed(
                "check",
                "1 check(s) failed; the FAIL line above says how to fix it",
            ));
        }
    };
    lines.ok("credentials", cloud.identity());

    // The API answers, and our clock agrees with its Date header.
    let probe = cloud.probe_url();
    match cloud.send("GET", &probe, None).and_then(|r| {
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(cloud.error_of(&r))
        }
    }) {
        Ok(resp) => {
            let corrected = cloud.clock_offset();
            let skew = resp
                .header("Date")
                .and_then(|d| httpdate::parse_http_date(d).ok())
                .map(|server| crate::clock::unix_secs(server) - world.clock.unix_secs());
            match skew {
                Some(s) if s.abs() <= 60 && corrected == 0 => {
                    lines.ok("clock", format!("within {} s of the API's Date", s.abs()))
                }
                Some(s) => lines.warn(
                    "clock",
                    format!(
                        "{} s {} the API's Date; runs correct for it, but fix the clock (NTP)",
                        s.abs(),
                        if s > 0 { "behind" } else { "ahead of" }
                    ),
                ),
                None => lines.warn("clock", "the API sent no Date header to compare with"),
            }
            lines.ok("DNS API", format!("{} answers", opts.dns_endpoint.origin()));
        }
        Err(e) => {
            let hint = e.hint().unwrap_or("check --dns-endpoint and the network");
            lines.fail(
                "DNS API",
                format!("{}: {e}", opts.dns_endpoint.origin()),
                hint,
            );
        }
    }

    let dns = ZoneCache::new(cloud.dns());
    let query = NetDns {
        timeout: crate::defaults::CHECK_DNS_QUERY_TIMEOUT,
    };
    let mut flow = wiring::flow(opts, world, report, &dns, &query, local);
    flow.mode.wait_once = false;
    if cloud.credentials_probe(None).is_some() {
        lines.owed = Some(cloud.as_ref());
    }
    for d in &domains {
        check_domain(&mut lines, &flow, &dns, &query, d, args.read_only, world);
    }
    // No zone found: its line said why. No domain: the credentials' widest read.
    if let Some(cloud) = lines.owed.take().filter(|_| domains.is_empty()) {
        check_credentials(&mut lines, cloud, None);
    }
    if domains.is_empty() {
        lines.warn(
            "domains",
            "none given: only credentials and the API were checked",
        );
    }
    let failed = lines.failed;
    let _ = stdout.flush();
    world.stdout = stdout;
    if failed > 0 {
        return Err(Error::failed(
            "check",
            format!("{failed} check(s) failed; the FAIL lines above say how to fix them"),
        ));
    }
    Ok(())
}

/// Where the API probe went without credentials (OVH's `/auth/time`), one
/// authorized call the policy grants shows they work: for the first zone
/// found, or without a domain the credentials' widest read, whose refusal
/// (a policy scoped to some zones) is no failure.
fn check_credentials(lines: &mut Lines<'_>, cloud: &dyn Connection, zone: Option<&Zone>) {
    let Some(url) = cloud.credentials_probe(zone) else {
        return;
    };
    let what = format!("GET {}", url.path);
    let answer = cloud.send("GET", &url, None).and_then(|r| {
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(cloud.error_of(&r))
        }
    });
    match answer {
        Ok(_) => lines.ok("credentials work", format!("{what} answered")),
        Err(e) if zone.is_none() && e.kind() == Kind::Permission => lines.warn(
            "credentials work",
            format!(
                "accepted, but {what} is refused ({e}); runs do not need it: give a domain to check its zone"
            ),
        ),
        Err(e) => lines.fail(
            "credentials work",
            format!("{what}: {e}"),
            e.hint().unwrap_or("check the credentials"),
        ),
    }
}

fn check_domain(
    lines: &mut Lines<'_>,
    flow: &Flow<'_>,
    api: &dyn DnsApi,
    query: &dyn DnsQuery,
    domain: &str,
    read_only: bool,
    world: &World,
) {
    let fqdn = zone::challenge_name(domain);
    let crate::flow::engine::NameAt { name, zone: z } = match flow.effective_name("zone", &fqdn) {
        Ok(found) => found,
        Err(e) => {
            lines.fail_err(&format!("zone {domain}"), &e);
            return;
        }
    };
    lines.ok(
        &format!("zone {domain}"),
        format!("{name} lies in public zone {} (id {})", z.name, z.id),
    );
    if let Some(cloud) = lines.owed.take() {
        check_credentials(lines, cloud, Some(&z));
    }

    if read_only {
        lines.ok(&format!("probe {domain}"), "skipped (--read-only)");
    } else {
        let value = probe_value(world.clock.now());
        match flow.hook.auth(&z, &name, &value, true) {
            Ok(_) => match flow
                .hook
                .cleanup(&z, &name, &value)
                .and_then(|_| flow.hook.commit("cleanup"))
            {
                Ok(_) => lines.ok(
                    &format!("probe {domain}"),
                    format!("added and removed a TXT value at {name}"),
                ),
                Err(e) => lines.fail(
                    &format!("probe {domain}"),
                    format!(
                        "added a probe value at {name} but could not remove it: {}",
                        e.cause
                    ),
                    match e.hint.as_deref() {
                        Some(h) => format!("remove the TXT value {value} at {name} by hand; {h}"),
                        None => format!(
                            "remove the TXT value {value} at {name} by hand; check the DNS permissions of the {}",
                            api.identity_word()
                        ),
                    },
                ),
            },
            Err(e) => lines.fail_err(&format!("probe {domain}"), &e),
        }
    }

    check_nameservers(lines, flow, api, query, &z);
}

fn check_nameservers(
    lines: &mut Lines<'_>,
    flow: &Flow<'_>,
    api: &dyn DnsApi,
    query: &dyn DnsQuery,
    z: &Zone,
) {
    // Every nameserver we would ask answers on its port.
    match flow.checker.nameservers(api, z) {
        Ok(servers) => {
            for ns in servers {
                let answered = ns
                    .addrs
                    .iter()
                    .find(|a| query.ask(**a, &z.name, QType::Ns, false).is_ok());
                match answered {
                    Some(a) => lines.ok(
                        &format!("nameserver {}", ns.name),
                        format!("{a} answers for {}", z.name),
                    ),
                    None => lines.fail(
                        &format!("nameserver {}", ns.name),
                        format!("no answer from {:?} for {}", ns.addrs, z.name),
                        "open port 53 (UDP and TCP) to the nameservers, or run with --no-dns-check",
                    ),
                }
            }
        }
        Err(e) => lines.fail_err(&format!("nameservers of {}", z.name), &e),
    }

    // The world sees the zone delegated to the nameservers the API names.
    let api_names = match api.nameservers(z) {
        Ok(n) => normalize(n),
        Err(e) => {
            lines.fail(
                &format!("delegation of {}", z.name),
                format!("the API names no nameservers: {e}"),
                "check the zone in the DNS console",
            );
            return;
        }
    };
    match flow.checker.ns_from_resolver(&z.name) {
        Ok(seen) => {
            let seen = normalize(seen);
            // An API that names no nameservers (NCP Global DNS): the resolver's are the ones asked.
            if api_names.is_empty() {
                lines.ok(
                    &format!("delegation of {}", z.name),
                    format!("NS {} (the API names none)", seen.join(", ")),
                );
            } else if seen == api_names {
                lines.ok(
                    &format!("delegation of {}", z.name),
                    format!("NS {}", seen.join(", ")),
                );
            } else {
                lines.fail(
                    &format!("delegation of {}", z.name),
                    format!(
                        "the resolver sees NS {}, the API names {}",
                        seen.join(", "),
                        api_names.join(", ")
                    ),
                    format!(
                        "set the zone's NS records at the registrar to {}",
                        api_names.join(", ")
                    ),
                );
            }
        }
        Err(e) => lines.fail_err(&format!("delegation of {}", z.name), &e),
    }
}

fn normalize(mut names: Vec<String>) -> Vec<String> {
    let mut v: Vec<String> = names.drain(..).map(|n| zone::absolute(&n)).collect();
    v.sort();
    v.dedup();
    v
}
