//! A differential property test of `Group`, with actix itself as the oracle.
//!
//! proptest generates small apps (nested scopes with and without prefixes, groups on scopes and
//! on the app, guards on scopes and handlers, default services, path-rewriting middleware,
//! annotated, `skip`, optional, hidden and unannotated handlers, same-named handlers) and
//! requests (methods in any case, percent-encoded bytes, `%2F`, double and trailing slashes,
//! `;` parameters, every mix of good, bad and missing credentials). Each app is built twice:
//! once with its groups switched off — what actix routes each request to, the oracle — and once
//! with them on. For every request:
//!
//! - no handler body starts in the protected app that actix would not run (groups never
//!   re-route), and none without its own attribute starts unless every group around it accepts
//!   the credentials; an annotated one only when its own attribute accepts them;
//! - a request whose credentials satisfy every group around the handler actix chose gets that
//!   handler, as without groups; an annotated handler the group can see decides for itself
//!   (checked where the group's lookup of the path agrees with the router's);
//! - nothing answers 500.
//!
//! `AUTHN_GROUP_CASES=20000 cargo test -p authn-tests --test group_properties` runs more apps
//! (the default is enough for CI: about 1,000 apps and 10,000 requests).

use std::cell::RefCell;

use actix_web::dev::Service;
use actix_web::guard::{self, GuardContext};
use actix_web::http::Method;
use actix_web::middleware::{Condition, NormalizePath};
use actix_web::test::{TestRequest, init_service, read_body, try_call_service};
use actix_web::{App, HttpRequest, HttpResponse, get, post, web};
use authn::{CurrentUser, Group, authenticate};
// The strategies "header" and "token" (the linking rule: name the crate that registers them).
use authn_tests as _;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

// ---------------------------------------------------------------------------------------------
// What ran: every handler body records itself, the scope it was registered in, and two
// patterns: the one the router matched and the one the application's resource map finds for
// the path (they differ when guards or methods make the router skip a resource).

#[derive(Debug, Clone, PartialEq)]
struct Ran {
    handler: &'static str,
    scope: u32,
    routed: Option<String>,
    mapped: Option<String>,
}

thread_local! {
    static RAN: RefCell<Vec<Ran>> = const { RefCell::new(Vec::new()) };
}

/// The scope a registration was made in (app data of each generated scope).
#[derive(Clone, Copy)]
struct ScopeId(u32);

fn record(handler: &'static str, req: &HttpRequest) -> HttpResponse {
    let scope = req.app_data::<ScopeId>().map_or(u32::MAX, |s| s.0);
    let routed = req.match_pattern();
    let mapped = req.resource_map().match_pattern(req.match_info().as_str());
    RAN.with(|r| r.borrow_mut().push(Ran { handler, scope, routed, mapped }));
    HttpResponse::Ok().body(handler)
}

fn take_ran() -> Vec<Ran> {
    RAN.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

// ---------------------------------------------------------------------------------------------
// The handler pool. Strategies (from the tests crate): "header" (`X-User`) and "token"
// (`Authorization: Token ...`, a bad token ends the chain).

#[get("/a")]
async fn u_get_a(req: HttpRequest) -> HttpResponse {
    record("u_get_a", &req)
}

#[post("/a")]
async fn u_post_a(req: HttpRequest) -> HttpResponse {
    record("u_post_a", &req)
}

#[get("/{p}")]
async fn u_get_p(req: HttpRequest) -> HttpResponse {
    record("u_get_p", &req)
}

#[get("/b")]
async fn u_get_b(req: HttpRequest) -> HttpResponse {
    record("u_get_b", &req)
}

#[get("")]
async fn u_get_root(req: HttpRequest) -> HttpResponse {
    record("u_get_root", &req)
}

async fn u_hand(req: HttpRequest) -> HttpResponse {
    record("u_hand", &req)
}

async fn u_default(req: HttpRequest) -> HttpResponse {
    record("u_default", &req)
}

#[authenticate(skip)]
#[get("/a")]
async fn h_skip_get_a(req: HttpRequest) -> HttpResponse {
    record("h_skip_get_a", &req)
}

#[authenticate(skip)]
#[post("/a")]
async fn h_skip_post_a(req: HttpRequest) -> HttpResponse {
    record("h_skip_post_a", &req)
}

#[authenticate("token")]
#[get("/b")]
async fn h_token_get_b(req: HttpRequest, _user: CurrentUser) -> HttpResponse {
    record("h_token_get_b", &req)
}

#[authenticate("header")]
#[get("/{p}")]
async fn h_optional_get_p(req: HttpRequest, _user: Option<CurrentUser>) -> HttpResponse {
    record("h_optional_get_p", &req)
}

fn special(ctx: &GuardContext<'_>) -> bool {
    ctx.head().headers().contains_key("x-special")
}

#[authenticate(skip)]
#[get("/a", guard = "special")]
async fn h_skip_guarded_get_a(req: HttpRequest) -> HttpResponse {
    record("h_skip_guarded_get_a", &req)
}

#[authenticate("header", "token")]
#[get("")]
async fn h_either_get_root(req: HttpRequest) -> HttpResponse {
    record("h_either_get_root", &req)
}

#[get("/a")]
#[authenticate(skip)]
async fn h_hidden_skip_get_a(req: HttpRequest) -> HttpResponse {
    record("h_hidden_skip_get_a", &req)
}

#[authenticate(skip)]
async fn h_hand_skip(req: HttpRequest) -> HttpResponse {
    record("h_hand_skip", &req)
}

mod other {
    use actix_web::{HttpRequest, HttpResponse, get};
    use authn::authenticate;

    /// Same name (so same resource name), method and path as the unannotated `u_get_b`.
    #[authenticate(skip)]
    #[get("/b")]
    pub async fn u_get_b(req: HttpRequest) -> HttpResponse {
        super::record("other::u_get_b", &req)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scheme {
    Header,
    Token,
}

/// What a pool handler requires.
#[derive(Debug, Clone, Copy)]
enum Requirement {
    /// No attribute.
    None,
    Skip,
    Strategies(&'static [Scheme], bool),
}

struct Entry {
    name: &'static str,
    requirement: Requirement,
    /// Attribute above its route macro: groups see its override.
    visible: bool,
    /// Carries a non-method guard.
    guarded: bool,
    register: fn(&mut web::ServiceConfig),
}

const POOL: &[Entry] = &[
    Entry {
        name: "u_get_a",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(u_get_a);
        },
    },
    Entry {
        name: "u_post_a",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(u_post_a);
        },
    },
    Entry {
        name: "u_get_p",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(u_get_p);
        },
    },
    Entry {
        name: "u_get_b",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(u_get_b);
        },
    },
    Entry {
        name: "u_get_root",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(u_get_root);
        },
    },
    Entry {
        name: "u_hand",
        requirement: Requirement::None,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(web::resource("/a").to(u_hand));
        },
    },
    Entry {
        name: "h_skip_get_a",
        requirement: Requirement::Skip,
        visible: true,
        guarded: false,
        register: |c| {
            c.service(h_skip_get_a);
        },
    },
    Entry {
        name: "h_skip_post_a",
        requirement: Requirement::Skip,
        visible: true,
        guarded: false,
        register: |c| {
            c.service(h_skip_post_a);
        },
    },
    Entry {
        name: "h_token_get_b",
        requirement: Requirement::Strategies(&[Scheme::Token], false),
        visible: true,
        guarded: false,
        register: |c| {
            c.service(h_token_get_b);
        },
    },
    Entry {
        name: "h_optional_get_p",
        requirement: Requirement::Strategies(&[Scheme::Header], true),
        visible: true,
        guarded: false,
        register: |c| {
            c.service(h_optional_get_p);
        },
    },
    Entry {
        name: "h_skip_guarded_get_a",
        requirement: Requirement::Skip,
        visible: true,
        guarded: true,
        register: |c| {
            c.service(h_skip_guarded_get_a);
        },
    },
    Entry {
        name: "h_either_get_root",
        requirement: Requirement::Strategies(&[Scheme::Header, Scheme::Token], false),
        visible: true,
        guarded: false,
        register: |c| {
            c.service(h_either_get_root);
        },
    },
    Entry {
        name: "h_hidden_skip_get_a",
        requirement: Requirement::Skip,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(h_hidden_skip_get_a);
        },
    },
    Entry {
        name: "h_hand_skip",
        requirement: Requirement::Skip,
        visible: false,
        guarded: false,
        register: |c| {
            c.service(web::resource("/b").name("h_hand_skip").to(h_hand_skip));
        },
    },
    Entry {
        name: "other::u_get_b",
        requirement: Requirement::Skip,
        visible: true,
        guarded: false,
        register: |c| {
            c.service(other::u_get_b);
        },
    },
];

const GROUPS: &[&[Scheme]] =
    &[&[Scheme::Header], &[Scheme::Token], &[Scheme::Header, Scheme::Token], &[Scheme::Token, Scheme::Header]];

fn group_names(strategies: &[Scheme]) -> Vec<&'static str> {
    strategies.iter().map(|s| if *s == Scheme::Header { "header" } else { "token" }).collect()
}

// ---------------------------------------------------------------------------------------------
// Generated apps.

#[derive(Debug, Clone)]
enum Node {
    Handler(usize),
    Scope(ScopeSpec),
}

#[derive(Debug, Clone)]
struct ScopeSpec {
    prefix: &'static str,
    /// Only requests with `X-Zone: <n>` enter.
    zone: Option<u8>,
    group: Option<usize>,
    normalize_inside: bool,
    default_service: bool,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
struct AppSpec {
    group: Option<usize>,
    default_service: bool,
    children: Vec<Node>,
}

impl AppSpec {
    fn any_guard_or_rewrite(&self) -> bool {
        fn walk(nodes: &[Node]) -> bool {
            nodes.iter().any(|n| match n {
                Node::Handler(i) => POOL[*i].guarded,
                Node::Scope(s) => s.zone.is_some() || s.normalize_inside || walk(&s.children),
            })
        }
        walk(&self.children)
    }

    /// The groups around each scope id, outermost first (scope ids in build order, 0 = app).
    fn enclosing_groups(&self) -> Vec<Vec<usize>> {
        fn walk(nodes: &[Node], around: &[usize], out: &mut Vec<Vec<usize>>) {
            for node in nodes {
                if let Node::Scope(scope) = node {
                    let mut mine = around.to_vec();
                    mine.extend(scope.group);
                    out.push(mine.clone());
                    walk(&scope.children, &mine, out);
                }
            }
        }
        let root: Vec<usize> = self.group.into_iter().collect();
        let mut out = vec![root.clone()];
        walk(&self.children, &root, &mut out);
        out
    }
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (0..POOL.len()).prop_map(Node::Handler);
    leaf.prop_recursive(3, 32, 5, |inner| {
        (
            prop::sample::select(&["", "", "/s", "/t", "/s/{x}", "/a"][..]),
            prop::option::weighted(0.2, 1..3u8),
            prop::option::weighted(0.6, 0..GROUPS.len()),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.25),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(prefix, zone, group, normalize_inside, default_service, children)| {
                Node::Scope(ScopeSpec { prefix, zone, group, normalize_inside, default_service, children })
            })
    })
}

fn app_spec() -> impl Strategy<Value = AppSpec> {
    (prop::option::weighted(0.4, 0..GROUPS.len()), prop::bool::weighted(0.3), prop::collection::vec(node(), 1..6))
        .prop_map(|(group, default_service, children)| AppSpec { group, default_service, children })
}

fn configure(nodes: &[Node], protect: bool, next_id: &RefCell<u32>, cfg: &mut web::ServiceConfig) {
    for node in nodes {
        match node {
            Node::Handler(i) => (POOL[*i].register)(cfg),
            Node::Scope(spec) => {
                let id = {
                    let mut next = next_id.borrow_mut();
                    *next += 1;
                    *next
                };
                let group = spec.group.map(|g| Group::new(group_names(GROUPS[g])));
                let mut scope = web::scope(spec.prefix)
                    .app_data(ScopeId(id))
                    .wrap(Condition::new(spec.normalize_inside, NormalizePath::trim()))
                    .wrap(Condition::new(protect && group.is_some(), group.unwrap_or_else(|| Group::new(["header"]))));
                if let Some(zone) = spec.zone {
                    scope = scope.guard(guard::Header("x-zone", if zone == 1 { "1" } else { "2" }));
                }
                if spec.default_service {
                    scope = scope.default_service(web::to(u_default));
                }
                scope = scope.configure(|cfg| configure(&spec.children, protect, next_id, cfg));
                cfg.service(scope);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generated requests.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Header {
    Absent,
    Valid,
    Invalid,
}

#[derive(Debug, Clone)]
struct Probe {
    method: &'static str,
    path: String,
    user: Header,
    token: Header,
    special: bool,
    zone: Option<u8>,
}

impl Probe {
    fn request(&self) -> TestRequest {
        let mut request =
            TestRequest::default().method(Method::from_bytes(self.method.as_bytes()).unwrap()).uri(&self.path);
        match self.user {
            Header::Absent => {}
            Header::Valid => request = request.insert_header(("x-user", "ann")),
            Header::Invalid => request = request.insert_header(("x-user", "!x")),
        }
        match self.token {
            Header::Absent => {}
            Header::Valid => request = request.insert_header(("authorization", "Token ok-1")),
            Header::Invalid => request = request.insert_header(("authorization", "Token forged")),
        }
        if self.special {
            request = request.insert_header(("x-special", "1"));
        }
        if let Some(zone) = self.zone {
            request = request.insert_header(("x-zone", zone.to_string()));
        }
        request
    }

    /// What one strategy makes of the request's credentials.
    fn outcome(&self, strategy: Scheme) -> Outcome {
        match (strategy, strategy_header(self, strategy)) {
            (_, Header::Absent) => Outcome::NoCredentials,
            (_, Header::Valid) => Outcome::User,
            (Scheme::Header, Header::Invalid) => Outcome::Error,
            (Scheme::Token, Header::Invalid) => Outcome::FinalError,
        }
    }

    /// Whether the chain of `strategies` accepts the request (LoopBack's algorithm).
    fn accepted_by(&self, strategies: &[Scheme], anonymous_ok: bool) -> bool {
        let mut error = false;
        for strategy in strategies {
            match self.outcome(*strategy) {
                Outcome::User => return true,
                Outcome::FinalError => return false,
                Outcome::Error => error = true,
                Outcome::NoCredentials => {}
            }
        }
        anonymous_ok && !error
    }
}

fn strategy_header(probe: &Probe, strategy: Scheme) -> Header {
    match strategy {
        Scheme::Header => probe.user,
        Scheme::Token => probe.token,
    }
}

enum Outcome {
    User,
    NoCredentials,
    Error,
    FinalError,
}

fn header() -> impl Strategy<Value = Header> {
    prop_oneof![Just(Header::Absent), Just(Header::Valid), Just(Header::Invalid)]
}

/// A path made of the segments the apps use, then mutated the ways attackers do.
fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(&["s", "t", "a", "b", "x1", "S", "A"][..]), 0..4),
        0..9u8,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(segments, mutation, at)| {
            let mut path: String = segments.iter().map(|s| format!("/{s}")).collect();
            if path.is_empty() {
                path.push('/');
            }
            match mutation {
                // Percent-encode one byte (not the leading slash).
                0 | 1 if path.len() > 1 => {
                    let i = 1 + at.index(path.len() - 1);
                    let byte = path.as_bytes()[i];
                    path = format!("{}%{byte:02X}{}", &path[..i], &path[i + 1..]);
                }
                2 => path.push('/'),
                3 => path = path.replacen('/', "//", 1),
                4 => path.push_str(";x=1"),
                5 if path.len() > 1 => {
                    let i = 1 + at.index(path.len() - 1);
                    if path.as_bytes()[i] == b'/' {
                        path.replace_range(i..=i, "%2F");
                    }
                }
                6 => path.push_str("/%2e%2e"),
                _ => {}
            }
            path
        })
}

fn probe() -> impl Strategy<Value = Probe> {
    (
        prop::sample::select(&["GET", "GET", "POST", "HEAD", "get", "PUT", "OPTIONS"][..]),
        path(),
        header(),
        header(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.3, 1..3u8),
    )
        .prop_map(|(method, path, user, token, special, zone)| Probe { method, path, user, token, special, zone })
}

// ---------------------------------------------------------------------------------------------
// The property.

async fn run<S, B>(app: &S, probe: &Probe) -> (u16, Vec<Ran>)
where
    S: Service<actix_http::Request, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    take_ran();
    let status = match try_call_service(app, probe.request().to_request()).await {
        Ok(response) => {
            let status = response.status().as_u16();
            read_body(response).await;
            status
        }
        Err(error) => error.error_response().status().as_u16(),
    };
    (status, take_ran())
}

/// Checks every probe against the app; returns how many actix routed to a handler body.
fn check(spec: &AppSpec, probes: &[Probe]) -> Result<usize, TestCaseError> {
    let groups = spec.enclosing_groups();
    let plain_routing = !spec.any_guard_or_rewrite();
    actix_rt::System::new().block_on(async {
        let build = |protect: bool| {
            let ids = RefCell::new(0);
            let root_group = spec.group.map(|g| Group::new(group_names(GROUPS[g])));
            let mut app = App::new()
                .app_data(ScopeId(0))
                .wrap(Condition::new(
                    protect && root_group.is_some(),
                    root_group.unwrap_or_else(|| Group::new(["header"])),
                ))
                .configure(|cfg| configure(&spec.children, protect, &ids, cfg));
            if spec.default_service {
                app = app.default_service(web::to(u_default));
            }
            app
        };
        let oracle = init_service(build(false)).await;
        let protected = init_service(build(true)).await;
        let mut routed = 0;
        for probe in probes {
            let (_, chosen) = run(&oracle, probe).await;
            let (status, ran) = run(&protected, probe).await;
            let context = || format!("{probe:?}\nactix runs {chosen:?}, protected app ran {ran:?}");
            prop_assert!(status != 500, "500 for {}", context());
            prop_assert!(ran.len() <= 1 && chosen.len() <= 1, "{}", context());
            let chosen = chosen.first();
            if let Some(ran) = ran.first() {
                prop_assert_eq!(Some(ran), chosen, "groups re-routed: {}", context());
                let entry = POOL.iter().find(|e| e.name == ran.handler);
                let requirement = entry.map_or(Requirement::None, |e| e.requirement);
                match requirement {
                    Requirement::None => {
                        for g in &groups[ran.scope as usize] {
                            prop_assert!(
                                probe.accepted_by(GROUPS[*g], false),
                                "an unannotated body ran without group {:?} accepting: {}",
                                GROUPS[*g],
                                context()
                            );
                        }
                    }
                    Requirement::Skip => {}
                    Requirement::Strategies(strategies, optional) => prop_assert!(
                        probe.accepted_by(strategies, optional),
                        "an annotated body ran without its own strategies accepting: {}",
                        context()
                    ),
                }
            }
            // Liveness: what actix chose runs when the credentials are good enough.
            let Some(chosen) = chosen else { continue };
            routed += 1;
            let groups_accept = groups[chosen.scope as usize].iter().all(|g| probe.accepted_by(GROUPS[*g], false));
            let entry = POOL.iter().find(|e| e.name == chosen.handler);
            let own = match entry.map_or(Requirement::None, |e| e.requirement) {
                Requirement::None | Requirement::Skip => true,
                Requirement::Strategies(strategies, optional) => probe.accepted_by(strategies, optional),
            };
            if groups_accept && own {
                prop_assert_eq!(ran.first(), Some(chosen), "accepted credentials refused: {}", context());
            }
            // An override the groups can see decides alone, where their lookup of the path
            // agrees with the router's (guards and path rewriting can make it fail closed).
            let visible = entry.is_some_and(|e| e.visible && !matches!(e.requirement, Requirement::None));
            if visible && own && plain_routing && chosen.routed == chosen.mapped {
                prop_assert_eq!(ran.first(), Some(chosen), "a visible override was not honoured: {}", context());
            }
        }
        Ok(routed)
    })
}

fn cases() -> u32 {
    std::env::var("AUTHN_GROUP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

/// A request aimed at what the generated apps hold (every pool path under every prefix, then
/// the same mutations), so that many requests are routed to a handler: random paths mostly miss.
fn aimed_probe() -> impl Strategy<Value = Probe> {
    (
        prop::sample::select(&["", "/s", "/t", "/s/x1", "/a", "/s/x1/t", "/t/s", "/S"][..]),
        prop::sample::select(&["/a", "/b", "", "/", "/x1", "/A", "/a/", "//a", "/%61", "/b;x=1"][..]),
        probe(),
    )
        .prop_map(|(prefix, tail, mut probe)| {
            probe.path = format!("{prefix}{tail}");
            if !probe.path.starts_with('/') {
                probe.path.insert(0, '/');
            }
            probe
        })
}

#[test]
fn no_unannotated_body_runs_unless_every_group_accepted() {
    let config = ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    let probes = prop::collection::vec(prop_oneof![1 => probe(), 3 => aimed_probe()], 1..12);
    let (sent, routed) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let result = runner.run(&(app_spec(), probes), |(spec, probes)| {
        routed.set(routed.get() + check(&spec, &probes)?);
        sent.set(sent.get() + probes.len());
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!("{} apps, {} requests, {} routed to a handler by actix", cases(), sent.get(), routed.get());
    // The property must have seen handlers run, not only 404s.
    assert!(routed.get() * 3 > sent.get(), "only {} of {} requests reached a handler", routed.get(), sent.get());
}
