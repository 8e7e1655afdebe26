//! The PostgreSQL backend answers exactly as the SQLite one: the same requests (sign-ups in
//! other letter cases, hundreds of random LoopBack filters, bulk and single updates, another
//! user's ids) through both apps, SQLite's answers the oracle, every status and body compared.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use authn::jwt::{Algorithm, JwtConfig, JwtKey, PostgresStore, SqliteStore, TokenStore};
use authn::users::{DefaultUserService, HashingLimit, PasswordHasher};
use authn_tests::pg::Postgres;
use serde_json::{Value, json};
use todo_jwt::db::Database;
use todo_jwt::{AppState, configure};

fn parts(db: Database, store: Arc<dyn TokenStore>) -> (JwtConfig, web::Data<AppState>) {
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &[3u8; 32]).unwrap())
        .issuer("todo-jwt")
        .audience("todo-jwt")
        .store(store)
        .build()
        .unwrap();
    let hasher = PasswordHasher::for_tests().with_limit(HashingLimit::new(64, 1024));
    let users = DefaultUserService::new(Arc::new(db.clone())).with_hasher(hasher);
    (config.clone(), web::Data::new(AppState::new(db, config, users).unwrap()))
}

/// A small deterministic generator: the same requests every run, and a failure names its case.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const TITLES: &[&str] = &["milk", "Milk", "eggs", "bread", "b", "B", "été", "a b"];

fn value_for(random: &mut Random, property: &str) -> Value {
    match property {
        "id" => json!(random.below(20)),
        "title" => json!(random.pick(TITLES)),
        "desc" => random.pick(&[json!(null), json!("x"), json!("y")]).clone(),
        _ => random.pick(&[json!(null), json!(true), json!(false)]).clone(),
    }
}

fn clause(random: &mut Random, depth: u32) -> Value {
    match random.below(if depth > 2 { 3 } else { 6 }) {
        0..=2 => {
            let property = *random.pick(&["id", "title", "desc", "isComplete"]);
            json!({ property: value_for(random, property) })
        }
        3 => json!({"and": (0..random.below(3)).map(|_| clause(random, depth + 1)).collect::<Vec<_>>()}),
        4 => json!({"or": (0..random.below(3)).map(|_| clause(random, depth + 1)).collect::<Vec<_>>()}),
        _ => {
            let (a, b) = (clause(random, depth + 1), clause(random, depth + 1));
            let mut merged = a.as_object().unwrap().clone();
            merged.extend(b.as_object().unwrap().clone());
            Value::Object(merged)
        }
    }
}

fn filter(random: &mut Random) -> Value {
    let mut filter = serde_json::Map::new();
    if random.below(4) > 0 {
        filter.insert("where".into(), clause(random, 0));
    }
    if random.below(2) == 0 {
        let orders: Vec<_> = (0..=random.below(2))
            .map(|_| {
                format!("{} {}", random.pick(&["id", "title", "desc", "isComplete"]), random.pick(&["ASC", "DESC"]))
            })
            .collect();
        filter.insert("order".into(), json!(orders));
    }
    if random.below(3) == 0 {
        filter.insert("limit".into(), json!(random.below(6)));
    }
    if random.below(3) == 0 {
        filter.insert("skip".into(), json!(random.below(6)));
    }
    Value::Object(filter)
}

fn encoded(value: &Value) -> String {
    value.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
}

/// A request, said once for both apps.
#[derive(Clone, Debug)]
struct Call {
    method: &'static str,
    uri: String,
    user: Option<usize>,
    body: Option<Value>,
}

fn call(method: &'static str, uri: impl Into<String>, user: Option<usize>, body: Option<Value>) -> Call {
    Call { method, uri: uri.into(), user, body }
}

async fn run<S, B>(app: &S, tokens: &[String], ids: &[String], call: &Call) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut request = match call.method {
        "GET" => TestRequest::get(),
        "POST" => TestRequest::post(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        _ => TestRequest::delete(),
    }
    .uri(&call.uri);
    if let Some(user) = call.user {
        request = request.insert_header(("authorization", format!("Bearer {}", tokens[user])));
    }
    if let Some(body) = &call.body {
        request = request.set_json(body);
    }
    let response = call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let bytes = read_body(response).await;
    // User ids are random: each app's become their index, so the bodies compare.
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    for (i, id) in ids.iter().enumerate() {
        text = text.replace(id.as_str(), &format!("user-{i}"));
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Signs the users up (and a second time in other letter cases, which must conflict), logs them
/// in with their emails in capitals: their ids and tokens.
async fn users<S, B>(app: &S, answers: &mut Vec<(u16, Value)>) -> (Vec<String>, Vec<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (mut ids, mut tokens) = (Vec::new(), Vec::new());
    for email in ["alice@test.io", "bob@test.io"] {
        let credentials = json!({"email": email, "password": "backends"});
        let signup = call_service(app, TestRequest::post().uri("/signup").set_json(&credentials).to_request()).await;
        assert_eq!(signup.status(), 200);
        let body: Value = serde_json::from_slice(&read_body(signup).await).unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
        let again = json!({"email": email.to_uppercase(), "password": "backends"});
        let conflict = call_service(app, TestRequest::post().uri("/signup").set_json(&again).to_request()).await;
        answers.push((conflict.status().as_u16(), Value::Null));
        let login = call_service(app, TestRequest::post().uri("/users/login").set_json(&again).to_request()).await;
        answers.push((login.status().as_u16(), Value::Null));
        let body: Value = serde_json::from_slice(&read_body(login).await).unwrap();
        tokens.push(body["token"].as_str().unwrap_or_default().to_owned());
    }
    (ids, tokens)
}

fn script() -> Vec<Call> {
    let mut random = Random(0x005e_ed0f_7a11);
    let mut calls = Vec::new();
    for i in 0..14 {
        let mut todo = serde_json::Map::new();
        todo.insert("title".into(), json!(random.pick(TITLES)));
        if random.below(3) > 0 {
            todo.insert("desc".into(), value_for(&mut random, "desc"));
        }
        if random.below(3) > 0 {
            todo.insert("isComplete".into(), value_for(&mut random, "isComplete"));
        }
        calls.push(call("POST", "/todos", Some(usize::from(i % 5 == 4)), Some(Value::Object(todo))));
    }
    for round in 0..300 {
        let user = Some(usize::from(round % 7 == 6));
        let filter = filter(&mut random);
        calls.push(call("GET", format!("/todos?filter={}", encoded(&filter)), user, None));
        if round % 3 == 0 {
            let condition = clause(&mut random, 0);
            calls.push(call("GET", format!("/todos/count?where={}", encoded(&condition)), user, None));
        }
        if round % 25 == 0 {
            let condition = clause(&mut random, 0);
            let patch = json!({"isComplete": value_for(&mut random, "isComplete"), "desc": "patched"});
            calls.push(call("PATCH", format!("/todos?where={}", encoded(&condition)), user, Some(patch)));
            calls.push(call("GET", "/todos", user, None));
        }
    }
    for id in 1..=16 {
        calls.push(call("GET", format!("/todos/{id}"), Some(0), None));
        match id % 4 {
            0 => calls.push(call("PUT", format!("/todos/{id}"), Some(0), Some(json!({"title": "replaced"})))),
            1 => calls.push(call("PATCH", format!("/todos/{id}"), Some(0), Some(json!({"desc": null})))),
            2 => calls.push(call("DELETE", format!("/todos/{id}"), Some(0), None)),
            _ => calls.push(call("DELETE", format!("/todos/{id}"), Some(1), None)),
        }
    }
    calls.push(call("GET", "/todos", Some(0), None));
    calls.push(call("GET", "/todos", Some(1), None));
    calls
}

#[actix_rt::test]
async fn postgres_answers_every_request_as_sqlite_does() {
    let pg = Postgres::start();
    let store = PostgresStore::connect(&pg.url()).await.unwrap();
    let (config, state) = parts(Database::postgres(store.clone()).await.unwrap(), Arc::new(store));
    let postgres = init_service(App::new().configure(configure(config, state))).await;
    let (config, state) = parts(Database::open_in_memory().unwrap(), Arc::new(SqliteStore::open_in_memory().unwrap()));
    let sqlite = init_service(App::new().configure(configure(config, state))).await;

    let (mut expected, mut got) = (Vec::new(), Vec::new());
    let (sqlite_ids, sqlite_tokens) = users(&sqlite, &mut expected).await;
    let (postgres_ids, postgres_tokens) = users(&postgres, &mut got).await;
    assert_eq!(expected, got, "sign-up conflicts and logins in other letter cases");
    assert_eq!(expected, [(409, Value::Null), (200, Value::Null), (409, Value::Null), (200, Value::Null)]);

    let (mut nonempty, mut answered) = (0, 0);
    for (i, request) in script().iter().enumerate() {
        let oracle = run(&sqlite, &sqlite_tokens, &sqlite_ids, request).await;
        let answer = run(&postgres, &postgres_tokens, &postgres_ids, request).await;
        assert_eq!(answer, oracle, "request {i}: {request:?}");
        answered += usize::from(oracle.0 == 200);
        nonempty += usize::from(oracle.1.as_array().is_some_and(|a| !a.is_empty()));
    }
    // The generator is worth something only if most filters match some todos.
    assert!(answered > 400 && nonempty > 150, "{answered} answered, {nonempty} non-empty lists");
}
