//! The HS256 secret: `JWT_SECRET`, or one generated on first start and kept with the data (mode
//! 0600), so tokens survive a restart without anyone choosing a weak secret.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Where the secret came from, for the start-up log (never the secret itself).
#[derive(Debug, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File(PathBuf),
    Generated(PathBuf),
}

/// The secret from `env` (at least 32 bytes), else from `<data_dir>/jwt-secret`, else a new one.
pub fn load(data_dir: &Path, env: Option<String>) -> Result<(Vec<u8>, Origin), String> {
    if let Some(secret) = env.filter(|s| !s.is_empty()) {
        if secret.len() < 32 {
            return Err(format!("JWT_SECRET is {} bytes; it must be at least 32 bytes (256 bits)", secret.len()));
        }
        return Ok((secret.into_bytes(), Origin::Environment));
    }
    let path = data_dir.join("jwt-secret");
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = STANDARD.decode(text.trim()).map_err(|e| format!("{} is not base64: {e}", path.display()))?;
            if secret.len() < 32 {
                return Err(format!("{} holds fewer than 32 bytes", path.display()));
            }
            Ok((secret, Origin::File(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| format!("no randomness for a secret: {e}"))?;
            write_private(&path, STANDARD.encode(&secret).as_bytes())?;
            Ok((secret, Origin::Generated(path)))
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut file = create_private(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Creates `path`, which must not exist, readable and writable by its owner only (mode 0600 on
/// Unix): the secret, and the database that holds password hashes.
pub(crate) fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (first, origin) = load(dir.path(), None).unwrap();
        assert_eq!(first.len(), 32);
        assert!(matches!(origin, Origin::Generated(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("jwt-secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, origin) = load(dir.path(), None).unwrap();
        assert_eq!(first, second);
        assert!(matches!(origin, Origin::File(_)));
    }

    #[test]
    fn environment_wins_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), Some("short".into())).unwrap_err().contains("at least 32 bytes"));
        let (secret, origin) = load(dir.path(), Some("x".repeat(40))).unwrap();
        assert_eq!((secret.len(), origin), (40, Origin::Environment));
        assert!(!dir.path().join("jwt-secret").exists());
    }
}
