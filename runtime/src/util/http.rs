//! Reading an upstream's answer (an identity provider's): bounded, so a provider that sends
//! too much cannot make the server hold it.

/// Why a body was not read in full.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// More than the cap, by `Content-Length` or as it arrived.
    TooLarge,
    /// The connection failed or timed out mid-body.
    Transport(reqwest::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge => f.write_str("answer larger than the size cap"),
            ReadError::Transport(e) => e.fmt(f),
        }
    }
}

/// The body, refused as soon as it passes `cap` bytes (by its `Content-Length` or as it arrives).
pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|length| length > cap as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `text`, then each cause of `error` after a colon: what a log line needs to tell a refused
/// connection from a TLS failure from a timeout.
pub(crate) fn with_causes(mut text: String, error: &dyn std::error::Error) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
