//! The core part of a seed: zones with their records in the API's text
//! form, and the name servers every zone is served by. Clouds read zones
//! from here and add their own settings (see `crate::seed::Seed`).

use serde::{Deserialize, Serialize};

/// Public zones are served by the authoritative DNS; private ones only by the API.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ZoneType {
    #[default]
    Public,
    Private,
}

impl ZoneType {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneType::Public => "public",
            ZoneType::Private => "private",
        }
    }
}

/// A zone and its record sets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedZone {
    /// Generated (32 hex digits) if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Fully qualified; a missing final dot is added, case is folded.
    pub name: String,
    #[serde(default)]
    pub zone_type: ZoneType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub records: Vec<SeedRecordSet>,
}

/// A record set, in the API's form (TXT values carry their double quotes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedRecordSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default = "default_ttl")]
    pub ttl: i64,
    pub records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

pub(crate) fn default_ttl() -> i64 {
    300
}

/// Checks the `nameservers` of a seed.
pub(crate) fn validate_nameservers(nameservers: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !nameservers.is_empty(),
        "seed: nameservers must name at least one server"
    );
    for ns in nameservers {
        anyhow::ensure!(
            !ns.trim().is_empty() && !ns.contains(char::is_whitespace),
            "seed: invalid nameserver '{ns}'"
        );
    }
    Ok(())
}

/// Name servers lower-cased and dot-terminated.
pub(crate) fn normalized_nameservers(nameservers: &[String]) -> Vec<String> {
    nameservers
        .iter()
        .map(|ns| {
            let ns = ns.trim().to_ascii_lowercase();
            if ns.ends_with('.') {
                ns
            } else {
                format!("{ns}.")
            }
        })
        .collect()
}
