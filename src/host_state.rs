//! Host-local state in the state directory: an advisory lock per challenge
//! name (two renewals on one host never interleave their read-modify-write),
//! and the journal of values this host is writing or wrote and has not
//! removed yet, so a crash between auth and cleanup leaves no litter for long.
//!
//! The directory is *private*: a real directory (never a symlink), owned by
//! the running user, no group or other permission bits. Every file in it is
//! opened relative to the checked directory handle without following a
//! symlink; the journal is replaced through an exclusively created temp file
//! with a random name. rustix gives us `openat`/`mkdirat`/`renameat` with
//! `O_NOFOLLOW`/`O_EXCL` on a directory fd, which std has no safe API for.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const JOURNAL: &str = "journal.tsv";
/// Entries older than this are taken for a crash's leftovers.
pub const STALE_AFTER_SECS: i64 = 24 * 3600;
/// Entries older than this are forgotten, swept or not.
pub const FORGET_AFTER_SECS: i64 = 30 * 24 * 3600;
/// Where root keeps its state: survives reboots, only root creates things there.
pub const ROOT_STATE_DIR: &str = "/var/lib/otc-acme-hook";

fn err(cause: impl Into<String>) -> Error {
    Error::failed("lock", cause)
}

fn refused(cause: impl Into<String>) -> Error {
    Error::rejected("lock", cause)
}

/// The running user's id.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

fn is_private(st: &rustix::fs::Stat, uid: u32) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Directory
        && st.st_uid == uid
        && st.st_mode & 0o077 == 0
}

fn open_dir_nofollow(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        path,
        OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY,
        Mode::empty(),
    )?)
}

/// A checked, private directory, held open: everything inside is reached
/// through this handle, so renaming or replacing the path later changes nothing.
#[derive(Debug, Clone)]
pub struct StateDir {
    fd: Arc<OwnedFd>,
    pub path: PathBuf,
    uid: u32,
    /// A directory of this process only (no stable one was found): the hooks
    /// of a certbot run can't share it, so they are not batched; removed at exit.
    pub per_process: bool,
    _removal: Option<Arc<RemoveAtExit>>,
}

/// Removes a per-process state directory when the last handle goes.
#[derive(Debug)]
struct RemoveAtExit(PathBuf);

impl Drop for RemoveAtExit {
    fn drop(&mut self) {
        // std's remove_dir_all never follows a symlink inside the tree.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl StateDir {
    /// Opens `path`, which must be private to `uid`.
    fn open_private(path: &Path, uid: u32) -> std::result::Result<StateDir, String> {
        let fd = open_dir_nofollow(path).map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                format!("{} is a symlink", path.display())
            } else {
                format!("{}: {e}", path.display())
            }
        })?;
        let st = rustix::fs::fstat(&fd).map_err(|e| format!("{}: {e}", path.display()))?;
        if !is_private(&st, uid) {
            return Err(format!(
                "{} is not private to this user (owner uid {}, mode {:o})",
                path.display(),
                st.st_uid,
                st.st_mode & 0o7777
            ));
        }
        Ok(StateDir {
            fd: Arc::new(fd),
            path: path.to_path_buf(),
            uid,
            per_process: false,
            _removal: None,
        })
    }

    /// Opens (or creates, mode 0600) a regular file of ours in the directory,
    /// never through a symlink; a file of another owner is refused.
    fn open_file(&self, name: &str, flags: OFlags) -> std::io::Result<File> {
        let fd = rustix::fs::openat(
            self.fd.as_fd(),
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::from_raw_mode(0o600),
        )?;
        let st = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_uid != self.uid {
            return Err(std::io::Error::other(format!(
                "{} is not a regular file of this user",
                self.path.join(name).display()
            )));
        }
        Ok(File::from(fd))
    }

    /// Replaces `name` atomically: a fresh temp file (exclusive, random name) renamed into place.
    fn replace(&self, name: &str, contents: &[u8]) -> std::io::Result<()> {
        let tmp = format!("{name}.{}.tmp", crate::random::hex(8));
        let mut f = self.open_file(&tmp, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL)?;
        let written = f.write_all(contents);
        drop(f);
        if let Err(e) = written.and_then(|_| {
            rustix::fs::renameat(self.fd.as_fd(), &*tmp, self.fd.as_fd(), name)
                .map_err(std::io::Error::from)
        }) {
            let _ = rustix::fs::unlinkat(self.fd.as_fd(), &*tmp, AtFlags::empty());
            return Err(e);
        }
        Ok(())
    }
}

/// Creates `path` private (parents as needed), or checks an existing one.
/// `Ok(None)`: it exists as a real directory that is not private to us.
fn private_dir_at(path: &Path, uid: u32) -> std::result::Result<Option<StateDir>, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(refused(format!(
            "the lock directory {} is a symlink",
            path.display()
        ))
        .hint("give the real directory, or a path that does not exist yet")),
        Ok(m) if !m.is_dir() => Err(refused(format!(
            "the lock directory {} is not a directory",
            path.display()
        ))
        .hint("give a directory path with --lock-dir / OTC_LOCK_DIR")),
        Ok(_) => match StateDir::open_private(path, uid) {
            Ok(d) => Ok(Some(d)),
            Err(_) => Ok(None),
        },
        Err(_) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| err(format!("creating {}: {e}", parent.display())))?;
            }
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            let pfd = open_dir_nofollow(parent.unwrap_or(Path::new(".")))
                .map_err(|e| err(format!("{}: {e}", path.display())))?;
            let name = path.file_name().ok_or_else(|| {
                refused(format!("the lock directory {} has no name", path.display()))
            })?;
            match rustix::fs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(err(format!("creating {}: {e}", path.display()))),
            }
            StateDir::open_private(path, uid)
                .map(Some)
                .map_err(|m| refused(m).hint("choose another --lock-dir / OTC_LOCK_DIR"))
        }
    }
}

/// `<dir>/otc-acme-hook-<uid>` inside a shared directory (e.g. /tmp), which is
/// never chmod-ed: ours and private, or refused.
fn private_subdir(dir: &Path, uid: u32) -> Result<StateDir> {
    let sub = dir.join(format!("otc-acme-hook-{uid}"));
    let pfd = open_dir_nofollow(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    let name = format!("otc-acme-hook-{uid}");
    match rustix::fs::mkdirat(&pfd, &*name, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(err(format!("creating {}: {e}", sub.display()))),
    }
    let taken = || {
        refused(format!(
            "{} is taken by another user, or is not a private directory",
            sub.display()
        ))
        .hint(format!(
            "remove {} or give a directory only this user can write with --lock-dir / OTC_LOCK_DIR",
            sub.display()
        ))
    };
    let st = rustix::fs::statat(&pfd, &*name, AtFlags::SYMLINK_NOFOLLOW).map_err(|_| taken())?;
    if !is_private(&st, uid) {
        return Err(taken());
    }
    StateDir::open_private(&sub, uid).map_err(|_| taken())
}

/// What the choice of the state directory depends on besides the
/// environment, injected so tests don't depend on the machine they run on.
#[derive(Debug, Clone)]
pub struct Host {
    /// The running user (owner of every directory used, and in their names).
    pub uid: u32,
    /// Root keeps its state in [`ROOT_STATE_DIR`].
    pub superuser: bool,
    /// Where the fixed paths (`/var/lib`, `/run/user`, `/var/tmp`, `/tmp`) hang from.
    pub root: PathBuf,
}

impl Host {
    /// This process on this machine.
    pub fn current() -> Host {
        let uid = current_uid();
        Host {
            uid,
            superuser: uid == 0,
            root: PathBuf::from("/"),
        }
    }

    fn at(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

/// The state directory of this process, see [`state_dir_for`].
pub fn state_dir(
    explicit: Option<&Path>,
    env: &HashMap<String, String>,
) -> Result<(StateDir, Option<String>)> {
    state_dir_for(explicit, env, &Host::current())
}

/// The state directory: `--lock-dir`/`OTC_LOCK_DIR` (created private when
/// missing; a shared one gets a private `otc-acme-hook-<uid>` inside), else
/// `/var/lib/otc-acme-hook` for root, else `$XDG_STATE_HOME/otc-acme-hook`
/// or `~/.local/state/otc-acme-hook` where the home is the user's own
/// directory. Without such a home (a `User=` unit whose home is
/// `/nonexistent`, `DynamicUser=`), a stable private directory, so a certbot
/// run's hooks share it: `$STATE_DIRECTORY` (systemd's `StateDirectory=`;
/// a private `otc-acme-hook-<uid>` inside unless it is private itself), else
/// `/run/user/<uid>/otc-acme-hook` where `/run/user/<uid>` is the user's and
/// private, else `/var/tmp/otc-acme-hook-<uid>` (created 0700, never through a
/// link, refused when another user's or wider). Last, a fresh private temp
/// directory of this process only ([`StateDir::per_process`]), with a warning
/// (the second value).
pub fn state_dir_for(
    explicit: Option<&Path>,
    env: &HashMap<String, String>,
    host: &Host,
) -> Result<(StateDir, Option<String>)> {
    let uid = host.uid;
    if let Some(d) = explicit {
        return match private_dir_at(d, uid)? {
            Some(s) => Ok((s, None)),
            None => Ok((private_subdir(d, uid)?, None)),
        };
    }
    let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
    // A home counts only where it is this user's own directory: `/` (a
    // `DynamicUser=`'s) or another user's is no place for our state.
    let own_dir = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == uid
        })
    };
    let default = if host.superuser {
        Some(host.at(ROOT_STATE_DIR))
    } else if let Some(x) = get("XDG_STATE_HOME").filter(|x| x.starts_with('/')) {
        Some(Path::new(&x).join("otc-acme-hook"))
    } else {
        get("HOME")
            .filter(|h| h.starts_with('/') && own_dir(Path::new(h)))
            .map(|h| Path::new(&h).join(".local/state/otc-acme-hook"))
    };
    if let Some(d) = default {
        return match private_dir_at(&d, uid)? {
            Some(s) => Ok((s, None)),
            None => Err(refused(format!(
                "the state directory {} is not private to this user",
                d.display()
            ))
            .hint(format!(
                "chmod 700 {} (and make this user its owner), or set OTC_LOCK_DIR",
                d.display()
            ))),
        };
    }
    let mut passed = Vec::new();
    if let Some(sd) = get("STATE_DIRECTORY") {
        // systemd lists one path per StateDirectory= entry, colon-separated.
        // `DynamicUser=` makes it a root-owned link into /var/lib/private: its
        // real path is used, and must be this user's.
        let d = std::fs::canonicalize(sd.split(':').next().unwrap_or_default()).unwrap_or_default();
        if d.is_absolute() && own_dir(&d) {
            match private_dir_at(&d, uid) {
                Ok(Some(s)) => return Ok((s, None)),
                _ => match private_subdir(&d, uid) {
                    Ok(s) => return Ok((s, None)),
                    Err(e) => passed.push(e.cause.clone()),
                },
            }
        }
    }
    let run_user = host.at(&format!("/run/user/{uid}"));
    let runtime_ours = rustix::fs::lstat(&run_user).is_ok_and(|st| is_private(&st, uid));
    if runtime_ours {
        match private_dir_at(&run_user.join("otc-acme-hook"), uid) {
            Ok(Some(s)) => return Ok((s, None)),
            Ok(None) => passed.push(format!(
                "{} is not private to this user",
                run_user.join("otc-acme-hook").display()
            )),
            Err(e) => passed.push(e.cause.clone()),
        }
    }
    let var_tmp = host.at("/var/tmp");
    if var_tmp.is_dir() {
        match private_subdir(&var_tmp, uid) {
            Ok(s) => return Ok((s, None)),
            Err(e) => passed.push(e.cause.clone()),
        }
    }
    let tmp = get("TMPDIR")
        .filter(|t| t.starts_with('/'))
        .map(PathBuf::from)
        .unwrap_or_else(|| host.at("/tmp"));
    let d = tmp.join(format!("otc-acme-hook-{uid}-{}", crate::random::hex(8)));
    let mut s = private_dir_at(&d, uid)?.ok_or_else(|| {
        refused(format!(
            "could not create a private directory {}",
            d.display()
        ))
    })?;
    s.per_process = true;
    s._removal = Some(Arc::new(RemoveAtExit(d.clone())));
    let why = if passed.is_empty() {
        String::new()
    } else {
        format!(" ({})", passed.join("; "))
    };
    Ok((
        s,
        Some(format!(
            "no usable home directory and no stable private state directory{why}: this process's journal lives in {} and is removed at exit, and the hooks of a certbot run are not batched; set OTC_LOCK_DIR, or StateDirectory= in the unit",
            d.display()
        )),
    ))
}

/// The places older versions kept their state by default.
fn legacy_dirs(env: &HashMap<String, String>, uid: u32) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(x) = env.get("XDG_RUNTIME_DIR").filter(|x| x.starts_with('/')) {
        v.push(Path::new(x).join("otc-acme-hook"));
    }
    v.push(PathBuf::from("/run/lock/otc-acme-hook"));
    let tmp = env
        .get("TMPDIR")
        .filter(|t| t.starts_with('/'))
        .cloned()
        .unwrap_or_else(|| "/tmp".into());
    v.push(Path::new(&tmp).join(format!("otc-acme-hook-{uid}")));
    v
}

/// The runs of `endpoint` and `all` that still have deferred values, whose
/// latest hook had `remaining` equal to `want` and was seen within the window,
/// and that share the nearest ancestor process with `ancestors` (certbot's,
/// for a hook of the same run; a dead run's hooks share at most a shell with a
/// new one); newest first.
fn open_runs(
    entries: &[Entry],
    endpoint: &str,
    all: &str,
    want: u32,
    now: i64,
    ancestors: &[String],
) -> Vec<String> {
    let mut runs: Vec<(String, u32, i64, Option<usize>)> = Vec::new();
    for e in entries.iter().filter(|e| {
        e.state == State::Deferred && e.endpoint == endpoint && now - e.t <= RUN_WINDOW_SECS
    }) {
        let Some(r) = e.run.as_ref().filter(|r| r.all == all) else {
            continue;
        };
        let depth = shared_depth(ancestors, &r.ancestors);
        match runs.iter_mut().find(|(id, _, _, _)| *id == r.id) {
            Some(run) => {
                run.1 = run.1.min(r.remaining);
                run.2 = run.2.max(e.t);
                run.3 = match (run.3, depth) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => runs.push((r.id.clone(), r.remaining, e.t, depth)),
        }
    }
    let open: Vec<(String, u32, i64, Option<usize>)> = runs
        .into_iter()
        .filter(|(_, rem, _, _)| *rem == want)
        .collect();
    let nearest = open.iter().filter_map(|r| r.3).min();
    let mut best: Vec<(String, u32, i64, Option<usize>)> = open
        .into_iter()
        .filter(|r| nearest.is_none() || r.3 == nearest)
        .collect();
    best.sort_by_key(|(_, _, t, _)| std::cmp::Reverse(*t));
    best.into_iter().map(|(id, _, _, _)| id).collect()
}

/// A held advisory lock; released on drop.
pub struct Guard(#[allow(dead_code)] File);

/// Where a journaled value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Recorded by an early hook of a certbot run for the run's last hook to
    /// write; never sent. Dropped, never sent, once its run is over.
    Deferred,
    /// Recorded before the request that may land it: its outcome is unknown.
    Sending,
    /// The API took it.
    Written,
    /// Removed by the first cleanup hook of its run; the run's last cleanup
    /// hook checks it stayed removed, then forgets it.
    Removed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Deferred => "deferred",
            State::Sending => "sending",
            State::Written => "written",
            State::Removed => "removed",
        }
    }
    fn parse(s: &str) -> Option<State> {
        match s {
            "deferred" => Some(State::Deferred),
            "sending" => Some(State::Sending),
            "written" => Some(State::Written),
            "removed" => Some(State::Removed),
            _ => None,
        }
    }
}

/// Which certbot run a value belongs to, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunTag {
    /// Random, made by the run's first hook.
    pub id: String,
    /// `CERTBOT_REMAINING_CHALLENGES` of the hook that recorded the value.
    pub remaining: u32,
    /// A digest of `CERTBOT_ALL_DOMAINS`, which every hook of a run shares.
    pub all: String,
    /// When the run's first cleanup removed the value (Unix ms).
    pub removed_ms: Option<u64>,
    /// The removal is published (served as it lands, or its zone committed):
    /// the run's later cleanup hooks have nothing left to do, not even a request.
    pub published: bool,
    /// The recording hook's ancestor processes (`pid.starttime`, nearest first):
    /// hooks of one run share certbot's process, a run that died does not.
    pub ancestors: Vec<String>,
}

/// This process's ancestors as `pid.starttime` (so a reused pid never matches),
/// nearest first, at most eight, init excluded; empty where /proc can't tell.
pub fn ancestry() -> Vec<String> {
    ancestry_in(Path::new("/proc"))
}

/// [`ancestry`] read from the proc filesystem at `proc` (tests give an empty one).
pub fn ancestry_in(proc: &Path) -> Vec<String> {
    let stat = |pid: &str| -> Option<(String, String)> {
        let text = std::fs::read_to_string(proc.join(pid).join("stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let rest = &text[text.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some((f.get(1)?.to_string(), f.get(19)?.to_string()))
    };
    let mut out = Vec::new();
    let Some((mut pid, _)) = stat("self") else {
        return out;
    };
    while out.len() < 8 && pid.parse::<u32>().is_ok_and(|p| p > 1) {
        let Some((ppid, start)) = stat(&pid) else {
            break;
        };
        out.push(format!("{pid}.{start}"));
        pid = ppid;
    }
    out
}

/// How near an ancestor the two chains share (0: the same parent); `None`: none.
fn shared_depth(mine: &[String], theirs: &[String]) -> Option<usize> {
    mine.iter().position(|a| theirs.contains(a))
}

/// Deferred values older than this belong to a run that died: they are dropped.
pub const RUN_WINDOW_SECS: i64 = 900;

/// One value this host wrote or is writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub t: i64,
    pub endpoint: String,
    pub zone_id: String,
    pub zone_name: String,
    pub name: String,
    pub value: String,
    pub state: State,
    /// The certbot run, for values of a batched run.
    pub run: Option<RunTag>,
    /// The provider's id of what holds the value, as our create answered it
    /// (OTC the recordset, OVH/NCP the record): cleanup hands it to the
    /// provider ([`DnsApi::known`](crate::cloud_api::DnsApi::known)). `None`
    /// in journals of older versions, and before the answer.
    pub id: Option<String>,
}

impl Entry {
    /// The last column: the state, then `;run=…;rem=…;all=…[;removed=…]` for a run's values.
    fn state_column(&self) -> String {
        let mut c = self.state.as_str().to_string();
        if let Some(r) = &self.run {
            c.push_str(&format!(";run={};rem={};all={}", r.id, r.remaining, r.all));
            if let Some(ms) = r.removed_ms {
                c.push_str(&format!(";removed={ms}"));
            }
            if r.published {
                c.push_str(";pub=1");
            }
            if !r.ancestors.is_empty() {
                c.push_str(&format!(";anc={}", r.ancestors.join(",")));
            }
        }
        // Its own key, outside the run's: older versions skip keys they don't know.
        if let Some(id) = &self.id {
            c.push_str(&format!(";rid={id}"));
        }
        c
    }

    /// The `rid=` key of a state column, if any.
    fn parse_id(c: &str) -> Option<String> {
        c.split(';')
            .skip(1)
            .find_map(|p| p.strip_prefix("rid="))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn parse_state_column(c: &str) -> Option<(State, Option<RunTag>)> {
        let mut parts = c.split(';');
        let state = State::parse(parts.next()?)?;
        let mut tag = RunTag::default();
        let mut any = false;
        for p in parts {
            let (k, v) = p.split_once('=')?;
            any = true;
            match k {
                "run" => tag.id = v.to_string(),
                "rem" => tag.remaining = v.parse().ok()?,
                "all" => tag.all = v.to_string(),
                "removed" => tag.removed_ms = Some(v.parse().ok()?),
                "pub" => tag.published = v == "1",
                "anc" => tag.ancestors = v.split(',').map(str::to_string).collect(),
                _ => {}
            }
        }
        Some((state, (any && !tag.id.is_empty()).then_some(tag)))
    }

    #[doc(hidden)] // pub for the fuzz target `journal` only.
    pub fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            self.t,
            self.endpoint,
            self.zone_id,
            self.zone_name,
            self.name,
            self.value,
            self.state_column()
        )
    }

    #[doc(hidden)] // pub for the fuzz target `journal` only.
    pub fn parse(line: &str) -> Option<Entry> {
        let f: Vec<&str> = line.split('\t').collect();
        // Six columns: a journal of an older version, whose entries were all written.
        let (state, run) = match f.len() {
            6 => (State::Written, None),
            7 => Entry::parse_state_column(f[6])?,
            _ => return None,
        };
        Some(Entry {
            t: f[0].parse().ok()?,
            endpoint: f[1].into(),
            zone_id: f[2].into(),
            zone_name: f[3].into(),
            name: f[4].into(),
            value: f[5].into(),
            state,
            run,
            id: f.get(6).and_then(|c| Entry::parse_id(c)),
        })
    }

    /// A batched run's value whose removal is published: nothing left to sweep.
    pub fn removal_published(&self) -> bool {
        self.state == State::Removed && self.run.as_ref().is_some_and(|r| r.published)
    }

    fn same(&self, o: &Entry) -> bool {
        self.endpoint == o.endpoint
            && self.zone_id == o.zone_id
            && self.name == o.name
            && self.value == o.value
    }
}

/// The journal `all` after noting `entry` (see [`HostState::record`]).
fn merge_entry(all: Vec<Entry>, entry: Entry) -> Vec<Entry> {
    let mut keep: Vec<Entry> = all
        .into_iter()
        .filter(|e| entry.t - e.t <= FORGET_AFTER_SECS)
        .filter(|e| !(e.state == State::Deferred && entry.t - e.t > RUN_WINDOW_SECS))
        .filter(|e| !(e.removal_published() && entry.t - e.t > STALE_AFTER_SECS))
        .collect();
    let mut entry = entry;
    match keep.iter_mut().find(|e| e.same(&entry)) {
        // A written value stays written; a later "sending" only refreshes it.
        Some(e) if e.state == State::Written && entry.state == State::Sending => {}
        Some(e) => {
            // The id our create answered stays known until told otherwise.
            if entry.id.is_none() {
                entry.id = e.id.take();
            }
            *e = entry
        }
        None => keep.push(entry),
    }
    keep
}

/// The state directory of one run, for one DNS endpoint.
#[derive(Debug, Clone)]
pub struct HostState {
    pub dir: StateDir,
    /// Journal entries and locks are keyed by endpoint too.
    pub endpoint: String,
}

impl HostState {
    fn lock_file(&self, file: &str) -> Result<Guard> {
        let path = self.dir.path.join(file);
        let f = self
            .dir
            .open_file(file, OFlags::RDWR | OFlags::CREATE)
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
        let mut text = String::new();
        match self.dir.open_file(JOURNAL, OFlags::RDONLY) {
            Ok(mut f) => {
                let _ = f.read_to_string(&mut text);
            }
            Err(_) => return Vec::new(),
        }
        text.lines().filter_map(Entry::parse).collect()
    }

    fn write(&self, entries: &[Entry]) -> Result<()> {
        let text: String = entries.iter().map(Entry::line).collect();
        self.dir
            .replace(JOURNAL, text.as_bytes())
            .map_err(|e| err(format!("{}: {e}", self.dir.path.join(JOURNAL).display())))
    }

    /// Changes the journal under its lock: `f` gets every entry and says what to keep.
    fn update(&self, f: impl FnOnce(Vec<Entry>) -> Vec<Entry>) -> Result<()> {
        let _g = self.lock_file("journal.lock")?;
        let all = self.read();
        let before = all.clone();
        let after = f(all);
        if after != before {
            self.write(&after)?;
        }
        Ok(())
    }

    /// Notes a value (once; a known one takes the new state and time). Entries of
    /// any endpoint older than [`FORGET_AFTER_SECS`] are dropped: an endpoint not
    /// used for that long (a test simulator, a retired account) would keep them forever.
    pub fn record(&self, entry: Entry) -> Result<()> {
        self.record_all(vec![entry])
    }

    /// [`record`](Self::record) for each of `entries` in order, with one
    /// rewrite of the journal: a run of 100 values notes them all at once
    /// instead of rewriting the file 100 times between its requests.
    pub fn record_all(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.update(|all| entries.into_iter().fold(all, merge_entry))
    }

    /// Forgets a value (removed, or found gone). A value a batched run's first
    /// cleanup removed is kept, its removal now published, for the run's later
    /// cleanup hooks to find (they then make no request); the run's last one
    /// forgets the run.
    pub fn forget(&self, name: &str, value: &str) -> Result<()> {
        self.forget_all(&[(name.to_string(), value.to_string())])
    }

    /// [`forget`](Self::forget) for every `(name, value)`, with one rewrite.
    pub fn forget_all(&self, values: &[(String, String)]) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let endpoint = self.endpoint.clone();
        self.update(|all| {
            all.into_iter()
                .filter_map(|mut e| {
                    let named = e.endpoint == endpoint
                        && values.iter().any(|(n, v)| *n == e.name && *v == e.value);
                    if !named {
                        return Some(e);
                    }
                    match e.run.as_mut() {
                        Some(r) if e.state == State::Removed => {
                            r.published = true;
                            Some(e)
                        }
                        _ => None,
                    }
                })
                .collect()
        })
    }

    /// The ids the journal holds for `values` at `name`, as `(id, value)`.
    pub fn ids_at(&self, name: &str, values: &[String]) -> Vec<(String, String)> {
        self.read()
            .into_iter()
            .filter(|e| e.endpoint == self.endpoint && e.name == name && values.contains(&e.value))
            .filter_map(|e| e.id.map(|id| (id, e.value)))
            .collect()
    }

    /// Entries of our endpoint older than a day at `now`, whatever their state
    /// (a "sending" entry may have landed), but deferred ones, which were never
    /// sent, and removals already published.
    pub fn stale(&self, now: i64) -> Vec<Entry> {
        self.read()
            .into_iter()
            .filter(|e| {
                e.endpoint == self.endpoint
                    && now - e.t > STALE_AFTER_SECS
                    && e.state != State::Deferred
                    && !e.removal_published()
            })
            .collect()
    }

    /// An early hook of a certbot run (`remaining` > 0) records its value for the
    /// run's last hook. The run: a new one for its first hook (`remaining` =
    /// `count` - 1); else the newest open run with the same `all` whose latest
    /// hook had `remaining` + 1, seen within [`RUN_WINDOW_SECS`]. `None`: no such
    /// run (its journal is gone, say): the caller writes at once instead.
    #[allow(clippy::too_many_arguments)]
    pub fn defer(
        &self,
        now: i64,
        all: &str,
        count: u32,
        remaining: u32,
        name: &str,
        value: &str,
        ancestors: &[String],
    ) -> Result<Option<String>> {
        let endpoint = self.endpoint.clone();
        let mut joined = None;
        // Without /proc, runs can't be told apart by their process: a run is
        // only its own countdown, and a broken one (a new first hook, a hook
        // that follows nothing) drops the older run's values, never sent.
        let blind = ancestors.is_empty();
        let broken = |e: &Entry| {
            e.state == State::Deferred
                && e.endpoint == endpoint
                && e.run.as_ref().is_some_and(|r| r.all == all)
        };
        self.update(|mut entries| {
            let id = if remaining + 1 == count {
                if blind {
                    entries.retain(|e| !broken(e));
                }
                crate::random::hex(8)
            } else {
                match open_runs(&entries, &endpoint, all, remaining + 1, now, ancestors)
                    .into_iter()
                    .next()
                {
                    Some(id) => id,
                    None => {
                        if blind {
                            entries.retain(|e| !broken(e));
                        }
                        return entries;
                    }
                }
            };
            entries.retain(|e| !(e.state == State::Deferred && now - e.t > RUN_WINDOW_SECS));
            entries.push(Entry {
                id: None,
                t: now,
                endpoint: endpoint.clone(),
                zone_id: String::new(),
                zone_name: String::new(),
                name: name.to_string(),
                value: value.to_string(),
                state: State::Deferred,
                run: Some(RunTag {
                    id: id.clone(),
                    remaining,
                    all: all.to_string(),
                    removed_ms: None,
                    published: false,
                    ancestors: ancestors.to_vec(),
                }),
            });
            joined = Some(id);
            entries
        })?;
        Ok(joined)
    }

    /// The last hook of a run takes its deferred values off the journal: the run
    /// is the open one with `all` whose latest hook had `remaining` 1. Two such
    /// runs (the same names in two runs at the same moment) can't be told apart:
    /// both are taken, so no value is ever left unwritten; the ids say how many.
    pub fn take_deferred(
        &self,
        now: i64,
        all: &str,
        ancestors: &[String],
    ) -> Result<(Vec<String>, Vec<Entry>)> {
        let endpoint = self.endpoint.clone();
        let mut taken = (Vec::new(), Vec::new());
        let blind = ancestors.is_empty();
        self.update(|entries| {
            let mut ids = open_runs(&entries, &endpoint, all, 1, now, ancestors);
            if blind {
                // Only the newest countdown can be ours; any other run of these
                // names is broken: its values are dropped, never sent.
                ids.truncate(1);
            }
            let (mine, rest): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| {
                e.state == State::Deferred && e.run.as_ref().is_some_and(|r| ids.contains(&r.id))
            });
            let rest = if blind {
                rest.into_iter()
                    .filter(|e| {
                        !(e.state == State::Deferred
                            && e.endpoint == endpoint
                            && e.run.as_ref().is_some_and(|r| r.all == all))
                    })
                    .collect()
            } else {
                rest
            };
            if !ids.is_empty() {
                taken = (ids, mine);
            }
            rest
        })?;
        Ok(taken)
    }

    /// Every entry of our endpoint of run `id`.
    pub fn run_entries(&self, id: &str) -> Vec<Entry> {
        self.read()
            .into_iter()
            .filter(|e| e.endpoint == self.endpoint && e.run.as_ref().is_some_and(|r| r.id == id))
            .collect()
    }

    /// The run a value of ours belongs to (values are unique per challenge).
    pub fn run_of_value(&self, value: &str) -> Option<(Entry, String)> {
        self.read()
            .into_iter()
            .filter(|e| e.endpoint == self.endpoint && e.value == value)
            .find_map(|e| {
                let id = e.run.as_ref()?.id.clone();
                Some((e, id))
            })
    }

    /// Marks the given values of run `id` removed at `now_ms`.
    pub fn mark_removed(&self, id: &str, values: &[(String, String)], now_ms: u64) -> Result<()> {
        let endpoint = self.endpoint.clone();
        self.update(|mut entries| {
            for e in entries.iter_mut() {
                let ours = e.endpoint == endpoint
                    && e.run.as_ref().is_some_and(|r| r.id == id)
                    && values.iter().any(|(n, v)| *n == e.name && *v == e.value);
                if ours {
                    e.state = State::Removed;
                    if let Some(r) = e.run.as_mut() {
                        r.removed_ms = Some(now_ms);
                    }
                }
            }
            entries
        })
    }

    /// Forgets every entry of run `id`.
    pub fn forget_run(&self, id: &str) -> Result<()> {
        let endpoint = self.endpoint.clone();
        self.update(|entries| {
            entries
                .into_iter()
                .filter(|e| !(e.endpoint == endpoint && e.run.as_ref().is_some_and(|r| r.id == id)))
                .collect()
        })
    }

    /// Whether the journal holds `value` at `name` for our endpoint, in any state.
    pub fn holds(&self, name: &str, value: &str) -> bool {
        self.read()
            .iter()
            .any(|e| e.endpoint == self.endpoint && e.name == name && e.value == value)
    }

    /// Whether the journal holds `value` at `name` with its removal not yet
    /// published: a removal published already needs no commit again.
    pub fn holds_unpublished(&self, name: &str, value: &str) -> bool {
        self.read().iter().any(|e| {
            e.endpoint == self.endpoint
                && e.name == name
                && e.value == value
                && !e.removal_published()
        })
    }

    /// Every value of our endpoint the journal holds as written at `name`.
    pub fn written_at(&self, name: &str) -> Vec<String> {
        self.read()
            .into_iter()
            .filter(|e| e.endpoint == self.endpoint && e.name == name && e.state == State::Written)
            .map(|e| e.value)
            .collect()
    }

    /// Every value of our endpoint the journal holds as sending at `name`: sent,
    /// but not known to be taken and published (its zone's commit, where the
    /// cloud has one, did not succeed in the run that wrote it).
    pub fn sending_at(&self, name: &str) -> Vec<String> {
        self.sending_at_each(&[name]).pop().unwrap_or_default()
    }

    /// [`sending_at`](Self::sending_at) of each of `names`, from one read of the journal.
    pub fn sending_at_each(&self, names: &[&str]) -> Vec<Vec<String>> {
        let all = self.read();
        names
            .iter()
            .map(|name| {
                all.iter()
                    .filter(|e| {
                        e.endpoint == self.endpoint && e.name == *name && e.state == State::Sending
                    })
                    .map(|e| e.value.clone())
                    .collect()
            })
            .collect()
    }

    /// Takes over journals that older versions kept in their default places
    /// (`$XDG_RUNTIME_DIR`, `/run/lock`, the temp dir), only where directory and
    /// journal are private to us; silently, so nobody else's file changes anything.
    pub fn adopt_legacy(&self, env: &HashMap<String, String>) {
        for old in legacy_dirs(env, self.dir.uid) {
            if old == self.dir.path {
                continue;
            }
            let Ok(d) = StateDir::open_private(&old, self.dir.uid) else {
                continue;
            };
            let Ok(mut f) = d.open_file(JOURNAL, OFlags::RDONLY) else {
                continue;
            };
            match rustix::fs::fstat(f.as_fd()) {
                Ok(st) if st.st_mode & 0o077 == 0 => {}
                _ => continue,
            }
            let mut text = String::new();
            if f.read_to_string(&mut text).is_err() {
                continue;
            }
            let old_entries: Vec<Entry> = text.lines().filter_map(Entry::parse).collect();
            let merged = self.update(|mut all| {
                for e in old_entries {
                    if !all.iter().any(|k| k.same(&e)) {
                        all.push(e);
                    }
                }
                all
            });
            if merged.is_ok() {
                let _ = rustix::fs::unlinkat(d.fd.as_fd(), JOURNAL, AtFlags::empty());
            }
        }
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
            id: None,
            t,
            endpoint: "https://dns".into(),
            zone_id: "z1".into(),
            zone_name: "example.com.".into(),
            name: "_acme-challenge.example.com.".into(),
            value: value.into(),
            state: State::Written,
            run: None,
        }
    }

    fn local(d: &Path, endpoint: &str) -> HostState {
        HostState {
            dir: state_dir(Some(d), &HashMap::new()).unwrap().0,
            endpoint: endpoint.into(),
        }
    }

    /// The id our create answered is journaled beside the value (its own
    /// key of the state column), kept when a later state says nothing of it,
    /// and read back; a line of an older version (no id) still reads.
    #[test]
    fn journal_keeps_the_id_our_create_answered() {
        let d = tmp("journal-id");
        let l = local(&d, "https://dns");
        let mut sending = entry(100, "v");
        sending.state = State::Sending;
        l.record(sending).unwrap();
        let mut with_id = entry(101, "v");
        with_id.state = State::Sending;
        with_id.id = Some("rec-42".into());
        l.record(with_id.clone()).unwrap();
        assert!(with_id.line().contains(";rid=rec-42"), "{}", with_id.line());
        // Published: `written`, the id kept.
        l.record(entry(102, "v")).unwrap();
        let read = l.read();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].state, State::Written);
        assert_eq!(read[0].id.as_deref(), Some("rec-42"));
        let names = ["v".to_string(), "other".to_string()];
        assert_eq!(
            l.ids_at("_acme-challenge.example.com.", &names),
            vec![("rec-42".to_string(), "v".to_string())]
        );
        // Older lines: six columns, or seven without the key.
        let old = "100\thttps://dns\tz1\texample.com.\t_acme-challenge.example.com.\tw";
        assert_eq!(Entry::parse(old).unwrap().id, None);
        assert_eq!(Entry::parse(&format!("{old}\twritten")).unwrap().id, None);
        let parsed = Entry::parse(with_id.line().trim_end()).unwrap();
        assert_eq!(parsed, with_id);
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn journal_records_forgets_and_ages() {
        let d = tmp("journal");
        let l = local(&d, "https://dns");
        l.record(entry(100, "old")).unwrap();
        l.record(entry(100, "old")).unwrap();
        l.record(entry(100 + STALE_AFTER_SECS, "new")).unwrap();
        assert_eq!(l.read().len(), 2, "recorded once");
        let stale = l.stale(101 + STALE_AFTER_SECS);
        assert_eq!(stale, vec![entry(100, "old")]);
        let other = HostState {
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

    #[test]
    fn sending_then_written_and_old_lines() {
        let d = tmp("states");
        let l = local(&d, "https://dns");
        let mut e = entry(5, "v");
        e.state = State::Sending;
        l.record(e.clone()).unwrap();
        assert_eq!(l.read()[0].state, State::Sending);
        assert!(
            std::fs::read_to_string(d.join(JOURNAL))
                .unwrap()
                .ends_with("\tv\tsending\n")
        );
        l.record(entry(6, "v")).unwrap();
        assert_eq!(l.read(), vec![entry(6, "v")]);
        // A written value stays written when sent again.
        l.record(e).unwrap();
        assert_eq!(l.read()[0].state, State::Written);
        // An older version's six columns read as written.
        let old = Entry::parse("7\thttps://dns\tz1\texample.com.\tn.\tw").unwrap();
        assert_eq!(old.state, State::Written);
        assert!(Entry::parse("7\ta\tb\tc\td\te\tbogus").is_none());
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn runs_are_joined_by_countdown_and_dead_ones_dropped() {
        let d = tmp("runs");
        let l = local(&d, "https://dns");
        let all = "h1";
        // A run of three: hooks with 2, 1 remaining defer; the last takes both.
        let me = ancestry();
        assert!(!me.is_empty(), "/proc tells our ancestors");
        let a = l.defer(100, all, 3, 2, "n1.", "v1", &me).unwrap().unwrap();
        let b = l.defer(101, all, 3, 1, "n2.", "v2", &me).unwrap().unwrap();
        assert_eq!(a, b, "the second hook joins the first's run");
        // A hook whose predecessor is missing joins nothing.
        assert_eq!(l.defer(101, "other", 3, 1, "n.", "x", &me).unwrap(), None);
        let line = std::fs::read_to_string(d.join(JOURNAL)).unwrap();
        assert!(
            line.contains(&format!("\tv1\tdeferred;run={a};rem=2;all=h1;anc=")),
            "{line}"
        );
        let (ids, taken) = l.take_deferred(102, all, &me).unwrap();
        assert_eq!(ids, vec![a.clone()]);
        let vals: Vec<&str> = taken.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(vals, ["v1", "v2"]);
        assert!(l.read().is_empty());
        // A run that died after its first hook: a new run starts afresh; the dead
        // one's value is never taken, and is dropped once out of the window.
        let dead = l
            .defer(200, all, 2, 1, "n1.", "dead", &me)
            .unwrap()
            .unwrap();
        let fresh = l
            .defer(200 + RUN_WINDOW_SECS + 1, all, 2, 1, "n1.", "new", &me)
            .unwrap()
            .unwrap();
        assert_ne!(dead, fresh);
        let (_, taken) = l.take_deferred(202 + RUN_WINDOW_SECS, all, &me).unwrap();
        assert_eq!(
            taken.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            ["new"]
        );
        assert!(l.read().iter().all(|e| e.value != "dead"), "dropped");
        assert!(
            l.stale(10 * STALE_AFTER_SECS).is_empty(),
            "deferred values are never swept"
        );
        // Within the window, a dead run (its certbot gone) loses to the run that
        // shares the nearer ancestor with the last hook.
        let certbot_a = ["11.5".to_string(), "1000.1".to_string()];
        let certbot_b = ["22.5".to_string(), "1000.1".to_string()];
        let ra = l
            .defer(300, all, 2, 1, "n1.", "x1", &certbot_a)
            .unwrap()
            .unwrap();
        l.defer(301, all, 2, 1, "n1.", "y1", &certbot_b)
            .unwrap()
            .unwrap();
        let last_of_a = ["33.7".to_string(), "11.5".to_string(), "1000.1".to_string()];
        let (ids, taken) = l.take_deferred(302, all, &last_of_a).unwrap();
        assert_eq!(ids, vec![ra]);
        assert_eq!(taken[0].value, "x1");
        // Two runs as near as each other can't be told apart: both are taken.
        l.defer(310, all, 2, 1, "n1.", "p1", &certbot_a)
            .unwrap()
            .unwrap();
        let elsewhere = ["44.1".to_string(), "1000.1".to_string()];
        let (ids, taken) = l.take_deferred(311, all, &elsewhere).unwrap();
        assert_eq!((ids.len(), taken.len()), (2, 2));
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn a_runs_removal_is_kept_published_until_the_run_is_forgotten() {
        let d = tmp("published");
        let l = local(&d, "https://dns");
        let mut e = entry(100, "r1");
        e.state = State::Removed;
        e.run = Some(RunTag {
            id: "run1".into(),
            removed_ms: Some(100_000),
            ..RunTag::default()
        });
        l.record(e.clone()).unwrap();
        l.record(entry(100, "plain")).unwrap();
        assert!(!l.read()[0].removal_published());
        // The zone's commit published the removal: kept, now published.
        l.forget("_acme-challenge.example.com.", "r1").unwrap();
        l.forget("_acme-challenge.example.com.", "plain").unwrap();
        let kept = l.read();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].removal_published());
        assert!(
            std::fs::read_to_string(d.join(JOURNAL))
                .unwrap()
                .contains(";pub=1")
        );
        assert_eq!(l.run_of_value("r1").unwrap().1, "run1");
        // Nothing to sweep; dropped a day later, or when the run is forgotten.
        assert!(l.stale(100 + 2 * STALE_AFTER_SECS).is_empty());
        l.record(entry(101 + STALE_AFTER_SECS, "later")).unwrap();
        assert!(l.run_of_value("r1").is_none());
        l.record(e).unwrap();
        l.forget_run("run1").unwrap();
        assert!(l.run_of_value("r1").is_none());
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn without_proc_a_run_is_only_its_own_countdown() {
        let empty = tmp("noproc");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(
            ancestry_in(&empty).is_empty(),
            "an empty /proc tells nothing"
        );
        assert!(!ancestry_in(Path::new("/proc")).is_empty());
        let d = tmp("blind");
        let l = local(&d, "https://dns");
        let none: &[String] = &[];
        let all = "h1";
        // A run of three that died after its second hook.
        let dead = l.defer(100, all, 3, 2, "n1.", "dead1", none).unwrap();
        assert_eq!(l.defer(101, all, 3, 1, "n2.", "dead2", none).unwrap(), dead);
        // The same names again: its first hook breaks the dead run's countdown.
        let fresh = l.defer(110, all, 3, 2, "n1.", "new1", none).unwrap();
        assert_ne!(fresh, dead);
        assert!(
            l.read().iter().all(|e| !e.value.starts_with("dead")),
            "the dead run's values are dropped: {:?}",
            l.read()
        );
        assert_eq!(l.defer(111, all, 3, 1, "n2.", "new2", none).unwrap(), fresh);
        let (ids, taken) = l.take_deferred(112, all, none).unwrap();
        assert_eq!(ids, vec![fresh.unwrap()]);
        let vals: Vec<&str> = taken.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(vals, ["new1", "new2"]);
        // A hook that follows nothing (its predecessor is missing) drops the older run.
        l.defer(200, all, 4, 3, "n1.", "old1", none)
            .unwrap()
            .unwrap();
        assert_eq!(l.defer(201, all, 4, 1, "n3.", "x", none).unwrap(), None);
        assert!(l.read().iter().all(|e| e.value != "old1"));
        // A last hook whose run's countdown is broken takes nothing, and drops it.
        l.defer(300, all, 3, 2, "n1.", "half1", none)
            .unwrap()
            .unwrap();
        let (ids, taken) = l.take_deferred(301, all, none).unwrap();
        assert!(ids.is_empty() && taken.is_empty());
        assert!(l.read().iter().all(|e| e.value != "half1"));
        // Of two open runs (journaled with ancestors once), only the newest is taken.
        let anc = ["11.5".to_string()];
        let other = ["22.5".to_string()];
        l.defer(400, all, 2, 1, "n1.", "older", &anc)
            .unwrap()
            .unwrap();
        let newest = l.defer(401, all, 2, 1, "n1.", "newer", &other).unwrap();
        let (ids, taken) = l.take_deferred(402, all, none).unwrap();
        assert_eq!(ids, vec![newest.unwrap()]);
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].value, "newer");
        assert!(l.read().is_empty(), "the older one is dropped, never sent");
        std::fs::remove_dir_all(d).ok();
        std::fs::remove_dir_all(empty).ok();
    }

    /// A host rooted in a fresh temp directory, as a non-root user.
    fn host(name: &str) -> Host {
        let root = tmp(name);
        std::fs::create_dir_all(&root).unwrap();
        Host {
            uid: current_uid(),
            superuser: false,
            root,
        }
    }

    fn mkdir(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(p).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn env(pairs: &[(&str, &Path)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.display().to_string()))
            .collect()
    }

    #[test]
    fn where_state_lives_for_each_kind_of_user() {
        use std::os::unix::fs::PermissionsExt;
        let h = host("hosts");
        let uid = h.uid;
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
        // Root: /var/lib/otc-acme-hook, whatever else there is.
        let root = Host {
            superuser: true,
            ..h.clone()
        };
        let (s, w) = state_dir_for(None, &HashMap::new(), &root).unwrap();
        assert_eq!(s.path, h.root.join("var/lib/otc-acme-hook"));
        assert!(w.is_none() && !s.per_process);
        // A user with a home of their own: under it, as before.
        let home = h.root.join("home/u");
        mkdir(&home, 0o755);
        let (s, _) = state_dir_for(None, &env(&[("HOME", &home)]), &h).unwrap();
        assert_eq!(s.path, home.join(".local/state/otc-acme-hook"));
        // No usable home (missing, or not this user's): systemd's StateDirectory=.
        let missing = h.root.join("nonexistent");
        let sd = h.root.join("var/lib/unit");
        mkdir(&sd, 0o755);
        let e = env(&[("HOME", &missing), ("STATE_DIRECTORY", &sd)]);
        let (s, w) = state_dir_for(None, &e, &h).unwrap();
        assert_eq!(s.path, sd.join(format!("otc-acme-hook-{uid}")));
        assert!(w.is_none() && !s.per_process);
        assert_eq!(mode(&s.path), 0o700);
        assert_eq!(mode(&sd), 0o755, "never chmod-ed");
        let private = h.root.join("var/lib/private-unit");
        mkdir(&private, 0o700);
        let e = env(&[("HOME", &missing), ("STATE_DIRECTORY", &private)]);
        assert_eq!(state_dir_for(None, &e, &h).unwrap().0.path, private);
        if uid == 0 {
            // A home of another user's is none of ours.
            let theirs = h.root.join("home/other");
            mkdir(&theirs, 0o755);
            std::os::unix::fs::chown(&theirs, Some(4242), None).unwrap();
            let e = env(&[("HOME", &theirs), ("STATE_DIRECTORY", &private)]);
            assert_eq!(state_dir_for(None, &e, &h).unwrap().0.path, private);
        }
        // Else the user's runtime directory, when it is theirs and private.
        let no_home = env(&[("HOME", &missing)]);
        let run_user = h.root.join(format!("run/user/{uid}"));
        mkdir(&run_user, 0o755);
        let var_tmp = h.root.join("var/tmp");
        mkdir(&var_tmp, 0o1777);
        let (s, _) = state_dir_for(None, &no_home, &h).unwrap();
        assert_eq!(
            s.path,
            var_tmp.join(format!("otc-acme-hook-{uid}")),
            "a runtime dir open to others is passed over"
        );
        assert_eq!(mode(&s.path), 0o700);
        std::fs::set_permissions(&run_user, std::fs::Permissions::from_mode(0o700)).unwrap();
        let (s, w) = state_dir_for(None, &no_home, &h).unwrap();
        assert_eq!(s.path, run_user.join("otc-acme-hook"));
        assert!(w.is_none() && !s.per_process);
        std::fs::remove_dir_all(&run_user).unwrap();
        // /var/tmp/otc-acme-hook-UID is refused when wider, a link, or another's:
        // then a directory of this process only, no batching, removed at exit.
        let ours = var_tmp.join(format!("otc-acme-hook-{uid}"));
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tmpdir = h.root.join("tmp");
        mkdir(&tmpdir, 0o1777);
        let e = env(&[("HOME", &missing), ("TMPDIR", &tmpdir)]);
        let (s, w) = state_dir_for(None, &e, &h).unwrap();
        assert!(s.per_process);
        assert!(s.path.starts_with(&tmpdir), "{}", s.path.display());
        let w = w.unwrap();
        assert!(w.contains("not batched") && w.contains("is taken"), "{w}");
        let path = s.path.clone();
        let l = HostState {
            dir: s,
            endpoint: "e".into(),
        };
        l.record(entry(1, "v")).unwrap();
        assert!(path.join(JOURNAL).exists());
        drop(l);
        assert!(!path.exists(), "removed when the process is done with it");
        std::fs::remove_dir_all(&ours).unwrap();
        std::os::unix::fs::symlink(&tmpdir, &ours).unwrap();
        assert!(state_dir_for(None, &e, &h).unwrap().0.per_process);
        std::fs::remove_file(&ours).unwrap();
        if uid == 0 {
            mkdir(&ours, 0o700);
            std::os::unix::fs::chown(&ours, Some(4242), None).unwrap();
            assert!(state_dir_for(None, &e, &h).unwrap().0.per_process);
            std::fs::remove_dir_all(&ours).unwrap();
        }
        assert_eq!(
            std::fs::read_dir(&tmpdir).unwrap().count(),
            0,
            "every per-process directory removed"
        );
        std::fs::remove_dir_all(&h.root).ok();
    }

    #[test]
    fn private_dirs_and_shared_ones() {
        use std::os::unix::fs::PermissionsExt;
        let uid = current_uid();
        // A missing directory is created 0700.
        let d = tmp("create");
        let l = local(&d.join("sub"), "e");
        assert_eq!(l.dir.path, d.join("sub"));
        let mode = std::fs::metadata(d.join("sub"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        // A shared directory keeps its mode; a private subdirectory is used inside.
        let shared = tmp("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let l = local(&shared, "e");
        assert_eq!(l.dir.path, shared.join(format!("otc-acme-hook-{uid}")));
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o1777, "never chmod-ed");
        // A symlink as the lock dir is refused; so is a file.
        let link = tmp("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert_eq!(
            state_dir(Some(&link), &HashMap::new())
                .unwrap_err()
                .exit
                .code(),
            2
        );
        let f = tmp("file");
        std::fs::write(&f, "x").unwrap();
        assert!(state_dir(Some(&f), &HashMap::new()).is_err());
        // A taken subdirectory (here: a symlink planted in its place) is refused.
        let shared2 = tmp("shared2");
        std::fs::create_dir_all(&shared2).unwrap();
        std::fs::set_permissions(&shared2, std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::os::unix::fs::symlink(&d, shared2.join(format!("otc-acme-hook-{uid}"))).unwrap();
        let e = state_dir(Some(&shared2), &HashMap::new()).unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("is taken"), "{e}");
        for p in [d, shared, shared2, f] {
            std::fs::remove_dir_all(&p)
                .or_else(|_| std::fs::remove_file(&p))
                .ok();
        }
        std::fs::remove_file(link).ok();
    }

    #[test]
    fn planted_symlinks_are_never_followed() {
        let d = tmp("planted");
        let l = local(&d, "e");
        let target = tmp("target");
        std::fs::write(&target, "precious").unwrap();
        for name in ["journal.lock", "journal.tsv"] {
            std::os::unix::fs::symlink(&target, d.join(name)).unwrap();
        }
        assert!(
            l.record(entry(1, "v")).is_err(),
            "a planted lock is refused"
        );
        std::fs::remove_file(d.join("journal.lock")).unwrap();
        // The journal link is replaced by rename, never written through.
        l.record(entry(1, "v")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(
            !std::fs::symlink_metadata(d.join("journal.tsv"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        std::fs::remove_dir_all(d).ok();
        std::fs::remove_file(target).ok();
    }

    #[test]
    fn legacy_journal_is_adopted_only_when_private() {
        use std::os::unix::fs::PermissionsExt;
        let run = tmp("xdg");
        let old = run.join("otc-acme-hook");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(old.join(JOURNAL), entry(3, "legacy").line()).unwrap();
        std::fs::set_permissions(old.join(JOURNAL), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let env: HashMap<String, String> =
            [("XDG_RUNTIME_DIR".to_string(), run.display().to_string())].into();
        let d = tmp("new");
        let l = local(&d, "https://dns");
        l.adopt_legacy(&env);
        assert!(l.read().is_empty(), "a group-readable journal is not read");
        std::fs::set_permissions(old.join(JOURNAL), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        l.adopt_legacy(&env);
        assert_eq!(l.read(), vec![entry(3, "legacy")]);
        assert!(!old.join(JOURNAL).exists());
        std::fs::remove_dir_all(run).ok();
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn locks_exclude_each_other() {
        let d = tmp("lock");
        let l = local(&d, "e");
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
