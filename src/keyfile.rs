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
/// owned by root or us, see [`RealFiles`]) is refused only when group or
/// others may write it.
pub fn require_private_or_credential(
    what: &str,
    path: &Path,
    mode: u32,
    credentials_dir: Option<&str>,
) -> Result<()> {
    if !in_credentials_directory(path, credentials_dir) {
        return require_private(what, path, mode);
    }
    if mode & 0o022 == 0 {
        return Ok(());
    }
    Err(Error::rejected(
        "credentials",
        format!(
            "{what} {} is writable by group or others (mode {:o})",
            path.display(),
            mode & 0o777
        ),
    )
    .hint(format!("chmod 400 {}", path.display())))
}

/// Refuses a secret's file that group or others may read.
pub fn require_private(what: &str, path: &Path, mode: u32) -> Result<()> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(Error::rejected(
        "credentials",
        format!(
            "{what} {} is readable by group or others (mode {:o})",
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

/// The lines of a credentials file: `key = value`, `#` comments (and `;` in
/// a file with sections), blank lines. Errors name the line, never its value.
pub fn entries(text: &str, path: &Path) -> Result<Vec<Entry>> {
    let bad = |msg: String| Error::rejected("credentials", format!("{}: {msg}", path.display()));
    let ini = text.lines().any(|l| l.trim_start().starts_with('['));
    let mut section: Option<String> = None;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || (ini && line.starts_with(';')) {
            continue;
        }
        if ini && line.starts_with('[') {
            let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
                return Err(bad(format!("line {}: expected `[section]`", i + 1)));
            };
            section = Some(name.trim().to_string());
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(bad(format!("line {}: expected `key = value`", i + 1)));
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v);
        out.push(Entry {
            line: i + 1,
            section: section.clone(),
            key: k.trim().to_string(),
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
        assert!(judge(cred, 0o444).is_ok());
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
