//! Global DNS v1 (`/dns/v1/...`) behind the gateway, and the model's entry
//! points: [`NcpState::answer`] for the core, [`NcpState::handle`] for
//! in-process use (the product's NCP tests). Pure over the request and the
//! simulated time.

use serde_json::{Value, json};

use super::auth::{CREDENTIALS_PATH, TOKEN_PATH};
use super::state::{Applied, NcpState, Pending, Record, quote_txt};
use crate::core::http::{Handled, Req, Resp};

/// Global DNS's and the gateway's JSON type.
const JSON: &str = "application/json;charset=UTF-8";
/// Where the DNS API lives on the simulator's port (the real gateway's prefix).
pub const DNS_PREFIX: &str = "/dns/v1";
/// Largest page `size` accepted.
pub const MAX_PAGE_SIZE: usize = 1000;

/// One request as received, for in-process use of [`NcpState::handle`]
/// (the product's NCP tests drive the model through it, without sockets);
/// the simulator itself hands the model the core's `Req`.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// As on the request line (still percent-encoded).
    pub path: &'a str,
    /// As on the request line, without `?`; empty when none.
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// [`NcpState::handle`]'s answer: the core's `Handled` flattened, with its
/// `Content-Type` and `Date` headers.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The key the request was signed with (metadata: the key it issued).
    pub access_key: Option<String>,
    /// The error code answered, if any.
    pub code: Option<String>,
    /// A temporary key handed out.
    pub issued: Option<String>,
}

/// JSON as Global DNS and the gateway send it.
pub(crate) fn json_answer(status: u16, body: Value) -> Handled {
    Handled::new(Resp {
        content_type: JSON,
        ..Resp::json(status, &body)
    })
}

pub(crate) fn text_answer(status: u16, text: &str) -> Handled {
    Handled::new(Resp::text(status, "text/plain", text))
}

/// The gateway's own refusal.
pub(crate) fn gateway(status: u16, code: &str, message: &str, details: &str) -> Handled {
    let mut a = json_answer(
        status,
        json!({"error": {"errorCode": code, "message": message, "details": details}}),
    );
    a.code = Some(code.into());
    a
}

/// Global DNS's refusal.
pub(crate) fn fail(status: u16, code: &str, message: &str) -> Handled {
    let mut a = json_answer(
        status,
        json!({"result": "FAIL", "error": {"errorCode": code, "message": message,
                                            "devMessage": message}}),
    );
    a.code = Some(code.into());
    a
}

impl NcpState {
    /// Answers one request at simulated time `now_ms` (ms since the Unix
    /// epoch); `None` when the path is not NCP's. Every answer has a `Date`.
    pub fn handle(&mut self, req: &Request<'_>, now_ms: i64) -> Option<Answer> {
        let target = if req.query.is_empty() {
            req.path.to_string()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let r = Req::new(req.method, &target, req.headers.to_vec(), req.body.to_vec());
        let h = self.answer(&r, now_ms)?;
        let mut headers = Vec::new();
        if !h.resp.content_type.is_empty() {
            headers.push(("Content-Type".to_string(), h.resp.content_type.to_string()));
        }
        headers.extend(h.resp.headers);
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms.max(0) as u64);
        headers.push(("Date".into(), httpdate::fmt_http_date(t)));
        Some(Answer {
            status: h.resp.status,
            headers,
            body: h.resp.body,
            access_key: h.access_key,
            code: h.code,
            issued: h.issued,
        })
    }

    /// Answers one request of the core at simulated time `now_ms` (ms since
    /// the Unix epoch); `None` when the path is not NCP's. The core adds `Date`.
    pub(crate) fn answer(&mut self, req: &Req, now_ms: i64) -> Option<Handled> {
        if req.raw_path == TOKEN_PATH
            || req.raw_path == CREDENTIALS_PATH
            || req.raw_path.starts_with(&format!("{CREDENTIALS_PATH}/"))
        {
            Some(self.metadata(req, now_ms))
        } else if req.raw_path.starts_with(&format!("{DNS_PREFIX}/")) {
            Some(self.dns(req, now_ms))
        } else {
            None
        }
    }

    fn dns(&mut self, req: &Req, now_ms: i64) -> Handled {
        let ak = match self.authenticate(req, now_ms) {
            Ok(ak) => ak,
            Err(a) => return *a,
        };
        let mut a = self.dns_call(req, now_ms);
        a.access_key = Some(ak);
        a
    }

    fn domain_index(&self, id: &str) -> Option<usize> {
        let id: u64 = id.parse().ok()?;
        self.domains.iter().position(|d| d.id == id)
    }

    fn dns_call(&mut self, req: &Req, now_ms: i64) -> Handled {
        let rest = &req.raw_path[DNS_PREFIX.len()..];
        let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["ncpdns", "domain"]) => {
                let filter = req.param("domainName");
                let items: Vec<Value> = self
                    .domains
                    .iter()
                    // Over-matches like the real filter may: a substring.
                    .filter(|d| {
                        filter
                            .as_deref()
                            .is_none_or(|f| d.name.contains(&f.to_ascii_lowercase()))
                    })
                    .map(|d| {
                        json!({"id": d.id, "name": d.name, "completeYn": true,
                                    "dnssecYn": false, "status": "SUCCESS"})
                    })
                    .collect();
                page(items, req)
            }
            ("GET", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let d = &self.domains[i];
                let rtype = req.param("recordType").map(|t| t.to_ascii_uppercase());
                let search = req.param("searchContent").map(|s| s.to_ascii_lowercase());
                let items: Vec<Value> = d
                    .records
                    .iter()
                    .filter(|r| rtype.as_deref().is_none_or(|t| r.rtype == t))
                    // A partial, case-insensitive match on the record's name, as
                    // the docs describe the search ("by record name"): the apex's
                    // name is the domain's, so `@` matches nothing.
                    .filter(|r| {
                        search
                            .as_deref()
                            .is_none_or(|s| record_name(&d.name, &r.host).contains(s))
                    })
                    .map(|r| {
                        json!({"id": r.id, "name": d.name, "host": r.host, "type": r.rtype,
                                    "content": r.content, "ttl": r.ttl, "aliasId": null,
                                    "aliasYn": false, "lbId": null, "lbYn": false,
                                    "lbRegionCode": null, "delYn": false})
                    })
                    .collect();
                page(items, req)
            }
            ("POST", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let Ok(items) = serde_json::from_slice::<Vec<Value>>(&req.body) else {
                    return fail(400, "X00001", "the body must be a JSON array of records");
                };
                let mut new = Vec::new();
                for item in &items {
                    let (Some(host), Some(rtype), Some(content), Some(ttl)) = (
                        item["host"].as_str(),
                        item["type"].as_str(),
                        item["content"].as_str(),
                        item["ttl"].as_u64(),
                    ) else {
                        return fail(400, "X00001", "host, type, content and ttl are required");
                    };
                    let rtype = rtype.to_ascii_uppercase();
                    let content = if rtype == "TXT" {
                        quote_txt(content)
                    } else {
                        content.to_string()
                    };
                    let host = if host.is_empty() { "@" } else { host };
                    let dup = self.domains[i]
                        .records
                        .iter()
                        .chain(new.iter())
                        .any(|r: &Record| {
                            r.host.eq_ignore_ascii_case(host)
                                && r.rtype == rtype
                                && r.content == content
                        });
                    if dup {
                        return fail(400, "X00011", "Duplicate record exists.");
                    }
                    new.push(Record {
                        id: 0,
                        host: host.to_string(),
                        rtype,
                        content,
                        ttl: ttl.min(u64::from(u32::MAX)) as u32,
                    });
                }
                for mut r in new {
                    r.id = self.new_id();
                    let d = &mut self.domains[i];
                    d.pending.push(Pending::Added(r.id));
                    d.records.push(r);
                }
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            ("DELETE", ["ncpdns", "record", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let Ok(ids) = serde_json::from_slice::<Vec<u64>>(&req.body) else {
                    return fail(400, "X00001", "the body must be a JSON array of record ids");
                };
                let d = &mut self.domains[i];
                if let Some(missing) = ids
                    .iter()
                    .find(|id| !d.records.iter().any(|r| r.id == **id))
                {
                    return fail(400, "X00010", &format!("record {missing} not found"));
                }
                let (gone, kept): (Vec<Record>, Vec<Record>) =
                    d.records.drain(..).partition(|r| ids.contains(&r.id));
                d.records = kept;
                for r in gone {
                    if let Some(p) = d.pending.iter().position(|p| *p == Pending::Added(r.id)) {
                        d.pending.remove(p);
                    } else {
                        d.pending.push(Pending::Deleted(r));
                    }
                }
                // The docs show no success body for this call: none is sent.
                Handled::new(Resp {
                    status: 200,
                    content_type: "",
                    headers: Vec::new(),
                    body: Vec::new(),
                })
            }
            ("PUT", ["ncpdns", "record", "apply", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let refuse = self.refuse_empty_apply;
                let d = &mut self.domains[i];
                if refuse && d.pending.is_empty() {
                    return fail(400, "X00006", "There are no changes to apply.");
                }
                d.pending.clear();
                d.published = d.records.clone();
                self.applies.push(Applied {
                    domain: d.name.clone(),
                    t_ms: now_ms,
                    records: d.published.clone(),
                });
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            ("PUT", ["ncpdns", "record", "rollback", id]) => {
                let Some(i) = self.domain_index(id) else {
                    return fail(404, "X00002", "domain not found");
                };
                let d = &mut self.domains[i];
                // Every pending edit of the zone is discarded, whoever made it.
                for p in std::mem::take(&mut d.pending).into_iter().rev() {
                    match p {
                        Pending::Added(id) => d.records.retain(|r| r.id != id),
                        Pending::Deleted(r) => d.records.push(r),
                    }
                }
                d.records.sort_by_key(|r| r.id);
                self.rollbacks.push((d.name.clone(), now_ms));
                json_answer(200, json!({"result": "SUCCESS"}))
            }
            _ => gateway(404, "300", "Not Found", "No such API."),
        }
    }
}

/// A record's name as the search sees it: `host.domain`, the domain for `@`.
pub(crate) fn record_name(domain: &str, host: &str) -> String {
    if host == "@" || host.is_empty() {
        domain.to_string()
    } else {
        format!("{}.{domain}", host.to_ascii_lowercase())
    }
}

/// A Spring page of `items` as asked by `page` (from 0) and `size` (required).
pub(crate) fn page(items: Vec<Value>, req: &Req) -> Handled {
    let (Some(page), Some(size)) = (
        req.param("page").and_then(|p| p.parse::<usize>().ok()),
        req.param("size").and_then(|s| s.parse::<usize>().ok()),
    ) else {
        return fail(400, "X00001", "page and size are required");
    };
    if size == 0 || size > MAX_PAGE_SIZE {
        return fail(400, "X00001", "size must be 1..1000");
    }
    let total = items.len();
    let pages = total.div_ceil(size);
    let content: Vec<Value> = items.into_iter().skip(page * size).take(size).collect();
    json_answer(
        200,
        json!({"content": content, "pageable": {"pageNumber": page, "pageSize": size},
               "last": page + 1 >= pages, "totalElements": total, "totalPages": pages,
               "first": page == 0, "size": size, "number": page,
               "numberOfElements": content.len(), "empty": content.is_empty()}),
    )
}

#[cfg(test)]
mod tests;
