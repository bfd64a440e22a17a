//! The registry of clouds: one folder per cloud, each implementing the seam
//! of [`crate::cloud_api`] and describing itself in one [`Cloud`] (its
//! `mod.rs`'s `CLOUD`). Everything here is built from those descriptors:
//! adding a cloud is its folder plus its name in the [`clouds!`] list below
//! (docs/architecture.md, "Adding a cloud").

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use clap::{ArgMatches, Args, Command, FromArgMatches};

use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Cloud, CloudInput, Connection, HelpDefaults};
use crate::error::{Error, Result};
use crate::report::Report;

pub use crate::cloud_api::CloudConfig;

/// Declares each cloud's folder and lists its descriptor, in `--help`'s order
/// (the first is the default of `--cloud`).
macro_rules! clouds {
    ($($cloud:ident),+ $(,)?) => {
        $(pub mod $cloud;)+
        /// Every cloud's descriptor.
        pub const ALL: &[&Cloud] = &[$(&$cloud::CLOUD),+];
    };
}

clouds!(otc, ovh, ncp);

const fn count_names(all: &[&Cloud]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < all.len() {
        n += all[i].names.len();
        i += 1;
    }
    n
}

const fn all_names<const N: usize>(all: &[&Cloud]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut k) = (0, 0);
    while i < all.len() {
        let mut j = 0;
        while j < all[i].names.len() {
            out[k] = all[i].names[j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The values of `--cloud`.
pub const CLOUDS: [&str; count_names(ALL)] = all_names(ALL);

/// `--cloud` when neither the flag, `OTC_CLOUD` nor the config file sets it.
pub const DEFAULT: &str = CLOUDS[0];

/// The cloud of a value of `--cloud`.
pub fn find(cloud: &str) -> Option<&'static Cloud> {
    ALL.iter().copied().find(|c| c.names.contains(&cloud))
}

/// One `[default: …]` of `--help`: each cloud's `(label, text)` pairs.
fn defaults_help(of: fn(&Cloud) -> HelpDefaults) -> String {
    ALL.iter()
        .flat_map(|c| of(c).iter())
        .map(|(label, text)| {
            if label.is_empty() {
                text.to_string()
            } else {
                format!("{label}: {text}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `--metadata-url`'s help: each cloud's default, from its folder.
pub fn metadata_url_help() -> String {
    format!(
        "Instance metadata URL of the VM's temporary credentials [default: per cloud; {}]",
        defaults_help(|c| c.metadata_url_help)
    )
}

/// `--region`'s help: each cloud's default, from its folder.
pub fn region_help() -> String {
    let mut out = format!(
        "Region of the default endpoints [default: per cloud; {}]",
        defaults_help(|c| c.region_help)
    );
    for c in ALL.iter().filter(|c| !c.region_note.is_empty()) {
        out.push(' ');
        out.push_str(c.region_note);
    }
    out
}

/// `--dns-endpoint`'s help: each cloud's default, from its folder.
pub fn dns_endpoint_help() -> String {
    format!(
        "DNS API endpoint [default: {}]",
        defaults_help(|c| c.dns_endpoint_help)
    )
}

/// The credentials paragraph of `--help`: each cloud's sources in order,
/// the default cloud's first, wrapped as the rest of that text.
pub fn credentials_help() -> String {
    let mut text = String::from("Credentials, first found wins:");
    for (i, c) in ALL.iter().enumerate() {
        if i > 0 {
            text.push_str(&format!(" With --cloud {}:", c.names[0]));
        }
        text.push(' ');
        text.push_str(c.credentials_help);
    }
    wrap(&text, 87)
}

/// Greedy word wrap at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

/// The flags each cloud defines for itself, flattened into the CLI: added
/// from the descriptors; each cloud reads its own from the matches kept.
#[derive(Clone, Default)]
pub struct CloudFlags(ArgMatches);

// The matches hold secrets (`--client-secret`): never shown.
impl std::fmt::Debug for CloudFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CloudFlags")
    }
}

impl FromArgMatches for CloudFlags {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        Ok(CloudFlags(m.clone()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        self.0 = m.clone();
        Ok(())
    }
}

impl Args for CloudFlags {
    fn augment_args(cmd: Command) -> Command {
        ALL.iter().fold(cmd, |cmd, c| (c.flags)(cmd))
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// Variables a cloud reads by hand (not through clap), which the config file
/// may set too, with a heading for the config template.
pub fn env_read_by_hand() -> Vec<(&'static str, &'static str)> {
    ALL.iter()
        .flat_map(|c| {
            c.env_read_by_hand
                .iter()
                .map(|n| (*n, c.env_read_by_hand_what))
        })
        .collect()
}

/// The variables that hold a secret (a key, a token, a password), every
/// cloud's, named exactly: a config file that sets one must be private. A
/// URL or a path to a secret is not one.
pub fn secret_variables() -> Vec<&'static str> {
    ALL.iter()
        .flat_map(|c| c.secret_variables.iter().copied())
        .collect()
}

/// Names of one setting (a primary name and its aliases, or two ways of
/// giving one secret): the environment giving any of them outranks the
/// config file giving any other.
pub fn alias_groups() -> Vec<&'static [&'static str]> {
    ALL.iter().flat_map(|c| c.aliases.iter().copied()).collect()
}

/// The variables a cloud reads by hand (no clap argument): its part of
/// [`env_read_by_hand`], which a test keeps equal to the union of these.
fn read_by_hand(cloud: &str) -> &'static [&'static str] {
    find(cloud).map_or(&[], |c| c.env_read_by_hand)
}

/// The shared key flags (`--ak`/`--sk`/`--token`, by argument id): every
/// cloud reads the flags, but their variables are OTC's names (`OS_*`),
/// which only the clouds that say so read (others read their own by hand).
const KEY_FLAGS: [&str; 3] = ["ak", "sk", "token"];

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
    let keys_mine = find(cloud).is_some_and(|c| c.reads_key_variables);
    owned.extend(KEY_FLAGS.iter().map(|id| (id.to_string(), keys_mine)));
    let mut names: BTreeSet<String> = args
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
pub fn temporary_variables() -> Vec<&'static str> {
    ALL.iter()
        .flat_map(|c| c.temporary_variables.iter().copied())
        .collect()
}

/// A group of one cloud's own flags: the clouds they belong to, and each
/// flag's `(argument id, long name)`.
pub type FlagGroup = (&'static [&'static str], Vec<(String, String)>);

/// Each cloud's own flags, grouped by the clouds they belong to (a cloud
/// without flags of its own has no group).
pub fn flag_owners() -> Vec<FlagGroup> {
    ALL.iter()
        .map(|c| {
            let cmd = (c.flags)(Command::new(c.names[0]));
            let flags: Vec<(String, String)> = cmd
                .get_arguments()
                .map(|a| {
                    let id = a.get_id().to_string();
                    let long = a.get_long().map_or_else(|| id.clone(), str::to_string);
                    (id, long)
                })
                .collect();
            (c.names, flags)
        })
        .filter(|(_, flags)| !flags.is_empty())
        .collect()
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
pub fn configure(
    input: &CloudInput,
    flags: &CloudFlags,
) -> Result<(Box<dyn CloudConfig>, Vec<String>)> {
    match find(&input.cloud) {
        Some(c) => (c.configure)(input, &flags.0),
        None => Err(Error::rejected(
            "config",
            format!("unknown cloud {:?}", input.cloud),
        )),
    }
}

/// The clouds that read a variable of one cloud's own names (`OVH_*`,
/// `NCLOUD_*`, OTC's `OS_*` keys), and that cloud's value of `--cloud`.
fn owner_of(name: &str) -> Option<(&'static [&'static str], &'static str)> {
    ALL.iter()
        .find(|c| (c.owns_variable)(name))
        .map(|c| (c.names, c.names[0]))
}

/// One warning line when variables of another cloud are set (in the
/// environment or the config file, `env` holds both) but `cloud` is in force:
/// they are ignored, and the likeliest cause is a cloud chosen by `--cloud` in
/// one client's hook command and not in the config file. Names, never values.
pub fn foreign_variables(
    cloud: &str,
    chosen_by: &str,
    env: &HashMap<String, String>,
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

/// Connects to the selected cloud: its credentials, client and DNS API.
pub fn connect(
    cfg: &dyn CloudConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<Box<dyn Connection>> {
    cfg.connect(net, clock, report)
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

    /// Whether `code` holds `pat` not preceded (`before`) or not followed
    /// (`after`) by a letter, digit or `_`.
    fn holds_word(code: &str, pat: &str, before: bool, after: bool) -> bool {
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        code.match_indices(pat).any(|(i, _)| {
            (!before || !ident(code[..i].chars().next_back()))
                && (!after || !ident(code[i + pat.len()..].chars().next()))
        })
    }

    /// The `.rs` files under `dir`, as paths relative to `root` with `/`.
    fn rust_files(root: &std::path::Path, dir: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                rust_files(root, &rel, out);
            } else if rel.ends_with(".rs") {
                out.push(rel);
            }
        }
    }

    fn folders(dir: &std::path::Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    /// docs/architecture.md's "Adding a cloud" names every registration
    /// point: each file outside a cloud's own folder whose code (comments and
    /// test code aside) names a cloud (a cloud module's path `x::`, a `--cloud`
    /// value as a string, a variant named after a cloud `::X`, the `clouds!`
    /// list); and its table names every file of every cloud folder.
    #[test]
    fn the_add_a_cloud_checklist_names_every_registration_point() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
        let section = |heading: &str| -> String {
            let start = doc.find(heading).unwrap_or_else(|| panic!("{heading}"));
            let rest = &doc[start + heading.len()..];
            rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
        };
        let spans = |text: &str| -> BTreeSet<String> {
            text.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        let checklist = spans(&section("## Adding a cloud"));
        let table = spans(&section("## A cloud's folder"));

        // Each product folder is a registered cloud, and each registered cloud a folder.
        let product = folders(&root.join("src/clouds"));
        let mut registered: Vec<String> = ALL.iter().map(|c| c.names[0].to_string()).collect();
        registered.sort();
        assert_eq!(product, registered, "src/clouds/ folders vs clouds!(…)");
        // Every file of a cloud folder has a row (the folder's own layout, documented).
        for cloud in &product {
            for entry in std::fs::read_dir(root.join("src/clouds").join(cloud)).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let name = name.trim_end_matches(".rs");
                assert!(
                    table
                        .iter()
                        .any(|t| t.trim_end_matches('/').trim_end_matches(".rs") == name
                            || t.starts_with(&format!("{name}/"))
                            || t.starts_with(&format!("{name}.rs"))),
                    "src/clouds/{cloud}/{name}: not in docs/architecture.md's table of a cloud's folder"
                );
            }
        }

        let sim = folders(&root.join("sim/src/clouds"));
        let mut words: BTreeSet<String> = product.iter().chain(&sim).cloned().collect();
        words.extend(CLOUDS.iter().map(|c| c.to_string()));
        let mut points = BTreeSet::new();
        for (src, own) in [("src", "src/clouds/"), ("sim/src", "sim/src/clouds/")] {
            let mut files = Vec::new();
            rust_files(root, src, &mut files);
            for file in files {
                if file
                    .strip_prefix(own)
                    .is_some_and(|rest| rest.contains('/'))
                {
                    continue; // inside a cloud's own folder
                }
                let text = std::fs::read_to_string(root.join(&file)).unwrap();
                let code: String = text[..text.find("#[cfg(test)]").unwrap_or(text.len())]
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let names_a_cloud = code.contains("clouds!(")
                    || words.iter().any(|w| {
                        let variant = format!("::{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
                        holds_word(&code, &format!("{w}::"), true, false)
                            || code.contains(&format!("\"{w}\""))
                            || holds_word(&code, &variant, false, true)
                    });
                if names_a_cloud {
                    points.insert(file);
                }
            }
        }
        assert!(points.contains("src/clouds/mod.rs"), "{points:?}");
        for p in &points {
            assert!(
                checklist.contains(p),
                "{p} names a cloud, but docs/architecture.md's \"Adding a cloud\" does not name it"
            );
        }
        // And the checklist names no file that is not there.
        for n in checklist
            .iter()
            .filter(|n| n.ends_with(".rs") && n.contains('/') && !n.contains('<'))
        {
            assert!(root.join(n).exists(), "{n} is named but does not exist");
        }
    }

    /// `--help`'s texts, built from the descriptors, are the ones the CLI
    /// had written out before the descriptors existed.
    #[test]
    fn help_texts_are_built_from_each_cloud_s_descriptor() {
        assert_eq!(CLOUDS, ["otc", "huawei", "ovh", "ncp"]);
        assert_eq!(DEFAULT, "otc");
        assert_eq!(
            region_help(),
            "Region of the default endpoints [default: per cloud; otc, huawei: eu-de; ovh: eu \
             (eu, ca, us); ncp: pub (or gov)] (OTC's public DNS is always in eu-de)"
        );
        assert_eq!(
            dns_endpoint_help(),
            "DNS API endpoint [default: https://dns.eu-de.otc.t-systems.com; huawei: \
             https://dns.REGION.myhuaweicloud.com; ovh: the region's API base, e.g. \
             https://eu.api.ovh.com/1.0; ncp: https://globaldns.apigw.ntruss.com/dns/v1]"
        );
        assert_eq!(
            metadata_url_help(),
            "Instance metadata URL of the VM's temporary credentials [default: per cloud; otc, \
             huawei: http://169.254.169.254/openstack/latest/securitykey; ncp: \
             http://169.254.169.254/latest/meta-data/iam/security-credentials]"
        );
        let creds = credentials_help();
        assert!(creds.lines().all(|l| l.len() <= 87), "{creds}");
        assert_eq!(
            creds.lines().next(),
            Some(
                "Credentials, first found wins: --ak/--sk/--token; OS_ACCESS_KEY / OS_SECRET_KEY /"
            )
        );
        assert!(
            creds.contains(" With --cloud ovh: --client-id/--client-secret;")
                && creds.contains("ovh.conf. With --cloud ncp: --ak/--sk;")
                && creds.ends_with("the server role from the instance metadata."),
            "{creds}"
        );
        assert_eq!(wrap("a bb ccc", 4), "a bb\nccc");
        // No cloud is registered twice, and every one has a name.
        let mut names = CLOUDS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CLOUDS.len());
        assert!(ALL.iter().all(|c| !c.names.is_empty()));
    }

    /// A cloud's code refers to its own folder and shared modules, never to
    /// the registry or another cloud. `scripts/cycles.sh` cannot see the
    /// registry's edges to the clouds (the `clouds!` list declares them), so
    /// a cloud using the registry would be a cycle it misses: this finds it.
    #[test]
    fn a_cloud_refers_to_neither_the_registry_nor_another_cloud() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for cloud in ALL.iter().map(|c| c.names[0]) {
            let mut files = Vec::new();
            rust_files(root, &format!("src/clouds/{cloud}"), &mut files);
            assert!(!files.is_empty(), "{cloud}");
            for file in files {
                let text = std::fs::read_to_string(root.join(&file)).unwrap();
                let code: String = text[..text.find("#[cfg(test)]").unwrap_or(text.len())]
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                for (i, _) in code.match_indices("crate::clouds") {
                    let rest = &code[i + "crate::clouds".len()..];
                    assert!(
                        rest.starts_with(&format!("::{cloud}::")),
                        "{file}: {}",
                        code[i..].lines().next().unwrap_or_default()
                    );
                }
            }
        }
    }
}
