//! The credentials file: `key = value` lines (`access_key`, `secret_key`,
//! optional `security_token`, `project_id`; `#` comments), readable by its
//! owner only.

use std::path::Path;

use super::{Credentials, Secret};
use crate::error::{Error, Result};
use crate::keyfile::{self, Files, RealFiles};

/// Parses the file's text. Errors name the line, never its value.
pub fn parse(text: &str, path: &Path) -> Result<Credentials> {
    let bad = |msg: String| Error::rejected("credentials", format!("{}: {msg}", path.display()));
    let (mut ak, mut sk, mut tok, mut project) = (None, None, None, None);
    for e in keyfile::entries(text, path)? {
        let v = Some(e.value);
        match e.key.as_str() {
            "access_key" => ak = v,
            "secret_key" => sk = v,
            "security_token" => tok = v,
            "project_id" => project = v,
            other => {
                return Err(bad(format!(
                    "line {}: unknown key {other:?} (access_key, secret_key, security_token, project_id)",
                    e.line
                )));
            }
        }
    }
    let (Some(ak), Some(sk)) = (ak.filter(|v| !v.is_empty()), sk.filter(|v| !v.is_empty())) else {
        return Err(bad("needs access_key and secret_key".into()));
    };
    let mut c = Credentials::new(
        ak,
        Secret::new(sk),
        tok.filter(|t| !t.is_empty()).map(Secret::new),
    );
    c.source = "credentials file";
    c.project_id = project.filter(|p| !p.is_empty());
    Ok(c)
}

/// Reads the file (never through a link), refusing one that others may read.
pub fn load(path: &Path) -> Result<Credentials> {
    let file = RealFiles.read(path).map_err(|e| {
        Error::rejected(
            "credentials",
            format!("cannot read credentials file {}: {e}", path.display()),
        )
    })?;
    keyfile::require_private("credentials file", path, file.mode)?;
    parse(&file.text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_comments_and_quotes() {
        let c = parse(
            "# ours\naccess_key = AK1\nsecret_key=\"S K\"\n\nsecurity_token = T\nproject_id = p1\n",
            Path::new("f"),
        )
        .unwrap();
        assert_eq!(
            (c.access(), c.secret(), c.token()),
            ("AK1", "S K", Some("T"))
        );
        assert_eq!(c.project_id.as_deref(), Some("p1"));
        assert_eq!(c.source, "credentials file");
    }

    #[test]
    fn errors_name_the_line_not_the_value() {
        let e = parse("access_key = AK\nsecret = LEAKME\n", Path::new("f"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains("LEAKME"), "{e}");
        assert!(parse("access_key = AK\n", Path::new("f")).is_err());
        assert!(
            parse("garbage LEAK\n", Path::new("f"))
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("otc-credfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("creds");
        std::fs::write(&p, "access_key = A\nsecret_key = S\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load(&p).unwrap().access(), "A");
        std::fs::remove_dir_all(dir).ok();
    }
}
