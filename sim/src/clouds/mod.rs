//! The registry of simulated clouds: one folder each, one line here.
//!
//! Adding a cloud: write `clouds/<name>/mod.rs` with a type implementing
//! `core::cloud::Cloud` and a constructor from its view of
//! the seed, then add a [`CloudKind`] variant and its arms below.

pub(crate) mod ncp;
pub(crate) mod otc;
pub(crate) mod ovh;

use crate::core::clock::Now;
use crate::core::cloud::Cloud;
use crate::seed::Seed;

/// The clouds `otc-sim` can simulate (`--cloud`, once there is more than one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CloudKind {
    #[default]
    Otc,
    Ovh,
    Ncp,
}

impl CloudKind {
    pub const ALL: &[CloudKind] = &[CloudKind::Otc, CloudKind::Ovh, CloudKind::Ncp];

    pub fn name(self) -> &'static str {
        match self {
            CloudKind::Otc => "otc",
            CloudKind::Ovh => "ovh",
            CloudKind::Ncp => "ncp",
        }
    }

    pub fn from_name(name: &str) -> Option<CloudKind> {
        CloudKind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// Builds the cloud from a validated seed.
pub(crate) fn build(kind: CloudKind, seed: &Seed, now: &Now) -> anyhow::Result<Box<dyn Cloud>> {
    Ok(match kind {
        CloudKind::Otc => Box::new(otc::Otc::from_seed(&seed.otc(), now)?),
        CloudKind::Ovh => Box::new(ovh::Ovh::from_seed(
            &seed.ovh,
            &seed.normalized_nameservers(),
            now,
        )?),
        CloudKind::Ncp => Box::new(ncp::Ncp::from_seed(&seed.ncp)?),
    })
}
