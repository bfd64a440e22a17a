//! `otc-sim demo`: starts the simulator and runs the real `otc-acme-hook`
//! binary as certbot would, printing a readable transcript.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use simple_dns::rdata::{OPT, RData};
use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE, TYPE};

use crate::{CloudKind, Seed, Sim, SimOptions};

/// One challenge of the simulated certbot run.
struct Challenge {
    /// As certbot passes it (`*.` stripped into CERTBOT_DOMAIN).
    identifier: &'static str,
    value: &'static str,
}

const CHALLENGES: [Challenge; 4] = [
    Challenge {
        identifier: "example.test",
        value: "demo-apex-Zp3yQ0kX1s",
    },
    Challenge {
        identifier: "*.example.test",
        value: "demo-wild-Hk2v9TbW4q",
    },
    Challenge {
        identifier: "www.sub.example.test",
        value: "demo-nested-Lm8cR5dF7a",
    },
    Challenge {
        identifier: "alias.example.test",
        value: "demo-cname-Qe6uN1gJ3o",
    },
];

fn domain_of(identifier: &str) -> &str {
    identifier.strip_prefix("*.").unwrap_or(identifier)
}

/// What differs between the clouds' demos.
struct Profile {
    cloud: CloudKind,
    seed: Seed,
    challenges: &'static [Challenge],
    /// The DNS API's path prefix (its calls are counted).
    api_prefix: &'static str,
    /// Path of the metadata credential endpoint.
    metadata_path: &'static str,
    intro: &'static [&'static str],
    shown: &'static [&'static str],
}

/// NCP: no CNAME'd name (Global DNS has no private zone either).
const NCP_CHALLENGES: [Challenge; 3] = [
    Challenge {
        identifier: "example.test",
        value: "demo-apex-Zp3yQ0kX1s",
    },
    Challenge {
        identifier: "*.example.test",
        value: "demo-wild-Hk2v9TbW4q",
    },
    Challenge {
        identifier: "www.sub.example.test",
        value: "demo-nested-Lm8cR5dF7a",
    },
];

fn profile(cloud: CloudKind) -> Profile {
    match cloud {
        CloudKind::Ovh => unreachable!("OVHcloud has its own demo (run_demo_ovh)"),
        CloudKind::Otc => Profile {
            cloud,
            seed: Seed::demo(),
            challenges: &CHALLENGES,
            api_prefix: "/v2/",
            metadata_path: "/openstack/latest/securitykey",
            intro: &[
                "  zones: example.test. (public, with a foreign TXT \"keep-me\"), sub.example.test. (public, nested),",
                "         example.test. (private, same name: must stay untouched)",
                "  _acme-challenge.alias.example.test. is a CNAME to _acme-challenge.delegated.example.test.",
                "  delays: recordsets PENDING for 0.5 s after a change; nameservers serve it 1 s later",
                "  credentials: the ECS agency's temporary keys from the metadata service (no key on disk)",
            ],
            shown: &[
                "_acme-challenge.example.test.",
                "_acme-challenge.www.sub.example.test.",
                "_acme-challenge.delegated.example.test.",
            ],
        },
        CloudKind::Ncp => Profile {
            cloud,
            seed: Seed::ncp_demo(),
            challenges: &NCP_CHALLENGES,
            api_prefix: "/dns/v1/",
            metadata_path: "/latest/meta-data/iam/security-credentials",
            intro: &[
                "  NAVER Cloud Global DNS: domains example.test (with a foreign TXT \"keep-me\") and sub.example.test",
                "  nothing is served until the domain's pending edits are applied; nameservers serve an apply 1 s later",
                "  credentials: the server role's temporary keys from the metadata service (no key on disk)",
            ],
            shown: &[
                "_acme-challenge.example.test.",
                "_acme-challenge.www.sub.example.test.",
            ],
        },
    }
}

/// API requests the simulator logged so far whose path starts with `prefix`
/// (metadata calls excluded).
fn api_calls(sim: &Sim, prefix: &str) -> usize {
    sim.log_json()["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
                .count()
        })
        .unwrap_or(0)
}

/// Remote requests logged so far (DNS API, token, IAM; not the metadata
/// service) and the most of them in flight at once.
fn remote_calls(sim: &Sim) -> (usize, u64) {
    let log = sim.log_json();
    let calls = log["requests"]
        .as_array()
        .map_or(0, |a| a.iter().filter(|r| r["remote"] == true).count());
    (calls, log["concurrency"]["api_peak"].as_u64().unwrap_or(0))
}

/// The line closing a phase: its wall time and remote calls.
fn phase_line(
    out: &mut dyn Write,
    action: &str,
    took: Duration,
    calls: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "-- {action} phase: {:.2} s, {calls} remote API calls",
        took.as_secs_f64()
    )
}

/// The intro line naming the latency, if any.
fn latency_line(out: &mut dyn Write, latency_ms: u64) -> std::io::Result<()> {
    if latency_ms > 0 {
        writeln!(
            out,
            "  latency: {latency_ms} ms added to every remote API call (the metadata service answers at once)"
        )?;
    }
    Ok(())
}

/// One TXT query to the simulator's nameserver, as a resolver would send it
/// (UDP with EDNS, TCP when truncated). Written here rather than taken from the
/// hook: the simulator must not share the code it checks.
fn ask_txt(dns: SocketAddr, name: &str) -> anyhow::Result<(String, Vec<String>)> {
    let id = std::process::id() as u16;
    let mut q = Packet::new_query(id);
    q.questions.push(Question::new(
        Name::new(name.trim_end_matches('.'))?,
        QTYPE::TYPE(TYPE::TXT),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    *q.opt_mut() = Some(OPT {
        opt_codes: Vec::new(),
        udp_packet_size: 1232,
        version: 0,
    });
    let msg = q.build_bytes_vec()?;
    let timeout = Duration::from_secs(1);
    let bind = if dns.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    };
    let sock = UdpSocket::bind(bind)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send_to(&msg, dns)?;
    let mut buf = vec![0u8; 4096];
    let n = sock.recv(&mut buf)?;
    buf.truncate(n);
    if Packet::parse(&buf)?.has_flags(PacketFlag::TRUNCATION) {
        let mut s = TcpStream::connect_timeout(&dns, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&msg);
        s.write_all(&framed)?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len)?;
        buf = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut buf)?;
    }
    let p = Packet::parse(&buf)?;
    if p.id() != id {
        bail!("answer to another query (id mismatch)");
    }
    let rcode = match p.rcode() {
        RCODE::NoError => "NOERROR".to_string(),
        RCODE::NameError => "NXDOMAIN".to_string(),
        other => format!("{other:?}").to_ascii_uppercase(),
    };
    let txt = p
        .answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::TXT(t) => String::try_from(t.clone()).ok(),
            _ => None,
        })
        .collect();
    Ok((rcode, txt))
}

fn txt_at(dns: SocketAddr, name: &str) -> String {
    match ask_txt(dns, name) {
        Ok((rcode, txt)) if txt.is_empty() => format!("{rcode} (no TXT)"),
        Ok((_, txt)) => txt.join(", "),
        Err(e) => format!("no answer: {e}"),
    }
}

fn run_hook(
    hook: &Path,
    sim: &Sim,
    p: &Profile,
    action: &str,
    c: &Challenge,
    remaining: usize,
    all: &str,
) -> anyhow::Result<(bool, String, Duration)> {
    let start = Instant::now();
    let mut cmd = Command::new(hook);
    cmd.arg(action)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTC_CLOUD", p.cloud.name())
        .env(
            "OTC_METADATA_URL",
            format!("{}{}", sim.base_url(), p.metadata_path),
        )
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string());
    match p.cloud {
        CloudKind::Otc | CloudKind::Ovh => cmd.env("OTC_DNS_ENDPOINT", sim.base_url()),
        // Global DNS names no nameservers: the hook asks the resolver (the simulator) for NS.
        CloudKind::Ncp => cmd
            .env("OTC_DNS_ENDPOINT", format!("{}/dns/v1", sim.base_url()))
            .env("OTC_RESOLVER", sim.dns_addr().to_string()),
    };
    let out = cmd
        .env("OTC_PROPAGATION_TIMEOUT", "60")
        .env("CERTBOT_DOMAIN", domain_of(c.identifier))
        .env("CERTBOT_VALIDATION", c.value)
        .env("CERTBOT_REMAINING_CHALLENGES", remaining.to_string())
        .env("CERTBOT_ALL_DOMAINS", all)
        .output()
        .with_context(|| format!("cannot run {}", hook.display()))?;
    // Under certbot the hook's audit lines are on stdout, warnings on stderr.
    let mut lines = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        lines.push_str(&format!("(stderr) {line}\n"));
    }
    Ok((out.status.success(), lines, start.elapsed()))
}

/// Runs the OTC demo, writing the transcript to `out`.
pub fn run_demo(hook: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    run_demo_for(hook, CloudKind::Otc, out)
}

/// Runs the demo of `cloud`, writing the transcript to `out`.
pub fn run_demo_for(hook: &Path, cloud: CloudKind, out: &mut dyn Write) -> anyhow::Result<()> {
    run_demo_with(hook, cloud, 0, out)
}

/// Runs the demo of `cloud` with `latency_ms` added to every remote API
/// call, writing the transcript to `out`.
pub fn run_demo_with(
    hook: &Path,
    cloud: CloudKind,
    latency_ms: u64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if cloud == CloudKind::Ovh {
        return demo_ovh(hook, latency_ms, out);
    }
    let mut p = profile(cloud);
    p.seed.latency_ms = latency_ms;
    if !hook.is_file() {
        bail!(
            "otc-acme-hook not found at {} (build it: cargo build --release --bins, or pass --hook PATH)",
            hook.display()
        );
    }
    let total = Instant::now();
    let sim = Sim::start(SimOptions {
        seed: p.seed.clone(),
        cloud,
        ..SimOptions::default()
    })?;
    let all = p
        .challenges
        .iter()
        .map(|c| c.identifier)
        .collect::<Vec<_>>()
        .join(",");
    writeln!(
        out,
        "otc-sim demo: an ACME DNS-01 run, the way certbot drives the hook"
    )?;
    writeln!(
        out,
        "  simulator: API + metadata http://{}, authoritative DNS {}",
        sim.http_addr(),
        sim.dns_addr()
    )?;
    for line in p.intro {
        writeln!(out, "{line}")?;
    }
    latency_line(out, latency_ms)?;
    writeln!(out, "  certificate names: {all}\n")?;

    let mut per_hook = Vec::new();
    for (action, title) in [
        ("auth", "auth hooks (certbot runs them one by one)"),
        ("cleanup", "cleanup hooks (after validation)"),
    ] {
        writeln!(out, "== {title}")?;
        let (phase_calls, phase_start) = (remote_calls(&sim).0, Instant::now());
        for (i, c) in p.challenges.iter().enumerate() {
            let remaining = p.challenges.len() - 1 - i;
            let before = api_calls(&sim, p.api_prefix);
            let (ok, output, took) = run_hook(hook, &sim, &p, action, c, remaining, &all)?;
            let calls = api_calls(&sim, p.api_prefix) - before;
            per_hook.push(calls);
            writeln!(
                out,
                "$ CERTBOT_DOMAIN={} CERTBOT_REMAINING_CHALLENGES={remaining} otc-acme-hook {action}   [{:.2} s, {calls} API calls, exit {}]",
                domain_of(c.identifier),
                took.as_secs_f64(),
                if ok { 0 } else { 1 }
            )?;
            for line in output.lines() {
                writeln!(out, "    {line}")?;
            }
            if !ok {
                bail!("the {action} hook failed for {}", c.identifier);
            }
        }
        let calls = remote_calls(&sim).0 - phase_calls;
        phase_line(out, action, phase_start.elapsed(), calls)?;
        if action == "cleanup" {
            // Cleanup doesn't wait for propagation; give the nameserver its delay.
            std::thread::sleep(Duration::from_millis(1500));
        }
        writeln!(out, "\n== what the authoritative nameserver serves now")?;
        for name in p.shown {
            writeln!(out, "    {name}  {}", txt_at(sim.dns_addr(), name))?;
        }
        writeln!(out)?;
    }

    let state = sim.state_json();
    let private_intact = state["zones"].as_array().is_some_and(|zones| {
        zones.iter().any(|z| {
            z["zone_type"] == "private" && z["recordsets"].to_string().contains("private-value")
        })
    });
    let n = per_hook.len().max(1);
    writeln!(out, "== summary")?;
    writeln!(
        out,
        "    wall time: {:.1} s for {} auth + {} cleanup hooks",
        total.elapsed().as_secs_f64(),
        p.challenges.len(),
        p.challenges.len()
    )?;
    writeln!(
        out,
        "    API calls per hook: auth {:?}, cleanup {:?} (mean {:.1})",
        &per_hook[..p.challenges.len()],
        &per_hook[p.challenges.len()..],
        per_hook.iter().sum::<usize>() as f64 / n as f64
    )?;
    writeln!(
        out,
        "    most remote API calls in flight at once: {}",
        remote_calls(&sim).1
    )?;
    writeln!(
        out,
        "    foreign value \"keep-me\" still served: {}",
        txt_at(sim.dns_addr(), "_acme-challenge.example.test.").contains("keep-me")
    )?;
    match cloud {
        CloudKind::Otc | CloudKind::Ovh => {
            writeln!(out, "    private zone untouched: {private_intact}")?
        }
        CloudKind::Ncp => {
            let log = sim.log_json().to_string();
            writeln!(
                out,
                "    applies: {}; rollbacks: {}",
                log.matches("/record/apply/").count(),
                log.matches("/record/rollback/").count()
            )?
        }
    }
    writeln!(
        out,
        "    every request was signed and verified by the simulator; see GET /_sim/log when running `otc-sim serve`"
    )?;
    Ok(())
}

/// The OVHcloud demo's challenges: apex and wildcard share one name, the
/// nested name is a multi-label sub-domain of the same zone.
const OVH_CHALLENGES: [Challenge; 3] = [
    Challenge {
        identifier: "example.test",
        value: "demo-apex-Zp3yQ0kX1s",
    },
    Challenge {
        identifier: "*.example.test",
        value: "demo-wild-Hk2v9TbW4q",
    },
    Challenge {
        identifier: "www.deep.example.test",
        value: "demo-nested-Lm8cR5dF7a",
    },
];

/// OVH API requests logged so far: `(all, refreshes)`.
fn ovh_calls(sim: &Sim) -> (usize, usize) {
    let log = sim.log_json();
    let reqs: Vec<&serde_json::Value> = log["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| {
                    r["path"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("/1.0/") || p.starts_with("/auth/"))
                })
                .collect()
        })
        .unwrap_or_default();
    let refreshes = reqs
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/refresh")))
        .count();
    (reqs.len(), refreshes)
}

/// `otc-sim demo --cloud ovh`: the same certbot run with `--cloud ovh` and
/// the demo's service account (a policy of exactly the hook's actions on
/// `example.test`), writing the transcript to `out`.
pub fn run_demo_ovh(hook: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    demo_ovh(hook, 0, out)
}

fn demo_ovh(hook: &Path, latency_ms: u64, out: &mut dyn Write) -> anyhow::Result<()> {
    if !hook.is_file() {
        bail!(
            "otc-acme-hook not found at {} (build it: cargo build --release --bins, or pass --hook PATH)",
            hook.display()
        );
    }
    let total = Instant::now();
    let seed = Seed {
        latency_ms,
        ..Seed::demo()
    };
    let account = seed
        .ovh
        .service_accounts
        .first()
        .context("the demo seed has a service account")?
        .clone();
    let sim = Sim::start(SimOptions {
        seed,
        cloud: crate::CloudKind::Ovh,
        ..SimOptions::default()
    })?;
    let all = OVH_CHALLENGES
        .iter()
        .map(|c| c.identifier)
        .collect::<Vec<_>>()
        .join(",");
    writeln!(
        out,
        "otc-sim demo --cloud ovh: an ACME DNS-01 run against simulated OVHcloud DNS"
    )?;
    writeln!(
        out,
        "  simulator: API http://{}/1.0, token endpoint /auth/oauth2/token, authoritative DNS {}",
        sim.http_addr(),
        sim.dns_addr()
    )?;
    writeln!(
        out,
        "  zone: example.test (a foreign TXT \"foreign-value\" at _acme-challenge); edits are served only after POST …/refresh, 1 s later"
    )?;
    writeln!(
        out,
        "  credentials: service account {} (OVH_CLIENT_ID/OVH_CLIENT_SECRET), IAM policy: get, record/get, record/create, record/delete, refresh on example.test",
        account.client_id
    )?;
    latency_line(out, latency_ms)?;
    writeln!(out, "  certificate names: {all}\n")?;
    let mut per_hook = Vec::new();
    let mut refreshes = Vec::new();
    for (action, title) in [
        ("auth", "auth hooks (certbot runs them one by one)"),
        ("cleanup", "cleanup hooks (after validation)"),
    ] {
        writeln!(out, "== {title}")?;
        let (_, refreshed_before) = ovh_calls(&sim);
        let (phase_calls, phase_start) = (remote_calls(&sim).0, Instant::now());
        for (i, c) in OVH_CHALLENGES.iter().enumerate() {
            let remaining = OVH_CHALLENGES.len() - 1 - i;
            let (before, _) = ovh_calls(&sim);
            let start = Instant::now();
            let o = Command::new(hook)
                .arg(action)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("OTC_CLOUD", "ovh")
                .env("OTC_DNS_ENDPOINT", format!("{}/1.0", sim.base_url()))
                .env(
                    "OTC_TOKEN_ENDPOINT",
                    format!("{}/auth/oauth2/token", sim.base_url()),
                )
                .env("OVH_CLIENT_ID", &account.client_id)
                .env("OVH_CLIENT_SECRET", &account.client_secret)
                .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
                .env("OTC_PROPAGATION_TIMEOUT", "60")
                .env("CERTBOT_DOMAIN", domain_of(c.identifier))
                .env("CERTBOT_VALIDATION", c.value)
                .env("CERTBOT_REMAINING_CHALLENGES", remaining.to_string())
                .env("CERTBOT_ALL_DOMAINS", &all)
                .current_dir(std::env::temp_dir())
                .output()
                .with_context(|| format!("cannot run {}", hook.display()))?;
            let took = start.elapsed();
            let calls = ovh_calls(&sim).0 - before;
            per_hook.push(calls);
            writeln!(
                out,
                "$ CERTBOT_DOMAIN={} CERTBOT_REMAINING_CHALLENGES={remaining} otc-acme-hook --cloud ovh {action}   [{:.2} s, {calls} API calls, exit {}]",
                domain_of(c.identifier),
                took.as_secs_f64(),
                o.status.code().unwrap_or(-1)
            )?;
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                writeln!(out, "    {line}")?;
            }
            for line in String::from_utf8_lossy(&o.stderr).lines() {
                writeln!(out, "    (stderr) {line}")?;
            }
            if !o.status.success() {
                bail!("the {action} hook failed for {}", c.identifier);
            }
        }
        let calls = remote_calls(&sim).0 - phase_calls;
        phase_line(out, action, phase_start.elapsed(), calls)?;
        refreshes.push(ovh_calls(&sim).1 - refreshed_before);
        if action == "cleanup" {
            // Cleanup doesn't wait for propagation; give the nameserver its delay.
            std::thread::sleep(Duration::from_millis(1500));
        }
        writeln!(out, "\n== what the authoritative nameserver serves now")?;
        for name in [
            "_acme-challenge.example.test.",
            "_acme-challenge.www.deep.example.test.",
        ] {
            writeln!(out, "    {name}  {}", txt_at(sim.dns_addr(), name))?;
        }
        writeln!(out)?;
    }
    let n = OVH_CHALLENGES.len();
    writeln!(out, "== summary")?;
    writeln!(
        out,
        "    wall time: {:.1} s for {n} auth + {n} cleanup hooks",
        total.elapsed().as_secs_f64()
    )?;
    writeln!(
        out,
        "    API calls per hook: auth {:?}, cleanup {:?}",
        &per_hook[..n],
        &per_hook[n..]
    )?;
    writeln!(
        out,
        "    most remote API calls in flight at once: {}",
        remote_calls(&sim).1
    )?;
    writeln!(
        out,
        "    zone refreshes: {} in auth, {} in cleanup (one per zone per run)",
        refreshes[0], refreshes[1]
    )?;
    writeln!(
        out,
        "    foreign value \"foreign-value\" still served: {}",
        txt_at(sim.dns_addr(), "_acme-challenge.example.test.").contains("foreign-value")
    )?;
    Ok(())
}
