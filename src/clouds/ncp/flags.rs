//! The flags that exist for NAVER Cloud only: none so far. Its keys come
//! through the shared `--ak`/`--sk` (read under NCP's own variable names),
//! its endpoints through `--region`/`--dns-endpoint`/`--metadata-url`.

use clap::Args;

/// `--cloud` values these flags belong to.
pub const CLOUDS: &[&str] = &["ncp"];

#[derive(Debug, Args)]
pub struct NcpArgs {}
