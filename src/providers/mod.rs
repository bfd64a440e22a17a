//! One folder per cloud. Each implements the seam of [`crate::provider`] and
//! owns everything of its API: signer, credential sources, error codes, flags.

pub mod otc;
