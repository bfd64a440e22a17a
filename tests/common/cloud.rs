//! The clouds as the test matrix sees them: for each, a seed with the same
//! zones and foreign records, the hook pointed at its simulator with its
//! usual credentials, and a certbot command builder.
//!
//! Every seed holds public zones `example.test` (TXT `foreign-keep` at
//! `_acme-challenge`, TTL 600, `v=spf1 -all` at the apex and `lookalike` at
//! `xacme-challenge`) and `sub.example.test`, nameserver `localhost.`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use otc_sim::Sim;
use serde_json::{Value, json};

use super::world::World;
use super::{Run, run};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Otc,
    Ovh,
    Ncp,
}

/// OVH's service account with every right.
pub const OVH_ACCOUNT: (&str, &str) = ("sa-all", "SA-SECRET-ALL-000000000001");

impl Cloud {
    pub const ALL: [Cloud; 3] = [Cloud::Otc, Cloud::Ovh, Cloud::Ncp];

    /// The `--cloud` value.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Otc => "otc",
            Cloud::Ovh => "ovh",
            Cloud::Ncp => "ncp",
        }
    }

    /// Where the DNS API's paths start in the simulator's log.
    pub fn dns_path(self) -> &'static str {
        match self {
            Cloud::Otc => "/v2/",
            Cloud::Ovh => "/1.0/domain",
            Cloud::Ncp => "/dns/v1/",
        }
    }

    /// The path of the commit call of zone `id`, for faults (`None`: OTC
    /// commits nothing).
    pub fn commit_path(self, id: &str) -> Option<String> {
        match self {
            Cloud::Otc => None,
            Cloud::Ovh => Some(format!("/1.0/domain/zone/{id}/refresh")),
            Cloud::Ncp => Some(format!("/dns/v1/ncpdns/record/apply/{id}")),
        }
    }

    /// A static key pair the seed knows: (access key or client id, secret).
    pub fn static_key(self) -> (&'static str, &'static str) {
        match self {
            Cloud::Otc => (
                "AKSTATIC000000000001",
                "SKstatic-secret-0000000000000000000000001",
            ),
            Cloud::Ovh => OVH_ACCOUNT,
            Cloud::Ncp => (super::ncp::AK, super::ncp::SK),
        }
    }

    /// The seed: the zones above, plus TXT values `extra` at
    /// `_acme-challenge.example.test.`.
    pub fn seed_with(self, extra: &[&str]) -> Value {
        match self {
            Cloud::Otc => {
                let mut s = super::base_seed();
                s["zones"][0]["records"].as_array_mut().unwrap().push(json!(
                    {"name": "xacme-challenge.example.test.", "type": "TXT", "ttl": 300, "records": ["\"lookalike\""]}
                ));
                let set = &mut s["zones"][0]["records"][0]["records"];
                for v in extra {
                    set.as_array_mut().unwrap().push(json!(format!("\"{v}\"")));
                }
                s
            }
            Cloud::Ovh => {
                let mut records = vec![
                    json!({"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600}),
                    json!({"subDomain": "", "fieldType": "TXT", "target": "\"v=spf1 -all\"", "ttl": 3600}),
                    json!({"subDomain": "xacme-challenge", "fieldType": "TXT", "target": "lookalike"}),
                ];
                for v in extra {
                    records.push(json!({"subDomain": "_acme-challenge", "fieldType": "TXT", "target": v, "ttl": 600}));
                }
                json!({
                    "nameservers": ["localhost."],
                    "propagation_delay_ms": 300,
                    "ovh": {
                        "zones": [
                            {"name": "example.test", "records": records},
                            {"name": "sub.example.test"}
                        ],
                        "service_accounts": [
                            {"client_id": OVH_ACCOUNT.0, "client_secret": OVH_ACCOUNT.1}
                        ]
                    }
                })
            }
            Cloud::Ncp => {
                let mut s = super::ncp::seed();
                let records = s["ncp"]["domains"][0]["records"].as_array_mut().unwrap();
                records.push(
                    json!({"host": "xacme-challenge", "type": "TXT", "content": "lookalike"}),
                );
                for v in extra {
                    records.push(
                        json!({"host": "_acme-challenge", "type": "TXT", "content": v, "ttl": 600}),
                    );
                }
                s
            }
        }
    }

    pub fn seed(self) -> Value {
        self.seed_with(&[])
    }

    pub fn start(self, seed: Value) -> Sim {
        super::start_cloud(seed, self.name())
    }

    /// A simulator of the standard seed.
    pub fn sim(self) -> Sim {
        self.start(self.seed())
    }

    /// The hook with nothing of the developer's environment, pointed at
    /// `sim`, with the cloud's usual credentials: OTC's ECS agency from the
    /// metadata service, OVH's service account in `OVH_CLIENT_*`, NCP's
    /// server role from the metadata service.
    pub fn cmd(self, sim: &Sim) -> Command {
        match self {
            Cloud::Otc => super::cmd(sim),
            Cloud::Ovh => {
                let mut c = super::cmd_for(sim, "ovh");
                c.env("OVH_CLIENT_ID", OVH_ACCOUNT.0)
                    .env("OVH_CLIENT_SECRET", OVH_ACCOUNT.1);
                c
            }
            Cloud::Ncp => super::ncp::cmd(sim),
        }
    }

    /// The hook pointed at `sim` without credentials of any kind (OTC and
    /// NCP: no metadata service either).
    pub fn bare_cmd(self, sim: &Sim) -> Command {
        let mut c = self.cmd(sim);
        c.env_remove("OTC_METADATA_URL")
            .env_remove("OVH_CLIENT_ID")
            .env_remove("OVH_CLIENT_SECRET");
        c
    }

    /// Lines of a config file that choose this cloud, its DNS endpoint in
    /// `sim` and its static key.
    pub fn config_lines(self, sim: &Sim) -> String {
        let (ak, sk) = self.static_key();
        match self {
            Cloud::Otc => format!(
                "OTC_CLOUD=otc\nOTC_DNS_ENDPOINT={}\nOS_ACCESS_KEY={ak}\nOS_SECRET_KEY={sk}\n",
                sim.base_url()
            ),
            Cloud::Ovh => format!(
                "OTC_CLOUD=ovh\nOTC_DNS_ENDPOINT={}/1.0\nOVH_CLIENT_ID={ak}\nOVH_CLIENT_SECRET={sk}\n",
                sim.base_url()
            ),
            Cloud::Ncp => format!(
                "OTC_CLOUD=ncp\nOTC_DNS_ENDPOINT={}\nNCLOUD_ACCESS_KEY_ID={ak}\nNCLOUD_SECRET_ACCESS_KEY=\"{sk}\"\n",
                super::ncp::dns_base(sim)
            ),
        }
    }

    /// A path of the DNS API (relative to its endpoint) that lists the zones,
    /// for `api GET`.
    pub fn zone_listing(self) -> &'static str {
        match self {
            Cloud::Otc => "/v2/zones?type=public",
            Cloud::Ovh => "/domain/zone",
            Cloud::Ncp => "/ncpdns/domain?page=0&size=10",
        }
    }

    /// The access keys (OTC, NCP: the temporary ones the metadata service
    /// issued) or client id (OVH) the cloud's usual credentials sign with.
    pub fn identities(self, w: &World) -> Vec<String> {
        match self {
            Cloud::Ovh => vec![OVH_ACCOUNT.0.to_string()],
            _ => w.calls.iter().filter_map(|c| c.issued.clone()).collect(),
        }
    }

    /// Certbot's hooks of this cloud's usual command.
    pub fn certbot<'a>(self, sim: &'a Sim) -> Certbot<'a> {
        Certbot::new(self, sim)
    }
}

/// certbot's hook on any command `c`: `hook` after its arguments,
/// `CERTBOT_DOMAIN` and `CERTBOT_VALIDATION`, and, when given,
/// `CERTBOT_REMAINING_CHALLENGES` (`left`) and `CERTBOT_ALL_DOMAINS`
/// (`all`). Every certbot command of the tests is built here.
pub fn challenge_on<'c>(
    c: &'c mut Command,
    hook: &str,
    domain: &str,
    value: &str,
    left: Option<&str>,
    all: Option<&str>,
) -> &'c mut Command {
    c.arg(hook)
        .env("CERTBOT_DOMAIN", domain)
        .env("CERTBOT_VALIDATION", value);
    if let Some(l) = left {
        c.env("CERTBOT_REMAINING_CHALLENGES", l);
    }
    if let Some(a) = all {
        c.env("CERTBOT_ALL_DOMAINS", a);
    }
    c
}

/// Builds certbot's hook commands: a cloud's command (see [`Cloud::cmd`])
/// plus extra environment, arguments (before or after the hook's name) and
/// a working directory, then certbot's variables for one challenge.
#[derive(Clone)]
pub struct Certbot<'a> {
    sim: &'a Sim,
    cloud: Cloud,
    env: Vec<(OsString, Option<OsString>)>,
    args: Vec<OsString>,
    after: Vec<OsString>,
    dir: Option<PathBuf>,
}

impl<'a> Certbot<'a> {
    pub fn new(cloud: Cloud, sim: &'a Sim) -> Certbot<'a> {
        Certbot {
            sim,
            cloud,
            env: Vec::new(),
            args: Vec::new(),
            after: Vec::new(),
            dir: None,
        }
    }

    /// Sets a variable in every command built.
    pub fn env(mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> Self {
        self.env.push((k.into(), Some(v.into())));
        self
    }

    /// Removes a variable from every command built.
    pub fn env_remove(mut self, k: impl Into<OsString>) -> Self {
        self.env.push((k.into(), None));
        self
    }

    /// An argument before the hook's name (a global flag).
    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, a: I) -> Self {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Arguments after the hook's name.
    pub fn hook_args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, a: I) -> Self {
        self.after.extend(a.into_iter().map(Into::into));
        self
    }

    pub fn dir(mut self, d: impl Into<PathBuf>) -> Self {
        self.dir = Some(d.into());
        self
    }

    /// The command without the hook: the cloud's, with the extras.
    pub fn base(&self) -> Command {
        let mut c = self.cloud.cmd(self.sim);
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.args(&self.args);
        if let Some(d) = &self.dir {
            c.current_dir(d);
        }
        c
    }

    /// `hook` (`auth`, `cleanup`) with `CERTBOT_DOMAIN` and
    /// `CERTBOT_VALIDATION`, and, when given, `CERTBOT_REMAINING_CHALLENGES`
    /// (`left`) and `CERTBOT_ALL_DOMAINS` (`all`), as given.
    pub fn challenge(
        &self,
        hook: &str,
        domain: &str,
        value: &str,
        left: Option<&str>,
        all: Option<&str>,
    ) -> Command {
        let mut c = self.base();
        challenge_on(&mut c, hook, domain, value, left, all).args(&self.after);
        c
    }

    /// A hook outside a run's countdown: `CERTBOT_DOMAIN` and
    /// `CERTBOT_VALIDATION` only.
    pub fn lone(&self, hook: &str, domain: &str, value: &str) -> Command {
        self.challenge(hook, domain, value, None, None)
    }

    /// `hook` for `domain` and `value`, with `left` challenges after it in a
    /// run of `all` domains.
    pub fn command(
        &self,
        hook: &str,
        domain: &str,
        value: &str,
        left: usize,
        all: &str,
    ) -> Command {
        self.challenge(hook, domain, value, Some(&left.to_string()), Some(all))
    }

    /// Runs [`Certbot::command`] (checking no secret is printed).
    pub fn run(&self, hook: &str, domain: &str, value: &str, left: usize, all: &str) -> Run {
        run(self.sim, &mut self.command(hook, domain, value, left, all))
    }

    /// The hook of a one-name certificate, which must succeed.
    pub fn ok(&self, hook: &str, domain: &str, value: &str) -> Run {
        let r = self.run(hook, domain, value, 0, domain);
        assert_eq!(
            r.code,
            0,
            "{} {hook} {domain}:\nstdout: {}\nstderr: {}",
            self.cloud.name(),
            r.stdout,
            r.stderr
        );
        r
    }

    /// Hook `i` of a certbot run of `(domain, value)` challenges in order
    /// (a wildcard as `*.name`, which certbot passes as `name`).
    pub fn hook_of(&self, hook: &str, run_of: &[(&str, &str)], i: usize) -> Command {
        let all = run_of.iter().map(|(d, _)| *d).collect::<Vec<_>>().join(",");
        let (d, v) = run_of[i];
        self.command(
            hook,
            d.trim_start_matches("*."),
            v,
            run_of.len() - 1 - i,
            &all,
        )
    }
}
