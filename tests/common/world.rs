//! One typed view of any cloud's simulator: zones → names → TXT values held
//! by the API and served by the authoritative DNS, commits (OVH's zone
//! refresh, NCP's apply; OTC has none) and the request log. The three
//! clouds' `GET /_sim/state` documents differ (OTC `zones[].recordsets`,
//! OVH `ovh.zones[].records` with `subDomain`/`target`, NCP
//! `domains[].records` with `host`/`content`); the `dns` view and the log
//! are the core's and the same for all.

use std::collections::BTreeMap;

use otc_sim::Sim;
use serde_json::Value;

use super::cloud::Cloud;

/// What one name holds and serves (TXT values, quotes taken off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name {
    /// The API's view (OTC: sets not on their way out, `PENDING_DELETE`).
    pub held: Vec<String>,
    /// [`Name::held`] as the API stores it (TXT quotes kept).
    pub raw: Vec<String>,
    /// The TTL of the first TXT record (OTC: of the set) held at the name.
    pub ttl: Option<u64>,
    /// What the authoritative DNS serves now.
    pub served: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Zone {
    /// Lower case, dot-terminated: `example.test.`.
    pub name: String,
    /// The cloud's id (OTC's zone id, OVH's zone name, NCP's domain id): what
    /// the journal's third column holds.
    pub id: String,
    /// An OTC private zone (never served).
    pub private: bool,
    /// Owner names, dot-terminated, to what they hold and serve.
    pub names: BTreeMap<String, Name>,
    /// Edits the API holds that DNS does not serve yet: OTC sets not
    /// `ACTIVE`, OVH edits since the last refresh, NCP edits not applied.
    pub pending: u64,
}

/// One request of the simulator's log.
#[derive(Debug, Clone)]
pub struct Call {
    /// When it arrived, ms since the Unix epoch.
    pub t_ms: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    /// 0 when the connection closed without an answer.
    pub status: u64,
    /// The access key (OTC, NCP) or client id (OVH) it carried.
    pub access_key: Option<String>,
    pub auth: Option<String>,
    /// The fault the simulator injected into it (`429`, `status`…).
    pub fault: Option<String>,
    /// The temporary key it issued (metadata, IAM).
    pub issued: Option<String>,
}

/// The state of one simulator at one moment, read the same way for every cloud.
#[derive(Debug, Clone)]
pub struct World {
    pub cloud: Cloud,
    pub zones: Vec<Zone>,
    pub calls: Vec<Call>,
}

/// `name` lower case and dot-terminated.
pub fn fqdn(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n.ends_with('.') { n } else { format!("{n}.") }
}

fn unquote(v: &str) -> String {
    v.trim_matches('"').to_string()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn id(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        other => other.to_string(),
    }
}

impl World {
    /// Reads `sim`'s state and log now.
    pub fn of(cloud: Cloud, sim: &Sim) -> World {
        World::parse(cloud, &sim.state_json(), &sim.log_json())
    }

    /// Parses a state document (`Sim::state_json`) and a log (`Sim::log_json`).
    pub fn parse(cloud: Cloud, state: &Value, log: &Value) -> World {
        let mut zones = match cloud {
            Cloud::Otc => otc_zones(state),
            Cloud::Ovh => ovh_zones(state),
            Cloud::Ncp => ncp_zones(state),
        };
        for dz in state["dns"].as_array().into_iter().flatten() {
            let zname = fqdn(dz["zone"].as_str().unwrap_or(""));
            let Some(z) = zones.iter_mut().find(|z| z.name == zname && !z.private) else {
                continue;
            };
            for r in dz["rrsets"].as_array().into_iter().flatten() {
                if r["type"] != "TXT" {
                    continue;
                }
                let n = z.names.entry(fqdn(&s(&r["name"]))).or_default();
                n.served.extend(
                    r["records"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| unquote(v.as_str().unwrap_or(""))),
                );
            }
        }
        for z in &mut zones {
            for n in z.names.values_mut() {
                n.held.sort();
                n.raw.sort();
                n.served.sort();
            }
        }
        let calls = log["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| Call {
                t_ms: r["t_ms"].as_i64().unwrap_or(0),
                method: s(&r["method"]),
                path: s(&r["path"]),
                query: s(&r["query"]),
                status: r["status"].as_u64().unwrap_or(0),
                access_key: r["access_key"].as_str().map(str::to_string),
                auth: r["auth"].as_str().map(str::to_string),
                fault: r["fault"].as_str().map(str::to_string),
                issued: r["issued"].as_str().map(str::to_string),
            })
            .collect();
        World {
            cloud,
            zones,
            calls,
        }
    }

    /// The public zone `name` (with or without the final dot), which must exist.
    pub fn zone(&self, name: &str) -> &Zone {
        let n = fqdn(name);
        self.zones
            .iter()
            .find(|z| z.name == n && !z.private)
            .unwrap_or_else(|| panic!("no public zone {n} in {:?}", self.zones))
    }

    /// What `name` holds and serves in the public zone it lies in (empty if no
    /// zone holds it).
    pub fn name(&self, name: &str) -> Name {
        let n = fqdn(name);
        self.zones
            .iter()
            .filter(|z| !z.private)
            .find_map(|z| z.names.get(&n).cloned())
            .unwrap_or_default()
    }

    /// The TXT values the API holds at `name` (sorted).
    pub fn held(&self, name: &str) -> Vec<String> {
        self.name(name).held
    }

    /// The TXT values DNS serves at `name` (sorted).
    pub fn served(&self, name: &str) -> Vec<String> {
        self.name(name).served
    }

    /// Whether any public zone holds or serves TXT value `v` anywhere.
    pub fn anywhere(&self, v: &str) -> bool {
        self.zones.iter().filter(|z| !z.private).any(|z| {
            z.names
                .values()
                .any(|n| n.held.iter().chain(&n.served).any(|x| x == v))
        })
    }

    /// Calls to the cloud's DNS API (not metadata, token or IAM).
    pub fn dns_calls(&self) -> Vec<&Call> {
        let prefix = self.cloud.dns_path();
        self.calls
            .iter()
            .filter(|c| c.path.starts_with(prefix))
            .collect()
    }

    /// Calls whose method is `method` and whose path contains `part`.
    pub fn count(&self, method: &str, part: &str) -> usize {
        self.calls
            .iter()
            .filter(|c| c.method == method && c.path.contains(part))
            .count()
    }

    /// Calls answered `status`.
    pub fn answered(&self, status: u64) -> usize {
        self.calls.iter().filter(|c| c.status == status).count()
    }

    /// The zone a commit call commits (OVH: `POST …/zone/Z/refresh`; NCP:
    /// `PUT …/record/apply/ID`); `None` for any other call.
    fn committed_zone(&self, c: &Call) -> Option<String> {
        match self.cloud {
            Cloud::Otc => None,
            Cloud::Ovh => {
                let z = c
                    .path
                    .strip_prefix("/1.0/domain/zone/")?
                    .strip_suffix("/refresh")?;
                (c.method == "POST").then(|| fqdn(z))
            }
            Cloud::Ncp => {
                let i = c.path.strip_prefix("/dns/v1/ncpdns/record/apply/")?;
                let z = self.zones.iter().find(|z| z.id == i)?;
                (c.method == "PUT").then(|| z.name.clone())
            }
        }
    }

    /// Commits per zone, in the order of each zone's first commit. OTC has
    /// none: its writes are served once the set turns `ACTIVE`.
    pub fn commits(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for z in self.calls.iter().filter_map(|c| self.committed_zone(c)) {
            match out.iter_mut().find(|(n, _)| *n == z) {
                Some((_, k)) => *k += 1,
                None => out.push((z, 1)),
            }
        }
        out
    }

    /// Commits of zone `name`.
    pub fn commits_of(&self, name: &str) -> usize {
        let n = fqdn(name);
        self.commits()
            .into_iter()
            .find(|(z, _)| *z == n)
            .map_or(0, |(_, k)| k)
    }

    /// Calls that change records (a commit is not one): OTC's POST, PUT or
    /// DELETE of recordsets, OVH's POST or DELETE of a record, NCP's POST or
    /// DELETE of a domain's records.
    pub fn writes(&self) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| {
                let m = c.method.as_str();
                match self.cloud {
                    Cloud::Otc => {
                        matches!(m, "POST" | "PUT" | "DELETE") && c.path.contains("/recordsets")
                    }
                    Cloud::Ovh => {
                        (m == "POST" && c.path.ends_with("/record"))
                            || (m == "DELETE" && c.path.contains("/record/"))
                    }
                    Cloud::Ncp => {
                        matches!(m, "POST" | "DELETE")
                            && c.path.starts_with("/dns/v1/ncpdns/record/")
                            && !c.path.contains("/apply/")
                            && !c.path.contains("/rollback/")
                    }
                }
            })
            .collect()
    }

    /// Writes that add values (OTC: POST or PUT; the others: POST).
    pub fn adds(&self) -> usize {
        self.writes()
            .iter()
            .filter(|c| c.method != "DELETE")
            .count()
    }

    /// Writes that remove values (OTC: a PUT that shrinks a set is counted
    /// by [`World::adds`]; only DELETEs here).
    pub fn removes(&self) -> usize {
        self.writes()
            .iter()
            .filter(|c| c.method == "DELETE")
            .count()
    }
}

fn otc_zones(state: &Value) -> Vec<Zone> {
    state["zones"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|z| {
            let mut names: BTreeMap<String, Name> = BTreeMap::new();
            let mut pending = 0;
            for r in z["recordsets"].as_array().into_iter().flatten() {
                let status = r["status"].as_str().unwrap_or("ACTIVE");
                if status != "ACTIVE" {
                    pending += 1;
                }
                if r["type"] != "TXT" || status == "PENDING_DELETE" {
                    continue;
                }
                let n = names.entry(fqdn(&s(&r["name"]))).or_default();
                n.ttl = n.ttl.or(r["ttl"].as_u64());
                for v in r["records"].as_array().into_iter().flatten() {
                    n.held.push(unquote(v.as_str().unwrap_or("")));
                    n.raw.push(s(v));
                }
            }
            Zone {
                name: fqdn(&s(&z["name"])),
                id: s(&z["id"]),
                private: z["zone_type"] == "private",
                names,
                pending,
            }
        })
        .collect()
}

fn ovh_zones(state: &Value) -> Vec<Zone> {
    state["ovh"]["zones"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|z| {
            let zone = s(&z["name"]);
            let mut names: BTreeMap<String, Name> = BTreeMap::new();
            for r in z["records"].as_array().into_iter().flatten() {
                if r["fieldType"] != "TXT" {
                    continue;
                }
                let sub = r["subDomain"].as_str().unwrap_or("");
                let owner = if sub.is_empty() {
                    fqdn(&zone)
                } else {
                    fqdn(&format!("{sub}.{zone}"))
                };
                let n = names.entry(owner).or_default();
                n.ttl = n.ttl.or(r["ttl"].as_u64());
                n.held.push(unquote(&s(&r["target"])));
                n.raw.push(s(&r["target"]));
            }
            Zone {
                name: fqdn(&zone),
                id: zone.trim_end_matches('.').to_string(),
                private: false,
                names,
                pending: z["unpublished_edits"].as_u64().unwrap_or(0),
            }
        })
        .collect()
}

fn ncp_zones(state: &Value) -> Vec<Zone> {
    state["domains"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let zone = s(&d["name"]);
            let mut names: BTreeMap<String, Name> = BTreeMap::new();
            for r in d["records"].as_array().into_iter().flatten() {
                if r["type"] != "TXT" {
                    continue;
                }
                let host = r["host"].as_str().unwrap_or("@");
                let owner = if host == "@" || host.is_empty() {
                    fqdn(&zone)
                } else {
                    fqdn(&format!("{host}.{zone}"))
                };
                let n = names.entry(owner).or_default();
                n.ttl = n.ttl.or(r["ttl"].as_u64());
                n.held.push(unquote(&s(&r["content"])));
                n.raw.push(s(&r["content"]));
            }
            Zone {
                name: fqdn(&zone),
                id: id(&d["id"]),
                private: false,
                names,
                pending: d["pending"].as_u64().unwrap_or(0),
            }
        })
        .collect()
}
