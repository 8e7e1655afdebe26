//! Crash safety: the server is killed with SIGKILL in the middle of a write load; after a
//! restart on the same data directory every acknowledged write is there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    address: SocketAddr,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(data_dir: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_todo-jwt"))
        .env("PORT", port.to_string())
        .env("DATA_DIR", data_dir)
        .env("WORKERS", "2")
        .env_remove("JWT_SECRET")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, address }
}

/// One HTTP/1.1 request on a keep-alive connection; the status and the JSON body.
fn call(
    stream: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
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
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut bytes = vec![0; length];
    stream.read_exact(&mut bytes)?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

fn connect(server: &Server) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(server.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    BufReader::new(stream)
}

#[test]
fn no_acknowledged_write_is_lost_to_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let mut conn = connect(&server);
    let credentials = json!({"email": "crash@test.io", "password": "crash-test"});
    assert_eq!(call(&mut conn, "POST", "/signup", None, Some(&credentials)).unwrap().0, 200);
    let (_, login) = call(&mut conn, "POST", "/users/login", None, Some(&credentials)).unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // Write until killed; remember every todo the server acknowledged.
    let writer_token = token.clone();
    let writer_address = server.address;
    let writer = std::thread::spawn(move || {
        let stream = TcpStream::connect(writer_address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut conn = BufReader::new(stream);
        let mut acknowledged = Vec::new();
        for i in 0.. {
            match call(&mut conn, "POST", "/todos", Some(&writer_token), Some(&json!({"title": format!("todo {i}")}))) {
                Ok((200, todo)) => acknowledged.push(todo["id"].as_i64().unwrap()),
                _ => break,
            }
        }
        acknowledged
    });
    std::thread::sleep(Duration::from_millis(700));
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
    let acknowledged = writer.join().unwrap();
    assert!(acknowledged.len() > 5, "the load ran ({} writes)", acknowledged.len());

    let mut server = start(dir.path());
    let mut conn = connect(&server);
    // The generated secret was kept: the old token still works.
    let (status, todos) = call(&mut conn, "GET", "/todos", Some(&token), None).unwrap();
    assert_eq!(status, 200);
    let stored: Vec<i64> = todos.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let lost: Vec<_> = acknowledged.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
