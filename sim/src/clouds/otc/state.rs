//! The DNS data of the simulated OTC account: zones, record sets, their
//! `PENDING_*` life cycle; each accepted write is published at once to the
//! core's [`ServedZones`], which serves it after the propagation delay.
//!
//! Pure logic, no sockets and no clocks: every operation takes the time it
//! runs at, so tests can inject any timeline. Pending transitions are computed
//! lazily from timestamps ([`Store::settle`]) instead of by timer threads.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

use crate::core::clock::{self, Now};
use crate::core::seed::{SeedZone, ZoneType};
use crate::core::served::{Change, ServedZones};
use crate::core::served::{in_zone, normalize_name, parse_mx, txt_strings};

/// TTL bounds the live service enforces (docs say 1.., the service says 300..).
pub(crate) const MIN_TTL: i64 = 300;
pub(crate) const MAX_TTL: i64 = 2_147_483_647;
pub(crate) const DEFAULT_TTL: i64 = 300;
const MAX_VALUES: usize = 50;
const MAX_VALUE_LEN: usize = 4096;
const MAX_DESCRIPTION: usize = 255;

/// A DNS service error: `{"code":"DNS.xxxx","message":"..."}` with a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// DNS.0308, the service's catch-all for an invalid value.
    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "DNS.0308", message)
    }

    pub fn zone_not_found() -> ApiError {
        ApiError::new(404, "DNS.0302", "zone not found")
    }

    pub fn recordset_not_found() -> ApiError {
        ApiError::new(404, "DNS.0313", "record set not found")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    PendingCreate,
    PendingUpdate,
    PendingDelete,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::PendingCreate => "PENDING_CREATE",
            Status::PendingUpdate => "PENDING_UPDATE",
            Status::PendingDelete => "PENDING_DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordSet {
    pub id: String,
    pub name: String,
    pub rtype: String,
    pub ttl: i64,
    /// As the API stores them: TXT values keep their double quotes.
    pub records: Vec<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub status: Status,
    /// Monotonic ms at which a `PENDING_*` status settles.
    pub pending_until_ms: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Zone {
    pub id: String,
    pub name: String,
    pub zone_type: ZoneType,
    pub description: Option<String>,
    pub email: String,
    pub ttl: i64,
    pub serial: u32,
    pub created_at: String,
    pub updated_at: String,
    pub recordsets: Vec<RecordSet>,
}

impl Zone {
    fn contains_name(&self, name: &str) -> bool {
        in_zone(name, &self.name)
    }

    /// Where a set is, so a caller can change it and then publish the change.
    fn recordset_index(&self, rs_id: &str) -> Result<usize, ApiError> {
        self.recordsets
            .iter()
            .position(|r| r.id == rs_id)
            .ok_or_else(ApiError::recordset_not_found)
    }

    fn find(&self, rs_id: &str) -> Result<&RecordSet, ApiError> {
        Ok(&self.recordsets[self.recordset_index(rs_id)?])
    }

    /// Hands a set's new state to the authoritative DNS: OTC publishes
    /// every accepted write at once; DNS serves it `delay_ms` later.
    #[allow(clippy::too_many_arguments)] // Mirrors ServedZones::publish_set.
    fn publish(
        &self,
        served: &mut ServedZones,
        rs_id: &str,
        now_ms: u64,
        delay_ms: u64,
        change: Change,
        name: &str,
        rtype: &str,
        rs: Option<&RecordSet>,
    ) {
        if self.zone_type != ZoneType::Public {
            return;
        }
        let data = rs.map(|r| (r.ttl, r.records.clone()));
        served.publish_set(
            &self.name, rs_id, name, rtype, change, data, now_ms, delay_ms,
        );
    }

    fn touch(&mut self, served: &mut ServedZones, now: &Now) {
        self.serial = self.serial.wrapping_add(1);
        self.updated_at = clock::format_api_timestamp(now.sim_us);
        if self.zone_type == ZoneType::Public {
            served.set_serial(&self.name, self.serial);
        }
    }
}

/// Delays in force when a change is accepted.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Delays {
    pub pending_ms: u64,
    pub propagation_ms: u64,
}

/// One page of a sorted listing.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// All matches, not just this page.
    pub total: usize,
    /// Set when more items follow: the id of this page's last item.
    pub next_marker: Option<String>,
}

/// Items (sorted by id) after `marker`, at most `limit` of them.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    marker: Option<&str>,
    limit: usize,
) -> Page<T> {
    let total = items.len();
    let mut rest: Vec<T> = match marker {
        Some(m) if !m.is_empty() => items.into_iter().filter(|i| id(i) > m).collect(),
        _ => items,
    };
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next_marker = if more {
        rest.last().map(|i| id(i).to_string())
    } else {
        None
    };
    Page {
        items: rest,
        total,
        next_marker,
    }
}

/// The account's DNS data.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    zones: Vec<Zone>,
    /// What the authoritative DNS serves of the public zones.
    served: ServedZones,
    next_id: u64,
    quota: usize,
}

const TYPES: &[&str] = &["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "PTR"];

/// Checks the values of a record set as the service would.
fn validate_records(rtype: &str, records: &[String]) -> Result<(), ApiError> {
    if records.is_empty() {
        return Err(ApiError::invalid("records is null or empty"));
    }
    if records.len() > MAX_VALUES {
        return Err(ApiError::invalid(format!(
            "records has more than {MAX_VALUES} values"
        )));
    }
    if rtype == "CNAME" && records.len() > 1 {
        return Err(ApiError::invalid(
            "a CNAME record set holds exactly one value",
        ));
    }
    for value in records {
        if value.trim().is_empty() {
            return Err(ApiError::invalid("records contains a blank value"));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(ApiError::invalid(format!(
                "a record value is longer than {MAX_VALUE_LEN} characters"
            )));
        }
        let ok = match rtype {
            "A" => value.parse::<Ipv4Addr>().is_ok(),
            "AAAA" => value.parse::<Ipv6Addr>().is_ok(),
            "CNAME" | "NS" | "PTR" => normalize_name(value).is_ok(),
            "MX" => parse_mx(value).is_some(),
            "TXT" => {
                txt_strings(value).map_err(ApiError::invalid)?;
                true
            }
            _ => true,
        };
        if !ok {
            return Err(ApiError::invalid(format!(
                "'{value}' is not a valid {rtype} record value"
            )));
        }
    }
    Ok(())
}

fn check_ttl(ttl: i64, min: i64) -> Result<(), ApiError> {
    if (min..=MAX_TTL).contains(&ttl) {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "DNS.0319",
            format!("The value ranges from {min} to {MAX_TTL}"),
        ))
    }
}

/// The fields of a create/update body, each already type-checked.
#[derive(Debug, Default)]
struct Body {
    name: Option<String>,
    rtype: Option<String>,
    ttl: Option<i64>,
    records: Option<Vec<String>>,
    description: Option<String>,
}

fn parse_body(bytes: &[u8]) -> Result<Body, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("request body is not valid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(ApiError::invalid("request body must be a JSON object"));
    };
    let string = |obj: &Map<String, Value>, key: &str| -> Result<Option<String>, ApiError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
        }
    };
    let ttl = match obj.get("ttl") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::invalid("ttl must be an integer"))?,
        ),
    };
    let records = match obj.get("records") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::invalid("records must be a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(ApiError::invalid("records must be a list of strings")),
    };
    let description = string(&obj, "description")?;
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(ApiError::invalid(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(Body {
        name: string(&obj, "name")?,
        rtype: string(&obj, "type")?.map(|t| t.to_ascii_uppercase()),
        ttl,
        records,
        description,
    })
}

fn check_type(rtype: &str) -> Result<(), ApiError> {
    if TYPES.contains(&rtype) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "unsupported record type '{rtype}'"
        )))
    }
}

/// Refuses a second set of the same name and type, and any CNAME sharing a name.
fn check_conflicts(zone: &Zone, name: &str, rtype: &str) -> Result<(), ApiError> {
    for other in zone.recordsets.iter().filter(|r| r.name == name) {
        if other.rtype == rtype {
            return Err(ApiError::new(
                400,
                "DNS.0312",
                "This record set name already exists",
            ));
        }
        if other.rtype == "CNAME" || rtype == "CNAME" {
            return Err(ApiError::new(
                400,
                "DNS.0312",
                format!(
                    "Attribute 'name' conflicts with Record Set '{}' type '{}'",
                    other.name, other.rtype
                ),
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Builds the store a seed describes, checking it as the API would
    /// (seeded TTLs may go below 300: sets made before the limit existed).
    pub fn from_seed(zones: &[SeedZone], quota: usize, now: &Now) -> anyhow::Result<Store> {
        let mut store = Store {
            zones: Vec::new(),
            served: ServedZones::default(),
            next_id: 1,
            quota,
        };
        let stamp = clock::format_api_timestamp(now.sim_us);
        let mut zone_ids = HashSet::new();
        let mut rs_ids = HashSet::new();
        for sz in zones {
            let raw = if sz.name.ends_with('.') {
                sz.name.clone()
            } else {
                format!("{}.", sz.name)
            };
            let name = normalize_name(&raw).map_err(|e| anyhow::anyhow!("seed zone: {e}"))?;
            if store
                .zones
                .iter()
                .any(|z| z.name == name && z.zone_type == sz.zone_type)
            {
                anyhow::bail!("seed has two {} zones named {name}", sz.zone_type.as_str());
            }
            let id = sz.id.clone().unwrap_or_default();
            let id = if id.is_empty() { String::new() } else { id };
            if !id.is_empty() && !zone_ids.insert(id.clone()) {
                anyhow::bail!("seed has two zones with id {id}");
            }
            store.zones.push(Zone {
                id,
                email: format!("hostmaster@{}", name.trim_end_matches('.')),
                name,
                zone_type: sz.zone_type,
                description: sz.description.clone(),
                ttl: DEFAULT_TTL,
                serial: 1,
                created_at: stamp.clone(),
                updated_at: stamp.clone(),
                recordsets: Vec::new(),
            });
            for r in &sz.records {
                if let Some(id) = r.id.as_ref().filter(|id| !rs_ids.insert((*id).clone())) {
                    anyhow::bail!("seed has two record sets with id {id}");
                }
            }
        }
        // Generated ids come after explicit ones are known, so they never collide.
        for (zi, sz) in zones.iter().enumerate() {
            if store.zones[zi].id.is_empty() {
                let id = store.fresh_id('2', &zone_ids);
                zone_ids.insert(id.clone());
                store.zones[zi].id = id;
            }
            let zone_name = store.zones[zi].name.clone();
            if store.zones[zi].zone_type == ZoneType::Public {
                let z = &store.zones[zi];
                store.served.add_zone(&z.name, &z.email, z.serial);
            }
            for r in &sz.records {
                let err = |e: &dyn std::fmt::Display| {
                    anyhow::anyhow!("seed record {} in zone {zone_name}: {e}", r.name)
                };
                let name = normalize_name(&r.name).map_err(|e| err(&e))?;
                if !in_zone(&name, &zone_name) {
                    return Err(err(&"name is not in the zone"));
                }
                let rtype = r.rtype.to_ascii_uppercase();
                check_type(&rtype).map_err(|e| err(&e.message))?;
                check_ttl(r.ttl, 1).map_err(|e| err(&e.message))?;
                validate_records(&rtype, &r.records).map_err(|e| err(&e.message))?;
                check_conflicts(&store.zones[zi], &name, &rtype).map_err(|e| err(&e.message))?;
                let id = match &r.id {
                    Some(id) => id.clone(),
                    None => {
                        let id = store.fresh_id('3', &rs_ids);
                        rs_ids.insert(id.clone());
                        id
                    }
                };
                let rs = RecordSet {
                    id: id.clone(),
                    name,
                    rtype,
                    ttl: r.ttl,
                    records: r.records.clone(),
                    description: r.description.clone(),
                    created_at: stamp.clone(),
                    updated_at: stamp.clone(),
                    status: Status::Active,
                    pending_until_ms: 0,
                };
                let zone = &mut store.zones[zi];
                zone.publish(
                    &mut store.served,
                    &id,
                    0,
                    0,
                    Change::Seed,
                    &rs.name,
                    &rs.rtype,
                    Some(&rs),
                );
                zone.recordsets.push(rs);
            }
        }
        // Seed data is served from the start: not a change worth logging.
        store.served.settle_seed();
        Ok(store)
    }

    /// A new 32-hex-digit id; ids sort in creation order.
    fn fresh_id(&mut self, kind: char, taken: &HashSet<String>) -> String {
        loop {
            let id = format!("ff80808{kind}{:024x}", self.next_id);
            self.next_id += 1;
            if !taken.contains(&id) {
                return id;
            }
        }
    }

    fn new_recordset_id(&mut self) -> String {
        let taken: HashSet<String> = self
            .zones
            .iter()
            .flat_map(|z| z.recordsets.iter().map(|r| r.id.clone()))
            .collect();
        // Nor the id of a deleted set DNS still serves.
        loop {
            let id = self.fresh_id('3', &taken);
            if !self.served.has_key(&id) {
                return id;
            }
        }
    }

    /// Applies every pending transition due by `now_ms`.
    pub fn settle(&mut self, now_ms: u64) {
        for zone in &mut self.zones {
            zone.recordsets
                .retain(|r| !(r.status == Status::PendingDelete && r.pending_until_ms <= now_ms));
            for rs in &mut zone.recordsets {
                if rs.status != Status::Active && rs.pending_until_ms <= now_ms {
                    rs.status = Status::Active;
                }
            }
        }
    }

    /// The authoritative DNS model, for the core's DNS server and log.
    pub fn served_mut(&mut self) -> &mut ServedZones {
        &mut self.served
    }

    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    pub fn zone(&self, id: &str) -> Result<&Zone, ApiError> {
        self.zones
            .iter()
            .find(|z| z.id == id)
            .ok_or_else(ApiError::zone_not_found)
    }

    /// The zone and the DNS model apart, so a change can be made to one and
    /// published to the other.
    fn zone_mut(&mut self, id: &str) -> Result<(&mut Zone, &mut ServedZones), ApiError> {
        let zone = self
            .zones
            .iter_mut()
            .find(|z| z.id == id)
            .ok_or_else(ApiError::zone_not_found)?;
        Ok((zone, &mut self.served))
    }

    /// Zones of one type whose name contains `name` (case-insensitive), by id.
    pub fn list_zones(&self, zone_type: ZoneType, name: Option<&str>) -> Vec<&Zone> {
        let needle = name.map(str::to_ascii_lowercase).unwrap_or_default();
        let mut zones: Vec<&Zone> = self
            .zones
            .iter()
            .filter(|z| z.zone_type == zone_type && z.name.contains(&needle))
            .collect();
        zones.sort_by(|a, b| a.id.cmp(&b.id));
        zones
    }

    /// Record sets of a zone: `name` a substring, `rtype` exact; by id.
    pub fn list_recordsets(
        &self,
        zone_id: &str,
        name: Option<&str>,
        rtype: Option<&str>,
    ) -> Result<Vec<&RecordSet>, ApiError> {
        let zone = self.zone(zone_id)?;
        let needle = name.map(str::to_ascii_lowercase).unwrap_or_default();
        let mut sets: Vec<&RecordSet> = zone
            .recordsets
            .iter()
            .filter(|r| r.name.contains(&needle))
            .filter(|r| rtype.is_none_or(|t| t.is_empty() || r.rtype.eq_ignore_ascii_case(t)))
            .collect();
        sets.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(sets)
    }

    pub fn recordset(&self, zone_id: &str, rs_id: &str) -> Result<&RecordSet, ApiError> {
        self.zone(zone_id)?.find(rs_id)
    }

    pub fn create_recordset(
        &mut self,
        zone_id: &str,
        body: &[u8],
        now: &Now,
        delays: Delays,
    ) -> Result<RecordSet, ApiError> {
        self.zone(zone_id)?;
        let body = parse_body(body)?;
        let zone = self.zone(zone_id)?;
        let raw_name = body
            .name
            .ok_or_else(|| ApiError::invalid("name is null or empty"))?;
        let name = normalize_name(&raw_name).map_err(ApiError::invalid)?;
        if !zone.contains_name(&name) {
            return Err(ApiError::invalid(format!(
                "name '{name}' does not belong to zone '{}'",
                zone.name
            )));
        }
        let rtype = body
            .rtype
            .ok_or_else(|| ApiError::invalid("type is null or empty"))?;
        check_type(&rtype)?;
        let records = body.records.unwrap_or_default();
        validate_records(&rtype, &records)?;
        let ttl = body.ttl.unwrap_or(DEFAULT_TTL);
        check_ttl(ttl, MIN_TTL)?;
        check_conflicts(zone, &name, &rtype)?;
        let count: usize = self.zones.iter().map(|z| z.recordsets.len()).sum();
        if count >= self.quota {
            return Err(ApiError::new(
                403,
                "DNS.0403",
                format!(
                    "Quota exceeded: at most {} record sets per account",
                    self.quota
                ),
            ));
        }
        let stamp = clock::format_api_timestamp(now.sim_us);
        let rs = RecordSet {
            id: self.new_recordset_id(),
            name,
            rtype,
            ttl,
            records,
            description: body.description,
            created_at: stamp.clone(),
            updated_at: stamp,
            // With no pending delay configured the change is in force at once.
            status: if delays.pending_ms == 0 {
                Status::Active
            } else {
                Status::PendingCreate
            },
            pending_until_ms: now.mono_ms.saturating_add(delays.pending_ms),
        };
        let (zone, served) = self.zone_mut(zone_id)?;
        zone.publish(
            served,
            &rs.id,
            now.mono_ms,
            delays.propagation_ms,
            Change::Create,
            &rs.name,
            &rs.rtype,
            Some(&rs),
        );
        zone.recordsets.push(rs.clone());
        zone.touch(served, now);
        Ok(rs)
    }

    pub fn update_recordset(
        &mut self,
        zone_id: &str,
        rs_id: &str,
        body: &[u8],
        now: &Now,
        delays: Delays,
    ) -> Result<RecordSet, ApiError> {
        let current = self.recordset(zone_id, rs_id)?.clone();
        if current.status != Status::Active {
            return Err(not_steady());
        }
        let body = parse_body(body)?;
        if let Some(raw) = &body.name {
            let name = normalize_name(raw).map_err(ApiError::invalid)?;
            if name != current.name {
                return Err(ApiError::invalid(
                    "the name of a record set cannot be changed",
                ));
            }
        }
        if body.rtype.as_ref().is_some_and(|t| *t != current.rtype) {
            return Err(ApiError::invalid(
                "the type of a record set cannot be changed",
            ));
        }
        let records = body.records.unwrap_or_default();
        validate_records(&current.rtype, &records)?;
        let ttl = body.ttl.unwrap_or(current.ttl);
        if body.ttl.is_some() {
            check_ttl(ttl, MIN_TTL)?;
        }
        let (zone, served) = self.zone_mut(zone_id)?;
        let idx = zone.recordset_index(rs_id)?;
        let rs = &mut zone.recordsets[idx];
        rs.ttl = ttl;
        rs.records = records;
        if body.description.is_some() {
            rs.description = body.description;
        }
        rs.updated_at = clock::format_api_timestamp(now.sim_us);
        rs.status = if delays.pending_ms == 0 {
            Status::Active
        } else {
            Status::PendingUpdate
        };
        rs.pending_until_ms = now.mono_ms.saturating_add(delays.pending_ms);
        let rs = rs.clone();
        zone.publish(
            served,
            rs_id,
            now.mono_ms,
            delays.propagation_ms,
            Change::Update,
            &rs.name,
            &rs.rtype,
            Some(&rs),
        );
        zone.touch(served, now);
        Ok(rs)
    }

    /// Removes TXT `value` from every public set that holds it, as a racing
    /// writer's PUT would (applied at once, then published as usual).
    /// Whether any set held it.
    pub fn drop_value(&mut self, value: &str, now: &Now, delays: Delays) -> bool {
        let quoted = format!("\"{value}\"");
        let mut dropped = false;
        let served = &mut self.served;
        for zone in &mut self.zones {
            if zone.zone_type != ZoneType::Public {
                continue;
            }
            let ids: Vec<String> = zone
                .recordsets
                .iter()
                .filter(|r| r.rtype == "TXT" && r.records.contains(&quoted) && r.records.len() > 1)
                .map(|r| r.id.clone())
                .collect();
            for id in ids {
                let Ok(idx) = zone.recordset_index(&id) else {
                    continue;
                };
                let rs = &mut zone.recordsets[idx];
                rs.records.retain(|r| *r != quoted);
                dropped = true;
                rs.updated_at = clock::format_api_timestamp(now.sim_us);
                let rs = rs.clone();
                zone.publish(
                    served,
                    &id,
                    now.mono_ms,
                    delays.propagation_ms,
                    Change::Update,
                    &rs.name,
                    &rs.rtype,
                    Some(&rs),
                );
                zone.touch(served, now);
            }
        }
        dropped
    }

    pub fn delete_recordset(
        &mut self,
        zone_id: &str,
        rs_id: &str,
        now: &Now,
        delays: Delays,
    ) -> Result<RecordSet, ApiError> {
        let (zone, served) = self.zone_mut(zone_id)?;
        let idx = zone.recordset_index(rs_id)?;
        let rs = &mut zone.recordsets[idx];
        if rs.status != Status::Active {
            return Err(not_steady());
        }
        rs.status = Status::PendingDelete;
        rs.updated_at = clock::format_api_timestamp(now.sim_us);
        rs.pending_until_ms = now.mono_ms.saturating_add(delays.pending_ms);
        let rs = rs.clone();
        zone.publish(
            served,
            rs_id,
            now.mono_ms,
            delays.propagation_ms,
            Change::Delete,
            &rs.name,
            &rs.rtype,
            None,
        );
        zone.touch(served, now);
        Ok(rs)
    }
}

fn not_steady() -> ApiError {
    ApiError::new(400, "DNS.0314", "The record set is not in a steady state")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::seed::SeedRecordSet;

    const ZONE: &str = "zone-public";

    fn seed() -> Vec<SeedZone> {
        vec![
            SeedZone {
                id: Some(ZONE.into()),
                name: "example.test".into(),
                zone_type: ZoneType::Public,
                description: None,
                records: vec![
                    SeedRecordSet {
                        id: Some("rs-foreign".into()),
                        name: "_acme-challenge.example.test.".into(),
                        rtype: "TXT".into(),
                        ttl: 600,
                        records: vec!["\"keep-me\"".into()],
                        description: None,
                    },
                    SeedRecordSet {
                        id: None,
                        name: "alias.example.test.".into(),
                        rtype: "CNAME".into(),
                        ttl: 300,
                        records: vec!["target.example.test.".into()],
                        description: None,
                    },
                ],
            },
            SeedZone {
                id: Some("zone-private".into()),
                name: "example.test.".into(),
                zone_type: ZoneType::Private,
                description: None,
                records: vec![],
            },
            SeedZone {
                id: None,
                name: "other.test.".into(),
                zone_type: ZoneType::Public,
                description: None,
                records: vec![],
            },
        ]
    }

    fn store() -> Store {
        Store::from_seed(&seed(), 500, &Now::at(0)).unwrap()
    }

    const D: Delays = Delays {
        pending_ms: 500,
        propagation_ms: 1000,
    };

    fn create(s: &mut Store, t: u64, body: &str) -> Result<RecordSet, ApiError> {
        s.create_recordset(ZONE, body.as_bytes(), &Now::at(t), D)
    }

    fn txt_body(name: &str, values: &[&str]) -> String {
        serde_json::json!({"name": name, "type": "TXT", "records": values}).to_string()
    }

    fn served(s: &Store, t: u64, name: &str) -> Option<Vec<String>> {
        s.served.values_at(t, name, "TXT")
    }

    #[test]
    fn seed_normalizes_names_and_generates_ids() {
        let s = store();
        let names: Vec<_> = s.zones().iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["example.test.", "example.test.", "other.test."]);
        let generated = &s.zones()[2].id;
        assert_eq!(generated.len(), 32);
        assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(s.zones()[0].recordsets[1].id.len(), 32);
    }

    #[test]
    fn zone_listing_filters_by_type_and_substring() {
        let s = store();
        let names = |t, n| {
            s.list_zones(t, n)
                .iter()
                .map(|z| z.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(ZoneType::Public, None).len(), 2);
        assert_eq!(names(ZoneType::Public, Some("EXAMPLE")), [ZONE]);
        assert_eq!(names(ZoneType::Public, Some("ample.te")), [ZONE]);
        assert_eq!(
            names(ZoneType::Private, Some("example.test.")),
            ["zone-private"]
        );
        assert!(names(ZoneType::Public, Some("nomatch")).is_empty());
        // The filter is fuzzy: "test." matches both public zones.
        assert_eq!(names(ZoneType::Public, Some("test.")).len(), 2);
    }

    #[test]
    fn pagination_walks_all_items() {
        let items: Vec<String> = (1..=5).map(|i| format!("id{i}")).collect();
        let p = paginate(items.clone(), |s| s, None, 2);
        assert_eq!(p.items, ["id1", "id2"]);
        assert_eq!(p.total, 5);
        assert_eq!(p.next_marker.as_deref(), Some("id2"));
        let p = paginate(items.clone(), |s| s, Some("id2"), 2);
        assert_eq!(p.items, ["id3", "id4"]);
        let p = paginate(items.clone(), |s| s, Some("id4"), 2);
        assert_eq!(p.items, ["id5"]);
        assert_eq!(p.next_marker, None);
        let p = paginate(items.clone(), |s| s, Some("id3"), 2);
        assert_eq!(p.items, ["id4", "id5"]);
        assert_eq!(p.next_marker, None, "no next link when nothing remains");
        assert_eq!(paginate(items, |s| s, None, 10).next_marker, None);
    }

    #[test]
    fn recordset_listing_filters() {
        let mut s = store();
        create(
            &mut s,
            0,
            &txt_body("_acme-challenge.www.example.test.", &["\"a\""]),
        )
        .unwrap();
        let ids = |name, t| s.list_recordsets(ZONE, name, t).unwrap().len();
        assert_eq!(ids(None, None), 3);
        assert_eq!(ids(Some("_acme-challenge"), Some("TXT")), 2);
        assert_eq!(ids(Some("_acme-challenge.example.test."), Some("TXT")), 1);
        assert_eq!(ids(Some("_ACME-challenge"), Some("txt")), 2);
        assert_eq!(ids(Some("_acme-challenge"), Some("CNAME")), 0);
        assert_eq!(
            s.list_recordsets("nope", None, None).unwrap_err().code,
            "DNS.0302"
        );
    }

    #[test]
    fn create_goes_pending_then_active() {
        let mut s = store();
        let rs = create(
            &mut s,
            1000,
            &txt_body("_ACME-challenge.www.example.test.", &["\"v1\""]),
        )
        .unwrap();
        assert_eq!(rs.status, Status::PendingCreate);
        assert_eq!(rs.name, "_acme-challenge.www.example.test.", "lower-cased");
        assert_eq!(rs.ttl, 300, "default ttl");
        s.settle(1499);
        assert_eq!(
            s.recordset(ZONE, &rs.id).unwrap().status,
            Status::PendingCreate
        );
        s.settle(1500);
        assert_eq!(s.recordset(ZONE, &rs.id).unwrap().status, Status::Active);
    }

    #[test]
    fn changes_while_pending_are_refused() {
        let mut s = store();
        let rs = create(&mut s, 0, &txt_body("x.example.test.", &["\"v1\""])).unwrap();
        let upd = txt_body("x.example.test.", &["\"v1\"", "\"v2\""]);
        let err = s
            .update_recordset(ZONE, &rs.id, upd.as_bytes(), &Now::at(100), D)
            .unwrap_err();
        assert_eq!((err.status, err.code), (400, "DNS.0314"));
        assert_eq!(
            s.delete_recordset(ZONE, &rs.id, &Now::at(100), D)
                .unwrap_err()
                .code,
            "DNS.0314"
        );
        assert_eq!(
            s.recordset(ZONE, &rs.id).unwrap().records,
            ["\"v1\""],
            "no change made"
        );

        s.settle(500);
        let updated = s
            .update_recordset(ZONE, &rs.id, upd.as_bytes(), &Now::at(500), D)
            .unwrap();
        assert_eq!(updated.status, Status::PendingUpdate);
        assert_eq!(updated.records.len(), 2);
        s.settle(1000);
        let deleted = s.delete_recordset(ZONE, &rs.id, &Now::at(1000), D).unwrap();
        assert_eq!(deleted.status, Status::PendingDelete);
        s.settle(1499);
        assert_eq!(
            s.recordset(ZONE, &rs.id).unwrap().status,
            Status::PendingDelete,
            "still listed"
        );
        s.settle(1500);
        assert_eq!(s.recordset(ZONE, &rs.id).unwrap_err().code, "DNS.0313");
    }

    #[test]
    fn update_keeps_ttl_and_description_when_omitted() {
        let mut s = store();
        s.settle(0);
        let body = r#"{"records":["\"new\""]}"#;
        let rs = s
            .update_recordset(ZONE, "rs-foreign", body.as_bytes(), &Now::at(0), D)
            .unwrap();
        assert_eq!(rs.ttl, 600);
        let body = r#"{"name":"_acme-challenge.example.test.","type":"TXT","ttl":900,"records":["\"x\""],"description":"d"}"#;
        s.settle(1000);
        let rs = s
            .update_recordset(ZONE, "rs-foreign", body.as_bytes(), &Now::at(1000), D)
            .unwrap();
        assert_eq!((rs.ttl, rs.description.as_deref()), (900, Some("d")));
        s.settle(2000);
        let body = r#"{"name":"other.example.test.","records":["\"x\""]}"#;
        assert_eq!(
            s.update_recordset(ZONE, "rs-foreign", body.as_bytes(), &Now::at(2000), D)
                .unwrap_err()
                .code,
            "DNS.0308"
        );
        let body = r#"{"records":[]}"#;
        let err = s
            .update_recordset(ZONE, "rs-foreign", body.as_bytes(), &Now::at(2000), D)
            .unwrap_err();
        assert_eq!(err.message, "records is null or empty");
    }

    #[test]
    fn create_validation_matches_the_service() {
        let mut s = store();
        let cases: &[(&str, u16, &str, &str)] = &[
            ("{", 400, "DNS.0308", ""),
            ("[]", 400, "DNS.0308", ""),
            (
                r#"{"name":"x.example.test.","type":"TXT"}"#,
                400,
                "DNS.0308",
                "records is null or empty",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","records":[]}"#,
                400,
                "DNS.0308",
                "records is null or empty",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","records":["v"]}"#,
                400,
                "DNS.0308",
                "TXT records missing starting quotation mark",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","records":["\"v"]}"#,
                400,
                "DNS.0308",
                "TXT records missing ending quotation mark",
            ),
            (
                r#"{"name":"x.example.test","type":"TXT","records":["\"v\""]}"#,
                400,
                "DNS.0308",
                "",
            ),
            (
                r#"{"name":"x.other.test.","type":"TXT","records":["\"v\""]}"#,
                400,
                "DNS.0308",
                "",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","ttl":299,"records":["\"v\""]}"#,
                400,
                "DNS.0319",
                "The value ranges from 300 to 2147483647",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","ttl":2147483648,"records":["\"v\""]}"#,
                400,
                "DNS.0319",
                "",
            ),
            (
                r#"{"name":"x.example.test.","type":"TXT","ttl":"300","records":["\"v\""]}"#,
                400,
                "DNS.0308",
                "",
            ),
            (
                r#"{"name":"x.example.test.","type":"BOGUS","records":["v"]}"#,
                400,
                "DNS.0308",
                "",
            ),
            (
                r#"{"name":"x.example.test.","type":"A","records":["300.1.1.1"]}"#,
                400,
                "DNS.0308",
                "",
            ),
            (
                r#"{"name":"_acme-challenge.example.test.","type":"TXT","records":["\"v\""]}"#,
                400,
                "DNS.0312",
                "This record set name already exists",
            ),
            (
                r#"{"name":"alias.example.test.","type":"TXT","records":["\"v\""]}"#,
                400,
                "DNS.0312",
                "Attribute 'name' conflicts with Record Set 'alias.example.test.' type 'CNAME'",
            ),
            (
                r#"{"name":"_acme-challenge.example.test.","type":"CNAME","records":["t.example.test."]}"#,
                400,
                "DNS.0312",
                "conflicts",
            ),
        ];
        for (body, status, code, msg) in cases {
            let err = create(&mut s, 0, body).unwrap_err();
            assert_eq!((err.status, err.code), (*status, *code), "{body}: {err:?}");
            assert!(err.message.contains(msg), "{body}: {}", err.message);
        }
        let long = format!("\"{}\"", "a".repeat(256));
        assert_eq!(
            create(&mut s, 0, &txt_body("y.example.test.", &[&long]))
                .unwrap_err()
                .code,
            "DNS.0308"
        );
        let many: Vec<String> = (0..51).map(|i| format!("\"v{i}\"")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            create(&mut s, 0, &txt_body("y.example.test.", &many))
                .unwrap_err()
                .code,
            "DNS.0308"
        );
        // Exactly at the limits is fine; several strings in one value too.
        let max = format!("\"{}\" \"b\"", "a".repeat(255));
        assert!(create(&mut s, 0, &txt_body("y.example.test.", &[&max])).is_ok());
        assert_eq!(
            s.create_recordset("nope", b"{}", &Now::at(0), D)
                .unwrap_err()
                .code,
            "DNS.0302"
        );
    }

    #[test]
    fn quota_is_enforced() {
        let mut s = Store::from_seed(&seed(), 3, &Now::at(0)).unwrap();
        create(&mut s, 0, &txt_body("a.example.test.", &["\"v\""])).unwrap();
        let err = create(&mut s, 0, &txt_body("b.example.test.", &["\"v\""])).unwrap_err();
        assert_eq!((err.status, err.code), (403, "DNS.0403"));
    }

    #[test]
    fn txt_strings_unquote() {
        assert_eq!(txt_strings("\"abc\"").unwrap(), [b"abc".to_vec()]);
        assert_eq!(
            txt_strings("\"a\" \"b c\"").unwrap(),
            [b"a".to_vec(), b"b c".to_vec()]
        );
        assert_eq!(
            txt_strings(r#""say \"hi\"""#).unwrap(),
            [b"say \"hi\"".to_vec()]
        );
        assert!(txt_strings("\"a\" b").is_err());
        assert!(txt_strings("\"\"").is_err(), "blank");
        assert!(
            txt_strings("\"a\\\"").is_err(),
            "escaped final quote leaves it open"
        );
    }

    #[test]
    fn dns_sees_changes_after_propagation_delay() {
        let mut s = store();
        let name = "_acme-challenge.www.example.test.";
        let rs = create(&mut s, 1000, &txt_body(name, &["\"v1\""])).unwrap();
        assert_eq!(served(&s, 1999, name), None);
        assert_eq!(served(&s, 2000, name).unwrap(), ["\"v1\""]);

        s.settle(3000);
        let upd = txt_body(name, &["\"v1\"", "\"v2\""]);
        s.update_recordset(ZONE, &rs.id, upd.as_bytes(), &Now::at(3000), D)
            .unwrap();
        assert_eq!(served(&s, 3999, name).unwrap(), ["\"v1\""]);
        assert_eq!(served(&s, 4000, name).unwrap().len(), 2);

        s.settle(5000);
        s.delete_recordset(ZONE, &rs.id, &Now::at(5000), D).unwrap();
        s.settle(5600);
        assert!(s.recordset(ZONE, &rs.id).is_err(), "gone from the API");
        assert!(
            served(&s, 5600, name).is_some(),
            "still served until propagated"
        );
        assert_eq!(served(&s, 6000, name), None);

        // The served log holds each change once, stamped with its effective time.
        let log = s.served.take_served(10_000);
        let got: Vec<_> = log.iter().map(|c| (c.effective_ms, c.change)).collect();
        assert_eq!(
            got,
            [
                (2000, Change::Create),
                (4000, Change::Update),
                (6000, Change::Delete)
            ]
        );
        assert!(s.served.take_served(20_000).is_empty());
        assert_eq!(served(&s, 20_000, name), None);
    }

    #[test]
    fn served_log_is_not_early_and_skips_private_and_seed() {
        let mut s = store();
        create(&mut s, 0, &txt_body("a.example.test.", &["\"v\""])).unwrap();
        s.create_recordset(
            "zone-private",
            txt_body("a.example.test.", &["\"p\""]).as_bytes(),
            &Now::at(0),
            D,
        )
        .unwrap();
        assert!(s.served.take_served(999).is_empty());
        let log = s.served.take_served(5000);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].records, ["\"v\""]);
        // Private zones are never in the DNS view; the seed's data is served at once.
        let view = s.served.view(5000);
        assert_eq!(view.zones.len(), 2);
        assert!(served(&s, 0, "_acme-challenge.example.test.").is_some());
    }

    #[test]
    fn effective_times_never_go_backwards() {
        let mut s = store();
        let name = "m.example.test.";
        let rs = create(&mut s, 0, &txt_body(name, &["\"slow\""])).unwrap();
        s.settle(600);
        let fast = Delays {
            pending_ms: 0,
            propagation_ms: 0,
        };
        let upd = txt_body(name, &["\"fast\""]);
        s.update_recordset(ZONE, &rs.id, upd.as_bytes(), &Now::at(600), fast)
            .unwrap();
        // The update cannot overtake the create still propagating until 1000.
        assert_eq!(served(&s, 700, name), None);
        assert_eq!(served(&s, 1000, name).unwrap(), ["\"fast\""]);
    }
}
