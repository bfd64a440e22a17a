//! One folder per cloud. Each implements the seam of [`crate::cloud_api`] and
//! owns everything of its API: signer, credential sources, error codes,
//! defaults and flags. This file is the registry: adding a cloud adds a line
//! to each of the lists below.

use std::sync::Arc;

use clap::{Args, Command};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{CloudInput, Connection};
use crate::error::{Error, Result};
use crate::http::Url;
use crate::report::Report;

pub mod ncp;
pub mod otc;
pub mod ovh;

/// The values of `--cloud`.
pub const CLOUDS: [&str; 4] = ["otc", "huawei", "ovh", "ncp"];

/// `--metadata-url`'s help: each cloud's default, from its folder.
pub fn metadata_url_help() -> String {
    format!(
        "Instance metadata URL of the VM's temporary credentials [default: per cloud; otc, huawei: {}; ncp: {}]",
        otc::credentials::metadata::DEFAULT_URL,
        ncp::DEFAULT_METADATA_URL
    )
}

/// The flags each cloud defines for itself, flattened into the CLI.
#[derive(Debug, Args)]
pub struct CloudFlags {
    #[command(flatten)]
    pub otc: otc::flags::OtcArgs,
    #[command(flatten)]
    pub ovh: ovh::flags::OvhArgs,
}

/// A cloud's settings, validated before any network call.
#[derive(Debug, Clone)]
pub enum CloudConfig {
    Otc(otc::config::OtcConfig),
    Ovh(ovh::config::OvhConfig),
    Ncp(ncp::config::NcpConfig),
}

impl CloudConfig {
    /// The DNS API base (the journal keys its entries by its origin).
    pub fn dns_endpoint(&self) -> &Url {
        match self {
            CloudConfig::Otc(c) => &c.dns_endpoint,
            CloudConfig::Ovh(c) => &c.dns_endpoint,
            CloudConfig::Ncp(c) => c.dns_endpoint(),
        }
    }
}

/// Variables a cloud reads by hand (not through clap), which the config file
/// may set too, with a heading for the config template.
pub fn env_read_by_hand() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    out.extend(
        otc::config::ENV_READ_BY_HAND
            .iter()
            .map(|n| (*n, otc::config::ENV_READ_BY_HAND_WHAT)),
    );
    out.extend(ovh::credentials::ENV_READ_BY_HAND.iter().map(|n| {
        (
            *n,
            "OVHcloud's variables without a flag (--cloud ovh; the OVH tools' names)",
        )
    }));
    out.extend(
        ncp::config::ENV_READ_BY_HAND
            .iter()
            .map(|n| (*n, ncp::config::ENV_READ_BY_HAND_WHAT)),
    );
    out
}

/// The variables that hold a secret (a key, a token, a password), every
/// cloud's, named exactly: a config file that sets one must be private. A
/// URL or a path to a secret is not one.
pub fn secret_variables() -> Vec<&'static str> {
    let mut out = Vec::new();
    out.extend(otc::config::SECRET_VARIABLES);
    out.extend(ovh::credentials::SECRET_VARIABLES);
    out.extend(ncp::config::SECRET_VARIABLES);
    out
}

/// Names of one setting (a primary name and its aliases, or two ways of
/// giving one secret): the environment giving any of them outranks the
/// config file giving any other.
pub fn alias_groups() -> Vec<&'static [&'static str]> {
    let mut out = Vec::new();
    out.extend(otc::config::ALIASES);
    out.extend(ovh::credentials::ALIASES);
    out.extend(ncp::config::ALIASES);
    out
}

/// The variables a cloud reads by hand (no clap argument): its part of
/// [`env_read_by_hand`], which a test keeps equal to the union of these.
fn read_by_hand(cloud: &str) -> &'static [&'static str] {
    match cloud {
        "otc" | "huawei" => &otc::config::ENV_READ_BY_HAND,
        "ovh" => &ovh::credentials::ENV_READ_BY_HAND,
        "ncp" => &ncp::config::ENV_READ_BY_HAND,
        _ => &[],
    }
}

/// The shared key flags (`--ak`/`--sk`/`--token`, by argument id): every
/// cloud reads the flags, but their variables are OTC's names (`OS_*`),
/// which only these clouds read (other clouds read their own names by hand).
const KEY_FLAGS: [&str; 3] = ["ak", "sk", "token"];
const KEY_VARIABLES_OF: &[&str] = otc::flags::CLOUDS;

/// Every environment variable the hook reads for `cloud`, from the CLI's
/// definition `cli` and this registry: the shared settings (each variable of
/// an argument no cloud owns), the variables of the cloud's own flags, of
/// the key flags where the cloud reads them, and what it reads by hand.
/// Sorted; each with whether it holds a secret (the config file's rule).
/// For the acme.sh script (`generate acme-sh-vars`), which saves exactly these.
pub fn variables_read(cloud: &str, cli: &Command) -> Vec<(String, bool)> {
    fn walk(cmd: &Command, out: &mut Vec<(String, String)>) {
        for a in cmd.get_arguments() {
            if let Some(e) = a.get_env() {
                out.push((a.get_id().to_string(), e.to_string_lossy().into_owned()));
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut args = Vec::new();
    walk(cli, &mut args);
    // Argument ids owned by a cloud, and whether the cloud is `cloud`.
    let mut owned: Vec<(String, bool)> = flag_owners()
        .into_iter()
        .flat_map(|(clouds, flags)| {
            let mine = clouds.contains(&cloud);
            flags.into_iter().map(move |(id, _)| (id, mine))
        })
        .collect();
    let keys_mine = KEY_VARIABLES_OF.contains(&cloud);
    owned.extend(KEY_FLAGS.iter().map(|id| (id.to_string(), keys_mine)));
    let mut names: std::collections::BTreeSet<String> = args
        .into_iter()
        .filter(|(id, _)| owned.iter().all(|(o, mine)| o != id || *mine))
        .map(|(_, env)| env)
        .collect();
    names.extend(read_by_hand(cloud).iter().map(|n| n.to_string()));
    names
        .into_iter()
        .map(|n| {
            let secret = secret_variables().contains(&n.as_str());
            (n, secret)
        })
        .collect()
}

/// Variables that hold a session's short-lived token: read when set, never
/// kept for a renewal months later (acme.sh's account.conf), where a stale
/// token would beat the workload identity and fail.
pub const TEMPORARY_VARIABLES: &[&str] =
    &["OS_SECURITY_TOKEN", "OS_ACCESS_TOKEN", "OVH_ACCESS_TOKEN"];

/// A group of one cloud's own flags: the clouds they belong to, and each
/// flag's `(argument id, long name)`.
pub type FlagGroup = (&'static [&'static str], Vec<(String, String)>);

/// Each cloud's own flags, grouped by the clouds they belong to.
pub fn flag_owners() -> Vec<FlagGroup> {
    let flags = |cmd: Command| -> Vec<(String, String)> {
        cmd.get_arguments()
            .map(|a| {
                let id = a.get_id().to_string();
                let long = a.get_long().map_or_else(|| id.clone(), str::to_string);
                (id, long)
            })
            .collect()
    };
    vec![
        (
            otc::flags::CLOUDS,
            flags(otc::flags::OtcArgs::augment_args(Command::new("otc"))),
        ),
        (
            ovh::flags::CLOUDS,
            flags(ovh::flags::OvhArgs::augment_args(Command::new("ovh"))),
        ),
    ]
}

/// Refuses a cloud's own flag given on the command line for another cloud.
pub fn check_flags(cloud: &str, on_command_line: &dyn Fn(&str) -> bool) -> Result<()> {
    for (clouds, flags) in flag_owners() {
        if clouds.contains(&cloud) {
            continue;
        }
        if let Some((_, long)) = flags.iter().find(|(id, _)| on_command_line(id)) {
            return Err(Error::rejected(
                "config",
                format!(
                    "--{long} belongs to --cloud {}, not --cloud {cloud}",
                    clouds.join("/")
                ),
            )
            .hint("drop it, or select its cloud"));
        }
    }
    Ok(())
}

/// The selected cloud's settings, and warnings to print once.
pub fn configure(input: &CloudInput, flags: &CloudFlags) -> Result<(CloudConfig, Vec<String>)> {
    let mut warnings = Vec::new();
    let cfg = match input.cloud.as_str() {
        "otc" | "huawei" => {
            for (flag, given) in [
                ("--sk", input.flag_keys.secret.is_some()),
                ("--token", input.flag_keys.token.is_some()),
            ] {
                if given {
                    warnings.push(otc::config::command_line_secret_warning(flag));
                }
            }
            CloudConfig::Otc(otc::config::configure(input, &flags.otc)?)
        }
        "ovh" => {
            let (cfg, w) = ovh::config::configure_real(input, &flags.ovh)?;
            warnings.extend(w);
            CloudConfig::Ovh(cfg)
        }
        "ncp" => {
            if input.flag_keys.secret.is_some() {
                warnings.push(ncp::config::command_line_secret_warning("--sk"));
            }
            CloudConfig::Ncp(ncp::config::configure(input)?)
        }
        other => {
            return Err(Error::rejected(
                "config",
                format!("unknown cloud {other:?}"),
            ));
        }
    };
    Ok((cfg, warnings))
}

/// OTC's credential variables (clap's and the aliases), which no other cloud reads.
const OTC_CREDENTIAL_VARS: [&str; 5] = [
    "OS_ACCESS_KEY",
    "OS_SECRET_KEY",
    "OS_SECURITY_TOKEN",
    "OS_ACCESS_SECRET",
    "OS_ACCESS_TOKEN",
];

/// The clouds that read a variable of one cloud's own names (`OVH_*`,
/// `NCLOUD_*`, OTC's `OS_*` keys), and that cloud's value of `--cloud`.
fn owner_of(name: &str) -> Option<(&'static [&'static str], &'static str)> {
    if name.starts_with("OVH_") {
        Some((ovh::flags::CLOUDS, "ovh"))
    } else if name.starts_with("NCLOUD_") {
        Some((&["ncp"], "ncp"))
    } else if OTC_CREDENTIAL_VARS.contains(&name) {
        Some((otc::flags::CLOUDS, "otc"))
    } else {
        None
    }
}

/// One warning line when variables of another cloud are set (in the
/// environment or the config file, `env` holds both) but `cloud` is in force:
/// they are ignored, and the likeliest cause is a cloud chosen by `--cloud` in
/// one client's hook command and not in the config file. Names, never values.
pub fn foreign_variables(
    cloud: &str,
    chosen_by: &str,
    env: &std::collections::HashMap<String, String>,
) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    let mut meant: Vec<&str> = Vec::new();
    for (k, v) in env {
        if v.trim().is_empty() {
            continue;
        }
        if let Some((clouds, value)) = owner_of(k)
            && !clouds.contains(&cloud)
        {
            names.push(k);
            if !meant.contains(&value) {
                meant.push(value);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    names.sort_unstable();
    meant.sort_unstable();
    let set = meant
        .iter()
        .map(|c| format!("OTC_CLOUD={c}"))
        .collect::<Vec<_>>()
        .join(" or ");
    Some(format!(
        "{} {} set but the cloud in force is {cloud} ({chosen_by}), so {} ignored; to use {}, set {set} in the config file",
        names.join(", "),
        if names.len() == 1 { "is" } else { "are" },
        if names.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        if names.len() == 1 { "it" } else { "them" },
    ))
}

/// Connects to the selected cloud: its credentials, client and DNS provider.
pub fn connect(
    cfg: &CloudConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<Box<dyn Connection>> {
    Ok(match cfg {
        CloudConfig::Otc(c) => Box::new(otc::connect::connect(c, net, clock, report)?),
        CloudConfig::Ovh(c) => Box::new(ovh::connect::connect(c, net, clock, report)?),
        CloudConfig::Ncp(c) => Box::new(ncp::connect::connect(c, net, clock, report)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_cloud_s_variables_are_named_in_one_warning() {
        let env = |kv: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let e = env(&[
            ("OVH_CLIENT_ID", "cid-value"),
            ("OVH_CLIENT_SECRET_FILE", "/etc/x"),
            ("OTC_TTL", "300"),
            ("OS_ACCESS_KEY", "AK"),
        ]);
        let w = foreign_variables("otc", "the default: OTC_CLOUD is not set", &e).unwrap();
        assert_eq!(
            w,
            "OVH_CLIENT_ID, OVH_CLIENT_SECRET_FILE are set but the cloud in force is otc \
             (the default: OTC_CLOUD is not set), so they are ignored; to use them, set \
             OTC_CLOUD=ovh in the config file"
        );
        assert!(!w.contains("cid-value"));
        // OS_* keys are OTC's and Huawei's; under ovh they are foreign, OVH_* not.
        let w = foreign_variables("ovh", "OTC_CLOUD=ovh", &e).unwrap();
        assert!(w.starts_with("OS_ACCESS_KEY is set but"), "{w}");
        assert!(w.contains("set OTC_CLOUD=otc in"), "{w}");
        assert!(
            foreign_variables("huawei", "--cloud huawei", &env(&[("OS_SECRET_KEY", "x")]))
                .is_none()
        );
        // Two clouds' names at once: one line naming both choices; blank values don't count.
        let w = foreign_variables(
            "otc",
            "--cloud otc",
            &env(&[
                ("NCLOUD_ACCESS_KEY_ID", "a"),
                ("OVH_ENDPOINT", "ovh-eu"),
                ("OVH_CLIENT_ID", " "),
            ]),
        )
        .unwrap();
        assert!(
            w.starts_with("NCLOUD_ACCESS_KEY_ID, OVH_ENDPOINT are set"),
            "{w}"
        );
        assert!(w.contains("OTC_CLOUD=ncp or OTC_CLOUD=ovh"), "{w}");
        assert!(
            foreign_variables("ncp", "OTC_CLOUD=ncp", &env(&[("NCLOUD_SECRET_KEY", "x")]))
                .is_none()
        );
    }

    #[test]
    fn a_cloud_s_flag_under_another_cloud_names_its_owner() {
        let given = |id: &'static str| move |x: &str| x == id;
        let e = check_flags("otc", &given("client_id")).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(
            e.to_string()
                .contains("--client-id belongs to --cloud ovh, not --cloud otc"),
            "{e}"
        );
        let e = check_flags("ovh", &given("agency_name")).unwrap_err();
        assert!(
            e.to_string()
                .contains("--agency-name belongs to --cloud otc/huawei, not --cloud ovh"),
            "{e}"
        );
        assert!(check_flags("ovh", &given("client_secret")).is_ok());
        assert!(check_flags("huawei", &given("agency_name")).is_ok());
        // Every cloud that owns flags is a value of --cloud.
        for (clouds, flags) in flag_owners() {
            assert!(clouds.iter().all(|c| CLOUDS.contains(c)));
            assert!(!flags.is_empty());
        }
    }

    #[test]
    fn each_cloud_reads_the_shared_settings_and_only_its_own_credentials() {
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let read = |cloud: &str| -> std::collections::BTreeMap<String, bool> {
            variables_read(cloud, &cli).into_iter().collect()
        };
        let otc = read("otc");
        let ovh = read("ovh");
        let ncp = read("ncp");
        assert_eq!(read("huawei"), otc);
        for shared in [
            "OTC_CLOUD",
            "OTC_CONFIG",
            "OTC_DNS_ENDPOINT",
            "OTC_LOCK_DIR",
            "OTC_ZONE",
        ] {
            for (cloud, vars) in [("otc", &otc), ("ovh", &ovh), ("ncp", &ncp)] {
                assert_eq!(vars.get(shared), Some(&false), "{cloud}: {shared}");
            }
        }
        let has = |vars: &std::collections::BTreeMap<String, bool>, n: &str, secret: bool| {
            assert_eq!(vars.get(n), Some(&secret), "{n}");
        };
        has(&otc, "OS_ACCESS_KEY", false);
        has(&otc, "OS_SECRET_KEY", true);
        has(&otc, "OS_SECURITY_TOKEN", true);
        has(&otc, "OS_ACCESS_SECRET", true);
        has(&otc, "OS_PROJECT_ID", false);
        has(&otc, "OTC_AGENCY_NAME", false);
        has(&otc, "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", false);
        has(&ovh, "OVH_CLIENT_ID", false);
        has(&ovh, "OVH_CLIENT_SECRET", true);
        has(&ovh, "OVH_CLIENT_SECRET_FILE", false);
        has(&ovh, "OVH_APPLICATION_KEY", false);
        has(&ovh, "OVH_APPLICATION_SECRET", true);
        has(&ovh, "OVH_CONSUMER_KEY", true);
        has(&ovh, "OVH_ENDPOINT", false);
        assert!(ovh.contains_key("OTC_TOKEN_ENDPOINT"));
        has(&ncp, "NCLOUD_ACCESS_KEY_ID", false);
        has(&ncp, "NCLOUD_SECRET_ACCESS_KEY", true);
        has(&ncp, "NCLOUD_SECRET_KEY", true);
        // Another cloud's names, and what an OpenStack openrc sets besides, are never read.
        let foreign = |vars: &std::collections::BTreeMap<String, bool>, prefixes: &[&str]| {
            for n in vars.keys() {
                assert!(!prefixes.iter().any(|p| n.starts_with(p)), "{n}");
            }
        };
        foreign(&otc, &["OVH_", "NCLOUD_"]);
        foreign(&ovh, &["OS_", "NCLOUD_", "HC_", "OTC_AGENCY"]);
        foreign(&ncp, &["OS_", "OVH_", "HC_", "OTC_AGENCY"]);
        assert!(!otc.contains_key("OTC_TOKEN_ENDPOINT"));
        for vars in [&otc, &ovh, &ncp] {
            for openrc in [
                "OS_PASSWORD",
                "OS_USERNAME",
                "OS_AUTH_URL",
                "OS_PROJECT_NAME",
            ] {
                assert!(!vars.contains_key(openrc), "{openrc}");
            }
        }
        // Together the clouds read exactly the names a config file may set, and OTC_CONFIG.
        let mut all: std::collections::BTreeSet<String> = CLOUDS
            .iter()
            .flat_map(|c| variables_read(c, &cli).into_iter().map(|(n, _)| n))
            .collect();
        assert!(all.remove(crate::config::CONFIG_VAR));
        assert_eq!(all, crate::config::allowed_names(&cli));
        // The hand-read lists per cloud are the registry's.
        let by_hand: std::collections::BTreeSet<&str> = CLOUDS
            .iter()
            .flat_map(|c| read_by_hand(c).iter().copied())
            .collect();
        let registry: std::collections::BTreeSet<&str> =
            env_read_by_hand().into_iter().map(|(n, _)| n).collect();
        assert_eq!(by_hand, registry);
    }
}
