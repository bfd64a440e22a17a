//! The hook flows: `auth` adds our value to the TXT set, `cleanup` removes
//! exactly our value. Every other value of the set survives every path.

use std::time::Duration;

use crate::clock::Clock;
use crate::dns_api::{ApiError, DnsBackend, RecordSet, Zone};
use crate::error::{Error, Result};
use crate::local::{Entry, Guard, Local};
use crate::report::Report;
use crate::txt::{self, Removal};
use crate::zone;

/// Description of the recordsets we create.
pub const DESCRIPTION: &str = "ACME DNS-01 challenge; managed by otc-acme-hook";

/// Re-reads after a conflict before giving up (each one follows a real change by someone else).
const MAX_ROUNDS: u32 = 8;

#[derive(Debug, Clone)]
pub struct Settings {
    /// TTL of a recordset we create (existing sets keep theirs).
    pub ttl: u32,
    /// Forced zone name, instead of discovery.
    pub zone: Option<String>,
    /// How long to wait for a set to become `ACTIVE`.
    pub timeout: Duration,
    /// Interval between API polls (at most one request per second).
    pub poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ttl: 300,
            zone: None,
            timeout: Duration::from_secs(300),
            poll: Duration::from_secs(1),
        }
    }
}

/// The flows, over a backend, a clock and a report.
pub struct Hook<'a> {
    pub api: &'a dyn DnsBackend,
    pub clock: &'a dyn Clock,
    pub report: &'a Report,
    pub settings: Settings,
    /// Lock directory and journal; `None` in unit tests.
    pub local: Option<&'a Local>,
}

/// Where a value was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub zone: Zone,
    pub name: String,
    pub set: RecordSet,
}

/// The error after the last round: the last API failure if there was one,
/// else someone kept changing the set.
fn gave_up(step: &'static str, fqdn: &str, last: Option<ApiError>) -> Error {
    match last {
        Some(e) => api_err(
            step,
            &format!("{fqdn}: gave up after {MAX_ROUNDS} rounds"),
            e,
        ),
        None => Error::failed(
            step,
            format!("{fqdn} kept changing under us; gave up after {MAX_ROUNDS} rounds"),
        )
        .hint("another process is editing this recordset; retry later"),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn api_err(step: &'static str, what: &str, e: ApiError) -> Error {
    Error::failed(step, format!("{what}: {e}")).hint_opt(e.hint())
}

impl Hook<'_> {
    fn lock(&self, fqdn: &str) -> Result<Option<Guard>> {
        self.local.map(|l| l.lock(fqdn)).transpose()
    }

    /// Journals a value we wrote; a failure to journal never fails the hook.
    fn remember(&self, zone: &Zone, fqdn: &str, value: &str) {
        if let Some(l) = self.local {
            let e = Entry {
                t: self.clock.unix_secs(),
                endpoint: l.endpoint.clone(),
                zone_id: zone.id.clone(),
                zone_name: zone.name.clone(),
                name: fqdn.to_string(),
                value: value.to_string(),
            };
            if let Err(err) = l.record(e) {
                self.report.warn(format!("journal: {err}"));
            }
        }
    }

    fn forget(&self, fqdn: &str, value: &str) {
        if let Some(l) = self.local
            && let Err(err) = l.forget(fqdn, value)
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
                zone_type: None,
            };
            let short = Hook {
                settings: Settings {
                    timeout: Duration::from_secs(10),
                    ..self.settings.clone()
                },
                ..*self
            };
            self.report.info(format!(
                "removing a leftover value {} at {} (added over a day ago, never cleaned up)",
                e.value, e.name
            ));
            if let Err(err) = short.cleanup(&z, &e.name, &e.value) {
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
            let zones = self
                .api
                .public_zones(want.trim_end_matches('.'))
                .map_err(|e| api_err(step, "listing zones", e))?;
            let z = zones
                .into_iter()
                .find(|z| zone::absolute(&z.name) == want)
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
            .public_zones(&zone::listing_filter(fqdn))
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

    /// Polls a set known to be `PENDING_*` until it is `ACTIVE`: a first read
    /// shortly after, then one per poll interval; `None` when it disappeared.
    pub fn wait_active(
        &self,
        step: &'static str,
        zone: &Zone,
        id: &str,
    ) -> Result<Option<RecordSet>> {
        let start = self.clock.elapsed();
        let mut last_said = start;
        // Many changes settle within a fraction of a second; later polls keep to one a second.
        let mut pause = self.settings.poll.min(Duration::from_millis(200));
        loop {
            self.clock.sleep(pause);
            pause = self.settings.poll;
            let set = self
                .api
                .get(zone, id)
                .map_err(|e| api_err(step, "reading the recordset", e))?;
            let Some(set) = set else { return Ok(None) };
            if set.is_active() {
                return Ok(Some(set));
            }
            if set.status() == "ERROR" {
                return Err(Error::failed(
                    step,
                    format!(
                        "recordset {} in zone {} is in status ERROR",
                        set.name, zone.name
                    ),
                )
                .hint("look at the recordset in the DNS console; the service could not apply it"));
            }
            let waited = self.clock.elapsed() - start;
            if waited >= self.settings.timeout {
                return Err(Error::failed(
                    step,
                    format!(
                        "recordset {} still {} after {}s",
                        set.name,
                        set.status(),
                        waited.as_secs()
                    ),
                )
                .hint("raise --propagation-timeout, or check the DNS service status"));
            }
            if self.clock.elapsed() - last_said >= Duration::from_secs(5) {
                last_said = self.clock.elapsed();
                self.report.info(format!(
                    "waiting for {} to become ACTIVE ({}, {}s so far)",
                    set.name,
                    set.status(),
                    waited.as_secs()
                ));
            } else {
                self.report
                    .verbose(format!("{} is {}; polling again", set.name, set.status()));
            }
        }
    }

    /// Adds `value` to the TXT set at `fqdn`; with `wait`, returns once the set
    /// is `ACTIVE` and holds it (without, only a `PENDING_*` set is waited for,
    /// since it can't be changed before).
    pub fn auth(&self, zone: &Zone, fqdn: &str, value: &str, wait: bool) -> Result<Written> {
        const STEP: &str = "auth";
        let zone = zone.clone();
        let _guard = self.lock(fqdn)?;
        let mut last: Option<ApiError> = None;
        for _ in 0..MAX_ROUNDS {
            let found = self
                .api
                .find_txt(&zone, fqdn)
                .map_err(|e| api_err(STEP, "reading the TXT recordset", e))?;
            let set = match found {
                None => {
                    let records = [txt::quote(value)];
                    match self
                        .api
                        .create_txt(&zone, fqdn, self.settings.ttl, &records, DESCRIPTION)
                    {
                        Ok(set) => {
                            self.report.info(format!(
                                "added TXT value {value} at {fqdn} in zone {} (new recordset)",
                                zone.name
                            ));
                            set
                        }
                        // The set appeared meanwhile (another hook): re-read and add.
                        Err(e) if e.is_exists() => {
                            if self.api.find_txt(&zone, fqdn).ok().flatten().is_none() {
                                return Err(api_err(STEP, &format!("creating {fqdn}"), e).hint(
                                    "another record type (e.g. a CNAME) occupies this name; remove it or delegate the challenge",
                                ));
                            }
                            continue;
                        }
                        // A set of that name is still going away (PENDING_DELETE): wait, re-read.
                        Err(e) if e.is_not_steady() => {
                            self.report
                                .verbose(format!("creating {fqdn}: {e}; waiting"));
                            self.clock.sleep(self.settings.poll);
                            continue;
                        }
                        // No answer or a 5xx: the POST may have landed. Re-read, never re-POST blindly.
                        Err(e) if e.is_transient() => {
                            self.report.info(format!(
                                "creating {fqdn}: {e}; re-reading before trying again"
                            ));
                            self.clock.sleep(self.settings.poll);
                            last = Some(e);
                            continue;
                        }
                        Err(e) => return Err(api_err(STEP, &format!("creating {fqdn}"), e)),
                    }
                }
                Some(set) if set.is_pending() => {
                    self.report.verbose(format!(
                        "{fqdn} is {}; waiting before changing it",
                        set.status()
                    ));
                    self.wait_active(STEP, &zone, &set.id)?;
                    continue;
                }
                Some(set) => match txt::add(&set.records, value) {
                    None => {
                        self.report
                            .info(format!("TXT value {value} already present at {fqdn}"));
                        set
                    }
                    Some(records) => match self.api.update_records(&zone, &set, &records) {
                        Ok(updated) => {
                            self.report.info(format!(
                                "added TXT value {value} at {fqdn} in zone {} ({})",
                                zone.name,
                                plural(records.len(), "value")
                            ));
                            updated
                        }
                        Err(e) if e.is_not_steady() => {
                            self.wait_active(STEP, &zone, &set.id)?;
                            continue;
                        }
                        Err(e) if e.code() == Some("DNS.0313") => continue,
                        Err(e) if e.is_transient() => {
                            self.report.info(format!(
                                "updating {fqdn}: {e}; re-reading before trying again"
                            ));
                            self.clock.sleep(self.settings.poll);
                            last = Some(e);
                            continue;
                        }
                        Err(e) => return Err(api_err(STEP, &format!("updating {fqdn}"), e)),
                    },
                },
            };
            self.remember(&zone, fqdn, value);
            if !wait {
                return Ok(Written {
                    zone,
                    name: fqdn.to_string(),
                    set,
                });
            }
            // Done only when the set is ACTIVE and still holds our value (a
            // concurrent writer may have replaced the records meanwhile).
            let settled = if set.is_active() {
                Some(set)
            } else {
                self.wait_active(STEP, &zone, &set.id)?
            };
            match settled {
                Some(active) if txt::contains(&active.records, value) => {
                    return Ok(Written {
                        zone,
                        name: fqdn.to_string(),
                        set: active,
                    });
                }
                _ => {
                    self.report
                        .info(format!("{fqdn} changed under us; adding the value again"));
                }
            }
        }
        Err(gave_up(STEP, fqdn, last))
    }

    /// Removes exactly `value` from the TXT set at `fqdn`; deletes the set only
    /// when ours was its last value. Absent value or set: success.
    pub fn cleanup(&self, zone: &Zone, fqdn: &str, value: &str) -> Result<()> {
        const STEP: &str = "cleanup";
        let _guard = self.lock(fqdn)?;
        let mut last: Option<ApiError> = None;
        for _ in 0..MAX_ROUNDS {
            let found = self
                .api
                .find_txt(zone, fqdn)
                .map_err(|e| api_err(STEP, "reading the TXT recordset", e))?;
            let Some(set) = found else {
                self.report
                    .info(format!("no TXT recordset at {fqdn}; nothing to remove"));
                self.forget(fqdn, value);
                return Ok(());
            };
            if !txt::contains(&set.records, value) {
                self.report.info(format!(
                    "TXT value {value} not present at {fqdn}; nothing to remove"
                ));
                self.forget(fqdn, value);
                return Ok(());
            }
            if set.is_pending() {
                self.report.verbose(format!(
                    "{fqdn} is {}; waiting before changing it",
                    set.status()
                ));
                self.wait_active(STEP, zone, &set.id)?;
                continue;
            }
            let result = match txt::remove(&set.records, value) {
                Removal::Absent => return Ok(()),
                Removal::Update(rest) => self.api.update_records(zone, &set, &rest).map(|_| {
                    self.report.info(format!(
                        "removed TXT value {value} from {fqdn} in zone {} ({} left)",
                        zone.name,
                        plural(rest.len(), "value")
                    ))
                }),
                Removal::DeleteSet => self.api.delete(zone, &set).map(|_| {
                    self.report.info(format!(
                        "removed TXT value {value} from {fqdn} in zone {} (last value: recordset deleted)",
                        zone.name
                    ))
                }),
            };
            match result {
                Ok(()) => {
                    self.forget(fqdn, value);
                    return Ok(());
                }
                Err(e) if e.is_not_steady() => {
                    self.wait_active(STEP, zone, &set.id)?;
                }
                Err(e) if e.code() == Some("DNS.0313") => {}
                Err(e) if e.is_transient() => {
                    self.report.info(format!(
                        "changing {fqdn}: {e}; re-reading before trying again"
                    ));
                    self.clock.sleep(self.settings.poll);
                    last = Some(e);
                }
                Err(e) => return Err(api_err(STEP, &format!("changing {fqdn}"), e)),
            }
        }
        Err(gave_up(STEP, fqdn, last))
    }
}
