//! Wall-clock time as the tokens, keys and login flows store it: whole seconds since the Unix
//! epoch (a clock set before 1970 reads 0 rather than failing a request).

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` in seconds since the epoch.
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Now, in seconds since the epoch.
pub(crate) fn now() -> u64 {
    unix_seconds(SystemTime::now())
}
