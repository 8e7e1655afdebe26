//! The bound on concurrent password hashing.
//!
//! Each argon2id call with OWASP's parameters holds 19 MiB for tens of milliseconds on a core.
//! Unbounded, a login flood runs as many at once as the blocking pool has threads (512 in
//! tokio: ~9.5 GiB), and everything else that needs a blocking thread (SQLite) waits behind
//! them. So hashing runs at most `concurrent` at a time; up to `queued` more callers wait their
//! turn without holding a thread; anyone beyond that gets a 503 with `Retry-After` at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::AuthError;
use crate::util::blocking;
use crate::util::storage::unavailable;

/// How many password hashes may run at once, and how many may wait for a turn.
///
/// ```
/// use authn::users::{HashingLimit, PasswordHasher};
/// // Two at a time, four waiting; the fifth waiting caller gets a 503 with Retry-After.
/// let hasher = PasswordHasher::default().with_limit(HashingLimit::new(2, 4));
/// assert_eq!(hasher.limit().concurrent(), 2);
/// ```
#[derive(Debug)]
pub struct HashingLimit {
    permits: Arc<Semaphore>,
    concurrent: usize,
    queued: usize,
    waiting: AtomicUsize,
}

/// Shared by every [`PasswordHasher`](super::PasswordHasher) that was not given its own: the
/// bound is on the process's memory and cores.
static DEFAULT: LazyLock<Arc<HashingLimit>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    Arc::new(HashingLimit::new(cores, 8 * cores))
});

/// What a refused caller is told to wait.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl HashingLimit {
    /// At most `concurrent` (at least 1) hashes at once, and `queued` callers waiting.
    pub fn new(concurrent: usize, queued: usize) -> Self {
        let concurrent = concurrent.max(1);
        HashingLimit { permits: Arc::new(Semaphore::new(concurrent)), concurrent, queued, waiting: AtomicUsize::new(0) }
    }

    /// The process-wide default: one hash per core, eight waiting per core.
    pub fn shared() -> Arc<HashingLimit> {
        Arc::clone(&DEFAULT)
    }

    /// How many hashes run at once.
    pub fn concurrent(&self) -> usize {
        self.concurrent
    }

    /// How many callers may wait.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Runs `work` on a blocking thread once a slot is free; a 503 when too many wait already.
    /// The slot is held by the blocking work itself, so a caller that goes away (a client that
    /// disconnects) does not free it while the hash still runs.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _waiting = Waiting::enter(&self.waiting, self.queued).ok_or_else(|| {
                    tracing::warn!(concurrent = self.concurrent, queued = self.queued, "password hashing at its bound");
                    AuthError::unavailable(RETRY_AFTER)
                })?;
                Arc::clone(&self.permits).acquire_owned().await.map_err(|_| AuthError::internal())?
            }
        };
        blocking::run(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(unavailable)
    }
}

/// One place in the queue, given back when dropped (also when the waiting caller goes away).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize, limit: usize) -> Option<Self> {
        count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).ok()?;
        Some(Waiting(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
