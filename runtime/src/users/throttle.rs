//! Login throttling (OWASP Authentication Cheat Sheet): failed logins per account and per client
//! address slow down, with a window that doubles, then answer 429 with `Retry-After`.
//!
//! - The account key is the login *as submitted* (trimmed, lower-cased), whether or not such an
//!   account exists: an unknown email is throttled exactly like a wrong password, so the answers
//!   and their timing do not tell which logins exist.
//! - A throttled attempt is refused before any password work and does not count as a failure
//!   (the window does not grow while a client keeps knocking).
//! - A success resets the account's counter; the client's counter only decays (one good account
//!   must not reset an address that tries many others).
//! - Stores keep only the SHA-256 of each key, never an email or an address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;

use crate::AuthError;
use crate::util::storage::{StoreError, unavailable};

/// What a throttle store keeps per key: the SHA-256 of `account\0<login>` or `client\0<address>`.
pub type ThrottleKey = [u8; 32];

/// The failures recorded for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Failures in a row (forgotten after the policy's `forget_after` without one).
    pub failures: u32,
    /// When the last one happened, in milliseconds since the Unix epoch.
    pub last_failure_ms: u64,
    /// Until when attempts are refused, in milliseconds since the Unix epoch (0: not blocked).
    pub blocked_until_ms: u64,
}

impl Attempts {
    /// The state after one more failure at `now_ms`: what every store computes inside its
    /// atomic update.
    pub fn after_failure(previous: Option<Attempts>, now_ms: u64, policy: &Backoff) -> Attempts {
        let failures = match previous {
            Some(p) if now_ms.saturating_sub(p.last_failure_ms) <= policy.forget_after.as_millis() as u64 => {
                p.failures.saturating_add(1)
            }
            _ => 1,
        };
        let blocked_until_ms = match failures.checked_sub(policy.free_failures) {
            None => 0,
            Some(extra) => {
                let base = policy.first_delay.as_millis() as u64;
                let delay = base.saturating_mul(1u64.checked_shl(extra.min(63)).unwrap_or(u64::MAX));
                now_ms.saturating_add(delay.min(policy.max_delay.as_millis() as u64))
            }
        };
        Attempts { failures, last_failure_ms: now_ms, blocked_until_ms }
    }

    /// Whether this state is still worth keeping at `now_ms`.
    pub fn is_live(&self, now_ms: u64, policy: &Backoff) -> bool {
        self.blocked_until_ms > now_ms
            || now_ms.saturating_sub(self.last_failure_ms) <= policy.forget_after.as_millis() as u64
    }
}

/// Where the counters live: memory ([`MemoryThrottleStore`]) or SQLite (`authn::jwt::SqliteStore`),
/// or a store of your own shared by several instances.
pub trait ThrottleStore: Send + Sync + 'static {
    /// The recorded failures of `key`.
    fn attempts<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<Option<Attempts>, StoreError>>;
    /// Records one more failure, atomically (read, [`Attempts::after_failure`], write), and
    /// returns the new state.
    fn record_failure<'a>(
        &'a self,
        key: &'a ThrottleKey,
        now_ms: u64,
        policy: &'a Backoff,
    ) -> BoxFuture<'a, Result<Attempts, StoreError>>;
    /// Forgets `key` (a successful login).
    fn clear<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// How one kind of key slows down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The wait after the first failure beyond them; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Failures are forgotten after this long without one.
    pub forget_after: Duration,
}

impl Backoff {
    /// Per account: 5 free failures, then 1 s doubling to at most 15 minutes, forgotten after an
    /// hour.
    pub const ACCOUNT: Backoff = Backoff {
        free_failures: 5,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(3600),
    };

    /// Per client address: 20 free failures (a shared address has several users), then the same.
    pub const CLIENT: Backoff = Backoff { free_failures: 20, ..Backoff::ACCOUNT };
}

/// The login throttle: a store and a backoff for accounts and for client addresses.
///
/// ```
/// use authn::users::{Backoff, LoginThrottle, MemoryThrottleStore};
/// use std::sync::Arc;
///
/// let throttle = LoginThrottle::new(Arc::new(MemoryThrottleStore::new()))
///     .account_backoff(Backoff { free_failures: 3, ..Backoff::ACCOUNT });
/// # drop(throttle);
/// ```
#[derive(Clone)]
pub struct LoginThrottle {
    store: Arc<dyn ThrottleStore>,
    account: Backoff,
    client: Backoff,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle").field("account", &self.account).field("client", &self.client).finish()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl LoginThrottle {
    /// Over `store`, with [`Backoff::ACCOUNT`] and [`Backoff::CLIENT`].
    pub fn new(store: Arc<dyn ThrottleStore>) -> Self {
        LoginThrottle { store, account: Backoff::ACCOUNT, client: Backoff::CLIENT }
    }

    /// In memory, for one process.
    pub fn in_memory() -> Self {
        LoginThrottle::new(Arc::new(MemoryThrottleStore::new()))
    }

    /// Another backoff for accounts.
    pub fn account_backoff(mut self, backoff: Backoff) -> Self {
        self.account = backoff;
        self
    }

    /// Another backoff for client addresses.
    pub fn client_backoff(mut self, backoff: Backoff) -> Self {
        self.client = backoff;
        self
    }

    fn keys(login: &str, client: Option<IpAddr>) -> (ThrottleKey, Option<ThrottleKey>) {
        let account = crate::util::secret::digest(&format!("account\0{}", login.trim().to_lowercase()));
        let client = client.map(|ip| crate::util::secret::digest(&format!("client\0{ip}")));
        (account, client)
    }

    /// Refuses the attempt with a 429 while the account or the client address waits out its
    /// window; otherwise lets it through.
    pub async fn check(&self, login: &str, client: Option<IpAddr>) -> Result<(), AuthError> {
        let (account, client) = Self::keys(login, client);
        let now = now_ms();
        let mut blocked_until = 0;
        for key in std::iter::once(&account).chain(client.as_ref()) {
            if let Some(attempts) = self.store.attempts(key).await.map_err(unavailable)? {
                blocked_until = blocked_until.max(attempts.blocked_until_ms);
            }
        }
        if blocked_until > now {
            return Err(AuthError::too_many_attempts(Duration::from_millis(blocked_until - now)));
        }
        Ok(())
    }

    /// Records a failed attempt for the account and the client address.
    pub async fn failed(&self, login: &str, client: Option<IpAddr>) -> Result<(), AuthError> {
        let (account, client) = Self::keys(login, client);
        let now = now_ms();
        self.store.record_failure(&account, now, &self.account).await.map_err(unavailable)?;
        if let Some(client) = client {
            self.store.record_failure(&client, now, &self.client).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Records a success: the account's counter starts again.
    pub async fn succeeded(&self, login: &str) -> Result<(), AuthError> {
        let (account, _) = Self::keys(login, None);
        self.store.clear(&account).await.map_err(unavailable)
    }
}

/// A [`ThrottleStore`] in memory, bounded: past 100,000 keys the ones no longer relevant are
/// dropped first, then the oldest.
#[derive(Default)]
pub struct MemoryThrottleStore {
    entries: Mutex<HashMap<ThrottleKey, Attempts>>,
}

const MAX_KEYS: usize = 100_000;

impl MemoryThrottleStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryThrottleStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<ThrottleKey, Attempts>) -> T) -> Result<T, StoreError> {
        let mut entries = self.entries.lock().map_err(|_| StoreError::msg("throttle lock poisoned"))?;
        Ok(f(&mut entries))
    }
}

impl ThrottleStore for MemoryThrottleStore {
    fn attempts<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<Option<Attempts>, StoreError>> {
        Box::pin(async move { self.with(|entries| entries.get(key).copied()) })
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a ThrottleKey,
        now_ms: u64,
        policy: &'a Backoff,
    ) -> BoxFuture<'a, Result<Attempts, StoreError>> {
        Box::pin(async move {
            self.with(|entries| {
                if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
                    entries.retain(|_, a| a.is_live(now_ms, policy));
                    if entries.len() >= MAX_KEYS {
                        let oldest = entries.iter().min_by_key(|(_, a)| a.last_failure_ms).map(|(k, _)| *k);
                        if let Some(oldest) = oldest {
                            entries.remove(&oldest);
                        }
                    }
                }
                let next = Attempts::after_failure(entries.get(key).copied(), now_ms, policy);
                entries.insert(*key, next);
                next
            })
        })
    }

    fn clear<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.with(|entries| {
                entries.remove(key);
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_doubles_after_the_free_failures_and_is_capped() {
        let policy = Backoff {
            free_failures: 2,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            forget_after: Duration::from_secs(60),
        };
        let mut state = None;
        let mut waits = Vec::new();
        for i in 0..6u64 {
            let now = 1_000_000 + i;
            let next = Attempts::after_failure(state, now, &policy);
            waits.push(next.blocked_until_ms.saturating_sub(now));
            state = Some(next);
        }
        assert_eq!(waits, [0, 1000, 2000, 4000, 5000, 5000]);
        // Forgotten after a quiet minute.
        let later = Attempts::after_failure(state, 1_000_000 + 61_000, &policy);
        assert_eq!((later.failures, later.blocked_until_ms), (1, 0));
    }

    #[test]
    fn absurd_counts_do_not_overflow() {
        let previous = Attempts { failures: u32::MAX, last_failure_ms: u64::MAX - 1, blocked_until_ms: 0 };
        let next = Attempts::after_failure(Some(previous), u64::MAX, &Backoff::ACCOUNT);
        assert_eq!(next.failures, u32::MAX);
        assert!(next.blocked_until_ms >= u64::MAX - Backoff::ACCOUNT.max_delay.as_millis() as u64);
    }
}
