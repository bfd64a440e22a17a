//! Wire shapes of Global DNS v1 (only the fields we use; unknown ones are
//! ignored).

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct Page<T> {
    pub content: Vec<T>,
    #[serde(default)]
    pub last: Option<bool>,
    #[serde(default, rename = "totalPages")]
    pub total_pages: Option<u32>,
}

#[derive(Deserialize)]
pub struct Domain {
    pub id: Value,
    pub name: String,
    /// Not documented for v1; read when present.
    #[serde(default, alias = "nameservers", rename = "nameServers")]
    pub name_servers: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct Record {
    pub id: Value,
    pub host: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// Required: a record listed without its content is a partial read.
    pub content: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default, rename = "delYn")]
    pub del_yn: bool,
}
