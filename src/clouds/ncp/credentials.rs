//! NCP's credential sources, in the order the shared chain
//! ([`crate::credentials`]) tries them: `--ak/--sk`; the environment
//! (`NCLOUD_ACCESS_KEY_ID`/`NCLOUD_SECRET_ACCESS_KEY`, aliases
//! `NCLOUD_ACCESS_KEY`/`NCLOUD_SECRET_KEY`; OTC's `OS_*` are not read for
//! this cloud); `--credentials-file` or else the NCP CLI's
//! `~/.ncloud/configure` (local); the server role from instance metadata
//! (network). Resolved at connect.
//!
//! Pure over what is injected: the flags and environment ([`Inputs`]), files
//! ([`Files`]) and the server role (a closure, in production
//! [`super::metadata::fetch`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::NCLOUD_CONFIGURE;
use super::{Keys, Secret};
use crate::credentials::{Attempt, Chain, Kinds, NoneAnswered, PairHints, Source, static_pair};
use crate::error::{Error, Exit, Result};
use crate::keyfile;

/// The environment names, in order of preference.
pub const ENV_ACCESS: [&str; 2] = ["NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY"];
pub const ENV_SECRET: [&str; 2] = ["NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY"];

/// The values `--credentials` takes here.
pub const KINDS: Kinds = Kinds {
    cloud: "NCP",
    values: &["static", "file", "metadata"],
};

pub use crate::keyfile::{FileText, Files, RealFiles};

/// The server role's keys, fetched at first use.
pub type Role = dyn Fn() -> Result<Keys>;

/// NCP's chain, built at setup, resolved at connect.
pub type NcpChain = Chain<Keys, Role>;

/// Where each source looks.
#[derive(Clone)]
pub struct Inputs {
    /// `--ak`
    pub ak: Option<String>,
    /// `--sk`
    pub sk: Option<Secret>,
    /// `--credentials-file` / `OTC_CREDENTIALS_FILE`
    pub credentials_file: Option<PathBuf>,
    /// The variables NCP reads (blank = unset); never printed.
    pub env: HashMap<String, String>,
    pub files: Arc<dyn Files>,
}

impl Inputs {
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned().filter(|v| !v.trim().is_empty())
    }
    fn first(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.env(n))
    }
}

const HINTS_FLAGS: PairHints = PairHints {
    no_secret: "give --sk with --ak, or drop --ak to use the server role",
    no_access: "give --ak with --sk",
    token_alone: "",
};
const HINTS_ENV: PairHints = PairHints {
    no_secret: "set NCLOUD_SECRET_ACCESS_KEY, or unset the access key to use the server role",
    no_access: "set NCLOUD_ACCESS_KEY_ID",
    token_alone: "",
};

/// A pair from one source; NCP keys are taken trimmed.
fn pair(
    ak: Option<String>,
    sk: Option<Secret>,
    origin: &'static str,
    names: &str,
    hints: &PairHints,
) -> Result<Attempt<Keys>> {
    static_pair(
        ak.as_deref().map(str::trim),
        sk.as_ref(),
        None,
        origin,
        names,
        hints,
    )
}

/// NCP's chain: its sources in order, `only` the `--credentials` filter.
pub fn chain(g: Inputs, only: Option<&'static str>) -> Chain<Keys, Role> {
    let (flags, env, file) = (g.clone(), g.clone(), g);
    Chain {
        sources: vec![
            Source::local("flags", "static", move || {
                pair(
                    flags.ak.clone(),
                    flags.sk.clone(),
                    "flags",
                    "--ak/--sk",
                    &HINTS_FLAGS,
                )
            }),
            Source::local("environment", "static", move || {
                pair(
                    env.first(&ENV_ACCESS),
                    env.first(&ENV_SECRET).map(Secret::new),
                    "environment",
                    "NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY",
                    &HINTS_ENV,
                )
            }),
            Source::local("credentials file", "file", move || from_file(&file)),
            Source::network("server role", "metadata", |role: &Role| {
                role().map(Attempt::Loaded)
            })
            .last_resort(),
        ],
        only,
        // Not reached in practice: the server role, last, always answers or
        // fails, and a source forced by --credentials that is not configured
        // gets the chain's own "forced by --credentials" line.
        none: NoneAnswered {
            what: "no credential source answered",
            exit: Exit::Failed,
            hint: super::metadata::ROLE_HINT,
        },
    }
}

fn from_file(g: &Inputs) -> Result<Attempt<Keys>> {
    let (path, explicit) = match &g.credentials_file {
        Some(p) => (p.clone(), true),
        None => match g.env("HOME") {
            Some(home) => (Path::new(&home).join(NCLOUD_CONFIGURE), false),
            None => {
                return Ok(Attempt::NotConfigured(
                    "no --credentials-file / OTC_CREDENTIALS_FILE, no HOME".into(),
                ));
            }
        },
    };
    let file = match g.files.read(&path) {
        Ok(f) => f,
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Attempt::NotConfigured(format!(
                "no --credentials-file / OTC_CREDENTIALS_FILE, no {}",
                path.display()
            )));
        }
        Err(e) => {
            return Err(Error::rejected(
                "credentials",
                format!("cannot read credentials file {}: {e}", path.display()),
            ));
        }
    };
    keyfile::require_private_or_credential(
        "credentials file",
        &path,
        file.mode,
        g.env(keyfile::CREDENTIALS_DIRECTORY).as_deref(),
    )?;
    parse(&file.text, &path).map(Attempt::Loaded)
}

/// Parses a credentials file. Two shapes: OTC's `key = value` lines
/// (`access_key`, `secret_key`; the NCP CLI's key names are accepted too;
/// `#` comments; an unknown key is an error naming its line), or the NCP
/// CLI's `configure`: a file with `[section]` lines (the `[DEFAULT]`
/// section's `ncloud_access_key_id` and `ncloud_secret_access_key`; other
/// sections ignored), a section-less file using the CLI's `ncloud_*` names,
/// or `~/.ncloud/configure` itself. There, keys we don't read
/// (`ncloud_api_url`, which the CLI writes) are ignored, as the Go SDK does.
/// A key we read with an empty or malformed value is an error naming its
/// line. Errors never quote a value.
pub fn parse(text: &str, path: &Path) -> Result<Keys> {
    let bad = |msg: String| Error::rejected("credentials", format!("{}: {msg}", path.display()));
    let entries = keyfile::entries(text, path)?;
    let ini = text.lines().any(|l| l.trim_start().starts_with('['));
    let cli_shape = ini
        || path.ends_with(NCLOUD_CONFIGURE)
        || entries.iter().any(|e| e.key.starts_with("ncloud_"));
    let (mut ak, mut sk) = (None, None);
    for e in entries {
        if ini && e.section.as_deref() != Some("DEFAULT") {
            continue;
        }
        let slot = match e.key.as_str() {
            "access_key" | "ncloud_access_key_id" => &mut ak,
            "secret_key" | "ncloud_secret_access_key" => &mut sk,
            _ if cli_shape => continue,
            other => {
                return Err(bad(format!(
                    "line {}: unknown key {other:?} (access_key, secret_key)",
                    e.line
                )));
            }
        };
        if e.value.is_empty() {
            return Err(bad(format!("line {}: {} is empty", e.line, e.key)));
        }
        if e.value.chars().any(char::is_control) {
            return Err(bad(format!(
                "line {}: {} holds a control character",
                e.line, e.key
            )));
        }
        *slot = Some(e.value);
    }
    let (Some(ak), Some(sk)) = (ak, sk) else {
        return Err(bad(if ini {
            "needs ncloud_access_key_id and ncloud_secret_access_key in its [DEFAULT] section"
                .into()
        } else if cli_shape {
            "needs ncloud_access_key_id and ncloud_secret_access_key".into()
        } else {
            "needs access_key and secret_key".into()
        }));
    };
    Ok(Keys::new(ak, Secret::new(sk), None).from_source("credentials file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, Report};

    #[derive(Default, Clone)]
    struct FakeFiles(HashMap<PathBuf, FileText>);
    impl FakeFiles {
        fn with(mut self, p: &str, mode: u32, text: &str) -> Self {
            self.0.insert(
                PathBuf::from(p),
                FileText {
                    mode,
                    text: text.into(),
                },
            );
            self
        }
    }
    impl Files for FakeFiles {
        fn read(&self, path: &Path) -> std::io::Result<FileText> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    }

    /// What the command line gave (the chain's [`super::Inputs`] without env and files).
    #[derive(Default)]
    struct Cli {
        ak: Option<String>,
        sk: Option<Secret>,
        credentials_file: Option<PathBuf>,
        only: Option<&'static str>,
    }

    fn role_ok() -> Result<Keys> {
        let mut k = Keys::new("ROLEAK", Secret::new("ROLESK"), None).from_source("server role");
        k.refreshable = true;
        Ok(k)
    }
    fn role_never() -> Result<Keys> {
        panic!("the server role must not be asked")
    }
    fn role_down() -> Result<Keys> {
        Err(Error::failed("credentials", "NCP metadata did not answer")
            .hint(super::super::metadata::ROLE_HINT))
    }

    fn run(
        inputs: &Cli,
        env: &[(&str, &str)],
        files: &FakeFiles,
        role: &Role,
    ) -> (Result<Keys>, String) {
        let out = crate::report::Capture::default();
        let report = Report::new(Level::Verbose, Box::new(out.clone()));
        let given = super::Inputs {
            ak: inputs.ak.clone(),
            sk: inputs.sk.clone(),
            credentials_file: inputs.credentials_file.clone(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: Arc::new(files.clone()),
        };
        let r = chain(given, inputs.only)
            .resolve(role, &|l| report.verbose(l))
            .map(|r| r.value);
        (r, out.text())
    }

    const HOME: (&str, &str) = ("HOME", "/home/u");
    const CONFIGURE: &str = "/home/u/.ncloud/configure";

    #[test]
    fn flags_then_env_then_file_then_role() {
        let flags = Cli {
            ak: Some("AKF".into()),
            sk: Some(Secret::new("SKF")),
            ..Default::default()
        };
        let env = [
            ("NCLOUD_ACCESS_KEY_ID", "AKE"),
            ("NCLOUD_SECRET_ACCESS_KEY", "SKE"),
            HOME,
        ];
        let files = FakeFiles::default().with(
            CONFIGURE,
            0o600,
            "[DEFAULT]\nncloud_access_key_id = AKC\nncloud_secret_access_key = SKC\n",
        );
        let (k, _) = run(&flags, &env, &files, &role_never);
        assert_eq!((k.unwrap().access.as_str()), "AKF");
        let (k, _) = run(&Cli::default(), &env, &files, &role_never);
        let k = k.unwrap();
        assert_eq!(
            (k.access.as_str(), k.secret.expose(), k.source),
            ("AKE", "SKE", "environment")
        );
        let (k, log) = run(&Cli::default(), &[HOME], &files, &role_never);
        let k = k.unwrap();
        assert_eq!((k.access.as_str(), k.source), ("AKC", "credentials file"));
        assert!(log.contains("environment skipped"), "{log}");
        let (k, log) = run(&Cli::default(), &[HOME], &FakeFiles::default(), &role_ok);
        let k = k.unwrap();
        assert_eq!((k.access.as_str(), k.refreshable), ("ROLEAK", true));
        assert!(log.contains("server role answered"), "{log}");
    }

    #[test]
    fn sources_in_order_local_first() {
        let c = chain(
            super::Inputs {
                ak: None,
                sk: None,
                credentials_file: None,
                env: HashMap::new(),
                files: Arc::new(FakeFiles::default()),
            },
            None,
        );
        let names: Vec<_> = c.sources.iter().map(|s| (s.name, s.network)).collect();
        assert_eq!(
            names,
            [
                ("flags", false),
                ("environment", false),
                ("credentials file", false),
                ("server role", true)
            ]
        );
        assert!(c.local_first());
    }

    #[test]
    fn aliases_are_read_and_os_names_are_not() {
        let env = [("NCLOUD_ACCESS_KEY", "AKA"), ("NCLOUD_SECRET_KEY", "SKA")];
        let (k, _) = run(&Cli::default(), &env, &FakeFiles::default(), &role_never);
        assert_eq!(k.unwrap().access, "AKA");
        // The primary names win over the aliases.
        let env = [
            ("NCLOUD_ACCESS_KEY", "AKA"),
            ("NCLOUD_SECRET_KEY", "SKA"),
            ("NCLOUD_ACCESS_KEY_ID", "AKP"),
            ("NCLOUD_SECRET_ACCESS_KEY", "SKP"),
        ];
        let (k, _) = run(&Cli::default(), &env, &FakeFiles::default(), &role_never);
        assert_eq!(k.unwrap().secret.expose(), "SKP");
        let env = [
            ("OS_ACCESS_KEY", "AKO"),
            ("OS_SECRET_KEY", "SKO"),
            ("NCLOUD_ACCESS_KEY_ID", " "),
        ];
        let (k, _) = run(&Cli::default(), &env, &FakeFiles::default(), &role_ok);
        assert_eq!(
            k.unwrap().access,
            "ROLEAK",
            "OS_* and blank values are not read"
        );
    }

    #[test]
    fn half_a_pair_is_rejected_naming_the_missing_half() {
        let env = [("NCLOUD_ACCESS_KEY_ID", "AK")];
        let (e, _) = run(&Cli::default(), &env, &FakeFiles::default(), &role_never);
        let e = e.unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("NCLOUD_SECRET_ACCESS_KEY"), "{e}");
        let flags = Cli {
            sk: Some(Secret::new("SKONLY")),
            ..Default::default()
        };
        let (e, _) = run(&flags, &[], &FakeFiles::default(), &role_never);
        let e = e.unwrap_err().to_string();
        assert!(e.contains("--ak") && !e.contains("SKONLY"), "{e}");
    }

    #[test]
    fn configure_file_must_be_private() {
        let files = FakeFiles::default().with(
            CONFIGURE,
            0o644,
            "[DEFAULT]\nncloud_access_key_id = A\nncloud_secret_access_key = S\n",
        );
        let (e, _) = run(&Cli::default(), &[HOME], &files, &role_never);
        let e = e.unwrap_err();
        assert_eq!(e.exit.code(), 2);
        let e = e.to_string();
        assert!(
            e.contains(&format!("chmod 600 {CONFIGURE}")) && e.contains("644"),
            "{e}"
        );
    }

    #[test]
    fn explicit_file_missing_is_rejected_and_wins_over_configure() {
        let files = FakeFiles::default()
            .with(
                CONFIGURE,
                0o600,
                "[DEFAULT]\nncloud_access_key_id = A\nncloud_secret_access_key = S\n",
            )
            .with(
                "/etc/ncp.conf",
                0o400,
                "# ours\naccess_key = AKX\nsecret_key = \"S X\"\n",
            );
        let given = |p: &str| Cli {
            credentials_file: Some(PathBuf::from(p)),
            ..Default::default()
        };
        let (k, _) = run(&given("/etc/ncp.conf"), &[HOME], &files, &role_never);
        let k = k.unwrap();
        assert_eq!((k.access.as_str(), k.secret.expose()), ("AKX", "S X"));
        let (e, _) = run(&given("/nope"), &[HOME], &files, &role_never);
        let e = e.unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("/nope"), "{e}");
    }

    #[test]
    fn file_formats() {
        let p = Path::new("f");
        let k = parse(
            "; cli\n[DEFAULT]\nncloud_access_key_id = AK1\nncloud_secret_access_key = SK1\nncloud_api_url = https://ncloud.apigw.ntruss.com\n[other]\nncloud_access_key_id = AK2\n",
            p,
        )
        .unwrap();
        assert_eq!((k.access.as_str(), k.secret.expose()), ("AK1", "SK1"));
        let e = parse(
            "[prod]\nncloud_access_key_id = AK\nncloud_secret_access_key = LEAKME\n",
            p,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[DEFAULT]") && !e.contains("LEAKME"), "{e}");
        let e = parse("access_key = AK\nsecret = LEAKME\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains("LEAKME"), "{e}");
        assert!(
            parse("garbage LEAK\n", p)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        assert!(parse("access_key = AK\n", p).is_err());
        let k = parse("ncloud_access_key_id=A\nncloud_secret_access_key=B\n", p).unwrap();
        assert_eq!(k.access, "A");
    }

    #[test]
    fn a_section_less_configure_ignores_keys_we_do_not_read() {
        // As NCP's CLI writes it, without the [DEFAULT] line (issue 19: this exited 2).
        let cli = "ncloud_access_key_id = AK1\nncloud_secret_access_key = SK1\nncloud_api_url = https://ncloud.apigw.ntruss.com\n";
        for path in ["/home/u/.ncloud/configure", "/etc/hook/ncp"] {
            let k = parse(cli, Path::new(path)).unwrap();
            assert_eq!((k.access.as_str(), k.secret.expose()), ("AK1", "SK1"));
        }
        // ~/.ncloud/configure with OTC's names and something else.
        let k = parse(
            "access_key = AK\nsecret_key = SK\nregion = KR\n",
            Path::new("/home/u/.ncloud/configure"),
        )
        .unwrap();
        assert_eq!(k.access, "AK");
        // A key we read with a bad value fails, naming the line, never the value.
        for (text, line, what) in [
            (
                "ncloud_api_url = x\nncloud_access_key_id =\nncloud_secret_access_key = LEAKME\n",
                2,
                "is empty",
            ),
            (
                "ncloud_access_key_id = AK\nncloud_secret_access_key = LEAK\tME\n",
                2,
                "control character",
            ),
            (
                "[DEFAULT]\nncloud_access_key_id = A\u{7}K\nncloud_secret_access_key = LEAKME\n",
                2,
                "control character",
            ),
        ] {
            let e = parse(text, Path::new("/home/u/.ncloud/configure"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("line {line}: ")) && e.contains(what),
                "{e}"
            );
            assert!(!e.contains("LEAK"), "{e}");
        }
        // The OTC-shaped file stays strict.
        let e = parse(
            "access_key = AK\nsecret_key = SK\nregion = KR\n",
            Path::new("/etc/hook/ncp"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3: unknown key \"region\""), "{e}");
    }

    #[test]
    fn nothing_configured_says_why_each_source_was_passed_over() {
        let (e, _) = run(&Cli::default(), &[HOME], &FakeFiles::default(), &role_down);
        let e = e.unwrap_err();
        assert_eq!(e.exit.code(), 1);
        let e = e.to_string();
        for part in [
            "flags: no --ak/--sk",
            "environment: no NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY",
            "credentials file: no --credentials-file / OTC_CREDENTIALS_FILE, no /home/u/.ncloud/configure",
            "server role: NCP metadata did not answer",
            "attach a server role",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        assert_eq!(e.lines().count(), 1);
    }

    #[test]
    fn forcing_a_source_skips_the_others() {
        let env = [
            ("NCLOUD_ACCESS_KEY_ID", "AK"),
            ("NCLOUD_SECRET_ACCESS_KEY", "SK"),
            HOME,
        ];
        let only = |k| Cli {
            only: Some(k),
            ..Default::default()
        };
        let (k, _) = run(&only("metadata"), &env, &FakeFiles::default(), &role_ok);
        assert_eq!(k.unwrap().access, "ROLEAK");
        let (e, _) = run(&only("file"), &env, &FakeFiles::default(), &role_never);
        let e = e.unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("forced by --credentials"), "{e}");
        assert_eq!(KINDS.only(Some("container")).unwrap_err().exit.code(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn real_files_report_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ncp-credfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("configure");
        std::fs::write(&p, "x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let f = RealFiles.read(&p).unwrap();
        assert_eq!((f.mode & 0o777, f.text.as_str()), (0o640, "x"));
        assert_eq!(
            RealFiles.read(&dir.join("none")).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
