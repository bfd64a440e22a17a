//! Credentials in use, and fetching them again: the one refresh layer of
//! every cloud. Keys from a service that hands out new ones (metadata, a
//! role, an agency) are fetched again when the API refuses them; permanent
//! keys never are (a second 401 only brings a lockout nearer). OVH's bearer
//! token is fetched again near its end and once after a 401 (its
//! `token::TokenSource` decides when; this layer holds it and fetches).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::keys::KeyPair;
use crate::api_error::{ApiError, ApiResult};
use crate::error::Result;

/// Fetches the keys again (the chain's network part, or the role alone).
pub type Refresh = Box<dyn Fn() -> Result<KeyPair> + Send + Sync>;

/// Fetches a credential again, its error as the API call's.
pub type Fetch<T> = Box<dyn Fn() -> ApiResult<T> + Send + Sync>;

/// The credential in use (keys by default), how to fetch it again, and how
/// often that was done.
pub struct Refreshing<T = KeyPair> {
    current: Mutex<T>,
    /// Held while fetching: one fetch at a time.
    fetch: Mutex<Option<Fetch<T>>>,
    /// Credentials fetched so far.
    generation: AtomicU64,
}

impl<T: Clone> Refreshing<T> {
    pub fn new(current: T) -> Self {
        Refreshing {
            current: Mutex::new(current),
            fetch: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// How to fetch the credential again.
    pub fn set_fetch(&self, fetch: Fetch<T>) {
        *crate::sync::lock(&self.fetch) = Some(fetch);
    }

    /// The credential in use, held while signing.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        crate::sync::lock(&self.current)
    }

    /// A copy of the credential in use.
    pub fn current(&self) -> T {
        self.lock().clone()
    }

    /// Fetches the credential again and puts it in use, unless `keep` says
    /// the one in use will do (looked at once this thread fetches alone: it
    /// may be one another thread just fetched). `Some(the new one)` when
    /// fetched; `None` when kept or when there is no way to fetch.
    pub fn fetch_unless(&self, keep: impl Fn(&T) -> bool) -> ApiResult<Option<T>> {
        let fetch = crate::sync::lock(&self.fetch);
        let Some(fetch) = fetch.as_ref() else {
            return Ok(None);
        };
        if keep(&self.lock()) {
            return Ok(None);
        }
        let fresh = fetch()?;
        *self.lock() = fresh.clone();
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(Some(fresh))
    }

    /// Credentials fetched so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl Refreshing<KeyPair> {
    /// How to fetch refreshable keys again.
    pub fn set_refresh(&self, refresh: Refresh) {
        self.set_fetch(Box::new(move || {
            refresh().map_err(|e| ApiError::Credentials(e.to_string()))
        }));
    }

    /// After a 401: new keys, when there is a way to fetch them and the keys
    /// in use are refreshable; `Some(where they came from)` when fetched.
    pub fn refresh(&self) -> ApiResult<Option<String>> {
        Ok(self
            .fetch_unless(|keys| !keys.refreshable)?
            .map(|fresh| fresh.source.to_string()))
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

    #[test]
    fn any_credential_is_fetched_alone_unless_the_one_in_use_will_do() {
        let r: Refreshing<Option<u32>> = Refreshing::new(None);
        assert_eq!(r.fetch_unless(|_| false).unwrap(), None, "no way to fetch");
        let n = Arc::new(AtomicUsize::new(0));
        let asked = n.clone();
        r.set_fetch(Box::new(move || {
            Ok(Some(asked.fetch_add(1, Ordering::SeqCst) as u32 + 1))
        }));
        assert_eq!(
            r.fetch_unless(|held| held.is_some()).unwrap(),
            Some(Some(1))
        );
        assert_eq!(r.fetch_unless(|held| held.is_some()).unwrap(), None, "kept");
        assert_eq!(r.fetch_unless(|_| false).unwrap(), Some(Some(2)));
        assert_eq!((r.current(), r.generation()), (Some(2), 2));
        r.set_fetch(Box::new(|| Err(ApiError::Credentials("gone".into()))));
        assert!(r.fetch_unless(|_| false).is_err());
        assert_eq!(
            (r.current(), r.generation()),
            (Some(2), 2),
            "a failure keeps the one in use"
        );
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}
