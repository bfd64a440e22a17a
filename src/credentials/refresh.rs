//! Keys in use, and fetching them again: the one refresh-on-401 layer of the
//! clouds that sign with a key pair. Keys from a service that hands out new
//! ones (metadata, a role, an agency) are fetched again when the API refuses
//! them; permanent keys never are (a second 401 only brings a lockout nearer).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::keys::KeyPair;
use crate::api_error::{ApiError, ApiResult};
use crate::error::Result;

/// Fetches the keys again (the chain's network part, or the role alone).
pub type Refresh = Box<dyn Fn() -> Result<KeyPair> + Send + Sync>;

/// The keys in use, how to fetch them again, and how often that was done.
pub struct Refreshing {
    keys: Mutex<KeyPair>,
    refresh: Mutex<Option<Refresh>>,
    /// Keys fetched after a 401 so far.
    generation: AtomicU64,
}

impl Refreshing {
    pub fn new(keys: KeyPair) -> Self {
        Refreshing {
            keys: Mutex::new(keys),
            refresh: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// How to fetch refreshable keys again.
    pub fn set_refresh(&self, refresh: Refresh) {
        *crate::sync::lock(&self.refresh) = Some(refresh);
    }

    /// The keys in use, held while signing.
    pub fn lock(&self) -> MutexGuard<'_, KeyPair> {
        crate::sync::lock(&self.keys)
    }

    /// A copy of the keys in use.
    pub fn current(&self) -> KeyPair {
        self.lock().clone()
    }

    /// After a 401: new keys, when there is a way to fetch them and the keys
    /// in use are refreshable; `Some(where they came from)` when fetched.
    pub fn refresh(&self) -> ApiResult<Option<String>> {
        let refresh = crate::sync::lock(&self.refresh);
        let Some(refresh) = refresh.as_ref() else {
            return Ok(None);
        };
        if !self.lock().refreshable {
            return Ok(None);
        }
        let fresh = refresh().map_err(|e| ApiError::Credentials(e.to_string()))?;
        let source = fresh.source.to_string();
        *self.lock() = fresh;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(Some(source))
    }

    /// Keys fetched after a 401 so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::redact::Secret;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    fn keys(ak: &str, refreshable: bool) -> KeyPair {
        let mut k = KeyPair::new(ak, Secret::new("SECRETVALUE2"), None).from_source("role");
        k.refreshable = refreshable;
        k
    }

    #[test]
    fn refreshable_keys_are_fetched_again_and_counted() {
        let asked = Arc::new(AtomicUsize::new(0));
        let r = Refreshing::new(keys("AK1", true));
        assert_eq!(r.refresh().unwrap(), None, "no way to fetch them yet");
        let n = asked.clone();
        r.set_refresh(Box::new(move || {
            n.fetch_add(1, Ordering::SeqCst);
            Ok(keys("AK2", true))
        }));
        assert_eq!(r.refresh().unwrap().as_deref(), Some("role"));
        assert_eq!((r.current().access(), r.generation()), ("AK2", 1));
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn permanent_keys_are_never_fetched_again_and_a_failure_is_a_credentials_error() {
        let r = Refreshing::new(keys("AK1", false));
        r.set_refresh(Box::new(|| {
            panic!("permanent keys must not be fetched again")
        }));
        assert_eq!(r.refresh().unwrap(), None);
        assert_eq!(r.generation(), 0);
        let r = Refreshing::new(keys("AK1", true));
        r.set_refresh(Box::new(|| Err(Error::failed("credentials", "role gone"))));
        let e = r.refresh().unwrap_err();
        assert!(
            matches!(e, ApiError::Credentials(ref m) if m.contains("role gone")),
            "{e:?}"
        );
        assert_eq!((r.current().access(), r.generation()), ("AK1", 0));
    }
}
