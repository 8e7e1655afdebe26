//! Group-level authentication: LoopBack's class-level `@authenticate` and `defaultMetadata`,
//! for an actix `Scope` or a whole `App`.
//!
//! actix middleware runs before routing and cannot see the handler, and no prediction of the
//! router made from outside it is exact (guards, default services, percent-decoding, middleware
//! that rewrites paths). So the group does not predict which handler runs; it lets actix's
//! router say so, and decides before anything the router chose has started:
//!
//! 1. The group's strategies run first. If they accept the request, it is routed and served.
//! 2. If they reject it and the request could be for an `#[authenticate]` handler with an
//!    override (the application's resource map, read with the decoded path, names one), the
//!    request is routed: `Service::call` on the scope picks the resource synchronously and
//!    returns its future *unpolled*, so no extractor and no handler body has run. Each resource
//!    of an annotated handler whose attribute sits above its route macro carries a guard (added
//!    by the macro, evaluated last, always true) that records in the request that the router
//!    chose it. If it did, that handler's own requirement decides; if a group nested inside
//!    this one was reached, that group decides; otherwise the unpolled future is dropped and
//!    the rejection is answered.
//! 3. Otherwise the rejection is answered before routing.
//!
//! A handler body without its own attribute therefore only ever starts after the group's
//! strategies accepted the request, whatever the router does: the group never needs to know
//! which handler that is.

use std::cell::{Cell, RefCell};
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::guard::GuardContext;
use actix_web::{HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::chain::Conclusion;
use crate::error::AUTHENTICATION_MISCONFIGURED;
use crate::introspect::{StrategyUse, registry};
use crate::registry::Unusable;
use crate::route::{self, Requirement, RouteSpec};
use crate::{AuthFailure, Authentication, AuthenticationStrategy, chain};

/// Protects every route of a scope or app with default strategies.
///
/// Handlers inside keep their own `#[authenticate(...)]` (which replaces the group's strategies)
/// or `#[authenticate(skip)]` (which opts out); handlers without the attribute get the group's.
/// For the group to see an override, write `#[authenticate]` *above* the route macro
/// (`#[get("/x")]`): it marks that route so the group knows when actix routes a request to it.
/// An override the group cannot see (the attribute below the route macro, a hand-registered
/// resource) fails closed: the group's strategies apply too, and a warning names the handler.
///
/// ```
/// use actix_web::{get, web, App, HttpResponse};
/// use authn::{authenticate, Group};
///
/// #[get("/todos")]
/// async fn list() -> HttpResponse { HttpResponse::Ok().finish() } // protected by the group
///
/// #[authenticate(skip)]
/// #[get("/ping")]
/// async fn ping() -> &'static str { "pong" } // public
///
/// let app = App::new().service(web::scope("/api").wrap(Group::new(["jwt"])).service(list).service(ping));
/// # drop(app);
/// ```
#[derive(Clone)]
pub struct Group {
    inner: Arc<GroupInner>,
}

struct GroupInner {
    uses: Vec<StrategyUse>,
    strategies: Result<Vec<&'static dyn AuthenticationStrategy>, Unusable>,
}

impl Group {
    /// A group requiring these strategies, tried in order. A name that is not registered is
    /// logged now and answers every request in the group with a 500: it fails closed. Use
    /// [`Group::try_new`] to stop at start-up instead.
    pub fn new<I>(strategies: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<StrategyUse>,
    {
        let uses: Vec<StrategyUse> = strategies.into_iter().map(Into::into).collect();
        let strategies = if uses.is_empty() {
            let message = "An authentication group names no strategy.";
            Err(Unusable::new(message.into(), AUTHENTICATION_MISCONFIGURED, message.into()))
        } else {
            registry().resolve(&uses)
        };
        if let Err(unusable) = &strategies {
            tracing::error!("authn::Group: {} Every request in the group answers 500.", unusable.detail);
            let mut event = crate::events::SecurityEvent::new(crate::events::EventKind::StrategyMisconfigured)
                .reason(crate::extract::misconfiguration_reason(&unusable.failure));
            if let Some(name) = uses.iter().find(|u| registry().resolve(std::slice::from_ref(*u)).is_err()) {
                event = event.strategy(name.name);
            }
            crate::events::emit(&crate::events::Origin::none(), event);
        }
        Group { inner: Arc::new(GroupInner { uses, strategies }) }
    }

    /// Like [`Group::new`], but a name nobody registered is an error here.
    ///
    /// ```
    /// let err = authn::Group::try_new(["no-such-strategy"]).err().unwrap();
    /// assert!(err.to_string().contains("The strategy 'no-such-strategy' is not available."));
    /// ```
    pub fn try_new<I>(strategies: I) -> Result<Self, crate::ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<StrategyUse>,
    {
        let group = Group::new(strategies);
        match &group.inner.strategies {
            Ok(_) => Ok(group),
            Err(error) => Err(crate::ConfigError::single(error.detail.clone())),
        }
    }

    /// The strategies, in order.
    pub fn strategies(&self) -> &[StrategyUse] {
        &self.inner.uses
    }

    async fn conclude(&self, req: &HttpRequest) -> Conclusion {
        match &self.inner.strategies {
            Ok(strategies) => chain::conclude(req, &self.inner.uses, strategies).await,
            Err(error) => Conclusion::Failed(error.failure.clone()),
        }
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("strategies", &self.inner.uses).finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for Group
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = GroupMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GroupMiddleware { service: Rc::new(service), group: self.clone() }))
    }
}

/// The service [`Group`] wraps around a scope.
pub struct GroupMiddleware<S> {
    service: Rc<S>,
    group: Group,
}

impl<S, B> Service<ServiceRequest> for GroupMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Now, not in the future: when this group is nested, the enclosing one is routing at
        // this moment and learns here that this group decides from now on.
        let context = GroupContext::enter(&req, &self.group);
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let conclusion = context.group.conclude(req.request()).await;
            let refusal = match &conclusion {
                // Accepted here, but an enclosing group refused: a handler without its own
                // attribute needs every group on its way.
                Conclusion::User(_) => context.inherited.clone(),
                Conclusion::Anonymous(failure) | Conclusion::Failed(failure) => Some(failure.clone()),
            };
            context.concluded(conclusion, refusal.clone());
            let Some(failure) = refusal else {
                return service.call(req).await.map(ServiceResponse::map_into_left_body);
            };
            if !may_defer(&req, &context.group) {
                return Ok(reject(req, &failure));
            }
            // Rendered now: once the request is routed it belongs to what the router chose.
            let rejection = failure.response_for(req.request());
            let routed = service.call(req);
            match context.routed.get() {
                Routed::Handler(spec) => {
                    let response = routed.await?;
                    Ok(context.checked(response, spec))
                }
                Routed::InnerGroup => routed.await.map(ServiceResponse::map_into_left_body),
                Routed::Nothing => {
                    // Not polled, so whatever the router chose has not started.
                    drop(routed);
                    tracing::debug!("a refused request was routed to a service without #[authenticate]; refused");
                    Err(actix_web::error::InternalError::from_response("authentication required", rejection).into())
                }
            }
        })
    }
}

/// Whether the request may be for an annotated handler that overrides the group, so routing it
/// is worth it; when it is not, a rejection is answered before routing.
///
/// This only chooses between two safe answers (route and let the router's choice decide, or
/// reject now), so it may err either way. It reads the application's resource map with the
/// path as the router matches it (percent-decoded), and compares methods exactly, as actix's
/// method guards do. It also warns, once per handler, about overrides the group cannot see.
fn may_defer(req: &ServiceRequest, group: &Group) -> bool {
    let path = req.match_info().as_str();
    let map = req.resource_map();
    let Some(pattern) = map.match_pattern(path) else { return false };
    if let Some(resource) = map.match_name(path) {
        warn_unseen_overrides(resource, group);
    }
    route::visible_route_may_match(req.method().as_str(), &pattern)
}

/// Warns, once per handler, about an override this group will not see: an annotated handler
/// whose resource may be this one but whose route macro is above the attribute, or none.
fn warn_unseen_overrides(resource: &str, group: &Group) {
    for spec in route::by_resource(resource) {
        if !spec.visible_to_groups() && overrides(spec, group) && spec.first_warning() {
            tracing::warn!(
                handler = spec.handler(),
                location = %spec.location(),
                "an authentication group applies its own strategies to this handler, whose #[authenticate] it \
                 cannot see: write #[authenticate] above the route macro"
            );
        }
    }
}

/// Whether the handler's own requirement differs from the group's.
fn overrides(spec: &RouteSpec, group: &Group) -> bool {
    match spec.requirement() {
        Requirement::Skip => true,
        Requirement::Strategies(uses) => uses != group.strategies(),
        // The group's own: no say of its own, exactly like a handler without the attribute.
        Requirement::Group => false,
    }
}

fn reject<B>(req: ServiceRequest, failure: &AuthFailure) -> ServiceResponse<EitherBody<B>> {
    let response = failure.response_for(req.request());
    req.into_response(response).map_into_right_body()
}

/// What the router chose while a group was routing a request it had rejected.
#[derive(Clone, Copy)]
enum Routed {
    /// Something without a say: an unannotated handler, a default service, or nothing yet (a
    /// middleware between the group and the router that routes only when polled).
    Nothing,
    /// This `#[authenticate]` handler's resource (its guard said so).
    Handler(&'static RouteSpec),
    /// A group nested inside this one.
    InnerGroup,
}

/// Left in the request by a group, for what runs after it: the router's guard on annotated
/// resources, a nested group, and the annotated handler's extractor.
pub(crate) struct GroupContext {
    group: Group,
    /// An enclosing group's refusal, which this group passes on.
    inherited: Option<AuthFailure>,
    routed: Cell<Routed>,
    claimed: Cell<bool>,
    /// This group's chain, for a handler with the same strategies to reuse.
    conclusion: RefCell<Option<Conclusion>>,
    /// Why a handler without its own attribute may not run here, if it may not.
    refusal: RefCell<Option<AuthFailure>>,
}

impl GroupContext {
    /// The group's context for this request. An enclosing group is told that this one takes
    /// over; its refusal, if any, is kept, and its authentication forgotten.
    fn enter(req: &ServiceRequest, group: &Group) -> Rc<Self> {
        let mut extensions = req.extensions_mut();
        let outer = extensions.remove::<Rc<GroupContext>>();
        if let Some(outer) = &outer {
            outer.routed.set(Routed::InnerGroup);
            extensions.remove::<Authentication>();
        }
        let context = Rc::new(GroupContext {
            group: group.clone(),
            inherited: outer.and_then(|outer| outer.refusal.borrow().clone()),
            routed: Cell::new(Routed::Nothing),
            claimed: Cell::new(false),
            conclusion: RefCell::new(None),
            refusal: RefCell::new(None),
        });
        extensions.insert(Rc::clone(&context));
        context
    }

    fn concluded(&self, conclusion: Conclusion, refusal: Option<AuthFailure>) {
        *self.conclusion.borrow_mut() = Some(conclusion);
        *self.refusal.borrow_mut() = refusal;
    }

    /// Defence in depth: a deferred request must have been taken over by the handler the router
    /// chose. If a success came back without that, something else answered; it must not reach
    /// the client.
    fn checked<B>(&self, response: ServiceResponse<B>, spec: &'static RouteSpec) -> ServiceResponse<EitherBody<B>> {
        let status = response.status();
        if self.claimed.get() || status.is_client_error() || status.is_server_error() {
            return response.map_into_left_body();
        }
        tracing::error!(
            handler = spec.handler(),
            location = %spec.location(),
            status = status.as_u16(),
            "a request an authentication group rejected was routed to this #[authenticate] handler, but the \
             handler did not take it over; its response is withheld"
        );
        let failure = AuthFailure::misconfigured(
            "The handler of this route did not authenticate the request.",
            AUTHENTICATION_MISCONFIGURED,
        );
        let (request, _) = response.into_parts();
        let response = failure.response_for(&request);
        ServiceResponse::new(request, response).map_into_right_body()
    }

    /// The innermost group's context, if a group is on this request's way.
    pub(crate) fn of(req: &HttpRequest) -> Option<Rc<GroupContext>> {
        req.extensions().get::<Rc<GroupContext>>().cloned()
    }

    /// Called by an `#[authenticate]` handler taking over. Returns whether the group knew the
    /// router chose this handler (its override was visible to the group).
    pub(crate) fn claim(&self, spec: &'static RouteSpec) -> bool {
        self.claimed.set(true);
        matches!(self.routed.get(), Routed::Handler(chosen) if std::ptr::eq(chosen, spec))
    }

    /// Whether the handler's own requirement differs from the group's.
    pub(crate) fn overridden_by(&self, spec: &RouteSpec) -> bool {
        overrides(spec, &self.group)
    }

    /// The group's conclusion, whatever the handler's strategies: for `#[authenticate(group)]`.
    pub(crate) fn conclusion(&self) -> Option<Conclusion> {
        self.conclusion.borrow().clone()
    }

    /// The group's conclusion, when the handler would run the very same chain.
    pub(crate) fn reusable(&self, uses: &[StrategyUse]) -> Option<Conclusion> {
        if uses != self.group.strategies() {
            return None;
        }
        self.conclusion.borrow().clone()
    }
}

/// The spec of the handler whose resource the router chose, recorded by its guard.
#[derive(Clone, Copy)]
pub(crate) struct ChosenRoute(pub(crate) &'static RouteSpec);

/// The guard `#[authenticate]` adds, last, to each route macro below it: records in the
/// request that the router chose this handler's resource (every earlier guard passed), for the
/// group that is routing the request. Always true: it never changes what the router picks.
pub fn route_chosen(ctx: &GuardContext<'_>, spec: &'static RouteSpec) -> bool {
    // For the handler's extractor (`extract::Routed`): which spec applies, without a type per
    // handler. The last guard to run on a chosen resource is this one, so the last spec
    // recorded is the chosen handler's (and the extractor checks the resource name as well).
    ctx.req_data_mut().insert(ChosenRoute(spec));
    // A handler that takes the group's authentication has nothing to decide: for the group it is
    // one more handler that needs its acceptance.
    if spec.requirement() == Requirement::Group {
        return true;
    }
    if let Some(group) = ctx.req_data().get::<Rc<GroupContext>>() {
        group.routed.set(Routed::Handler(spec));
    }
    true
}
