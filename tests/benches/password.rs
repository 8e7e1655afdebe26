//! What one login's password check costs: authn's argon2id at OWASP's parameters (m=19 MiB,
//! t=2, p=1) against LoopBack's bcrypt at its default cost (10 rounds, bcryptjs's `genSalt()`),
//! in alternating rounds of the same run, one thread.
//!
//! `cargo bench -p authn-tests --bench password`

use std::time::Instant;

use authn::users::PasswordHasher;
use authn_tests::http::quartiles;

fn main() {
    let runtime = actix_web::rt::System::new();
    let hasher = PasswordHasher::default();
    let argon2_hash = runtime.block_on(hasher.hash("correct horse battery staple")).unwrap();
    let bcrypt_hash = bcrypt::hash("correct horse battery staple", 10).unwrap();
    let argon2 = || {
        let ok = runtime.block_on(hasher.verify("correct horse battery staple", Some(&argon2_hash))).unwrap();
        assert!(ok);
    };
    let bcrypt = || assert!(bcrypt::verify("correct horse battery staple", &bcrypt_hash).unwrap());
    let time = |f: &dyn Fn(), n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64() * 1e3 / f64::from(n)
    };
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..11 {
        let x = time(&argon2, 10);
        let y = time(&bcrypt, 10);
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    let (a, _, _) = quartiles(a);
    let (b, _, _) = quartiles(b);
    let (mid, low, high) = quartiles(ratios);
    println!(
        "password check: argon2id (m=19 MiB, t=2, p=1) {a:.1} ms; bcrypt cost 10 {b:.1} ms; \
         argon2id / bcrypt = {mid:.2} (quartiles {low:.2}..{high:.2})"
    );
}
