//! Per-request cost of authn's dispatch (route spec, resolved strategies, chain, injected
//! extractor and `CurrentUser`) with a no-op strategy, against the same request to a bare
//! handler, in the same run. Each sample runs its requests inside one actix `System`, so only
//! the request pipeline is timed.
//!
//! `cargo bench -p authn-tests --bench dispatch`; the ratio is printed at the end.

use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use authn::{CurrentUser, authenticate};
use criterion::{Criterion, criterion_group};

use authn_tests::http::{quartiles, serve};

#[get("/bare")]
async fn bare() -> &'static str {
    "ok"
}

#[authenticate("noop")]
#[get("/authn")]
async fn with_authn(_user: CurrentUser) -> &'static str {
    "ok"
}

#[authenticate("pass", "noop")]
#[get("/authn-second")]
async fn with_second_strategy(_user: CurrentUser) -> &'static str {
    "ok"
}

fn run(path: &'static str, iters: u64) -> Duration {
    actix_rt::System::new().block_on(async move {
        let app = init_service(App::new().service(bare).service(with_authn).service(with_second_strategy)).await;
        // Warm the route's strategy cache and the registry outside the timing.
        let warm: ServiceResponse = app.call(TestRequest::get().uri(path).to_request()).await.unwrap();
        assert!(warm.status().is_success());
        let start = Instant::now();
        for _ in 0..iters {
            let response = app.call(TestRequest::get().uri(path).to_request()).await.unwrap();
            std::hint::black_box(response);
        }
        start.elapsed()
    })
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    group.bench_function("bare handler", |b| b.iter_custom(|iters| run("/bare", iters)));
    group.bench_function("authn, no-op strategy", |b| b.iter_custom(|iters| run("/authn", iters)));
    group.bench_function("authn, pass then no-op", |b| b.iter_custom(|iters| run("/authn-second", iters)));
    group.finish();
}

/// The machine is noisy: besides criterion's separate timings, time the two routes in
/// alternating rounds within one app and report the median of the per-round ratios.
fn interleaved_ratios() {
    const ROUNDS: usize = 31;
    const REQUESTS: u32 = 20_000;
    let ratios = actix_rt::System::new().block_on(async {
        let app = init_service(App::new().service(bare).service(with_authn).service(with_second_strategy)).await;
        let time = |path: &'static str| {
            let app = &app;
            async move {
                let start = Instant::now();
                for _ in 0..REQUESTS {
                    let response = app.call(TestRequest::get().uri(path).to_request()).await.unwrap();
                    std::hint::black_box(response);
                }
                start.elapsed().as_secs_f64()
            }
        };
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let base = time("/bare").await;
            one.push(time("/authn").await / base);
            two.push(time("/authn-second").await / base);
        }
        [one, two]
    });
    for (name, ratios) in ["authn, no-op strategy", "authn, pass then no-op"].into_iter().zip(ratios) {
        let (median, low, high) = quartiles(ratios);
        println!(
            "in process, ratio to bare handler, {name}: median {median:.3} (quartiles {low:.3}..{high:.3}, {ROUNDS} alternating rounds of {REQUESTS})"
        );
    }
}

/// The same comparison over loopback TCP with HTTP/1.1 keep-alive: what a client sees.
fn interleaved_ratios_over_tcp() {
    use std::io::{Read, Write};
    const ROUNDS: usize = 21;
    const REQUESTS: u32 = 5_000;
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let system = actix_rt::System::new();
        system.block_on(async move {
            tx.send(serve(|| App::new().service(bare).service(with_authn).service(with_second_strategy))).unwrap();
            // Keep the system alive until the handle stops the server.
            std::future::pending::<()>().await;
        })
    });
    let (address, handle) = rx.recv().unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buffer = [0u8; 1024];
    let mut time = |path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        let start = Instant::now();
        for _ in 0..REQUESTS {
            stream.write_all(request.as_bytes()).unwrap();
            // Every answer ends with the two-byte body "ok".
            let mut seen = Vec::new();
            while !seen.ends_with(b"\r\n\r\nok") {
                let n = stream.read(&mut buffer).unwrap();
                assert!(n > 0, "server closed the connection");
                seen.extend_from_slice(&buffer[..n]);
            }
        }
        start.elapsed().as_secs_f64()
    };
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let base = time("/bare");
        one.push(time("/authn") / base);
        two.push(time("/authn-second") / base);
    }
    for (name, ratios) in ["authn, no-op strategy", "authn, pass then no-op"].into_iter().zip([one, two]) {
        let (median, low, high) = quartiles(ratios);
        println!(
            "over TCP, ratio to bare handler, {name}: median {median:.3} (quartiles {low:.3}..{high:.3}, {ROUNDS} alternating rounds of {REQUESTS})"
        );
    }
    actix_rt::System::new().block_on(handle.stop(true));
    // The server's thread stays parked until the process exits.
    drop(server);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = dispatch
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs this binary with `--bench` absent: keep that quick.
    if std::env::args().any(|a| a == "--bench") {
        interleaved_ratios();
        interleaved_ratios_over_tcp();
    }
}
