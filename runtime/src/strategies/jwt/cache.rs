//! Verified tokens, remembered: a token seen again within its validity window skips signature,
//! header and claims work (Envoy's `jwt_cache_config`, done to the same rules).
//!
//! What makes it safe:
//! - only a token that passed every check enters, keyed by the whole token (header, claims and
//!   signature), so a forged or altered token is never found;
//! - an entry is used only inside the window in which a full check would accept the token
//!   (`nbf`/`iat` and `exp`/`max_age`, with the leeway), and dropped once outside it;
//! - the cache belongs to one key set: replacing the keys (rotation, `set_jwks`) starts an empty
//!   one, so no token verified by a removed key is served;
//! - revocation is not cached: the caller checks the denylist on every request;
//! - it is bounded by weight (bytes of token and profile), and its policy is S3-FIFO
//!   (quick_cache): a new entry enters a small probation queue and reaches the main one only
//!   when seen again, so a flood of distinct tokens, each seen once, cycles through probation
//!   and cannot push out the tokens in use.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::token::VerifiedToken;

/// A verified token and the seconds between which a full check would accept it again.
#[derive(Debug)]
pub(crate) struct Cached {
    verified: VerifiedToken,
    valid_from: u64,
    valid_until: u64,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<Box<str>, Arc<Cached>> for ByBytes {
    fn weight(&self, token: &Box<str>, cached: &Arc<Cached>) -> u64 {
        let profile = &cached.verified.profile;
        let claims: usize = profile.claims.iter().map(|(k, v)| k.len() + estimate(v)).sum();
        // The token, the profile's strings and claims, and a fixed allowance for the entry,
        // the map's nodes and the allocator.
        (token.len() + profile.id.len() + claims + 256) as u64
    }
}

/// Roughly what a claim value holds in memory, without serializing it.
fn estimate(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::String(s) => 32 + s.len(),
        Value::Array(items) => 32 + items.iter().map(estimate).sum::<usize>(),
        Value::Object(map) => 48 + map.iter().map(|(k, v)| 32 + k.len() + estimate(v)).sum::<usize>(),
        _ => 32,
    }
}

pub(crate) struct TokenCache {
    entries: Cache<Box<str>, Arc<Cached>, ByBytes>,
    max_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What the verified-token cache holds and did, since the keys were last replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Tokens held.
    pub tokens: usize,
    /// Their estimated bytes, at most `max_bytes`.
    pub bytes: u64,
    /// The bound (`JwtConfigBuilder::verified_token_cache`).
    pub max_bytes: u64,
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Verifications done in full.
    pub misses: u64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("len", &self.entries.len()).field("weight", &self.entries.weight()).finish()
    }
}

impl TokenCache {
    /// A cache holding at most `max_bytes` (estimated) of tokens and profiles.
    pub(crate) fn new(max_bytes: u64) -> Self {
        // quick_cache sizes its table from an item estimate: a token and profile of ~1 KiB.
        let items = usize::try_from(max_bytes / 1024).unwrap_or(usize::MAX).max(16);
        TokenCache {
            entries: Cache::with_weighter(items, max_bytes, ByBytes),
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The verified token, when it is cached and `now` is inside its window.
    pub(crate) fn get(&self, token: &str, now: u64) -> Option<VerifiedToken> {
        if let Some(cached) = self.entries.get(token) {
            if cached.valid_from <= now && now <= cached.valid_until {
                self.hits.fetch_add(1, Relaxed);
                return Some(cached.verified.clone());
            }
            // Outside its window (expired, or not yet): the full check decides and says why.
            self.entries.remove(token);
        }
        self.misses.fetch_add(1, Relaxed);
        None
    }

    /// Remembers a token that passed every check, for the window in which it would pass again.
    pub(crate) fn insert(&self, token: &str, verified: &VerifiedToken, valid_from: u64, valid_until: u64) {
        let cached = Cached { verified: verified.clone(), valid_from, valid_until };
        self.entries.insert(token.into(), Arc::new(cached));
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            tokens: self.entries.len(),
            bytes: self.entries.weight(),
            max_bytes: self.max_bytes,
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
        }
    }
}
