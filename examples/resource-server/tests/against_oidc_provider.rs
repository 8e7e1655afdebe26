//! The example as a user runs it: the binary, pointed at a real identity provider (node
//! oidc-provider, started by the test), called over HTTP.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authn_tests::idp::{AUDIENCE, Idp, free_port, key_file};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// The binary with `--issuer`/`--audience`/`--port` flags, or the same from the environment.
    fn start(issuer: &str, by_env: bool) -> Server {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_resource-server"));
        if by_env {
            command.env("ISSUER", issuer).env("AUDIENCE", AUDIENCE).env("PORT", port.to_string());
        } else {
            command.args(["--issuer", issuer, "--audience", AUDIENCE, "--port", &port.to_string()]);
        }
        let child = command.env("RUST_LOG", "warn").stdout(Stdio::null()).spawn().unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_rt::test]
async fn serves_the_providers_callers_and_no_one_else() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    for by_env in [false, true] {
        let server = Server::start(&idp.issuer, by_env);
        let ping = server.get("/ping", None).await;
        assert_eq!(ping.status(), 200);

        let anonymous = server.get("/whoAmI", None).await;
        assert_eq!(anonymous.status(), 401);
        assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

        let token = idp.token().await;
        let me = server.get("/whoAmI", Some(&token)).await;
        assert_eq!(me.status(), 200);
        assert!(me.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(me.text().await.unwrap(), "machine");
        assert_eq!(server.get("/scoped", Some(&token)).await.status(), 200);

        let writer = idp.token_with_scope("todo:write").await;
        let refused = server.get("/scoped", Some(&writer)).await;
        assert_eq!(refused.status(), 403);
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains(r#"error="insufficient_scope""#), "{challenge}");

        let forged = format!("{}x", &token[..token.len() - 1]);
        assert_eq!(server.get("/whoAmI", Some(&forged)).await.status(), 401);
    }
}

#[actix_rt::test]
async fn starts_without_its_provider_and_answers_503_until_it_is_there() {
    let server = Server::start(&format!("http://127.0.0.1:{}", free_port()), false);
    assert_eq!(server.get("/ping", None).await.status(), 200);
    let answer = server.get("/whoAmI", Some("a.b.c")).await;
    assert_eq!(answer.status(), 503);
    assert!(answer.headers().contains_key("retry-after"));
}
