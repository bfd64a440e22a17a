//! Host-local state in the lock directory: an advisory lock per challenge
//! name (two renewals on one host never interleave their read-modify-write),
//! and the journal of values this host added and has not removed yet, so a
//! crash between auth and cleanup leaves no litter for long.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const JOURNAL: &str = "journal.tsv";
/// Entries older than this are taken for a crash's leftovers.
pub const STALE_AFTER_SECS: i64 = 24 * 3600;
/// Entries older than this are forgotten, swept or not.
pub const FORGET_AFTER_SECS: i64 = 30 * 24 * 3600;

fn err(cause: impl Into<String>) -> Error {
    Error::failed("lock", cause)
}

/// Creates `dir` owner-only, or checks that an existing one is ours and private.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) => {
            if !m.is_dir() {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory",
                    dir.display()
                )));
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::{MetadataExt, PermissionsExt};
                if let Some(uid) = current_uid()
                    && m.uid() != uid
                {
                    return Err(std::io::Error::other(format!(
                        "{} belongs to another user",
                        dir.display()
                    )));
                }
                if m.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
                }
            }
            Ok(())
        }
        Err(_) => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir)
        }
    }
}

/// Our uid, without libc: the owner of /proc/self.
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The lock directory: `OTC_LOCK_DIR`/`--lock-dir`, else
/// `$XDG_RUNTIME_DIR/otc-acme-hook`, else `/run/lock/otc-acme-hook` when
/// writable, else an owner-only directory under the temp dir.
pub fn lock_dir(explicit: Option<&Path>, env: &HashMap<String, String>) -> Result<PathBuf> {
    if let Some(d) = explicit {
        private_dir(d).map_err(|e| err(format!("lock directory {}: {e}", d.display())))?;
        return Ok(d.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(x) = env.get("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        candidates.push(Path::new(x).join("otc-acme-hook"));
    }
    candidates.push(PathBuf::from("/run/lock/otc-acme-hook"));
    for c in candidates {
        if private_dir(&c).is_ok() && probe_writable(&c) {
            return Ok(c);
        }
    }
    #[cfg(unix)]
    let user = current_uid()
        .map(|u| u.to_string())
        .unwrap_or_else(|| "user".into());
    #[cfg(not(unix))]
    let user = "user".to_string();
    let d = std::env::temp_dir().join(format!("otc-acme-hook-{user}"));
    private_dir(&d).map_err(|e| {
        err(format!("lock directory {}: {e}", d.display()))
            .hint("set OTC_LOCK_DIR to a directory only this user can write")
    })?;
    Ok(d)
}

fn probe_writable(dir: &Path) -> bool {
    let p = dir.join(".probe");
    let ok = File::create(&p).is_ok();
    let _ = std::fs::remove_file(&p);
    ok
}

/// A held advisory lock; released on drop.
pub struct Guard(#[allow(dead_code)] File);

/// One value this host wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub t: i64,
    pub endpoint: String,
    pub zone_id: String,
    pub zone_name: String,
    pub name: String,
    pub value: String,
}

impl Entry {
    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            self.t, self.endpoint, self.zone_id, self.zone_name, self.name, self.value
        )
    }

    fn parse(line: &str) -> Option<Entry> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 6 {
            return None;
        }
        Some(Entry {
            t: f[0].parse().ok()?,
            endpoint: f[1].into(),
            zone_id: f[2].into(),
            zone_name: f[3].into(),
            name: f[4].into(),
            value: f[5].into(),
        })
    }

    fn same(&self, o: &Entry) -> bool {
        self.endpoint == o.endpoint
            && self.zone_id == o.zone_id
            && self.name == o.name
            && self.value == o.value
    }
}

/// The lock directory of one run, for one DNS endpoint.
#[derive(Debug, Clone)]
pub struct Local {
    pub dir: PathBuf,
    /// Journal entries and locks are keyed by endpoint too.
    pub endpoint: String,
}

impl Local {
    fn lock_file(&self, file: &str) -> Result<Guard> {
        let path = self.dir.join(file);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        f.lock()
            .map_err(|e| err(format!("locking {}: {e}", path.display())))?;
        Ok(Guard(f))
    }

    /// Exclusive lock for `name`, held across a read-modify-write.
    pub fn lock(&self, name: &str) -> Result<Guard> {
        let h = hex::encode(Sha256::digest(
            format!("{}\n{name}", self.endpoint).as_bytes(),
        ));
        self.lock_file(&format!("{}.lock", &h[..24]))
    }

    fn read(&self) -> Vec<Entry> {
        std::fs::read_to_string(self.dir.join(JOURNAL))
            .map(|t| t.lines().filter_map(Entry::parse).collect())
            .unwrap_or_default()
    }

    fn write(&self, entries: &[Entry]) -> Result<()> {
        let tmp = self.dir.join(format!("{JOURNAL}.tmp"));
        let mut f = File::create(&tmp).map_err(|e| err(format!("{}: {e}", tmp.display())))?;
        for e in entries {
            f.write_all(e.line().as_bytes())
                .map_err(|e| err(e.to_string()))?;
        }
        std::fs::rename(&tmp, self.dir.join(JOURNAL)).map_err(|e| err(e.to_string()))
    }

    /// Notes a value we added (once). Entries of any endpoint older than
    /// [`FORGET_AFTER_SECS`] are dropped: an endpoint not used for that long
    /// (a test simulator, a retired account) would keep them forever.
    pub fn record(&self, entry: Entry) -> Result<()> {
        let _g = self.lock_file("journal.lock")?;
        let all = self.read();
        let mut keep: Vec<Entry> = all
            .iter()
            .filter(|e| entry.t - e.t <= FORGET_AFTER_SECS)
            .cloned()
            .collect();
        let known = keep.iter().any(|e| e.same(&entry));
        if !known {
            keep.push(entry);
        }
        if !known || keep.len() != all.len() {
            self.write(&keep)?;
        }
        Ok(())
    }

    /// Forgets a value (removed, or found gone).
    pub fn forget(&self, name: &str, value: &str) -> Result<()> {
        let endpoint = self.endpoint.as_str();
        let _g = self.lock_file("journal.lock")?;
        let all = self.read();
        let keep: Vec<Entry> = all
            .iter()
            .filter(|e| !(e.endpoint == endpoint && e.name == name && e.value == value))
            .cloned()
            .collect();
        if keep.len() != all.len() {
            self.write(&keep)?;
        }
        Ok(())
    }

    /// Entries of our endpoint older than a day at `now`.
    pub fn stale(&self, now: i64) -> Vec<Entry> {
        self.read()
            .into_iter()
            .filter(|e| e.endpoint == self.endpoint && now - e.t > STALE_AFTER_SECS)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("otc-local-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn entry(t: i64, value: &str) -> Entry {
        Entry {
            t,
            endpoint: "https://dns".into(),
            zone_id: "z1".into(),
            zone_name: "example.com.".into(),
            name: "_acme-challenge.example.com.".into(),
            value: value.into(),
        }
    }

    #[test]
    fn journal_records_forgets_and_ages() {
        let d = tmp("journal");
        let l = Local {
            dir: lock_dir(Some(&d), &HashMap::new()).unwrap(),
            endpoint: "https://dns".into(),
        };
        l.record(entry(100, "old")).unwrap();
        l.record(entry(100, "old")).unwrap();
        l.record(entry(100 + STALE_AFTER_SECS, "new")).unwrap();
        assert_eq!(l.read().len(), 2, "recorded once");
        let stale = l.stale(101 + STALE_AFTER_SECS);
        assert_eq!(stale, vec![entry(100, "old")]);
        let other = Local {
            endpoint: "https://other".into(),
            ..l.clone()
        };
        assert!(other.stale(10 * STALE_AFTER_SECS).is_empty());
        l.forget("_acme-challenge.example.com.", "old").unwrap();
        assert_eq!(l.read(), vec![entry(100 + STALE_AFTER_SECS, "new")]);
        // A month later, a new entry drops the forgotten ones of every endpoint.
        let mut far = entry(100 + STALE_AFTER_SECS + FORGET_AFTER_SECS + 1, "later");
        far.endpoint = "https://elsewhere".into();
        l.record(far.clone()).unwrap();
        assert_eq!(l.read(), vec![far]);
        std::fs::remove_dir_all(d).ok();
    }

    #[cfg(unix)]
    #[test]
    fn lock_dir_is_private_and_env_ordered() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmp("xdg");
        std::fs::create_dir_all(&d).unwrap();
        let env: HashMap<String, String> =
            [("XDG_RUNTIME_DIR".to_string(), d.display().to_string())].into();
        let got = lock_dir(None, &env).unwrap();
        assert_eq!(got, d.join("otc-acme-hook"));
        assert_eq!(
            std::fs::metadata(&got).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A file where the directory should be is refused.
        let f = tmp("file");
        std::fs::write(&f, "x").unwrap();
        assert!(lock_dir(Some(&f), &HashMap::new()).is_err());
        std::fs::remove_dir_all(d).ok();
        std::fs::remove_file(f).ok();
    }

    #[test]
    fn locks_exclude_each_other() {
        let d = tmp("lock");
        let l = Local {
            dir: lock_dir(Some(&d), &HashMap::new()).unwrap(),
            endpoint: "e".into(),
        };
        let g = l.lock("n").unwrap();
        let l2 = l.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _g = l2.lock("n").unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "second lock waits"
        );
        drop(g);
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        t.join().unwrap();
        std::fs::remove_dir_all(d).ok();
    }
}
