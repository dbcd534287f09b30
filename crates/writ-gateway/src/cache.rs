//! Short-lived caches of the registry and the directory on the intake path.
//!
//! Every order needs the registry entries of its agencies, the signing key
//! of its request and the accounts its targets name; reading them from the
//! database each time costs more than deciding the order. Entries live for
//! [`TTL`]: a change made through another process (an admin's `writ agency`
//! command, a directory update) reaches a running server within that time;
//! a change made through this gateway clears the caches at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached entry is trusted.
pub const TTL: Duration = Duration::from_secs(2);

/// A map whose entries expire.
#[derive(Debug)]
pub(crate) struct TtlCache<V> {
    map: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> TtlCache<V> {
    pub(crate) fn new() -> Self {
        TtlCache {
            map: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((at, v)) if at.elapsed() < TTL => Some(v.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, key: String, value: V) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: an old map is dropped rather than swept.
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    pub(crate) fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
