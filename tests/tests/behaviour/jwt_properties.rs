//! Property tests of the claim time windows: `exp` and `nbf` against the clock with leeway.

use std::time::Duration;

use authn::jwt::{JwtTokenService, TokenService};
use authn_tests::jwt::{claims, config_builder, now, sign_hs256};
use futures_util::FutureExt;
use proptest::prelude::*;

const LEEWAY: i64 = 30;
/// Seconds around a boundary where the clock may tick during the test: not asserted.
const MARGIN: i64 = 3;

fn service() -> JwtTokenService {
    let config = config_builder().leeway(Duration::from_secs(LEEWAY as u64)).build().unwrap();
    JwtTokenService::new(config)
}

fn accepted(service: &JwtTokenService, claims: &serde_json::Value) -> bool {
    // No store: verification completes without waiting.
    service.verify_token(&sign_hs256(claims)).now_or_never().expect("no I/O").is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn exp_is_honoured_with_leeway(offset in -10_000i64..10_000) {
        prop_assume!((offset + LEEWAY).abs() > MARGIN);
        let service = service();
        let mut c = claims();
        c["exp"] = serde_json::json!((now() as i64 + offset).max(0));
        c["iat"] = serde_json::json!(now() - 20_000);
        prop_assert_eq!(accepted(&service, &c), offset > -LEEWAY);
    }

    #[test]
    fn nbf_is_honoured_with_leeway(offset in -10_000i64..10_000) {
        prop_assume!((offset - LEEWAY).abs() > MARGIN);
        let service = service();
        let mut c = claims();
        c["nbf"] = serde_json::json!((now() as i64 + offset).max(0));
        c["exp"] = serde_json::json!(now() + 20_000);
        prop_assert_eq!(accepted(&service, &c), offset < LEEWAY);
    }

    #[test]
    fn issued_at_in_the_future_is_refused(offset in 0i64..10_000) {
        prop_assume!((offset - LEEWAY).abs() > MARGIN);
        let service = service();
        let mut c = claims();
        c["iat"] = serde_json::json!(now() as i64 + offset);
        c["exp"] = serde_json::json!(now() + 20_000);
        prop_assert_eq!(accepted(&service, &c), offset < LEEWAY);
    }
}
