//! One folder per cloud: everything that knows a cloud's API lives here,
//! behind the seam of [`crate::provider`].

pub mod ncp;
