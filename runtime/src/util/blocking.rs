//! Runs CPU- or disk-bound work (argon2, SQLite) off the async executor when there is a tokio
//! runtime, inline otherwise (e.g. a test driving a future by hand).

use crate::util::storage::StoreError;

pub(crate) async fn run<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(work).await.map_err(|e| StoreError::new("blocking task", e)),
        Err(_) => Ok(work()),
    }
}
