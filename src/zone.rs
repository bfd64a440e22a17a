//! Domain names and zone matching, pure.

/// Normalises a domain as given by an ACME client: lower-case, no trailing
/// dot, no leading `*.`; rejects what is not a valid DNS name.
pub fn normalize_domain(raw: &str) -> Result<String, String> {
    let d = raw.trim();
    if d.is_empty() {
        return Err("the domain is empty".into());
    }
    let d = d.strip_prefix("*.").unwrap_or(d);
    let d = d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase();
    if !d.is_ascii() {
        return Err(format!(
            "domain {raw:?} is not ASCII; give its punycode (xn--) form"
        ));
    }
    if d.len() > 253 {
        return Err(format!("domain {raw:?} is longer than 253 characters"));
    }
    for label in d.split('.') {
        if label.is_empty() {
            return Err(format!("domain {raw:?} has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!(
                "domain {raw:?} has a label longer than 63 characters"
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "domain {raw:?} holds a character not allowed in DNS names"
            ));
        }
    }
    Ok(d)
}

/// `_acme-challenge.<domain>.` for a normalised domain.
pub fn challenge_name(domain: &str) -> String {
    format!("_acme-challenge.{domain}.")
}

/// Longest name DNS carries, in text form without the trailing dot.
pub const MAX_NAME_LEN: usize = 253;

/// Checks that a full name (with or without its trailing dot) fits DNS:
/// at most 253 octets, labels at most 63.
pub fn check_name_fits(name: &str) -> Result<(), String> {
    let n = name.strip_suffix('.').unwrap_or(name);
    if n.len() > MAX_NAME_LEN {
        return Err(format!(
            "the challenge name {n} is {} characters long (DNS allows {MAX_NAME_LEN})",
            n.len()
        ));
    }
    if let Some(l) = n.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "the challenge name has a label of {} characters (DNS allows 63): {l}",
            l.len()
        ));
    }
    Ok(())
}

/// Absolute form (trailing dot), lower-case.
pub fn absolute(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with('.') { n } else { format!("{n}.") }
}

/// Every zone name that could hold `fqdn`, longest first
/// (`a.b.example.com.` → `a.b.example.com.`, `b.example.com.`, `example.com.`, `com.`).
pub fn candidate_zones(fqdn: &str) -> Vec<String> {
    let fqdn = absolute(fqdn);
    let mut out = vec![fqdn.clone()];
    let mut rest = fqdn.as_str();
    while let Some((_, tail)) = rest.split_once('.') {
        if tail.is_empty() {
            break;
        }
        out.push(tail.to_string());
        rest = tail;
    }
    out
}

/// The longest zone name among `zones` that `fqdn` lies in (exact label match,
/// never a substring), or `None`.
pub fn best_zone<'a>(fqdn: &str, zones: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let cands = candidate_zones(fqdn);
    zones
        .into_iter()
        .filter(|z| cands.contains(&absolute(z)))
        .max_by_key(|z| absolute(z).len())
}

/// What the zone listing is filtered by: the last two labels, which every
/// candidate zone of two labels or more contains (the API filter is a substring match).
pub fn listing_filter(fqdn: &str) -> String {
    let f = absolute(fqdn);
    let labels: Vec<&str> = f.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n >= 2 {
        format!("{}.{}", labels[n - 2], labels[n - 1])
    } else {
        labels.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_rejects() {
        assert_eq!(normalize_domain("*.Example.COM.").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            " ",
            "a..b",
            "bücher.de",
            "a b.com",
            &format!("{}.com", "x".repeat(64)),
            &"a.".repeat(130),
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn longest_suffix_wins_exactly() {
        let zones = [
            "example.com.",
            "sub.example.com.",
            "ample.com.",
            "b.sub.example.com.x.",
        ];
        assert_eq!(
            best_zone("_acme-challenge.a.sub.example.com.", zones),
            Some("sub.example.com.")
        );
        assert_eq!(
            best_zone("_acme-challenge.example.com.", zones),
            Some("example.com.")
        );
        // "ample.com." is a substring of "example.com." but not a parent zone.
        assert_eq!(
            best_zone("_acme-challenge.example.com.", ["ample.com."]),
            None
        );
        assert_eq!(best_zone("_acme-challenge.other.org.", zones), None);
    }

    #[test]
    fn challenge_names_must_fit() {
        let d = format!(
            "{}.{}.example.com",
            vec!["a".repeat(60); 3].join("."),
            "b".repeat(50)
        );
        assert!(normalize_domain(&d).is_ok(), "the domain itself fits");
        assert!(check_name_fits(&challenge_name(&d)).is_err());
        assert!(check_name_fits(&challenge_name("example.com")).is_ok());
        assert!(check_name_fits(&format!("{}.com.", "x".repeat(64))).is_err());
    }

    #[test]
    fn candidates_and_filter() {
        assert_eq!(candidate_zones("a.b.c."), vec!["a.b.c.", "b.c.", "c."]);
        assert_eq!(
            listing_filter("_acme-challenge.www.example.com."),
            "example.com"
        );
        assert_eq!(
            challenge_name("example.com"),
            "_acme-challenge.example.com."
        );
    }
}
