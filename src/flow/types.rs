//! The run's named types, shared by the engine, the journal's run shortcuts
//! and the per-name loop (a leaf: it imports none of them).

use crate::cloud_api::{TxtSet, Zone};
use crate::txt;

/// A TXT name of the run (after CNAME following) and the zone holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAt {
    pub zone: Zone,
    pub name: String,
}

/// Values at one name: to add, to remove, or as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub zone: Zone,
    pub name: String,
    pub values: Vec<String>,
    /// What the journal knows: the id our create answered for a value, as
    /// `(id, value)` (see [`DnsApi::known`](crate::cloud_api::DnsApi::known)).
    pub known: Vec<(String, String)>,
}

impl Group {
    pub fn new(zone: Zone, name: String, values: Vec<String>) -> Group {
        Group {
            zone,
            name,
            values,
            known: Vec::new(),
        }
    }
    pub(super) fn at(&self) -> NameAt {
        NameAt {
            zone: self.zone.clone(),
            name: self.name.clone(),
        }
    }
}

/// One value of ours at a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Own {
    pub name: String,
    pub value: String,
}

/// The provider's id of what holds `value` in `set` (OTC: the recordset; OVH
/// and NCP: the record), when the answer tells it.
pub(super) fn id_of(set: &TxtSet, value: &str) -> Option<String> {
    if set.ids.len() == set.records.len() {
        set.records
            .iter()
            .position(|r| txt::unquote(r) == value)
            .map(|i| set.ids[i].clone())
    } else if set.ids.len() == 1 {
        Some(set.ids[0].clone())
    } else {
        None
    }
}
