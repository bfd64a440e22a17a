//! Helpers shared by the targets (each target includes this file as a module).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Mutex;

use otc_acme_hook::api_error::{ApiError, ApiResult};
use otc_acme_hook::cloud_api::DnsApi;
use otc_acme_hook::http::Response;

/// A scripted API: the fuzz input split into answers, served in order.
///
/// Format (readable seeds): the first line is the name the flow works on,
/// then answers separated by lines holding `===`; each answer's first line is
/// its HTTP status (anything unparsable is 200), the rest its body. When the
/// script runs out, every further call gets a 503 with an empty body, so a
/// paging loop always ends.
pub struct Script {
    pub name: String,
    // Mutexes, not RefCells: the clients want a `Sync` sender.
    answers: Mutex<VecDeque<Response>>,
    pub calls: Mutex<Vec<String>>,
}

impl Script {
    pub fn new(data: &[u8]) -> Script {
        let text = String::from_utf8_lossy(data);
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let answers = rest
            .split("\n===\n")
            .filter(|a| !a.is_empty())
            .map(|a| {
                let (status, body) = a.split_once('\n').unwrap_or((a, ""));
                Response {
                    status: status.trim().parse().unwrap_or(200),
                    headers: vec![],
                    body: body.as_bytes().to_vec(),
                }
            })
            .collect();
        Script {
            name: first.trim().to_string(),
            answers: Mutex::new(answers),
            calls: Mutex::new(Vec::new()),
        }
    }

    pub fn answer(&self, method: &str, path: &str) -> ApiResult<Response> {
        self.calls.lock().unwrap().push(format!("{method} {path}"));
        Ok(self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Response {
                status: 503,
                headers: vec![],
                body: Vec::new(),
            }))
    }
}

/// An error the operator reads: one line, and not empty.
pub fn assert_one_line(what: &str, text: &str) {
    assert!(!text.trim().is_empty(), "{what}: empty message");
    assert!(
        !text.contains(['\n', '\r']),
        "{what}: message is not one line: {text:?}"
    );
}

pub fn check_api_error(what: &str, e: &ApiError) {
    assert_one_line(what, &e.to_string());
    if let Some(c) = e.code() {
        assert!(!c.contains(['\n', '\r']), "{what}: code {c:?}");
    }
}

/// The lines of `text` with the value of every `key = value` line whose key
/// (lower-cased) is in `keys` (any key when `keys` is empty) replaced by a
/// fixed one of the same emptiness (`R<line>`, with the value's control
/// characters, if any): what a
/// reader decides and says must not change, so no value is ever echoed.
/// `seps` are the key/value separators the reader accepts, first match wins.
pub fn values_replaced(text: &str, keys: &[&str], seps: &[char]) -> String {
    text.lines()
        .enumerate()
        .map(|(i, raw)| {
            let line = raw.trim();
            let split = seps.iter().find_map(|s| line.split_once(*s));
            let Some((k, v)) = split else {
                return raw.to_string();
            };
            let key = k.trim().to_ascii_lowercase();
            if line.starts_with(['#', ';', '['])
                || !(keys.is_empty() || keys.contains(&key.as_str()))
            {
                return raw.to_string();
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            if v.is_empty() {
                raw.to_string()
            } else {
                // Control characters are refused by name ("holds a control
                // character"): the replacement keeps them, inside the value.
                let ctl: String = v.chars().filter(|c| c.is_control()).collect();
                format!("{k}=R{ctl}{i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One hook's calls over a cloud's DNS client answering from a script: zones
/// holding `name`, then for (at most two of) them nameservers, a read of the
/// name, a write adding a value, a commit. Every error is one line; a read
/// gives the name asked, with one id per record.
pub fn drive_dns(dns: &dyn DnsApi, name: &str, ttl: u32) {
    let zones = match dns.zones_holding(name) {
        Ok(z) => z,
        Err(e) => return check_api_error("zones_holding", &e),
    };
    for zone in zones.iter().take(2) {
        if let Err(e) = dns.nameservers(zone) {
            check_api_error("nameservers", &e);
        }
        let names = [name.to_string()];
        let read = match dns.read(zone, &names) {
            Ok(r) => r,
            Err(e) => {
                check_api_error("read", &e);
                continue;
            }
        };
        assert_eq!(read.len(), 1, "one answer per name");
        let at = &read[0];
        assert_eq!(at.name, name);
        assert_eq!(at.ids.len(), at.records.len(), "one id per record");
        let mut after = at.records.clone();
        after.push("\"fuzz-token-value\"".into());
        match dns.write(zone, at, &after, ttl) {
            Ok(w) => assert_eq!(w.name, name),
            Err(e) => check_api_error("write", &e),
        }
        if let Err(e) = dns.commit(zone) {
            check_api_error("commit", &e);
        }
    }
}
