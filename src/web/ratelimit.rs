//! Per-client rate limits for the public endpoints (upload, status lookup, API) and the login form:
//! a token bucket per client address, in memory, per process.
//!
//! IPv6 clients are counted per /64 (one household or host gets a whole /64), IPv4 per address.
//! The table is bounded: when it grows past its capacity, buckets that are full again (clients that
//! have been quiet) are dropped, so a flood of fresh addresses costs memory only up to the bound.

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients tracked at once by one limiter.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per client: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limiter allowing `burst` requests at once and `per_minute` sustained. `per_minute = 0`
    /// turns the limit off.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client` at `now`: `Ok` when allowed, else how long to wait.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute <= 0.0 {
            return Ok(());
        }
        let key = bucket_key(client);
        let rate = self.per_minute / 60.0;
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= CAPACITY && !map.contains_key(&key) {
            let burst = self.burst;
            map.retain(|_, b| refill(b, now, rate, burst) < burst);
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = refill(bucket, now, rate, self.burst);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64(((1.0 - tokens) / rate).max(1.0)))
        }
    }

    /// Clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|m| m.len()).unwrap_or(0)
    }
}

fn refill(b: &Bucket, now: Instant, rate: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * rate).min(burst)
}

/// IPv4 as is; IPv6 by its /64 (IPv4-mapped IPv6 as the IPv4 address).
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// The client's address: the peer of the TCP connection, or, when `trust_forwarded_for` is on
/// (the gateway runs behind a reverse proxy that sets it), the last address in `X-Forwarded-For`
/// (the one the proxy saw). Unknown peers (in-process tests) count as `0.0.0.0`.
pub fn client_ip<B>(req: &Request<B>, trust_forwarded_for: bool) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip_from(req.headers(), peer, trust_forwarded_for)
}

/// [`client_ip`] from the parts.
pub fn client_ip_from(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = RateLimiter::new(60, 3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(ip, t0).is_ok());
        }
        let wait = l.check(ip, t0).unwrap_err();
        assert!(wait >= Duration::from_secs(1));
        // One token per second at 60/min.
        assert!(l.check(ip, t0 + Duration::from_millis(1100)).is_ok());
        assert!(l.check(ip, t0 + Duration::from_millis(1200)).is_err());
        // Another client is not affected.
        assert!(l.check("192.0.2.2".parse().unwrap(), t0).is_ok());
    }

    #[test]
    fn ipv6_counted_per_64() {
        let l = RateLimiter::new(60, 1);
        let t0 = Instant::now();
        assert!(l.check("2001:db8::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("2001:db8::ffff".parse().unwrap(), t0).is_err());
        assert!(l.check("2001:db8:0:1::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("::ffff:192.0.2.9".parse().unwrap(), t0).is_ok());
        assert!(l.check("192.0.2.9".parse().unwrap(), t0).is_err());
    }

    #[test]
    fn zero_turns_it_off() {
        let l = RateLimiter::new(0, 1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            assert!(l.check(ip, Instant::now()).is_ok());
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.5, 198.51.100.7".parse().unwrap(),
        );
        let peer = Some("127.0.0.1".parse().unwrap());
        assert_eq!(client_ip_from(&h, peer, false).to_string(), "127.0.0.1");
        assert_eq!(client_ip_from(&h, peer, true).to_string(), "198.51.100.7");
        assert_eq!(
            client_ip_from(&HeaderMap::new(), None, false).to_string(),
            "0.0.0.0"
        );
    }
}
