//! The binary's flow: `main_with` parses (config file, environment, flags),
//! validates into [`Options`] before any network call, dispatches the
//! subcommand and prints the one-line error.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, Generate};
use crate::error::Result;
use crate::flow::contracts::Challenge;
use crate::host_state::HostState;
use crate::options::Options;
use crate::propagation::net::NetDns;
use crate::report::{Level, Report};
use crate::wiring;
use crate::world::World;

/// Runs the binary: parses `args`, runs, prints the one-line error, returns the exit code.
pub fn main_with(args: Vec<std::ffi::OsString>, mut world: World) -> ExitCode {
    let fail = |e: crate::error::Error| {
        let _ = writeln!(std::io::stderr(), "otc-acme-hook: {e}");
        ExitCode::from(e.exit.code())
    };
    let cmd = Cli::command();
    let config = match crate::config::load(&args, &world.env, &cmd) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version still work with a broken file.
            return match cmd.try_get_matches_from(args) {
                Err(ce) if !ce.use_stderr() => clap_exit(&ce, None),
                _ => fail(e),
            };
        }
    };
    let from_file = crate::config::file_args(&cmd, &config.values, &world.env);
    let cmd = crate::config::apply(cmd, &config.values, &world.env);
    // Names read by hand (the aliases) see the file too; the environment wins.
    for (k, v) in &config.values {
        world.env.entry(k.clone()).or_insert_with(|| v.clone());
    }
    // A bad value from the file names the file: the operator didn't type it.
    let blame = |e: &clap::Error| {
        let arg = match e.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(a)) => a.clone(),
            _ => return None,
        };
        let (name, _) = from_file.iter().find(|(_, long)| {
            arg.strip_prefix(long.as_str())
                .is_some_and(|r| r.is_empty() || r.starts_with(' '))
        })?;
        let crate::config::Status::Read(path) = &config.status else {
            return None;
        };
        Some(format!("{name} is set in config file {}", path.display()))
    };
    let matches = match cmd.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_exit(&e, blame(&e)),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(&e, blame(&e)),
    };
    match run(cli, &matches, world, config.status) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Prints what clap has to say: --help and --version as clap writes them (exit 0),
/// and the help when no command is given; a usage error as our one stderr line (exit 2),
/// because a renewal log keeps one line per failure.
fn clap_exit(e: &clap::Error, note: Option<String>) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    use std::io::Write;
    let mut line = usage_line(&e.render().to_string());
    if let Some(note) = note {
        line = format!("{note}: {line}");
    }
    let _ = writeln!(std::io::stderr(), "otc-acme-hook: usage: {line}");
    ExitCode::from(2)
}

/// Folds clap's multi-line usage error into one line: the message and its details
/// (possible values, tips), then where to read more, taken from the `Usage:` line.
fn usage_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut command = None;
    let mut listing = false;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(usage) = line.strip_prefix("Usage:") {
            // `otc-acme-hook auth [OPTIONS]` -> `otc-acme-hook auth`
            let words: Vec<&str> = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            command = Some(words.join(" "));
        } else if !line.starts_with("For more information") {
            let line = line.strip_prefix("error:").unwrap_or(line).trim();
            // A heading ending in ':' takes the lines below it as a list.
            match parts.last_mut() {
                Some(last) if listing && !line.starts_with("tip:") => {
                    last.push_str(if last.ends_with(':') { " " } else { ", " });
                    last.push_str(line);
                }
                _ => {
                    listing = line.ends_with(':');
                    parts.push(line.to_string());
                }
            }
        }
    }
    // `[possible values: …]` belongs to the line above it.
    let mut out = parts.join("; ").replace("; [", " [");
    let command = command
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "otc-acme-hook".into());
    out.push_str(&format!("; see `{command} --help`"));
    out
}

/// Ends the process when the whole run takes longer than `deadline`: an
/// unattended renewal must never hang.
fn watchdog(deadline: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        eprintln!(
            "otc-acme-hook: deadline: the run took longer than {}s; raise --deadline, or look at the progress lines above",
            deadline.as_secs()
        );
        std::process::exit(1);
    });
}

/// certbot logs any stderr output of a hook as a warning ("ran with error
/// output"), stdout as a plain notice: under certbot (`CERTBOT_DOMAIN` set) a
/// successful hook keeps stderr empty and writes its info lines to stdout.
/// Only the hook commands, whose stdout carries nothing else; `-v` or a
/// terminal keep every line on stderr, as someone is watching.
fn info_on_stdout(hook_command: bool, world: &World, level: Level) -> bool {
    hook_command
        && world.env.contains_key("CERTBOT_DOMAIN")
        && !world.report_is_terminal
        && level < Level::Verbose
}

fn run(
    cli: Cli,
    matches: &ArgMatches,
    mut world: World,
    config: crate::config::Status,
) -> Result<()> {
    // Packagers generate docs in any environment: unrelated settings don't matter.
    if let Command::Generate(g) = &cli.command {
        return generate(&g.what, &cli.global.cloud, &mut world);
    }
    let mut opts = Options::from_cli(&cli.global, matches, &world.env)?;
    opts.config = config;
    let out = std::mem::replace(&mut world.report_out, Box::new(std::io::sink()));
    let hook_command = matches!(
        cli.command,
        Command::Auth | Command::Present(_) | Command::Cleanup(_)
    );
    let report = if info_on_stdout(hook_command, &world, opts.level) {
        let info = std::mem::replace(&mut world.stdout, Box::new(std::io::sink()));
        Arc::new(Report::split(opts.level, info, out))
    } else {
        Arc::new(Report::new(opts.level, out))
    };
    for w in &opts.warnings {
        report.warn(w);
    }
    report.verbose(format!("config file: {}", opts.config));
    let challenge = match &cli.command {
        Command::Auth => Some(Challenge::from_certbot_env(&world.env)?),
        Command::Cleanup(a) if a.args.is_empty() => Some(Challenge::from_certbot_env(&world.env)?),
        Command::Present(a) => Some(Challenge::from_lego_args(
            "present",
            &a.args,
            cli.global.any_name,
        )?),
        Command::Cleanup(a) => Some(Challenge::from_lego_args(
            "cleanup",
            &a.args,
            cli.global.any_name,
        )?),
        _ => None,
    };
    let mut challenge = challenge;
    let local = match &cli.command {
        Command::Auth | Command::Present(_) | Command::Cleanup(_) | Command::Check(_) => {
            let (dir, warning) =
                crate::host_state::state_dir(opts.lock_dir.as_deref(), &world.env)?;
            if let Some(w) = warning {
                report.warn(w);
            }
            if dir.per_process
                && let Some(c) = challenge.as_mut()
            {
                // The run's other hooks can't see this journal: no batching, each
                // hook writes and waits for its own value.
                c.remaining = None;
            }
            report.verbose(format!("state directory {}", dir.path.display()));
            let local = HostState {
                dir,
                endpoint: opts.dns_endpoint.origin(),
            };
            local.adopt_legacy(&world.env);
            Some(local)
        }
        _ => None,
    };
    watchdog(opts.deadline);
    match cli.command {
        Command::Auth => hook(Verb::CertbotAuth, challenge, &opts, &world, &report, local),
        Command::Present(_) => hook(Verb::Auth, challenge, &opts, &world, &report, local),
        Command::Cleanup(_) => hook(Verb::Cleanup, challenge, &opts, &world, &report, local),
        Command::Api(args) => crate::api_cmd::run(&args, &opts, &mut world, &report),
        Command::Check(args) => {
            crate::check::run(&args, &opts, &mut world, &report, local.as_ref())
        }
        Command::Generate(g) => generate(&g.what, &cli.global.cloud, &mut world),
    }
}

/// What a hook command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// certbot's auth hook: an early hook of a run defers its value.
    CertbotAuth,
    /// lego's `present` (and acme.sh's add).
    Auth,
    /// certbot's cleanup hook, lego's `cleanup`.
    Cleanup,
}

/// A hook command: the journal's shortcuts before any credential is
/// fetched, then the run engine; whatever was written and not yet published
/// (a cleanup, an early auth, a swept leftover) is published, even after a failure.
fn hook(
    verb: Verb,
    challenge: Option<Challenge>,
    opts: &Options,
    world: &World,
    report: &std::sync::Arc<Report>,
    local: Option<HostState>,
) -> Result<()> {
    let env = challenge.expect("set for the hook commands");
    let shortcut = match (verb, local.as_ref()) {
        (Verb::CertbotAuth, Some(l)) => crate::flow::run::defer_early(
            &env,
            l,
            world.clock.as_ref(),
            report,
            opts.mode.wait_once,
        )?,
        (Verb::Cleanup, Some(l)) => {
            crate::flow::run::removed_early(&env, l, report, opts.mode.wait_once)?
        }
        _ => false,
    };
    if shortcut {
        return Ok(());
    }
    let cloud = wiring::connect(opts, world, report)?;
    let dns = crate::cloud_api::ZoneCache::new(cloud.dns());
    let query = NetDns {
        timeout: crate::defaults::DNS_QUERY_TIMEOUT,
    };
    let flow = wiring::flow(opts, world, report, &dns, &query, local.as_ref());
    flow.hook.sweep();
    let (step, done) = match verb {
        Verb::Cleanup => ("cleanup", flow.cleanup(&env)),
        Verb::CertbotAuth | Verb::Auth => ("auth", flow.auth(&env)),
    };
    match (done, flow.hook.commit(step)) {
        (Err(e), Err(c)) => {
            report.warn(format!("{}: {}", c.step, c.cause));
            Err(e)
        }
        (done, committed) => done.and(committed),
    }
}

/// Man page, completions and lists, from this very clap definition (never hand-kept).
fn generate(what: &Generate, cloud: &str, world: &mut World) -> Result<()> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    match what {
        Generate::Config => buf = crate::config::template(&cmd, cloud).into_bytes(),
        Generate::AcmeShVars => {
            for (name, secret) in crate::clouds::variables_read(cloud, &cmd) {
                let kind = if crate::clouds::temporary_variables().contains(&name.as_str()) {
                    "temporary"
                } else if secret {
                    "secret"
                } else {
                    "setting"
                };
                buf.extend_from_slice(format!("{name} {kind}\n").as_bytes());
            }
        }
        Generate::Man { dir: None } => clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| crate::error::Error::failed("generate", e.to_string()))?,
        Generate::Man { dir: Some(dir) } => {
            return std::fs::create_dir_all(dir)
                .and_then(|_| clap_mangen::generate_to(cmd, dir))
                .map_err(|e| {
                    crate::error::Error::failed("generate", format!("{}: {e}", dir.display()))
                });
        }
        Generate::Completions { shell } => {
            use clap_complete::Shell;
            let sh = match shell.as_str() {
                "bash" => Shell::Bash,
                "zsh" => Shell::Zsh,
                "fish" => Shell::Fish,
                "elvish" => Shell::Elvish,
                _ => Shell::PowerShell,
            };
            clap_complete::generate(sh, &mut cmd, "otc-acme-hook", &mut buf);
        }
    }
    world
        .stdout
        .write_all(&buf)
        .map_err(|e| crate::error::Error::failed("generate", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn usage_error(args: &[&str]) -> String {
        let e = Cli::command()
            .try_get_matches_from(args)
            .expect_err("a usage error");
        usage_line(&e.render().to_string())
    }

    #[test]
    fn usage_errors_fold_into_one_line_naming_the_help() {
        let line = usage_error(&["otc-acme-hook", "auth", "--bogus"]);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("unexpected argument '--bogus' found"),
            "{line}"
        );
        assert!(line.ends_with("see `otc-acme-hook auth --help`"), "{line}");

        let line = usage_error(&["otc-acme-hook", "--cloud", "aws", "auth"]);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("'aws'"), "{line}");
        assert!(
            line.contains("[possible values: otc, huawei, ovh, ncp]"),
            "{line}"
        );

        let line = usage_error(&["otc-acme-hook", "api"]);
        assert!(
            line.starts_with("the following required arguments were not provided: <METHOD>, <URL>; see `otc-acme-hook api --help`"),
            "{line}"
        );

        let line = usage_error(&["otc-acme-hook", "auth", "--ttl", "soon"]);
        assert!(line.contains("--ttl <SECONDS>"), "{line}");
        assert!(!line.contains("error:"), "{line}");
    }

    #[test]
    fn info_lines_go_to_stdout_only_under_certbot_without_a_terminal_or_v() {
        let world = |certbot: bool, terminal: bool| {
            let mut w = World::real();
            w.env = HashMap::new();
            if certbot {
                w.env.insert("CERTBOT_DOMAIN".into(), "example.test".into());
            }
            w.report_is_terminal = terminal;
            w
        };
        assert!(info_on_stdout(true, &world(true, false), Level::Normal));
        assert!(info_on_stdout(true, &world(true, false), Level::Quiet));
        assert!(!info_on_stdout(true, &world(true, true), Level::Normal));
        assert!(!info_on_stdout(true, &world(true, false), Level::Verbose));
        assert!(!info_on_stdout(true, &world(false, false), Level::Normal));
        assert!(!info_on_stdout(false, &world(true, false), Level::Normal));
    }
}
