//! The flags that exist for OTC / Huawei Cloud only, flattened into the CLI
//! and grouped under their own heading in `--help`. Given on the command line
//! with another cloud selected, they are refused (exit 2); in the environment
//! they are simply not read.

use clap::Args;

const HEADING: &str = "OTC / Huawei Cloud";

/// `--cloud` values these flags belong to.
pub const CLOUDS: &[&str] = &["otc", "huawei"];

#[derive(Debug, Args)]
pub struct OtcArgs {
    /// Project id, sent (and signed) as X-Project-Id; also the scope of an OIDC identity
    #[arg(long = "project-id", env = "OS_PROJECT_ID", global = true, value_name = "ID", help_heading = HEADING)]
    pub project_id: Option<String>,
    /// Assume this agency of another account with the credentials found
    #[arg(long = "agency-name", env = "OTC_AGENCY_NAME", global = true, value_name = "NAME", help_heading = HEADING)]
    pub agency_name: Option<String>,
    /// Account (domain) name that owns the agency
    #[arg(long = "agency-domain-name", env = "OTC_AGENCY_DOMAIN_NAME", global = true, value_name = "NAME",
          help_heading = HEADING)]
    pub agency_domain_name: Option<String>,
    /// Account (domain) id that owns the agency
    #[arg(long = "agency-domain-id", env = "OTC_AGENCY_DOMAIN_ID", global = true, value_name = "ID",
          help_heading = HEADING)]
    pub agency_domain_id: Option<String>,
    /// Lifetime of the agency's temporary credentials, seconds
    #[arg(long = "agency-duration", env = "OTC_AGENCY_DURATION", global = true, value_name = "SECONDS",
          default_value_t = 900, value_parser = clap::value_parser!(u32).range(900..=86_400), help_heading = HEADING)]
    pub agency_duration: u32,
    /// Project (region) name of OTC's token path for the agency [default: the region]
    #[arg(long = "project-name", env = "OTC_PROJECT_NAME", global = true, value_name = "NAME", help_heading = HEADING)]
    pub project_name: Option<String>,
    /// CCE pod identity: the container credentials URI (Huawei Cloud SDKs' variable)
    #[arg(long = "container-credentials-uri", env = "HC_CONTAINER_CREDENTIALS_FULL_URI", global = true,
          value_name = "URL", help_heading = HEADING)]
    pub container_uri: Option<String>,
    /// CCE pod identity: file with the token sent as Authorization to that URI
    #[arg(long = "container-token-file", env = "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", global = true,
          value_name = "FILE", help_heading = HEADING)]
    pub container_token_file: Option<String>,
    /// CCE endpoint of assume-agency-for-pod-identity [default: from --cloud/--region]
    #[arg(long = "cce-endpoint", env = "OTC_CCE_ENDPOINT", global = true, value_name = "URL", help_heading = HEADING)]
    pub cce_endpoint: Option<String>,
    /// CCE pod identity: project id of the cluster
    #[arg(long = "cce-project-id", env = "OTC_CCE_PROJECT_ID", global = true, value_name = "ID", help_heading = HEADING)]
    pub cce_project_id: Option<String>,
    /// CCE pod identity: cluster id
    #[arg(long = "cce-cluster-id", env = "OTC_CCE_CLUSTER_ID", global = true, value_name = "ID", help_heading = HEADING)]
    pub cce_cluster_id: Option<String>,
    /// CCE pod identity: file with the pod's service account token
    #[arg(long = "cce-token-file", env = "OTC_CCE_TOKEN_FILE", global = true, value_name = "FILE",
          help_heading = HEADING)]
    pub cce_token_file: Option<String>,
    /// OIDC workload identity: the identity provider id in IAM
    #[arg(long = "idp-id", env = "OTC_IDP_ID", global = true, value_name = "ID", help_heading = HEADING)]
    pub idp_id: Option<String>,
    /// OIDC workload identity: file with the projected service account token
    #[arg(long = "id-token-file", env = "OTC_ID_TOKEN_FILE", global = true, value_name = "FILE",
          help_heading = HEADING)]
    pub id_token_file: Option<String>,
    /// IAM endpoint [default: https://iam.REGION.otc.t-systems.com; huawei: https://iam.REGION.myhuaweicloud.com]
    #[arg(long = "iam-endpoint", env = "OTC_IAM_ENDPOINT", global = true, value_name = "URL", help_heading = HEADING)]
    pub iam_endpoint: Option<String>,
}
