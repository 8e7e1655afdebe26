//! The identity provider of the remote-key tests: node oidc-provider (`tests/idp/`), installed
//! from its committed lockfile on first use and started on a free 127.0.0.1 port, issuing real
//! client-credentials access tokens (RFC 9068 JWTs for [`AUDIENCE`]). Its middleware, the
//! tests' own, counts `/jwks` fetches, sets `Cache-Control` and fakes an outage on demand.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// The resource (audience) the provider issues access tokens for.
pub const AUDIENCE: &str = "https://api.test";

fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("idp")
}

/// `npm ci` once per test run, from the committed lockfile.
/// The provider's folder, its packages installed.
pub fn installed() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = idp_dir();
        if !dir.join("node_modules/oidc-provider").exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| panic!("these tests need node and npm (for tests/idp's oidc-provider): {e}"));
            assert!(status.success(), "npm ci in tests/idp failed");
        }
        dir
    })
}

/// A private JWK Set with one RS256 key per kid, written to a file of its own.
pub fn key_file(kids: &[&str]) -> tempfile::NamedTempFile {
    let output = Command::new("node").arg("keys.mjs").args(kids).current_dir(installed()).output().unwrap();
    assert!(output.status.success(), "keys.mjs: {}", String::from_utf8_lossy(&output.stderr));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &output.stdout).unwrap();
    file
}

/// A token signed with one of the file's keys, with whatever claims (`mode` `RS256`, or
/// `HS256-public-key` for the forgery keyed with the public key).
pub fn signed(keys: &tempfile::NamedTempFile, kid: &str, claims: &Value, mode: &str) -> String {
    let output = Command::new("node")
        .arg("sign.mjs")
        .arg(keys.path())
        .args([kid, &claims.to_string(), "at+jwt", mode])
        .current_dir(installed())
        .output()
        .unwrap();
    assert!(output.status.success(), "sign.mjs: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A running provider, stopped when dropped.
pub struct Idp {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// `http://127.0.0.1:{port}`, as its tokens' `iss`.
    pub issuer: String,
    env: Vec<(String, String)>,
}

/// A port nothing listens on (for now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Idp {
    /// Starts the provider with these keys and extra environment (`JWKS_CACHE_CONTROL`, `ACCESS_TTL`, `REDIRECT_URI`).
    pub fn start(keys: &tempfile::NamedTempFile, env: &[(&str, &str)]) -> Idp {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Idp::spawn(free_port(), keys.path(), env)
    }

    fn spawn(port: u16, keys: &Path, env: Vec<(String, String)>) -> Idp {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(installed())
            .env("PORT", port.to_string())
            .env("JWKS_FILE", keys)
            .env("AUDIENCE", AUDIENCE)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let mut output = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        assert!(line.starts_with("listening"), "oidc-provider did not start: {line:?}");
        // Drained for the process's life: a closed pipe would kill it at its next line.
        std::thread::spawn(move || std::io::copy(&mut output, &mut std::io::sink()));
        Idp { child, port, issuer: format!("http://127.0.0.1:{port}"), env }
    }

    /// The provider restarted on the same port with other keys (its fetch count starts over).
    pub fn restart(&mut self, keys: &tempfile::NamedTempFile) {
        self.stop();
        *self = Idp::spawn(self.port, keys.path(), std::mem::take(&mut self.env));
    }

    /// Stops it (the port stays free for a restart).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A client-credentials access token with scope `todo:read`.
    pub async fn token(&self) -> String {
        self.token_with_scope("todo:read").await
    }

    /// A client-credentials access token granting `scope` only.
    pub async fn token_with_scope(&self, scope: &str) -> String {
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth("machine", Some("machine-secret-machine-secret-machine-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", scope), ("resource", AUDIENCE)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().unwrap_or_else(|| panic!("no token: {answer}")).to_owned()
    }

    /// How many times `/jwks` was fetched since the provider started.
    pub async fn jwks_fetches(&self) -> u64 {
        let stats: Value = reqwest::get(format!("{}/test/stats", self.issuer)).await.unwrap().json().await.unwrap();
        stats["jwks"].as_u64().unwrap()
    }

    /// Changes how `/jwks` answers: `status=503`, `status=200`, `cache_control=max-age=60`.
    pub async fn jwks(&self, query: &str) {
        let url = format!("{}/test/jwks?{query}", self.issuer);
        assert!(reqwest::Client::new().post(url).send().await.unwrap().status().is_success());
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
    }
}
