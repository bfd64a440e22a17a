//! OTC DNS v2 (also Huawei Cloud DNS: same API and signer).
//! API reference: <https://docs.otc.t-systems.com/domain-name-service/api-ref/>

use serde::de::DeserializeOwned;

use super::types::{
    CreateBody, Links, NameServers, RecordSet, RecordSetList, UpdateBody, Zone, ZoneList,
};
use super::{ApiError, ApiResult, DnsBackend};
use crate::http::Url;
use crate::signed::SignedClient;

/// Default public DNS endpoint: public zones live there for every OTC region.
pub const DEFAULT_ENDPOINT: &str = "https://dns.eu-de.otc.t-systems.com";

/// Pages followed at most in one listing (500 items each).
const MAX_PAGES: usize = 200;

pub struct OtcDns {
    client: SignedClient,
    endpoint: Url,
}

impl OtcDns {
    pub fn new(client: SignedClient, endpoint: Url) -> Self {
        OtcDns { client, endpoint }
    }

    pub fn client(&self) -> &SignedClient {
        &self.client
    }

    fn url(&self, path: &str) -> Url {
        let mut u = self.endpoint.clone();
        let base = u.path.trim_end_matches('/');
        u.path = format!("{base}{path}");
        u.query = None;
        u
    }

    fn get_json<T: DeserializeOwned>(&self, url: &Url, q: &[(String, String)]) -> ApiResult<T> {
        let resp = self.client.call("GET", url, q, None)?;
        decode(&resp.body)
    }

    /// Follows `links.next` (same origin only: a signed request never goes elsewhere).
    fn next_page(&self, links: Option<Links>, seen: &mut Vec<String>) -> ApiResult<Option<Url>> {
        let Some(next) = links.and_then(|l| l.next).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        if seen.contains(&next) || seen.len() >= MAX_PAGES {
            return Ok(None);
        }
        seen.push(next.clone());
        let url = Url::parse(&next).map_err(ApiError::Decode)?;
        if url.origin() != self.endpoint.origin() {
            return Err(ApiError::Decode(format!(
                "pagination link points to another host ({})",
                url.origin()
            )));
        }
        Ok(Some(url))
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        let start: String = String::from_utf8_lossy(body).chars().take(40).collect();
        ApiError::Decode(format!("expected JSON ({e}); got {:?}", start.trim()))
    })
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl DnsBackend for OtcDns {
    fn name(&self) -> &str {
        "OTC DNS"
    }

    fn public_zones(&self, filter: &str) -> ApiResult<Vec<Zone>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let mut page: ZoneList = self.get_json(
            &self.url("/v2/zones"),
            &q(&[("type", "public"), ("name", filter), ("limit", "500")]),
        )?;
        loop {
            out.extend(page.zones.into_iter().filter(Zone::is_public));
            match self.next_page(page.links, &mut seen)? {
                Some(url) => page = self.get_json(&url, &[])?,
                None => return Ok(out),
            }
        }
    }

    fn nameservers(&self, zone: &Zone) -> ApiResult<Vec<String>> {
        let ns: NameServers = self.get_json(
            &self.url(&format!("/v2/zones/{}/nameservers", zone.id)),
            &[],
        )?;
        Ok(ns
            .nameservers
            .into_iter()
            .filter_map(|n| n.hostname.or(n.address))
            .collect())
    }

    fn txt_sets(&self, zone: &Zone, filter: &str) -> ApiResult<Vec<RecordSet>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let mut page: RecordSetList = self.get_json(
            &self.url(&format!("/v2/zones/{}/recordsets", zone.id)),
            &q(&[("name", filter), ("type", "TXT"), ("limit", "500")]),
        )?;
        loop {
            out.extend(
                page.recordsets
                    .into_iter()
                    .filter(|r| r.rtype.eq_ignore_ascii_case("TXT")),
            );
            match self.next_page(page.links, &mut seen)? {
                Some(url) => page = self.get_json(&url, &[])?,
                None => return Ok(out),
            }
        }
    }

    fn get(&self, zone: &Zone, id: &str) -> ApiResult<Option<RecordSet>> {
        let url = self.url(&format!("/v2/zones/{}/recordsets/{id}", zone.id));
        match self.get_json(&url, &[]) {
            Ok(rs) => Ok(Some(rs)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn create_txt(
        &self,
        zone: &Zone,
        name: &str,
        ttl: u32,
        records: &[String],
        description: &str,
    ) -> ApiResult<RecordSet> {
        let body = serde_json::to_vec(&CreateBody {
            name,
            rtype: "TXT",
            ttl,
            records,
            description,
        })
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let url = self.url(&format!("/v2/zones/{}/recordsets", zone.id));
        let resp = self.client.call("POST", &url, &[], Some(&body))?;
        decode(&resp.body)
    }

    fn update_records(
        &self,
        zone: &Zone,
        set: &RecordSet,
        records: &[String],
    ) -> ApiResult<RecordSet> {
        let body = serde_json::to_vec(&UpdateBody {
            name: &set.name,
            rtype: &set.rtype,
            ttl: set.ttl,
            records,
            description: set.description.as_deref(),
        })
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let url = self.url(&format!("/v2/zones/{}/recordsets/{}", zone.id, set.id));
        let resp = self.client.call("PUT", &url, &[], Some(&body))?;
        decode(&resp.body)
    }

    fn delete(&self, zone: &Zone, set: &RecordSet) -> ApiResult<()> {
        let url = self.url(&format!("/v2/zones/{}/recordsets/{}", zone.id, set.id));
        let resp = self.client.call("DELETE", &url, &[], None)?;
        // The service answers with the set (PENDING_DELETE); anything else (an HTML
        // page from a proxy, say) leaves the outcome unknown: the caller re-reads.
        if !resp.body.iter().all(u8::is_ascii_whitespace) {
            decode::<serde_json::Value>(&resp.body)?;
        }
        Ok(())
    }
}
