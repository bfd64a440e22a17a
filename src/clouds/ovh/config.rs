//! OVHcloud settings from the shared flags and this cloud's own: endpoints
//! (`--region eu|ca|us`, `OVH_ENDPOINT`, `--dns-endpoint`, `--token-endpoint`)
//! and the credential chain, with every check that needs no network.

use std::path::PathBuf;
use std::sync::Arc;

use super::credentials::{self, Auth, Found, Inputs, OvhChain, RealFiles};
use super::endpoints::{EndpointInputs, Endpoints};
use super::flags::OvhArgs;
use crate::cloud_api::nonblank;
use crate::cloud_api::CloudInput;
use crate::error::{Error, Result};
use crate::http::Url;

/// Everything an OVH run needs to connect.
#[derive(Debug, Clone)]
pub struct OvhConfig {
    pub endpoints: Endpoints,
    /// The API base (including `/1.0`) as a URL.
    pub dns_endpoint: Url,
    /// The credential chain, resolved at connect ([`OvhConfig::credentials`]).
    pub credentials: OvhChain,
}

impl OvhConfig {
    /// The credentials found, and the token URL (for a service account).
    /// Rejections (exit 2): nothing here touches the network.
    pub fn credentials(&self) -> Result<(Found, Option<String>)> {
        let found = credentials::found(&self.credentials)?;
        let token_url = match found.auth {
            Auth::ServiceAccount { .. } => {
                Some(self.endpoints.token_url_for_service_account()?.to_string())
            }
            _ => None,
        };
        Ok((found, token_url))
    }
}

/// `flags` holds this cloud's flags given on the command line (their ids):
/// clap merges `--client-id` with `OVH_CLIENT_ID`, the chain keeps them apart.
pub fn configure(
    input: &CloudInput,
    g: &OvhArgs,
    files: Arc<dyn credentials::Files>,
) -> Result<(OvhConfig, Vec<String>)> {
    let k = &input.flag_keys;
    if k.access.is_some() || k.secret.is_some() || k.token.is_some() {
        return Err(Error::rejected(
            "config",
            "--ak/--sk/--token are OTC / Huawei Cloud keys, not OVHcloud's",
        )
        .hint("give a service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET or --client-id/--client-secret), or OVH_APPLICATION_KEY/OVH_APPLICATION_SECRET/OVH_CONSUMER_KEY"));
    }
    let cli = |id: &str| input.cli_flags.iter().any(|f| f == id);
    let flags = credentials::Flags {
        client_id: nonblank(&g.client_id).filter(|_| cli("client_id")),
        client_secret: nonblank(&g.client_secret).filter(|_| cli("client_secret")),
        credentials_file: nonblank(&input.credentials_file).map(PathBuf::from),
        only: credentials::KINDS.only(input.credentials.as_deref())?,
    };
    let mut warnings = Vec::new();
    if flags.client_secret.is_some() {
        warnings.push(credentials::CLIENT_SECRET_FLAG_WARNING.to_string());
    }
    let (endpoints, chain, skipped) = credentials::setup(
        Inputs {
            flags,
            env: input.env.clone(),
            files,
        },
        EndpointInputs {
            region: nonblank(&input.region),
            dns_endpoint: nonblank(&input.dns_endpoint),
            token_endpoint: nonblank(&g.token_endpoint),
            ..Default::default()
        },
    )?;
    warnings.extend(skipped);
    let dns_endpoint = Url::parse(&endpoints.api_base)
        .map_err(|e| Error::rejected("config", format!("--dns-endpoint: {e}")))?;
    Ok((
        OvhConfig {
            endpoints,
            dns_endpoint,
            credentials: chain,
        },
        warnings,
    ))
}

/// [`configure`] over the real file system.
pub fn configure_real(input: &CloudInput, g: &OvhArgs) -> Result<(OvhConfig, Vec<String>)> {
    configure(input, g, Arc::new(RealFiles))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clouds::ovh::credentials::{FileText, Files};
    use crate::clouds::ovh::endpoints;
    use std::path::Path;

    struct NoFiles;
    impl Files for NoFiles {
        fn read(&self, _: &Path) -> std::io::Result<FileText> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    fn input(env: &[(&str, &str)], cli: &[&str]) -> CloudInput {
        CloudInput {
            cloud: "ovh".into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cli_flags: cli.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// clap's merge: a flag's value, else its variable's.
    fn args(env: &[(&str, &str)], flags: &[(&str, &str)]) -> OvhArgs {
        let get = |k: &str, name: &str| {
            flags
                .iter()
                .find(|(f, _)| *f == k)
                .or_else(|| env.iter().find(|(e, _)| *e == name))
                .map(|(_, v)| v.to_string())
        };
        OvhArgs {
            client_id: get("client_id", "OVH_CLIENT_ID"),
            client_secret: get("client_secret", "OVH_CLIENT_SECRET"),
            token_endpoint: None,
        }
    }

    const SA: [(&str, &str); 2] = [("OVH_CLIENT_ID", "cid"), ("OVH_CLIENT_SECRET", "cs")];

    #[test]
    fn flags_and_environment_are_told_apart() {
        let (c, w) = configure(&input(&SA, &[]), &args(&SA, &[]), Arc::new(NoFiles)).unwrap();
        let (found, token_url) = c.credentials().unwrap();
        assert_eq!(found.source, "environment");
        assert!(w.is_empty());
        assert_eq!(token_url.as_deref(), Some(endpoints::TOKEN_EU));
        assert_eq!(c.dns_endpoint.origin(), "https://eu.api.ovh.com");
        let flags = [("client_id", "fid"), ("client_secret", "fs")];
        let (c, w) = configure(
            &input(&SA, &["client_id", "client_secret"]),
            &args(&SA, &flags),
            Arc::new(NoFiles),
        )
        .unwrap();
        assert_eq!(c.credentials().unwrap().0.source, "flags");
        assert_eq!(w, [credentials::CLIENT_SECRET_FLAG_WARNING]);
        assert!(!format!("{c:?}").contains("fs\""), "{c:?}");
    }

    #[test]
    fn regions_classic_keys_and_rejections() {
        let mut i = input(&SA, &[]);
        i.region = Some("ca".into());
        let (c, _) = configure(&i, &args(&SA, &[]), Arc::new(NoFiles)).unwrap();
        assert_eq!(c.endpoints.api_base, endpoints::API_CA);
        assert_eq!(
            c.credentials().unwrap().1.as_deref(),
            Some(endpoints::TOKEN_CA)
        );
        let classic = [
            ("OVH_APPLICATION_KEY", "ak"),
            ("OVH_APPLICATION_SECRET", "as"),
            ("OVH_CONSUMER_KEY", "ck"),
        ];
        let (c, _) = configure(
            &input(&classic, &[]),
            &args(&classic, &[]),
            Arc::new(NoFiles),
        )
        .unwrap();
        assert_eq!(c.credentials().unwrap().1, None);
        // OTC's keys on the command line are refused.
        let mut i = input(&SA, &[]);
        i.flag_keys.secret = Some("x".into());
        let e = configure(&i, &args(&SA, &[]), Arc::new(NoFiles)).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        // OTC's environment keys are simply not read.
        let mut i = input(&SA, &[]);
        i.os_keys.access = Some("AK".into());
        assert!(configure(&i, &args(&SA, &[]), Arc::new(NoFiles)).is_ok());
        // An API base of no region: a service account needs --token-endpoint.
        let env = [SA[0], SA[1], ("OVH_ENDPOINT", "http://127.0.0.1:9/1.0")];
        // Found when the credentials are (at connect), before any network call.
        let (c, _) = configure(&input(&env, &[]), &args(&env, &[]), Arc::new(NoFiles)).unwrap();
        let e = c.credentials().unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("--token-endpoint"), "{e}");
        let mut g = args(&env, &[]);
        g.token_endpoint = Some("http://127.0.0.1:9/auth/oauth2/token".into());
        let (c, _) = configure(&input(&env, &[]), &g, Arc::new(NoFiles)).unwrap();
        assert_eq!(c.dns_endpoint.path, "/1.0");
    }
}
