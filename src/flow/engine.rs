//! The ACME clients' hook contracts — certbot's `--manual` environment and
//! lego's `exec` arguments — and the flow they share: CNAME delegation, and
//! waiting once per certbot run for every name.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::flow::hook::Hook;
use crate::propagation::{Checker, Nameserver, Target};
use crate::provider::{TxtAt, Zone};
use crate::{txt, zone};

/// One challenge, as an ACME client hands it over.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Where the TXT value goes (absolute, lower-case), before CNAME following.
    pub fqdn: String,
    /// The certificate name it validates (for telling it apart in `all_domains`).
    pub domain: String,
    pub value: String,
    /// `CERTBOT_REMAINING_CHALLENGES`; `None` when unset.
    pub remaining: Option<u32>,
    /// `CERTBOT_ALL_DOMAINS`, normalised (wildcards mapped to their base name).
    pub all_domains: Vec<String>,
    /// `CERTBOT_ALL_DOMAINS` as certbot gives it, one entry per challenge of the
    /// run (apex and wildcard give the same name twice), normalised.
    pub all_challenges: Vec<String>,
}

impl Challenge {
    /// What ties the hooks of one certbot run together: a digest of
    /// `CERTBOT_ALL_DOMAINS` (the same for every hook of a run), the number of
    /// challenges, and this hook's place in the countdown. `None` when the hook
    /// is not one of a certbot run with several challenges, or the environment
    /// doesn't add up (the domain is not where the countdown says).
    pub fn run_key(&self) -> Option<(String, u32, u32)> {
        let r = self.remaining?;
        let count = u32::try_from(self.all_challenges.len()).ok()?;
        if count < 2 || r >= count {
            return None;
        }
        if self.all_challenges[(count - 1 - r) as usize] != self.domain {
            return None;
        }
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(self.all_challenges.join(",").as_bytes()));
        Some((digest[..16].to_string(), count, r))
    }
}

impl Challenge {
    /// certbot: reads and validates the environment; every error is a rejection
    /// before any network call.
    pub fn from_certbot_env(env: &HashMap<String, String>) -> Result<Challenge> {
        let get = |k: &str| env.get(k).map(String::as_str).unwrap_or("");
        let hint = "run this as certbot's --manual-auth-hook / --manual-cleanup-hook";
        let raw = get("CERTBOT_DOMAIN");
        if raw.trim().is_empty() {
            return Err(Error::rejected("input", "CERTBOT_DOMAIN is not set").hint(hint));
        }
        let domain = zone::normalize_domain(raw)
            .map_err(|e| Error::rejected("input", format!("CERTBOT_DOMAIN: {e}")))?;
        zone::check_name_fits(&zone::challenge_name(&domain))
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
        let mut all_challenges = Vec::new();
        for d in get("CERTBOT_ALL_DOMAINS")
            .split(',')
            .filter(|d| !d.trim().is_empty())
        {
            let n = zone::normalize_domain(d)
                .map_err(|e| Error::rejected("input", format!("CERTBOT_ALL_DOMAINS: {e}")))?;
            all_challenges.push(n.clone());
            if !all_domains.contains(&n) {
                all_domains.push(n);
            }
        }
        Ok(Challenge {
            fqdn: zone::challenge_name(&domain),
            domain,
            value: value.to_string(),
            remaining,
            all_domains,
            all_challenges,
        })
    }

    /// lego's `exec` contract, by arity: `FQDN VALUE` (default mode, the fqdn
    /// with its trailing dot) or `DOMAIN TOKEN KEYAUTH` (RAW mode, after `--`:
    /// the value is base64url(SHA-256(keyAuth)), unpadded).
    pub fn from_lego_args(verb: &str, args: &[String], any_name: bool) -> Result<Challenge> {
        let usage = || {
            Error::rejected(
                "input",
                format!("{verb} takes FQDN VALUE (lego default mode) or -- DOMAIN TOKEN KEYAUTH (lego RAW mode); got {} argument(s)", args.len()),
            )
            .hint(format!("for certbot, run `otc-acme-hook {}` with no arguments", if verb == "present" { "auth" } else { verb }))
        };
        match args {
            [fqdn, value] => {
                let name = zone::normalize_domain(fqdn)
                    .map_err(|e| Error::rejected("input", format!("FQDN: {e}")))?;
                // A hook for ACME challenges writes only challenge names, unless told otherwise.
                if !any_name && !name.starts_with("_acme-challenge.") {
                    return Err(Error::rejected(
                        "input",
                        format!("FQDN {name}. is not an _acme-challenge name"),
                    )
                    .hint("lego passes _acme-challenge names; to write elsewhere on purpose, pass --any-name"));
                }
                txt::validate_value(value)
                    .map_err(|e| Error::rejected("input", format!("VALUE: {e}")))?;
                let domain = name
                    .strip_prefix("_acme-challenge.")
                    .unwrap_or(&name)
                    .to_string();
                Ok(Challenge {
                    fqdn: format!("{name}."),
                    domain,
                    value: value.clone(),
                    remaining: None,
                    all_domains: Vec::new(),
                    all_challenges: Vec::new(),
                })
            }
            [domain, _token, key_auth] => {
                let domain = zone::normalize_domain(domain)
                    .map_err(|e| Error::rejected("input", format!("DOMAIN: {e}")))?;
                zone::check_name_fits(&zone::challenge_name(&domain))
                    .map_err(|e| Error::rejected("input", format!("DOMAIN: {e}")))?;
                if key_auth.is_empty() {
                    return Err(Error::rejected("input", "KEYAUTH is empty"));
                }
                Ok(Challenge {
                    fqdn: zone::challenge_name(&domain),
                    domain,
                    value: key_authorization_digest(key_auth),
                    remaining: None,
                    all_domains: Vec::new(),
                    all_challenges: Vec::new(),
                })
            }
            _ => Err(usage()),
        }
    }
}

/// The DNS-01 TXT value of a key authorization (RFC 8555 §8.4):
/// base64url without padding of its SHA-256.
pub fn key_authorization_digest(key_auth: &str) -> String {
    use sha2::{Digest, Sha256};
    base64url(&Sha256::digest(key_auth.as_bytes()))
}

/// base64url (RFC 4648 §5) without padding; 20 lines beat a dependency here.
pub fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// How long after its last write a hook reads again what it wrote.
pub const RECHECK_AFTER: std::time::Duration = crate::defaults::RECHECK_AFTER_WRITE;
/// How often one value is written again after others dropped it.
pub const MAX_READDS: u32 = 2;
/// How often a removed value is removed again after others brought it back.
pub const MAX_REREMOVALS: u32 = 5;

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

/// An early hook of a certbot run (more challenges follow, wait-once on):
/// records its value in the journal for the run's last hook, before any
/// credential is fetched or request made. `Ok(false)`: not such a hook, or no
/// run to join (the caller then writes at once).
pub fn defer_early(
    env: &Challenge,
    local: &crate::local::Local,
    clock: &dyn crate::clock::Clock,
    report: &crate::report::Report,
    wait_once: bool,
) -> Result<bool> {
    let Some((all, count, remaining)) = env.run_key().filter(|_| wait_once) else {
        return Ok(false);
    };
    if remaining == 0 {
        return Ok(false);
    }
    let ancestors = crate::local::ancestry();
    match local.defer(
        clock.unix_secs(),
        &all,
        count,
        remaining,
        &env.fqdn,
        &env.value,
        &ancestors,
    )? {
        Some(_) => {
            report.info(format!(
                "recorded TXT value {} for {}: the last hook of this certbot run writes it ({remaining} more challenge(s) follow)",
                env.value, env.fqdn
            ));
            Ok(true)
        }
        None => {
            report.verbose("no open certbot run to join in the journal; writing at once");
            Ok(false)
        }
    }
}

/// A cleanup hook of a batched certbot run with nothing to send, decided
/// before any credential is fetched: its value was never written (the run's
/// last auth hook never came), or the run's first cleanup already removed and
/// published it; the run's last hook forgets the run. `Ok(true)` when that is
/// so. A removal whose publishing failed is not such a case: the hook goes on,
/// finds the value gone and publishes the zone again.
pub fn removed_early(
    env: &Challenge,
    local: &crate::local::Local,
    report: &crate::report::Report,
    wait_once: bool,
) -> Result<bool> {
    let Some((_, _, remaining)) = env.run_key().filter(|_| wait_once) else {
        return Ok(false);
    };
    let Some((entry, id)) = local.run_of_value(&env.value) else {
        return Ok(false);
    };
    if entry.state == crate::local::State::Deferred {
        // Only this value: the run's other cleanup hooks find theirs the same way.
        local.forget(&entry.name, &entry.value)?;
        report.info(format!(
            "TXT value {} was never written (its certbot run stopped early); nothing to remove",
            env.value
        ));
        return Ok(true);
    }
    if !entry.removal_published() {
        return Ok(false);
    }
    report.info(format!(
        "TXT value {} was removed with the other values of its certbot run",
        env.value
    ));
    if remaining == 0 {
        // Every value of the run is removed and published: the run is over.
        local.forget_run(&id)?;
    }
    Ok(true)
}

/// Journal entries in `states`, grouped by zone and name: one write per name.
fn group_by_name(
    entries: &[crate::local::Entry],
    states: &[crate::local::State],
) -> Vec<(Zone, String, Vec<String>)> {
    let mut groups: Vec<(Zone, String, Vec<String>)> = Vec::new();
    for e in entries.iter().filter(|e| states.contains(&e.state)) {
        match groups
            .iter_mut()
            .find(|(z, n, _)| z.id == e.zone_id && *n == e.name)
        {
            Some((_, _, vs)) => vs.push(e.value.clone()),
            None => groups.push((
                Zone {
                    id: e.zone_id.clone(),
                    name: e.zone_name.clone(),
                },
                e.name.clone(),
                vec![e.value.clone()],
            )),
        }
    }
    groups
}

pub struct Flow<'a> {
    pub hook: Hook<'a>,
    pub checker: Checker<'a>,
    pub mode: Mode,
    /// How often each (name, value) was written again after others dropped it.
    pub readds: std::cell::RefCell<HashMap<(String, String), u32>>,
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

    pub fn auth(&self, env: &Challenge) -> Result<()> {
        if self.batched_auth(env)? {
            return Ok(());
        }
        let (name, zone) = self.effective_name("auth", &env.fqdn)?;
        let later = self.mode.wait_once && env.remaining.is_some_and(|r| r > 0);
        if later {
            self.hook.auth(&zone, &name, &env.value, false)?;
            self.hook.report.verbose(format!(
                "{} more challenge(s) follow; the last one waits for all",
                env.remaining.unwrap_or(0)
            ));
            return Ok(());
        }
        let sets = if self.mode.wait_once {
            // Write, then wait for our set and every other name of the run together:
            // one listing per zone per poll, not one read per name.
            let written = self.hook.auth(&zone, &name, &env.value, false)?;
            // Our own change is still pending: no point in looking right away.
            let settle_first = !written.set.is_settled();
            let mut names: Vec<(Zone, String)> = vec![(written.zone, name.clone())];
            for d in env.all_domains.iter().filter(|d| **d != env.domain) {
                match self.effective_name("auth", &zone::challenge_name(d)) {
                    Ok((n, z)) if !names.iter().any(|(_, o)| *o == n) => names.push((z, n)),
                    Ok(_) => {}
                    Err(e) => self.hook.report.verbose(format!("skipping {d}: {e}")),
                }
            }
            // The run's earlier hooks wrote without committing: their zones too.
            for (z, n) in &names[1..] {
                self.hook.adopt_run_values(z, n);
            }
            let sets = {
                self.hook.commit("auth")?;
                self.active_sets(&names, settle_first)?
            };
            let ours = sets
                .iter()
                .any(|(_, n, v)| *n == name && v.contains(&env.value));
            if ours {
                sets
            } else {
                // Someone replaced the set meanwhile: add again, waiting this time.
                self.hook
                    .report
                    .info(format!("{name} changed under us; adding the value again"));
                let again = self.hook.auth(&zone, &name, &env.value, true)?;
                let mut sets: Vec<_> = sets.into_iter().filter(|(_, n, _)| *n != name).collect();
                sets.push((
                    again.zone,
                    name.clone(),
                    self.values_of(&again.set.records, &env.value),
                ));
                sets
            }
        } else {
            let written = self.hook.auth(&zone, &name, &env.value, true)?;
            vec![(
                written.zone,
                name.clone(),
                self.values_of(&written.set.records, &env.value),
            )]
        };
        let names: Vec<(Zone, String)> = sets
            .iter()
            .map(|(z, n, _)| (z.clone(), n.clone()))
            .collect();
        let own = [(name, env.value.clone())];
        self.serve(sets, &own)?;
        self.keep(&names, &own)
    }

    /// The certbot run's part of `auth`, when batching applies: an early hook
    /// records its value and returns without touching the API; the last hook
    /// writes every value of the run, one write per TXT name, waits once for the
    /// sets to settle and once for the nameservers. `Ok(false)`: not batched
    /// (no run to join, or not a certbot run of several challenges).
    fn batched_auth(&self, env: &Challenge) -> Result<bool> {
        let (Some(local), true) = (self.hook.local, self.mode.wait_once) else {
            return Ok(false);
        };
        let Some((all, _, remaining)) = env.run_key() else {
            return Ok(false);
        };
        if remaining > 0 {
            // An early hook that found no run to join (see [`defer_early`]): write at once.
            return Ok(false);
        }
        let now = self.hook.clock.unix_secs();
        let (ids, deferred) = local.take_deferred(now, &all, &crate::local::ancestry())?;
        if ids.is_empty() {
            return Ok(false);
        }
        // Values of two indistinguishable runs are written untagged, so each is
        // later removed by its own cleanup hook, never early by the other run's.
        *self.hook.run.borrow_mut() = match <[String; 1]>::try_from(ids) {
            Ok([id]) => Some(crate::local::RunTag {
                id,
                remaining: 0,
                all,
                removed_ms: None,
                published: false,
                ancestors: Vec::new(),
            }),
            Err(_) => {
                self.hook.report.verbose(
                    "two certbot runs of the same names at once: writing both runs' values",
                );
                None
            }
        };
        // Every value of the run, grouped by the name it goes to (after CNAMEs).
        let mut pairs: Vec<(String, String)> =
            deferred.into_iter().map(|e| (e.name, e.value)).collect();
        pairs.push((env.fqdn.clone(), env.value.clone()));
        let mut resolved: HashMap<String, (String, Zone)> = HashMap::new();
        let mut groups: Vec<(Zone, String, Vec<String>)> = Vec::new();
        for (fqdn, value) in pairs {
            if !resolved.contains_key(&fqdn) {
                let found = self.effective_name("auth", &fqdn)?;
                resolved.insert(fqdn.clone(), found);
            }
            let (name, zone) = resolved[&fqdn].clone();
            match groups.iter_mut().find(|(_, n, _)| *n == name) {
                Some((_, _, values)) if values.contains(&value) => {}
                Some((_, _, values)) => values.push(value),
                None => groups.push((zone, name, vec![value])),
            }
        }
        let mut names = Vec::new();
        let mut settle_first = false;
        for (zone, name, values) in &groups {
            let w = self.hook.auth_many(zone, name, values, false)?;
            settle_first |= !w.set.is_settled();
            names.push((w.zone, name.clone()));
        }
        self.hook.report.verbose(format!(
            "wrote the run's values at {} name(s); waiting once for all",
            groups.len()
        ));
        let sets = {
            self.hook.commit("auth")?;
            self.active_sets(&names, settle_first)?
        };
        let own: Vec<(String, String)> = groups
            .iter()
            .flat_map(|(_, n, vs)| vs.iter().map(move |v| (n.clone(), v.clone())))
            .collect();
        self.serve(sets, &own)?;
        self.keep(&names, &own)?;
        Ok(true)
    }

    /// The certbot run's part of `cleanup`: the first cleanup hook of a batched
    /// run removes every value the run wrote (one write per name), checks a
    /// second later that they stayed removed where a racing read-modify-write
    /// could bring them back, and marks them removed (published once its zone's
    /// commit is); later hooks find theirs removed and published and return
    /// before any request ([`removed_early`]), the last one forgetting the run.
    /// `Ok(false)`: not a value of a batched run.
    fn batched_cleanup(&self, env: &Challenge) -> Result<bool> {
        use crate::local::State;
        let (Some(local), true) = (self.hook.local, self.mode.wait_once) else {
            return Ok(false);
        };
        let Some((_, _, remaining)) = env.run_key() else {
            return Ok(false);
        };
        let Some((entry, id)) = local.run_of_value(&env.value) else {
            return Ok(false);
        };
        if entry.removal_published() {
            return removed_early(env, local, self.hook.report, true);
        }
        let entries = local.run_entries(&id);
        let states: &[State] = match entry.state {
            State::Deferred => {
                // The run's last auth hook never came: nothing was sent.
                local.forget(&entry.name, &entry.value)?;
                self.hook.report.info(format!(
                    "TXT value {} was never written (its certbot run stopped early); nothing to remove",
                    env.value
                ));
                return Ok(true);
            }
            // Removed, but the publishing commit failed: remove again (the
            // values are found gone and their zones committed once more).
            State::Removed => &[State::Removed],
            State::Written | State::Sending => &[State::Written, State::Sending],
        };
        let groups = group_by_name(&entries, states);
        for (zone, name, values) in &groups {
            self.hook.cleanup_many(zone, name, values)?;
        }
        // Served as it lands (OTC): published now; else once the zone's commit
        // is (see `Local::forget`).
        let published = self.hook.api.whole_set_writes();
        let ms = self.hook.clock.unix_ms();
        for (zone, name, values) in &groups {
            for value in values {
                local.record(crate::local::Entry {
                    t: self.hook.clock.unix_secs(),
                    endpoint: local.endpoint.clone(),
                    zone_id: zone.id.clone(),
                    zone_name: zone.name.clone(),
                    name: name.clone(),
                    value: value.clone(),
                    state: State::Removed,
                    run: Some(crate::local::RunTag {
                        id: id.clone(),
                        remaining,
                        all: String::new(),
                        removed_ms: Some(ms),
                        published,
                        ancestors: Vec::new(),
                    }),
                })?;
            }
        }
        // A second after the removal, read again and remove whatever a racing
        // read-modify-write brought back: here, so later hooks need no request.
        let kept = self.removed_stays_removed(&groups);
        if remaining == 0 {
            local.forget_run(&id)?;
        }
        kept.map(|_| true)
    }

    /// Waits until every nameserver serves `sets` (or, with the DNS check off,
    /// trusts the API's word: OTC ACTIVE, OVH refreshed, NCP applied).
    fn serve(
        &self,
        sets: Vec<(Zone, String, Vec<String>)>,
        own: &[(String, String)],
    ) -> Result<()> {
        if !self.mode.dns_check {
            self.hook.report.info(format!(
                "the API took the change ({}); the nameservers are not asked (DNS check disabled)",
                self.hook.api.settled_word()
            ));
            return Ok(());
        }
        let mut by_zone: HashMap<String, Vec<Nameserver>> = HashMap::new();
        let mut targets = Vec::new();
        let mut zones = Vec::new();
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
                name: n.clone(),
                values,
                nameservers: by_zone[&z.id].clone(),
            });
            zones.push((z, n));
        }
        self.checker
            .wait_checking(&mut targets, &mut |ts| self.mend(&zones, ts, own))
    }

    /// While the nameservers are asked: reads the API again; a value of ours
    /// that another host's read-modify-write dropped is written again (counted
    /// as a re-add), a dropped value of someone else is no longer waited for.
    fn mend(
        &self,
        names: &[(Zone, String)],
        targets: &mut [Target],
        own: &[(String, String)],
    ) -> Result<()> {
        let read = self.records_at("auth", names)?;
        for ((z, n), (t, present)) in names.iter().zip(targets.iter_mut().zip(read)) {
            let ours = |v: &String| own.iter().any(|(on, ov)| on == n && ov == v);
            t.values.retain(|v| txt::contains(&present, v) || ours(v));
            let missing: Vec<String> = t
                .values
                .iter()
                .filter(|v| !txt::contains(&present, v))
                .cloned()
                .collect();
            for v in missing {
                self.readd(z, n, &v)?;
            }
        }
        Ok(())
    }

    /// Writes `v` at `n` again, saying so; at most [`MAX_READDS`] times a value.
    fn readd(&self, z: &Zone, n: &str, v: &str) -> Result<crate::flow::hook::Written> {
        let count = {
            let mut readds = self.readds.borrow_mut();
            let c = readds.entry((n.to_string(), v.to_string())).or_insert(0);
            *c += 1;
            *c
        };
        if count > MAX_READDS {
            return Err(Error::failed(
                "auth",
                format!(
                    "TXT value {v} at {n} keeps disappearing; added it again {MAX_READDS} times"
                ),
            )
            .hint("another host or tool keeps rewriting the TXT records at this name; let it finish, then retry"));
        }
        self.hook.report.info(format!(
            "TXT value {v} at {n} went missing (another writer removed it); adding it again ({count}/{MAX_READDS})"
        ));
        self.hook.auth(z, n, v, true)
    }

    /// Sleeps until at least [`RECHECK_AFTER`] (plus a random part, so hosts
    /// that wrote together don't read and re-add in step) has passed since this
    /// run's last write.
    fn pause_after_write(&self) {
        if let Some(t) = self.hook.last_write.get() {
            let since = self.hook.clock.elapsed().saturating_sub(t);
            let after = RECHECK_AFTER
                + crate::flow::hook::jittered(std::time::Duration::from_millis(150))
                - std::time::Duration::from_millis(150);
            if since < after {
                self.hook.clock.sleep(after - since);
            }
        }
    }

    /// The TXT values at each of `names`, in order, with one read per zone
    /// (the provider lists every name of a zone at once where it can).
    fn read_names(&self, step: &'static str, names: &[(Zone, String)]) -> Result<Vec<TxtAt>> {
        let mut out: Vec<Option<TxtAt>> = vec![None; names.len()];
        for (i, (z, _)) in names.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            let idx: Vec<usize> = (i..names.len())
                .filter(|&j| names[j].0.id == z.id)
                .collect();
            let wanted: Vec<String> = idx.iter().map(|&j| names[j].1.clone()).collect();
            let read = self.hook.api.read(z, &wanted).map_err(|e| {
                Error::failed(
                    step,
                    format!("reading the TXT records of zone {}: {e}", z.name),
                )
            })?;
            for (j, at) in idx.into_iter().zip(read) {
                out[j] = Some(at);
            }
        }
        Ok(names
            .iter()
            .zip(out)
            .map(|((_, n), at)| at.unwrap_or_else(|| TxtAt::absent(n)))
            .collect())
    }

    /// The records at each of `names` (empty where there are none).
    fn records_at(&self, step: &'static str, names: &[(Zone, String)]) -> Result<Vec<Vec<String>>> {
        Ok(self
            .read_names(step, names)?
            .into_iter()
            .map(|at| at.records)
            .collect())
    }

    /// Before a waiting auth hook returns: re-reads `names` at least a second
    /// after the last write and adds again every value this host's journal
    /// holds there (and ours) that another host's read-modify-write dropped
    /// (OTC has no conditional update); at most [`MAX_READDS`] times a value.
    fn keep(&self, names: &[(Zone, String)], own: &[(String, String)]) -> Result<()> {
        if !self.hook.api.whole_set_writes() {
            return Ok(());
        }
        loop {
            self.pause_after_write();
            let mut missing: Vec<(Zone, String, String)> = Vec::new();
            let read = self.records_at("auth", names)?;
            for ((z, n), present) in names.iter().zip(read) {
                let mut wanted = self.hook.local.map(|l| l.written_at(n)).unwrap_or_default();
                for (on, ov) in own {
                    if on == n && !wanted.contains(ov) {
                        wanted.push(ov.clone());
                    }
                }
                for v in wanted {
                    if !txt::contains(&present, &v) {
                        missing.push((z.clone(), n.clone(), v));
                    }
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            let mut again = Vec::new();
            for (z, n, v) in missing {
                let w = self.readd(&z, &n, &v)?;
                let values = self.values_of(&w.set.records, &v);
                again.push((w.zone, n, values));
            }
            self.serve(again, own)?;
        }
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

    /// Zone, name and values of each TXT set at `names` once all are ACTIVE,
    /// polling one listing per zone per second (not one request per name);
    /// names without a set are skipped (said under `-v`).
    fn active_sets(
        &self,
        names: &[(Zone, String)],
        settle_first: bool,
    ) -> Result<Vec<(Zone, String, Vec<String>)>> {
        let mut zones: Vec<&Zone> = Vec::new();
        for (z, _) in names {
            if !zones.iter().any(|k| k.id == z.id) {
                zones.push(z);
            }
        }
        let start = self.hook.clock.elapsed();
        // As for one set: a first look shortly after, then one listing per zone a second.
        let mut pause = self
            .hook
            .settings
            .poll
            .min(std::time::Duration::from_millis(200));
        if settle_first {
            self.hook.clock.sleep(pause);
            pause = self.hook.settings.poll;
        }
        loop {
            let mut found = Vec::new();
            let mut pending = Vec::new();
            for (i, at) in self.read_names("auth", names)?.into_iter().enumerate() {
                let (z, n) = &names[i];
                if !at.exists() {
                    self.hook
                        .report
                        .verbose(format!("skipping {n}: no TXT record"));
                } else if at.is_settled() {
                    found.push((
                        z.clone(),
                        n.clone(),
                        at.records
                            .iter()
                            .map(|r| txt::unquote(r).to_string())
                            .collect(),
                    ));
                } else {
                    pending.push(format!("{n} ({})", at.status_word()));
                }
            }
            if pending.is_empty() {
                return Ok(found);
            }
            let waited = self.hook.clock.elapsed() - start;
            if waited >= self.hook.settings.timeout {
                return Err(Error::failed(
                    "auth",
                    format!(
                        "still not {} after {}s: {}",
                        self.hook.api.settled_word(),
                        waited.as_secs(),
                        pending.join(", ")
                    ),
                )
                .hint("raise --propagation-timeout, or check the DNS service status"));
            }
            self.hook.report.verbose(format!(
                "waiting for {}: {}",
                self.hook.api.settled_word(),
                pending.join(", ")
            ));
            self.hook.clock.sleep(pause);
            pause = self.hook.settings.poll;
        }
    }

    /// Removes our value; then, at least a second after the removal, reads
    /// again and removes it once more if a racing read-modify-write brought it back.
    pub fn cleanup(&self, env: &Challenge) -> Result<()> {
        if self.batched_cleanup(env)? {
            return Ok(());
        }
        let (name, zone) = self.effective_name("cleanup", &env.fqdn)?;
        if !self.hook.cleanup(&zone, &name, &env.value)? {
            return Ok(());
        }
        self.removed_stays_removed(&[(zone, name, vec![env.value.clone()])])
    }

    /// At least a second after the removal (and after every removal again),
    /// reads `groups` and removes whatever a racing read-modify-write of another
    /// host brought back, until a read finds none of it; at most
    /// [`MAX_REREMOVALS`] times.
    fn removed_stays_removed(&self, groups: &[(Zone, String, Vec<String>)]) -> Result<()> {
        if !self.hook.api.whole_set_writes() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            self.pause_after_write();
            let mut back = Vec::new();
            let names: Vec<(Zone, String)> = groups
                .iter()
                .map(|(z, n, _)| (z.clone(), n.clone()))
                .collect();
            let read = self.records_at("cleanup", &names)?;
            for ((zone, name, values), present) in groups.iter().zip(read) {
                let here: Vec<String> = values
                    .iter()
                    .filter(|v| txt::contains(&present, v))
                    .cloned()
                    .collect();
                if !here.is_empty() {
                    back.push((zone.clone(), name.clone(), here));
                }
            }
            if back.is_empty() {
                return Ok(());
            }
            attempt += 1;
            if attempt > MAX_REREMOVALS {
                return Err(Error::failed(
                    "cleanup",
                    format!(
                        "TXT value {} at {} keeps coming back; removed it {MAX_REREMOVALS} times",
                        back[0].2.join(", "),
                        back[0].1
                    ),
                )
                .hint("another host or tool keeps rewriting the TXT records at this name; the journal sweeps the value later"));
            }
            for (zone, name, values) in back {
                self.hook.report.info(format!(
                    "TXT value {} came back at {name} (a racing write); removing it again ({attempt}/{MAX_REREMOVALS})",
                    values.join(", ")
                ));
                self.hook.cleanup_many(&zone, &name, &values)?;
            }
            // Hosts that collided once don't re-check in step.
            self.hook.clock.sleep(crate::flow::hook::jittered(
                std::time::Duration::from_millis(100),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn base64url_known_answers() {
        // RFC 4648 test vectors, unpadded.
        for (i, o) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(i.as_bytes()), o);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn key_authorization_digest_matches_rfc8555_example() {
        // Computed independently: printf %s KEYAUTH | openssl dgst -sha256 -binary | basenc --base64url
        assert_eq!(
            key_authorization_digest(
                "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
            ),
            "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM"
        );
    }

    #[test]
    fn lego_arity() {
        let c = Challenge::from_lego_args(
            "present",
            &args(&["_acme-challenge.Example.com.", "-abc_DEF"]),
            false,
        )
        .unwrap();
        assert_eq!(
            (c.fqdn.as_str(), c.domain.as_str(), c.value.as_str()),
            ("_acme-challenge.example.com.", "example.com", "-abc_DEF")
        );
        assert!(c.remaining.is_none());
        let c = Challenge::from_lego_args(
            "cleanup",
            &args(&["*.example.com", "tok", "tok.thumb"]),
            false,
        )
        .unwrap();
        assert_eq!(c.fqdn, "_acme-challenge.example.com.");
        assert_eq!(c.value, key_authorization_digest("tok.thumb"));
        for bad in [&[][..], &["one"][..], &["a", "b", "c", "d"][..]] {
            assert_eq!(
                Challenge::from_lego_args("present", &args(bad), false)
                    .unwrap_err()
                    .exit
                    .code(),
                2
            );
        }
        assert!(Challenge::from_lego_args("present", &args(&["bad name.", "v"]), false).is_err());
        assert!(
            Challenge::from_lego_args(
                "present",
                &args(&["_acme-challenge.x.example.", "a\"b"]),
                false
            )
            .is_err()
        );
        // Only challenge names, unless --any-name.
        let e = Challenge::from_lego_args("present", &args(&["www.example.test.", "v"]), false)
            .unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("--any-name"), "{e}");
        assert!(
            Challenge::from_lego_args("present", &args(&["www.example.test.", "v"]), true).is_ok()
        );
    }
}
