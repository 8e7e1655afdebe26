//! The real binary as a test talks to it: started on a port it picks itself, killed with
//! SIGKILL, and HTTP/1.1 on keep-alive connections written by hand (no client library between
//! the test and what the server sends).

#![allow(dead_code)] // each test binary uses its part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub struct Server {
    child: Child,
    pub address: SocketAddr,
    /// Kept open (and drained) so the server never blocks on a full pipe.
    _log: std::thread::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on port 0 with `data_dir` and `env`, and reads the address it bound from
/// its log: no port is picked here and released for the server to race for, and no fixed sleep
/// waits for it. `JWT_SECRET` is unset unless `env` sets it.
pub fn start_with(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_todo-jwt"));
    command
        .env("PORT", "0")
        .env("DATA_DIR", data_dir)
        .env("WORKERS", "2")
        .env_remove("JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (found, address) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr: ChildStderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let _stderr = stderr;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on http://".len()..];
                let address: String =
                    rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
                let _ = found.send(address);
            }
        }
    });
    let address = address.recv_timeout(Duration::from_secs(60)).expect("the server did not start");
    Server { child, address: address.parse().unwrap(), _log: log }
}

/// On SQLite in `data_dir`, with the secret it generates there.
pub fn start(data_dir: &std::path::Path) -> Server {
    start_with(data_dir, &[])
}

pub fn kill(mut server: Server) {
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
}

/// What a request got back.
pub struct Response {
    pub status: u16,
    /// The JSON body (a text body as a JSON string).
    pub body: Value,
    pub retry_after: Option<String>,
}

/// One HTTP/1.1 request on a keep-alive connection; the status and the JSON body.
pub fn call(
    stream: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    request(stream, method, path, token, body).map(|r| (r.status, r.body))
}

/// The same, with the headers a test reads.
pub fn request(
    stream: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<Response> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(head.as_bytes())?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line)?;
    let status: u16 = status_line.get(9..12).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let (mut length, mut retry_after) = (0, None);
    loop {
        let mut line = String::new();
        stream.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if let Some(value) = lower.strip_prefix("retry-after:") {
            retry_after = Some(value.trim().to_owned());
        }
    }
    let mut bytes = vec![0; length];
    stream.read_exact(&mut bytes)?;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Ok(Response { status, body, retry_after })
}

pub fn connect(server: &Server) -> BufReader<TcpStream> {
    connect_to(server.address)
}

/// A connection to `address`, for a thread that holds the address and not the server.
pub fn connect_to(address: SocketAddr) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    BufReader::new(stream)
}

/// Signs `email` up (password `crash-test`) and logs in: an access token.
pub fn login(conn: &mut BufReader<TcpStream>, email: &str) -> String {
    let credentials = json!({"email": email, "password": "crash-test"});
    assert_eq!(call(conn, "POST", "/signup", None, Some(&credentials)).unwrap().0, 200);
    let (_, login) = call(conn, "POST", "/users/login", None, Some(&credentials)).unwrap();
    login["token"].as_str().unwrap().to_owned()
}
