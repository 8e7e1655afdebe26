//! The "jwt" strategy's full path (header parse, key choice, verify, claim checks, profile)
//! against a bare `jsonwebtoken::decode` of the same token with the same checks, for HS256,
//! RS256 and EdDSA; then the raw signature check under both jsonwebtoken backends, which is how
//! the default backend was chosen.
//!
//! `cargo bench -p authn-tests --bench jwt`

use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::test::TestRequest;
use authn::jwt::{Algorithm, JwtConfig, JwtKey, JwtStrategy};
use authn::{AuthenticationStrategy, StrategyOptions};
use authn_tests::http::quartiles;
use authn_tests::jwt::{BareClaims, SECRET, bare_validation, claims, key_file, sign};
use criterion::{Criterion, criterion_group};
use futures_util::FutureExt;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};

struct Case {
    name: &'static str,
    token: String,
    key: DecodingKey,
    validation: Validation,
    /// Verifies in full every time (the verified-token cache off).
    request: HttpRequest,
    /// The same with the cache on, as configured by default.
    cached: HttpRequest,
}

fn case(name: &'static str, alg: Algorithm, key: JwtKey, encoding: EncodingKey, decoding: DecodingKey) -> Case {
    let builder = || JwtConfig::builder().key(key.clone()).issuer("authn-tests").audience("todo");
    let token = sign(alg, &encoding, &claims(), None);
    let validation = bare_validation(alg);
    let request_with = |config: JwtConfig| {
        TestRequest::default()
            .insert_header(("authorization", format!("Bearer {token}")))
            .app_data(config)
            .to_http_request()
    };
    let request = request_with(builder().verified_token_cache(0).build().unwrap());
    let cached = request_with(builder().build().unwrap());
    Case { name, token, key: decoding, validation, request, cached }
}

fn cases() -> Vec<Case> {
    let rsa_private = key_file("rsa-private.pem");
    let rsa_public = key_file("rsa-public.pem");
    let ed_private = key_file("ed-private.pem");
    let ed_public = key_file("ed-public.pem");
    vec![
        case(
            "HS256",
            Algorithm::HS256,
            JwtKey::hmac(Algorithm::HS256, &SECRET).unwrap(),
            EncodingKey::from_secret(&SECRET),
            DecodingKey::from_secret(&SECRET),
        ),
        case(
            "RS256",
            Algorithm::RS256,
            JwtKey::from_pem(Algorithm::RS256, &rsa_public, None).unwrap(),
            EncodingKey::from_rsa_pem(&rsa_private).unwrap(),
            DecodingKey::from_rsa_pem(&rsa_public).unwrap(),
        ),
        case(
            "EdDSA",
            Algorithm::EdDSA,
            JwtKey::from_pem(Algorithm::EdDSA, &ed_public, None).unwrap(),
            EncodingKey::from_ed_pem(&ed_private).unwrap(),
            DecodingKey::from_ed_pem(&ed_public).unwrap(),
        ),
    ]
}

fn bare(case: &Case) {
    let data = jsonwebtoken::decode::<BareClaims>(&case.token, &case.key, &case.validation).unwrap();
    std::hint::black_box(data);
}

fn strategy(case: &Case) {
    let outcome = JwtStrategy.authenticate(&case.request, &StrategyOptions::EMPTY).now_or_never().unwrap().unwrap();
    std::hint::black_box(outcome);
}

fn cached(case: &Case) {
    let outcome = JwtStrategy.authenticate(&case.cached, &StrategyOptions::EMPTY).now_or_never().unwrap().unwrap();
    std::hint::black_box(outcome);
}

fn paths(c: &mut Criterion) {
    for case in cases() {
        strategy(&case); // fails loudly if the set-up is wrong
        let mut group = c.benchmark_group(case.name);
        group.bench_function("bare jsonwebtoken::decode", |b| b.iter(|| bare(&case)));
        group.bench_function("authn jwt strategy", |b| b.iter(|| strategy(&case)));
        group.bench_function("authn jwt strategy, cached", |b| b.iter(|| cached(&case)));
        group.finish();
    }
}

/// Alternating rounds, median of per-round ratios: robust on a noisy machine.
fn ratios() {
    for case in cases() {
        let rounds = 21;
        let n = if case.name == "RS256" { 400 } else { 2_000 };
        let time = |f: &dyn Fn(&Case)| {
            let start = Instant::now();
            for _ in 0..n {
                f(&case);
            }
            start.elapsed().as_secs_f64() / f64::from(n)
        };
        let (mut ratios, mut cached_ratios, mut bare_times) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let b = time(&bare);
            bare_times.push(b);
            ratios.push(time(&strategy) / b);
            cached_ratios.push(time(&cached) / b);
        }
        let (bare_median, _, _) = quartiles(bare_times);
        let (median, low, high) = quartiles(ratios);
        let (c_median, c_low, c_high) = quartiles(cached_ratios);
        println!(
            "{}: bare decode {:.2} us; authn strategy / bare = {median:.3} (quartiles {low:.3}..{high:.3}); \
             cached / bare = {c_median:.3} (quartiles {c_low:.3}..{c_high:.3})",
            case.name,
            bare_median * 1e6
        );
    }
}

/// The raw signature check per backend, called through each provider directly.
fn backends() {
    use jsonwebtoken::crypto::{aws_lc, rust_crypto};
    for case in cases() {
        let alg = case.validation.algorithms[0];
        let (message, signature) = case.token.rsplit_once('.').unwrap();
        let signature = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature).unwrap();
        let mut line = format!("{} signature check:", case.name);
        for (name, provider) in
            [("aws_lc_rs", &aws_lc::DEFAULT_PROVIDER), ("rust_crypto", &rust_crypto::DEFAULT_PROVIDER)]
        {
            let verifier = (provider.verifier_factory)(&alg, &case.key).unwrap();
            let n = if case.name == "RS256" { 300 } else { 3_000 };
            let mut samples: Vec<Duration> = (0..9)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..n {
                        verifier.verify(message.as_bytes(), &signature).unwrap();
                    }
                    start.elapsed() / n
                })
                .collect();
            samples.sort();
            line.push_str(&format!(" {name} {:.1} us", samples[4].as_secs_f64() * 1e6));
        }
        println!("{line}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = paths
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        ratios();
        backends();
    }
}
