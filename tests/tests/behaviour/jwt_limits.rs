//! Oversized input on a real socket: a 64 KiB Authorization header is a 4xx, never a 5xx, and
//! the server keeps answering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_web::{App, get};
use authn::{CurrentUser, authenticate};
use authn_tests::http::serve;
use authn_tests::jwt::{claims, config_builder, sign_hs256};

#[authenticate("jwt")]
#[get("/me")]
async fn me(user: CurrentUser) -> String {
    user.id.clone()
}

fn request(address: std::net::SocketAddr, authorization: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!("GET /me HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n");
    // The server may answer and close before reading everything: ignore a broken pipe.
    let _ = stream.write_all(head.as_bytes());
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[actix_rt::test]
async fn a_64_kib_header_is_a_4xx_and_the_server_still_answers() {
    let config = config_builder().build().unwrap();
    let (address, handle) = serve(move || App::new().app_data(config.clone()).service(me));

    let huge = format!("Bearer {}", "a".repeat(64 * 1024));
    let answer = actix_web::rt::task::spawn_blocking(move || request(address, &huge)).await.unwrap();
    let status: u16 = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "expected a 4xx, got: {}", &answer[..answer.len().min(200)]);

    let valid = format!("Bearer {}", sign_hs256(&claims()));
    let answer = actix_web::rt::task::spawn_blocking(move || request(address, &valid)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    handle.stop(true).await;
}
