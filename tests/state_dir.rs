//! The hook's state directory (locks, journal) as another user or a careless
//! operator shapes it: a shared directory keeps its mode and gets a private
//! subdirectory, planted symlinks are never followed, and another user
//! cannot block the default one.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::cloud::Cloud;
use common::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otc-attack-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A world-writable, sticky directory, like /tmp.
fn shared_dir(name: &str) -> PathBuf {
    let d = scratch(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

fn uid() -> String {
    String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_shared_lock_dir_keeps_its_mode_and_gets_a_private_subdir() {
    let sim = start(base_seed());
    let d = shared_dir("chmod");
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_LOCK_DIR", &d)
        .hook_args(["-v"])
        .lone("auth", "example.test", "v-shared");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&d), 0o1777, "the shared directory is never chmod-ed");
    let mine = d.join(format!("otc-acme-hook-{}", uid()));
    assert_eq!(mode(&mine), 0o700);
    assert!(mine.join("journal.tsv").exists());
    assert!(
        r.stderr
            .contains(&format!("state directory {}", mine.display())),
        "-v names the directory used: {}",
        r.stderr
    );
    certbot_one(&sim, "cleanup", "example.test", "v-shared");
}

#[test]
fn planted_symlinks_are_never_followed_and_a_taken_subdir_is_refused() {
    let sim = start(base_seed());
    let d = shared_dir("planted");
    let victim = scratch("victim-file");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let created = scratch("victim-new");
    // Another user plants links where older versions wrote.
    for (name, target) in [
        ("journal.tsv.tmp", &victim),
        ("journal.tsv", &victim),
        ("journal.lock", &created),
    ] {
        let out = as_other_user(&[
            "ln",
            "-s",
            target.to_str().unwrap(),
            d.join(name).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
    }
    let mut c =
        Cloud::Otc
            .certbot(&sim)
            .env("OTC_LOCK_DIR", &d)
            .lone("auth", "example.test", "v-planted");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!created.exists(), "nothing created at a link's target");
    let mut c = Cloud::Otc.certbot(&sim).env("OTC_LOCK_DIR", &d).lone(
        "cleanup",
        "example.test",
        "v-planted",
    );
    assert_eq!(run(&sim, &mut c).code, 0);

    // Another user takes the private subdirectory's name first: refused, before any request.
    let d2 = shared_dir("taken");
    let theirs = scratch("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
    let sub = d2.join(format!("otc-acme-hook-{}", uid()));
    let out = as_other_user(&["ln", "-s", theirs.to_str().unwrap(), sub.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let before = requests(&sim).len();
    let mut c =
        Cloud::Otc
            .certbot(&sim)
            .env("OTC_LOCK_DIR", &d2)
            .lone("auth", "example.test", "v-taken");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is taken"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(requests(&sim).len(), before, "no request");
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    // The lock dir itself a symlink: refused too.
    let link = scratch("link");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    let mut c =
        Cloud::Otc
            .certbot(&sim)
            .env("OTC_LOCK_DIR", &link)
            .lone("auth", "example.test", "v-link");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is a symlink"), "{}", r.stderr);
}

#[test]
fn another_user_cannot_block_the_default_state_directory() {
    let sim = start(base_seed());
    // What blocked renewals before: another user creating the old shared default.
    let blocker = Path::new("/run/lock/otc-acme-hook");
    let planted = blocker.parent().is_some_and(Path::is_dir)
        && !blocker.exists()
        && as_other_user(&["mkdir", "-m", "700", blocker.to_str().unwrap()])
            .status
            .success();
    let xdg_state = scratch("xdg-state");
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env_remove("OTC_LOCK_DIR")
        .hook_args(["-v"])
        // A shell's runtime directory no longer moves the state elsewhere.
        .env("XDG_RUNTIME_DIR", scratch("runtime"))
        .env("XDG_STATE_HOME", &xdg_state)
        .lone("auth", "example.test", "v-default-dir");
    let r = run(&sim, &mut c);
    if planted {
        let _ = std::fs::remove_dir(blocker);
    }
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expected = if is_root() {
        PathBuf::from("/var/lib/otc-acme-hook")
    } else {
        xdg_state.join("otc-acme-hook")
    };
    assert!(
        r.stderr
            .contains(&format!("state directory {}", expected.display())),
        "{}",
        r.stderr
    );
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env_remove("OTC_LOCK_DIR")
        .env("XDG_STATE_HOME", &xdg_state)
        .lone("cleanup", "example.test", "v-default-dir");
    assert_eq!(run(&sim, &mut c).code, 0);
    assert_foreign_intact(&sim);

    // Another user without a usable home gets /var/tmp/otc-acme-hook-UID (a
    // fresh /var/tmp of a mount namespace of its own: nothing left on the machine).
    if is_root() {
        let out = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o mode=1777 none /var/tmp && exec setpriv --reuid=nobody --regid=nogroup --clear-groups -- '{BIN}' auth --no-dns-check -v"
            ))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/nonexistent")
            .env("OTC_DNS_ENDPOINT", sim.base_url())
            .env("OTC_METADATA_URL", sim.metadata_url())
            .env("CERTBOT_DOMAIN", "nobody.example.test")
            .env("CERTBOT_VALIDATION", "v-nobody")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("state directory /var/tmp/otc-acme-hook-65534"),
            "{stderr}"
        );
        assert!(!stderr.contains("warning"), "{stderr}");
    }
}
