//! LoopBack's JWT acceptance cases (extensions/authentication-jwt and examples/todo-jwt),
//! through real requests, plus refresh rotation, replay detection, logout and scopes.

use actix_web::App;
use actix_web::test::{TestRequest, init_service};
use authn_tests::http::{get, send};
use authn_tests::jwt::{self, EMAIL, PASSWORD, USER_ID, routes};
use serde_json::json;

macro_rules! app {
    () => {
        init_service(App::new().configure(routes(jwt::memory_services().await))).await
    };
}

fn credentials() -> serde_json::Value {
    json!({"email": EMAIL, "password": PASSWORD})
}

#[actix_rt::test]
async fn login_then_who_am_i_returns_the_user_id() {
    let app = app!();
    let login = send(&app, TestRequest::post().uri("/users/login").set_json(credentials())).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let me = send(&app, get("/whoAmI").insert_header(("authorization", format!("Bearer {token}")))).await;
    assert_eq!((me.status, me.body.as_str()), (200, USER_ID));
}

#[actix_rt::test]
async fn login_failures_all_say_the_same() {
    let app = app!();
    for body in [json!({"email": EMAIL, "password": "wrong"}), json!({"email": "nobody@x.io", "password": PASSWORD})] {
        let answer = send(&app, TestRequest::post().uri("/users/login").set_json(body)).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json()["error"]["message"], "Invalid email or password.");
    }
}

#[actix_rt::test]
async fn name_email_and_claims_survive_the_round_trip() {
    let app = app!();
    let login = send(&app, TestRequest::post().uri("/users/login").set_json(credentials())).await;
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let profile = send(&app, get("/profile").insert_header(("authorization", format!("Bearer {token}")))).await;
    assert_eq!(
        profile.json(),
        json!({"id": USER_ID, "name": "Test User", "email": EMAIL, "role": "tester", "scopes": ["todo:read"]})
    );
}

#[actix_rt::test]
async fn missing_header() {
    let app = app!();
    let answer = send(&app, get("/whoAmI")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.message(), "Authorization header not found.");
    // RFC 6750 §3.1: no `error` when no credentials were sent.
    assert_eq!(answer.challenges, [r#"Bearer realm="todo""#]);
}

#[actix_rt::test]
async fn wrong_scheme() {
    let app = app!();
    let answer = send(&app, get("/whoAmI").insert_header(("authorization", "NotB3arer aaa.bbb.ccc"))).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "Authorization header is not of type 'Bearer'."));
    assert_eq!(answer.challenges, [r#"Bearer realm="todo""#]);
}

#[actix_rt::test]
async fn the_scheme_is_case_insensitive() {
    let app = app!();
    let token = jwt::sign_hs256(&jwt::claims());
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let answer = send(&app, get("/whoAmI").insert_header(("authorization", format!("{scheme} {token}")))).await;
        assert_eq!(answer.status, 200, "{scheme}");
    }
}

#[actix_rt::test]
async fn too_many_parts() {
    let app = app!();
    let answer = send(&app, get("/whoAmI").insert_header(("authorization", "Bearer aaa.bbb.ccc extra"))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.message(),
        "Authorization header value has too many parts. It must follow the pattern: 'Bearer xx.yy.zz' where xx.yy.zz is a valid JWT token."
    );
    assert!(answer.challenges[0].contains(r#"error="invalid_token""#), "{:?}", answer.challenges);
}

#[actix_rt::test]
async fn expired_token() {
    let app = app!();
    let mut claims = jwt::claims();
    claims["exp"] = json!(jwt::now() - 3600);
    claims["iat"] = json!(jwt::now() - 7200);
    let answer =
        send(&app, get("/whoAmI").insert_header(("authorization", format!("Bearer {}", jwt::sign_hs256(&claims)))))
            .await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "Error verifying token : jwt expired"));
    assert_eq!(answer.challenges, [r#"Bearer realm="todo", error="invalid_token", error_description="jwt expired""#]);
}

#[actix_rt::test]
async fn loopback_invalid_and_malformed_tokens() {
    let app = app!();
    for (token, message) in [
        ("aaa.bbb.ccc", "Error verifying token : invalid token"),
        ("aaa.bbb.ccc.ddd", "Error verifying token : jwt malformed"),
        ("aaa", "Error verifying token : jwt malformed"),
    ] {
        let answer = send(&app, get("/whoAmI").insert_header(("authorization", format!("Bearer {token}")))).await;
        assert_eq!((answer.status, answer.message().as_str()), (401, message), "{token}");
        assert!(!answer.body.contains(token), "the token is never echoed");
    }
    let answer = send(&app, get("/whoAmI").insert_header(("authorization", "Bearer "))).await;
    assert_eq!(answer.message(), "Error verifying token : 'token' is null");
}

#[actix_rt::test]
async fn refresh_login_refresh_and_who_am_i_with_the_refreshed_token() {
    let app = app!();
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(credentials())).await;
    assert_eq!(pair.status, 200, "{}", pair.body);
    let pair = pair.json();
    assert!(pair["accessToken"].is_string() && pair["refreshToken"].is_string());
    assert_eq!(pair["expiresIn"], 600);

    let refreshed =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]}))).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let refreshed = refreshed.json();
    assert_ne!(refreshed["refreshToken"], pair["refreshToken"], "the refresh token rotates");
    let access = refreshed["accessToken"].as_str().unwrap();
    let me = send(&app, get("/whoAmI").insert_header(("authorization", format!("Bearer {access}")))).await;
    assert_eq!(me.body, USER_ID);
    // Custom claims survive the refresh (LoopBack #6859): it goes through the user service.
    let profile = send(&app, get("/profile").insert_header(("authorization", format!("Bearer {access}")))).await;
    assert_eq!(profile.json()["role"], "tester");
}

#[actix_rt::test]
async fn a_replayed_refresh_token_revokes_its_family() {
    let app = app!();
    let first = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(credentials())).await.json();
    let second =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": first["refreshToken"]}))).await;
    let second = second.json();
    // The old token again: a replay.
    let replay =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": first["refreshToken"]}))).await;
    assert_eq!(
        (replay.status, replay.json()["error"]["message"].as_str()),
        (401, Some("Error verifying token : Invalid Token"))
    );
    // ...which also kills the newest token of the family.
    let newest =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": second["refreshToken"]}))).await;
    assert_eq!(newest.status, 401);
    // Empty and unknown tokens.
    let empty = send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": ""}))).await;
    assert_eq!(empty.json()["error"]["message"], "Error verifying token : 'refresh token' is null");
    let unknown = send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": "nope"}))).await;
    assert_eq!(unknown.status, 401);
}

#[actix_rt::test]
async fn logout_revokes_the_access_token_and_the_refresh_family() {
    let app = app!();
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(credentials())).await.json();
    let bearer = format!("Bearer {}", pair["accessToken"].as_str().unwrap());
    let logout = TestRequest::post()
        .uri("/users/logout")
        .insert_header(("authorization", bearer.clone()))
        .set_json(json!({"refreshToken": pair["refreshToken"]}));
    assert_eq!(send(&app, logout).await.status, 204);
    let me = send(&app, get("/whoAmI").insert_header(("authorization", bearer))).await;
    assert_eq!((me.status, me.message().as_str()), (401, "Error verifying token : jwt revoked"));
    let refresh =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]}))).await;
    assert_eq!(refresh.status, 401);
}

#[actix_rt::test]
async fn scopes_from_the_attribute_answer_403_insufficient_scope() {
    let app = app!();
    let mut claims = jwt::claims();
    claims["scope"] = json!("todo:read");
    let bearer = format!("Bearer {}", jwt::sign_hs256(&claims));
    let read = send(&app, get("/todos").insert_header(("authorization", bearer.clone()))).await;
    assert_eq!(read.status, 200);
    let write = send(&app, TestRequest::post().uri("/todos").insert_header(("authorization", bearer))).await;
    assert_eq!(write.status, 403);
    assert_eq!(write.challenges, [r#"Bearer realm="todo", error="insufficient_scope", scope="todo:write""#]);
    // A bad token is still a 401, not a 403.
    let bad =
        send(&app, TestRequest::post().uri("/todos").insert_header(("authorization", "Bearer aaa.bbb.ccc"))).await;
    assert_eq!(bad.status, 401);
}

#[actix_rt::test]
async fn the_set_up_validates() {
    // Nothing but the group tests' deliberate traps (see main.rs).
    assert!(authn::validate().unwrap_err().problems().iter().all(|p| p.contains("#[authenticate(skip)] is below")));
    assert!(authn::introspect::registry().get("jwt").is_some());
}

/// Issue: the profile is flattened for the handler's type, and an `id` claim came after the
/// profile's own `id`: `{"sub": "alice", "id": "bob"}` made the handler see bob.
#[actix_rt::test]
async fn no_claim_can_shadow_the_authenticated_identity() {
    let app = app!();
    let mut claims = jwt::claims();
    claims["id"] = json!("bob");
    claims["nested"] = json!({"id": "carol"});
    let token = jwt::sign_hs256(&claims);
    let answer = send(&app, get("/identity").insert_header(("authorization", format!("Bearer {token}")))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!({"id": USER_ID, "email": null, "logged_as": USER_ID}));
}

/// Issue: a logout with a made-up refresh token still denied the access token, one denylist
/// row per call (refresh, then log out with garbage, forever) without any password work. Now
/// nothing is written unless the refresh token is the caller's.
#[actix_rt::test]
async fn a_logout_with_a_bogus_refresh_token_writes_nothing() {
    let app = app!();
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(credentials())).await.json();
    let bearer = format!("Bearer {}", pair["accessToken"].as_str().unwrap());
    let logout = |refresh: serde_json::Value| {
        TestRequest::post()
            .uri("/users/logout")
            .insert_header(("authorization", bearer.clone()))
            .set_json(json!({"refreshToken": refresh}))
    };
    assert_eq!(send(&app, logout(json!("made-up"))).await.status, 401);
    let me = send(&app, get("/whoAmI").insert_header(("authorization", bearer.clone()))).await;
    assert_eq!(me.status, 200, "the access token was not denied: {}", me.body);
    // Another user's refresh token is refused as well: nothing of theirs or ours is revoked.
    let mut other = jwt::claims();
    other["sub"] = json!("someone-else");
    other["jti"] = json!("other-1");
    let other_bearer = format!("Bearer {}", jwt::sign_hs256(&other));
    let stolen = TestRequest::post()
        .uri("/users/logout")
        .insert_header(("authorization", other_bearer.clone()))
        .set_json(json!({"refreshToken": pair["refreshToken"]}));
    assert_eq!(send(&app, stolen).await.status, 401);
    let still = send(&app, get("/whoAmI").insert_header(("authorization", other_bearer))).await;
    assert_eq!(still.status, 200);
}
