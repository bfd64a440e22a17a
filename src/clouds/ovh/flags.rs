//! The flags that exist for OVHcloud only, flattened into the CLI and grouped
//! under their own heading in `--help`. Given on the command line with another
//! cloud selected, they are refused (exit 2); in the environment they are
//! simply not read.

use clap::Args;

const HEADING: &str = "OVHcloud";

/// `--cloud` values these flags belong to.
pub const CLOUDS: &[&str] = &["ovh"];

#[derive(Debug, Args)]
pub struct OvhArgs {
    /// Service account (OAuth2 client credentials) id
    #[arg(long = "client-id", env = "OVH_CLIENT_ID", global = true, value_name = "ID", help_heading = HEADING)]
    pub client_id: Option<String>,
    /// Service account secret (prefer the variable, OVH_CLIENT_SECRET_FILE or a systemd credential)
    #[arg(long = "client-secret", env = "OVH_CLIENT_SECRET", global = true, value_name = "SECRET",
          hide_env_values = true, allow_hyphen_values = true, help_heading = HEADING)]
    pub client_secret: Option<String>,
    /// OAuth2 token URL [default: from --region: https://www.ovh.com/auth/oauth2/token, https://ca.ovh.com/auth/oauth2/token, https://us.ovhcloud.com/auth/oauth2/token]
    #[arg(long = "token-endpoint", env = "OTC_TOKEN_ENDPOINT", global = true, value_name = "URL", help_heading = HEADING)]
    pub token_endpoint: Option<String>,
}
