//! Per-agency rate limits and the replay window of request signatures.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per agency: `rate` orders a second, bursts of `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` 0 turns the limit off.
    pub fn new(rate: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token; `Err(seconds to wait)` when the bucket is empty.
    pub fn check(&self, agency: &str) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets
            .entry(agency.to_owned())
            .or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// Signatures (or nonces) seen within the window; a second use is a replay.
#[derive(Debug)]
pub struct ReplayCache {
    window: Duration,
    seen: Mutex<(HashMap<String, Instant>, Instant)>,
}

impl ReplayCache {
    pub fn new(window: Duration) -> Self {
        ReplayCache {
            window,
            seen: Mutex::new((HashMap::new(), Instant::now())),
        }
    }

    /// Records `key`; false if it was already seen within the window.
    pub fn first_use(&self, key: String) -> bool {
        let now = Instant::now();
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, swept) = &mut *guard;
        if now.duration_since(*swept) > self.window {
            seen.retain(|_, at| now.duration_since(*at) <= self.window);
            *swept = now;
        }
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) <= self.window => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }
}
