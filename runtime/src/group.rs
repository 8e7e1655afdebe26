//! Group-level authentication: LoopBack's class-level `@authenticate` and `defaultMetadata`,
//! for an actix `Scope` or a whole `App`.
//!
//! actix middleware runs before routing and cannot see the handler, so the group decides from
//! what it can see: the resource the path resolves to (`match_name`, which the route macros set
//! to the handler's function name), its full pattern and the request's method:
//! - they identify exactly one `#[authenticate]` handler whose own route (read from the route
//!   macro below the attribute) has this method and a path ending the pattern → the handler's
//!   own requirement applies (its strategies, or `skip`); the group checks afterwards that the
//!   handler did take over;
//! - anything else → the group's strategies run here, before the handler and before its body is
//!   read. A handler that forgot its attribute is therefore protected: the group fails closed.
//!
//! A path that matches no resource is passed on untouched, so unknown routes answer 404 before
//! 401, as in LoopBack.

use std::cell::Cell;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::AUTHENTICATION_MISCONFIGURED;
use crate::route::{self, RouteSpec};
use crate::{AuthFailure, AuthenticationStrategy, StrategyUse, chain, registry};

/// Protects every route of a scope or app with default strategies.
///
/// Handlers inside keep their own `#[authenticate(...)]` (which replaces the group's strategies)
/// or `#[authenticate(skip)]` (which opts out); handlers without the attribute get the group's.
/// For the group to see an override, write `#[authenticate]` *above* the route macro
/// (`#[get("/x")]`): it reads the method and path there. An override the group cannot see (the
/// attribute below the route macro, a hand-registered resource) fails closed: the group's
/// strategies apply too, and a warning names the handler.
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
    strategies: Result<Vec<&'static dyn AuthenticationStrategy>, AuthFailure>,
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
            Err(AuthFailure::misconfigured("An authentication group names no strategy.", AUTHENTICATION_MISCONFIGURED))
        } else {
            registry().resolve(&uses)
        };
        if let Err(failure) = &strategies {
            tracing::error!("authn::Group: {}", failure.message());
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
            Err(failure) => Err(crate::ConfigError::single(failure.message().to_owned())),
        }
    }

    /// The strategies, in order.
    pub fn strategies(&self) -> &[StrategyUse] {
        &self.inner.uses
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
        let service = Rc::clone(&self.service);
        let group = self.group.clone();
        Box::pin(async move {
            // No resource: let the router answer 404 (LoopBack's order: 404 before 401).
            if req.match_pattern().is_none() {
                return service.call(req).await.map(ServiceResponse::map_into_left_body);
            }
            if let Some(handler) = deferring_handler(&req) {
                return defer_to_handler(&service, req, handler).await;
            }
            req.extensions_mut().insert(Rc::new(GroupContext { deferred: false, claimed: Cell::new(false) }));
            let strategies = match &group.inner.strategies {
                Ok(strategies) => strategies,
                Err(failure) => return Ok(reject(req, failure.clone())),
            };
            match chain::run(req.request(), &group.inner.uses, strategies, false).await {
                Ok(_) => service.call(req).await.map(ServiceResponse::map_into_left_body),
                Err(failure) => Ok(reject(req, failure)),
            }
        })
    }
}

/// The annotated handler actix will route this request to, if that is certain.
///
/// Before routing, `match_name()` gives the first resource whose path matches, ignoring method
/// guards; so the name alone could pick an annotated GET handler for a POST that actix will
/// route to an unannotated one. Deferring therefore also needs the handler's own route (method
/// and path, read by `#[authenticate]` from the route macro below it) to match the request.
/// Anything less certain keeps the group's strategies: it fails closed.
fn deferring_handler(req: &ServiceRequest) -> Option<&'static RouteSpec> {
    route::bound(req.match_name()?, req.method().as_str(), &req.match_pattern()?)
}

fn reject<B>(req: ServiceRequest, failure: AuthFailure) -> ServiceResponse<EitherBody<B>> {
    let response = failure.response_for(req.request());
    req.into_response(response).map_into_right_body()
}

/// The handler has its own `#[authenticate]`: let it decide, then make sure it did.
async fn defer_to_handler<S, B>(
    service: &S,
    req: ServiceRequest,
    handler: &'static RouteSpec,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let context = Rc::new(GroupContext { deferred: true, claimed: Cell::new(false) });
    req.extensions_mut().insert(Rc::clone(&context));
    let response = service.call(req).await?;
    let routed_to_nothing = matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED);
    if context.claimed.get() || routed_to_nothing {
        return Ok(response.map_into_left_body());
    }
    // Defence in depth: the route looked like the annotated handler's, but another handler
    // served it (two handlers share a name, method and path suffix). Its response must not
    // reach the client.
    tracing::error!(
        handler = handler.handler,
        location = %handler.location,
        "a route in an authentication group was deferred to an #[authenticate] handler but served by another \
         handler; give the handlers distinct names"
    );
    let failure = AuthFailure::misconfigured(
        "The handler of this route did not authenticate the request.",
        AUTHENTICATION_MISCONFIGURED,
    );
    let (request, _) = response.into_parts();
    let response = failure.response_for(&request);
    Ok(ServiceResponse::new(request, response).map_into_right_body())
}

/// Left in the request by a group: whether it deferred to the handler or authenticated itself.
pub(crate) struct GroupContext {
    deferred: bool,
    claimed: Cell<bool>,
}

impl GroupContext {
    /// Called by an `#[authenticate]` handler taking over authentication. Returns false when a
    /// group already applied its own strategies (it could not see this handler's route).
    pub(crate) fn claim(req: &HttpRequest) -> bool {
        match req.extensions().get::<Rc<GroupContext>>() {
            Some(context) => {
                context.claimed.set(true);
                context.deferred
            }
            None => true,
        }
    }
}
