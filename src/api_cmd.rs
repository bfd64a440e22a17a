//! `otc-acme-hook api METHOD URL [BODY]`: a call to any API of the selected
//! cloud, authorized as its DNS calls are, with secret-looking fields redacted
//! from the printed answer.

use std::io::{Read, Write};

use serde_json::Value;

use crate::cli::ApiArgs;
use crate::error::{Error, Result};
use crate::http::Url;
use crate::options::Options;
use crate::report::Report;
use crate::wiring;
use crate::world::World;

pub use crate::redact::redact;

fn target(raw: &str, opts: &Options) -> Result<Url> {
    if raw.starts_with('/') {
        return Ok(opts.dns_endpoint.join(raw));
    }
    let u = Url::parse(raw).map_err(|e| Error::rejected("api", e))?;
    u.require_tls_unless_loopback("URL")
        .map_err(|e| Error::rejected("api", e))?;
    Ok(u)
}

fn body(arg: Option<&str>, stdin: &mut dyn Read) -> Result<Option<Vec<u8>>> {
    let raw = match arg {
        None => return Ok(None),
        Some("-") => {
            let mut buf = Vec::new();
            stdin.read_to_end(&mut buf).map_err(|e| {
                Error::rejected("api", format!("reading the body from standard input: {e}"))
            })?;
            buf
        }
        Some(a) if a.starts_with('@') => std::fs::read(&a[1..]).map_err(|e| {
            Error::rejected("api", format!("reading the body from {}: {e}", &a[1..]))
        })?,
        Some(a) => a.as_bytes().to_vec(),
    };
    // Re-encode compactly: the signed bytes are the sent bytes, and bad JSON fails before the network.
    let v: Value = serde_json::from_slice(&raw)
        .map_err(|e| Error::rejected("api", format!("the body is not valid JSON: {e}")))?;
    Ok(Some(serde_json::to_vec(&v).expect("a Value serialises")))
}

pub fn run(
    args: &ApiArgs,
    opts: &Options,
    world: &mut World,
    report: &std::sync::Arc<Report>,
) -> Result<()> {
    let method = args.method.to_ascii_uppercase();
    let url = target(&args.url, opts)?;
    let body = body(args.body.as_deref(), &mut world.stdin)?;
    let cloud = wiring::connect(opts, world, report)?;
    let resp = cloud.send(&method, &url, body.as_deref()).map_err(|e| {
        Error::failed("api", format!("{method} {}{}: {e}", url.origin(), url.path))
            .hint_opt(e.hint())
    })?;
    report.verbose(format!("HTTP {}", resp.status));
    if !(200..300).contains(&resp.status) {
        let e = cloud.error_of(&resp);
        return Err(Error::failed("api", format!("{method} {}: {e}", url.path)).hint_opt(e.hint()));
    }
    let out = match serde_json::from_slice::<Value>(&resp.body) {
        Ok(mut v) => {
            // Secret-named fields and echoed credential headers, then any held value.
            if !args.show_secrets {
                redact(&mut v);
                crate::redact::scrub_json(&mut v, &crate::redact::held());
            }
            let mut s = serde_json::to_string_pretty(&v).expect("a Value serialises");
            s.push('\n');
            s.into_bytes()
        }
        // Not JSON: shown as text, with the server's control characters escaped
        // and, unless asked otherwise, `Authorization: …` and held values masked.
        Err(_) => String::from_utf8_lossy(&resp.body)
            .split('\n')
            .map(|l| match args.show_secrets {
                true => crate::redact::escape_controls(l),
                false => crate::redact::escape_controls(&crate::redact::scrub_server_text(l)),
            })
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
    };
    world
        .stdout
        .write_all(&out)
        .and_then(|_| world.stdout.flush())
        .map_err(|e| Error::failed("api", format!("writing the answer: {e}")))
}
