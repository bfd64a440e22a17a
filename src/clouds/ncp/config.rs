//! NCP settings from the shared flags ([`CloudInput`]), checked before any
//! network call. NCP reads its own environment names (`NCLOUD_*`); the
//! `OS_*` values clap gathered for OTC are never looked at.

use std::collections::HashMap;
use std::fmt;

use super::credentials::{ENV_ACCESS, ENV_SECRET};
use super::{Given, Settings};
use crate::cloud_api::CloudInput;
use crate::error::Result;
use crate::http::Url;

/// Variables read here by hand (the NCP tools' names of the keys), which a
/// config file may set too.
pub const ENV_READ_BY_HAND: [&str; 4] =
    [ENV_ACCESS[0], ENV_ACCESS[1], ENV_SECRET[0], ENV_SECRET[1]];
pub const ENV_READ_BY_HAND_WHAT: &str = "NAVER Cloud's keys (--cloud ncp; the NCP tools' names)";

/// This cloud's variables that hold a secret.
pub const SECRET_VARIABLES: [&str; 2] = ENV_SECRET;
/// Each setting's names: the primary one first.
pub const ALIASES: [&[&str]; 2] = [&ENV_ACCESS, &ENV_SECRET];

/// The environment names NCP reads (the keys, the home directory, systemd's
/// credentials directory).
fn read_by_hand() -> impl Iterator<Item = &'static str> {
    ENV_READ_BY_HAND
        .into_iter()
        .chain(["HOME", crate::keyfile::CREDENTIALS_DIRECTORY])
}

/// The few environment values NCP reads, kept for `connect`; never printed.
#[derive(Clone, Default)]
pub struct EnvSnapshot(HashMap<String, String>);

impl EnvSnapshot {
    pub fn get(&self, k: &str) -> Option<String> {
        self.0.get(k).cloned().filter(|v| !v.trim().is_empty())
    }
}

impl fmt::Debug for EnvSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("EnvSnapshot").field(&names).finish()
    }
}

/// Everything an NCP run needs to connect.
#[derive(Debug, Clone)]
pub struct NcpConfig {
    pub settings: Settings,
    pub env: EnvSnapshot,
}

impl NcpConfig {
    pub fn dns_endpoint(&self) -> &Url {
        &self.settings.dns_base
    }
}

/// The warning for a secret given on the command line.
pub fn command_line_secret_warning(flag: &str) -> String {
    format!(
        "{flag} on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer the server role, or NCLOUD_SECRET_ACCESS_KEY in a root-only environment"
    )
}

pub fn configure(input: &CloudInput) -> Result<NcpConfig> {
    let path = input.credentials_file.as_deref().map(std::path::Path::new);
    // Only what was typed: OS_ACCESS_KEY/OS_SECRET_KEY/OS_SECURITY_TOKEN are OTC's.
    let settings = Settings::resolve(&Given {
        region: input.region.as_deref(),
        dns_endpoint: input.dns_endpoint.as_deref(),
        metadata_url: input.metadata_url.as_deref(),
        ak: input.flag_keys.access.as_deref(),
        sk: input.flag_keys.secret.as_deref(),
        token: input.flag_keys.token.as_deref(),
        credentials_file: path,
        credentials: input.credentials.as_deref(),
    })?;
    let env = read_by_hand()
        .filter_map(|k| input.env.get(k).map(|v| (k.to_string(), v.clone())))
        .collect();
    Ok(NcpConfig {
        settings,
        env: EnvSnapshot(env),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_api::Keys;

    fn input(pairs: &[(&str, &str)]) -> CloudInput {
        CloudInput {
            cloud: "ncp".into(),
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CloudInput::default()
        }
    }

    #[test]
    fn defaults_pub_region_and_role_metadata() {
        let c = configure(&input(&[])).unwrap();
        let u = c.dns_endpoint();
        assert_eq!(
            (u.origin().as_str(), u.path.as_str()),
            ("https://globaldns.apigw.ntruss.com", "/dns/v1")
        );
        assert_eq!(
            c.settings.metadata_url.path,
            "/latest/meta-data/iam/security-credentials"
        );
        let mut i = input(&[]);
        i.region = Some("gov".into());
        let c = configure(&i).unwrap();
        assert_eq!(c.dns_endpoint().host, "globaldns.apigw.gov-ntruss.com");
    }

    #[test]
    fn os_names_are_not_read_and_ncloud_names_are_kept_unprinted() {
        let mut i = input(&[
            ("NCLOUD_SECRET_ACCESS_KEY", "NCSECRET"),
            ("NCLOUD_ACCESS_KEY_ID", "NCAK"),
            ("OS_SECRET_KEY", "OSSECRET"),
            ("HOME", "/root"),
        ]);
        // clap's OS_* values arrive here; an OS_SECURITY_TOKEN must not reject the run.
        i.os_keys = Keys {
            access: Some("OSAK".into()),
            secret: Some("OSSECRET".into()),
            token: Some("OSTOKEN".into()),
        };
        let c = configure(&i).unwrap();
        assert!(c.settings.credentials.ak.is_none());
        assert_eq!(c.env.get("NCLOUD_ACCESS_KEY_ID").as_deref(), Some("NCAK"));
        assert_eq!(c.env.get("OS_SECRET_KEY"), None);
        let d = format!("{c:?}");
        assert!(!d.contains("NCSECRET") && !d.contains("OSSECRET"), "{d}");
    }

    #[test]
    fn a_token_flag_or_other_cloud_source_is_rejected() {
        let mut i = input(&[]);
        i.flag_keys.token = Some("T".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
        let mut i = input(&[]);
        i.credentials = Some("container".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
        let mut i = input(&[]);
        i.region = Some("eu-de".into());
        assert_eq!(configure(&i).unwrap_err().exit.code(), 2);
    }
}
