//! Authentication runs before the body is read, on a real socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_web::{App, post, web};
use authn::{CurrentUser, authenticate};
use authn_tests::http::serve;
// Registers the "header" strategy; named, or the linker drops it.
use authn_tests as _;

#[authenticate("header")]
#[post("/upload")]
async fn upload(user: CurrentUser, body: web::Bytes) -> String {
    format!("{} {}", user.id, body.len())
}

fn post_head(length: usize, user: Option<&str>) -> String {
    let user = user.map(|u| format!("X-User: {u}\r\n")).unwrap_or_default();
    format!("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n{user}Connection: close\r\n\r\n")
}

#[actix_rt::test]
async fn an_unauthenticated_10_mb_post_is_answered_401_without_reading_the_body() {
    let (address, handle) = serve(|| App::new().app_data(web::PayloadConfig::new(64 * 1024 * 1024)).service(upload));

    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Announce 10 MB, send only 1 KB of it, then wait: a server that buffered the body
        // before authenticating would never answer.
        stream.write_all(post_head(10 * 1024 * 1024, None).as_bytes()).unwrap();
        stream.write_all(&[b'x'; 1024]).unwrap();
        let mut response = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    response.extend_from_slice(&buffer[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") && response.ends_with(b"}") {
                        break;
                    }
                }
                Err(e) => panic!("no answer while the body was still unsent: {e}"),
            }
        }
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("www-authenticate: header"), "{answer}");

    // Authenticated, the same upload is read whole.
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let length = 10 * 1024 * 1024;
        stream.write_all(post_head(length, Some("ada")).as_bytes()).unwrap();
        stream.write_all(&vec![b'x'; length]).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ada 10485760"), "{answer}");
    handle.stop(true).await;
}
