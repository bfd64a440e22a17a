//! OTC's runtime knobs: its keys of `GET`/`POST /_sim/config` (the core
//! holds `propagation_delay_ms`, `clock_offset_secs` and `faults`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::seed::{OtcSeed, TokenMode};

/// Ten years; longer makes `expires_at` absurd.
const MAX_CREDENTIAL_TTL_SECS: u64 = 10 * 366 * 86_400;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct OtcConfig {
    pub pending_delay_ms: u64,
    /// Both metadata endpoints answer 503.
    pub metadata_down: bool,
    pub metadata_enabled: bool,
    pub metadata_token: TokenMode,
    pub page_size: usize,
    pub credential_ttl_secs: u64,
    /// Lock an access key after more than 5 consecutive failures, as OTC does.
    pub ak_lockout: bool,
    /// `securitytokens` with `assume_role` accepts AK/SK signatures; when
    /// false it answers 403 (OTC documents the call with an IAM token only).
    pub iam_aksk_assume_role: bool,
}

impl OtcConfig {
    pub fn from_seed(seed: &OtcSeed<'_>) -> OtcConfig {
        OtcConfig {
            pending_delay_ms: seed.pending_delay_ms,
            metadata_down: false,
            metadata_enabled: seed.metadata.enabled,
            metadata_token: seed.metadata.token,
            page_size: seed.page_size.max(1),
            credential_ttl_secs: seed.credential_ttl_secs,
            ak_lockout: true,
            iam_aksk_assume_role: seed.iam_aksk_assume_role,
        }
    }

    /// Merges OTC's keys of a config body; nothing changes if any is invalid
    /// or unknown.
    pub fn apply(&mut self, patch: Map<String, Value>) -> Result<(), String> {
        let patch: ConfigPatch = serde_json::from_value(Value::Object(patch))
            .map_err(|e| format!("invalid config: {e}"))?;
        let mut next = self.clone();
        if let Some(v) = patch.pending_delay_ms {
            next.pending_delay_ms = v;
        }
        if let Some(v) = patch.metadata_down {
            next.metadata_down = v;
        }
        if let Some(v) = patch.metadata_enabled {
            next.metadata_enabled = v;
        }
        if let Some(v) = patch.metadata_token {
            next.metadata_token = v;
        }
        if let Some(v) = patch.page_size {
            if v == 0 {
                return Err("page_size must be at least 1".to_string());
            }
            next.page_size = v;
        }
        if let Some(v) = patch.credential_ttl_secs {
            // 0 is allowed: it issues credentials that are expired at once.
            if v > MAX_CREDENTIAL_TTL_SECS {
                return Err(format!(
                    "credential_ttl_secs must be at most {MAX_CREDENTIAL_TTL_SECS}"
                ));
            }
            next.credential_ttl_secs = v;
        }
        if let Some(v) = patch.ak_lockout {
            next.ak_lockout = v;
        }
        if let Some(v) = patch.iam_aksk_assume_role {
            next.iam_aksk_assume_role = v;
        }
        *self = next;
        Ok(())
    }

    pub fn to_json(&self) -> Map<String, Value> {
        crate::core::control::json_object(self)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    pending_delay_ms: Option<u64>,
    metadata_down: Option<bool>,
    metadata_enabled: Option<bool>,
    metadata_token: Option<TokenMode>,
    page_size: Option<usize>,
    credential_ttl_secs: Option<u64>,
    ak_lockout: Option<bool>,
    iam_aksk_assume_role: Option<bool>,
}
