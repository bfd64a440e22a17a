//! The DNS v2 API (`/v2/...`): routing, signature check, JSON shapes.
//! Shapes follow OTC's API reference (otc-api.md §2).

use serde_json::{Value, json};

use super::Otc;
use super::auth;
use super::state::{ApiError, Page, RecordSet, Zone, paginate};
use crate::core::cloud::Ctx;
use crate::core::http::{Req, Resp};
use crate::core::seed::ZoneType;

enum Route {
    ListZones,
    GetZone(String),
    Nameservers(String),
    ListRecordsets(String),
    CreateRecordset(String),
    GetRecordset(String, String),
    UpdateRecordset(String, String),
    DeleteRecordset(String, String),
}

fn route(method: &str, segments: &[String]) -> Option<Route> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let r = match (method, s.as_slice()) {
        ("GET", ["v2", "zones"]) => Route::ListZones,
        ("GET", ["v2", "zones", z]) => Route::GetZone(z.to_string()),
        ("GET", ["v2", "zones", z, "nameservers"]) => Route::Nameservers(z.to_string()),
        ("GET", ["v2", "zones", z, "recordsets"]) => Route::ListRecordsets(z.to_string()),
        ("POST", ["v2", "zones", z, "recordsets"]) => Route::CreateRecordset(z.to_string()),
        ("GET", ["v2", "zones", z, "recordsets", r]) => {
            Route::GetRecordset(z.to_string(), r.to_string())
        }
        ("PUT", ["v2", "zones", z, "recordsets", r]) => {
            Route::UpdateRecordset(z.to_string(), r.to_string())
        }
        ("DELETE", ["v2", "zones", z, "recordsets", r]) => {
            Route::DeleteRecordset(z.to_string(), r.to_string())
        }
        _ => return None,
    };
    Some(r)
}

/// The gateway's answer for a path it does not know (checked before auth, as APIG does).
pub(crate) fn no_such_api() -> Resp {
    Resp::json(
        404,
        &json!({"code": "APIG.0101", "message": "The API does not exist"}),
    )
}

fn error(e: ApiError) -> Resp {
    Resp::json(e.status, &json!({"code": e.code, "message": e.message}))
}

/// Serves one `/v2/` request; returns the answer and the access key it was signed with.
pub(crate) fn handle(world: &mut Otc, ctx: &Ctx<'_>, req: &Req) -> (Resp, Option<String>) {
    let (now, base_url) = (ctx.now, ctx.base_url);
    let Some(route) = route(&req.method, &req.segments()) else {
        return (no_such_api(), None);
    };
    let ak = match world
        .creds
        .authenticate(&auth::parts(req), now, world.config.ak_lockout)
    {
        Ok(ak) => ak,
        Err(f) => {
            let body = json!({"error_code": f.code, "error_msg": f.message});
            return (Resp::json(401, &body), f.access);
        }
    };
    let result = match route {
        Route::ListZones => list_zones(world, req, base_url),
        Route::GetZone(z) => world
            .store
            .zone(&z)
            .map(|zone| Resp::json(200, &zone_json(zone, base_url))),
        Route::Nameservers(z) => world.store.zone(&z).map(|_| {
            let ns: Vec<Value> = ctx
                .nameservers
                .iter()
                .enumerate()
                .map(|(i, h)| json!({"hostname": h, "priority": i + 1}))
                .collect();
            Resp::json(200, &json!({"nameservers": ns}))
        }),
        Route::ListRecordsets(z) => list_recordsets(world, req, base_url, &z),
        Route::CreateRecordset(z) => {
            let delays = world.delays(ctx.propagation_ms);
            world
                .store
                .create_recordset(&z, &req.body, now, delays)
                .and_then(|rs| recordset_response(world, &z, &rs, base_url))
        }
        Route::GetRecordset(z, r) => world
            .store
            .recordset(&z, &r)
            .cloned()
            .and_then(|rs| recordset_response(world, &z, &rs, base_url))
            .map(|resp| Resp {
                status: 200,
                ..resp
            }),
        Route::UpdateRecordset(z, r) => {
            let delays = world.delays(ctx.propagation_ms);
            world
                .store
                .update_recordset(&z, &r, &req.body, now, delays)
                .and_then(|rs| recordset_response(world, &z, &rs, base_url))
        }
        Route::DeleteRecordset(z, r) => {
            let delays = world.delays(ctx.propagation_ms);
            world
                .store
                .delete_recordset(&z, &r, now, delays)
                .and_then(|rs| recordset_response(world, &z, &rs, base_url))
        }
    };
    (result.unwrap_or_else(error), Some(ak))
}

/// 202 with the record set (the status of create, update and delete).
fn recordset_response(
    world: &Otc,
    zone_id: &str,
    rs: &RecordSet,
    base_url: &str,
) -> Result<Resp, ApiError> {
    let zone = world.store.zone(zone_id)?;
    Ok(Resp::json(202, &recordset_json(zone, rs, base_url)))
}

fn page_limit(req: &Req, page_size: usize) -> Result<usize, ApiError> {
    match req.param("limit").as_deref() {
        None | Some("") => Ok(page_size),
        Some(text) => match text.parse::<usize>() {
            Ok(0) => Ok(page_size),
            Ok(n) => Ok(n.min(page_size)),
            Err(_) => Err(ApiError {
                status: 400,
                code: "DNS.0308",
                message: format!("limit '{text}' is not a number between 0 and 500"),
            }),
        },
    }
}

/// `links` of a page: `self` as requested, `next` with the same query and the new marker.
fn links(req: &Req, base_url: &str, next_marker: Option<&str>) -> Value {
    let path = format!("{base_url}{}", req.raw_path);
    let this = if req.raw_query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{}", req.raw_query)
    };
    let mut links = json!({"self": this});
    if let Some(marker) = next_marker {
        let mut query: Vec<String> = auth::query_pairs(&req.raw_query)
            .into_iter()
            .filter(|(k, _)| k != b"marker")
            .map(|(k, v)| format!("{}={}", auth::encode(&k), auth::encode(&v)))
            .collect();
        query.push(format!("marker={}", auth::encode(marker.as_bytes())));
        links["next"] = json!(format!("{path}?{}", query.join("&")));
    }
    links
}

fn list_zones(world: &Otc, req: &Req, base_url: &str) -> Result<Resp, ApiError> {
    let zone_type = match req.param("type").as_deref() {
        None | Some("") | Some("public") => ZoneType::Public,
        Some("private") => ZoneType::Private,
        Some(other) => {
            return Err(ApiError {
                status: 400,
                code: "DNS.0308",
                message: format!("type '{other}' must be public or private"),
            });
        }
    };
    let limit = page_limit(req, world.config.page_size)?;
    let name = req.param("name");
    let matches = world.store.list_zones(zone_type, name.as_deref());
    let marker = req.param("marker");
    let page: Page<&Zone> = paginate(matches, |z| z.id.as_str(), marker.as_deref(), limit);
    Ok(Resp::json(
        200,
        &json!({
            "links": links(req, base_url, page.next_marker.as_deref()),
            "zones": page.items.iter().map(|z| zone_json(z, base_url)).collect::<Vec<_>>(),
            "metadata": {"total_count": page.total},
        }),
    ))
}

fn list_recordsets(
    world: &Otc,
    req: &Req,
    base_url: &str,
    zone_id: &str,
) -> Result<Resp, ApiError> {
    let limit = page_limit(req, world.config.page_size)?;
    let name = req.param("name");
    let rtype = req.param("type");
    let zone = world.store.zone(zone_id)?;
    let matches = world
        .store
        .list_recordsets(zone_id, name.as_deref(), rtype.as_deref())?;
    let marker = req.param("marker");
    let page = paginate(matches, |r| r.id.as_str(), marker.as_deref(), limit);
    Ok(Resp::json(
        200,
        &json!({
            "links": links(req, base_url, page.next_marker.as_deref()),
            "recordsets": page.items.iter().map(|r| recordset_json(zone, r, base_url)).collect::<Vec<_>>(),
            "metadata": {"total_count": page.total},
        }),
    ))
}

fn zone_json(z: &Zone, base_url: &str) -> Value {
    json!({
        "id": z.id,
        "name": z.name,
        "description": z.description,
        "email": z.email,
        "ttl": z.ttl,
        "serial": z.serial,
        "status": "ACTIVE",
        "record_num": z.recordsets.len(),
        "zone_type": z.zone_type.as_str(),
        "created_at": z.created_at,
        "updated_at": z.updated_at,
        "links": {"self": format!("{base_url}/v2/zones/{}", z.id)},
    })
}

fn recordset_json(z: &Zone, r: &RecordSet, base_url: &str) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "zone_id": z.id,
        "zone_name": z.name,
        "type": r.rtype,
        "ttl": r.ttl,
        "records": r.records,
        "status": r.status.as_str(),
        "default": false,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "links": {"self": format!("{base_url}/v2/zones/{}/recordsets/{}", z.id, r.id)},
    })
}

#[cfg(test)]
mod tests {
    use super::super::seed::SeedCredential;
    use super::super::testing;
    use super::*;
    use crate::core::clock::{self, Now};
    use crate::core::cloud::Cloud;
    use crate::seed::Seed;

    const AK: &str = "AKTEST";
    const SK: &str = "SKTEST";
    const BASE: &str = testing::BASE;

    fn world(page_size: usize) -> Otc {
        let mut seed = Seed::demo();
        seed.credentials = vec![SeedCredential {
            access: AK.into(),
            secret: SK.into(),
        }];
        seed.page_size = page_size;
        seed.zones[0].id = Some("zone-a".into());
        testing::otc(&seed)
    }

    /// `handle` with the context the core would pass (demo name servers,
    /// no propagation delay).
    fn handle_at(w: &mut Otc, now: &Now, req: &Req) -> (Resp, Option<String>) {
        let ns = vec!["localhost.".to_string()];
        handle(w, &testing::ctx(now, &ns), req)
    }

    fn signed(method: &str, url: &str, body: &str, now: &Now) -> Req {
        let headers = auth::sign_json_for_test(
            method,
            url,
            "127.0.0.1:9",
            body,
            (AK, SK, None),
            &clock::format_compact_utc(now.sim_secs()),
        );
        Req::new(method, url, headers, body.as_bytes().to_vec())
    }

    fn call(w: &mut Otc, t: u64, method: &str, url: &str, body: &str) -> (u16, Value) {
        let now = Now::at(t);
        w.tick(&now);
        let (resp, ak) = handle_at(w, &now, &signed(method, url, body, &now));
        if resp.status != 401 && resp.status != 404 || ak.is_some() {
            assert_eq!(ak.as_deref(), Some(AK));
        }
        (resp.status, serde_json::from_slice(&resp.body).unwrap())
    }

    #[test]
    fn unknown_paths_and_bad_auth() {
        let mut w = world(500);
        let now = Now::at(0);
        let (r, _) = handle_at(
            &mut w,
            &now,
            &Req::new("GET", "/v2/nothing", vec![], vec![]),
        );
        assert_eq!(r.status, 404);
        assert!(String::from_utf8_lossy(&r.body).contains("APIG.0101"));
        let (r, ak) = handle_at(&mut w, &now, &Req::new("GET", "/v2/zones", vec![], vec![]));
        assert_eq!((r.status, ak), (401, None));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error_code"], "APIG.0301");
        assert!(
            v["error_msg"]
                .as_str()
                .unwrap()
                .starts_with("Incorrect IAM authentication information")
        );
        // A request signed 20 minutes ago.
        let old = Now {
            sim_us: now.sim_us - 1200 * 1_000_000,
            ..now
        };
        let (r, ak) = handle_at(&mut w, &now, &signed("GET", "/v2/zones", "", &old));
        assert_eq!((r.status, ak.as_deref()), (401, Some(AK)));
        assert!(String::from_utf8_lossy(&r.body).contains("APIG.0303"));
    }

    #[test]
    fn zones_paginate_with_links() {
        let mut w = world(1);
        let (status, v) = call(
            &mut w,
            0,
            "GET",
            "/v2/zones?name=example.test.&limit=50",
            "",
        );
        assert_eq!(status, 200);
        assert_eq!(
            v["metadata"]["total_count"], 2,
            "fuzzy: sub.example.test. matches too"
        );
        assert_eq!(v["zones"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["links"]["self"],
            format!("{BASE}/v2/zones?name=example.test.&limit=50")
        );
        let next = v["links"]["next"].as_str().unwrap();
        let first = v["zones"][0]["id"].as_str().unwrap();
        assert_eq!(
            next,
            format!("{BASE}/v2/zones?name=example.test.&limit=50&marker={first}")
        );

        let (_, v2) = call(&mut w, 0, "GET", next.strip_prefix(BASE).unwrap(), "");
        assert_eq!(v2["zones"].as_array().unwrap().len(), 1);
        assert_ne!(v2["zones"][0]["id"], v["zones"][0]["id"]);
        assert!(v2["links"].get("next").is_none());

        let (_, v) = call(&mut w, 0, "GET", "/v2/zones?type=private", "");
        assert_eq!(v["zones"][0]["zone_type"], "private");
        assert_eq!(v["zones"][0]["status"], "ACTIVE");
        let (status, _) = call(&mut w, 0, "GET", "/v2/zones?type=bogus", "");
        assert_eq!(status, 400);
        let (status, _) = call(&mut w, 0, "GET", "/v2/zones?limit=x", "");
        assert_eq!(status, 400);
    }

    #[test]
    fn recordset_life_cycle_over_the_api() {
        let mut w = world(500);
        let body = r#"{"name":"_acme-challenge.www.example.test.","type":"TXT","ttl":300,"records":["\"abc\""],"description":"certbot"}"#;
        let (status, rs) = call(&mut w, 0, "POST", "/v2/zones/zone-a/recordsets", body);
        assert_eq!(status, 202, "{rs}");
        assert_eq!(rs["status"], "PENDING_CREATE");
        assert_eq!(rs["zone_name"], "example.test.");
        assert_eq!(rs["default"], false);
        let id = rs["id"].as_str().unwrap().to_string();
        let url = format!("/v2/zones/zone-a/recordsets/{id}");

        let (status, got) = call(&mut w, 100, "GET", &url, "");
        assert_eq!(
            (status, got["status"].as_str()),
            (200, Some("PENDING_CREATE"))
        );
        let upd = r#"{"name":"_acme-challenge.www.example.test.","type":"TXT","ttl":300,"records":["\"abc\"","\"def\""]}"#;
        let (status, err) = call(&mut w, 100, "PUT", &url, upd);
        assert_eq!((status, err["code"].as_str()), (400, Some("DNS.0314")));

        let (_, got) = call(&mut w, 500, "GET", &url, "");
        assert_eq!(got["status"], "ACTIVE");
        let (status, got) = call(&mut w, 500, "PUT", &url, upd);
        assert_eq!(
            (status, got["status"].as_str()),
            (202, Some("PENDING_UPDATE"))
        );

        let (_, list) = call(
            &mut w,
            1000,
            "GET",
            "/v2/zones/zone-a/recordsets?name=_acme-challenge.www.example.test.&type=TXT",
            "",
        );
        assert_eq!(list["metadata"]["total_count"], 1);
        assert_eq!(
            list["recordsets"][0]["records"].as_array().unwrap().len(),
            2
        );

        let (status, got) = call(&mut w, 1000, "DELETE", &url, "");
        assert_eq!(
            (status, got["status"].as_str()),
            (202, Some("PENDING_DELETE"))
        );
        let (status, _) = call(&mut w, 1200, "GET", &url, "");
        assert_eq!(status, 200, "listed while PENDING_DELETE");
        let (status, err) = call(&mut w, 1500, "GET", &url, "");
        assert_eq!((status, err["code"].as_str()), (404, Some("DNS.0313")));
        let (status, err) = call(&mut w, 1500, "GET", "/v2/zones/nope/recordsets", "");
        assert_eq!((status, err["code"].as_str()), (404, Some("DNS.0302")));
        assert_eq!(err["message"], "zone not found");
    }

    #[test]
    fn nameservers_and_zone() {
        let mut w = world(500);
        let (status, v) = call(&mut w, 0, "GET", "/v2/zones/zone-a/nameservers", "");
        assert_eq!(status, 200);
        assert_eq!(
            v,
            json!({"nameservers": [{"hostname": "localhost.", "priority": 1}]})
        );
        let (status, v) = call(&mut w, 0, "GET", "/v2/zones/zone-a/", "");
        assert_eq!((status, v["name"].as_str()), (200, Some("example.test.")));
        assert_eq!(v["record_num"], 3);
    }
}
