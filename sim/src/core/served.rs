//! What the authoritative DNS serves, and from when: the model behind the
//! UDP/TCP server, shared by every cloud.
//!
//! A cloud keeps its API-side records (record sets, records with ids,
//! pending batches) in its own store and decides *when* a change becomes
//! visible to DNS; this model only remembers the published versions and
//! their effective times. Pure logic: every call takes the time it runs at.
//!
//! The API a cloud uses:
//! - [`ServedZones::add_zone`] once per zone DNS should answer for (public
//!   zones only; a private zone is simply never added);
//! - either [`ServedZones::publish_set`] for one record set at a time (OTC:
//!   each accepted write is published at once, `delay_ms` later it is served),
//! - or [`ServedZones::publish_zone`] with a snapshot of the whole zone's
//!   API-side records (OVHcloud: on `POST /domain/zone/{zone}/refresh`;
//!   NCP: on `PUT …/record/apply/{domainId}`): every name and type whose
//!   records differ from what was last published gets a new version;
//! - [`ServedZones::set_serial`] when the zone's SOA serial changes.
//!
//! Either way the version is served from `now_ms + delay_ms` (the cloud
//! passes the configured propagation delay), and never before a version
//! published earlier for the same set. The core calls [`ServedZones::view`]
//! to answer queries and [`ServedZones::take_served`] to log when each change
//! started being served.

/// Name servers and SOA of a zone are not published: the core adds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Seed,
    Create,
    Update,
    Delete,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Seed => "seed",
            Change::Create => "create",
            Change::Update => "update",
            Change::Delete => "delete",
        }
    }
}

/// One state of a record set as the authoritative DNS sees it.
#[derive(Debug, Clone)]
struct Version {
    effective_ms: u64,
    change: Change,
    /// `(ttl, records)`; `None` once deleted.
    data: Option<(i64, Vec<String>)>,
    logged: bool,
}

/// The DNS-side history of one record set; outlives the API object so a
/// deletion can still be propagating after the API forgot the set.
#[derive(Debug, Clone)]
struct Published {
    name: String,
    rtype: String,
    versions: Vec<Version>,
}

impl Published {
    /// The latest version in effect at `now_ms`.
    fn current(&self, now_ms: u64) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_ms <= now_ms)
    }

    #[allow(dead_code)] // Only publish_zone needs it.
    fn latest_data(&self) -> Option<&(i64, Vec<String>)> {
        self.versions.last().and_then(|v| v.data.as_ref())
    }

    fn push(
        &mut self,
        now_ms: u64,
        delay_ms: u64,
        change: Change,
        data: Option<(i64, Vec<String>)>,
    ) {
        // Never let a later change take effect before an earlier one, even if
        // the propagation delay was lowered in between.
        let floor = self.versions.last().map_or(0, |v| v.effective_ms);
        self.versions.push(Version {
            effective_ms: now_ms.saturating_add(delay_ms).max(floor),
            change,
            data,
            logged: false,
        });
    }
}

#[derive(Debug, Clone)]
struct ServedZone {
    name: String,
    email: String,
    serial: u32,
    /// Keyed by the cloud's id of the set (`publish_set`) or by
    /// `"<name> <type>"` (`publish_zone`).
    sets: Vec<(String, Published)>,
}

/// A change that has started being served, for the `served` log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServedChange {
    pub effective_ms: u64,
    pub name: String,
    pub rtype: String,
    pub change: Change,
    pub records: Vec<String>,
}

/// The record data the authoritative DNS serves at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DnsView {
    pub zones: Vec<DnsZone>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsZone {
    pub name: String,
    pub serial: u32,
    pub email: String,
    pub rrsets: Vec<DnsRrset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsRrset {
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    /// In the API's text form (TXT values quoted).
    pub records: Vec<String>,
}

/// Every zone the authoritative DNS answers for, with its published versions.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServedZones {
    zones: Vec<ServedZone>,
}

impl ServedZones {
    /// Starts serving `name` (lower-case, dot-terminated), empty but for its
    /// SOA and NS. Zones are answered in the order they were added.
    pub fn add_zone(&mut self, name: &str, email: &str, serial: u32) {
        if self.zones.iter().all(|z| z.name != name) {
            self.zones.push(ServedZone {
                name: name.to_string(),
                email: email.to_string(),
                serial,
                sets: Vec::new(),
            });
        }
    }

    /// The SOA serial DNS answers with from now on (not delayed).
    pub fn set_serial(&mut self, zone: &str, serial: u32) {
        if let Some(z) = self.zones.iter_mut().find(|z| z.name == zone) {
            z.serial = serial;
        }
    }

    /// Bumps the SOA serial of `zone` by one (a cloud whose publishing
    /// is a whole-zone event: a refresh, an apply).
    pub fn bump_serial(&mut self, zone: &str) {
        if let Some(z) = self.zones.iter_mut().find(|z| z.name == zone) {
            z.serial = z.serial.wrapping_add(1);
        }
    }

    /// The values DNS serves at `now_ms` for `name` and `rtype`, for tests.
    #[cfg(test)]
    pub fn values_at(&self, now_ms: u64, name: &str, rtype: &str) -> Option<Vec<String>> {
        self.view(now_ms)
            .zones
            .iter()
            .flat_map(|z| z.rrsets.iter())
            .find(|r| r.name == name && r.rtype == rtype)
            .map(|r| r.records.clone())
    }

    /// Whether `key` names a set still known to DNS in any zone (a cloud
    /// must not reuse the id of a set whose deletion is propagating).
    pub fn has_key(&self, key: &str) -> bool {
        self.zones
            .iter()
            .any(|z| z.sets.iter().any(|(k, _)| k == key))
    }

    /// Publishes one set's new content (`None`: deleted), served from
    /// `now_ms + delay_ms`. `key` identifies the set across versions. A
    /// deletion of a set never published, or a zone not served, is ignored.
    #[allow(clippy::too_many_arguments)] // One call per write; a struct would only rename them.
    pub fn publish_set(
        &mut self,
        zone: &str,
        key: &str,
        name: &str,
        rtype: &str,
        change: Change,
        data: Option<(i64, Vec<String>)>,
        now_ms: u64,
        delay_ms: u64,
    ) {
        let Some(z) = self.zones.iter_mut().find(|z| z.name == zone) else {
            return;
        };
        if let Some((_, p)) = z.sets.iter_mut().find(|(k, _)| k == key) {
            p.push(now_ms, delay_ms, change, data);
        } else if data.is_some() {
            let mut p = Published {
                name: name.to_string(),
                rtype: rtype.to_string(),
                versions: Vec::new(),
            };
            p.push(now_ms, delay_ms, change, data);
            z.sets.push((key.to_string(), p));
        }
    }

    /// Publishes a snapshot of a zone's API-side records (one entry per name
    /// and type), served from `now_ms + delay_ms`: what changed since the
    /// last snapshot gets a new version, what is missing is deleted. Sets
    /// published through [`publish_set`](Self::publish_set) are left alone.
    // Not used by OTC (it publishes set by set); the OVHcloud and NCP
    // simulators publish this way. Unit-tested below.
    #[allow(dead_code)]
    pub fn publish_zone(&mut self, zone: &str, records: &[DnsRrset], now_ms: u64, delay_ms: u64) {
        let key = |name: &str, rtype: &str| format!("{name} {rtype}");
        for r in records {
            let k = key(&r.name, &r.rtype);
            let data = (i64::from(r.ttl), r.records.clone());
            let latest = self.zones.iter().find(|z| z.name == zone).and_then(|z| {
                z.sets
                    .iter()
                    .find(|(kk, _)| *kk == k)
                    .map(|(_, p)| p.latest_data().cloned())
            });
            let change = match latest {
                Some(Some(old)) if old == data => continue,
                Some(Some(_)) => Change::Update,
                _ => Change::Create,
            };
            self.publish_set(
                zone,
                &k,
                &r.name,
                &r.rtype,
                change,
                Some(data),
                now_ms,
                delay_ms,
            );
        }
        let Some(z) = self.zones.iter_mut().find(|z| z.name == zone) else {
            return;
        };
        for (k, p) in &mut z.sets {
            let snapshot_key = key(&p.name, &p.rtype);
            if *k == snapshot_key
                && p.latest_data().is_some()
                && !records
                    .iter()
                    .any(|r| r.name == p.name && r.rtype == p.rtype)
            {
                p.push(now_ms, delay_ms, Change::Delete, None);
            }
        }
    }

    /// Marks every version so far as served from the start and not worth
    /// logging (seed data).
    pub fn settle_seed(&mut self) {
        for z in &mut self.zones {
            for (_, p) in &mut z.sets {
                for v in &mut p.versions {
                    v.effective_ms = 0;
                    v.change = Change::Seed;
                    v.logged = true;
                }
            }
        }
    }

    /// Changes that became effective by `now_ms` and were not yet reported,
    /// oldest first. Forgets deleted sets once reported.
    pub fn take_served(&mut self, now_ms: u64) -> Vec<ServedChange> {
        let mut out = Vec::new();
        for zone in &mut self.zones {
            for (_, p) in &mut zone.sets {
                for v in &mut p.versions {
                    if !v.logged && v.effective_ms <= now_ms {
                        v.logged = true;
                        out.push(ServedChange {
                            effective_ms: v.effective_ms,
                            name: p.name.clone(),
                            rtype: p.rtype.clone(),
                            change: v.change,
                            records: v.data.as_ref().map(|(_, r)| r.clone()).unwrap_or_default(),
                        });
                    }
                }
                // Only the version in force is needed from now on.
                let keep_from = p
                    .versions
                    .iter()
                    .rposition(|v| v.effective_ms <= now_ms)
                    .unwrap_or(0);
                p.versions.drain(..keep_from);
            }
            zone.sets.retain(|(_, p)| {
                !(p.versions.len() == 1 && p.versions[0].data.is_none() && p.versions[0].logged)
            });
        }
        out.sort_by_key(|c| c.effective_ms);
        out
    }

    /// What the authoritative DNS serves at `now_ms`. Sets sharing a name
    /// and type (an old one still being deleted, a new one appearing) are
    /// merged.
    pub fn view(&self, now_ms: u64) -> DnsView {
        let zones = self
            .zones
            .iter()
            .map(|z| {
                let mut rrsets: Vec<DnsRrset> = Vec::new();
                for (_, p) in &z.sets {
                    let Some((ttl, records)) = p.current(now_ms).and_then(|v| v.data.as_ref())
                    else {
                        continue;
                    };
                    let ttl = u32::try_from(*ttl).unwrap_or(u32::MAX);
                    match rrsets
                        .iter_mut()
                        .find(|r| r.name == p.name && r.rtype == p.rtype)
                    {
                        Some(existing) => {
                            existing.ttl = existing.ttl.min(ttl);
                            for v in records {
                                if !existing.records.contains(v) {
                                    existing.records.push(v.clone());
                                }
                            }
                        }
                        None => rrsets.push(DnsRrset {
                            name: p.name.clone(),
                            rtype: p.rtype.clone(),
                            ttl,
                            records: records.clone(),
                        }),
                    }
                }
                DnsZone {
                    name: z.name.clone(),
                    serial: z.serial,
                    email: z.email.clone(),
                    rrsets,
                }
            })
            .collect();
        DnsView { zones }
    }
}

/// Longest character-string of a TXT value.
const MAX_TXT_STRING: usize = 255;

/// Records `(name, type, ttl, value)` as the served model takes them: one
/// set per name and type, in first-seen order, with the smallest TTL.
pub(crate) fn group_rrsets(
    records: impl IntoIterator<Item = (String, String, u32, String)>,
) -> Vec<DnsRrset> {
    let mut out: Vec<DnsRrset> = Vec::new();
    for (name, rtype, ttl, value) in records {
        match out.iter_mut().find(|s| s.name == name && s.rtype == rtype) {
            Some(s) => {
                s.ttl = s.ttl.min(ttl);
                s.records.push(value);
            }
            None => out.push(DnsRrset {
                name,
                rtype,
                ttl,
                records: vec![value],
            }),
        }
    }
    out
}

/// `name` equals `zone` or lies below it (both lower-case, dot-terminated).
pub(crate) fn in_zone(name: &str, zone: &str) -> bool {
    name == zone
        || (name.len() > zone.len()
            && name.ends_with(zone)
            && name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// Lower-cases a fully qualified name and checks its shape.
pub(crate) fn normalize_name(raw: &str) -> Result<String, String> {
    let name = raw.to_ascii_lowercase();
    let Some(body) = name.strip_suffix('.') else {
        return Err(format!("name '{raw}' must end with a dot"));
    };
    if body.is_empty() || name.len() > 254 {
        return Err(format!("name '{raw}' is not a valid domain name"));
    }
    if body.split('.').any(|l| {
        l.is_empty() || l.len() > 63 || l.bytes().any(|b| b.is_ascii_whitespace() || b == b'"')
    }) {
        return Err(format!("name '{raw}' is not a valid domain name"));
    }
    Ok(name)
}

/// The character-strings of one TXT value in its text form
/// (`"a" "b"`), unquoted and unescaped. `Err` carries OTC's message.
pub(crate) fn txt_strings(value: &str) -> Result<Vec<Vec<u8>>, String> {
    if !value.starts_with('"') {
        return Err("TXT records missing starting quotation mark".to_string());
    }
    let b = value.as_bytes();
    let mut strings = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b[i] != b'"' {
            return Err("TXT records must be quoted strings separated by spaces".to_string());
        }
        i += 1;
        let mut s = Vec::new();
        loop {
            match b.get(i) {
                None => return Err("TXT records missing ending quotation mark".to_string()),
                Some(b'"') => {
                    i += 1;
                    break;
                }
                Some(b'\\') if i + 1 < b.len() => {
                    s.push(b[i + 1]);
                    i += 2;
                }
                Some(&c) => {
                    s.push(c);
                    i += 1;
                }
            }
        }
        if s.len() > MAX_TXT_STRING {
            return Err(format!(
                "TXT record string longer than {MAX_TXT_STRING} characters"
            ));
        }
        strings.push(s);
    }
    if strings
        .iter()
        .all(|s| s.iter().all(u8::is_ascii_whitespace))
    {
        return Err("TXT record is blank".to_string());
    }
    Ok(strings)
}

/// `MX` value: `<preference> <exchange>`.
pub(crate) fn parse_mx(value: &str) -> Option<(u16, String)> {
    let (pref, host) = value.trim().split_once(char::is_whitespace)?;
    let host = normalize_name(host.trim()).ok()?;
    Some((pref.parse().ok()?, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: &str = "example.test.";

    fn rr(name: &str, values: &[&str]) -> DnsRrset {
        DnsRrset {
            name: name.into(),
            rtype: "TXT".into(),
            ttl: 300,
            records: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn served(z: &ServedZones, t: u64, name: &str) -> Option<Vec<String>> {
        z.view(t).zones[0]
            .rrsets
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.records.clone())
    }

    #[test]
    fn publish_zone_serves_snapshots_after_the_delay() {
        let mut z = ServedZones::default();
        z.add_zone(Z, "hostmaster@example.test", 1);
        let a = "_acme-challenge.example.test.";
        // API-side changes are invisible until the cloud publishes them.
        z.publish_zone(Z, &[rr(a, &["\"v1\""])], 1000, 500);
        assert_eq!(served(&z, 1499, a), None);
        assert_eq!(served(&z, 1500, a).unwrap(), ["\"v1\""]);
        // Re-publishing an unchanged zone adds nothing to the served log.
        z.publish_zone(Z, &[rr(a, &["\"v1\""])], 2000, 0);
        z.publish_zone(Z, &[rr(a, &["\"v1\"", "\"v2\""])], 3000, 0);
        z.publish_zone(Z, &[], 4000, 100);
        assert_eq!(served(&z, 4099, a).unwrap().len(), 2);
        assert_eq!(served(&z, 4100, a), None);
        let log: Vec<_> = z
            .take_served(5000)
            .into_iter()
            .map(|c| (c.effective_ms, c.change))
            .collect();
        assert_eq!(
            log,
            [
                (1500, Change::Create),
                (3000, Change::Update),
                (4100, Change::Delete)
            ]
        );
        assert!(!z.has_key(&format!("{a} TXT")), "forgotten once served");
    }

    #[test]
    fn unknown_zones_and_unpublished_deletions_are_ignored() {
        let mut z = ServedZones::default();
        z.add_zone(Z, "h@example.test", 1);
        z.publish_set(
            "other.test.",
            "k",
            "a.other.test.",
            "TXT",
            Change::Create,
            Some((300, vec!["\"x\"".into()])),
            0,
            0,
        );
        z.publish_set(Z, "k", "a.example.test.", "TXT", Change::Delete, None, 0, 0);
        assert!(z.view(0).zones[0].rrsets.is_empty());
        assert!(z.take_served(0).is_empty());
        z.set_serial(Z, 7);
        assert_eq!(z.view(0).zones[0].serial, 7);
    }
}
