//! OVH's credential sources, in the order the shared chain
//! ([`crate::credentials`]) tries them, as pure logic over injected inputs
//! (flags, the environment, a file reader), so every path is unit-tested
//! without touching the process environment or the disk. Every source reads
//! local material; setup builds the chain, connect resolves it.
//!
//! Three kinds of credentials: a **service account** (OAuth2 client
//! credentials, preferred), a **pre-minted bearer** (`OVH_ACCESS_TOKEN`, as lego
//! takes it), **classic application keys** (AK/AS/CK, legacy). First found
//! wins, in this order: flags, environment, secret files, credentials file,
//! `ovh.conf`. A service account id and its secret may come from two of the
//! first three (an id in the environment, the secret in a systemd credential).
//! Two kinds given together are refused (exit 2): which one was meant is not
//! ours to guess (checked when the first source is asked, before any is taken).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::endpoints::{self, EndpointInputs, Endpoints};
use crate::credentials::{Attempt, Chain, Kinds, NoneAnswered, Source};
use crate::error::{Error, Exit, Result};
use crate::keyfile;

pub use crate::keyfile::{FileText, Files, RealFiles};
pub use crate::redact::Secret;

/// Warning for a secret given as a flag (shown like `--sk`'s).
pub const CLIENT_SECRET_FLAG_WARNING: &str = "--client-secret on the command line is visible in `ps` and is stored in certbot's renewal conf; prefer --credentials-file, OVH_CLIENT_SECRET_FILE or a systemd credential (ovh_client_secret)";

pub const ENV_CLIENT_ID: &str = "OVH_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "OVH_CLIENT_SECRET";
pub const ENV_CLIENT_SECRET_FILE: &str = "OVH_CLIENT_SECRET_FILE";
pub const ENV_ACCESS_TOKEN: &str = "OVH_ACCESS_TOKEN";
pub const ENV_APPLICATION_KEY: &str = "OVH_APPLICATION_KEY";
pub const ENV_APPLICATION_SECRET: &str = "OVH_APPLICATION_SECRET";
pub const ENV_CONSUMER_KEY: &str = "OVH_CONSUMER_KEY";
pub const ENV_ENDPOINT: &str = "OVH_ENDPOINT";
/// The variables read by hand (no flag), which the configuration file may set too.
pub const ENV_READ_BY_HAND: [&str; 6] = [
    ENV_CLIENT_SECRET_FILE,
    ENV_ACCESS_TOKEN,
    ENV_APPLICATION_KEY,
    ENV_APPLICATION_SECRET,
    ENV_CONSUMER_KEY,
    ENV_ENDPOINT,
];
/// This cloud's variables that hold a secret.
pub const SECRET_VARIABLES: [&str; 4] = [
    ENV_CLIENT_SECRET,
    ENV_ACCESS_TOKEN,
    ENV_APPLICATION_SECRET,
    ENV_CONSUMER_KEY,
];
/// Two ways of giving the service account's secret: the environment's
/// either one outranks the config file's other.
pub const ALIASES: [&[&str]; 1] = [&[ENV_CLIENT_SECRET, ENV_CLIENT_SECRET_FILE]];
/// systemd's `LoadCredential=`/`LoadCredentialEncrypted=` directory, and our file in it.
pub const ENV_CREDENTIALS_DIRECTORY: &str = crate::keyfile::CREDENTIALS_DIRECTORY;
pub const SYSTEMD_CREDENTIAL: &str = "ovh_client_secret";
/// `ovh.conf` files, lowest precedence first (later files override earlier
/// keys, as in the OVH SDKs); `~` is `$HOME`.
pub const CONF_FILES: [&str; 3] = ["/etc/ovh.conf", "~/.ovh.conf", "./ovh.conf"];

/// How API calls authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// OAuth2 client credentials: a bearer token is fetched from the token URL.
    ServiceAccount {
        client_id: String,
        client_secret: Secret,
    },
    /// A bearer token minted elsewhere (`OVH_ACCESS_TOKEN`): nothing to refresh.
    AccessToken(Secret),
    /// Classic keys: every request signed (`X-Ovh-Signature`).
    Classic {
        application_key: String,
        application_secret: Secret,
        consumer_key: Secret,
    },
}

impl Auth {
    /// For `-v` and `check`: the kind and the public id, never a secret.
    pub fn describe(&self) -> String {
        match self {
            Auth::ServiceAccount { client_id, .. } => format!("service account {client_id}"),
            Auth::AccessToken(_) => "access token (OVH_ACCESS_TOKEN)".into(),
            Auth::Classic {
                application_key, ..
            } => format!("application key {application_key}"),
        }
    }
}

/// What the chain found.
#[derive(Debug, Clone)]
pub struct Found {
    pub auth: Auth,
    /// Where it came from ("environment", "credentials file", "./ovh.conf" …).
    pub source: String,
    /// Sources passed over before it, with why (for `-v`).
    pub skipped: Vec<String>,
}

/// Command-line values only (clap's flag/env merge split apart by the caller;
/// the credentials file's `OTC_CREDENTIALS_FILE` counts here too: it has no
/// flag-less rival). Its `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct Flags {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `--credentials-file` / `OTC_CREDENTIALS_FILE`.
    pub credentials_file: Option<PathBuf>,
    /// `--credentials`, through [`KINDS`]: always `None` (OVH declares no value).
    pub only: Option<&'static str>,
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flags")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| crate::redact::REDACTED),
            )
            .field("credentials_file", &self.credentials_file)
            .field("only", &self.only)
            .finish()
    }
}

/// `--credentials` does not apply to OVH: the setting is ignored, as it always was.
pub const KINDS: Kinds = Kinds {
    cloud: "OVH",
    values: &[],
};

/// Everything the chain reads, injected.
#[derive(Clone)]
pub struct Inputs {
    pub flags: Flags,
    /// The process environment (blank counts as unset).
    pub env: HashMap<String, String>,
    pub files: Arc<dyn Files>,
}

/// Names, never a secret: the variables' names only, no client secret.
impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        f.debug_struct("Inputs")
            .field("client_id", &self.flags.client_id)
            .field("credentials_file", &self.flags.credentials_file)
            .field("env", &names)
            .finish()
    }
}

impl Inputs {
    fn env(&self, k: &str) -> Option<String> {
        self.env.get(k).cloned().filter(|v| !v.trim().is_empty())
    }
}

/// A secret file must be its owner's only; a systemd credential (under
/// `$CREDENTIALS_DIRECTORY`) unwritable by group and others.
fn private(i: &Inputs, path: &Path, what: &str, f: &FileText) -> Result<()> {
    keyfile::require_private_or_credential(
        what,
        path,
        f.mode,
        i.env(ENV_CREDENTIALS_DIRECTORY).as_deref(),
    )
}

fn read_secret_file(i: &Inputs, path: &Path, what: &str) -> Result<Option<String>> {
    let unreadable = |e: String| {
        Error::rejected(
            "credentials",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    };
    let Some(f) =
        keyfile::read_if_any(i.files.as_ref(), path).map_err(|e| unreadable(e.to_string()))?
    else {
        return Ok(None);
    };
    private(i, path, what, &f)?;
    let v = f.text.trim();
    if v.is_empty() {
        return Err(unreadable("it is empty".into()));
    }
    Ok(Some(v.to_string()))
}

/// The `ovh.conf` files merged: later files override earlier keys. Its
/// `Debug` names the keys, never their values (secrets among them).
#[derive(Default, Clone)]
pub struct OvhConf {
    /// (section, key, value, index of the file it came from).
    entries: Vec<(String, String, String, usize)>,
    /// Each file read, with its mode.
    files: Vec<(PathBuf, u32)>,
    /// Files passed over, with why: one warning line each.
    pub skipped: Vec<String>,
}

impl std::fmt::Debug for OvhConf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .entries
            .iter()
            .map(|(section, key, _, _)| format!("[{section}] {key}"))
            .collect();
        f.debug_struct("OvhConf")
            .field("keys", &keys)
            .field("files", &self.files)
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl OvhConf {
    /// Reads [`CONF_FILES`] that exist (`~` from `$HOME`). Any of them may
    /// move the endpoint the credentials are sent to, so each is judged like
    /// the config file: owned by us or root and writable by no one else, else
    /// skipped (never read) with a warning. `./ovh.conf` is not even looked
    /// at in a directory others can write (`/tmp`): anyone could have put it there.
    pub fn load(i: &Inputs) -> Result<OvhConf> {
        let mut conf = OvhConf::default();
        for name in CONF_FILES {
            let path = match name.strip_prefix("~/") {
                Some(rest) => match i.env("HOME") {
                    Some(h) => Path::new(&h).join(rest),
                    None => continue,
                },
                None => PathBuf::from(name),
            };
            if name.starts_with("./") && i.files.dir_open_to_others(Path::new(".")) {
                if i.files.exists(&path) {
                    conf.skip(&path, "the working directory is writable by other users");
                }
                continue;
            }
            let f = match keyfile::read_if_any(i.files.as_ref(), &path) {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(e) => {
                    conf.skip(&path, &e.to_string());
                    continue;
                }
            };
            if f.mode & 0o022 != 0 {
                conf.skip(
                    &path,
                    &format!("writable by group or others (mode {:o})", f.mode & 0o777),
                );
                continue;
            }
            conf.files.push((path, f.mode));
            conf.parse(&f.text, conf.files.len() - 1)?;
        }
        Ok(conf)
    }

    fn skip(&mut self, path: &Path, why: &str) {
        self.skipped
            .push(format!("{} skipped: {why}", path.display()));
    }

    /// Later entries (of this file, and of later files) override earlier ones.
    fn parse(&mut self, text: &str, file: usize) -> Result<()> {
        for e in keyfile::read(text, &self.files[file].0, &keyfile::SDK_INI)? {
            let section = e.section.unwrap_or_default();
            self.entries
                .retain(|(s, key, _, _)| !(s == &section && key == &e.key));
            self.entries.push((section, e.key, e.value, file));
        }
        Ok(())
    }

    fn get(&self, section: &str, key: &str) -> Option<(&str, usize)> {
        self.entries
            .iter()
            .find(|(s, k, v, _)| s == section && k == key && !v.is_empty())
            .map(|(_, _, v, f)| (v.as_str(), *f))
    }

    /// `[default] endpoint=`.
    pub fn default_endpoint(&self) -> Option<&str> {
        self.get("default", "endpoint").map(|(v, _)| v)
    }

    /// Which files were read (and passed over), for messages.
    pub fn describe_files(&self) -> String {
        let read = if self.files.is_empty() && self.skipped.is_empty() {
            format!("none of {} exists", CONF_FILES.join(", "))
        } else {
            self.files
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts: Vec<String> = (!read.is_empty()).then_some(read).into_iter().collect();
        parts.extend(self.skipped.iter().cloned());
        parts.join(", ")
    }
}

fn both_kinds(what: String) -> Error {
    Error::rejected(
        "credentials",
        format!("{what}: give one kind of OVH credentials"),
    )
    .hint("keep the service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET, preferred) and unset the others, or the other kind alone")
}

/// What a source loads: the credentials, and where they came from
/// ("flags + environment", "./ovh.conf", …).
type Loaded = (Auth, String);

/// A service account's secret from the secret files, with where it came from.
fn secret_from_files(i: &Inputs) -> Result<Option<(String, String)>> {
    if let Some(p) = i.env(ENV_CLIENT_SECRET_FILE) {
        let path = PathBuf::from(&p);
        return match read_secret_file(i, &path, ENV_CLIENT_SECRET_FILE)? {
            Some(s) => Ok(Some((s, ENV_CLIENT_SECRET_FILE.to_string()))),
            None => Err(Error::rejected(
                "credentials",
                format!("{ENV_CLIENT_SECRET_FILE} {} does not exist", path.display()),
            )),
        };
    }
    if let Some(dir) = i.env(ENV_CREDENTIALS_DIRECTORY) {
        let path = Path::new(&dir).join(SYSTEMD_CREDENTIAL);
        if let Some(s) = read_secret_file(i, &path, "systemd credential")? {
            return Ok(Some((
                s,
                format!("systemd credential {SYSTEMD_CREDENTIAL}"),
            )));
        }
    }
    Ok(None)
}

/// Flags, environment and secret files: the pieces of a service account
/// (an id and a secret may come from two of them), a token, classic keys.
fn explicit(i: &Inputs) -> Result<[Attempt<Loaded>; 3]> {
    let f = &i.flags;
    let nb = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let (f_id, f_secret) = (nb(&f.client_id), nb(&f.client_secret));
    let (e_id, e_secret) = (i.env(ENV_CLIENT_ID), i.env(ENV_CLIENT_SECRET));
    let token = i.env(ENV_ACCESS_TOKEN);
    let classic: Vec<(&str, Option<String>)> = [
        ENV_APPLICATION_KEY,
        ENV_APPLICATION_SECRET,
        ENV_CONSUMER_KEY,
    ]
    .into_iter()
    .map(|k| (k, i.env(k)))
    .collect();
    let sa_given = f_id.is_some()
        || f_secret.is_some()
        || e_id.is_some()
        || e_secret.is_some()
        || i.env(ENV_CLIENT_SECRET_FILE).is_some();
    let classic_given = classic.iter().any(|(_, v)| v.is_some());
    let mut kinds = Vec::new();
    if sa_given {
        kinds.push(
            "a service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET or --client-id/--client-secret)",
        );
    }
    if token.is_some() {
        kinds.push("an access token (OVH_ACCESS_TOKEN)");
    }
    if classic_given {
        kinds.push("classic application keys (OVH_APPLICATION_KEY/…)");
    }
    if kinds.len() > 1 {
        let verb = if kinds.len() == 2 {
            "are both set"
        } else {
            "are all set"
        };
        return Err(both_kinds(format!("{} {verb}", kinds.join(" and "))));
    }
    let none = |s: &str| Attempt::NotConfigured(s.to_string());
    let mut flags = none("no --client-id/--client-secret");
    let mut env = none(
        "no OVH_CLIENT_ID/OVH_CLIENT_SECRET, OVH_ACCESS_TOKEN or OVH_APPLICATION_KEY/OVH_APPLICATION_SECRET/OVH_CONSUMER_KEY",
    );
    let mut files = none("no OVH_CLIENT_SECRET_FILE or $CREDENTIALS_DIRECTORY/ovh_client_secret");
    if let Some(t) = token {
        env = Attempt::Loaded((Auth::AccessToken(Secret::new(t)), "environment".into()));
    } else if classic_given {
        let missing: Vec<&str> = classic
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(Error::rejected(
                "credentials",
                format!(
                    "classic application keys are incomplete: {} not set",
                    missing.join(", ")
                ),
            )
            .hint("set all three of OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY, or use a service account (OVH_CLIENT_ID/OVH_CLIENT_SECRET)"));
        }
        let v = |n: usize| classic[n].1.clone().unwrap_or_default();
        env = Attempt::Loaded((
            Auth::Classic {
                application_key: v(0),
                application_secret: Secret::new(v(1)),
                consumer_key: Secret::new(v(2)),
            },
            "environment".into(),
        ));
    } else {
        // The id from the flags, else the environment; the secret from the
        // flags, else the environment, else the secret files.
        let id = f_id
            .clone()
            .map(|v| (v, "flags"))
            .or(e_id.map(|v| (v, "environment")));
        let secret = match f_secret
            .map(|v| (v, "flags".to_string()))
            .or(e_secret.map(|v| (v, "environment".to_string())))
        {
            Some(s) => Some(s),
            None => secret_from_files(i)?,
        };
        match (id, secret) {
            (Some((id, id_from)), Some((secret, secret_from))) => {
                let source = if id_from == secret_from {
                    id_from.to_string()
                } else {
                    format!("{id_from} + {secret_from}")
                };
                let auth = Auth::ServiceAccount {
                    client_id: id,
                    client_secret: Secret::new(secret),
                };
                let slot = match (id_from, secret_from.as_str()) {
                    ("flags", _) | (_, "flags") => &mut flags,
                    (_, "environment") => &mut env,
                    _ => {
                        env = none("OVH_CLIENT_ID only: the secret comes from a file");
                        &mut files
                    }
                };
                *slot = Attempt::Loaded((auth, source));
            }
            (Some((_, from)), None) => {
                return Err(Error::rejected(
                    "credentials",
                    format!("a service account client id was given ({from}) but no client secret"),
                )
                .hint("name a file of mode 600 holding the secret with OVH_CLIENT_SECRET_FILE, or give the systemd credential ovh_client_secret, or set OVH_CLIENT_SECRET"));
            }
            (None, Some((_, from))) => {
                return Err(Error::rejected(
                    "credentials",
                    format!("a service account client secret was given ({from}) but no client id"),
                )
                .hint("set OVH_CLIENT_ID (or --client-id)"));
            }
            (None, None) => {}
        }
    }
    Ok([flags, env, files])
}

/// `--credentials-file`: `client_id = …`, `client_secret = …` lines (`#`
/// comments, optional double quotes), owner-only. Errors name the line, never its value.
pub fn parse_credentials_file(text: &str, path: &Path) -> Result<Auth> {
    let bad = |msg: String| Error::rejected("credentials", format!("{}: {msg}", path.display()));
    let (mut id, mut secret) = (None, None);
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(bad(format!("line {}: expected `key = value`", n + 1)));
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v)
            .to_string();
        match k.trim() {
            "client_id" => id = Some(v),
            "client_secret" => secret = Some(v),
            other => {
                return Err(bad(format!(
                    "line {}: unknown key {other:?} (client_id, client_secret)",
                    n + 1
                )));
            }
        }
    }
    match (
        id.filter(|v| !v.is_empty()),
        secret.filter(|v| !v.is_empty()),
    ) {
        (Some(client_id), Some(s)) => Ok(Auth::ServiceAccount {
            client_id,
            client_secret: Secret::new(s),
        }),
        _ => Err(bad("needs client_id and client_secret".into())),
    }
}

fn credentials_file(i: &Inputs) -> Result<Attempt<Loaded>> {
    let Some(path) = &i.flags.credentials_file else {
        return Ok(Attempt::NotConfigured(
            "no --credentials-file / OTC_CREDENTIALS_FILE".into(),
        ));
    };
    let cannot = |e: String| {
        Error::rejected(
            "credentials",
            format!("cannot read credentials file {}: {e}", path.display()),
        )
    };
    let f = keyfile::read_if_any(i.files.as_ref(), path)
        .map_err(|e| cannot(e.to_string()))?
        .ok_or_else(|| cannot("no such file".into()))?;
    private(i, path, "credentials file", &f)?;
    Ok(Attempt::Loaded((
        parse_credentials_file(&f.text, path)?,
        "credentials file".into(),
    )))
}

fn from_conf(conf: &OvhConf, section: &str) -> Result<Attempt<Loaded>> {
    let get = |k: &str| conf.get(section, k);
    let sa = [get("client_id"), get("client_secret")];
    let classic = [
        get("application_key"),
        get("application_secret"),
        get("consumer_key"),
    ];
    let any = |v: &[Option<(&str, usize)>]| v.iter().any(Option::is_some);
    let all = |v: &[Option<(&str, usize)>]| v.iter().all(Option::is_some);
    let files = conf.describe_files();
    if any(&sa) && any(&classic) {
        return Err(both_kinds(format!(
            "ovh.conf [{section}] ({files}) holds both client_id/client_secret and application keys"
        )));
    }
    let (parts, names): (&[Option<(&str, usize)>], &str) = if any(&sa) {
        (&sa, "client_id and client_secret")
    } else if any(&classic) {
        (
            &classic,
            "application_key, application_secret and consumer_key",
        )
    } else {
        return Ok(Attempt::NotConfigured(format!(
            "no [{section}] keys ({files})"
        )));
    };
    if !all(parts) {
        return Err(Error::rejected(
            "credentials",
            format!("ovh.conf [{section}] ({files}) needs {names}"),
        ));
    }
    // Every file a secret came from must be owner-only.
    for (_, file) in parts.iter().flatten().skip(1) {
        let (path, mode) = &conf.files[*file];
        keyfile::require_private("", path, *mode)?;
    }
    let v = |n: usize| parts[n].map(|(v, _)| v.to_string()).unwrap_or_default();
    let source = conf.files[parts[0].map(|(_, f)| f).unwrap_or(0)]
        .0
        .display()
        .to_string();
    let auth = if parts.len() == 2 {
        Auth::ServiceAccount {
            client_id: v(0),
            client_secret: Secret::new(v(1)),
        }
    } else {
        Auth::Classic {
            application_key: v(0),
            application_secret: Secret::new(v(1)),
            consumer_key: Secret::new(v(2)),
        }
    };
    Ok(Attempt::Loaded((auth, source)))
}

/// OVH's chain, built at setup, resolved at connect.
pub type OvhChain = Chain<Loaded>;

/// Resolves the endpoints and builds the credential chain. `ep` holds
/// `--region`, `--dns-endpoint`, `--token-endpoint` as given; `OVH_ENDPOINT`
/// and `ovh.conf`'s default endpoint are filled in here. Errors are
/// rejections (exit 2): nothing here touches the network. Also returns the
/// warnings to print (an `ovh.conf` skipped).
pub fn setup(i: Inputs, mut ep: EndpointInputs) -> Result<(Endpoints, OvhChain, Vec<String>)> {
    let conf = OvhConf::load(&i)?;
    if ep.ovh_endpoint.is_none() {
        ep.ovh_endpoint = i.env(ENV_ENDPOINT);
    }
    ep.conf_endpoint = conf.default_endpoint().map(str::to_string);
    let endpoints = endpoints::resolve(&ep)?;
    let warnings = conf.skipped.clone();
    let chain = chain(i, conf, &endpoints.conf_section);
    Ok((endpoints, chain, warnings))
}

/// What the chain found, and what it passed over (for `-v`).
pub fn found(chain: &OvhChain) -> Result<Found> {
    let r = chain.resolve(&(), &|_| {})?;
    let (auth, source) = r.value;
    Ok(Found {
        auth,
        source,
        skipped: r.tried.skipped,
    })
}

/// [`setup`] and [`found`] at once (tests, fuzzing).
pub fn resolve(i: &Inputs, ep: EndpointInputs) -> Result<(Endpoints, Found, Vec<String>)> {
    let (endpoints, chain, warnings) = setup(i.clone(), ep)?;
    Ok((endpoints, found(&chain)?, warnings))
}

/// OVH's chain: flags, environment and secret files (their attempts made
/// together, once, by [`explicit`]: one service account may span two of
/// them, and two kinds given together are refused before any is taken), then
/// the credentials file and `ovh.conf`, read only when reached.
fn chain(i: Inputs, conf: OvhConf, section: &str) -> OvhChain {
    let made = Arc::new(std::sync::OnceLock::new());
    let part = |n: usize| {
        let (i, made) = (i.clone(), made.clone());
        move || match made.get_or_init(|| explicit(&i)) {
            Ok(parts) => Ok(parts[n].clone()),
            Err(e) => Err(Error::clone(e)),
        }
    };
    let section = section.to_string();
    let only = i.flags.only;
    let file = i.clone();
    Chain {
        sources: vec![
            Source::local("flags", "static", part(0)),
            Source::local("environment", "static", part(1)),
            Source::local("secret files", "file", part(2)),
            Source::local("credentials file", "file", move || credentials_file(&file)),
            Source::local("ovh.conf", "file", move || from_conf(&conf, &section)),
        ],
        only,
        none: NoneAnswered {
            what: "no OVH credential source answered",
            exit: Exit::Rejected,
            hint: "create a service account, set OVH_CLIENT_ID and put its secret in a file of mode 600 named by OVH_CLIENT_SECRET_FILE (or the systemd credential ovh_client_secret, or --credentials-file; OVH_CLIENT_SECRET last); see docs/setup.md",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default, Clone)]
    struct FakeFiles(
        HashMap<PathBuf, (String, u32)>,
        /// Directories another user may write.
        Vec<PathBuf>,
        /// Files another user owns (the real reader refuses them).
        Vec<PathBuf>,
        /// Every path read.
        Arc<std::sync::Mutex<Vec<PathBuf>>>,
    );
    impl FakeFiles {
        fn with(mut self, p: &str, text: &str, mode: u32) -> Self {
            self.0.insert(p.into(), (text.into(), mode));
            self
        }
        fn open_dir(mut self, d: &str) -> Self {
            self.1.push(d.into());
            self
        }
        fn foreign(mut self, p: &str) -> Self {
            self.2.push(p.into());
            self
        }
    }
    impl Files for FakeFiles {
        fn read(&self, path: &Path) -> std::io::Result<FileText> {
            crate::sync::lock(&self.3).push(path.into());
            if self.2.iter().any(|p| p == path) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "owned by uid 1001, neither this user nor root",
                ));
            }
            self.0
                .get(path)
                .map(|(t, m)| FileText {
                    text: t.clone(),
                    mode: *m,
                })
                .ok_or_else(|| std::io::ErrorKind::NotFound.into())
        }
        fn dir_open_to_others(&self, dir: &Path) -> bool {
            self.1.iter().any(|d| d == dir)
        }
        fn exists(&self, path: &Path) -> bool {
            self.0.contains_key(path) || self.2.iter().any(|p| p == path)
        }
    }

    fn run(flags: &Flags, env: &[(&str, &str)], files: &FakeFiles) -> Result<(Endpoints, Found)> {
        run_w(flags, env, files).map(|(ep, f, _)| (ep, f))
    }

    fn run_w(
        flags: &Flags,
        env: &[(&str, &str)],
        files: &FakeFiles,
    ) -> Result<(Endpoints, Found, Vec<String>)> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(
            &Inputs {
                flags: flags.clone(),
                env,
                files: Arc::new(files.clone()),
            },
            EndpointInputs::default(),
        )
    }

    fn sa(id: &str, secret: &str) -> Auth {
        Auth::ServiceAccount {
            client_id: id.into(),
            client_secret: Secret::new(secret),
        }
    }

    const SA_ENV: [(&str, &str); 2] = [
        ("OVH_CLIENT_ID", "cid-env"),
        ("OVH_CLIENT_SECRET", "cs-env"),
    ];
    const CLASSIC_ENV: [(&str, &str); 3] = [
        ("OVH_APPLICATION_KEY", "AK"),
        ("OVH_APPLICATION_SECRET", "AS"),
        ("OVH_CONSUMER_KEY", "CK"),
    ];

    #[test]
    fn flags_then_environment() {
        let flags = Flags {
            client_id: Some("cid-flag".into()),
            client_secret: Some("cs-flag".into()),
            ..Default::default()
        };
        let (_, f) = run(&flags, &SA_ENV, &FakeFiles::default()).unwrap();
        assert_eq!(
            (f.auth, f.source.as_str()),
            (sa("cid-flag", "cs-flag"), "flags")
        );
        let (_, f) = run(&Flags::default(), &SA_ENV, &FakeFiles::default()).unwrap();
        assert_eq!(f.auth, sa("cid-env", "cs-env"));
        assert_eq!(f.source, "environment");
        assert_eq!(f.skipped, ["flags: no --client-id/--client-secret"]);
        // An id on the command line, the secret in the environment.
        let flags = Flags {
            client_id: Some("cid-flag".into()),
            ..Default::default()
        };
        let (_, f) = run(
            &flags,
            &[("OVH_CLIENT_SECRET", "cs-env")],
            &FakeFiles::default(),
        )
        .unwrap();
        assert_eq!(
            (f.auth, f.source.as_str()),
            (sa("cid-flag", "cs-env"), "flags + environment")
        );
    }

    #[test]
    fn secret_files_feed_the_environment_s_id() {
        let files = FakeFiles::default()
            .with("/run/secret", "cs-file\n", 0o600)
            .with("/run/credentials/x/ovh_client_secret", "cs-systemd", 0o400);
        let env = [
            ("OVH_CLIENT_ID", "cid"),
            ("OVH_CLIENT_SECRET_FILE", "/run/secret"),
            ("CREDENTIALS_DIRECTORY", "/run/credentials/x"),
        ];
        let (_, f) = run(&Flags::default(), &env, &files).unwrap();
        assert_eq!(f.auth, sa("cid", "cs-file"));
        assert_eq!(f.source, "environment + OVH_CLIENT_SECRET_FILE");
        assert_eq!(
            f.skipped,
            [
                "flags: no --client-id/--client-secret",
                "environment: OVH_CLIENT_ID only: the secret comes from a file"
            ]
        );
        let (_, f) = run(&Flags::default(), &[env[0], env[2]], &files).unwrap();
        assert_eq!(f.auth, sa("cid", "cs-systemd"));
        assert_eq!(
            f.source,
            "environment + systemd credential ovh_client_secret"
        );
        // The environment's secret wins over the files.
        let (_, f) = run(
            &Flags::default(),
            &[env[0], env[1], ("OVH_CLIENT_SECRET", "cs-env")],
            &files,
        )
        .unwrap();
        assert_eq!(f.auth, sa("cid", "cs-env"));
        // A secret file readable by others is refused; a missing one too.
        let loose = FakeFiles::default().with("/run/secret", "cs", 0o644);
        let e = run(&Flags::default(), &env[..2], &loose).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("chmod 600 /run/secret"), "{e}");
        let e = run(&Flags::default(), &env[..2], &FakeFiles::default()).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        // A systemd credential a User= unit reads through an ACL shows 0440: accepted;
        // the same mode elsewhere is not.
        let acl = FakeFiles::default()
            .with("/run/credentials/x/ovh_client_secret", "cs-systemd", 0o440)
            .with("/run/secret", "cs-file", 0o440);
        let (_, f) = run(&Flags::default(), &[env[0], env[2]], &acl).unwrap();
        assert_eq!(f.auth, sa("cid", "cs-systemd"));
        let e = run(&Flags::default(), &env[..2], &acl).unwrap_err();
        assert!(e.to_string().contains("chmod 600 /run/secret"), "{e}");
        let loose = FakeFiles::default().with("/run/credentials/x/ovh_client_secret", "cs", 0o460);
        let e = run(&Flags::default(), &[env[0], env[2]], &loose).unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        // A systemd directory without our file is simply not configured.
        let e = run(&Flags::default(), &[env[2]], &FakeFiles::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("secret files: no OVH_CLIENT_SECRET_FILE"),
            "{e}"
        );
    }

    #[test]
    fn half_a_service_account_is_rejected() {
        for env in [&SA_ENV[..1], &SA_ENV[1..]] {
            let e = run(&Flags::default(), env, &FakeFiles::default()).unwrap_err();
            assert_eq!(e.exit.code(), 2, "{e}");
            assert!(!e.to_string().contains("cs-env"), "{e}");
        }
    }

    #[test]
    fn two_kinds_together_are_rejected() {
        let both: Vec<(&str, &str)> = SA_ENV.iter().chain(&CLASSIC_ENV).copied().collect();
        let e = run(&Flags::default(), &both, &FakeFiles::default()).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        let text = e.to_string();
        assert!(text.contains("give one kind"), "{text}");
        assert!(!text.contains("cs-env") && !text.contains("AS"), "{text}");
        let flags = Flags {
            client_id: Some("x".into()),
            client_secret: Some("y".into()),
            ..Default::default()
        };
        assert!(run(&flags, &[("OVH_ACCESS_TOKEN", "t")], &FakeFiles::default()).is_err());
        assert!(run(&flags, &CLASSIC_ENV[..1], &FakeFiles::default()).is_err());
        let file_and_classic: Vec<(&str, &str)> = CLASSIC_ENV
            .iter()
            .copied()
            .chain([("OVH_CLIENT_SECRET_FILE", "/run/secret")])
            .collect();
        let e = run(&Flags::default(), &file_and_classic, &FakeFiles::default()).unwrap_err();
        assert!(e.to_string().contains("are both set"), "{e}");
        // Within one ovh.conf section too.
        let conf = "[ovh-eu]\nclient_id=a\nclient_secret=b\napplication_key=c\n";
        let files = FakeFiles::default().with("./ovh.conf", conf, 0o600);
        let e = run(&Flags::default(), &[], &files).unwrap_err();
        assert!(e.to_string().contains("give one kind"), "{e}");
    }

    #[test]
    fn token_and_classic_keys_from_the_environment() {
        let (_, f) = run(
            &Flags::default(),
            &[("OVH_ACCESS_TOKEN", "tok")],
            &FakeFiles::default(),
        )
        .unwrap();
        assert_eq!(f.auth, Auth::AccessToken(Secret::new("tok")));
        let (_, f) = run(&Flags::default(), &CLASSIC_ENV, &FakeFiles::default()).unwrap();
        assert_eq!(
            f.auth,
            Auth::Classic {
                application_key: "AK".into(),
                application_secret: Secret::new("AS"),
                consumer_key: Secret::new("CK"),
            }
        );
        assert_eq!(f.auth.describe(), "application key AK");
        let e = run(&Flags::default(), &CLASSIC_ENV[..2], &FakeFiles::default()).unwrap_err();
        assert!(e.to_string().contains("OVH_CONSUMER_KEY not set"), "{e}");
    }

    #[test]
    fn credentials_file_format_and_mode() {
        let flags = Flags {
            credentials_file: Some("/etc/hook/ovh".into()),
            ..Default::default()
        };
        let files = FakeFiles::default().with(
            "/etc/hook/ovh",
            "# ours\nclient_id = cid\nclient_secret = \"c s\"\n",
            0o600,
        );
        let (_, f) = run(&flags, &[], &files).unwrap();
        assert_eq!(
            (f.auth, f.source.as_str()),
            (sa("cid", "c s"), "credentials file")
        );
        assert_eq!(f.skipped.len(), 3);
        let files =
            FakeFiles::default().with("/etc/hook/ovh", "client_id = a\nclient_secret = b\n", 0o640);
        let e = run(&flags, &[], &files).unwrap_err();
        assert!(e.to_string().contains("chmod 600 /etc/hook/ovh"), "{e}");
        let e = parse_credentials_file("client_id = a\nsecret = LEAKME\n", Path::new("f"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains("LEAKME"), "{e}");
        assert!(parse_credentials_file("client_id = a\n", Path::new("f")).is_err());
        let e = run(&flags, &[], &FakeFiles::default()).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        // The environment wins over the file.
        let (_, f) = run(&flags, &SA_ENV, &files).unwrap();
        assert_eq!(f.source, "environment");
    }

    #[test]
    fn ovh_conf_sections_endpoint_and_precedence() {
        let etc =
            "[default]\nendpoint=ovh-ca\n[ovh-ca]\nclient_id=etc-id\nclient_secret=etc-secret\n";
        let home = "; user's\n[ovh-ca]\nclient_secret=home-secret\n[ovh-eu]\napplication_key=AK\napplication_secret=AS\nconsumer_key=CK\n";
        let files = FakeFiles::default().with("/etc/ovh.conf", etc, 0o600).with(
            "/home/u/.ovh.conf",
            home,
            0o600,
        );
        let (ep, f) = run(&Flags::default(), &[("HOME", "/home/u")], &files).unwrap();
        assert_eq!(ep.region, Some(endpoints::Region::Ca));
        assert_eq!(ep.api_base, endpoints::API_CA);
        assert_eq!(f.auth, sa("etc-id", "home-secret"));
        assert_eq!(f.source, "/etc/ovh.conf");
        // OVH_ENDPOINT picks the other section.
        let (ep, f) = run(
            &Flags::default(),
            &[("HOME", "/home/u"), ("OVH_ENDPOINT", "ovh-eu")],
            &files,
        )
        .unwrap();
        assert_eq!(ep.region, Some(endpoints::Region::Eu));
        assert!(matches!(f.auth, Auth::Classic { .. }));
        assert_eq!(f.source, "/home/u/.ovh.conf");
        // ./ovh.conf overrides; a loose file holding the secret is refused.
        let files = files.with("./ovh.conf", "[ovh-ca]\nclient_secret=here\n", 0o644);
        let e = run(&Flags::default(), &[("HOME", "/home/u")], &files).unwrap_err();
        assert!(e.to_string().contains("chmod 600 ./ovh.conf"), "{e}");
        // Partial keys are named; a line without `=` names its number only.
        let files = FakeFiles::default().with("./ovh.conf", "[ovh-eu]\nclient_id=x\n", 0o600);
        assert!(
            run(&Flags::default(), &[], &files)
                .unwrap_err()
                .to_string()
                .contains("needs client_id and client_secret")
        );
        let files = FakeFiles::default().with("./ovh.conf", "[ovh-eu]\nLEAKME\n", 0o600);
        let e = run(&Flags::default(), &[], &files).unwrap_err().to_string();
        assert!(e.contains("line 2") && !e.contains("LEAKME"), "{e}");
    }

    #[test]
    fn an_ovh_conf_others_can_write_is_skipped_with_a_warning() {
        // Any ovh.conf may move the endpoint the bearer token is sent to.
        let moved = "[default]\nendpoint=ovh-ca\n";
        for (path, mode) in [("/etc/ovh.conf", 0o666), ("/home/u/.ovh.conf", 0o620)] {
            let files = FakeFiles::default().with(path, moved, mode);
            let env = [SA_ENV[0], SA_ENV[1], ("HOME", "/home/u")];
            let (ep, f, warnings) = run_w(&Flags::default(), &env, &files).unwrap();
            assert_eq!(ep.api_base, endpoints::API_EU, "{path}: the endpoint stays");
            assert_eq!(f.source, "environment");
            assert_eq!(
                warnings,
                [format!(
                    "{path} skipped: writable by group or others (mode {mode:o})"
                )]
            );
        }
        // Owned by another user: skipped too, the run goes on.
        let files = FakeFiles::default()
            .with("/etc/ovh.conf", moved, 0o644)
            .foreign("/etc/ovh.conf");
        let (ep, _, warnings) = run_w(&Flags::default(), &SA_ENV, &files).unwrap();
        assert_eq!(ep.api_base, endpoints::API_EU);
        assert_eq!(
            warnings,
            ["/etc/ovh.conf skipped: owned by uid 1001, neither this user nor root"]
        );
        // A file the user keeps right still moves it.
        let files = FakeFiles::default().with("/etc/ovh.conf", moved, 0o644);
        let (ep, _, warnings) = run_w(&Flags::default(), &SA_ENV, &files).unwrap();
        assert_eq!(
            (ep.api_base.as_str(), warnings.len()),
            (endpoints::API_CA, 0)
        );
        // Skipped as the only source: the final message says why.
        let conf = "[ovh-eu]\nclient_id=a\nclient_secret=b\n";
        let files = FakeFiles::default().with("/etc/ovh.conf", conf, 0o666);
        let e = run(&Flags::default(), &[], &files).unwrap_err().to_string();
        assert!(
            e.contains("/etc/ovh.conf skipped: writable by group or others"),
            "{e}"
        );
    }

    #[test]
    fn a_planted_ovh_conf_in_a_shared_directory_is_never_read() {
        let files = FakeFiles::default()
            .with(
                "./ovh.conf",
                "# planted\n[default]\nendpoint=ovh-ca\n",
                0o600,
            )
            .open_dir(".");
        let (ep, f, warnings) = run_w(&Flags::default(), &SA_ENV, &files).unwrap();
        assert_eq!(
            (ep.api_base.as_str(), f.source.as_str()),
            (endpoints::API_EU, "environment")
        );
        assert_eq!(
            warnings,
            ["./ovh.conf skipped: the working directory is writable by other users"]
        );
        assert!(
            !crate::sync::lock(&files.3)
                .iter()
                .any(|p| p == Path::new("./ovh.conf")),
            "never opened"
        );
        // Nothing there: nothing said.
        let files = FakeFiles::default().open_dir(".");
        let (_, _, warnings) = run_w(&Flags::default(), &SA_ENV, &files).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn nothing_configured_lists_every_source() {
        let e = run(&Flags::default(), &[], &FakeFiles::default()).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        let text = e.to_string();
        for part in [
            "flags: no --client-id/--client-secret",
            "environment: no OVH_CLIENT_ID/OVH_CLIENT_SECRET, OVH_ACCESS_TOKEN",
            "secret files: no OVH_CLIENT_SECRET_FILE",
            "credentials file: no --credentials-file / OTC_CREDENTIALS_FILE",
            "ovh.conf: no [ovh-eu] keys (none of /etc/ovh.conf, ~/.ovh.conf, ./ovh.conf exists)",
            // The fix names the secret file first, the variable last.
            "set OVH_CLIENT_ID and put its secret in a file of mode 600 named by OVH_CLIENT_SECRET_FILE",
            "OVH_CLIENT_SECRET last",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }

    #[test]
    fn sources_in_order_all_local() {
        let i = Inputs {
            flags: Flags::default(),
            env: HashMap::new(),
            files: Arc::new(FakeFiles::default()),
        };
        let (_, c, _) = setup(i, EndpointInputs::default()).unwrap();
        let names: Vec<_> = c.sources.iter().map(|s| (s.name, s.network)).collect();
        assert_eq!(
            names,
            [
                ("flags", false),
                ("environment", false),
                ("secret files", false),
                ("credentials file", false),
                ("ovh.conf", false)
            ]
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let d = format!("{:?}", sa("cid", "TOPSECRET"));
        assert!(!d.contains("TOPSECRET") && d.contains("cid"), "{d}");
    }

    /// Held in the options for the whole run, before the chain resolves (and
    /// registers the secret for masking): their `Debug` shows no value.
    #[test]
    fn flags_and_ovh_conf_debug_show_no_secret() {
        let flags = Flags {
            client_id: Some("cid".into()),
            client_secret: Some("FLAGSECRET".into()),
            ..Default::default()
        };
        let d = format!("{flags:?}");
        assert!(!d.contains("FLAGSECRET") && d.contains("cid"), "{d}");
        let conf = OvhConf {
            entries: vec![(
                "ovh-eu".into(),
                "application_secret".into(),
                "CONFSECRET".into(),
                0,
            )],
            ..Default::default()
        };
        let d = format!("{conf:?}");
        assert!(
            !d.contains("CONFSECRET") && d.contains("application_secret"),
            "{d}"
        );
    }
}
