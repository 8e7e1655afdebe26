//! The README's Quick start, run as written: its code block becomes the `src/main.rs` of a fresh
//! crate with the dependencies the README tells a newcomer to add, which is built, started on a
//! free 127.0.0.1 port, and logged in to over HTTP.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authn_tests as _;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// 44 characters, as `openssl rand -base64 32` prints.
const SECRET: &str = "q3mQ0w1f0Zl3rN2pX7yKc9vB4tH6sJ8eA5dG1uR0iLo=";

/// The first fenced block after the heading, and the `cargo add` line before it.
fn quick_start() -> (String, Vec<String>) {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).expect("README.md");
    let section = &readme[readme.find("## Quick start").expect("a Quick start")..];
    let add = section.find("cargo add ").expect("the dependencies to add");
    let dependencies = section[add + "cargo add ".len()..]
        .split(['`', ')'])
        .next()
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let open = section.find("```rust").expect("a Rust block");
    let body = &section[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    (body[..body.find("\n```").unwrap() + 1].to_owned(), dependencies)
}

/// The fresh crate, built once per run into its own target directory under `target/` (the
/// workspace's is locked by the `cargo test` running this).
fn build_fresh_crate() -> PathBuf {
    let (main, dependencies) = quick_start();
    let dir = PathBuf::from(format!("{ROOT}/target/readme-quick-start"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let runtime = std::fs::canonicalize(format!("{ROOT}/runtime")).unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"hello-authn\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\n",
    );
    for dependency in &dependencies {
        match dependency.as_str() {
            "authn" => manifest.push_str(&format!("authn = {{ path = {:?} }}\n", runtime.display().to_string())),
            other => manifest.push_str(&format!("{other} = \"*\"\n")),
        }
    }
    assert!(dependencies.iter().any(|d| d == "authn"), "{dependencies:?}");
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    // The workspace's versions, so the crate builds what the tests built (new ones are added).
    std::fs::copy(format!("{ROOT}/Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the Quick start does not build as written in a fresh crate");
    dir.join("target/debug/hello-authn")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(binary: &Path, secret: Option<&str>, port: u16) -> Child {
    let mut command = Command::new(binary);
    command.env("PORT", port.to_string()).env_remove("JWT_SECRET").stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(secret) = secret {
        command.env("JWT_SECRET", secret);
    }
    command.spawn().expect("the Quick start binary starts")
}

/// Waits (bounded) until the server accepts connections.
fn wait_for(port: u16, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(server.try_wait().unwrap().is_none(), "the server exited before listening");
        assert!(Instant::now() < deadline, "the server did not listen within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr_of(mut child: Child) -> (Option<i32>, String) {
    let status = child.wait().unwrap();
    let mut text = String::new();
    child.stderr.take().unwrap().read_to_string(&mut text).unwrap();
    (status.code(), text)
}

#[actix_rt::test]
async fn the_quick_start_as_written_gives_a_working_login() {
    let binary = build_fresh_crate();

    // Without a secret, or with a short one, it says what to do and does not serve.
    let (code, stderr) = stderr_of(start(&binary, None, free_port()));
    assert_ne!(code, Some(0));
    assert!(stderr.contains("export JWT_SECRET=$(openssl rand -base64 32)"), "{stderr}");
    let (code, stderr) = stderr_of(start(&binary, Some("short"), free_port()));
    assert_ne!(code, Some(0));
    assert!(stderr.contains("32"), "{stderr}");

    let port = free_port();
    let mut server = Server(start(&binary, Some(SECRET), port));
    wait_for(port, &mut server.0);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let login = |password: &'static str| {
        client
            .post(format!("{base}/users/login"))
            .json(&serde_json::json!({"email": "ada@example.com", "password": password}))
            .send()
    };
    let answer = login("correct horse battery staple").await.unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    let token = body["token"].as_str().expect("a token").to_owned();
    assert!(body["expiresIn"].as_u64().is_some_and(|s| s > 0), "{body}");

    let me = client.get(format!("{base}/whoAmI")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.text().await.unwrap(), "1 (Ada)");

    let wrong = login("wrong").await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid email or password.");

    let anonymous = client.get(format!("{base}/whoAmI")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let forged = client.get(format!("{base}/whoAmI")).bearer_auth(format!("{token}x")).send().await.unwrap();
    assert_eq!(forged.status(), 401);
}
