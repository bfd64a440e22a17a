//! In-memory fakes of the three provider shapes (see [`crate::cloud_api`]), so
//! the shared flow is unit-tested against each without sockets:
//!
//! - [`SetFake`] — set-with-pending (OTC-like): one set per name with an id,
//!   whole-set replacement; a write leaves the set pending for
//!   `pending_reads` reads, a write to a pending set is [`Kind::NotSettled`],
//!   a create where a set exists is [`Kind::Conflict`]; commit sends nothing.
//! - [`RecordFake`] — record-per-value + refresh (OVH-like): one record per
//!   value with an id; a write is one add per new value and one delete per
//!   removed id; nothing is served until the zone is committed (refreshed).
//! - [`BatchFake`] — batch + apply (NCP-like): records with ids added and
//!   deleted in one batch each, content read back quoted, an exact duplicate
//!   add refused ([`Kind::Conflict`]); nothing served until committed (applied).
//!
//! The record-shaped fakes are strict: a write computed from a read that is no
//! longer current (ids at the name changed) is refused as a conflict and
//! changes nothing, so a flow that writes from a stale read fails its test
//! instead of silently dropping or duplicating a value.
//!
//! Faults are queued with [`Fake::inject`] (one per write call, in order) and
//! [`Fake::fail_commits`]; every write and commit call is counted, so tests can
//! tell "re-read" from "repeated".

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};

use crate::cloud_api::{ApiError, ApiResult, Change, DnsApi, Kind, Status, TxtSet, Zone};
use crate::txt;

/// The one zone every fake holds.
pub const ZONE: &str = "example.com.";
/// Nameserver every fake names.
pub const NS: &str = "ns1.fake.test.";

/// What the next write call meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The write lands, then answers 503: its outcome is unknown to the caller.
    LandedButTransient,
    /// The write answers 503 and changes nothing.
    Transient,
    /// Right before the write, another writer adds this value at the name
    /// being written (the shape's own way): the caller's read is now stale.
    Foreign(String),
}

/// State and counters every fake shares.
pub struct Core {
    zone: Zone,
    faults: Mutex<VecDeque<Fault>>,
    commit_failures: AtomicU32,
    /// A commit with nothing to publish is refused (NCP's `X00006`, maybe).
    refuse_empty: AtomicBool,
    writes: AtomicU32,
    commits: AtomicU32,
    reads: AtomicU32,
    ops: AtomicU32,
    next_id: AtomicU64,
}

impl Core {
    fn new(id: &str) -> Core {
        Core {
            zone: Zone {
                id: id.to_string(),
                name: ZONE.to_string(),
            },
            faults: Default::default(),
            commit_failures: AtomicU32::new(0),
            refuse_empty: AtomicBool::new(false),
            writes: AtomicU32::new(0),
            commits: AtomicU32::new(0),
            reads: AtomicU32::new(0),
            ops: AtomicU32::new(0),
            next_id: AtomicU64::new(1),
        }
    }

    fn id(&self) -> String {
        let n = self.next_id.fetch_add(1, SeqCst);
        format!("id{n}")
    }

    fn check_zone(&self, z: &Zone) -> ApiResult<()> {
        if z.id == self.zone.id {
            Ok(())
        } else {
            Err(ApiError::status(404, None, format!("no zone {}", z.id)))
        }
    }

    fn op(&self) {
        self.ops.fetch_add(1, SeqCst);
    }

    /// A commit call: counted; `Err` while injected failures remain.
    fn begin_commit(&self, z: &Zone) -> ApiResult<()> {
        self.check_zone(z)?;
        self.commits.fetch_add(1, SeqCst);
        // One injected failure taken per commit, whichever thread commits.
        if self
            .commit_failures
            .fetch_update(SeqCst, SeqCst, |left| left.checked_sub(1))
            .is_ok()
        {
            return Err(transient("commit not taken"));
        }
        Ok(())
    }

    /// After [`Fake::refuse_empty_commits`]: a commit with nothing pending
    /// is refused, as an undocumented API might (never retried).
    fn refuse_if_empty(&self, pending: bool) -> ApiResult<()> {
        if self.refuse_empty.load(SeqCst) && !pending {
            return Err(ApiError::status(
                400,
                Some("X00006".into()),
                "nothing to apply".into(),
            ));
        }
        Ok(())
    }
}

fn transient(what: &str) -> ApiError {
    ApiError::status(503, None, format!("service unavailable ({what})"))
}

fn conflict(what: String) -> ApiError {
    ApiError::status(409, Some("FAKE.CONFLICT".into()), what)
}

/// What a write does after its fault: go on, land then fail, or fail at once.
enum Then {
    Go,
    LandThenFail,
}

/// Counts a write call and plays its queued fault (a foreign writer goes first).
fn begin_write<F: Fake>(fake: &F, zone: &Zone, name: &str) -> ApiResult<Then> {
    let core = fake.core();
    core.check_zone(zone)?;
    core.writes.fetch_add(1, SeqCst);
    let fault = crate::sync::lock(&core.faults).pop_front();
    match fault {
        None => Ok(Then::Go),
        Some(Fault::LandedButTransient) => Ok(Then::LandThenFail),
        Some(Fault::Transient) => Err(transient("write not taken")),
        Some(Fault::Foreign(v)) => {
            fake.foreign_add(name, &v);
            Ok(Then::Go)
        }
    }
}

/// What the tests need from a fake beyond [`DnsApi`].
pub trait Fake: DnsApi + Sized {
    /// The shape, for messages.
    const SHAPE: &'static str;
    /// Changes are served only once the zone is committed (OVH refresh, NCP apply).
    const SERVED_ON_COMMIT: bool;
    /// A fresh fake with its one zone, empty.
    fn fresh() -> Self;
    fn core(&self) -> &Core;
    /// Values already at `name` and served, as another tool left them.
    fn seed(&self, name: &str, values: &[&str]);
    /// Another writer adds `value` at `name`, the shape's own way.
    fn foreign_add(&self, name: &str, value: &str);
    /// The values `name` holds (once settled), unquoted, in order.
    fn values(&self, name: &str) -> Vec<String>;
    /// The values the nameservers serve at `name` now, unquoted.
    fn served(&self, name: &str) -> Vec<String>;

    /// Time passes: every pending change finishes (set-with-pending; the
    /// record shapes have none, their changes wait for a commit instead).
    fn time_passes(&self) {}

    fn zone(&self) -> Zone {
        self.core().zone.clone()
    }
    /// The next write call meets `f` (faults queue up, one per write).
    fn inject(&self, f: Fault) {
        crate::sync::lock(&self.core().faults).push_back(f);
    }
    /// The next `n` commit calls answer 503 and publish nothing.
    fn fail_commits(&self, n: u32) {
        self.core().commit_failures.store(n, SeqCst);
    }
    /// From now on a commit with nothing pending is refused (record shapes).
    fn refuse_empty_commits(&self) {
        self.core().refuse_empty.store(true, SeqCst);
    }
    /// Calls of [`DnsApi::write`].
    fn writes(&self) -> u32 {
        self.core().writes.load(SeqCst)
    }
    /// Calls of [`DnsApi::commit`], failed ones included.
    fn commits(&self) -> u32 {
        self.core().commits.load(SeqCst)
    }
    /// Names read, over every read call.
    fn reads(&self) -> u32 {
        self.core().reads.load(SeqCst)
    }
    /// Changing API requests the writes made (a set update, one add, one batch…).
    fn ops(&self) -> u32 {
        self.core().ops.load(SeqCst)
    }
}

fn zones_of(core: &Core) -> Vec<Zone> {
    vec![core.zone.clone()]
}

fn named(core: &Core, name: &str) -> Option<Zone> {
    (core.zone.name == name).then(|| core.zone.clone())
}

fn unquoted(records: &[String]) -> Vec<String> {
    records
        .iter()
        .map(|r| txt::unquote(r).to_string())
        .collect()
}

// ---------------------------------------------------------------- set-with-pending

struct Set {
    id: String,
    records: Vec<String>,
    ttl: u32,
    /// Reads left that still see the last change pending.
    pending: u32,
    word: &'static str,
    /// Going away once settled.
    deleting: bool,
}

/// Set-with-pending, OTC-like: one set per name, whole-set replacement, every
/// change pending for `pending_reads` reads.
pub struct SetFake {
    core: Core,
    pub pending_reads: u32,
    sets: Mutex<BTreeMap<String, Set>>,
    served: Mutex<BTreeMap<String, Vec<String>>>,
}

impl SetFake {
    pub fn new(pending_reads: u32) -> SetFake {
        SetFake {
            core: Core::new("zone-1"),
            pending_reads,
            sets: Default::default(),
            served: Default::default(),
        }
    }

    /// Sets whose change has settled are served (and deleted ones go).
    fn settle(&self) {
        let mut sets = crate::sync::lock(&self.sets);
        let mut served = crate::sync::lock(&self.served);
        sets.retain(|name, s| {
            if s.pending > 0 {
                return true;
            }
            if s.deleting {
                served.remove(name);
                return false;
            }
            served.insert(name.clone(), s.records.clone());
            true
        });
    }

    /// The set at `name` as the API lists it; a listing uses up one pending read.
    fn view(&self, name: &str, count: bool) -> TxtSet {
        self.settle();
        let mut sets = crate::sync::lock(&self.sets);
        let Some(s) = sets.get_mut(name) else {
            return TxtSet::absent(name);
        };
        let status = if s.pending > 0 {
            if count {
                s.pending -= 1;
            }
            Status::Pending(s.word.to_string())
        } else {
            Status::Settled
        };
        TxtSet {
            name: name.to_string(),
            records: s.records.clone(),
            ids: vec![s.id.clone()],
            ttl: Some(s.ttl),
            status,
        }
    }

    fn change(&self, s: &mut Set, records: Vec<String>, word: &'static str) {
        s.records = records;
        s.pending = self.pending_reads;
        s.word = word;
    }
}

impl Fake for SetFake {
    const SHAPE: &'static str = "set-with-pending";
    const SERVED_ON_COMMIT: bool = false;
    fn fresh() -> Self {
        SetFake::new(2)
    }
    fn core(&self) -> &Core {
        &self.core
    }
    fn seed(&self, name: &str, values: &[&str]) {
        let records: Vec<String> = values.iter().map(|v| txt::quote(v)).collect();
        let id = self.core.id();
        crate::sync::lock(&self.sets).insert(
            name.to_string(),
            Set {
                id,
                records: records.clone(),
                ttl: 600,
                pending: 0,
                word: "ACTIVE",
                deleting: false,
            },
        );
        crate::sync::lock(&self.served).insert(name.to_string(), records);
    }
    fn foreign_add(&self, name: &str, value: &str) {
        self.settle();
        let mut sets = crate::sync::lock(&self.sets);
        match sets.get_mut(name) {
            Some(s) => {
                let mut r = s.records.clone();
                r.push(txt::quote(value));
                self.change(s, r, "PENDING_UPDATE");
            }
            None => {
                let mut s = Set {
                    id: self.core.id(),
                    records: Vec::new(),
                    ttl: 300,
                    pending: 0,
                    word: "ACTIVE",
                    deleting: false,
                };
                self.change(&mut s, vec![txt::quote(value)], "PENDING_CREATE");
                sets.insert(name.to_string(), s);
            }
        }
    }
    fn time_passes(&self) {
        for s in crate::sync::lock(&self.sets).values_mut() {
            s.pending = 0;
        }
        self.settle();
    }
    fn values(&self, name: &str) -> Vec<String> {
        match crate::sync::lock(&self.sets).get(name) {
            Some(s) if !s.deleting => unquoted(&s.records),
            _ => Vec::new(),
        }
    }
    fn served(&self, name: &str) -> Vec<String> {
        self.settle();
        unquoted(
            crate::sync::lock(&self.served)
                .get(name)
                .map_or(&[][..], |v| v),
        )
    }
}

impl DnsApi for SetFake {
    fn name(&self) -> &str {
        "fake set-with-pending DNS"
    }

    fn record_word(&self) -> &'static str {
        "recordset"
    }
    fn zones_holding(&self, _fqdn: &str) -> ApiResult<Vec<Zone>> {
        Ok(zones_of(&self.core))
    }
    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        Ok(named(&self.core, name))
    }
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        self.core.check_zone(zone)?;
        Ok(vec![NS.into()])
    }
    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        self.core.check_zone(zone)?;
        let c = &self.core.reads;
        c.fetch_add(names.len() as u32, SeqCst);
        Ok(names.iter().map(|n| self.view(n, true)).collect())
    }
    fn write(&self, zone: &Zone, before: &TxtSet, after: &[String], ttl: u32) -> ApiResult<TxtSet> {
        let name = before.name.as_str();
        let then = begin_write(self, zone, name)?;
        self.settle();
        {
            let mut sets = crate::sync::lock(&self.sets);
            match (before.ids.first(), sets.get_mut(name)) {
                (None, Some(_)) => {
                    return Err(conflict(format!("a recordset {name} exists already")));
                }
                (None, None) if after.is_empty() => {
                    return Err(ApiError::status(400, None, "empty records".into()));
                }
                (None, None) => {
                    let mut s = Set {
                        id: self.core.id(),
                        records: Vec::new(),
                        ttl,
                        pending: 0,
                        word: "ACTIVE",
                        deleting: false,
                    };
                    self.change(&mut s, after.to_vec(), "PENDING_CREATE");
                    sets.insert(name.to_string(), s);
                }
                (Some(id), s) if s.as_ref().is_none_or(|s| &s.id != id) => {
                    return Err(ApiError::status(404, None, format!("no recordset {id}")));
                }
                (Some(_), Some(s)) if s.pending > 0 || s.deleting => {
                    return Err(ApiError::status(
                        400,
                        Some("FAKE.PENDING".into()),
                        format!("recordset {name} is {}", s.word),
                    )
                    .with_kind(Kind::NotSettled));
                }
                (Some(_), Some(s)) => {
                    if after.is_empty() {
                        s.deleting = true;
                        let keep = s.records.clone();
                        self.change(s, keep, "PENDING_DELETE");
                    } else {
                        self.change(s, after.to_vec(), "PENDING_UPDATE");
                    }
                }
                (Some(_), None) => unreachable!("matched above"),
            }
        }
        self.core.op();
        if let Then::LandThenFail = then {
            return Err(transient("the write landed"));
        }
        let mut at = self.view(name, false);
        if after.is_empty() {
            at.records.clear();
        }
        Ok(at)
    }
    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        self.core.begin_commit(zone)
    }
    fn whole_set_writes(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------- records with ids

#[derive(Clone)]
struct Rec {
    id: String,
    name: String,
    /// As stored: a record-per-value fake keeps what it was given, a batch
    /// fake keeps the content unquoted.
    content: String,
}

/// Records of one zone with ids, and what the nameservers serve (the zone as
/// of its last commit); shared by the two record-shaped fakes.
struct Records {
    all: Mutex<Vec<Rec>>,
    served: Mutex<BTreeMap<String, Vec<String>>>,
}

impl Records {
    fn new() -> Records {
        Records {
            all: Default::default(),
            served: Default::default(),
        }
    }
    fn at(&self, name: &str) -> Vec<Rec> {
        crate::sync::lock(&self.all)
            .iter()
            .filter(|r| r.name == name)
            .cloned()
            .collect()
    }
    fn add(&self, id: String, name: &str, content: String) {
        crate::sync::lock(&self.all).push(Rec {
            id,
            name: name.to_string(),
            content,
        });
    }
    fn delete(&self, id: &str) {
        crate::sync::lock(&self.all).retain(|r| r.id != id);
    }
    /// The zone as it is now, as the nameservers would serve it.
    fn current(&self) -> BTreeMap<String, Vec<String>> {
        let mut served = BTreeMap::new();
        for r in crate::sync::lock(&self.all).iter() {
            served
                .entry(r.name.clone())
                .or_insert_with(Vec::new)
                .push(txt::unquote(&r.content).to_string());
        }
        served
    }
    /// Whether a commit would change what is served.
    fn pending(&self) -> bool {
        self.current() != *crate::sync::lock(&self.served)
    }
    /// The zone as it is now becomes what is served.
    fn publish(&self) {
        let now = self.current();
        *crate::sync::lock(&self.served) = now;
    }
    fn served(&self, name: &str) -> Vec<String> {
        crate::sync::lock(&self.served)
            .get(name)
            .cloned()
            .unwrap_or_default()
    }
    /// Refuses a write computed from a read that is no longer current.
    fn check_fresh(&self, before: &TxtSet) -> ApiResult<()> {
        let mut now: Vec<String> = self.at(&before.name).into_iter().map(|r| r.id).collect();
        let mut then = before.ids.clone();
        now.sort();
        then.sort();
        if now != then {
            return Err(conflict(format!(
                "{} changed since it was read",
                before.name
            )));
        }
        Ok(())
    }
}

/// Which of `before`'s ids go and which records of `after` are new: values in
/// both (matched one for one, exactly as read) are left alone.
fn diff(before: &TxtSet, after: &[String]) -> (Vec<String>, Vec<String>) {
    let mut kept = vec![false; before.records.len()];
    let mut adds = Vec::new();
    for a in after {
        match (0..before.records.len()).find(|&i| !kept[i] && &before.records[i] == a) {
            Some(i) => kept[i] = true,
            None => adds.push(a.clone()),
        }
    }
    let deletes = before
        .ids
        .iter()
        .zip(&kept)
        .filter(|(_, k)| !**k)
        .map(|(id, _)| id.clone())
        .collect();
    (deletes, adds)
}

// ---------------------------------------------------------------- record-per-value + refresh

/// Record-per-value + refresh, OVH-like: one add per new value, one delete per
/// removed id; served once the zone is committed.
pub struct RecordFake {
    core: Core,
    recs: Records,
}

impl RecordFake {
    pub fn new() -> RecordFake {
        RecordFake {
            // OVH's zone id is its name.
            core: Core::new("example.com"),
            recs: Records::new(),
        }
    }
}

impl Default for RecordFake {
    fn default() -> Self {
        RecordFake::new()
    }
}

impl Fake for RecordFake {
    const SHAPE: &'static str = "record-per-value + refresh";
    const SERVED_ON_COMMIT: bool = true;
    fn fresh() -> Self {
        RecordFake::new()
    }
    fn core(&self) -> &Core {
        &self.core
    }
    fn seed(&self, name: &str, values: &[&str]) {
        for v in values {
            self.recs.add(self.core.id(), name, txt::quote(v));
        }
        self.recs.publish();
    }
    fn foreign_add(&self, name: &str, value: &str) {
        self.recs.add(self.core.id(), name, txt::quote(value));
    }
    fn values(&self, name: &str) -> Vec<String> {
        let r: Vec<String> = self.recs.at(name).into_iter().map(|r| r.content).collect();
        unquoted(&r)
    }
    fn served(&self, name: &str) -> Vec<String> {
        self.recs.served(name)
    }
}

impl DnsApi for RecordFake {
    fn name(&self) -> &str {
        "fake record-per-value DNS"
    }
    fn zones_holding(&self, _fqdn: &str) -> ApiResult<Vec<Zone>> {
        Ok(zones_of(&self.core))
    }
    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        Ok(named(&self.core, name))
    }
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        self.core.check_zone(zone)?;
        Ok(vec![NS.into()])
    }
    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        self.core.check_zone(zone)?;
        let c = &self.core.reads;
        c.fetch_add(names.len() as u32, SeqCst);
        Ok(names
            .iter()
            .map(|n| read_records(&self.recs, n, |c| c))
            .collect())
    }
    fn write(
        &self,
        zone: &Zone,
        before: &TxtSet,
        after: &[String],
        _ttl: u32,
    ) -> ApiResult<TxtSet> {
        let then = begin_write(self, zone, &before.name)?;
        self.recs.check_fresh(before)?;
        let (deletes, adds) = diff(before, after);
        for a in adds {
            self.recs.add(self.core.id(), &before.name, a);
            self.core.op();
        }
        for id in deletes {
            self.recs.delete(&id);
            self.core.op();
        }
        if let Then::LandThenFail = then {
            return Err(transient("the write landed"));
        }
        Ok(read_records(&self.recs, &before.name, |c| c))
    }
    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        self.core.begin_commit(zone)?;
        self.core.refuse_if_empty(self.recs.pending())?;
        self.recs.publish();
        Ok(())
    }
}

fn read_records(recs: &Records, name: &str, shown: impl Fn(String) -> String) -> TxtSet {
    let at = recs.at(name);
    if at.is_empty() {
        return TxtSet::absent(name);
    }
    TxtSet {
        name: name.to_string(),
        records: at.iter().map(|r| shown(r.content.clone())).collect(),
        ids: at.into_iter().map(|r| r.id).collect(),
        ttl: Some(300),
        status: Status::Settled,
    }
}

// ---------------------------------------------------------------- batch + apply

/// Batch + apply, NCP-like: one batch add, one batch delete; contents stored
/// bare and read back quoted; an exact duplicate add refused; served once the
/// zone is committed.
pub struct BatchFake {
    core: Core,
    recs: Records,
}

impl BatchFake {
    pub fn new() -> BatchFake {
        BatchFake {
            core: Core::new("4711"),
            recs: Records::new(),
        }
    }
}

impl Default for BatchFake {
    fn default() -> Self {
        BatchFake::new()
    }
}

impl Fake for BatchFake {
    const SHAPE: &'static str = "batch + apply";
    const SERVED_ON_COMMIT: bool = true;
    fn fresh() -> Self {
        BatchFake::new()
    }
    fn core(&self) -> &Core {
        &self.core
    }
    fn seed(&self, name: &str, values: &[&str]) {
        for v in values {
            self.recs.add(self.core.id(), name, v.to_string());
        }
        self.recs.publish();
    }
    fn foreign_add(&self, name: &str, value: &str) {
        self.recs.add(self.core.id(), name, value.to_string());
    }
    fn values(&self, name: &str) -> Vec<String> {
        self.recs.at(name).into_iter().map(|r| r.content).collect()
    }
    fn served(&self, name: &str) -> Vec<String> {
        self.recs.served(name)
    }
}

impl BatchFake {
    /// Every change computed from a current read, none duplicating a record exactly.
    fn check_batch(&self, changes: &[Change<'_>]) -> ApiResult<()> {
        for c in changes {
            let name = c.before.name.as_str();
            self.recs.check_fresh(c.before)?;
            let (_, adds) = diff(c.before, c.after);
            let adds: Vec<String> = adds.iter().map(|a| txt::unquote(a).to_string()).collect();
            let existing: Vec<String> = self.recs.at(name).into_iter().map(|r| r.content).collect();
            for (i, a) in adds.iter().enumerate() {
                if existing.contains(a) || adds[..i].contains(a) {
                    return Err(conflict(format!("TXT {a} exists at {name} already")));
                }
            }
        }
        Ok(())
    }

    fn apply(&self, before: &TxtSet, after: &[String]) -> TxtSet {
        let name = before.name.as_str();
        let (deletes, adds) = diff(before, after);
        if !adds.is_empty() {
            for a in adds {
                self.recs
                    .add(self.core.id(), name, txt::unquote(&a).to_string());
            }
            self.core.op();
        }
        if !deletes.is_empty() {
            for id in &deletes {
                self.recs.delete(id);
            }
            self.core.op();
        }
        read_records(&self.recs, name, |c| txt::quote(&c))
    }
}

impl DnsApi for BatchFake {
    fn name(&self) -> &str {
        "fake batch DNS"
    }
    fn zones_holding(&self, _fqdn: &str) -> ApiResult<Vec<Zone>> {
        Ok(zones_of(&self.core))
    }
    fn zone_named(&self, name: &str) -> ApiResult<Option<Zone>> {
        Ok(named(&self.core, name))
    }
    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        self.core.check_zone(zone)?;
        Ok(vec![NS.into()])
    }
    fn read(&self, zone: &Zone, names: &[String]) -> ApiResult<Vec<TxtSet>> {
        self.core.check_zone(zone)?;
        let c = &self.core.reads;
        c.fetch_add(names.len() as u32, SeqCst);
        Ok(names
            .iter()
            .map(|n| read_records(&self.recs, n, |c| txt::quote(&c)))
            .collect())
    }
    fn write(
        &self,
        zone: &Zone,
        before: &TxtSet,
        after: &[String],
        _ttl: u32,
    ) -> ApiResult<TxtSet> {
        let then = begin_write(self, zone, &before.name)?;
        self.check_batch(&[Change { before, after }])?;
        let set = self.apply(before, after);
        if let Then::LandThenFail = then {
            return Err(transient("the write landed"));
        }
        Ok(set)
    }
    /// One call for every name's change (NCP's batches): refused whole, or
    /// applied whole; a fault plays once for the call.
    fn write_batch(
        &self,
        zone: &Zone,
        changes: &[Change<'_>],
        _ttl: u32,
    ) -> Option<ApiResult<Vec<TxtSet>>> {
        let first = changes.first()?;
        let go = || -> ApiResult<Vec<TxtSet>> {
            let then = begin_write(self, zone, &first.before.name)?;
            self.check_batch(changes)?;
            let sets = changes
                .iter()
                .map(|c| self.apply(c.before, c.after))
                .collect();
            if let Then::LandThenFail = then {
                return Err(transient("the batch landed"));
            }
            Ok(sets)
        };
        Some(go())
    }
    fn commit(&self, zone: &Zone) -> ApiResult<()> {
        self.core.begin_commit(zone)?;
        self.core.refuse_if_empty(self.recs.pending())?;
        self.recs.publish();
        Ok(())
    }
}

/// A test written once over `F: Fake`, run against each shape: makes
/// `set_with_pending::T`, `record_per_value::T` and `batch_apply::T` of each
/// generic test function `T` of the calling module.
macro_rules! each_shape {
    ($($test:ident),* $(,)?) => {
        mod set_with_pending {
            $(#[test] fn $test() { super::$test::<$crate::fake::SetFake>() })*
        }
        mod record_per_value {
            $(#[test] fn $test() { super::$test::<$crate::fake::RecordFake>() })*
        }
        mod batch_apply {
            $(#[test] fn $test() { super::$test::<$crate::fake::BatchFake>() })*
        }
    };
}
pub(crate) use each_shape;

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "_acme-challenge.example.com.";

    fn read<F: Fake>(f: &F) -> TxtSet {
        f.read(&f.zone(), &[N.to_string()]).unwrap().pop().unwrap()
    }

    /// Each shape's fake takes writes to different names from several threads
    /// at once: every value lands, every write and id is counted once.
    fn threads_write_names_side_by_side<F: Fake>() {
        let f = F::fresh();
        let z = f.zone();
        let names: Vec<String> = (0..12)
            .map(|i| format!("_acme-challenge.n{i}.example.com."))
            .collect();
        let written = crate::flow::run_all(4, names.clone(), |n| {
            let before = f.read(&z, std::slice::from_ref(&n)).unwrap().remove(0);
            f.write(&z, &before, &[format!("\"v-{n}\"")], 300)
                .map(|_| ())
        });
        assert!(
            written.iter().all(Result::is_ok),
            "{}: {written:?}",
            F::SHAPE
        );
        assert_eq!(f.writes(), 12, "{}", F::SHAPE);
        for n in &names {
            assert_eq!(f.values(n), vec![format!("v-{n}")], "{}", F::SHAPE);
        }
    }

    #[test]
    fn every_fake_takes_writes_from_threads() {
        threads_write_names_side_by_side::<SetFake>();
        threads_write_names_side_by_side::<RecordFake>();
        threads_write_names_side_by_side::<BatchFake>();
    }

    #[test]
    fn set_fake_pends_refuses_and_replaces() {
        let f = SetFake::new(2);
        let z = f.zone();
        let created = f
            .write(&z, &TxtSet::absent(N), &["\"a\"".into()], 300)
            .unwrap();
        assert_eq!(created.status, Status::Pending("PENDING_CREATE".into()));
        // A create where a set exists is a conflict.
        let e = f
            .write(&z, &TxtSet::absent(N), &["\"b\"".into()], 300)
            .unwrap_err();
        assert_eq!(e.kind(), Kind::Conflict);
        let first = read(&f);
        assert!(first.is_pending());
        // A write to a pending set is refused until it settled.
        let e = f.write(&z, &first, &["\"b\"".into()], 300).unwrap_err();
        assert_eq!(e.kind(), Kind::NotSettled);
        assert!(f.served(N).is_empty(), "not served while pending");
        assert!(read(&f).is_pending(), "second of two pending reads");
        let settled = read(&f);
        assert!(settled.is_settled());
        assert_eq!(f.served(N), vec!["a"]);
        // Whole-set replacement.
        f.write(&z, &settled, &["\"b\"".into(), "\"c\"".into()], 300)
            .unwrap();
        assert_eq!(f.values(N), vec!["b", "c"]);
        assert_eq!(f.served(N), vec!["a"], "old set served until settled");
        read(&f);
        let s = read(&f);
        f.write(&z, &read(&f), &[], 300).unwrap();
        assert!(f.values(N).is_empty());
        assert!(read(&f).is_pending(), "pending delete is still listed");
        read(&f);
        assert!(!read(&f).exists());
        assert!(f.served(N).is_empty());
        assert_eq!(s.ids, created.ids, "one set, one id");
        assert_eq!((f.writes(), f.ops()), (5, 3));
    }

    #[test]
    fn record_fake_adds_and_deletes_per_value_and_serves_on_commit() {
        let f = RecordFake::new();
        let z = f.zone();
        f.seed(N, &["keep"]);
        let before = read(&f);
        let after = f
            .write(
                &z,
                &before,
                &["\"keep\"".into(), "\"a\"".into(), "\"b\"".into()],
                300,
            )
            .unwrap();
        assert_eq!(after.ids.len(), 3);
        assert_eq!(after.ids[0], before.ids[0], "the kept record is untouched");
        assert_eq!(f.ops(), 2, "one add per value");
        assert_eq!(f.served(N), vec!["keep"]);
        f.commit(&z).unwrap();
        assert_eq!(f.served(N), vec!["keep", "a", "b"]);
        f.write(&z, &after, &["\"keep\"".into()], 300).unwrap();
        assert_eq!(f.ops(), 4, "one delete per id");
        // A write from a stale read changes nothing.
        let e = f
            .write(&z, &after, &["\"keep\"".into(), "\"a\"".into()], 300)
            .unwrap_err();
        assert_eq!(e.kind(), Kind::Conflict);
        assert_eq!(f.values(N), vec!["keep"]);
        f.fail_commits(1);
        assert!(f.commit(&z).unwrap_err().is_transient());
        assert_eq!(
            f.served(N),
            vec!["keep", "a", "b"],
            "a failed commit publishes nothing"
        );
        f.commit(&z).unwrap();
        assert_eq!(f.served(N), vec!["keep"]);
        assert_eq!((f.writes(), f.commits()), (3, 3));
    }

    #[test]
    fn batch_fake_quotes_batches_and_refuses_duplicates() {
        let f = BatchFake::new();
        let z = f.zone();
        f.seed(N, &["v=spf1 -all"]);
        let before = read(&f);
        assert_eq!(before.records, vec!["\"v=spf1 -all\""], "read back quoted");
        let mut after = before.records.clone();
        after.extend(["\"a\"".to_string(), "\"b\"".to_string()]);
        let at = f.write(&z, &before, &after, 300).unwrap();
        assert_eq!(at.records, after);
        assert_eq!(f.ops(), 1, "one batch for both adds");
        assert_eq!(f.values(N), vec!["v=spf1 -all", "a", "b"], "stored bare");
        // An exact duplicate is refused, and so is the whole batch.
        let mut twice = at.records.clone();
        twice.extend(["\"c\"".to_string(), "\"c\"".to_string()]);
        assert_eq!(
            f.write(&z, &at, &twice, 300).unwrap_err().kind(),
            Kind::Conflict
        );
        let mut again = at.records.clone();
        again.push("\"a\"".to_string());
        let e = f.write(&z, &at, &again, 300).unwrap_err();
        assert_eq!(e.kind(), Kind::Conflict, "an add of an existing value");
        assert_eq!(f.values(N).len(), 3);
        assert!(
            f.served(N) == vec!["v=spf1 -all"],
            "nothing served before apply"
        );
        f.commit(&z).unwrap();
        assert_eq!(f.served(N), vec!["v=spf1 -all", "a", "b"]);
        f.write(&z, &read(&f), &[], 300).unwrap();
        assert!(f.values(N).is_empty());
        assert_eq!(f.ops(), 2, "one batch for every delete");
    }

    #[test]
    fn faults_play_once_each_in_order() {
        let f = RecordFake::new();
        let z = f.zone();
        f.inject(Fault::Transient);
        f.inject(Fault::LandedButTransient);
        f.inject(Fault::Foreign("theirs".into()));
        let a = vec!["\"a\"".to_string()];
        let e = f.write(&z, &TxtSet::absent(N), &a, 300).unwrap_err();
        assert!(e.is_transient());
        assert!(f.values(N).is_empty(), "a transient fault changes nothing");
        let e = f.write(&z, &TxtSet::absent(N), &a, 300).unwrap_err();
        assert!(e.is_transient());
        assert_eq!(f.values(N), vec!["a"], "landed");
        let e = f.write(&z, &read(&f), &[], 300).unwrap_err();
        assert_eq!(e.kind(), Kind::Conflict, "the foreign writer came first");
        assert_eq!(f.values(N), vec!["a", "theirs"]);
        f.write(&z, &read(&f), &["\"theirs\"".into()], 300).unwrap();
        assert_eq!(f.values(N), vec!["theirs"]);
        assert_eq!(f.writes(), 4);
    }
}
