//! The operator docs are checked against the binary they describe.
//! docs/configuration.md has a row for every argument of the clap definition,
//! with its real variable and default, and names nothing the CLI lacks.
//! README.md starts with the commands CI runs. The error lines quoted in
//! docs/troubleshooting.md are in the source, and the ones a run without a
//! network can produce match the binary's output byte for byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use otc_acme_hook::cli::Cli;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_otc-acme-hook");

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The hook's source: src/ (the simulator, whose messages the hook never prints,
/// is its own crate in sim/).
fn hook_source() -> String {
    let mut files = Vec::new();
    rust_files(&Path::new(ROOT).join("src"), &mut files);
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One documented argument, as clap defines it.
struct Doc {
    /// Subcommand path ("" for the top level), e.g. "check" or "generate completions".
    path: String,
    long: Option<String>,
    short: Option<char>,
    env: Option<String>,
    defaults: Vec<String>,
    /// For positionals: the value name shown in usage.
    value_name: String,
}

fn collect(cmd: &clap::Command, path: &str, out: &mut Vec<Doc>) {
    for a in cmd.get_arguments() {
        // Globals are propagated into every subcommand: document them once, at the top.
        if !path.is_empty() && a.is_global_set() {
            continue;
        }
        // clap's own --help of subcommands is the same flag as the top level's.
        if !path.is_empty() && a.get_id() == "help" {
            continue;
        }
        out.push(Doc {
            path: path.to_string(),
            long: a.get_long().map(str::to_string),
            short: a.get_short(),
            env: a.get_env().map(|e| e.to_string_lossy().into_owned()),
            defaults: a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect(),
            value_name: a
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_else(|| a.get_id().as_str().to_uppercase()),
        });
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let p = if path.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{path} {}", sub.get_name())
        };
        collect(sub, &p, out);
    }
}

fn cli_args() -> Vec<Doc> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, "", &mut out);
    out
}

/// Every long flag the CLI has, help, version and aliases included.
fn cli_longs() -> BTreeSet<String> {
    fn aliases(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for a in cmd.get_arguments() {
            out.extend(a.get_all_aliases().into_iter().flatten().map(String::from));
        }
        for sub in cmd.get_subcommands() {
            aliases(sub, out);
        }
    }
    let mut out: BTreeSet<String> = cli_args().into_iter().filter_map(|d| d.long).collect();
    aliases(&Cli::command(), &mut out);
    out
}

/// Every environment variable the CLI reads through clap.
fn cli_envs() -> BTreeSet<String> {
    cli_args().into_iter().filter_map(|d| d.env).collect()
}

/// Table rows of a markdown text, as trimmed cells.
fn rows(md: &str) -> Vec<Vec<String>> {
    md.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// `--flag` words of a text (a `--` on its own, lego's separator, is not one).
fn flags_in(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_lowercase()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                j += 1;
            }
            out.insert(text[i + 2..j].trim_end_matches('-').to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Words that look like the hook's environment variables (`OTC_…`, `OS_…`, `HC_…`).
fn variables_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let prefixed = ["OTC_", "OS_", "HC_", "NCLOUD_"]
            .iter()
            .any(|p| word.starts_with(p));
        if prefixed
            && word.len() > 4
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            out.insert(word.to_string());
        }
    }
    out
}

/// Variables documented besides clap's, each with the file that reads it.
const EXTRA_VARIABLES: &[(&str, &str)] = &[
    ("OS_ACCESS_SECRET", "src/clouds/otc/config.rs"),
    ("OS_ACCESS_TOKEN", "src/clouds/otc/config.rs"),
    ("OTC_ACME_HOOK_BIN", "packaging/acme.sh/dns_otc_hook.sh"),
    ("NCLOUD_ACCESS_KEY_ID", "src/clouds/ncp/credentials.rs"),
    ("NCLOUD_ACCESS_KEY", "src/clouds/ncp/credentials.rs"),
    ("NCLOUD_SECRET_ACCESS_KEY", "src/clouds/ncp/credentials.rs"),
    ("NCLOUD_SECRET_KEY", "src/clouds/ncp/credentials.rs"),
];

/// Variables the docs name as never read nor saved by the acme.sh script (an
/// OpenStack openrc's); `never_read_variables_are_not_read` holds them to it.
const NEVER_READ: &[&str] = &["OS_PASSWORD", "OS_USERNAME", "OS_AUTH_URL"];

#[test]
fn never_read_variables_are_not_read() {
    let envs = cli_envs();
    for cloud in otc_acme_hook::clouds::CLOUDS {
        let out = std::process::Command::new(BIN)
            .env_clear()
            .args(["--cloud", cloud, "generate", "acme-sh-vars"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let listed = String::from_utf8(out.stdout).unwrap();
        assert!(listed.lines().any(|l| l == "OTC_CLOUD setting"), "{listed}");
        for v in NEVER_READ {
            assert!(!envs.contains(*v), "{v}");
            assert!(!EXTRA_VARIABLES.iter().any(|(x, _)| x == v), "{v}");
            assert!(
                !listed.lines().any(|l| l.split(' ').next() == Some(*v)),
                "{cloud}: {v}"
            );
        }
    }
}

/// The hook waits for every nameserver itself: acme.sh's own wait (a 20 s
/// sleep, then up to 20 minutes of DoH polling) is turned off in every command.
#[test]
fn acme_sh_commands_carry_dnssleep() {
    for f in ["README.md", "docs/usage.md"] {
        let text = read(f);
        let issues: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("acme.sh --issue"))
            .collect();
        assert!(!issues.is_empty(), "{f}");
        for l in issues {
            assert!(l.contains("--dnssleep"), "{f}: {l}");
        }
    }
}

#[test]
fn configuration_md_has_a_row_for_every_argument() {
    let md = read("docs/configuration.md");
    let table = rows(&md);
    let mut missing = Vec::new();
    for d in cli_args() {
        let Some(long) = &d.long else {
            // A positional: a row whose first cell names its subcommand and whose second names it.
            let found = table.iter().any(|r| {
                r.len() >= 2 && r[0] == format!("`{}`", d.path) && r[1].contains(&d.value_name)
            });
            if !found {
                missing.push(format!("argument {} of `{}`", d.value_name, d.path));
            }
            continue;
        };
        let lead = if d.path.is_empty() {
            "`--".to_string()
        } else {
            format!("`{} --", d.path)
        };
        let row = table.iter().find(|r| {
            r.len() == 5 && r[0].starts_with(&lead) && flags_in(&r[0]).contains(long.as_str())
        });
        let Some(row) = row else {
            missing.push(format!("no row for --{long} ({})", d.path));
            continue;
        };
        let short = d.short.map(|s| format!("`-{s}`")).unwrap_or_default();
        if row[1] != short {
            missing.push(format!(
                "--{long}: short column {:?}, clap has {short:?}",
                row[1]
            ));
        }
        match &d.env {
            Some(env) => {
                if !row[2].starts_with(&format!("`{env}`")) {
                    missing.push(format!(
                        "--{long}: variable column {:?} lacks `{env}`",
                        row[2]
                    ));
                }
            }
            None => {
                if !row[2].is_empty() {
                    missing.push(format!(
                        "--{long}: clap reads no variable, the row says {:?}",
                        row[2]
                    ));
                }
            }
        }
        for def in &d.defaults {
            if !row[3].contains(&format!("`{def}`")) {
                missing.push(format!(
                    "--{long}: default column {:?} lacks `{def}`",
                    row[3]
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md is out of step with src/cli.rs:\n{}",
        missing.join("\n")
    );
}

#[test]
fn configuration_md_names_only_real_flags_and_variables() {
    let md = read("docs/configuration.md");
    let longs = cli_longs();
    let unknown: Vec<_> = flags_in(&md)
        .into_iter()
        .filter(|f| !longs.contains(f))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md names flags the CLI lacks: {unknown:?}"
    );

    let envs = cli_envs();
    for &(var, file) in EXTRA_VARIABLES {
        assert!(
            read(file).contains(var),
            "{var} is documented as read by {file}, which lacks it"
        );
    }
    let unknown: Vec<_> = variables_in(&md)
        .into_iter()
        .filter(|v| !envs.contains(v) && !EXTRA_VARIABLES.iter().any(|(x, _)| x == v))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md names variables the CLI lacks: {unknown:?}"
    );

    // Each row's variable cell names only that row's variable and its aliases.
    for r in rows(&md)
        .iter()
        .filter(|r| r.len() == 5 && r[0].starts_with("`--"))
    {
        for v in variables_in(&r[2]) {
            assert!(
                envs.contains(&v) || EXTRA_VARIABLES.iter().any(|(x, _)| *x == v),
                "{v} in {r:?}"
            );
        }
    }
}

#[test]
fn configuration_md_documents_ncp_defaults_and_variables() {
    use otc_acme_hook::clouds::ncp::{self, credentials};
    let md = read("docs/configuration.md");
    for v in credentials::ENV_ACCESS
        .iter()
        .chain(&credentials::ENV_SECRET)
    {
        assert!(
            md.contains(&format!("| `{v}` |")),
            "docs/configuration.md has no row naming {v}"
        );
    }
    for url in [
        ncp::DNS_ENDPOINT_PUB,
        ncp::DNS_ENDPOINT_GOV,
        ncp::DEFAULT_METADATA_URL,
    ] {
        assert!(
            md.contains(&format!("`{url}`")),
            "docs/configuration.md lacks NCP's default {url}"
        );
    }
    assert!(md.contains(&format!("`{}`", ncp::DEFAULT_REGION)));
}

#[test]
fn configuration_md_cloud_profiles_match_the_code() {
    use otc_acme_hook::clouds::otc::config::profile;
    let md = read("docs/configuration.md");
    let otc = profile("otc", "REGION");
    let huawei = profile("huawei", "REGION");
    for url in [
        otc.dns,
        otc.iam,
        otc.cce,
        huawei.dns,
        huawei.iam,
        huawei.cce,
        profile("otc", "eu-ch2").iam,
    ] {
        assert!(
            md.contains(&format!("`{url}`")),
            "docs/configuration.md lacks the profile endpoint {url}"
        );
    }
    assert_eq!(
        profile("otc", "eu-nl").dns,
        profile("otc", "eu-de").dns,
        "the doc says OTC's DNS is eu-de for every region"
    );
}

#[test]
fn configuration_md_ovh_endpoints_match_the_code() {
    use otc_acme_hook::clouds::ovh::endpoints::{REGIONS, Region};
    let md = read("docs/configuration.md");
    for r in REGIONS {
        let r = Region::parse(r).unwrap();
        for url in [r.api_base(), r.token_url()] {
            assert!(
                md.contains(&format!("`{url}`")),
                "docs/configuration.md lacks the OVHcloud endpoint {url}"
            );
        }
    }
}

/// Flags of other programs that the docs mention, by program.
const OTHER_TOOLS_FLAGS: &[&str] = &[
    // certbot
    "manual",
    "preferred-challenges",
    "manual-auth-hook",
    "manual-cleanup-hook",
    "dry-run",
    "deploy-hook",
    "cert-name",
    "non-interactive",
    "agree-tos",
    "email",
    // lego
    "accept-tos",
    "dns",
    "domains",
    // acme.sh
    "issue",
    "dnssleep",
    "install-cronjob",
    "renew",
    // otc-sim serve
    "seed",
    "http",
    "latency-ms",
    // cargo and the package tools
    "release",
    "bins",
    "bin",
    "path",
    "locked",
    "no-build",
    "all-targets",
    "contents",
    "info",
    // systemd, man
    "now",
    "local-file",
];

#[test]
fn docs_name_only_real_flags_and_variables() {
    let longs = cli_longs();
    let envs = cli_envs();
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.push(Path::new(ROOT).join("README.md"));
    let mut wrong = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for flag in flags_in(&text) {
            if !longs.contains(&flag) && !OTHER_TOOLS_FLAGS.contains(&flag.as_str()) {
                wrong.push(format!("{name}: --{flag}"));
            }
        }
        for v in variables_in(&text) {
            if !envs.contains(&v)
                && !EXTRA_VARIABLES.iter().any(|(x, _)| *x == v)
                && !NEVER_READ.contains(&v.as_str())
            {
                wrong.push(format!("{name}: {v}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "flags or variables the hook doesn't have:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn readme_starts_with_the_two_commands_ci_runs() {
    let readme = read("README.md");
    let first_block: Vec<&str> = readme
        .split("```")
        .nth(1)
        .expect("README.md has a code block")
        .lines()
        .skip(1) // the info string
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        first_block,
        [
            "cargo build --release --bins && ./target/release/otc-sim demo",
            "scripts/test-all.sh",
        ],
        "README.md's first code block must be the two commands"
    );
    // Nothing but prose before it.
    let before = readme.split("```").next().unwrap();
    assert!(before.lines().count() < 15, "the two commands come first");
    let ci = read(".ci/run");
    assert!(
        ci.lines()
            .any(|l| l.trim() == "scripts/test-all.sh"
                || l.trim().starts_with("scripts/test-all.sh |")),
        ".ci/run runs the README's test command"
    );
}

/// Backticked `otc-acme-hook: …`, `FAIL  …` and `warn  …` lines in troubleshooting.md's headings.
fn quoted_lines(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with('#'))
        .flat_map(|l| {
            l.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|q| {
            q.starts_with("otc-acme-hook: ") || q.starts_with("FAIL  ") || q.starts_with("warn  ")
        })
        .collect()
}

#[test]
fn troubleshooting_headings_quote_lines_the_source_prints() {
    let md = read("docs/troubleshooting.md");
    let src = hook_source();
    let quoted = quoted_lines(&md);
    assert!(
        quoted.len() >= 20,
        "expected the error lines as headings, found {}",
        quoted.len()
    );
    let mut wrong = Vec::new();
    for q in &quoted {
        let rest = if let Some(r) = q.strip_prefix("otc-acme-hook: ") {
            // The step is a string literal of the source (Error::failed("auth", …), STEP = "auth").
            let (step, rest) = r.split_once(": ").unwrap_or((r, ""));
            let known = step == "warning"
                || src.contains(&format!("\"{step}\""))
                || src.contains(&format!("otc-acme-hook: {step}: "));
            if !known {
                wrong.push(format!("{q}: no step \"{step}\" in src/"));
            }
            rest
        } else {
            // check's lines: "FAIL  what: detail; fix: …"
            let r = &q[6..];
            r.split_once(": ").map(|(_, d)| d).unwrap_or(r)
        };
        // What lies between the placeholders (…) is literal text of a message; a
        // message made of parts ("listing zones: <the API error>") is joined by ": ".
        let edge = |c: char| c.is_whitespace() || matches!(c, ':' | ';' | ',');
        let fragments = rest.split('…').flat_map(|f| f.split(": "));
        for fragment in fragments
            .map(|f| f.trim_matches(edge))
            .filter(|f| f.len() > 2)
        {
            if !src.contains(fragment) {
                wrong.push(format!("{q}: {fragment:?} is not in src/"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/troubleshooting.md quotes lines the hook doesn't print:\n{}",
        wrong.join("\n")
    );
}

/// stderr of the binary with a clean environment plus `env`.
fn stderr_of(args: &[&str], env: &[(&str, &str)]) -> (String, i32) {
    let lock = std::env::temp_dir().join(format!("otc-docs-test-{}", std::process::id()));
    let mut c = Command::new(BIN);
    c.args(args).env_clear().env("OTC_LOCK_DIR", &lock);
    // Unreachable on purpose: none of these runs may get as far as the network.
    c.env(
        "OTC_METADATA_URL",
        "http://127.0.0.1:9/openstack/latest/securitykey",
    );
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let _ = std::fs::remove_dir_all(&lock);
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn troubleshooting_quotes_rejections_exactly_as_printed() {
    let md = read("docs/troubleshooting.md");
    /// Arguments; whether certbot's variables are set; more variables.
    type Case<'a> = (&'a [&'a str], bool, &'a [(&'a str, &'a str)]);
    let certbot = [
        ("CERTBOT_DOMAIN", "example.com"),
        ("CERTBOT_VALIDATION", "v"),
    ];
    let ovh_both = [
        ("OVH_CLIENT_ID", "cid"),
        ("OVH_CLIENT_SECRET", "cs"),
        ("OVH_APPLICATION_KEY", "ak"),
    ];
    let cases: [Case; 19] = [
        (&["--cloud", "ncp", "--token", "T", "auth"], true, &[]),
        (&["--cloud", "ncp", "--region", "fin", "auth"], true, &[]),
        (&["auth"], false, &[]),
        (&["--ttl", "100", "auth"], true, &[]),
        (&["auth"], true, &[("OS_ACCESS_KEY", "AK")]),
        (&["auth"], true, &[("OS_SECURITY_TOKEN", "T")]),
        (&["--deadline", "60", "auth"], true, &[]),
        (&["--agency-name", "dns-agency", "auth"], true, &[]),
        (&["--agency-domain-name", "partner", "auth"], true, &[]),
        (&["present", "_acme-challenge.example.com."], false, &[]),
        (
            &["--dns-endpoint", "http://dns.example.com", "auth"],
            true,
            &[],
        ),
        (&["--credentials", "file", "auth"], true, &[]),
        (
            &["auth"],
            true,
            &[("OTC_CONFIG", "/nonexistent/otc-acme-hook.conf")],
        ),
        // OVHcloud (flags by cloud, credential kinds, regions).
        (&["--cloud", "otc", "--client-id", "x", "auth"], true, &[]),
        (
            &[
                "--cloud",
                "otc",
                "--token-endpoint",
                "https://t.example/",
                "auth",
            ],
            true,
            &[],
        ),
        (&["--cloud", "ovh", "--agency-name", "a", "auth"], true, &[]),
        (&["--cloud", "ovh", "--sk", "x", "auth"], true, &[]),
        (&["--cloud", "ovh", "--region", "eu-de", "auth"], true, &[]),
        (&["--cloud", "ovh", "auth"], true, &ovh_both),
    ];
    for (args, with_certbot, extra) in cases {
        let mut env = extra.to_vec();
        if with_certbot {
            env.extend_from_slice(&certbot);
        }
        let (stderr, code) = stderr_of(args, &env);
        assert_eq!(code, 2, "{args:?}: a rejection exits 2: {stderr}");
        let line = stderr.lines().last().unwrap_or_default();
        assert!(line.starts_with("otc-acme-hook: "), "{args:?}: {stderr}");
        assert!(
            md.contains(line),
            "docs/troubleshooting.md should quote, verbatim, what `otc-acme-hook {}` prints:\n{line}",
            args.join(" ")
        );
    }
}

/// The packaged man page is `generate man`: one page, for the top level. It
/// names every shared option and every subcommand (the subcommands' own
/// options are in their --help and in docs/configuration.md).
#[test]
fn man_page_names_every_shared_option_and_subcommand() {
    let out = Command::new(BIN)
        .args(["generate", "man"])
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success());
    let man = String::from_utf8_lossy(&out.stdout).replace("\\-", "-");
    for d in cli_args().iter().filter(|d| d.path.is_empty()) {
        if let Some(long) = &d.long {
            assert!(
                man.contains(&format!("--{long}")),
                "the man page lacks --{long}"
            );
        }
    }
    for sub in Cli::command().get_subcommands() {
        assert!(
            man.contains(&format!("otc-acme-hook-{}", sub.get_name())),
            "the man page lacks {}",
            sub.get_name()
        );
    }
}

/// The text of `md` from the heading that starts with `heading` to the next
/// heading of the same or a higher level.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("no heading {heading:?}"))
        + 1;
    let level = heading.chars().take_while(|c| *c == '#').count();
    let rest = &md[start + heading.len()..];
    let end = rest
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| {
            let l = &rest[i..];
            let h = l.chars().take_while(|c| *c == '#').count();
            h > 0 && h <= level && l[h..].starts_with(' ')
        })
        .unwrap_or(rest.len());
    &md[start..start + heading.len() + end]
}

/// Issue 19's operator's path: the cloud is chosen in the config file (no
/// `--cloud` in a documented hook command), README and usage.md say how many
/// refreshes/applies each client causes, lego's sections say where the cloud
/// comes from, and docs/clouds.md (the unconfirmed behaviours) is linked.
#[test]
fn docs_choose_the_cloud_in_the_config_file_and_count_publishes() {
    let readme = read("README.md");
    let usage = read("docs/usage.md");
    let setup = read("docs/setup.md");
    for (name, text) in [
        ("README.md", &readme),
        ("docs/usage.md", &usage),
        ("docs/setup.md", &setup),
    ] {
        for l in text.lines() {
            assert!(
                !(l.contains("-hook '") && l.contains("--cloud")),
                "{name}: a hook command chooses the cloud: {l}"
            );
        }
    }
    for part in [
        section(&setup, "## OVHcloud"),
        section(&setup, "## NAVER Cloud"),
    ] {
        assert!(
            part.contains("generate config > /etc/otc-acme-hook/config")
                && part.contains("env -i /usr/bin/otc-acme-hook check"),
            "{part}"
        );
    }
    // Prose as read: no emphasis, one space between words.
    let flat = |t: &str| {
        t.replace("**", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (name, text) in [("README.md", &readme), ("docs/usage.md", &usage)] {
        for needle in [
            "one per zone per run",
            "one per name",
            "publishes every pending edit",
        ] {
            assert!(flat(text).contains(needle), "{name} lacks {needle:?}");
        }
    }
    for (name, text) in [("README.md", &readme), ("docs/usage.md", &usage)] {
        assert!(
            flat(section(text, "## lego")).contains("`OTC_CLOUD` in lego's environment"),
            "{name}: lego's section says where the cloud comes from"
        );
    }
    let clouds = read("docs/clouds.md");
    assert!(clouds.contains("what the hook does"));
    for (name, text) in [("README.md", &readme), ("docs/setup.md", &setup)] {
        assert!(text.contains("clouds.md"), "{name} links docs/clouds.md");
    }
}
