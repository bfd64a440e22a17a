//! The configuration file: `NAME=value` lines with the hook's own variable
//! names, read the way systemd's `EnvironmentFile=` reads them, so one file
//! serves a timer's unit and the hook. Its values become clap defaults, which
//! gives the precedence flags > environment > file > built-in defaults.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The default file of root (and of system units).
pub const SYSTEM_PATH: &str = "/etc/otc-acme-hook/config";

/// Variables the clouds read by hand, besides clap's `env` names (each
/// cloud lists its own in the registry), with what they are.
pub fn aliases() -> Vec<(&'static str, &'static str)> {
    crate::clouds::env_read_by_hand()
}

/// The variable of `--config`: it names the file, so the file can't set it.
pub const CONFIG_VAR: &str = "OTC_CONFIG";

/// Which file a run read, for `check` and `-v`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Status {
    /// `--config`/`OTC_CONFIG`, or the default file, was read.
    Read(PathBuf),
    /// The default file doesn't exist: nothing read.
    Absent(PathBuf),
    /// No default location (not root, and neither XDG_CONFIG_HOME nor HOME).
    #[default]
    NoDefault,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Read(p) => write!(f, "read {}", p.display()),
            Status::Absent(p) => write!(f, "none read ({} does not exist)", p.display()),
            Status::NoDefault => write!(
                f,
                "none read (no --config, and neither XDG_CONFIG_HOME nor HOME is set)"
            ),
        }
    }
}

/// The settings of a file that was read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub status: Status,
    /// Name to value; a later line wins, as in systemd. Empty values are left out.
    pub values: BTreeMap<String, String>,
}

fn err(cause: impl Into<String>) -> Error {
    Error::rejected("config", cause)
}

/// Every name a config file may set: the `env` names of the clap definition
/// (subcommands included) and the aliases read by hand, but not `OTC_CONFIG`.
pub fn allowed_names(cmd: &clap::Command) -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(e) = a.get_env() {
                out.insert(e.to_string_lossy().into_owned());
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(cmd, &mut out);
    out.extend(aliases().iter().map(|(s, _)| s.to_string()));
    out.remove(CONFIG_VAR);
    out
}

/// Whether a variable holds a secret: the file must then be private. The
/// clouds name their secret variables exactly ([`crate::clouds::secret_variables`]):
/// a URL (`OTC_TOKEN_ENDPOINT`) or a path to a secret (`…_FILE`) is not one.
pub fn is_credential(name: &str) -> bool {
    crate::clouds::secret_variables().contains(&name)
}

/// The file's values less those the environment gives under another name of
/// the same setting: flags > environment > file holds whatever alias each
/// uses (`NCLOUD_SECRET_KEY` in the environment beats the file's
/// `NCLOUD_SECRET_ACCESS_KEY`). A blank variable counts as unset.
pub fn shadowed_by_environment(
    mut values: BTreeMap<String, String>,
    env: &HashMap<String, String>,
) -> BTreeMap<String, String> {
    let in_env = |n: &str| env.get(n).is_some_and(|v| !v.trim().is_empty());
    for group in crate::clouds::alias_groups() {
        if group.iter().any(|n| in_env(n)) {
            for n in group {
                values.remove(*n);
            }
        }
    }
    values
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One setting of a file: name, value, line number.
pub type Line = (String, String, usize);

/// Parses `NAME=value` lines. `#` and `;` lines and blank lines are skipped; the
/// value is what follows the first `=`, trimmed, with one pair of surrounding
/// double or single quotes removed. Errors name the line, never a value
/// (`origin` is the file's name in the message).
pub fn parse(text: &str, origin: &str, allowed: &BTreeSet<String>) -> Result<Vec<Line>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let malformed = || {
            err(format!("config file {origin}: line {n} is not NAME=value"))
                .hint("write NAME=value, or start a comment with #")
        };
        let (name, value) = line.split_once('=').ok_or_else(malformed)?;
        let name = name.trim();
        if !is_name(name) {
            return Err(malformed());
        }
        if name == CONFIG_VAR {
            return Err(err(format!(
                "config file {origin}: line {n}: {CONFIG_VAR} can't be set in the config file"
            ))
            .hint("give --config or OTC_CONFIG on the command line or in the environment"));
        }
        if !allowed.contains(name) {
            return Err(err(format!(
                "config file {origin}: line {n}: unknown name {name}"
            ))
            .hint("use the hook's own variable names (otc-acme-hook generate config lists them)"));
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                if value.len() < 2 || !value.ends_with(q) {
                    return Err(err(format!(
                        "config file {origin}: line {n}: unterminated quote"
                    ))
                    .hint("end the value with the quote it starts with"));
                }
                &value[1..value.len() - 1]
            }
            _ => value,
        };
        out.push((name.to_string(), value.to_string(), n));
    }
    Ok(out)
}

/// Our uid.
fn current_uid() -> Option<u32> {
    Some(crate::host_state::current_uid())
}

/// The default file: root's in /etc, anyone else's under XDG_CONFIG_HOME (or ~/.config).
pub fn default_path(uid: Option<u32>, env: &HashMap<String, String>) -> Option<PathBuf> {
    if uid == Some(0) {
        return Some(PathBuf::from(SYSTEM_PATH));
    }
    let set = |k: &str| {
        env.get(k)
            .filter(|v| Path::new(v).is_absolute())
            .map(PathBuf::from)
    };
    let base = set("XDG_CONFIG_HOME").or_else(|| set("HOME").map(|h| h.join(".config")))?;
    Some(base.join("otc-acme-hook").join("config"))
}

/// `--config FILE` / `--config=FILE` from the raw arguments, before clap runs.
/// Mirrors clap: a credential flag's next word is its value whatever it looks
/// like, `--` ends the options, and lego's words after `present`/`cleanup`'s
/// first argument are values.
pub fn prescan(args: &[OsString], cmd: &clap::Command) -> Option<OsString> {
    // Options that take a value, to skip their value word.
    let mut longs = BTreeSet::new();
    let mut shorts = BTreeSet::new();
    for a in cmd.get_arguments() {
        if a.get_action().takes_values() && !a.is_positional() {
            longs.extend(a.get_long());
            longs.extend(a.get_all_aliases().into_iter().flatten());
            shorts.extend(a.get_short_and_visible_aliases().into_iter().flatten());
        }
    }
    let mut positionals = 0;
    let mut lego = false;
    let mut words = args.iter().skip(1);
    while let Some(w) = words.next() {
        let Some(s) = w.to_str() else {
            positionals += 1;
            continue;
        };
        if s == "--" {
            return None;
        }
        if let Some(long) = s.strip_prefix("--") {
            if let Some(v) = long.strip_prefix("config=") {
                return Some(v.into());
            }
            if long == "config" {
                return words.next().cloned();
            }
            if !long.contains('=') && longs.contains(long) {
                words.next();
            }
        } else if let Some(short) = s.strip_prefix('-').filter(|r| !r.is_empty()) {
            // `-a AK` and `-va AK` take the next word; in `-aAK` the value is attached.
            let first = short.chars().position(|c| shorts.contains(&c));
            if first.is_some_and(|i| i + 1 == short.chars().count()) {
                words.next();
            }
        } else {
            positionals += 1;
            if lego {
                return None;
            }
            if positionals == 1 && (s == "present" || s == "cleanup") {
                lego = true;
            }
        }
    }
    None
}

/// Finds and reads the file: `--config`/`OTC_CONFIG` (must exist), else the
/// default path (may be missing).
pub fn load(
    args: &[OsString],
    env: &HashMap<String, String>,
    cmd: &clap::Command,
) -> Result<Loaded> {
    let explicit = prescan(args, cmd)
        .map(PathBuf::from)
        .or_else(|| env.get(CONFIG_VAR).map(PathBuf::from));
    let (path, must_exist) = match explicit {
        Some(p) => (p, true),
        None => match default_path(current_uid(), env) {
            Some(p) => (p, false),
            None => return Ok(Loaded::default()),
        },
    };
    let shown = path.display().to_string();
    let (text, owner, mode) = match read_private(&path) {
        Ok(Some(t)) => t,
        Ok(None) if !must_exist => {
            return Ok(Loaded {
                status: Status::Absent(path),
                values: BTreeMap::new(),
            });
        }
        Ok(None) => {
            return Err(err(format!("config file {shown} does not exist"))
                .hint("fix --config / OTC_CONFIG, or create the file"));
        }
        Err(e) => return Err(e),
    };
    let lines = parse(&text, &shown, &allowed_names(cmd))?;
    let values: BTreeMap<String, String> = lines
        .into_iter()
        .filter(|(_, v, _)| !v.is_empty())
        .map(|(k, v, _)| (k, v))
        .collect();
    let secret = values.keys().find(|k| is_credential(k));
    // Owner and mode of the very file read (its open handle), not of a path looked at again.
    check_mode(
        &path,
        owner,
        mode,
        current_uid(),
        secret.map(String::as_str),
    )?;
    Ok(Loaded {
        status: Status::Read(path),
        values: shadowed_by_environment(values, env),
    })
}

/// Reads a regular file, opened without following a symlink at its last
/// component; with its owner and mode from the open handle. `None` when it
/// doesn't exist.
fn read_private(path: &Path) -> Result<Option<(String, u32, u32)>> {
    use rustix::fs::{FileType, Mode, OFlags};
    let shown = path.display();
    let cannot = |e: std::io::Error| err(format!("cannot read config file {shown}: {e}"));
    let fd = match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) => {
            return Err(err(format!("config file {shown} is a symlink"))
                .hint("name the file itself with --config"));
        }
        Err(e) => return Err(cannot(e.into())),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| cannot(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(err(format!("config file {shown} is not a regular file")));
    }
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    Ok(Some((text, st.st_uid, st.st_mode & 0o777)))
}

fn check_mode(
    path: &Path,
    owner: u32,
    mode: u32,
    me: Option<u32>,
    secret: Option<&str>,
) -> Result<()> {
    let shown = path.display();
    let fix = format!("chmod 600 {shown}");
    if owner != 0 && Some(owner) != me {
        return Err(err(format!(
            "config file {shown} belongs to uid {owner}, neither this user nor root"
        ))
        .hint(format!("chown it to this user or root, then {fix}")));
    }
    if mode & 0o022 != 0 {
        return Err(err(format!(
            "config file {shown} is writable by group or others (mode {mode:o})"
        ))
        .hint(fix));
    }
    if let Some(name) = secret {
        // 640 root:group lets a service group read it, as for other system secrets.
        let group_ok = mode & 0o070 == 0 || (owner == 0 && mode & 0o070 == 0o040);
        if mode & 0o007 != 0 || !group_ok {
            return Err(err(format!(
                "config file {shown} holds {name} but is readable by others (mode {mode:o})"
            ))
            .hint(fix));
        }
    }
    Ok(())
}

/// Makes the file's values clap defaults of the arguments whose variable is not
/// in the environment: clap then ranks them below flags and environment, and
/// reports them as not from the command line.
pub fn apply(
    mut cmd: clap::Command,
    values: &BTreeMap<String, String>,
    env: &HashMap<String, String>,
) -> clap::Command {
    let ids: Vec<(clap::Id, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let name = a.get_env()?.to_string_lossy().into_owned();
            let v = values.get(&name).filter(|_| !env.contains_key(&name))?;
            Some((a.get_id().clone(), v.clone()))
        })
        .collect();
    for (id, v) in ids {
        cmd = cmd.mut_arg(id, |a| a.default_value(v));
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, |s| apply(s, values, env));
    }
    cmd
}

/// (variable, `--long`) of the arguments whose value the file gives, as `apply` sets them.
pub fn file_args(
    cmd: &clap::Command,
    values: &BTreeMap<String, String>,
    env: &HashMap<String, String>,
) -> Vec<(String, String)> {
    cmd.get_arguments()
        .filter_map(|a| {
            let name = a.get_env()?.to_string_lossy().into_owned();
            if !values.contains_key(&name) || env.contains_key(&name) {
                return None;
            }
            Some((name, format!("--{}", a.get_long()?)))
        })
        .collect()
}

/// The variable of `--cloud`: the one setting `generate config` writes
/// uncommented, so every client and a timer's run choose the same cloud.
pub const CLOUD_VAR: &str = "OTC_CLOUD";

/// `generate config`: `OTC_CLOUD=` set to `cloud`, then every other setting
/// of the CLI, grouped as in `--help`, each commented out with its default
/// and its help as a comment.
pub fn template(cmd: &clap::Command, cloud: &str) -> String {
    // Built, the on/off flags have their `false` default.
    let mut cmd = cmd.clone();
    cmd.build();
    let mut groups: Vec<(String, Vec<&clap::Arg>)> = Vec::new();
    for a in cmd.get_arguments() {
        let Some(env) = a.get_env() else { continue };
        if env == CONFIG_VAR || env == CLOUD_VAR {
            continue;
        }
        let heading = a.get_help_heading().unwrap_or("Options").to_string();
        match groups.iter_mut().find(|(h, _)| *h == heading) {
            Some((_, v)) => v.push(a),
            None => groups.push((heading, vec![a])),
        }
    }
    // --help lists the arguments without a heading first.
    groups.sort_by_key(|(h, _)| h != "Options");
    let mut out = String::from(
        "# otc-acme-hook configuration file: NAME=value lines, as systemd's EnvironmentFile= reads them.
# Read from --config / OTC_CONFIG, else /etc/otc-acme-hook/config (root), else
# $XDG_CONFIG_HOME/otc-acme-hook/config (~/.config/otc-acme-hook/config).
# Flags and environment variables win over this file; it wins over the defaults shown.
# Every setting but the cloud is commented out: uncomment and edit the ones you need.
# A file that sets a secret key or token must be owned by you or root and mode 600
# (or 640 root:group). On an ECS with an agency or an NCP server with a server role,
# no other setting is needed.
",
    );
    out.push_str(&format!(
        "
## The cloud: otc, huawei, ovh or ncp. Chosen here, it holds for every ACME client,
## `check` and a timer's run alike; a --cloud in one client's hook command reaches no other.
{CLOUD_VAR}={cloud}
"
    ));
    for (heading, args) in groups {
        out.push_str(&format!("\n## {heading}\n"));
        for a in args {
            let env = a.get_env().unwrap_or_default().to_string_lossy();
            let help = a
                .get_long_help()
                .or(a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            let flag = a.get_long().map(|l| format!("--{l}: ")).unwrap_or_default();
            out.push('\n');
            for (i, l) in help.lines().enumerate() {
                let lead = if i == 0 { flag.as_str() } else { "" };
                out.push_str(format!("# {lead}{l}").trim_end());
                out.push('\n');
            }
            let default: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            out.push_str(&format!("#{env}={}\n", default.join(",")));
        }
    }
    let mut last = "";
    for (name, what) in aliases() {
        if what != last {
            out.push_str(&format!("\n## {what}\n\n"));
            last = what;
        }
        out.push_str(&format!("#{name}=\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn ok(text: &str) -> Vec<Line> {
        parse(text, "F", &names(&["OTC_TTL", "OTC_ZONE", "OS_SECRET_KEY"])).expect("parses")
    }

    fn fails(text: &str) -> String {
        let e = parse(text, "F", &names(&["OTC_TTL", "OTC_ZONE", "OS_SECRET_KEY"]))
            .expect_err("refused");
        assert_eq!(e.exit.code(), 2);
        format!("{}: {}; {}", e.step, e.cause, e.hint.unwrap_or_default())
    }

    #[test]
    fn values_quotes_comments_and_equals_signs() {
        let got = ok(
            "# a comment\n\n  ; another\nOTC_TTL=600\n OTC_ZONE = \"example.com\" \n\
             OS_SECRET_KEY='a=b=c'\nOTC_ZONE=a\"b\"\nOTC_TTL=\"\"\nOTC_ZONE='\"x\"'\nOTC_TTL=\n",
        );
        let got: Vec<(&str, &str, usize)> = got
            .iter()
            .map(|(k, v, n)| (k.as_str(), v.as_str(), *n))
            .collect();
        assert_eq!(
            got,
            [
                ("OTC_TTL", "600", 4),
                ("OTC_ZONE", "example.com", 5),
                ("OS_SECRET_KEY", "a=b=c", 6),
                // Quotes inside the value stay; only one surrounding pair goes.
                ("OTC_ZONE", "a\"b\"", 7),
                ("OTC_TTL", "", 8),
                ("OTC_ZONE", "\"x\"", 9),
                ("OTC_TTL", "", 10),
            ]
        );
        // A '#' after a value is part of it, as in systemd.
        assert_eq!(ok("OTC_ZONE=a # b")[0].1, "a # b");
    }

    #[test]
    fn unknown_names_are_refused_with_their_line_number() {
        let msg = fails("OTC_TTL=300\n# ok\nOTC_TLL=600\n");
        assert!(msg.contains("line 3: unknown name OTC_TLL"), "{msg}");
        let msg = fails("HTTPS_PROXY=http://proxy:3128\n");
        assert!(msg.contains("line 1: unknown name HTTPS_PROXY"), "{msg}");
        let msg = fails("OTC_CONFIG=/etc/x\n");
        assert!(msg.contains("line 1: OTC_CONFIG can't be set"), "{msg}");
    }

    #[test]
    fn malformed_lines_name_the_line_never_the_value() {
        for (text, line) in [
            ("OTC_TTL=1\nSKsecretvalue\n", 2),
            ("export OS_SECRET_KEY=SKsecretvalue\n", 1),
            ("=SKsecretvalue\n", 1),
            ("OTC_TTL=1\n\nOTC_ZONE=\"SKsecretvalue\n", 3),
            ("OS_SECRET_KEY='SKsecretvalue\"\n", 1),
            ("OS_SECRET_KEY=\"\n", 1),
        ] {
            let msg = fails(text);
            assert!(msg.contains(&format!("line {line}")), "{text:?}: {msg}");
            assert!(!msg.contains("SKsecretvalue"), "{msg}");
        }
    }

    #[test]
    fn names_come_from_the_clap_definition_and_the_aliases() {
        use clap::CommandFactory;
        let n = allowed_names(&crate::cli::Cli::command());
        for v in [
            "OS_ACCESS_KEY",
            "OS_SECRET_KEY",
            "OS_ACCESS_SECRET",
            "OS_ACCESS_TOKEN",
            "OTC_DNS_ENDPOINT",
            "OTC_NAMESERVERS",
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            "OTC_QUIET",
        ] {
            assert!(n.contains(v), "{v}");
        }
        for v in ["OTC_CONFIG", "HTTPS_PROXY", "EXEC_MODE", "CERTBOT_DOMAIN"] {
            assert!(!n.contains(v), "{v}");
        }
    }

    #[test]
    fn credentials_are_secret_and_token_names_but_not_paths() {
        for v in [
            "OS_SECRET_KEY",
            "OS_ACCESS_SECRET",
            "OS_SECURITY_TOKEN",
            "OS_ACCESS_TOKEN",
        ] {
            assert!(is_credential(v), "{v}");
        }
        for v in [
            "OS_ACCESS_KEY",
            "OTC_CCE_TOKEN_FILE",
            "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "OTC_TTL",
            // A URL is no secret (issue 18: such a file was refused at mode 644).
            "OTC_TOKEN_ENDPOINT",
            "OVH_CLIENT_SECRET_FILE",
            "NCLOUD_ACCESS_KEY_ID",
        ] {
            assert!(!is_credential(v), "{v}");
        }
        for v in [
            "OVH_CLIENT_SECRET",
            "OVH_ACCESS_TOKEN",
            "OVH_APPLICATION_SECRET",
            "OVH_CONSUMER_KEY",
            "NCLOUD_SECRET_ACCESS_KEY",
            "NCLOUD_SECRET_KEY",
        ] {
            assert!(is_credential(v), "{v}");
        }
    }

    #[test]
    fn every_secret_sounding_name_is_in_the_one_list() {
        // A new variable holding a secret must join the list, or a 644 file could hold it.
        use clap::CommandFactory;
        for n in allowed_names(&crate::cli::Cli::command()) {
            let sounds = ["SECRET", "TOKEN", "PASSWORD", "CONSUMER_KEY"]
                .iter()
                .any(|w| n.contains(w));
            let not_a_secret = n.ends_with("_FILE") || n.ends_with("_ENDPOINT");
            assert_eq!(is_credential(&n), sounds && !not_a_secret, "{n}");
        }
    }

    #[test]
    fn the_environment_s_alias_outranks_the_file_s_name() {
        let values: BTreeMap<String, String> = [
            ("NCLOUD_SECRET_ACCESS_KEY", "stale"),
            ("NCLOUD_ACCESS_KEY_ID", "AKFILE"),
            ("OS_SECRET_KEY", "stale"),
            ("OS_SECURITY_TOKEN", "tok"),
            ("OTC_TTL", "600"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env: HashMap<String, String> = [
            ("NCLOUD_SECRET_KEY", "fresh"),
            ("OS_ACCESS_SECRET", "fresh"),
            ("OS_ACCESS_TOKEN", " "),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let left = shadowed_by_environment(values, &env);
        let names: Vec<&str> = left.keys().map(String::as_str).collect();
        // The secrets' file names go; the access key (another setting), a
        // token whose alias is blank in the environment, and the rest stay.
        assert_eq!(
            names,
            ["NCLOUD_ACCESS_KEY_ID", "OS_SECURITY_TOKEN", "OTC_TTL"]
        );
    }

    #[test]
    fn default_path_by_user() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let both = env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg")]);
        assert_eq!(
            default_path(Some(0), &both),
            Some(PathBuf::from(SYSTEM_PATH))
        );
        assert_eq!(
            default_path(Some(0), &env(&[])),
            Some(PathBuf::from(SYSTEM_PATH))
        );
        assert_eq!(
            default_path(Some(1000), &both),
            Some(PathBuf::from("/xdg/otc-acme-hook/config"))
        );
        assert_eq!(
            default_path(Some(1000), &env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.config/otc-acme-hook/config"))
        );
        // A relative XDG_CONFIG_HOME is invalid per the spec: fall back to HOME.
        assert_eq!(
            default_path(
                Some(1000),
                &env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")])
            ),
            Some(PathBuf::from("/home/u/.config/otc-acme-hook/config"))
        );
        assert_eq!(default_path(Some(1000), &env(&[])), None);
    }

    #[test]
    fn prescan_finds_config_and_skips_credential_values() {
        use clap::CommandFactory;
        let cmd = crate::cli::Cli::command();
        let scan = |a: &[&str]| {
            let args: Vec<OsString> = std::iter::once("otc-acme-hook")
                .chain(a.iter().copied())
                .map(OsString::from)
                .collect();
            prescan(&args, &cmd).map(|s| s.to_string_lossy().into_owned())
        };
        assert_eq!(scan(&["--config", "/c", "auth"]).as_deref(), Some("/c"));
        assert_eq!(scan(&["auth", "--config=/c"]).as_deref(), Some("/c"));
        assert_eq!(
            scan(&["-v", "check", "x", "--config", "/c"]).as_deref(),
            Some("/c")
        );
        // A secret that happens to be "--config" is the credential's value.
        assert_eq!(scan(&["--sk", "--config", "auth"]), None);
        assert_eq!(scan(&["-s", "--config", "auth"]), None);
        assert_eq!(scan(&["--secret-key", "--config", "auth"]), None);
        assert_eq!(scan(&["--security-token", "--config", "auth"]), None);
        assert_eq!(scan(&["--zone", "z", "auth"]), None);
        assert_eq!(
            scan(&["--ak", "A", "--config", "/c", "auth"]).as_deref(),
            Some("/c")
        );
        // lego's words and anything after `--` are values.
        assert_eq!(scan(&["present", "--", "d", "--config", "x"]), None);
        assert_eq!(scan(&["cleanup", "_a.example.", "--config"]), None);
        assert_eq!(scan(&["--config"]), None);
    }

    #[test]
    fn permissions_of_a_file_with_and_without_secrets() {
        let p = Path::new("/f");
        let me = Some(1000);
        let code = |owner, mode, secret: Option<&str>| {
            check_mode(p, owner, mode, me, secret).map_err(|e| {
                assert!(e.hint.as_deref().unwrap().contains("chmod 600 /f"));
                e.cause
            })
        };
        assert!(code(1000, 0o600, Some("OS_SECRET_KEY")).is_ok());
        assert!(code(0, 0o600, Some("OS_SECRET_KEY")).is_ok());
        assert!(code(0, 0o640, Some("OS_SECRET_KEY")).is_ok());
        assert!(code(1000, 0o644, None).is_ok());
        let e = code(1000, 0o644, Some("OS_SECRET_KEY")).unwrap_err();
        assert!(
            e.contains("holds OS_SECRET_KEY but is readable by others (mode 644)"),
            "{e}"
        );
        // Group-readable only for root's file with a service group.
        assert!(code(1000, 0o640, Some("OS_SECRET_KEY")).is_err());
        assert!(code(0, 0o604, Some("OS_SECURITY_TOKEN")).is_err());
        // Writable by others could point the signed calls elsewhere.
        assert!(code(1000, 0o620, None).is_err());
        assert!(code(0, 0o666, None).is_err());
        let e = code(1001, 0o600, None).unwrap_err();
        assert!(e.contains("belongs to uid 1001"), "{e}");
    }

    #[test]
    fn file_values_rank_below_the_environment() {
        use clap::CommandFactory;
        let values: BTreeMap<String, String> = [
            ("OTC_TTL", "600"),
            ("OTC_ZONE", "from-file.example"),
            ("OTC_NAMESERVERS", "a:53,b:54"),
            ("OTC_NO_CNAME", "yes"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env: HashMap<String, String> =
            [("OTC_ZONE".to_string(), "from-env.example".to_string())].into();
        let cmd = apply(crate::cli::Cli::command(), &values, &env);
        let m = cmd
            .try_get_matches_from(["otc-acme-hook", "--ttl", "900", "auth"])
            .unwrap();
        // The flag wins over the file.
        assert_eq!(m.get_one::<u32>("ttl"), Some(&900));
        // The environment (not set in this process) would be read by clap; here
        // the file's value was not applied because the environment names it.
        assert_eq!(m.get_one::<String>("zone"), None);
        let ns: Vec<&String> = m.get_many::<String>("nameserver").unwrap().collect();
        assert_eq!(ns, ["a:53", "b:54"]);
        assert_eq!(m.get_one::<bool>("no_cname"), Some(&true));
        assert_eq!(
            m.value_source("nameserver"),
            Some(clap::parser::ValueSource::DefaultValue)
        );
    }
}
