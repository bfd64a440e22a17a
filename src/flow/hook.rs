//! The hook flows: `auth` adds our value to the TXT set, `cleanup` removes
//! exactly our value. Every other value of the set survives every path.

use std::cell::Cell;
use std::time::Duration;

use crate::clock::Clock;
use crate::cloud_api::{ApiError, DnsApi, Kind, Status, TxtSet, Zone};
use crate::error::{Error, Result};
use crate::host_state::{Entry, Guard, HostState, RunTag, State};
use crate::report::Report;
use crate::txt::{self, Removal};
use crate::zone;

/// Re-reads after a write whose outcome is unknown (no answer, a 5xx) before giving up.
const MAX_ROUNDS: u32 = 8;
/// Extra tries of a zone's commit that failed with an unknown outcome.
const MAX_COMMIT_RETRIES: u32 = 3;
/// Longest pause between two tries while others keep changing a set.
const MAX_CONTENTION_PAUSE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Settings {
    /// TTL of a recordset we create (existing sets keep theirs).
    pub ttl: u32,
    /// Forced zone name, instead of discovery.
    pub zone: Option<String>,
    /// How long to wait for a change to settle.
    pub timeout: Duration,
    /// Interval between API polls (at most one request per second).
    pub poll: Duration,
    /// Contention (a conflict, a set that keeps changing, a pending set) is
    /// retried until this much time has passed since the run started.
    pub deadline: Duration,
    /// Requests of a run in flight at once (`--parallel`; 1: in order).
    pub parallel: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ttl: crate::defaults::TTL,
            zone: None,
            timeout: crate::defaults::PROPAGATION_TIMEOUT,
            poll: crate::defaults::POLL,
            deadline: crate::defaults::DEADLINE,
            parallel: crate::defaults::PARALLEL,
        }
    }
}

/// The flows, over a backend, a clock and a report.
pub struct Hook<'a> {
    pub api: &'a dyn DnsApi,
    pub clock: &'a dyn Clock,
    pub report: &'a Report,
    pub settings: Settings,
    /// Lock directory and journal; `None` in unit tests.
    pub local: Option<&'a HostState>,
    /// When (on the clock's `elapsed`) this run last sent a write another
    /// host's stale read-modify-write could undo: an update of a whole set
    /// that stays (OTC PUT). A create can't be undone that way (a second
    /// create of the name is refused, DNS.0312), nor a deleted set (a stale
    /// update of its id finds it gone), so neither needs the re-read a
    /// second later. `None`: no such write.
    pub last_write: Cell<Option<Duration>>,
    /// The certbot run the values written belong to, when batched.
    pub run: std::cell::RefCell<Option<RunTag>>,
    /// Zones written to since their last commit.
    pub dirty: std::cell::RefCell<Vec<Zone>>,
    /// Values removed whose removal their zone's commit has yet to publish
    /// (zone id, name, value): the journal forgets them only once it has, so
    /// a run whose commit failed is finished by the next one.
    pub unpublished: std::cell::RefCell<Vec<ZoneValue>>,
    /// Values added whose zone's commit has yet to publish them (zone id, name,
    /// value), where the cloud publishes on commit: journaled `Sending` until
    /// it has, so a later run that finds one present knows to commit its zone.
    pub unapplied: std::cell::RefCell<Vec<ZoneValue>>,
}

/// A value at a name of a zone, waiting for that zone's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneValue {
    pub zone_id: String,
    pub name: String,
    pub value: String,
}

impl ZoneValue {
    fn new(zone: &Zone, name: &str, value: &str) -> ZoneValue {
        ZoneValue {
            zone_id: zone.id.clone(),
            name: name.to_string(),
            value: value.to_string(),
        }
    }
}

impl<'a> Hook<'a> {
    /// A hook with nothing written yet in this process.
    pub fn new(
        api: &'a dyn DnsApi,
        clock: &'a dyn Clock,
        report: &'a Report,
        settings: Settings,
        local: Option<&'a HostState>,
    ) -> Hook<'a> {
        Hook {
            api,
            clock,
            report,
            settings,
            local,
            last_write: Cell::new(None),
            run: Default::default(),
            dirty: Default::default(),
            unpublished: Default::default(),
            unapplied: Default::default(),
        }
    }
}

/// One value to journal (see [`Hook::remember_all`]).
pub(super) struct Note<'n> {
    pub zone: &'n Zone,
    pub name: &'n str,
    pub value: &'n str,
    pub state: State,
    /// The provider's id of what holds it, where our create's answer told it.
    pub id: Option<String>,
}

/// Where a value was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub zone: Zone,
    pub name: String,
    pub set: TxtSet,
}

/// The error after the last round: the last API failure if there was one,
/// else someone kept changing the set until the deadline.
fn gave_up(step: &'static str, fqdn: &str, last: Option<ApiError>, secs: u64) -> Error {
    match last {
        Some(e) => api_err(
            step,
            &format!("{fqdn}: gave up after {MAX_ROUNDS} rounds"),
            e,
        ),
        None => Error::failed(
            step,
            format!("{fqdn} kept changing under us; gave up after {secs}s"),
        )
        .hint("another process is editing the TXT records at this name; retry later, or raise --deadline"),
    }
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn api_err(step: &'static str, what: &str, e: ApiError) -> Error {
    Error::failed(step, format!("{what}: {e}")).hint_opt(e.hint())
}

impl Hook<'_> {
    pub(super) fn lock(&self, fqdn: &str) -> Result<Option<Guard>> {
        self.local.map(|l| l.lock(fqdn)).transpose()
    }

    /// Journals a value: `Sending` before the request that may land it, so a run
    /// cut short leaves nothing unswept, `Written` once the API took it. A failure
    /// to journal never fails the hook.
    pub(super) fn remember(&self, zone: &Zone, fqdn: &str, value: &str, state: State) {
        self.remember_id(zone, fqdn, value, state, None)
    }

    /// As [`remember`](Self::remember), with the provider's id of what holds
    /// the value where our create's answer told it (kept once known).
    pub(super) fn remember_id(
        &self,
        zone: &Zone,
        fqdn: &str,
        value: &str,
        state: State,
        id: Option<String>,
    ) {
        self.remember_all(vec![Note {
            zone,
            name: fqdn,
            value,
            state,
            id,
        }]);
    }

    /// Journals every note with one rewrite of the journal (a run's hundred
    /// values are noted at once, not one file rewrite per value between requests).
    pub(super) fn remember_all(&self, notes: Vec<Note<'_>>) {
        let Some(l) = self.local else { return };
        let t = self.clock.unix_secs();
        let run = self.run.borrow().clone();
        let entries = notes
            .into_iter()
            .map(|n| Entry {
                t,
                endpoint: l.endpoint.clone(),
                zone_id: n.zone.id.clone(),
                zone_name: n.zone.name.clone(),
                name: n.name.to_string(),
                value: n.value.to_string(),
                state: n.state,
                run: run.clone(),
                id: n.id,
            })
            .collect();
        if let Err(err) = l.record_all(entries) {
            self.report.warn(format!("journal: {err}"));
        }
    }

    pub(super) fn forget(&self, fqdn: &str, value: &str) {
        self.forget_all(&[(fqdn.to_string(), value.to_string())]);
    }

    /// Forgets every `(name, value)` with one rewrite of the journal.
    pub(super) fn forget_all(&self, values: &[(String, String)]) {
        if let Some(l) = self.local
            && let Err(err) = l.forget_all(values)
        {
            self.report.warn(format!("journal: {err}"));
        }
    }

    /// Removes values this host added over a day ago and never cleaned up (a
    /// crash between auth and cleanup): exactly those values, one short try
    /// each, never failing the run.
    pub fn sweep(&self) {
        let Some(l) = self.local else { return };
        for e in l.stale(self.clock.unix_secs()) {
            let valid = zone::normalize_domain(&e.name).is_ok()
                && txt::validate_value(&e.value).is_ok()
                && zone::normalize_domain(&e.zone_name).is_ok()
                && !e.zone_id.is_empty();
            if !valid {
                self.report.warn(format!(
                    "journal: dropping an invalid entry for {:?}",
                    e.name
                ));
                self.forget(&e.name, &e.value);
                continue;
            }
            let z = Zone {
                id: e.zone_id.clone(),
                name: e.zone_name.clone(),
            };
            let short = Hook::new(
                self.api,
                self.clock,
                self.report,
                Settings {
                    timeout: Duration::from_secs(10),
                    ..self.settings.clone()
                },
                self.local,
            );
            self.report.info(format!(
                "removing a leftover value {} at {} (added over a day ago, never cleaned up)",
                e.value, e.name
            ));
            let done = short.cleanup(&z, &e.name, &e.value);
            for z in short.dirty.take() {
                self.mark_dirty(&z);
            }
            self.unpublished
                .borrow_mut()
                .extend(short.unpublished.take());
            self.unapplied.borrow_mut().extend(short.unapplied.take());
            if let Err(err) = done {
                self.report.warn(format!(
                    "could not remove the leftover value at {}: {err}",
                    e.name
                ));
            }
        }
    }

    /// The public zone that holds `fqdn`: forced by name, or the longest suffix match.
    pub fn find_zone(&self, step: &'static str, fqdn: &str) -> Result<Zone> {
        if let Some(forced) = &self.settings.zone {
            let want = zone::absolute(forced);
            let z = self
                .api
                .zone_named(&want)
                .map_err(|e| api_err(step, "listing zones", e))?
                .ok_or_else(|| {
                    Error::failed(
                        step,
                        format!("no public zone named {want} in {}", self.api.name()),
                    )
                    .hint("check --zone / OTC_ZONE, or drop it to let the zone be found")
                })?;
            if !zone::candidate_zones(fqdn).contains(&want) {
                return Err(
                    Error::failed(step, format!("{fqdn} does not lie in zone {want}"))
                        .hint("check --zone / OTC_ZONE"),
                );
            }
            return Ok(z);
        }
        let zones = self
            .api
            .zones_holding(fqdn)
            .map_err(|e| api_err(step, "listing zones", e))?;
        let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
        let best = zone::best_zone(fqdn, names.iter().copied()).map(str::to_string);
        match best {
            Some(b) => {
                let z = zones
                    .into_iter()
                    .find(|z| z.name == b)
                    .expect("best zone comes from the list");
                self.report.verbose(format!(
                    "{fqdn} lies in public zone {} (id {})",
                    z.name, z.id
                ));
                Ok(z)
            }
            None => {
                let tried = zone::candidate_zones(fqdn);
                Err(Error::failed(
                    step,
                    format!(
                        "no public zone holds {fqdn} (tried {})",
                        tried[1..].join(", ")
                    ),
                )
                .hint("create the zone in the DNS service of this account, or name it with --zone"))
            }
        }
    }

    /// The TXT values at `fqdn`, as listed.
    pub(super) fn read_one(&self, step: &'static str, zone: &Zone, fqdn: &str) -> Result<TxtSet> {
        let mut v = self
            .api
            .read(zone, &[fqdn.to_string()])
            .map_err(|e| api_err(step, "reading the TXT records", e))?;
        Ok(v.pop().unwrap_or_else(|| TxtSet::absent(fqdn)))
    }

    /// Publishes the changes of every zone this process (or the certbot run
    /// it finishes) changed since the last commit, and of zones where a value
    /// of ours was found unpublished: each commit retried on its own, never by
    /// writing again. A zone nobody here changed is never committed (NCP's
    /// apply publishes every pending edit of the domain, colleagues' too). A
    /// zone that fails stays to be committed; the others are committed all the same.
    pub fn commit(&self, step: &'static str) -> Result<()> {
        let zones: Vec<Zone> = self.dirty.take();
        let mut first_error = None;
        for z in zones {
            match self.commit_zone(step, &z) {
                Ok(()) => {
                    let done: Vec<ZoneValue> = {
                        let mut all = self.unpublished.borrow_mut();
                        let (done, rest) = all.drain(..).partition(|p| p.zone_id == z.id);
                        *all = rest;
                        done
                    };
                    let done: Vec<(String, String)> =
                        done.into_iter().map(|p| (p.name, p.value)).collect();
                    self.forget_all(&done);
                    let applied: Vec<ZoneValue> = {
                        let mut all = self.unapplied.borrow_mut();
                        let (done, rest) = all.drain(..).partition(|p| p.zone_id == z.id);
                        *all = rest;
                        done
                    };
                    self.remember_all(
                        applied
                            .iter()
                            .map(|p| Note {
                                zone: &z,
                                name: &p.name,
                                value: &p.value,
                                state: State::Written,
                                id: None,
                            })
                            .collect(),
                    );
                }
                Err(e) => {
                    // A value written again after the journal held it as written
                    // (published once, then dropped by someone) is unpublished now:
                    // `sending` again, so the next run commits its zone.
                    for p in self.unapplied.borrow().iter() {
                        if p.zone_id == z.id
                            && let Some(l) = self.local
                            && l.written_at(&p.name).contains(&p.value)
                        {
                            self.forget(&p.name, &p.value);
                            self.remember(&z, &p.name, &p.value, State::Sending);
                        }
                    }
                    self.mark_dirty(&z);
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn commit_zone(&self, step: &'static str, z: &Zone) -> Result<()> {
        let mut tries = 0;
        loop {
            match self.api.commit(z) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && tries < MAX_COMMIT_RETRIES => {
                    tries += 1;
                    self.report.info(format!(
                        "publishing the changes of zone {}: {e}; trying again",
                        z.name
                    ));
                    self.clock.sleep(self.settings.poll * tries);
                }
                Err(e) => {
                    return Err(api_err(
                        step,
                        &format!("publishing the changes of zone {}", z.name),
                        e,
                    ));
                }
            }
        }
    }

    /// After a removal (or finding the values gone): the journal forgets them
    /// now where a write is served as it lands (OTC), else once the zone's
    /// commit has published the removal.
    pub(super) fn forget_when_published(&self, zone: &Zone, fqdn: &str, values: &[String]) {
        self.forget_all_when_published(&[(zone, fqdn, values)]);
    }

    /// [`forget_when_published`](Self::forget_when_published) for several
    /// names, with one rewrite of the journal.
    pub(super) fn forget_all_when_published(&self, gone: &[(&Zone, &str, &[String])]) {
        if self.api.whole_set_writes() {
            let named: Vec<(String, String)> = gone
                .iter()
                .flat_map(|(_, n, vs)| vs.iter().map(|v| (n.to_string(), v.clone())))
                .collect();
            self.forget_all(&named);
            return;
        }
        let mut pending = self.unpublished.borrow_mut();
        for (zone, fqdn, values) in gone {
            for v in values.iter() {
                pending.push(ZoneValue::new(zone, fqdn, v));
            }
        }
    }

    /// Values gone from the API: forgotten, but where the journal still holds
    /// one of ours and the cloud publishes on commit, an earlier run may have
    /// removed it without publishing the removal: commit the zone again.
    pub(super) fn found_gone(&self, zone: &Zone, fqdn: &str, values: &[String]) {
        let ours = self
            .local
            .is_some_and(|l| values.iter().any(|v| l.holds_unpublished(fqdn, v)));
        if ours && !self.api.whole_set_writes() {
            self.mark_dirty(zone);
        }
        self.forget_when_published(zone, fqdn, values);
    }

    /// Polls a name whose change is not settled until it is: a first read
    /// shortly after, then one per poll interval; `None` when it disappeared.
    pub fn wait_settled(
        &self,
        step: &'static str,
        zone: &Zone,
        at: &TxtSet,
    ) -> Result<Option<TxtSet>> {
        let start = self.clock.elapsed();
        let mut last_said = start;
        // Many changes settle within a fraction of a second; later polls keep to one a second.
        let mut pause = self.settings.poll.min(Duration::from_millis(200));
        loop {
            self.clock.sleep(pause);
            pause = self.settings.poll;
            let set = self
                .api
                .reread(zone, at)
                .map_err(|e| api_err(step, "reading the TXT records", e))?;
            if !set.exists() {
                return Ok(None);
            }
            match &set.status {
                Status::Settled => return Ok(Some(set)),
                Status::Failed(word) => {
                    return Err(Error::failed(
                        step,
                        format!(
                            "TXT {} {} in zone {} is in status {word}",
                            self.api.record_word(),
                            set.name,
                            zone.name
                        ),
                    )
                    .hint(format!(
                        "look at the TXT {} in the DNS console; the service could not apply it",
                        self.api.record_word()
                    )));
                }
                Status::Pending(_) => {}
            }
            let waited = self.clock.elapsed() - start;
            if waited >= self.settings.timeout {
                return Err(Error::failed(
                    step,
                    format!(
                        "TXT {} {} still {} after {}s",
                        self.api.record_word(),
                        set.name,
                        set.status_word(),
                        waited.as_secs()
                    ),
                )
                .hint("raise --propagation-timeout, or check the DNS service status"));
            }
            if self.clock.elapsed() - last_said >= Duration::from_secs(5) {
                last_said = self.clock.elapsed();
                self.report.info(format!(
                    "waiting for {} to become {} ({}, {}s so far)",
                    set.name,
                    self.api.settled_word(),
                    set.status_word(),
                    waited.as_secs()
                ));
            } else {
                self.report.verbose(format!(
                    "{} is {}; polling again",
                    set.name,
                    set.status_word()
                ));
            }
        }
    }

    /// Marks that a write to `zone` was just sent (its outcome may be
    /// unknown); `raceable`: see [`Hook::last_write`].
    pub(super) fn wrote(&self, zone: &Zone, raceable: bool) {
        if raceable && self.api.whole_set_writes() {
            self.last_write.set(Some(self.clock.elapsed()));
        }
        self.mark_dirty(zone);
    }

    /// Values of ours at `fqdn` that an earlier run sent and never saw
    /// published (journaled `Sending`; only where the cloud publishes on
    /// commit): their zone is to be committed, and they become `Written` once
    /// it is. `true` when there were any.
    pub(super) fn adopt_unapplied(&self, zone: &Zone, fqdn: &str, present: &[String]) -> bool {
        self.adopt_unapplied_each(&[(zone, fqdn, present)])[0]
    }

    /// [`adopt_unapplied`](Self::adopt_unapplied) at several names, from one
    /// read of the journal.
    pub(super) fn adopt_unapplied_each(&self, at: &[(&Zone, &str, &[String])]) -> Vec<bool> {
        let Some(l) = self.local else {
            return vec![false; at.len()];
        };
        if self.api.whole_set_writes() {
            return vec![false; at.len()];
        }
        let names: Vec<&str> = at.iter().map(|(_, n, _)| *n).collect();
        let sending = l.sending_at_each(&names);
        at.iter()
            .zip(sending)
            .map(|((zone, fqdn, present), sending)| {
                let sent: Vec<String> = sending
                    .into_iter()
                    .filter(|v| txt::contains(present, v))
                    .collect();
                if sent.is_empty() {
                    return false;
                }
                self.mark_dirty(zone);
                let mut unapplied = self.unapplied.borrow_mut();
                for v in sent {
                    let e = ZoneValue::new(zone, fqdn, &v);
                    if !unapplied.contains(&e) {
                        unapplied.push(e);
                    }
                }
                true
            })
            .collect()
    }

    /// Values that earlier hooks of the certbot run this hook finishes sent to
    /// `fqdn` without committing (more challenges followed): their zone is
    /// committed with ours.
    pub fn adopt_run_values(&self, zone: &Zone, fqdn: &str) {
        if let Some(l) = self.local {
            let sent = l.sending_at(fqdn);
            self.adopt_unapplied(zone, fqdn, &sent);
        }
    }

    /// Notes that `zone` may hold changes to publish: once per zone, so each
    /// is committed once.
    pub(super) fn mark_dirty(&self, zone: &Zone) {
        let mut dirty = self.dirty.borrow_mut();
        if !dirty.iter().any(|z| z.id == zone.id) {
            dirty.push(zone.clone());
        }
    }

    /// One more round after contention: a jittered pause that grows, as long as
    /// the deadline allows; `Err` once it doesn't.
    fn contend(&self, step: &'static str, fqdn: &str, round: &mut u32) -> Result<()> {
        let base =
            (Duration::from_millis(100) * 2u32.pow((*round).min(5))).min(MAX_CONTENTION_PAUSE);
        let pause = self.clock.jittered(base, 1.0);
        if self.clock.elapsed() + pause >= self.settings.deadline {
            return Err(gave_up(step, fqdn, None, self.clock.elapsed().as_secs()));
        }
        *round += 1;
        self.report.verbose(format!(
            "{fqdn} is contended; trying again in {:.1}s",
            pause.as_secs_f64()
        ));
        self.clock.sleep(pause);
        Ok(())
    }

    /// `at` read again right before a change, so a write is computed from a
    /// full, fresh read of that very name, never from a listing alone.
    fn fresh(&self, step: &'static str, zone: &Zone, at: &TxtSet) -> Result<TxtSet> {
        self.api
            .reread(zone, at)
            .map_err(|e| api_err(step, "reading the TXT records", e))
    }

    /// Adds `value` to the TXT set at `fqdn`; with `wait`, commits and returns
    /// once the name is settled and holds it (without, only an unsettled name
    /// is waited for, since it can't be changed before).
    pub fn auth(&self, zone: &Zone, fqdn: &str, value: &str, wait: bool) -> Result<Written> {
        self.auth_many(zone, fqdn, &[value.to_string()], wait)
    }

    /// Adds every one of `values` to the TXT set at `fqdn` with one write (a
    /// certbot run's apex and wildcard share the name); as [`auth`](Self::auth).
    pub fn auth_many(
        &self,
        zone: &Zone,
        fqdn: &str,
        values: &[String],
        wait: bool,
    ) -> Result<Written> {
        const STEP: &str = "auth";
        let shown = values.join(", ");
        let value = shown.as_str();
        let journal = |state| {
            self.remember_all(
                values
                    .iter()
                    .map(|v| Note {
                        zone,
                        name: fqdn,
                        value: v,
                        state,
                        id: None,
                    })
                    .collect(),
            )
        };
        let add_all = |records: &[String]| txt::add_all(records, values);
        let holds_all = |records: &[String]| values.iter().all(|v| txt::contains(records, v));
        let what = if values.len() == 1 { "value" } else { "values" };
        let zone = zone.clone();
        let _guard = self.lock(fqdn)?;
        let mut last: Option<ApiError> = None;
        let mut unknown = 0;
        let mut round = 0;
        loop {
            if unknown >= MAX_ROUNDS {
                return Err(gave_up(STEP, fqdn, last, 0));
            }
            let listed = self.read_one(STEP, &zone, fqdn)?;
            if listed.is_pending() {
                self.report.verbose(format!(
                    "{fqdn} is {}; waiting before changing it",
                    listed.status_word()
                ));
                self.wait_settled(STEP, &zone, &listed)?;
                continue;
            }
            // Nothing listed: a create fails if something appeared meanwhile.
            let before = if listed.exists() {
                let set = self.fresh(STEP, &zone, &listed)?;
                if !set.exists() {
                    self.contend(STEP, fqdn, &mut round)?;
                    continue;
                }
                if set.is_pending() {
                    self.wait_settled(STEP, &zone, &set)?;
                    continue;
                }
                set
            } else {
                listed
            };
            let creating = !before.exists();
            let doing = if creating { "creating" } else { "updating" };
            let mut applied_later = false;
            let set = match add_all(&before.records) {
                None => {
                    self.report
                        .info(format!("TXT {what} {value} already present at {fqdn}"));
                    // Present is not published: a run that died before its
                    // commit left it journaled as sending (OVH, NCP); only then
                    // is the zone committed. Everything in place: nothing to apply.
                    applied_later = self.adopt_unapplied(&zone, fqdn, &before.records);
                    before
                }
                Some(records) => {
                    journal(State::Sending);
                    let written = self.api.write(&zone, &before, &records, self.settings.ttl);
                    self.wrote(&zone, !creating);
                    match written {
                        Ok(set) => {
                            let how = if creating && self.api.whole_set_writes() {
                                format!("new {}", self.api.record_word())
                            } else if creating {
                                plural(records.len(), &format!("new {}", self.api.record_word()))
                            } else {
                                plural(records.len(), "value")
                            };
                            self.report.info(format!(
                                "added TXT {what} {value} at {fqdn} in zone {} ({how})",
                                zone.name
                            ));
                            // The ids the answer names, journaled for the cleanup.
                            for v in values {
                                if let Some(id) = super::types::id_of(&set, v) {
                                    self.remember_id(&zone, fqdn, v, State::Sending, Some(id));
                                }
                            }
                            // Where the cloud publishes on commit, the values stay
                            // `Sending` in the journal until their zone's commit.
                            if !self.api.whole_set_writes() && self.local.is_some() {
                                applied_later = true;
                                let mut unapplied = self.unapplied.borrow_mut();
                                for v in values {
                                    let e = ZoneValue::new(&zone, fqdn, v);
                                    if !unapplied.contains(&e) {
                                        unapplied.push(e);
                                    }
                                }
                            }
                            set
                        }
                        // Something appeared meanwhile (another hook): re-read and add.
                        Err(e) if e.kind() == Kind::Conflict && creating => {
                            let again = self.api.read(&zone, &[fqdn.to_string()]).ok();
                            if !again.is_some_and(|v| v.iter().any(TxtSet::exists)) {
                                return Err(api_err(STEP, &format!("creating {fqdn}"), e).hint(
                                    "another record type (e.g. a CNAME) occupies this name; remove it or delegate the challenge",
                                ));
                            }
                            self.contend(STEP, fqdn, &mut round)?;
                            continue;
                        }
                        // Changed under us: re-read and compute again.
                        Err(e) if e.kind() == Kind::Conflict => {
                            self.contend(STEP, fqdn, &mut round)?;
                            continue;
                        }
                        // Not settled yet (e.g. still going away): wait, re-read.
                        Err(e) if e.kind() == Kind::NotSettled => {
                            if creating {
                                self.report.verbose(format!("{doing} {fqdn}: {e}; waiting"));
                            } else {
                                self.wait_settled(STEP, &zone, &before)?;
                            }
                            self.contend(STEP, fqdn, &mut round)?;
                            continue;
                        }
                        // No answer or a 5xx: the write may have landed. Re-read, never repeat blind.
                        Err(e) if e.is_transient() => {
                            self.report.info(format!(
                                "{doing} {fqdn}: {e}; re-reading before trying again"
                            ));
                            self.clock.sleep(self.settings.poll);
                            last = Some(e);
                            unknown += 1;
                            continue;
                        }
                        Err(e) => return Err(api_err(STEP, &format!("{doing} {fqdn}"), e)),
                    }
                }
            };
            if !applied_later {
                journal(State::Written);
            }
            if !wait {
                return Ok(Written {
                    zone,
                    name: fqdn.to_string(),
                    set,
                });
            }
            self.commit(STEP)?;
            // Done only when the name is settled and still holds our values (a
            // concurrent writer may have replaced the records meanwhile).
            let settled = if set.is_settled() {
                Some(set)
            } else {
                self.wait_settled(STEP, &zone, &set)?
            };
            match settled {
                Some(active) if holds_all(&active.records) => {
                    return Ok(Written {
                        zone,
                        name: fqdn.to_string(),
                        set: active,
                    });
                }
                _ => {
                    self.report
                        .info(format!("{fqdn} changed under us; adding the value again"));
                    self.contend(STEP, fqdn, &mut round)?;
                }
            }
        }
    }

    /// Removes exactly `value` from the TXT set at `fqdn`; nothing is left at
    /// the name only when ours was its last value. Absent value or set:
    /// success. `Ok(true)` when a removal was sent. The caller commits.
    pub fn cleanup(&self, zone: &Zone, fqdn: &str, value: &str) -> Result<bool> {
        self.cleanup_many(zone, fqdn, &[value.to_string()])
    }

    /// Removes every one of `values` from the TXT set at `fqdn` with one write;
    /// as [`cleanup`](Self::cleanup).
    pub fn cleanup_many(&self, zone: &Zone, fqdn: &str, values: &[String]) -> Result<bool> {
        const STEP: &str = "cleanup";
        let shown = values.join(", ");
        let value = shown.as_str();
        let what = if values.len() == 1 { "value" } else { "values" };
        let remove_all = |records: &[String]| txt::remove_all(records, values);
        let holds_any = |records: &[String]| values.iter().any(|v| txt::contains(records, v));
        let _guard = self.lock(fqdn)?;
        let mut last: Option<ApiError> = None;
        let mut unknown = 0;
        let mut round = 0;
        let mut sent = false;
        loop {
            if unknown >= MAX_ROUNDS {
                return Err(gave_up(STEP, fqdn, last, 0));
            }
            let listed = self.read_one(STEP, zone, fqdn)?;
            if !listed.exists() {
                self.report
                    .info(format!("no TXT record at {fqdn}; nothing to remove"));
                self.found_gone(zone, fqdn, values);
                return Ok(sent);
            }
            if !holds_any(&listed.records) {
                self.report.info(format!(
                    "TXT {what} {value} not present at {fqdn}; nothing to remove"
                ));
                self.found_gone(zone, fqdn, values);
                return Ok(sent);
            }
            if listed.is_pending() {
                self.report.verbose(format!(
                    "{fqdn} is {}; waiting before changing it",
                    listed.status_word()
                ));
                self.wait_settled(STEP, zone, &listed)?;
                continue;
            }
            let set = self.fresh(STEP, zone, &listed)?;
            if !set.exists() {
                self.contend(STEP, fqdn, &mut round)?;
                continue;
            }
            if set.is_pending() {
                self.wait_settled(STEP, zone, &set)?;
                continue;
            }
            let (rest, said) = match remove_all(&set.records) {
                // Gone between the listing and the fresh read: read again.
                Removal::Absent => continue,
                Removal::Update(rest) => {
                    let said = format!(
                        "removed TXT {what} {value} from {fqdn} in zone {} ({} left)",
                        zone.name,
                        plural(rest.len(), "value")
                    );
                    (rest, said)
                }
                Removal::DeleteSet => (
                    Vec::new(),
                    format!(
                        "removed TXT {what} {value} from {fqdn} in zone {} (last value: {} deleted)",
                        zone.name,
                        self.api.record_word()
                    ),
                ),
            };
            let result = self.api.write(zone, &set, &rest, self.settings.ttl);
            self.wrote(zone, !rest.is_empty());
            sent = true;
            match result {
                Ok(_) => {
                    self.report.info(said);
                    self.forget_when_published(zone, fqdn, values);
                    return Ok(true);
                }
                Err(e) if e.kind() == Kind::NotSettled => {
                    self.wait_settled(STEP, zone, &set)?;
                    self.contend(STEP, fqdn, &mut round)?;
                }
                Err(e) if e.kind() == Kind::Conflict => {
                    self.contend(STEP, fqdn, &mut round)?;
                }
                Err(e) if e.is_transient() => {
                    self.report.info(format!(
                        "changing {fqdn}: {e}; re-reading before trying again"
                    ));
                    self.clock.sleep(self.settings.poll);
                    last = Some(e);
                    unknown += 1;
                }
                Err(e) => return Err(api_err(STEP, &format!("changing {fqdn}"), e)),
            }
        }
    }
}

/// The flow against each provider shape's in-memory fake: every test below
/// runs once per shape (see `each_shape!`), on a fake clock.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::fake::{Fake, Fault, SetFake};
    use crate::host_state::{Entry, HostState, STALE_AFTER_SECS};
    use crate::report::{Capture, Level};

    const NAME: &str = "_acme-challenge.example.com.";
    const T0: u64 = 1_800_000_000;

    /// A fake, a clock and a report that outlive the hook borrowing them.
    struct Rig<F> {
        fake: F,
        clock: FakeClock,
        out: Capture,
        report: Report,
    }

    fn rig<F: Fake>() -> Rig<F> {
        let out = Capture::default();
        Rig {
            fake: F::fresh(),
            clock: FakeClock::new(T0),
            report: Report::new(Level::Verbose, Box::new(out.clone())),
            out,
        }
    }

    fn hook<'a, F: Fake>(r: &'a Rig<F>, local: Option<&'a HostState>) -> Hook<'a> {
        Hook::new(
            &r.fake,
            &r.clock,
            &r.report,
            Settings {
                ttl: 300,
                zone: None,
                timeout: Duration::from_secs(60),
                poll: Duration::from_secs(1),
                deadline: Duration::from_secs(120),
                parallel: 1,
            },
            local,
        )
    }

    fn vals(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    /// A private state directory of its own for each test and shape.
    fn local(test: &str, shape: &str) -> (std::path::PathBuf, HostState) {
        let d = std::env::temp_dir().join(format!(
            "otc-hook-{}-{test}-{}",
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

    /// certbot's apex and wildcard share the name: both values, one write.
    fn apex_and_wildcard_values_go_in_one_write<F: Fake>() {
        let r = rig::<F>();
        let h = hook(&r, None);
        let z = h.find_zone("auth", NAME).unwrap();
        assert_eq!(z, r.fake.zone());
        let w = h
            .auth_many(&z, NAME, &vals(&["apex", "wild"]), true)
            .unwrap();
        assert_eq!(r.fake.values(NAME), vals(&["apex", "wild"]), "{}", F::SHAPE);
        assert_eq!(r.fake.writes(), 1, "one write for the name");
        assert!(w.set.is_settled());
        assert!(txt::contains(&w.set.records, "apex") && txt::contains(&w.set.records, "wild"));
    }

    /// A value someone else put at the name survives auth, a cleanup, and the
    /// cleanup of the last of our values; only when none is left does the name go.
    fn foreign_value_kept_on_every_path<F: Fake>() {
        let r = rig::<F>();
        r.fake.seed(NAME, &["theirs"]);
        let h = hook(&r, None);
        let z = r.fake.zone();
        h.auth_many(&z, NAME, &vals(&["a", "b"]), true).unwrap();
        assert_eq!(r.fake.values(NAME), vals(&["theirs", "a", "b"]));
        assert!(h.cleanup(&z, NAME, "a").unwrap());
        assert_eq!(r.fake.values(NAME), vals(&["theirs", "b"]));
        // The last of ours: the name keeps the foreign value.
        assert!(h.cleanup(&z, NAME, "b").unwrap());
        assert_eq!(r.fake.values(NAME), vals(&["theirs"]));
        h.commit("cleanup").unwrap();
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["theirs"]));
        assert_eq!(r.fake.writes(), 3);

        // Without a foreign value, the last of ours leaves nothing.
        let r = rig::<F>();
        let h = hook(&r, None);
        h.auth(&z, NAME, "a", true).unwrap();
        assert!(h.cleanup(&z, NAME, "a").unwrap());
        h.commit("cleanup").unwrap();
        r.fake.time_passes();
        assert!(r.fake.values(NAME).is_empty());
        assert!(r.fake.served(NAME).is_empty());
    }

    /// A second auth of the same value writes nothing; an auth_many of which
    /// one value is there writes only the other.
    fn rerun_writes_nothing<F: Fake>() {
        let r = rig::<F>();
        let h = hook(&r, None);
        let z = r.fake.zone();
        h.auth(&z, NAME, "a", true).unwrap();
        let w = h.auth(&z, NAME, "a", true).unwrap();
        assert_eq!(r.fake.writes(), 1, "the re-run wrote nothing");
        assert!(txt::contains(&w.set.records, "a"));
        assert!(r.out.text().contains("already present"), "{}", r.out.text());
        h.auth_many(&z, NAME, &vals(&["a", "b"]), true).unwrap();
        assert_eq!(r.fake.writes(), 2);
        assert_eq!(r.fake.values(NAME), vals(&["a", "b"]));
    }

    /// Cleanup of a value that is gone (no name, or only others' values): Ok,
    /// nothing written.
    fn cleanup_when_gone_writes_nothing<F: Fake>() {
        let r = rig::<F>();
        let h = hook(&r, None);
        let z = r.fake.zone();
        assert!(!h.cleanup(&z, NAME, "a").unwrap());
        r.fake.seed(NAME, &["theirs"]);
        assert!(!h.cleanup(&z, NAME, "a").unwrap());
        assert!(!h.cleanup_many(&z, NAME, &vals(&["a", "b"])).unwrap());
        assert_eq!(r.fake.writes(), 0);
        assert_eq!(r.fake.values(NAME), vals(&["theirs"]));
        assert!(h.dirty.borrow().is_empty(), "nothing to commit");
    }

    /// Another writer changes the name between our read and our write: the
    /// flow re-reads and computes again, and both values end up there.
    fn conflict_rereads_and_keeps_both<F: Fake>() {
        // Creating (nothing at the name when read).
        let r = rig::<F>();
        let h = hook(&r, None);
        let z = r.fake.zone();
        r.fake.inject(Fault::Foreign("theirs".into()));
        h.auth(&z, NAME, "ours", true).unwrap();
        assert_eq!(
            sorted(r.fake.values(NAME)),
            vals(&["ours", "theirs"]),
            "{}",
            F::SHAPE
        );
        assert_eq!(
            r.fake.writes(),
            2,
            "refused once, then written from a fresh read"
        );
        assert_eq!(r.fake.served(NAME).len(), 2);

        // Updating, and again on cleanup.
        let r = rig::<F>();
        r.fake.seed(NAME, &["old"]);
        let h = hook(&r, None);
        r.fake.inject(Fault::Foreign("theirs".into()));
        h.auth(&z, NAME, "ours", true).unwrap();
        assert_eq!(
            sorted(r.fake.values(NAME)),
            vals(&["old", "ours", "theirs"])
        );
        r.fake.inject(Fault::Foreign("later".into()));
        assert!(h.cleanup(&z, NAME, "ours").unwrap());
        assert_eq!(
            sorted(r.fake.values(NAME)),
            vals(&["later", "old", "theirs"])
        );
        assert_eq!(r.fake.writes(), 4);
    }

    /// A write that landed but answered 503 is re-read, not repeated: exactly
    /// one write call, the value there, Ok; the same for a cleanup.
    fn unknown_outcome_rereads_not_repeats<F: Fake>() {
        let r = rig::<F>();
        r.fake.seed(NAME, &["theirs"]);
        let h = hook(&r, None);
        let z = r.fake.zone();
        r.fake.inject(Fault::LandedButTransient);
        let reads = r.fake.reads();
        let w = h.auth(&z, NAME, "ours", true).unwrap();
        assert_eq!(r.fake.writes(), 1, "{}: not repeated", F::SHAPE);
        assert!(
            r.fake.reads() > reads + 2,
            "re-read after the unknown outcome"
        );
        assert_eq!(r.fake.values(NAME), vals(&["theirs", "ours"]));
        assert!(txt::contains(&w.set.records, "ours"));
        assert!(r.out.text().contains("re-reading before trying again"));

        r.fake.inject(Fault::LandedButTransient);
        assert!(h.cleanup(&z, NAME, "ours").unwrap());
        assert_eq!(r.fake.writes(), 2, "the cleanup not repeated either");
        assert_eq!(r.fake.values(NAME), vals(&["theirs"]));

        // A write that did not land is sent again after the re-read.
        r.fake.inject(Fault::Transient);
        h.auth(&z, NAME, "ours", true).unwrap();
        assert_eq!(r.fake.writes(), 4);
        assert_eq!(r.fake.values(NAME), vals(&["theirs", "ours"]));
    }

    /// auth with wait commits the zone once and then it serves the values;
    /// without wait nothing is committed until `commit`, and a commit that
    /// fails is retried on its own, never by writing again.
    fn commit_publishes_once<F: Fake>() {
        let r = rig::<F>();
        let h = hook(&r, None);
        let z = r.fake.zone();
        h.auth_many(&z, NAME, &vals(&["a", "b"]), true).unwrap();
        assert_eq!(r.fake.commits(), 1, "{}", F::SHAPE);
        assert_eq!(r.fake.served(NAME), vals(&["a", "b"]));
        assert!(h.dirty.borrow().is_empty());

        let other = "_acme-challenge.www.example.com.";
        h.auth(&z, other, "c", false).unwrap();
        assert_eq!(r.fake.commits(), 1, "no commit without wait");
        if F::SERVED_ON_COMMIT {
            assert!(
                r.fake.served(other).is_empty(),
                "not served before the commit"
            );
        }
        assert_eq!(h.dirty.borrow().len(), 1);
        r.fake.fail_commits(2);
        h.commit("auth").unwrap();
        assert_eq!(r.fake.commits(), 4, "two failed tries, then one");
        assert_eq!(r.fake.writes(), 2, "a failed commit is not a new write");
        r.fake.time_passes();
        assert_eq!(r.fake.served(other), vals(&["c"]));
        h.commit("auth").unwrap();
        assert_eq!(r.fake.commits(), 4, "nothing dirty, nothing sent");
    }

    /// The sweep removes the journal's values over a day old (and forgets
    /// them), keeps a fresh one and a foreign value.
    fn sweep_removes_only_day_old_values<F: Fake>() {
        let r = rig::<F>();
        r.fake.seed(NAME, &["theirs", "old", "fresh"]);
        let (d, l) = local("sweep", F::SHAPE);
        let z = r.fake.zone();
        let entry = |t: u64, value: &str| Entry {
            id: None,
            t: t as i64,
            endpoint: l.endpoint.clone(),
            zone_id: z.id.clone(),
            zone_name: z.name.clone(),
            name: NAME.into(),
            value: value.into(),
            state: State::Written,
            run: None,
        };
        l.record(entry(T0 - 2 * STALE_AFTER_SECS as u64, "old"))
            .unwrap();
        l.record(entry(T0 - 3600, "fresh")).unwrap();
        let h = hook(&r, Some(&l));
        h.sweep();
        assert_eq!(
            r.fake.values(NAME),
            vals(&["theirs", "fresh"]),
            "{}",
            F::SHAPE
        );
        assert_eq!(r.fake.writes(), 1);
        h.commit("auth").unwrap();
        assert_eq!(l.written_at(NAME), vals(&["fresh"]));
        assert!(
            l.stale(T0 as i64).is_empty(),
            "the removed value is forgotten once its removal is published"
        );
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["theirs", "fresh"]));
        // Nothing stale left: a second sweep does nothing.
        h.sweep();
        assert_eq!(r.fake.writes(), 1);
        std::fs::remove_dir_all(d).ok();
    }

    /// auth journals its values as written; cleanup forgets them.
    fn journal_follows_auth_and_cleanup<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("journal", F::SHAPE);
        let h = hook(&r, Some(&l));
        let z = r.fake.zone();
        h.auth_many(&z, NAME, &vals(&["a", "b"]), false).unwrap();
        // Where the cloud publishes on commit, a value is sending until then.
        if r.fake.whole_set_writes() {
            assert_eq!(sorted(l.written_at(NAME)), vals(&["a", "b"]));
        } else {
            assert!(l.written_at(NAME).is_empty(), "{}", F::SHAPE);
            assert_eq!(sorted(l.sending_at(NAME)), vals(&["a", "b"]));
        }
        h.commit("auth").unwrap();
        assert_eq!(sorted(l.written_at(NAME)), vals(&["a", "b"]));
        assert!(l.sending_at(NAME).is_empty());
        h.cleanup_many(&z, NAME, &vals(&["a", "b"])).unwrap();
        // Where a removal waits for the commit, so does the journal.
        assert_eq!(
            l.holds(NAME, "a"),
            !r.fake.whole_set_writes(),
            "{}",
            F::SHAPE
        );
        h.commit("cleanup").unwrap();
        assert!(l.written_at(NAME).is_empty());
        assert!(!l.holds(NAME, "a") && !l.holds(NAME, "b"));
        assert!(r.fake.values(NAME).is_empty());
        std::fs::remove_dir_all(d).ok();
    }

    /// Two leftovers in one zone: each removed, the zone committed once.
    fn sweep_commits_each_zone_once<F: Fake>() {
        let r = rig::<F>();
        let www = "_acme-challenge.www.example.com.";
        r.fake.seed(NAME, &["old1"]);
        r.fake.seed(www, &["old2", "theirs"]);
        let (d, l) = local("sweep2", F::SHAPE);
        let z = r.fake.zone();
        for (name, value) in [(NAME, "old1"), (www, "old2")] {
            l.record(Entry {
                id: None,
                t: (T0 - 2 * STALE_AFTER_SECS as u64) as i64,
                endpoint: l.endpoint.clone(),
                zone_id: z.id.clone(),
                zone_name: z.name.clone(),
                name: name.into(),
                value: value.into(),
                state: State::Written,
                run: None,
            })
            .unwrap();
        }
        let h = hook(&r, Some(&l));
        h.sweep();
        assert_eq!(r.fake.writes(), 2);
        h.commit("auth").unwrap();
        assert_eq!(r.fake.commits(), 1, "{}: one commit per zone", F::SHAPE);
        r.fake.time_passes();
        assert!(r.fake.served(NAME).is_empty());
        assert_eq!(r.fake.served(www), vals(&["theirs"]));
        std::fs::remove_dir_all(d).ok();
    }

    /// A run that wrote and never committed (killed, or its commit failed):
    /// the re-run finds the value there and still gets it published.
    fn rerun_after_an_unpublished_write_commits<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("rerun-unpublished", F::SHAPE);
        let h = hook(&r, Some(&l));
        let z = r.fake.zone();
        h.auth(&z, NAME, "a", false).unwrap();
        assert_eq!(r.fake.commits(), 0);
        // Even where an apply with nothing pending would be refused.
        r.fake.refuse_empty_commits();
        let again = hook(&r, Some(&l));
        again.auth(&z, NAME, "a", true).unwrap();
        assert_eq!(r.fake.writes(), 1, "nothing written again");
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["a"]), "{}", F::SHAPE);
        if !r.fake.whole_set_writes() {
            assert_eq!(r.fake.commits(), 1, "{}: the crashed run's zone", F::SHAPE);
        }
        assert_eq!(l.written_at(NAME), vals(&["a"]), "published: written");
        std::fs::remove_dir_all(d).ok();
    }

    /// A run whose commit failed every try: the re-run, finding its value
    /// present and journaled as sending, commits the zone (a real apply,
    /// never an empty one).
    fn rerun_after_a_failed_commit_commits_once<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("rerun-failed-commit", F::SHAPE);
        let z = r.fake.zone();
        let h = hook(&r, Some(&l));
        r.fake.fail_commits(10);
        assert!(h.auth(&z, NAME, "a", true).is_err());
        let failed = r.fake.commits();
        r.fake.fail_commits(0);
        r.fake.refuse_empty_commits();
        let again = hook(&r, Some(&l));
        again.auth(&z, NAME, "a", true).unwrap();
        assert_eq!(r.fake.writes(), 1, "nothing written again");
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["a"]), "{}", F::SHAPE);
        // OTC serves a write as it lands: nothing is left to commit there.
        let once = failed + u32::from(!r.fake.whole_set_writes());
        assert_eq!(r.fake.commits(), once, "{}", F::SHAPE);
        // Now published: a third run has nothing to apply.
        hook(&r, Some(&l)).auth(&z, NAME, "a", true).unwrap();
        assert_eq!(r.fake.commits(), once, "{}", F::SHAPE);
        std::fs::remove_dir_all(d).ok();
    }

    /// A value published once, dropped by someone, and written again by a run
    /// whose commit then fails: journaled as sending again, so the next run
    /// (finding it present) commits its zone.
    fn rewritten_value_whose_commit_failed_is_committed_by_the_next_run<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("rewritten", F::SHAPE);
        let z = r.fake.zone();
        hook(&r, Some(&l)).auth(&z, NAME, "a", true).unwrap();
        assert_eq!(l.written_at(NAME), vals(&["a"]));
        // Someone removes it (and publishes that).
        let at = r.fake.read(&z, &[NAME.to_string()]).unwrap().pop().unwrap();
        r.fake.time_passes();
        r.fake.write(&z, &at, &[], 300).unwrap();
        r.fake.commit(&z).unwrap();
        r.fake.time_passes();
        r.fake.fail_commits(10);
        let h = hook(&r, Some(&l));
        assert!(h.auth(&z, NAME, "a", true).is_err());
        r.fake.fail_commits(0);
        r.fake.refuse_empty_commits();
        let commits = r.fake.commits();
        hook(&r, Some(&l)).auth(&z, NAME, "a", true).unwrap();
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["a"]), "{}", F::SHAPE);
        if !r.fake.whole_set_writes() {
            assert_eq!(r.fake.commits(), commits + 1, "{}", F::SHAPE);
        }
        std::fs::remove_dir_all(d).ok();
    }

    /// A re-run that finds everything in place (its value present and
    /// published, or someone else's identical value) commits nothing: it
    /// passes where an apply with nothing pending is refused.
    fn rerun_with_everything_in_place_commits_nothing<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("rerun-in-place", F::SHAPE);
        let z = r.fake.zone();
        hook(&r, Some(&l)).auth(&z, NAME, "a", true).unwrap();
        let after_first = r.fake.commits();
        r.fake.time_passes();
        r.fake.refuse_empty_commits();
        let again = hook(&r, Some(&l));
        again.auth(&z, NAME, "a", true).unwrap();
        again.commit("auth").unwrap();
        assert_eq!(
            r.fake.commits(),
            after_first,
            "{}: nothing to apply",
            F::SHAPE
        );
        assert!(again.dirty.borrow().is_empty());
        // A value present that the journal never held (another tool's): no commit.
        r.fake.seed("_acme-challenge.www.example.com.", &["theirs"]);
        let other = hook(&r, Some(&l));
        other
            .auth(&z, "_acme-challenge.www.example.com.", "theirs", true)
            .unwrap();
        assert_eq!(r.fake.commits(), after_first, "{}", F::SHAPE);
        // Without a journal (unit use), nothing can be unpublished of ours.
        hook(&r, None).auth(&z, NAME, "a", true).unwrap();
        assert_eq!(r.fake.commits(), after_first, "{}", F::SHAPE);
        assert_eq!(r.fake.writes(), 1);
        std::fs::remove_dir_all(d).ok();
    }

    /// Only zones a run changed are committed: a cleanup of a value already
    /// gone (and not journaled) and an auth whose value is present commit
    /// nothing; a write commits its zone once.
    fn only_changed_zones_are_committed<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("only-changed", F::SHAPE);
        let z = r.fake.zone();
        r.fake.seed(NAME, &["present"]);
        r.fake.refuse_empty_commits();
        let h = hook(&r, Some(&l));
        assert!(!h.cleanup(&z, NAME, "gone").unwrap());
        h.auth(&z, NAME, "present", false).unwrap();
        h.commit("auth").unwrap();
        assert_eq!(r.fake.commits(), 0, "{}", F::SHAPE);
        h.auth(&z, NAME, "new", false).unwrap();
        h.commit("auth").unwrap();
        assert_eq!(r.fake.commits(), 1, "{}", F::SHAPE);
        std::fs::remove_dir_all(d).ok();
    }

    /// A cleanup whose removal was never published (its commit failed every
    /// try): the journal keeps the value, and the re-run, finding it gone from
    /// the API, still publishes the removal.
    fn cleanup_rerun_after_a_failed_commit_publishes<F: Fake>() {
        let r = rig::<F>();
        let (d, l) = local("unpublished", F::SHAPE);
        let z = r.fake.zone();
        hook(&r, Some(&l)).auth(&z, NAME, "a", true).unwrap();
        r.fake.time_passes();
        assert_eq!(r.fake.served(NAME), vals(&["a"]));
        let h = hook(&r, Some(&l));
        h.cleanup(&z, NAME, "a").unwrap();
        r.fake.fail_commits(10);
        assert!(h.commit("cleanup").is_err());
        if !r.fake.whole_set_writes() {
            assert!(
                l.holds(NAME, "a"),
                "{}: forgotten before published",
                F::SHAPE
            );
        }
        r.fake.fail_commits(0);
        let again = hook(&r, Some(&l));
        assert!(!again.cleanup(&z, NAME, "a").unwrap(), "nothing to remove");
        again.commit("cleanup").unwrap();
        r.fake.time_passes();
        assert!(r.fake.served(NAME).is_empty(), "{}", F::SHAPE);
        assert!(!l.holds(NAME, "a"), "forgotten once published");
        std::fs::remove_dir_all(d).ok();
    }

    /// A set that never settles: auth gives up at the timeout, on the fake
    /// clock (no real sleep), having written once.
    #[test]
    fn unsettled_set_times_out() {
        let out = Capture::default();
        let r = Rig {
            fake: SetFake::new(u32::MAX),
            clock: FakeClock::new(T0),
            report: Report::new(Level::Verbose, Box::new(out.clone())),
            out,
        };
        let h = hook(&r, None);
        let e = h.auth(&r.fake.zone(), NAME, "a", true).unwrap_err();
        assert!(
            e.cause.contains("still PENDING_CREATE after 60s"),
            "{}",
            e.cause
        );
        assert_eq!(r.fake.writes(), 1);
        assert!(r.clock.elapsed() >= Duration::from_secs(60));
        assert!(r.out.text().contains("waiting for"), "{}", r.out.text());
    }

    crate::fake::each_shape!(
        apex_and_wildcard_values_go_in_one_write,
        foreign_value_kept_on_every_path,
        rerun_writes_nothing,
        cleanup_when_gone_writes_nothing,
        conflict_rereads_and_keeps_both,
        unknown_outcome_rereads_not_repeats,
        commit_publishes_once,
        sweep_removes_only_day_old_values,
        journal_follows_auth_and_cleanup,
        sweep_commits_each_zone_once,
        rerun_after_an_unpublished_write_commits,
        rerun_after_a_failed_commit_commits_once,
        rerun_with_everything_in_place_commits_nothing,
        rewritten_value_whose_commit_failed_is_committed_by_the_next_run,
        only_changed_zones_are_committed,
        cleanup_rerun_after_a_failed_commit_publishes,
    );
}
