//! Files that hold secrets, the same for every cloud: owner and permission
//! bits taken from the opened file (no window between the check and the read;
//! a link, as in a Kubernetes secret volume, is judged by what it opens),
//! refused when another user owns them or group or others may read them
//! (a systemd credential: write them); and the `key = value` format of the credentials
//! files (with `[section]`s when a file has them, as the clouds' CLIs write).

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// A file's text and permission bits.
#[derive(Debug, Clone)]
pub struct FileText {
    pub mode: u32,
    pub text: String,
}

/// Reads files (injected so tests need no disk).
pub trait Files: Send + Sync {
    fn read(&self, path: &Path) -> std::io::Result<FileText>;
    /// Whether another user could have put a file in `dir` (writable by group
    /// or others, sticky or not); a directory that can't be examined counts.
    fn dir_open_to_others(&self, _dir: &Path) -> bool {
        false
    }
    /// Whether something exists at `path`, looked at without opening it.
    fn exists(&self, path: &Path) -> bool {
        self.read(path).is_ok()
    }
}

/// [`Files::read`], a missing file being `None`.
pub fn read_if_any(files: &dyn Files, path: &Path) -> std::io::Result<Option<FileText>> {
    match files.read(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The real file system.
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &Path) -> std::io::Result<FileText> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
            Mode::empty(),
        )?;
        let stat = rustix::fs::fstat(&fd)?;
        if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        // Keys another user could have planted (or can change) are not ours to use.
        let me = rustix::process::geteuid().as_raw();
        if stat.st_uid != me && stat.st_uid != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("owned by uid {}, neither this user nor root", stat.st_uid),
            ));
        }
        let mut text = String::new();
        std::fs::File::from(fd).read_to_string(&mut text)?;
        Ok(FileText {
            mode: stat.st_mode & 0o7777,
            text,
        })
    }

    fn dir_open_to_others(&self, dir: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir).map_or(true, |m| m.permissions().mode() & 0o022 != 0)
    }

    fn exists(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok()
    }
}

/// systemd's `LoadCredential=`/`LoadCredentialEncrypted=` directory.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Whether `path` names a file under `dir` (`$CREDENTIALS_DIRECTORY`),
/// compared by components; a `..` anywhere makes it not.
pub fn in_credentials_directory(path: &Path, dir: Option<&str>) -> bool {
    use std::path::Component;
    let Some(dir) = dir.map(Path::new).filter(|d| d.is_absolute()) else {
        return false;
    };
    let no_parent = |p: &Path| !p.components().any(|c| c == Component::ParentDir);
    no_parent(path) && no_parent(dir) && path != dir && path.starts_with(dir)
}

/// [`require_private`], except for a systemd credential (a file under
/// `credentials_dir`, `$CREDENTIALS_DIRECTORY`): systemd writes it 0400
/// root-owned and lets a `User=` unit read it through a POSIX ACL, so its
/// group bits show the ACL mask (0440). Such a file (already known to be
/// owned by root or us, see [`RealFiles`]) is refused when group or others
/// may write it or others may read it.
pub fn require_private_or_credential(
    what: &str,
    path: &Path,
    mode: u32,
    credentials_dir: Option<&str>,
) -> Result<()> {
    if !in_credentials_directory(path, credentials_dir) {
        return require_private(what, path, mode);
    }
    // The ACL mask shows in the group bits only: others may neither read nor write.
    if mode & 0o026 == 0 {
        return Ok(());
    }
    Err(Error::rejected(
        "credentials",
        format!(
            "{what} {} is writable by group or others, or readable by others (mode {:o})",
            path.display(),
            mode & 0o777
        ),
    )
    .hint(format!("chmod 400 {}", path.display())))
}

/// Refuses a secret's file that group or others may read (`what` names
/// it before its path; empty: the path alone).
pub fn require_private(what: &str, path: &Path, mode: u32) -> Result<()> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("{what} ")
    };
    Err(Error::rejected(
        "credentials",
        format!(
            "{what}{} is readable by group or others (mode {:o})",
            path.display(),
            mode & 0o777
        ),
    )
    .hint(format!("chmod 600 {}", path.display())))
}

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based, for errors (which never quote a value).
    pub line: usize,
    /// The `[section]` it is in, in a file that has sections.
    pub section: Option<String>,
    pub key: String,
    /// Trimmed, one pair of double quotes removed.
    pub value: String,
}

/// How a file's lines are written.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// Sections and `;` comments in every file, not only in one with a `[section]` line.
    pub always_sections: bool,
    /// `key: value` as well as `key = value`.
    pub colon: bool,
    /// Keys compared in lower case.
    pub lowercase_keys: bool,
    /// One pair of double quotes removed from a value.
    pub unquote: bool,
    /// The error for a line that is none of these (never quoting it).
    pub bad_line: fn(&Path, usize) -> String,
}

/// The credentials files (ours, and the clouds' CLIs'): `key = value`,
/// `#` comments, `[section]`s and `;` comments when the file has a section.
pub const CREDENTIALS_FILE: Syntax = Syntax {
    always_sections: false,
    colon: false,
    lowercase_keys: false,
    unquote: true,
    bad_line: |path, n| format!("{}: line {n}: expected `key = value`", path.display()),
};

/// The SDKs' INI files (`ovh.conf`, as Python's configparser reads them):
/// `[section]`s, `#`/`;` comments, `key = value` or `key: value`, keys in
/// any case, values as written.
pub const SDK_INI: Syntax = Syntax {
    always_sections: true,
    colon: true,
    lowercase_keys: true,
    unquote: false,
    bad_line: |path, n| {
        format!(
            "{} line {n}: expected `key = value` or `[section]`",
            path.display()
        )
    },
};

/// The lines of a credentials file: `key = value`, `#` comments (and `;` in
/// a file with sections), blank lines. Errors name the line, never its value.
pub fn entries(text: &str, path: &Path) -> Result<Vec<Entry>> {
    read(text, path, &CREDENTIALS_FILE)
}

/// The entries of `text` written in `syntax`. Errors name the line, never its value.
pub fn read(text: &str, path: &Path, syntax: &Syntax) -> Result<Vec<Entry>> {
    let bad = |msg: String| Error::rejected("credentials", format!("{}: {msg}", path.display()));
    let ini = syntax.always_sections || text.lines().any(|l| l.trim_start().starts_with('['));
    let mut section: Option<String> = syntax.always_sections.then(String::new);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || (ini && line.starts_with(';')) {
            continue;
        }
        if ini && line.starts_with('[') {
            let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
                if syntax.always_sections {
                    return Err(Error::rejected(
                        "credentials",
                        (syntax.bad_line)(path, i + 1),
                    ));
                }
                return Err(bad(format!("line {}: expected `[section]`", i + 1)));
            };
            section = Some(name.trim().to_string());
            continue;
        }
        let split = line
            .split_once('=')
            .or_else(|| line.split_once(':').filter(|_| syntax.colon));
        let Some((k, v)) = split else {
            return Err(Error::rejected(
                "credentials",
                (syntax.bad_line)(path, i + 1),
            ));
        };
        let v = v.trim();
        let v = if syntax.unquote {
            v.strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v)
        } else {
            v
        };
        let k = k.trim();
        out.push(Entry {
            line: i + 1,
            section: section.clone(),
            key: if syntax.lowercase_keys {
                k.to_ascii_lowercase()
            } else {
                k.to_string()
            },
            value: v.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_sections_quotes_and_errors() {
        let p = Path::new("f");
        let e = entries("# c\n\na = 1\nb=\"x y\"\n", p).unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.line, e.key.as_str(), e.value.as_str(), e.section.clone()))
                .collect::<Vec<_>>(),
            vec![(3, "a", "1", None), (4, "b", "x y", None)]
        );
        let e = entries("[DEFAULT]\n; c\nk = v\n[other]\nk = w\n", p).unwrap();
        assert_eq!(e[0].section.as_deref(), Some("DEFAULT"));
        assert_eq!(
            (e[1].section.as_deref(), e[1].value.as_str()),
            (Some("other"), "w")
        );
        let err = entries("a = 1\nSECRETVALUE\n", p).unwrap_err();
        assert!(err.cause.contains("line 2"), "{}", err.cause);
        assert!(!err.cause.contains("SECRETVALUE"));
    }

    #[test]
    fn the_sdk_ini_syntax() {
        let p = Path::new("/etc/ovh.conf");
        let e = read(
            "k0 = top\n; c\n# c\n[ovh-eu]\nClient_ID: a\nsecret = \"q\"\n",
            p,
            &SDK_INI,
        )
        .unwrap();
        let got: Vec<_> = e
            .iter()
            .map(|e| (e.section.as_deref(), e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(""), "k0", "top"),
                (Some("ovh-eu"), "client_id", "a"),
                (Some("ovh-eu"), "secret", "\"q\"")
            ]
        );
        let err = read("[a]\nLEAKME\n", p, &SDK_INI).unwrap_err();
        assert_eq!(
            err.cause,
            "/etc/ovh.conf line 2: expected `key = value` or `[section]`"
        );
        // Our own files take no `:` and keep their wording.
        let err = entries("a: LEAKME\n", p).unwrap_err();
        assert_eq!(err.cause, "/etc/ovh.conf: line 1: expected `key = value`");
    }

    #[test]
    fn private_files_only() {
        assert!(require_private("credentials file", Path::new("f"), 0o600).is_ok());
        let e = require_private("credentials file", Path::new("/x/f"), 0o644).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.cause.contains("mode 644"), "{}", e.cause);
        assert_eq!(e.hint.as_deref(), Some("chmod 600 /x/f"));
    }

    #[test]
    fn systemd_credentials_are_judged_by_who_may_write_them() {
        let dir = Some("/run/credentials/x.service");
        let cred = Path::new("/run/credentials/x.service/ovh_client_secret");
        let judge =
            |p: &Path, mode| require_private_or_credential("systemd credential", p, mode, dir);
        // 0400 root plus an ACL granting the unit's user read shows 0440.
        assert!(judge(cred, 0o440).is_ok());
        // Readable by every user is no secret any more.
        assert!(judge(cred, 0o444).is_err());
        let e = judge(cred, 0o460).unwrap_err();
        assert!(
            e.cause.contains("writable by group or others"),
            "{}",
            e.cause
        );
        assert!(judge(cred, 0o442).is_err());
        // Anywhere else, today's rule.
        let e = judge(Path::new("/etc/secret"), 0o440).unwrap_err();
        assert!(
            e.cause.contains("readable by group or others"),
            "{}",
            e.cause
        );
        for p in [
            "/run/credentials/x.service/../y/f",
            "/run/credentials/x.service",
            "/run/credentials/x.serviceX/f",
        ] {
            assert!(!in_credentials_directory(Path::new(p), dir), "{p}");
        }
        assert!(!in_credentials_directory(cred, None));
        assert!(!in_credentials_directory(cred, Some("relative")));
    }

    #[test]
    fn real_files_judge_what_they_open() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("otc-keyfile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let t = RealFiles.read(&f).unwrap();
        assert_eq!((t.mode & 0o777, t.text.as_str()), (0o640, "x"));
        let link = dir.join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        let t = RealFiles.read(&link).unwrap();
        assert_eq!(t.mode & 0o777, 0o640, "the mode of what the link opens");
        assert!(RealFiles.read(&dir).is_err(), "a directory is refused");
        // As root (CI), a file another user owns is refused.
        if rustix::process::geteuid().is_root() {
            let theirs = dir.join("theirs");
            std::fs::write(&theirs, "x").unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), None).unwrap();
            let e = RealFiles.read(&theirs).unwrap_err();
            assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
