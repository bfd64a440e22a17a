//! certbot's `--manual` hook contract: the challenge from the environment,
//! CNAME delegation, and waiting once per run for every name.

use std::collections::HashMap;

use crate::dns_api::Zone;
use crate::error::{Error, Result};
use crate::hook::Hook;
use crate::propagation::{Checker, Nameserver, Target};
use crate::{txt, zone};

/// What certbot tells a hook through its environment.
#[derive(Debug, Clone)]
pub struct CertbotEnv {
    pub domain: String,
    pub value: String,
    /// `CERTBOT_REMAINING_CHALLENGES`; `None` when unset.
    pub remaining: Option<u32>,
    /// `CERTBOT_ALL_DOMAINS`, normalised (wildcards mapped to their base name).
    pub all_domains: Vec<String>,
}

impl CertbotEnv {
    /// Reads and validates; every error is a rejection before any network call.
    pub fn from_env(env: &HashMap<String, String>) -> Result<CertbotEnv> {
        let get = |k: &str| env.get(k).map(String::as_str).unwrap_or("");
        let hint = "run this as certbot's --manual-auth-hook / --manual-cleanup-hook";
        let raw = get("CERTBOT_DOMAIN");
        if raw.trim().is_empty() {
            return Err(Error::rejected("input", "CERTBOT_DOMAIN is not set").hint(hint));
        }
        let domain = zone::normalize_domain(raw)
            .map_err(|e| Error::rejected("input", format!("CERTBOT_DOMAIN: {e}")))?;
        let value = get("CERTBOT_VALIDATION");
        if value.is_empty() {
            return Err(Error::rejected("input", "CERTBOT_VALIDATION is not set").hint(hint));
        }
        txt::validate_value(value)
            .map_err(|e| Error::rejected("input", format!("CERTBOT_VALIDATION: {e}")))?;
        let remaining = match get("CERTBOT_REMAINING_CHALLENGES").trim() {
            "" => None,
            n => Some(n.parse::<u32>().map_err(|_| {
                Error::rejected(
                    "input",
                    format!("CERTBOT_REMAINING_CHALLENGES is not a number: {n:?}"),
                )
            })?),
        };
        let mut all_domains = Vec::new();
        for d in get("CERTBOT_ALL_DOMAINS")
            .split(',')
            .filter(|d| !d.trim().is_empty())
        {
            let n = zone::normalize_domain(d)
                .map_err(|e| Error::rejected("input", format!("CERTBOT_ALL_DOMAINS: {e}")))?;
            if !all_domains.contains(&n) {
                all_domains.push(n);
            }
        }
        Ok(CertbotEnv {
            domain,
            value: value.to_string(),
            remaining,
            all_domains,
        })
    }

    pub fn fqdn(&self) -> String {
        zone::challenge_name(&self.domain)
    }
}

/// How a run waits.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Ask the authoritative nameservers (else API `ACTIVE` only).
    pub dns_check: bool,
    /// Follow a CNAME at `_acme-challenge`.
    pub cname: bool,
    /// Wait only on the last challenge, for every name of the run.
    pub wait_once: bool,
}

pub struct Flow<'a> {
    pub hook: Hook<'a>,
    pub checker: Checker<'a>,
    pub mode: Mode,
}

impl Flow<'_> {
    /// The name to write at (`fqdn`, or the end of its CNAME chain) and its zone.
    pub fn effective_name(&self, step: &'static str, fqdn: &str) -> Result<(String, Zone)> {
        // Errors about the name itself belong to the caller's step; CNAME targets say "cname".
        let find = |n: &str| self.hook.find_zone(step, n);
        if !self.mode.cname || !self.mode.dns_check {
            return Ok((fqdn.to_string(), find(fqdn)?));
        }
        self.checker.follow_cname(self.hook.api, &find, fqdn)
    }

    pub fn auth(&self, env: &CertbotEnv) -> Result<()> {
        let (name, zone) = self.effective_name("auth", &env.fqdn())?;
        let later = self.mode.wait_once && env.remaining.is_some_and(|r| r > 0);
        let written = self.hook.auth(&zone, &name, &env.value, !later)?;
        if later {
            self.hook.report.verbose(format!(
                "{} more challenge(s) follow; the last one waits for all",
                env.remaining.unwrap_or(0)
            ));
            return Ok(());
        }
        // Our own set first (already ACTIVE and verified), then the other names of the run.
        let mut sets = vec![(
            written.zone.clone(),
            name.clone(),
            self.values_of(&written.set.records, &env.value),
        )];
        if self.mode.wait_once {
            for d in env.all_domains.iter().filter(|d| **d != env.domain) {
                let (other, other_zone) =
                    match self.effective_name("auth", &zone::challenge_name(d)) {
                        Ok(found) => found,
                        Err(e) => {
                            self.hook.report.verbose(format!("skipping {d}: {e}"));
                            continue;
                        }
                    };
                if sets.iter().any(|(_, n, _)| *n == other) {
                    continue;
                }
                if let Some(s) = self.active_set(&other_zone, &other)? {
                    sets.push(s);
                }
            }
        }
        if !self.mode.dns_check {
            self.hook
                .report
                .info("the API reports the change ACTIVE (DNS check disabled)");
            return Ok(());
        }
        let mut by_zone: HashMap<String, Vec<Nameserver>> = HashMap::new();
        let mut targets = Vec::new();
        for (z, n, values) in sets {
            if !by_zone.contains_key(&z.id) {
                let ns = self.checker.nameservers(self.hook.api, &z)?;
                self.hook.report.verbose(format!(
                    "nameservers of {}: {}",
                    z.name,
                    ns.iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                by_zone.insert(z.id.clone(), ns);
            }
            targets.push(Target {
                name: n,
                values,
                nameservers: by_zone[&z.id].clone(),
            });
        }
        self.checker.wait(&targets)
    }

    /// The values to wait for in a set: all it holds (wait-once), or only ours.
    fn values_of(&self, records: &[String], ours: &str) -> Vec<String> {
        if self.mode.wait_once {
            records
                .iter()
                .map(|r| txt::unquote(r).to_string())
                .collect()
        } else {
            vec![ours.to_string()]
        }
    }

    /// Zone, name and values of the TXT set at `name` once it is ACTIVE;
    /// `None` (said under `-v`) when there is no set.
    fn active_set(&self, zone: &Zone, name: &str) -> Result<Option<(Zone, String, Vec<String>)>> {
        let z = zone.clone();
        let set = self
            .hook
            .api
            .find_txt(&z, name)
            .map_err(|e| Error::failed("auth", format!("reading {name}: {e}")))?;
        let Some(set) = set else {
            self.hook
                .report
                .verbose(format!("skipping {name}: no TXT recordset"));
            return Ok(None);
        };
        let Some(active) = self.hook.wait_active("auth", &z, &set.id)? else {
            return Ok(None);
        };
        let values = active
            .records
            .iter()
            .map(|r| txt::unquote(r).to_string())
            .collect();
        Ok(Some((z, name.to_string(), values)))
    }

    pub fn cleanup(&self, env: &CertbotEnv) -> Result<()> {
        let (name, zone) = self.effective_name("cleanup", &env.fqdn())?;
        self.hook.cleanup(&zone, &name, &env.value)
    }
}
