//! The ACME clients' hook contracts — certbot's `--manual` environment,
//! lego's `exec` arguments (acme.sh's script hands over lego's default
//! form) — parsed and validated before any network call.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::{txt, zone};

/// One challenge, as an ACME client hands it over.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Where the TXT value goes (absolute, lower-case), before CNAME following.
    pub fqdn: String,
    /// The certificate name it validates (for telling it apart in `all_domains`).
    pub domain: String,
    pub value: String,
    /// `CERTBOT_REMAINING_CHALLENGES`; `None` when unset.
    pub remaining: Option<u32>,
    /// `CERTBOT_ALL_DOMAINS`, normalised (wildcards mapped to their base name).
    pub all_domains: Vec<String>,
    /// `CERTBOT_ALL_DOMAINS` as certbot gives it, one entry per challenge of the
    /// run (apex and wildcard give the same name twice), normalised.
    pub all_challenges: Vec<String>,
}

impl Challenge {
    /// What ties the hooks of one certbot run together: a digest of
    /// `CERTBOT_ALL_DOMAINS` (the same for every hook of a run), the number of
    /// challenges, and this hook's place in the countdown. `None` when the hook
    /// is not one of a certbot run with several challenges, or the environment
    /// doesn't add up (the domain is not where the countdown says).
    pub fn run_key(&self) -> Option<(String, u32, u32)> {
        let r = self.remaining?;
        let count = u32::try_from(self.all_challenges.len()).ok()?;
        if count < 2 || r >= count {
            return None;
        }
        if self.all_challenges[(count - 1 - r) as usize] != self.domain {
            return None;
        }
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(self.all_challenges.join(",").as_bytes()));
        Some((digest[..16].to_string(), count, r))
    }
}

impl Challenge {
    /// certbot: reads and validates the environment; every error is a rejection
    /// before any network call.
    pub fn from_certbot_env(env: &HashMap<String, String>) -> Result<Challenge> {
        let get = |k: &str| env.get(k).map(String::as_str).unwrap_or("");
        let hint = "run this as certbot's --manual-auth-hook / --manual-cleanup-hook";
        let raw = get("CERTBOT_DOMAIN");
        if raw.trim().is_empty() {
            return Err(Error::rejected("input", "CERTBOT_DOMAIN is not set").hint(hint));
        }
        let domain = zone::normalize_domain(raw)
            .map_err(|e| Error::rejected("input", format!("CERTBOT_DOMAIN: {e}")))?;
        zone::check_name_fits(&zone::challenge_name(&domain))
            .map_err(|e| Error::rejected("input", format!("CERTBOT_DOMAIN: {e}")))?;
        let value = get("CERTBOT_VALIDATION");
        if value.is_empty() {
            return Err(Error::rejected("input", "CERTBOT_VALIDATION is not set").hint(hint));
        }
        txt::validate_value(value)
            .map_err(|e| Error::rejected("input", format!("CERTBOT_VALIDATION: {e}")))?;
        let remaining = match get("CERTBOT_REMAINING_CHALLENGES").trim() {
            "" => None,
            n => Some(n.parse::<u32>().map_err(|_| {
                Error::rejected(
                    "input",
                    format!("CERTBOT_REMAINING_CHALLENGES is not a number: {n:?}"),
                )
            })?),
        };
        let mut all_domains = Vec::new();
        let mut all_challenges = Vec::new();
        for d in get("CERTBOT_ALL_DOMAINS")
            .split(',')
            .filter(|d| !d.trim().is_empty())
        {
            let n = zone::normalize_domain(d)
                .map_err(|e| Error::rejected("input", format!("CERTBOT_ALL_DOMAINS: {e}")))?;
            all_challenges.push(n.clone());
            if !all_domains.contains(&n) {
                all_domains.push(n);
            }
        }
        Ok(Challenge {
            fqdn: zone::challenge_name(&domain),
            domain,
            value: value.to_string(),
            remaining,
            all_domains,
            all_challenges,
        })
    }

    /// lego's `exec` contract, by arity: `FQDN VALUE` (default mode, the fqdn
    /// with its trailing dot) or `DOMAIN TOKEN KEYAUTH` (RAW mode, after `--`:
    /// the value is base64url(SHA-256(keyAuth)), unpadded).
    pub fn from_lego_args(verb: &str, args: &[String], any_name: bool) -> Result<Challenge> {
        let usage = || {
            Error::rejected(
                "input",
                format!("{verb} takes FQDN VALUE (lego default mode) or -- DOMAIN TOKEN KEYAUTH (lego RAW mode); got {} argument(s)", args.len()),
            )
            .hint(format!("for certbot, run `otc-acme-hook {}` with no arguments", if verb == "present" { "auth" } else { verb }))
        };
        match args {
            [fqdn, value] => {
                let name = zone::normalize_domain(fqdn)
                    .map_err(|e| Error::rejected("input", format!("FQDN: {e}")))?;
                // A hook for ACME challenges writes only challenge names, unless told otherwise.
                if !any_name && !name.starts_with("_acme-challenge.") {
                    return Err(Error::rejected(
                        "input",
                        format!("FQDN {name}. is not an _acme-challenge name"),
                    )
                    .hint("lego passes _acme-challenge names; to write elsewhere on purpose, pass --any-name"));
                }
                txt::validate_value(value)
                    .map_err(|e| Error::rejected("input", format!("VALUE: {e}")))?;
                let domain = name
                    .strip_prefix("_acme-challenge.")
                    .unwrap_or(&name)
                    .to_string();
                Ok(Challenge {
                    fqdn: format!("{name}."),
                    domain,
                    value: value.clone(),
                    remaining: None,
                    all_domains: Vec::new(),
                    all_challenges: Vec::new(),
                })
            }
            [domain, _token, key_auth] => {
                let domain = zone::normalize_domain(domain)
                    .map_err(|e| Error::rejected("input", format!("DOMAIN: {e}")))?;
                zone::check_name_fits(&zone::challenge_name(&domain))
                    .map_err(|e| Error::rejected("input", format!("DOMAIN: {e}")))?;
                if key_auth.is_empty() {
                    return Err(Error::rejected("input", "KEYAUTH is empty"));
                }
                Ok(Challenge {
                    fqdn: zone::challenge_name(&domain),
                    domain,
                    value: key_authorization_digest(key_auth),
                    remaining: None,
                    all_domains: Vec::new(),
                    all_challenges: Vec::new(),
                })
            }
            _ => Err(usage()),
        }
    }
}

/// The DNS-01 TXT value of a key authorization (RFC 8555 §8.4):
/// base64url without padding of its SHA-256.
pub fn key_authorization_digest(key_auth: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::encoding::base64url(&Sha256::digest(key_auth.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn key_authorization_digest_matches_rfc8555_example() {
        // Computed independently: printf %s KEYAUTH | openssl dgst -sha256 -binary | basenc --base64url
        assert_eq!(
            key_authorization_digest(
                "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
            ),
            "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM"
        );
    }

    #[test]
    fn lego_arity() {
        let c = Challenge::from_lego_args(
            "present",
            &args(&["_acme-challenge.Example.com.", "-abc_DEF"]),
            false,
        )
        .unwrap();
        assert_eq!(
            (c.fqdn.as_str(), c.domain.as_str(), c.value.as_str()),
            ("_acme-challenge.example.com.", "example.com", "-abc_DEF")
        );
        assert!(c.remaining.is_none());
        let c = Challenge::from_lego_args(
            "cleanup",
            &args(&["*.example.com", "tok", "tok.thumb"]),
            false,
        )
        .unwrap();
        assert_eq!(c.fqdn, "_acme-challenge.example.com.");
        assert_eq!(c.value, key_authorization_digest("tok.thumb"));
        for bad in [&[][..], &["one"][..], &["a", "b", "c", "d"][..]] {
            assert_eq!(
                Challenge::from_lego_args("present", &args(bad), false)
                    .unwrap_err()
                    .exit
                    .code(),
                2
            );
        }
        assert!(Challenge::from_lego_args("present", &args(&["bad name.", "v"]), false).is_err());
        assert!(
            Challenge::from_lego_args(
                "present",
                &args(&["_acme-challenge.x.example.", "a\"b"]),
                false
            )
            .is_err()
        );
        // Only challenge names, unless --any-name.
        let e = Challenge::from_lego_args("present", &args(&["www.example.test.", "v"]), false)
            .unwrap_err();
        assert_eq!(e.exit.code(), 2);
        assert!(e.to_string().contains("--any-name"), "{e}");
        assert!(
            Challenge::from_lego_args("present", &args(&["www.example.test.", "v"]), true).is_ok()
        );
    }
}
