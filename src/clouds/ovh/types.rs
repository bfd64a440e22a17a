//! Wire shapes of OVHcloud's DNS API (only the fields we use; unknown ones
//! are ignored).

use serde::{Deserialize, Serialize};

/// One record as the API returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub id: u64,
    /// `""` for the apex; the API's schema allows `null` there too (real
    /// answers send `""`, ovh-api.md "Corrections"): both decode as the apex.
    #[serde(default, deserialize_with = "null_is_apex")]
    pub sub_domain: String,
    #[serde(default)]
    pub field_type: String,
    #[serde(default)]
    pub target: String,
    pub ttl: Option<u32>,
}

fn null_is_apex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// `POST …/record`'s body; field order as OVH documents it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRecord<'a> {
    pub field_type: &'a str,
    pub sub_domain: &'a str,
    pub target: &'a str,
    pub ttl: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneInfo {
    #[serde(default)]
    pub name_servers: Vec<String>,
}
