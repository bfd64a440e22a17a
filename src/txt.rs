//! TXT set arithmetic, pure: values are added and removed without touching
//! any other entry of the set (foreign strings pass through byte for byte).

/// Maximum length of one TXT character-string.
pub const MAX_VALUE_LEN: usize = 255;

/// Wraps a value in the double quotes OTC requires inside `records`.
pub fn quote(value: &str) -> String {
    format!("\"{value}\"")
}

/// The value of a stored record, without its surrounding quotes.
pub fn unquote(record: &str) -> &str {
    let r = record.trim();
    r.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(r)
}

/// Whether `records` already holds `value` (compared unquoted).
pub fn contains(records: &[String], value: &str) -> bool {
    records.iter().any(|r| unquote(r) == value)
}

/// The set with `value` added, or `None` when it is already there.
pub fn add(records: &[String], value: &str) -> Option<Vec<String>> {
    if contains(records, value) {
        return None;
    }
    let mut out = records.to_vec();
    out.push(quote(value));
    Some(out)
}

/// What removing a value asks of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// Our value is not there: nothing to do.
    Absent,
    /// Other values remain: write them back.
    Update(Vec<String>),
    /// Ours was the last value: delete the set (OTC refuses empty `records`).
    DeleteSet,
}

/// Removes every copy of `value`, keeping all other entries in order.
pub fn remove(records: &[String], value: &str) -> Removal {
    if !contains(records, value) {
        return Removal::Absent;
    }
    let rest: Vec<String> = records
        .iter()
        .filter(|r| unquote(r) != value)
        .cloned()
        .collect();
    if rest.is_empty() {
        Removal::DeleteSet
    } else {
        Removal::Update(rest)
    }
}

/// Checks a validation value before anything is sent: ACME values are
/// base64url, so quotes, backslashes and control characters are refused.
pub fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the validation value is empty".into());
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(format!(
            "the validation value is {} characters long (at most {MAX_VALUE_LEN})",
            value.len()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| *c == '"' || *c == '\\' || c.is_control() || c.is_whitespace() || !c.is_ascii())
    {
        return Err(format!(
            "the validation value contains {c:?}, which an ACME value never holds"
        ));
    }
    Ok(())
}

/// `values` added to `records`; `None` when every one is there already.
pub fn add_all(records: &[String], values: &[String]) -> Option<Vec<String>> {
    let mut out = records.to_vec();
    let mut changed = false;
    for v in values {
        if let Some(next) = add(&out, v) {
            out = next;
            changed = true;
        }
    }
    changed.then_some(out)
}

/// `values` taken from `records`.
pub fn remove_all(records: &[String], values: &[String]) -> Removal {
    let mut rest = records.to_vec();
    let mut any = false;
    for v in values {
        match remove(&rest, v) {
            Removal::Absent => {}
            Removal::Update(r) => {
                rest = r;
                any = true;
            }
            Removal::DeleteSet => {
                rest.clear();
                any = true;
            }
        }
    }
    match (any, rest.is_empty()) {
        (false, _) => Removal::Absent,
        (true, true) => Removal::DeleteSet,
        (true, false) => Removal::Update(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_values_added_and_removed_at_once() {
        let set = vec!["\"foreign\"".to_string(), "a".to_string()];
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(add_all(&set, &v(&["a"])), None, "present already");
        let added = add_all(&set, &v(&["a", "b", "c"])).unwrap();
        assert_eq!(added.len(), 4);
        assert!(added.contains(&"\"foreign\"".to_string()), "{added:?}");
        assert_eq!(remove_all(&set, &v(&["x"])), Removal::Absent);
        assert_eq!(
            remove_all(&added, &v(&["a", "b", "c"])),
            Removal::Update(vec!["\"foreign\"".to_string()])
        );
        assert_eq!(
            remove_all(&v(&["a", "b"]), &v(&["a", "b"])),
            Removal::DeleteSet
        );
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn add_then_remove_restores_the_set() {
        let foreign = v(&["\"keep\"", "\"a\" \"b\"", "v=spf1 -all"]);
        let added = add(&foreign, "ours").unwrap();
        assert_eq!(added.len(), 4);
        assert_eq!(&added[..3], &foreign[..]);
        assert_eq!(remove(&added, "ours"), Removal::Update(foreign.clone()));
        assert_eq!(add(&added, "ours"), None, "no duplicate");
    }

    #[test]
    fn last_value_deletes_the_set() {
        assert_eq!(remove(&v(&["\"ours\""]), "ours"), Removal::DeleteSet);
        assert_eq!(remove(&v(&["\"x\""]), "ours"), Removal::Absent);
        assert_eq!(remove(&[], "ours"), Removal::Absent);
        // Duplicates of ours (from an older tool) all go; others stay.
        assert_eq!(
            remove(&v(&["\"ours\"", "\"x\"", "\"ours\""]), "ours"),
            Removal::Update(v(&["\"x\""]))
        );
    }

    #[test]
    fn compares_unquoted() {
        assert!(contains(&v(&["\"abc\""]), "abc"));
        assert!(contains(&v(&[" \"abc\" "]), "abc"));
        assert!(!contains(&v(&["\"abcd\""]), "abc"));
        assert_eq!(quote("x"), "\"x\"");
    }

    #[test]
    fn validation_values() {
        assert!(validate_value("gfj9Xq-Rd_8a").is_ok());
        assert!(validate_value("").is_err());
        assert!(validate_value("a\"b").is_err());
        assert!(validate_value("a\\b").is_err());
        assert!(validate_value("a b").is_err());
        assert!(validate_value(&"x".repeat(256)).is_err());
        assert!(validate_value(&"x".repeat(255)).is_ok());
    }
}
