//! Wire shapes of the DNS v2 API (only the fields we use; unknown ones are ignored).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub zone_type: Option<String>,
}

impl Zone {
    pub fn is_public(&self) -> bool {
        // The listing is asked with type=public; a zone saying otherwise is skipped.
        self.zone_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("public"))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RecordSet {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    /// Required: a set listed without its values is a partial read, and a write
    /// computed from it would drop every foreign value.
    pub records: Vec<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl RecordSet {
    pub fn is_active(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "ACTIVE")
    }
    pub fn is_pending(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.starts_with("PENDING"))
    }
    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("ACTIVE")
    }
}

#[derive(Debug, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ZoneList {
    pub zones: Vec<Zone>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Debug, Deserialize)]
pub struct RecordSetList {
    pub recordsets: Vec<RecordSet>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Debug, Deserialize)]
pub struct NameServer {
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NameServers {
    #[serde(default)]
    pub nameservers: Vec<NameServer>,
}

/// POST body. Field order is fixed so the signed bytes are predictable.
#[derive(Debug, Serialize)]
pub struct CreateBody<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub rtype: &'a str,
    pub ttl: u32,
    pub records: &'a [String],
    pub description: &'a str,
}

/// PUT body: name, type, records and the set's current TTL (and description).
#[derive(Debug, Serialize)]
pub struct UpdateBody<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub rtype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    pub records: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

/// Error bodies: DNS service `code`/`message`, gateway `error_code`/`error_msg`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_msg: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_without_records_is_no_listing() {
        let partial = r#"{"recordsets":[{"id":"1","name":"a.","type":"TXT","status":"ACTIVE"}]}"#;
        assert!(serde_json::from_str::<RecordSetList>(partial).is_err());
        let mangled = r#"{"recordsets":[{"id":"1","name":"a.","type":"TXT","records":"\"x\""}]}"#;
        assert!(serde_json::from_str::<RecordSetList>(mangled).is_err());
        assert!(serde_json::from_str::<RecordSetList>(r#"{"links":{}}"#).is_err());
        let full = r#"{"recordsets":[{"id":"1","name":"a.","type":"TXT","records":["\"x\""]}]}"#;
        assert_eq!(
            serde_json::from_str::<RecordSetList>(full)
                .unwrap()
                .recordsets[0]
                .records,
            vec!["\"x\""]
        );
    }
}
