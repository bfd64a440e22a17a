//! OTC's part of a seed: permanent keys, metadata behaviour, and the
//! identities IAM and CCE accept (agencies, OIDC providers, pod identities).
//! The JSON fields live flat in `crate::seed::Seed`; [`OtcSeed`] is the view
//! of them this cloud is built from.

use serde::{Deserialize, Serialize};

use crate::core::seed::SeedZone;

/// A permanent access key / secret key pair.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedCredential {
    pub access: String,
    pub secret: String,
}

impl std::fmt::Debug for SeedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedCredential")
            .field("access", &self.access)
            .field("secret", &"** redacted **")
            .finish()
    }
}

/// An agency another account (the delegating party, `domain_*`) created for
/// us: IAM hands out its temporary credentials to the trusted access keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedAgency {
    /// Agency name (`agency_name`, alias `xrole_name`).
    pub name: String,
    /// Name of the delegating account.
    pub domain_name: String,
    /// ID of the delegating account.
    pub domain_id: String,
    /// Access keys (permanent, from `credentials`) allowed to assume it;
    /// `"*"` trusts every key the simulator accepts, temporary ones included.
    #[serde(default)]
    pub trusted_access_keys: Vec<String>,
}

impl SeedAgency {
    /// Whether `access` may assume this agency.
    pub(crate) fn trusts(&self, access: &str) -> bool {
        self.trusted_access_keys
            .iter()
            .any(|k| k == "*" || k == access)
    }
}

/// An OIDC identity provider of IAM and the one ID token it accepts.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedOidc {
    /// Sent as `X-Idp-Id`.
    pub idp_id: String,
    /// The exact token string accepted (a JWT in real life; never checked as one).
    pub id_token: String,
    /// The project the token is scoped to.
    pub project_id: String,
}

impl std::fmt::Debug for SeedOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedOidc")
            .field("idp_id", &self.idp_id)
            .field("id_token", &"** redacted **")
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// A CCE pod identity association: a service account token and where it is valid.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeedPodIdentity {
    /// The service account token (the SDKs' `HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
    pub token: String,
    pub project_id: String,
    pub cluster_id: String,
}

impl std::fmt::Debug for SeedPodIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedPodIdentity")
            .field("token", &"** redacted **")
            .field("project_id", &self.project_id)
            .field("cluster_id", &self.cluster_id)
            .finish()
    }
}

/// Behaviour of the ECS metadata service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SeedMetadata {
    /// `false` = no agency attached: the credential endpoint answers 401. Defaults to true.
    pub enabled: bool,
    /// Whether the IMDS-style session token is optional, required, or not offered.
    /// Defaults to optional.
    pub token: TokenMode,
}

impl Default for SeedMetadata {
    fn default() -> SeedMetadata {
        SeedMetadata {
            enabled: true,
            token: TokenMode::Optional,
        }
    }
}

/// How the metadata service treats `X-Metadata-Token`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TokenMode {
    /// Tokens are issued; a request without one is served, a wrong one refused.
    #[default]
    Optional,
    /// A credential request without a valid token gets 401.
    Required,
    /// The token endpoint answers 404 (older metadata service).
    Absent,
}

/// What the OTC cloud is built from: its fields of the seed, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtcSeed<'a> {
    pub credentials: &'a [SeedCredential],
    pub metadata: &'a SeedMetadata,
    pub zones: &'a [SeedZone],
    pub pending_delay_ms: u64,
    pub page_size: usize,
    pub credential_ttl_secs: u64,
    pub recordset_quota: usize,
    pub agencies: &'a [SeedAgency],
    pub oidc: &'a [SeedOidc],
    pub pod_identities: &'a [SeedPodIdentity],
    pub iam_aksk_assume_role: bool,
}

impl OtcSeed<'_> {
    /// Checks what serde cannot: limits, unique keys, identities, and every
    /// zone and record set as the API would accept it.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.page_size >= 1, "seed: page_size must be at least 1");
        for (i, c) in self.credentials.iter().enumerate() {
            anyhow::ensure!(
                !c.access.is_empty() && !c.secret.is_empty(),
                "seed: credential {i} needs a non-empty access and secret"
            );
            anyhow::ensure!(
                !self.credentials[..i].iter().any(|o| o.access == c.access),
                "seed: access key {} is listed twice",
                c.access
            );
        }
        self.validate_identities()?;
        super::state::Store::from_seed(
            self.zones,
            self.recordset_quota,
            &crate::core::clock::Now::zero(),
        )?;
        Ok(())
    }

    /// Agencies, OIDC providers and pod identities: non-empty fields, no
    /// duplicates, and one ID per account name.
    pub(crate) fn validate_identities(&self) -> anyhow::Result<()> {
        let blank = |s: &str| s.trim().is_empty();
        for (i, a) in self.agencies.iter().enumerate() {
            anyhow::ensure!(
                !blank(&a.name) && !blank(&a.domain_name) && !blank(&a.domain_id),
                "seed: agency {i} needs a non-empty name, domain_name and domain_id"
            );
            anyhow::ensure!(
                !a.trusted_access_keys.iter().any(|k| blank(k)),
                "seed: agency {} has an empty trusted access key",
                a.name
            );
            for o in &self.agencies[..i] {
                anyhow::ensure!(
                    (o.domain_name == a.domain_name) == (o.domain_id == a.domain_id),
                    "seed: account {} / {} conflicts with {} / {} (one ID per account name)",
                    a.domain_name,
                    a.domain_id,
                    o.domain_name,
                    o.domain_id
                );
                anyhow::ensure!(
                    !(o.name == a.name && o.domain_id == a.domain_id),
                    "seed: agency {} of account {} is listed twice",
                    a.name,
                    a.domain_name
                );
            }
        }
        for (i, o) in self.oidc.iter().enumerate() {
            anyhow::ensure!(
                !blank(&o.idp_id) && !blank(&o.id_token) && !blank(&o.project_id),
                "seed: oidc entry {i} needs a non-empty idp_id, id_token and project_id"
            );
            anyhow::ensure!(
                !self.oidc[..i]
                    .iter()
                    .any(|p| p.idp_id == o.idp_id && p.id_token == o.id_token),
                "seed: oidc entry {i} repeats an idp_id and id_token"
            );
        }
        for (i, p) in self.pod_identities.iter().enumerate() {
            anyhow::ensure!(
                !blank(&p.token) && !blank(&p.project_id) && !blank(&p.cluster_id),
                "seed: pod identity {i} needs a non-empty token, project_id and cluster_id"
            );
            anyhow::ensure!(
                !self.pod_identities[..i].iter().any(|o| o.token == p.token),
                "seed: pod identity {i} repeats a token"
            );
        }
        Ok(())
    }
}
