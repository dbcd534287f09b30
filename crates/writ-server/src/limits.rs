//! Per-agency rate limits (the replay window of request signatures lives in
//! the case store: `writ_store::Store::use_nonce`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per agency: `rate` requests a second, bursts of `burst`,
/// over every agency route and the portal. Buckets are per server: behind a
/// load balancer an agency gets the rate once per server. The map holds one
/// entry per agency that has signed a request (signatures are checked
/// first), so its size is bounded by the registry.
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
