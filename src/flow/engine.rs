//! The run engine: the plan of a run and its execution. The last hook of a
//! certbot run (and a lone hook) reads each zone's names with one
//! [`DnsApi::read`](crate::cloud_api::DnsApi::read), computes each name's
//! before→after with the TXT arithmetic (foreign values exactly as read),
//! writes only the names that change — a zone's names in one
//! [`write_batch`](crate::cloud_api::DnsApi::write_batch) where the provider
//! has one, else one write per name, side by side on the [`pool`](super::pool)
//! — then commits each zone once, waits once for every name, mends what
//! another host's write dropped, and cleans up the same way. A write whose
//! outcome is not known (conflict, not settled, no answer, a failed batch)
//! sends that name alone down the careful per-name loop of [`Hook`] (read
//! again, compute again, never repeat a write blind).

use std::collections::HashMap;

use super::contracts::Challenge;
use super::hook::{Hook, Note, Written, api_err, plural};
use super::run::{group_by_name, removed_early};
use super::types::id_of;
pub use super::types::{Group, NameAt, Own};
use crate::api_error::ApiResult;
use crate::cloud_api::{Change, DnsApi, Kind, TxtSet, Zone};
use crate::error::{Error, Result};
use crate::host_state::{Guard, State};
use crate::pool::run_all;
use crate::propagation::{Checker, Nameserver, Target};
use crate::txt::{self, Removal};
use crate::zone;

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

/// A write whose failure leaves the name to the careful per-name loop: it
/// may have landed (no answer), or the name changed or is still settling.
fn goes_slow(e: &crate::cloud_api::ApiError) -> bool {
    e.is_transient() || matches!(e.kind(), Kind::Conflict | Kind::NotSettled)
}

/// What became of one planned write.
enum Answer {
    Done(TxtSet),
    /// Its outcome is not known, or the name changed: the careful loop takes it.
    Slow(crate::cloud_api::ApiError),
    Failed(crate::cloud_api::ApiError),
}

impl From<ApiResult<TxtSet>> for Answer {
    fn from(r: ApiResult<TxtSet>) -> Answer {
        match r {
            Ok(set) => Answer::Done(set),
            Err(e) if goes_slow(&e) => Answer::Slow(e),
            Err(e) => Answer::Failed(e),
        }
    }
}

/// One planned write: group `i` of the plan, from `before` to `after`.
struct Planned {
    i: usize,
    before: TxtSet,
    after: Vec<String>,
}

/// Whether another host's stale read-modify-write could undo this write:
/// an update of a set that stays (see [`Hook::last_write`]).
fn raceable(p: &Planned) -> bool {
    p.before.exists() && !p.after.is_empty()
}

/// [`Hook::read_groups`], with only what a thread of its own needs.
fn read_zones(
    api: &dyn DnsApi,
    parallel: usize,
    step: &'static str,
    names: &[NameAt],
) -> Result<Vec<TxtSet>> {
    let mut zones: Vec<(Zone, Vec<usize>)> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match zones.iter_mut().find(|(z, _)| z.id == n.zone.id) {
            Some((_, idx)) => idx.push(i),
            None => zones.push((n.zone.clone(), vec![i])),
        }
    }
    let read = run_all(parallel, zones, |(z, idx)| {
        let wanted: Vec<String> = idx.iter().map(|&i| names[i].name.clone()).collect();
        let r = api.read(&z, &wanted);
        (z, idx, r)
    });
    let mut out: Vec<Option<TxtSet>> = vec![None; names.len()];
    for (z, idx, r) in read {
        let r = r.map_err(|e| {
            api_err(
                step,
                &format!("reading the TXT records of zone {}", z.name),
                e,
            )
        })?;
        for (i, at) in idx.into_iter().zip(r) {
            out[i] = Some(at);
        }
    }
    Ok(names
        .iter()
        .zip(out)
        .map(|(n, at)| at.unwrap_or_else(|| TxtSet::absent(&n.name)))
        .collect())
}

impl Hook<'_> {
    /// Locks every name of `groups`, in name order (two hosts locking the
    /// same names never wait on each other in a circle).
    fn lock_all(&self, groups: &[Group]) -> Result<Vec<(String, Option<Guard>)>> {
        let mut names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| Ok((n.to_string(), self.lock(n)?)))
            .collect()
    }

    /// The TXT values at each name of `groups`, in order: one
    /// [`DnsApi::read`](crate::cloud_api::DnsApi::read) per zone, the
    /// zones side by side. The complete, fresh read the writes are computed from.
    pub fn read_groups(&self, step: &'static str, names: &[NameAt]) -> Result<Vec<TxtSet>> {
        read_zones(self.api, self.settings.parallel, step, names)
    }

    /// Sends the planned writes: per zone one batch where the provider has
    /// one, else one write per name, all side by side. Each answer in the
    /// order of `plan`.
    fn send(&self, groups: &[Group], plan: &[Planned]) -> Vec<Answer> {
        let ttl = self.settings.ttl;
        let mut zones: Vec<(Zone, Vec<usize>)> = Vec::new();
        for (k, p) in plan.iter().enumerate() {
            let z = &groups[p.i].zone;
            match zones.iter_mut().find(|(o, _)| o.id == z.id) {
                Some((_, ks)) => ks.push(k),
                None => zones.push((z.clone(), vec![k])),
            }
        }
        let mut out: Vec<Option<Answer>> = plan.iter().map(|_| None).collect();
        // Batches first (a provider without one answers `None` at once).
        let batched = run_all(self.settings.parallel, zones, |(z, ks)| {
            if ks.len() < 2 {
                return (z, ks, None);
            }
            let changes: Vec<Change<'_>> = ks
                .iter()
                .map(|&k| Change {
                    before: &plan[k].before,
                    after: &plan[k].after,
                })
                .collect();
            let r = self.api.write_batch(&z, &changes, ttl);
            (z, ks, r)
        });
        let mut singles: Vec<(Zone, usize)> = Vec::new();
        for (z, ks, r) in batched {
            let races = ks.iter().any(|&k| raceable(&plan[k]));
            match r {
                Some(Ok(sets)) if sets.len() == ks.len() => {
                    for (k, set) in ks.into_iter().zip(sets) {
                        out[k] = Some(Answer::Done(set));
                    }
                }
                // A failed batch: every name's outcome unknown.
                Some(Ok(_)) => {
                    let e = crate::cloud_api::ApiError::Decode(
                        "the batch answer does not match the changes sent".into(),
                    );
                    for k in ks {
                        out[k] = Some(Answer::Slow(e.clone()));
                    }
                }
                Some(Err(e)) => {
                    for k in ks {
                        out[k] = Some(Answer::Slow(e.clone()));
                    }
                }
                None => singles.extend(ks.into_iter().map(|k| (z.clone(), k))),
            }
            self.wrote(&z, races);
        }
        let written = run_all(self.settings.parallel, singles, |(z, k)| {
            let p = &plan[k];
            (k, self.api.write(&z, &p.before, &p.after, ttl))
        });
        for (k, r) in written {
            out[k] = Some(r.into());
        }
        for p in plan {
            self.wrote(&groups[p.i].zone, raceable(p));
        }
        out.into_iter()
            .map(|r| r.expect("every planned write has an answer"))
            .collect()
    }

    /// auth's plan over `groups` (each name once): one read per zone, then a
    /// write of every name whose values change; a name whose write may or may
    /// not have landed, or met a change, goes down [`Hook::auth_many`] alone.
    /// Nothing is committed here.
    pub fn add_planned(&self, groups: &[Group]) -> Result<Vec<Written>> {
        let guards = self.lock_all(groups)?;
        let names: Vec<NameAt> = groups.iter().map(Group::at).collect();
        let read = self.read_groups("auth", &names)?;
        self.add_read(groups, guards, read)
    }

    /// [`add_planned`](Self::add_planned) from `read`, the fresh read of
    /// every name of `groups`, taken under `guards`, their locks.
    fn add_read(
        &self,
        groups: &[Group],
        mut guards: Vec<(String, Option<Guard>)>,
        read: Vec<TxtSet>,
    ) -> Result<Vec<Written>> {
        const STEP: &str = "auth";
        let mut out: Vec<Option<Written>> = vec![None; groups.len()];
        let mut slow: Vec<usize> = Vec::new();
        let mut plan: Vec<Planned> = Vec::new();
        // Groups whose values are all in place already, journaled as written.
        let mut present: Vec<usize> = Vec::new();
        for (i, (g, before)) in groups.iter().zip(read).enumerate() {
            if before.is_pending() {
                slow.push(i);
                continue;
            }
            match txt::add_all(&before.records, &g.values) {
                None => {
                    let what = if g.values.len() == 1 {
                        "value"
                    } else {
                        "values"
                    };
                    self.report.info(format!(
                        "TXT {what} {} already present at {}",
                        g.values.join(", "),
                        g.name
                    ));
                    // Present is not published: see `auth_many`.
                    if !self.adopt_unapplied(&g.zone, &g.name, &before.records) {
                        present.push(i);
                    }
                    out[i] = Some(Written {
                        zone: g.zone.clone(),
                        name: g.name.clone(),
                        set: before,
                    });
                }
                Some(after) => plan.push(Planned { i, before, after }),
            }
        }
        // One journal rewrite for the run: the present values as written, the
        // planned ones as sending before any request goes out.
        let notes = |is: &mut dyn Iterator<Item = usize>, state: State| -> Vec<Note<'_>> {
            is.flat_map(|i| {
                let g = &groups[i];
                g.values.iter().map(move |v| Note {
                    zone: &g.zone,
                    name: &g.name,
                    value: v,
                    state,
                    id: None,
                })
            })
            .collect()
        };
        let mut journal = notes(&mut present.iter().copied(), State::Written);
        journal.extend(notes(&mut plan.iter().map(|p| p.i), State::Sending));
        self.remember_all(journal);
        let answers = self.send(groups, &plan);
        let mut landed: Vec<Note<'_>> = Vec::new();
        // Groups whose values stay unpublished until their zone's commit.
        let mut unapplied: Vec<usize> = Vec::new();
        let mut first_error = None;
        for (p, r) in plan.iter().zip(answers) {
            let g = &groups[p.i];
            match r {
                Answer::Done(set) => {
                    let creating = !p.before.exists();
                    let how = if creating && self.api.whole_set_writes() {
                        format!("new {}", self.api.record_word())
                    } else if creating {
                        plural(p.after.len(), &format!("new {}", self.api.record_word()))
                    } else {
                        plural(p.after.len(), "value")
                    };
                    let what = if g.values.len() == 1 {
                        "value"
                    } else {
                        "values"
                    };
                    self.report.info(format!(
                        "added TXT {what} {} at {} in zone {} ({how})",
                        g.values.join(", "),
                        g.name,
                        g.zone.name
                    ));
                    // Where the cloud publishes on commit, the values stay
                    // `Sending` until their zone's commit (see `auth_many`).
                    let later = !self.api.whole_set_writes() && self.local.is_some();
                    for v in &g.values {
                        let state = if later {
                            State::Sending
                        } else {
                            State::Written
                        };
                        landed.push(Note {
                            zone: &g.zone,
                            name: &g.name,
                            value: v,
                            state,
                            id: id_of(&set, v),
                        });
                    }
                    if later {
                        unapplied.push(p.i);
                    }
                    out[p.i] = Some(Written {
                        zone: g.zone.clone(),
                        name: g.name.clone(),
                        set,
                    });
                }
                Answer::Slow(e) => {
                    self.report.verbose(format!(
                        "writing {}: {e}; reading it again on its own",
                        g.name
                    ));
                    slow.push(p.i);
                }
                Answer::Failed(e) => {
                    let doing = if p.before.exists() {
                        "updating"
                    } else {
                        "creating"
                    };
                    first_error.get_or_insert(api_err(STEP, &format!("{doing} {}", g.name), e));
                }
            }
        }
        self.remember_all(landed);
        let unapplied: Vec<(&Zone, &str, &[String])> = unapplied
            .into_iter()
            .map(|i| {
                (
                    &groups[i].zone,
                    groups[i].name.as_str(),
                    groups[i].values.as_slice(),
                )
            })
            .collect();
        self.adopt_unapplied_each(&unapplied);
        if let Some(e) = first_error {
            return Err(e);
        }
        slow.sort_unstable();
        for i in slow {
            let g = &groups[i];
            // The careful loop takes the name's lock itself.
            guards.retain(|(n, _)| *n != g.name);
            out[i] = Some(self.auth_many(&g.zone, &g.name, &g.values, false)?);
        }
        drop(guards);
        Ok(out
            .into_iter()
            .map(|w| w.expect("every name planned"))
            .collect())
    }

    /// cleanup's plan over `groups`, as [`add_planned`](Self::add_planned):
    /// one read per zone (the journal's ids handed to the provider first),
    /// then a write of every name that holds one of the values; the rest
    /// found gone. `Ok(true)` when a removal was sent. The caller commits.
    pub fn remove_planned(&self, groups: &[Group]) -> Result<bool> {
        const STEP: &str = "cleanup";
        let mut guards = self.lock_all(groups)?;
        for g in groups.iter().filter(|g| !g.known.is_empty()) {
            self.api.known(&g.zone, &g.name, &g.known);
        }
        let names: Vec<NameAt> = groups.iter().map(Group::at).collect();
        let read = self.read_groups(STEP, &names)?;
        let mut slow: Vec<usize> = Vec::new();
        let mut plan: Vec<Planned> = Vec::new();
        for (i, (g, before)) in groups.iter().zip(read).enumerate() {
            let what = if g.values.len() == 1 {
                "value"
            } else {
                "values"
            };
            if !before.exists() {
                self.report
                    .info(format!("no TXT record at {}; nothing to remove", g.name));
                self.found_gone(&g.zone, &g.name, &g.values);
                continue;
            }
            let after = match txt::remove_all(&before.records, &g.values) {
                Removal::Absent => {
                    self.report.info(format!(
                        "TXT {what} {} not present at {}; nothing to remove",
                        g.values.join(", "),
                        g.name
                    ));
                    self.found_gone(&g.zone, &g.name, &g.values);
                    continue;
                }
                Removal::Update(rest) => rest,
                Removal::DeleteSet => Vec::new(),
            };
            if before.is_pending() {
                slow.push(i);
                continue;
            }
            plan.push(Planned { i, before, after });
        }
        let answers = self.send(groups, &plan);
        let mut sent = !plan.is_empty();
        let mut removed: Vec<(&Zone, &str, &[String])> = Vec::new();
        let mut first_error = None;
        for (p, r) in plan.iter().zip(answers) {
            let g = &groups[p.i];
            let what = if g.values.len() == 1 {
                "value"
            } else {
                "values"
            };
            match r {
                Answer::Done(_) => {
                    let left = if p.after.is_empty() {
                        format!("last value: {} deleted", self.api.record_word())
                    } else {
                        format!("{} left", plural(p.after.len(), "value"))
                    };
                    self.report.info(format!(
                        "removed TXT {what} {} from {} in zone {} ({left})",
                        g.values.join(", "),
                        g.name,
                        g.zone.name
                    ));
                    removed.push((&g.zone, &g.name, &g.values));
                }
                Answer::Slow(e) => {
                    self.report.verbose(format!(
                        "changing {}: {e}; reading it again on its own",
                        g.name
                    ));
                    slow.push(p.i);
                }
                Answer::Failed(e) => {
                    first_error.get_or_insert(api_err(STEP, &format!("changing {}", g.name), e));
                }
            }
        }
        self.forget_all_when_published(&removed);
        if let Some(e) = first_error {
            return Err(e);
        }
        slow.sort_unstable();
        for i in slow {
            let g = &groups[i];
            guards.retain(|(n, _)| *n != g.name);
            sent |= self.cleanup_many(&g.zone, &g.name, &g.values)?;
        }
        drop(guards);
        Ok(sent)
    }
}

pub struct Flow<'a> {
    pub hook: Hook<'a>,
    pub checker: Checker<'a>,
    pub mode: Mode,
    /// How often each (name, value) was written again after others dropped it.
    pub readds: std::cell::RefCell<HashMap<(String, String), u32>>,
    /// Set once a read at least [`RECHECK_AFTER`] after the run's last write
    /// found every value of ours in place (done while the nameservers are
    /// asked): `keep` then has nothing left to read.
    kept: std::cell::Cell<Option<std::time::Duration>>,
}

impl<'a> Flow<'a> {
    pub fn new(hook: Hook<'a>, checker: Checker<'a>, mode: Mode) -> Flow<'a> {
        Flow {
            hook,
            checker,
            mode,
            readds: Default::default(),
            kept: Default::default(),
        }
    }
}

impl Flow<'_> {
    /// The name to write at (`fqdn`, or the end of its CNAME chain) and its zone.
    pub fn effective_name(&self, step: &'static str, fqdn: &str) -> Result<NameAt> {
        // Errors about the name itself belong to the caller's step; CNAME targets say "cname".
        let find = |n: &str| self.hook.find_zone(step, n);
        let (name, zone) = if !self.mode.cname || !self.mode.dns_check {
            (fqdn.to_string(), find(fqdn)?)
        } else {
            self.checker.follow_cname(self.hook.api, &find, fqdn)?
        };
        Ok(NameAt { zone, name })
    }

    /// Adds a run's `(fqdn, value)` pairs, grouped by the name each goes to
    /// (after CNAMEs): the groups and what each write left. Where CNAMEs are
    /// followed, the names are locked and read as given while their CNAME
    /// questions are out (a round trip fewer; a challenge name is seldom a
    /// CNAME; the locks are held that round trip longer); if one is, that
    /// read is dropped, unused, the locks released, and the names found are
    /// locked and read again.
    fn add_run_values(&self, pairs: &[(String, String)]) -> Result<(Vec<Group>, Vec<Written>)> {
        let mut distinct: Vec<String> = Vec::new();
        for (fqdn, _) in pairs {
            if !distinct.contains(fqdn) {
                distinct.push(fqdn.clone());
            }
        }
        let zones = distinct
            .iter()
            .map(|f| self.hook.find_zone("auth", f))
            .collect::<Result<Vec<Zone>>>()?;
        let group = |at: &[NameAt]| {
            let mut groups: Vec<Group> = Vec::new();
            for (fqdn, value) in pairs {
                let i = distinct.iter().position(|d| d == fqdn).expect("listed");
                match groups.iter_mut().find(|g| g.name == at[i].name) {
                    Some(g) if g.values.contains(value) => {}
                    Some(g) => g.values.push(value.clone()),
                    None => groups.push(Group::new(
                        at[i].zone.clone(),
                        at[i].name.clone(),
                        vec![value.clone()],
                    )),
                }
            }
            groups
        };
        let given: Vec<NameAt> = distinct
            .iter()
            .zip(&zones)
            .map(|(name, zone)| NameAt {
                zone: zone.clone(),
                name: name.clone(),
            })
            .collect();
        if !(self.mode.cname && self.mode.dns_check) {
            let groups = group(&given);
            let written = self.hook.add_planned(&groups)?;
            return Ok((groups, written));
        }
        let groups = group(&given);
        let guards = self.hook.lock_all(&groups)?;
        let names: Vec<NameAt> = groups.iter().map(Group::at).collect();
        let (api, parallel) = (self.hook.api, self.hook.settings.parallel);
        let (cnames, read) = std::thread::scope(|s| {
            let read = s.spawn(|| read_zones(api, parallel, "auth", &names));
            let cnames = self.checker.cname_targets(api, &distinct, &zones);
            (cnames, read.join())
        });
        // A panic on the read's thread is this thread's, whatever the CNAMEs say.
        let read = read.unwrap_or_else(|p| std::panic::resume_unwind(p));
        let cnames = cnames?;
        if cnames.iter().all(Option::is_none) {
            let read = read?;
            let written = self.hook.add_read(&groups, guards, read)?;
            return Ok((groups, written));
        }
        drop(guards);
        let found = given
            .into_iter()
            .zip(cnames)
            .map(|(at, cname)| match cname {
                None => Ok(at),
                Some(_) => self.effective_name("auth", &at.name),
            })
            .collect::<Result<Vec<NameAt>>>()?;
        let groups = group(&found);
        let written = self.hook.add_planned(&groups)?;
        Ok((groups, written))
    }

    pub fn auth(&self, env: &Challenge) -> Result<()> {
        if self.batched_auth(env)? {
            return Ok(());
        }
        let at = self.effective_name("auth", &env.fqdn)?;
        let group = Group::new(at.zone.clone(), at.name.clone(), vec![env.value.clone()]);
        let written = self
            .hook
            .add_planned(std::slice::from_ref(&group))?
            .pop()
            .expect("one name planned");
        let later = self.mode.wait_once && env.remaining.is_some_and(|r| r > 0);
        if later {
            self.hook.report.verbose(format!(
                "{} more challenge(s) follow; the last one waits for all",
                env.remaining.unwrap_or(0)
            ));
            return Ok(());
        }
        // Our own change is still pending: no point in looking right away.
        let settle_first = !written.set.is_settled();
        let mut names = vec![NameAt {
            zone: written.zone,
            name: at.name.clone(),
        }];
        if self.mode.wait_once {
            // Wait for our set and every other name of the run together: one
            // listing per zone per poll, not one read per name.
            for d in env.all_domains.iter().filter(|d| **d != env.domain) {
                match self.effective_name("auth", &zone::challenge_name(d)) {
                    Ok(n) if !names.iter().any(|o| o.name == n.name) => names.push(n),
                    Ok(_) => {}
                    Err(e) => self.hook.report.verbose(format!("skipping {d}: {e}")),
                }
            }
            // The run's earlier hooks wrote without committing: their zones too.
            for n in &names[1..] {
                self.hook.adopt_run_values(&n.zone, &n.name);
            }
        }
        self.hook.commit("auth")?;
        let mut sets = self.active_sets(&names, settle_first)?;
        let ours = sets
            .iter()
            .any(|g| g.name == at.name && g.values.contains(&env.value));
        if !ours {
            // Someone replaced the set meanwhile: add again, waiting this time.
            self.hook.report.info(format!(
                "{} changed under us; adding the value again",
                at.name
            ));
            let again = self.hook.auth(&at.zone, &at.name, &env.value, true)?;
            sets.retain(|g| g.name != at.name);
            sets.push(Group::new(
                again.zone,
                at.name.clone(),
                self.values_of(&again.set.records, &env.value),
            ));
        } else if !self.mode.wait_once {
            // Without wait-once, only our value is waited for.
            for g in sets.iter_mut().filter(|g| g.name == at.name) {
                g.values = vec![env.value.clone()];
            }
        }
        let own = [Own {
            name: at.name,
            value: env.value.clone(),
        }];
        self.serve(sets, &own)?;
        self.keep(&names, &own)
    }

    /// The certbot run's part of `auth`, when batching applies: an early hook
    /// records its value and returns without touching the API; the last hook
    /// plans every value of the run (one read per zone, one write per TXT name
    /// that changes, side by side), commits each zone once, waits once for the
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
        let (ids, deferred) = local.take_deferred(now, &all, &crate::host_state::ancestry())?;
        if ids.is_empty() {
            return Ok(false);
        }
        // Values of two indistinguishable runs are written untagged, so each is
        // later removed by its own cleanup hook, never early by the other run's.
        *self.hook.run.borrow_mut() = match <[String; 1]>::try_from(ids) {
            Ok([id]) => Some(crate::host_state::RunTag {
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
        let (groups, written) = self.add_run_values(&pairs)?;
        let settle_first = written.iter().any(|w| !w.set.is_settled());
        let names: Vec<NameAt> = groups
            .iter()
            .zip(&written)
            .map(|(g, w)| NameAt {
                zone: w.zone.clone(),
                name: g.name.clone(),
            })
            .collect();
        self.hook.report.verbose(format!(
            "wrote the run's values at {} name(s); waiting once for all",
            groups.len()
        ));
        self.hook.commit("auth")?;
        let sets = if settle_first {
            self.active_sets(&names, true)?
        } else {
            // Every answer said settled (record-per-value clouds): the sets
            // as written, with no read (the wait's reads mend what changes).
            written
                .iter()
                .zip(&names)
                .filter(|(w, _)| w.set.exists())
                .map(|(w, n)| {
                    Group::new(
                        n.zone.clone(),
                        n.name.clone(),
                        w.set
                            .records
                            .iter()
                            .map(|r| txt::unquote(r).to_string())
                            .collect(),
                    )
                })
                .collect()
        };
        let own: Vec<Own> = groups
            .iter()
            .flat_map(|g| {
                g.values.iter().map(move |v| Own {
                    name: g.name.clone(),
                    value: v.clone(),
                })
            })
            .collect();
        self.serve(sets, &own)?;
        self.keep(&names, &own)?;
        Ok(true)
    }

    /// The certbot run's part of `cleanup`: the first cleanup hook of a batched
    /// run removes every value the run wrote (one read per zone, one write per
    /// name, side by side), checks a second later that they stayed removed
    /// where a racing read-modify-write could bring them back, and marks them
    /// removed (published once its zone's commit is); later hooks find theirs
    /// removed and published and return before any request
    /// ([`removed_early`]), the last one forgetting the run.
    /// `Ok(false)`: not a value of a batched run.
    fn batched_cleanup(&self, env: &Challenge) -> Result<bool> {
        let (Some(local), true) = (self.hook.local, self.mode.wait_once) else {
            return Ok(false);
        };
        let Some((_, _, remaining)) = env.run_key() else {
            return Ok(false);
        };
        let Some((entry, id)) = local.run_of_value(&env.value) else {
            return Ok(false);
        };
        // Every removal of the run published: nothing to do. Else this hook
        // publishes what a failed commit left (its own value may be done).
        if entry.removal_published() && removed_early(env, local, self.hook.report, true)? {
            return Ok(true);
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
            // Removed, but a publishing commit failed: remove again what is
            // not published (the values are found gone and only their zones
            // committed once more), never a zone already published.
            State::Removed => &[State::Removed],
            State::Written | State::Sending => &[State::Written, State::Sending],
        };
        let pending: Vec<crate::host_state::Entry> = entries
            .into_iter()
            .filter(|e| !e.removal_published())
            .collect();
        let groups = group_by_name(&pending, states);
        self.hook.remove_planned(&groups)?;
        // A second after the removal, read again and remove whatever a racing
        // read-modify-write brought back: here, so later hooks need no request.
        let kept = self.removed_stays_removed(&groups);
        // Served as it lands (OTC): published now, once the re-check found it
        // gone; else once the zone's commit is (see `HostState::forget`).
        let published = self.hook.api.whole_set_writes() && kept.is_ok();
        let ms = self.hook.clock.unix_ms();
        for g in &groups {
            for value in &g.values {
                local.record(crate::host_state::Entry {
                    id: None,
                    t: self.hook.clock.unix_secs(),
                    endpoint: local.endpoint.clone(),
                    zone_id: g.zone.id.clone(),
                    zone_name: g.zone.name.clone(),
                    name: g.name.clone(),
                    value: value.clone(),
                    state: State::Removed,
                    run: Some(crate::host_state::RunTag {
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
        // The last hook forgets the run only once every removal is published
        // (OTC: now); on a cloud that publishes on commit, the commit still to
        // come marks them published and a day later they are dropped.
        if remaining == 0 && published {
            local.forget_run(&id)?;
        }
        kept.map(|_| true)
    }

    /// Waits until every nameserver serves `sets` (or, with the DNS check off,
    /// trusts the API's word: OTC ACTIVE, OVH refreshed, NCP applied).
    fn serve(&self, sets: Vec<Group>, own: &[Own]) -> Result<()> {
        if !self.mode.dns_check {
            self.hook.report.info(format!(
                "the API took the change ({}); the nameservers are not asked (DNS check disabled)",
                self.hook.api.settled_word()
            ));
            return Ok(());
        }
        let mut by_zone: HashMap<String, Vec<Nameserver>> = HashMap::new();
        let mut targets = Vec::new();
        let mut names = Vec::new();
        for g in sets {
            if !by_zone.contains_key(&g.zone.id) {
                let ns = self.checker.nameservers(self.hook.api, &g.zone)?;
                self.hook.report.verbose(format!(
                    "nameservers of {}: {}",
                    g.zone.name,
                    ns.iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                by_zone.insert(g.zone.id.clone(), ns);
            }
            targets.push(Target {
                name: g.name.clone(),
                values: g.values,
                nameservers: by_zone[&g.zone.id].clone(),
            });
            names.push(NameAt {
                zone: g.zone,
                name: g.name,
            });
        }
        self.checker
            .wait_checking(&mut targets, &mut |ts| self.mend(&names, ts, own))
    }

    /// While the nameservers are asked: reads the API again; a value of ours
    /// that another host's read-modify-write dropped is written again (counted
    /// as a re-add), a dropped value of someone else is no longer waited for.
    /// Where writes replace whole sets, a read at least [`RECHECK_AFTER`] after
    /// the last write that finds every value this host holds in place is the
    /// re-check [`keep`](Self::keep) would make after the wait.
    fn mend(&self, names: &[NameAt], targets: &mut [Target], own: &[Own]) -> Result<()> {
        let last_write = self.hook.last_write.get();
        let read = self.records_at("auth", names)?;
        let mut all_in_place = true;
        for (n, (t, present)) in names.iter().zip(targets.iter_mut().zip(read)) {
            let ours = |v: &String| own.iter().any(|o| o.name == n.name && o.value == *v);
            t.values.retain(|v| txt::contains(&present, v) || ours(v));
            let missing: Vec<String> = t
                .values
                .iter()
                .filter(|v| !txt::contains(&present, v))
                .cloned()
                .collect();
            all_in_place &= missing.is_empty()
                && self
                    .wanted_at(&n.name, own)
                    .iter()
                    .all(|v| txt::contains(&present, v));
            for v in missing {
                self.readd(&n.zone, &n.name, &v)?;
            }
        }
        if let Some(t) = last_write
            && all_in_place
            && self.hook.last_write.get() == Some(t)
            && self.hook.clock.elapsed().saturating_sub(t) >= RECHECK_AFTER
        {
            self.kept.set(Some(t));
        }
        Ok(())
    }

    /// Writes `v` at `n` again, saying so; at most [`MAX_READDS`] times a value.
    fn readd(&self, z: &Zone, n: &str, v: &str) -> Result<Written> {
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
                + self
                    .hook
                    .clock
                    .jittered(std::time::Duration::from_millis(150), 1.0)
                - std::time::Duration::from_millis(150);
            if since < after {
                self.hook.clock.sleep(after - since);
            }
        }
    }

    /// The records at each of `names` (empty where there are none): one read per zone.
    fn records_at(&self, step: &'static str, names: &[NameAt]) -> Result<Vec<Vec<String>>> {
        Ok(self
            .hook
            .read_groups(step, names)?
            .into_iter()
            .map(|at| at.records)
            .collect())
    }

    /// The values to keep at `name`: what this host's journal holds there, and ours.
    fn wanted_at(&self, name: &str, own: &[Own]) -> Vec<String> {
        let mut wanted = self
            .hook
            .local
            .map(|l| l.written_at(name))
            .unwrap_or_default();
        for o in own {
            if o.name == name && !wanted.contains(&o.value) {
                wanted.push(o.value.clone());
            }
        }
        wanted
    }

    /// Before a waiting auth hook returns: re-reads `names` at least a second
    /// after the last write and adds again every value this host's journal
    /// holds there (and ours) that another host's read-modify-write dropped
    /// (OTC has no conditional update); at most [`MAX_READDS`] times a value.
    /// Nothing to read when a read during the nameserver wait, late enough
    /// after the last write, found them all in place, or when every write
    /// created its set (no stale read-modify-write can undo a create).
    fn keep(&self, names: &[NameAt], own: &[Own]) -> Result<()> {
        if !self.hook.api.whole_set_writes() || self.hook.last_write.get().is_none() {
            return Ok(());
        }
        loop {
            if self.kept.get().is_some() && self.kept.get() == self.hook.last_write.get() {
                return Ok(());
            }
            self.pause_after_write();
            let mut missing: Vec<(NameAt, String)> = Vec::new();
            let read = self.records_at("auth", names)?;
            for (n, present) in names.iter().zip(read) {
                for v in self.wanted_at(&n.name, own) {
                    if !txt::contains(&present, &v) {
                        missing.push((n.clone(), v));
                    }
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            let mut again = Vec::new();
            for (n, v) in missing {
                let w = self.readd(&n.zone, &n.name, &v)?;
                let values = self.values_of(&w.set.records, &v);
                again.push(Group::new(w.zone, n.name, values));
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
    fn active_sets(&self, names: &[NameAt], settle_first: bool) -> Result<Vec<Group>> {
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
            for (n, at) in names.iter().zip(self.hook.read_groups("auth", names)?) {
                if !at.exists() {
                    self.hook
                        .report
                        .verbose(format!("skipping {}: no TXT record", n.name));
                } else if at.is_settled() {
                    found.push(Group::new(
                        n.zone.clone(),
                        n.name.clone(),
                        at.records
                            .iter()
                            .map(|r| txt::unquote(r).to_string())
                            .collect(),
                    ));
                } else {
                    pending.push(format!("{} ({})", n.name, at.status_word()));
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
        let at = self.effective_name("cleanup", &env.fqdn)?;
        let mut group = Group::new(at.zone, at.name, vec![env.value.clone()]);
        if let Some(l) = self.hook.local {
            group.known = l.ids_at(&group.name, &group.values);
        }
        if !self.hook.remove_planned(std::slice::from_ref(&group))? {
            return Ok(());
        }
        self.removed_stays_removed(&[group])
    }

    /// The records at each of `names` once none is still applying a change
    /// (a removal of ours still listed as pending is not a value brought
    /// back): one read per zone per poll, up to the timeout.
    fn settled_reads(&self, step: &'static str, names: &[NameAt]) -> Result<Vec<Vec<String>>> {
        let start = self.hook.clock.elapsed();
        let mut pause = self
            .hook
            .settings
            .poll
            .min(std::time::Duration::from_millis(200));
        loop {
            let read = self.hook.read_groups(step, names)?;
            let waited = self.hook.clock.elapsed() - start;
            if !read.iter().any(TxtSet::is_pending) || waited >= self.hook.settings.timeout {
                return Ok(read.into_iter().map(|at| at.records).collect());
            }
            self.hook.clock.sleep(pause);
            pause = self.hook.settings.poll;
        }
    }

    /// At least a second after the removal (and after every removal again),
    /// reads `groups` and removes whatever a racing read-modify-write of another
    /// host brought back, until a read finds none of it; at most
    /// [`MAX_REREMOVALS`] times. Nothing to read when every removal deleted
    /// its whole set (a stale update of a deleted set's id finds it gone).
    fn removed_stays_removed(&self, groups: &[Group]) -> Result<()> {
        if !self.hook.api.whole_set_writes() || self.hook.last_write.get().is_none() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            self.pause_after_write();
            let mut back = Vec::new();
            let names: Vec<NameAt> = groups.iter().map(Group::at).collect();
            let read = self.settled_reads("cleanup", &names)?;
            for (g, present) in groups.iter().zip(read) {
                let here: Vec<String> = g
                    .values
                    .iter()
                    .filter(|v| txt::contains(&present, v))
                    .cloned()
                    .collect();
                if !here.is_empty() {
                    back.push(Group::new(g.zone.clone(), g.name.clone(), here));
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
                        back[0].values.join(", "),
                        back[0].name
                    ),
                )
                .hint("another host or tool keeps rewriting the TXT records at this name; the journal sweeps the value later"));
            }
            for g in back {
                self.hook.report.info(format!(
                    "TXT value {} came back at {} (a racing write); removing it again ({attempt}/{MAX_REREMOVALS})",
                    g.values.join(", "),
                    g.name
                ));
                self.hook.cleanup_many(&g.zone, &g.name, &g.values)?;
            }
            // Hosts that collided once don't re-check in step.
            let pause = self
                .hook
                .clock
                .jittered(std::time::Duration::from_millis(100), 1.0);
            self.hook.clock.sleep(pause);
        }
    }
}

/// The engine against each provider shape's fake (see `each_shape!`), on a
/// fake clock, counting every call it makes.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::cloud_api::{ApiResult, DnsApi};
    use crate::fake::{Fake, Fault};
    use crate::host_state::HostState;
    use crate::propagation::net::{DnsQuery, QueryError};
    use crate::propagation::wire::{Answer as DnsAnswer, QType};
    use crate::report::{Capture, Level, Report};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::time::Duration;

    const T0: u64 = 1_800_000_000;

    /// A name and the `(id, value)` pairs [`DnsApi::known`] was told of it.
    type Told = (String, Vec<(String, String)>);

    /// Every call the engine makes, counted by kind, each taking `latency`
    /// (a real sleep) with the calls in flight counted. Zone discovery is
    /// answered from one listing per process, as the real providers do.
    struct Counted<'a> {
        inner: &'a dyn DnsApi,
        zones: Mutex<Option<Vec<Zone>>>,
        reads: AtomicU32,
        writes: AtomicU32,
        other: AtomicU32,
        latency: Duration,
        in_flight: AtomicU32,
        peak: AtomicU32,
        /// What [`DnsApi::known`] was told, per name.
        told: Mutex<Vec<Told>>,
    }

    impl<'a> Counted<'a> {
        fn new(inner: &'a dyn DnsApi) -> Self {
            Counted {
                inner,
                zones: Mutex::new(None),
                reads: AtomicU32::new(0),
                writes: AtomicU32::new(0),
                other: AtomicU32::new(0),
                latency: Duration::ZERO,
                in_flight: AtomicU32::new(0),
                peak: AtomicU32::new(0),
                told: Mutex::new(Vec::new()),
            }
        }
        fn slow(inner: &'a dyn DnsApi, latency: Duration) -> Self {
            Counted {
                latency,
                ..Counted::new(inner)
            }
        }
        fn total(&self) -> u32 {
            self.reads() + self.writes() + self.other.load(SeqCst)
        }
        fn reads(&self) -> u32 {
            self.reads.load(SeqCst)
        }
        fn writes(&self) -> u32 {
            self.writes.load(SeqCst)
        }
        /// One call: counted, in flight for `latency`.
        fn call<T>(&self, c: &AtomicU32, f: impl FnOnce() -> T) -> T {
            c.fetch_add(1, SeqCst);
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(self.latency);
            let r = f();
            self.in_flight.fetch_sub(1, SeqCst);
            r
        }
    }

    impl DnsApi for Counted<'_> {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn zones_holding(&self, fqdn: &str) -> ApiResult<Vec<Zone>> {
            let mut zones = self.zones.lock().unwrap();
            if zones.is_none() {
                *zones = Some(self.call(&self.other, || self.inner.zones_holding(fqdn))?);
            }
            Ok(zones.clone().unwrap_or_default())
        }
        fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
            self.call(&self.other, || self.inner.zone_named(name))
        }
        fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
            self.call(&self.other, || self.inner.nameservers(zone))
        }
        fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
            self.call(&self.reads, || self.inner.read(zone, names))
        }
        fn reread(&self, zone: &Zone, at: &TxtSet) -> ApiResult<TxtSet> {
            self.call(&self.reads, || self.inner.reread(zone, at))
        }
        fn write(
            &self,
            zone: &Zone,
            before: &TxtSet,
            after: &[String],
            ttl: u32,
        ) -> ApiResult<TxtSet> {
            self.call(&self.writes, || self.inner.write(zone, before, after, ttl))
        }
        fn write_batch(
            &self,
            zone: &Zone,
            changes: &[Change<'_>],
            ttl: u32,
        ) -> Option<ApiResult<Vec<TxtSet>>> {
            // A provider without batches answers `None`: no call made.
            let r = self.inner.write_batch(zone, changes, ttl)?;
            Some(self.call(&self.writes, || r))
        }
        fn commit(&self, zone: &Zone) -> ApiResult<()> {
            // OTC's commit sends nothing (a write is served as it lands).
            if self.inner.whole_set_writes() {
                return self.inner.commit(zone);
            }
            self.call(&self.other, || self.inner.commit(zone))
        }
        fn whole_set_writes(&self) -> bool {
            self.inner.whole_set_writes()
        }
        fn known(&self, zone: &Zone, name: &str, known: &[(String, String)]) {
            self.told
                .lock()
                .unwrap()
                .push((name.to_string(), known.to_vec()));
            self.inner.known(zone, name, known)
        }
    }

    /// No nameserver is asked in these tests (the DNS check is off).
    struct NoDns;
    impl DnsQuery for NoDns {
        fn ask(
            &self,
            _: std::net::SocketAddr,
            _: &str,
            _: QType,
            _: bool,
        ) -> std::result::Result<DnsAnswer, QueryError> {
            Err(QueryError::Unreachable("no DNS in unit tests".into()))
        }
    }

    struct Rig<F> {
        fake: F,
        clock: FakeClock,
        report: Report,
    }

    fn rig<F: Fake>() -> Rig<F> {
        Rig {
            fake: F::fresh(),
            clock: FakeClock::new(T0),
            report: Report::new(Level::Verbose, Box::new(Capture::default())),
        }
    }

    fn settings() -> crate::flow::hook::Settings {
        crate::flow::hook::Settings {
            ttl: 300,
            zone: None,
            timeout: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            deadline: Duration::from_secs(120),
            parallel: 4,
        }
    }

    fn hook<'a>(
        api: &'a dyn DnsApi,
        r: &'a Rig<impl Fake>,
        local: Option<&'a HostState>,
    ) -> Hook<'a> {
        Hook::new(api, &r.clock, &r.report, settings(), local)
    }

    fn flow<'a>(hook: Hook<'a>, r: &'a Rig<impl Fake>) -> Flow<'a> {
        Flow::new(
            hook,
            Checker {
                dns: &NoDns,
                clock: &r.clock,
                report: &r.report,
                settings: Default::default(),
                resolv_conf: String::new(),
            },
            Mode {
                dns_check: false,
                cname: false,
                wait_once: true,
            },
        )
    }

    fn local(test: &str, shape: &str) -> (std::path::PathBuf, HostState) {
        let d = std::env::temp_dir().join(format!(
            "otc-engine-{}-{test}-{}",
            std::process::id(),
            shape.replace(|c: char| !c.is_ascii_alphanumeric(), "")
        ));
        let _ = std::fs::remove_dir_all(&d);
        let l = HostState {
            dir: crate::host_state::state_dir(Some(&d), &Default::default())
                .unwrap()
                .0,
            endpoint: "https://dns.fake".into(),
        };
        (d, l)
    }

    fn name(i: usize) -> String {
        format!("_acme-challenge.n{i}.example.com.")
    }

    /// `n` names, the first `pairs` with two values (apex and wildcard).
    fn groups(z: &Zone, n: usize, pairs: usize) -> Vec<Group> {
        (0..n)
            .map(|i| {
                let mut values = vec![format!("v{i}a")];
                if i < pairs {
                    values.push(format!("v{i}b"));
                }
                Group::new(z.clone(), name(i), values)
            })
            .collect()
    }

    /// One read for the zone's 15 names, a write only where the values change
    /// (one batch where the provider has batches), foreign values kept; the
    /// cleanup the same, leaving the foreign value.
    fn plan_reads_once_and_writes_only_changes<F: Fake>() {
        let r = rig::<F>();
        let api = Counted::new(&r.fake);
        let z = r.fake.zone();
        r.fake.seed(&name(0), &["theirs"]);
        r.fake.seed(&name(7), &["v7a"]);
        let gs = groups(&z, 15, 5);
        let h = hook(&api, &r, None);
        let w = h.add_planned(&gs).unwrap();
        assert_eq!(w.len(), 15);
        assert_eq!(api.reads(), 1, "{}: one read for the zone", F::SHAPE);
        let batch = F::SHAPE.contains("batch + apply");
        assert_eq!(api.writes(), if batch { 1 } else { 14 }, "{}", F::SHAPE);
        assert_eq!(r.fake.values(&name(0)), vec!["theirs", "v0a", "v0b"]);
        assert_eq!(r.fake.values(&name(7)), vec!["v7a"]);
        h.commit("auth").unwrap();
        // As after a run's wait: every change served.
        r.fake.time_passes();
        let (reads, writes) = (api.reads(), api.writes());
        assert!(h.remove_planned(&gs).unwrap());
        assert_eq!(api.reads(), reads + 1, "{}", F::SHAPE);
        assert_eq!(
            api.writes(),
            writes + if batch { 1 } else { 15 },
            "{}",
            F::SHAPE
        );
        h.commit("cleanup").unwrap();
        assert_eq!(r.fake.values(&name(0)), vec!["theirs"]);
        assert!((1..15).all(|i| r.fake.values(&name(i)).is_empty()));
    }

    /// A write refused because the name changed since the read: that name
    /// alone goes down the careful loop (read again, compute again); the
    /// others are written once. A refused batch sends each of its names.
    fn conflict_on_one_name_goes_slow_for_that_name_only<F: Fake>() {
        let r = rig::<F>();
        let api = Counted::new(&r.fake);
        let z = r.fake.zone();
        let gs = groups(&z, 3, 0);
        r.fake.inject(Fault::Foreign("theirs".into()));
        // In order: the fault meets the first write, the one at name 0.
        let mut h = hook(&api, &r, None);
        h.settings.parallel = 1;
        h.add_planned(&gs).unwrap();
        let batch = F::SHAPE.contains("batch + apply");
        // The slow path reads each of its names again before writing it:
        // here the one that changed (a listing and a fresh read), or, after a
        // refused batch, each of the batch's (a listing each, the changed one
        // a fresh read too). The others are not read again.
        // Writes: the refused batch and the 3 names again, or the 3 names
        // and the one refused once more: 4 either way.
        assert_eq!(api.writes(), 4, "{}", F::SHAPE);
        let reads = if batch { 1 + 4 } else { 1 + 2 };
        if r.fake.whole_set_writes() {
            // The set another writer changed is pending: polled until settled.
            assert!(api.reads() >= reads, "{}", F::SHAPE);
        } else {
            assert_eq!(api.reads(), reads, "{}", F::SHAPE);
        }
        let mut first = r.fake.values(&name(0));
        first.sort();
        assert_eq!(first, vec!["theirs", "v0a"], "{}", F::SHAPE);
        for i in 1..3 {
            assert_eq!(
                r.fake.values(&name(i)),
                vec![format!("v{i}a")],
                "{}",
                F::SHAPE
            );
        }
    }

    /// A write that landed but answered 503 is read again, never repeated.
    fn unknown_outcome_is_read_again_not_repeated<F: Fake>() {
        let r = rig::<F>();
        let api = Counted::new(&r.fake);
        let z = r.fake.zone();
        let gs = groups(&z, 3, 1);
        r.fake.inject(Fault::LandedButTransient);
        let mut h = hook(&api, &r, None);
        h.settings.parallel = 1;
        h.add_planned(&gs).unwrap();
        let batch = F::SHAPE.contains("batch + apply");
        assert_eq!(
            api.writes(),
            if batch { 1 } else { 3 },
            "{}: not repeated",
            F::SHAPE
        );
        assert_eq!(r.fake.values(&name(0)), vec!["v0a", "v0b"]);
        assert_eq!(r.fake.values(&name(2)), vec!["v2a"]);
    }

    /// A certbot run of 5 apex+wildcard pairs and 10 names (20 challenges, 15
    /// TXT names, one zone), hooks as certbot runs them (each a process of its
    /// own: a hook and a journal shared): auth + cleanup stay within
    /// 2 × names + 6 × zones + 4 calls (record per value: 2 × values + …).
    /// Challenge `i` of a certbot run for the domains `all` (value `val{i}`),
    /// with the environment certbot gives its hooks.
    fn certbot_challenge(all: &[String], i: usize) -> Challenge {
        let m: std::collections::HashMap<String, String> = [
            (
                "CERTBOT_DOMAIN",
                all[i].trim_start_matches("*.").to_string(),
            ),
            ("CERTBOT_VALIDATION", format!("val{i}")),
            (
                "CERTBOT_REMAINING_CHALLENGES",
                (all.len() - 1 - i).to_string(),
            ),
            ("CERTBOT_ALL_DOMAINS", all.join(",")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Challenge::from_certbot_env(&m).unwrap()
    }

    fn certbot_run_keeps_the_budget<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("budget", F::SHAPE);
        let mut all = Vec::new();
        for i in 0..15 {
            all.push(format!("n{i}.example.com"));
            if i < 5 {
                all.push(format!("*.n{i}.example.com"));
            }
        }
        let env = |i: usize| certbot_challenge(&all, i);
        let mut auth_calls = 0;
        for i in 0..all.len() {
            let c = env(i);
            if super::super::run::defer_early(&c, &l, &r.clock, &r.report, true).unwrap() {
                continue;
            }
            let api = Counted::new(&r.fake);
            let f = flow(hook(&api, &r, Some(&l)), &r);
            f.hook.sweep();
            f.auth(&c).unwrap();
            f.hook.commit("auth").unwrap();
            auth_calls += api.total();
        }
        r.fake.time_passes();
        for i in 0..15 {
            assert_eq!(
                r.fake.served(&name(i)).len(),
                if i < 5 { 2 } else { 1 },
                "{}",
                F::SHAPE
            );
        }
        let mut cleanup_calls = 0;
        for i in 0..all.len() {
            let c = env(i);
            if super::super::run::removed_early(&c, &l, &r.report, true).unwrap() {
                continue;
            }
            let api = Counted::new(&r.fake);
            let f = flow(hook(&api, &r, Some(&l)), &r);
            f.hook.sweep();
            f.cleanup(&c).unwrap();
            f.hook.commit("cleanup").unwrap();
            cleanup_calls += api.total();
        }
        assert!((0..15).all(|i| r.fake.values(&name(i)).is_empty()));
        let units = if F::SHAPE.contains("record-per-value") {
            20
        } else {
            15
        };
        let budget = 2 * units + 6 + 4;
        println!(
            "{}: auth {auth_calls} calls, cleanup {cleanup_calls} calls (budget {budget})",
            F::SHAPE
        );
        assert!(
            auth_calls + cleanup_calls <= budget,
            "{}: {auth_calls} + {cleanup_calls} > {budget}",
            F::SHAPE
        );
        std::fs::remove_dir_all(d).ok();
    }

    /// With `parallel` 4 the writes of a zone's names go out side by side,
    /// never more than 4 at once; with 1, one at a time, in order. (One batch
    /// per zone where the provider has batches: nothing to overlap there.)
    fn calls_overlap_within_the_limit<F: Fake>() {
        for parallel in [4, 1] {
            let r = rig::<F>();
            let api = Counted::slow(&r.fake, Duration::from_millis(20));
            let z = r.fake.zone();
            let gs = groups(&z, 12, 2);
            let mut h = hook(&api, &r, None);
            h.settings.parallel = parallel;
            h.add_planned(&gs).unwrap();
            r.fake.time_passes();
            assert!(h.remove_planned(&gs).unwrap());
            let peak = api.peak.load(SeqCst);
            if F::SHAPE.contains("batch + apply") || parallel == 1 {
                assert_eq!(peak, 1, "{} parallel {parallel}", F::SHAPE);
            } else {
                assert!((2..=4).contains(&peak), "{}: peak {peak}", F::SHAPE);
            }
            assert!((0..12).all(|i| r.fake.values(&name(i)).is_empty()));
        }
    }

    /// The ids our creates answered are journaled with the values; a later
    /// cleanup (another process) hands them to the provider before its read.
    fn created_ids_are_journaled_and_told_to_cleanup<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("ids", F::SHAPE);
        let z = r.fake.zone();
        let api = Counted::new(&r.fake);
        let h = hook(&api, &r, Some(&l));
        h.add_planned(&[Group::new(z.clone(), name(0), vec!["a".into()])])
            .unwrap();
        h.commit("auth").unwrap();
        r.fake.time_passes();
        let ids = l.ids_at(&name(0), &["a".to_string()]);
        assert_eq!(ids.len(), 1, "{}: {:?}", F::SHAPE, l.written_at(&name(0)));
        let later = Counted::new(&r.fake);
        let f = flow(hook(&later, &r, Some(&l)), &r);
        let env = Challenge::from_lego_args("cleanup", &[name(0), "a".into()], false).unwrap();
        f.cleanup(&env).unwrap();
        f.hook.commit("cleanup").unwrap();
        assert_eq!(
            *later.told.lock().unwrap(),
            vec![(name(0), ids)],
            "{}",
            F::SHAPE
        );
        assert!(r.fake.values(&name(0)).is_empty());
        std::fs::remove_dir_all(d).ok();
    }

    /// Where writes replace whole sets, a run reads again a second after its
    /// last write only if that write updated a set another host could have
    /// read before it: a create (a second create of the name is refused) or
    /// a deleted set (a stale update finds its id gone) is never re-read.
    fn only_an_update_is_read_again_a_second_later<F: Fake>() {
        use crate::clock::Clock;
        let r = rig::<F>();
        let api = Counted::new(&r.fake);
        r.fake.seed(&name(1), &["theirs"]);
        let run = |fqdn: &str, value: &str, step: &'static str| {
            let mut h = hook(&api, &r, None);
            // Polls for a pending set well apart from the second's re-read.
            h.settings.poll = Duration::from_millis(100);
            let f = flow(h, &r);
            let start = r.clock.elapsed();
            let env = Challenge::from_lego_args(step, &[fqdn.into(), value.into()], false).unwrap();
            if step == "present" {
                f.auth(&env).unwrap();
            } else {
                f.cleanup(&env).unwrap();
            }
            f.hook.commit(step).unwrap();
            r.fake.time_passes();
            (f.hook.last_write.get().is_some(), r.clock.elapsed() - start)
        };
        let whole = r.fake.whole_set_writes();
        // The pause before the re-read is a second give or take its jitter.
        let paused = |took: Duration| took >= Duration::from_millis(800);
        for (fqdn, raced) in [(name(0), false), (name(1), true)] {
            let (marked, took) = run(&fqdn, "ours", "present");
            assert_eq!(marked, raced && whole, "{}: auth at {fqdn}", F::SHAPE);
            assert_eq!(paused(took), raced && whole, "{}: {took:?}", F::SHAPE);
            let (marked, took) = run(&fqdn, "ours", "cleanup");
            assert_eq!(marked, raced && whole, "{}: cleanup at {fqdn}", F::SHAPE);
            assert_eq!(paused(took), raced && whole, "{}: {took:?}", F::SHAPE);
        }
        assert!(r.fake.values(&name(0)).is_empty());
        assert_eq!(r.fake.values(&name(1)), vec!["theirs"]);
    }

    /// Answers a CNAME question only once the API was asked to read (up to
    /// 2 s), noting whether it was; every TXT question with every value.
    struct ReadFirst<'a> {
        api: &'a Counted<'a>,
        values: Vec<String>,
        saw_read: Mutex<Vec<bool>>,
    }
    impl DnsQuery for ReadFirst<'_> {
        fn ask(
            &self,
            _: std::net::SocketAddr,
            _: &str,
            q: QType,
            _: bool,
        ) -> std::result::Result<DnsAnswer, QueryError> {
            if q == QType::Cname {
                let start = std::time::Instant::now();
                while self.api.reads() == 0 && start.elapsed() < Duration::from_secs(2) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                crate::sync::lock(&self.saw_read).push(self.api.reads() > 0);
                return Ok(DnsAnswer::default());
            }
            Ok(DnsAnswer {
                rcode: "NOERROR".into(),
                txt: self.values.clone(),
                ..DnsAnswer::default()
            })
        }
    }

    /// A run's last hook reads its names while their CNAME questions are
    /// out: the read has started before any CNAME question is answered.
    fn a_run_reads_its_names_while_their_cname_questions_are_out<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("cname-overlap", F::SHAPE);
        let all: Vec<String> = (0..3).map(|i| format!("n{i}.example.com")).collect();
        let env = |i: usize| certbot_challenge(&all, i);
        for i in 0..2 {
            assert!(
                super::super::run::defer_early(&env(i), &l, &r.clock, &r.report, true).unwrap()
            );
        }
        let api = Counted::new(&r.fake);
        let dns = ReadFirst {
            api: &api,
            values: (0..3).map(|i| format!("val{i}")).collect(),
            saw_read: Mutex::default(),
        };
        let mut f = flow(hook(&api, &r, Some(&l)), &r);
        f.checker.dns = &dns;
        f.checker.settings.nameservers = vec!["127.0.0.1:5301".into()];
        f.mode.dns_check = true;
        f.mode.cname = true;
        f.auth(&env(2)).unwrap();
        f.hook.commit("auth").unwrap();
        let saw = crate::sync::lock(&dns.saw_read).clone();
        assert_eq!(saw, [true, true, true], "{}", F::SHAPE);
        r.fake.time_passes();
        for i in 0..3 {
            assert_eq!(r.fake.served(&name(i)).len(), 1, "{}", F::SHAPE);
        }
        std::fs::remove_dir_all(d).ok();
    }

    crate::fake::each_shape!(
        a_run_reads_its_names_while_their_cname_questions_are_out,
        plan_reads_once_and_writes_only_changes,
        conflict_on_one_name_goes_slow_for_that_name_only,
        unknown_outcome_is_read_again_not_repeated,
        certbot_run_keeps_the_budget,
        calls_overlap_within_the_limit,
        created_ids_are_journaled_and_told_to_cleanup,
        only_an_update_is_read_again_a_second_later,
    );
}
