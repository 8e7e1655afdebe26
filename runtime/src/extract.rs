//! The handler side: the extractor `#[authenticate]` wraps a handler's arguments in, and the
//! typed user it hands over.
//!
//! The macro turns `async fn h(a: A, user: CurrentUser, b: B)` into
//! `async fn h(x: Authenticated<Route, (A, B), CurrentUser>)` and rebinds `a`, `user`, `b` in the
//! body. `Authenticated` authenticates first and extracts `(A, B)` only after that succeeded, so
//! no body is read for a request that is turned away.

use std::any::Any;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{USER_PROFILE_INVALID, USER_PROFILE_NOT_FOUND};
use crate::events::{EventKind, Origin, SecurityEvent, emit};
use crate::group::GroupContext;
use crate::route::{Requirement, RouteSpec, UserParam};
use crate::{AuthError, AuthFailure, Authentication, UserProfile, chain};

/// Ties a handler to its [`RouteSpec`]; the macro implements it on a hidden type per handler.
pub trait RouteMarker: 'static {
    /// The handler's requirement.
    fn spec() -> &'static RouteSpec;
}

/// The extractor `#[authenticate]` puts in place of a handler's arguments.
#[doc(hidden)]
pub struct Authenticated<R, Args, U> {
    user: U,
    args: Args,
    route: PhantomData<R>,
}

impl<R, Args, U> Authenticated<R, Args, U> {
    /// The user slot and the other arguments, for the rebinding the macro writes.
    pub fn into_parts(self) -> (U, Args) {
        (self.user, self.args)
    }
}

impl<R, Args, U> FromRequest for Authenticated<R, Args, U>
where
    R: RouteMarker,
    Args: FromRequest + 'static,
    U: UserSlot + 'static,
{
    type Error = actix_web::Error;
    type Future = Extraction<Args, U, Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use futures_util::TryFutureExt;
        let build: fn((U, Args)) -> Self = |(user, args)| Authenticated { user, args, route: PhantomData };
        Extract::new(req.clone(), payload.take(), R::spec()).map_ok(build)
    }
}

/// The future of both extractors: [`Extract`]'s work, shared by every handler with the same
/// argument and user types, mapped into the extractor. Only the mapping names the handler's
/// marker, so 200 handlers compile one extraction, not 200 (a macro crate's compile time is its
/// users').
#[doc(hidden)]
pub type Extraction<Args, U, T> = futures_util::future::MapOk<Extract<Args, U>, fn((U, Args)) -> T>;

pin_project_lite::pin_project! {
    /// Authentication, then the user slot, then the other arguments. Only what names `Args` or
    /// `U` is generic: authentication is a future boxed by [`authenticated`], a function of no
    /// type parameter, so its state machine is compiled once, in this crate, instead of in every
    /// crate that has a handler (a non-generic `async fn` polled only from generic code is
    /// compiled where that code is instantiated); the rest is polled in place, without a box of
    /// its own.
    #[doc(hidden)]
    pub struct Extract<Args: FromRequest, U> {
        #[pin]
        step: Step<Args>,
        req: HttpRequest,
        // Held, not read: the body is only handed to the other extractors once the caller is
        // authenticated.
        payload: Payload,
        spec: Option<&'static RouteSpec>,
        user: Option<U>,
    }
}

pin_project_lite::pin_project! {
    #[project = StepProjection]
    #[doc(hidden)]
    pub enum Step<Args: FromRequest> {
        Authenticating { authentication: LocalBoxFuture<'static, Result<Option<Authentication>, actix_web::Error>> },
        Extracting { #[pin] args: Args::Future },
        Done,
    }
}

impl<Args: FromRequest, U> Extract<Args, U> {
    /// Authenticates for `spec`, then extracts.
    fn new(req: HttpRequest, payload: Payload, spec: &'static RouteSpec) -> Self {
        let authentication = authenticated(req.clone(), spec);
        Extract { step: Step::Authenticating { authentication }, req, payload, spec: Some(spec), user: None }
    }

    /// Fails with `error`, extracting nothing.
    fn failed(req: HttpRequest, error: actix_web::Error) -> Self {
        let authentication: LocalBoxFuture<'static, _> = Box::pin(std::future::ready(Err(error)));
        Extract { step: Step::Authenticating { authentication }, req, payload: Payload::None, spec: None, user: None }
    }
}

impl<Args, U> std::future::Future for Extract<Args, U>
where
    Args: FromRequest,
    U: UserSlot,
{
    type Output = Result<(U, Args), actix_web::Error>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        use std::task::{Poll, ready};
        let mut this = self.project();
        loop {
            match this.step.as_mut().project() {
                StepProjection::Authenticating { authentication } => {
                    let authentication = match ready!(authentication.as_mut().poll(cx)) {
                        Ok(authentication) => authentication,
                        Err(error) => {
                            this.step.set(Step::Done);
                            return Poll::Ready(Err(error));
                        }
                    };
                    match U::from_authentication(authentication.as_ref()) {
                        Ok(user) => *this.user = Some(user),
                        Err(failure) => {
                            this.step.set(Step::Done);
                            return Poll::Ready(Err(refused_user(this.req, *this.spec, failure)));
                        }
                    }
                    let args = Args::from_request(this.req, this.payload);
                    this.step.set(Step::Extracting { args });
                }
                StepProjection::Extracting { args } => {
                    let args = ready!(args.poll(cx));
                    this.step.set(Step::Done);
                    return Poll::Ready(match (args, this.user.take()) {
                        (Ok(args), Some(user)) => Ok((user, args)),
                        (Err(error), _) => Err(error.into()),
                        (Ok(_), None) => Err(actix_web::error::ErrorInternalServerError("extraction out of order")),
                    });
                }
                StepProjection::Done => {
                    return Poll::Ready(Err(actix_web::error::ErrorInternalServerError(
                        "extraction polled after it ended",
                    )));
                }
            }
        }
    }
}

/// The extractor of a handler whose route macros are below `#[authenticate]`: the same work
/// as [`Authenticated`], with the spec the route's guard recorded when the router chose the
/// resource (see [`chosen_spec`]). Its type names no handler, so every handler with the same
/// argument and user types shares one instance of all of it: the expansion a macro crate adds
/// per handler is what its users pay at every build.
#[doc(hidden)]
pub struct Routed<Args, U> {
    user: U,
    args: Args,
}

impl<Args, U> Routed<Args, U> {
    /// The user slot and the other arguments, for the rebinding the macro writes.
    pub fn into_parts(self) -> (U, Args) {
        (self.user, self.args)
    }
}

impl<Args, U> FromRequest for Routed<Args, U>
where
    Args: FromRequest + 'static,
    U: UserSlot + 'static,
{
    type Error = actix_web::Error;
    type Future = Extraction<Args, U, Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use futures_util::TryFutureExt;
        let build: fn((U, Args)) -> Routed<Args, U> = |(user, args)| Routed { user, args };
        let inner = match chosen_spec(req) {
            Some(spec) => Extract::new(req.clone(), payload.take(), spec),
            None => {
                let failure = AuthFailure::misconfigured(
                    "This route cannot tell which handler it is.",
                    crate::errors::AUTHENTICATION_MISCONFIGURED,
                );
                Extract::failed(req.clone(), failure.into_error(req))
            }
        };
        inner.map_ok(build)
    }
}

/// The spec the guard of the chosen resource recorded, checked against the resource the router
/// matched: a handler never runs under another handler's requirement.
fn chosen_spec(req: &HttpRequest) -> Option<&'static RouteSpec> {
    let spec = req.extensions().get::<crate::group::ChosenRoute>().map(|chosen| chosen.0)?;
    let matched = req.match_name();
    if spec.routes().iter().any(|route| Some(route.resource) == matched) {
        return Some(spec);
    }
    tracing::error!(
        handler = spec.handler(),
        resource = matched.unwrap_or("-"),
        "the route guard of #[authenticate] recorded another resource than the one the router matched; refused"
    );
    None
}

/// [`authorize`], boxed here and its failure turned into the response.
fn authenticated(
    req: HttpRequest,
    spec: &'static RouteSpec,
) -> LocalBoxFuture<'static, Result<Option<Authentication>, actix_web::Error>> {
    Box::pin(async move { authorize(&req, spec).await.map_err(|f| f.into_error(&req)) })
}

/// A user slot that could not be built (a profile of the wrong shape): the route's challenges,
/// as any refusal of the route carries.
fn refused_user(req: &HttpRequest, spec: Option<&'static RouteSpec>, mut failure: AuthFailure) -> actix_web::Error {
    if let Some(spec) = spec
        && let (Ok(strategies), Requirement::Strategies(uses)) = (spec.resolved(), spec.requirement())
    {
        failure.challenges = chain::default_challenges(req, uses, strategies);
    }
    failure.into_error(req)
}

/// Applies a handler's requirement, taking over from a protected group: inside a group, the
/// handler's own attribute decides (the group's conclusion is reused when the strategies are
/// the same).
async fn authorize(req: &HttpRequest, spec: &'static RouteSpec) -> Result<Option<Authentication>, AuthFailure> {
    let group = GroupContext::of(req);
    if let Some(group) = &group
        && !group.claim(spec)
        && group.overridden_by(spec)
        && spec.first_warning()
    {
        if spec.visible_to_groups() {
            tracing::warn!(
                handler = spec.handler(),
                location = %spec.location(),
                "an authentication group applied its own strategies before this handler's #[authenticate]: a \
                 middleware between the group and the handler routes the request only when polled \
                 (e.g. actix_web::middleware::from_fn); wrap it outside the group so the group sees the override"
            );
        } else {
            tracing::warn!(
                handler = spec.handler(),
                location = %spec.location(),
                "an authentication group applied its own strategies before this handler's #[authenticate]; \
                 write #[authenticate] above the route macro so the group can see the override"
            );
        }
    }
    let anonymous_ok = spec.user() == UserParam::Optional;
    let uses = match spec.requirement() {
        Requirement::Skip => {
            if group.is_some() {
                forget_authentication(req);
            }
            return Ok(None);
        }
        Requirement::Group => return group_authentication(spec, group.as_deref(), anonymous_ok),
        Requirement::Strategies(uses) => uses,
    };
    if let Some(group) = &group {
        if let Some(conclusion) = group.reusable(uses) {
            return conclusion.for_route(anonymous_ok);
        }
        forget_authentication(req);
    }
    let strategies = spec.resolved().map_err(|failure| {
        if spec.first_report() {
            let mut event =
                SecurityEvent::new(EventKind::StrategyMisconfigured).reason(misconfiguration_reason(failure));
            if let Some(name) = spec.unusable_strategy() {
                event = event.strategy(name);
            }
            emit(&Origin::of(req), event);
        }
        failure.clone()
    })?;
    chain::run(req, uses, strategies, anonymous_ok).await
}

/// `#[authenticate(group)]`: the innermost group's conclusion. The group routed the request
/// here only after accepting it (a refused request never reaches a handler without a say);
/// outside any group there is nothing to take, which is the app's mistake.
fn group_authentication(
    spec: &'static RouteSpec,
    group: Option<&GroupContext>,
    anonymous_ok: bool,
) -> Result<Option<Authentication>, AuthFailure> {
    match group.and_then(GroupContext::conclusion) {
        Some(conclusion) => conclusion.for_route(anonymous_ok),
        None => {
            if spec.first_report() {
                tracing::error!(
                    handler = spec.handler(),
                    location = %spec.location(),
                    "#[authenticate(group)] on a handler no authn::Group wraps: wrap its scope with \
                     .wrap(authn::Group::new([..])), or name its strategies, e.g. #[authenticate(\"jwt\")]"
                );
            }
            Err(AuthFailure::misconfigured(
                "This route takes its group's authentication, but no group is around it.",
                crate::errors::AUTHENTICATION_MISCONFIGURED,
            ))
        }
    }
}

/// The event's reason code for a route that cannot be used.
pub(crate) fn misconfiguration_reason(failure: &AuthFailure) -> &'static str {
    match failure.code() {
        Some(crate::errors::AUTHENTICATION_STRATEGY_NOT_FOUND) => "strategy_not_found",
        _ => "strategy_unusable",
    }
}

/// A group's authentication is not the handler's, whose own requirement decides.
fn forget_authentication(req: &HttpRequest) {
    req.extensions_mut().remove::<Authentication>();
}

/// How the handler takes the user: nothing, `CurrentUser<U>` or `Option<CurrentUser<U>>`.
#[doc(hidden)]
pub trait UserSlot: Sized {
    /// Builds the slot from the outcome of authentication.
    fn from_authentication(auth: Option<&Authentication>) -> Result<Self, AuthFailure>;
}

impl UserSlot for () {
    fn from_authentication(_: Option<&Authentication>) -> Result<Self, AuthFailure> {
        Ok(())
    }
}

impl<U: FromProfile> UserSlot for CurrentUser<U> {
    fn from_authentication(auth: Option<&Authentication>) -> Result<Self, AuthFailure> {
        match auth {
            Some(auth) => CurrentUser::build(auth),
            // Unreachable through the macro (a required user means a required authentication),
            // but never hand a handler a user that does not exist.
            None => Err(AuthFailure::rejected(
                AuthError::unauthorized("User profile not returned from strategy's authenticate function")
                    .with_code(USER_PROFILE_NOT_FOUND),
                Vec::new(),
            )),
        }
    }
}

impl<U: FromProfile> UserSlot for Option<CurrentUser<U>> {
    fn from_authentication(auth: Option<&Authentication>) -> Result<Self, AuthFailure> {
        auth.map(CurrentUser::build).transpose()
    }
}

/// The authenticated user, as the handler's type `U` (by default the [`UserProfile`]).
///
/// Only handlers annotated with `#[authenticate(...)]` can take it: anywhere else it does not
/// compile, so a handler that asks for a user can never run for an anonymous caller.
/// `Option<CurrentUser<U>>` makes authentication optional for that handler.
///
/// ```
/// use actix_web::{get, HttpResponse, Responder};
/// use authn::{authenticate, CurrentUser};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Claims {
///     id: String,
///     #[serde(default)]
///     roles: Vec<String>,
/// }
///
/// #[authenticate("jwt")]
/// #[get("/me")]
/// async fn me(user: CurrentUser<Claims>) -> impl Responder {
///     HttpResponse::Ok().body(format!("{} {:?}", user.id, user.roles))
/// }
///
/// #[authenticate("jwt")]
/// #[get("/hello")]
/// async fn hello(user: Option<CurrentUser>) -> String {
///     match user {
///         Some(user) => format!("hello {}", user.id),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct CurrentUser<U = UserProfile> {
    // Shared with the request's `Authentication` when `U` is the profile itself: no copy.
    user: Arc<U>,
    authentication: Authentication,
}

impl<U> Clone for CurrentUser<U> {
    fn clone(&self) -> Self {
        CurrentUser { user: Arc::clone(&self.user), authentication: self.authentication.clone() }
    }
}

impl<U: FromProfile> CurrentUser<U> {
    fn build(auth: &Authentication) -> Result<Self, AuthFailure> {
        let user = U::from_shared_profile(auth.shared_profile()).map_err(|error| profile_mismatch(auth, &error))?;
        Ok(CurrentUser { user, authentication: auth.clone() })
    }
}

/// A profile that does not fit the handler's user type. Not generic, so compiled once here,
/// not once per user type in every crate that has handlers.
fn profile_mismatch(auth: &Authentication, error: &serde_json::Error) -> AuthFailure {
    // The reason names the user's fields, which is for the log, not for the client.
    tracing::warn!(strategy = auth.strategy(), %error, "authenticated profile does not fit the handler's user type");
    AuthFailure::rejected(
        AuthError::unauthorized("The authenticated user's profile does not have the expected fields.")
            .with_code(USER_PROFILE_INVALID),
        Vec::new(),
    )
}

impl<U> CurrentUser<U> {
    /// The user, by value (a copy when the request still shares it).
    pub fn into_inner(self) -> U
    where
        U: Clone,
    {
        Arc::try_unwrap(self.user).unwrap_or_else(|shared| (*shared).clone())
    }

    /// The user, shared.
    pub fn into_shared(self) -> Arc<U> {
        self.user
    }

    /// The profile the strategy returned, whatever `U` is.
    pub fn profile(&self) -> &UserProfile {
        self.authentication.profile()
    }

    /// The strategy that authenticated this user.
    pub fn strategy(&self) -> &'static str {
        self.authentication.strategy()
    }
}

impl<U> Deref for CurrentUser<U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.user
    }
}

/// Builds a handler's user type from the profile: any `DeserializeOwned` type, with the
/// profile's flat JSON form (`id`, `name`, `email`, then every claim) as input.
pub trait FromProfile: Sized + Send + Sync + 'static {
    /// The conversion.
    fn from_profile(profile: &UserProfile) -> Result<Self, serde_json::Error>;

    /// The conversion from the request's shared profile; `UserProfile` itself is shared, not
    /// copied.
    fn from_shared_profile(profile: &Arc<UserProfile>) -> Result<Arc<Self>, serde_json::Error> {
        let shared: Arc<dyn Any + Send + Sync> = Arc::clone(profile) as _;
        match shared.downcast::<Self>() {
            Ok(same) => Ok(same),
            Err(_) => Self::from_profile(profile).map(Arc::new),
        }
    }
}

/// The profile as JSON, serialized here once rather than in every crate with a user type.
fn profile_json(profile: &UserProfile) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(profile)
}

impl<T: DeserializeOwned + Send + Sync + 'static> FromProfile for T {
    fn from_profile(profile: &UserProfile) -> Result<Self, serde_json::Error> {
        serde_json::from_value(profile_json(profile)?)
    }
}

impl<U: AuthenticatedHandlerUser> FromRequest for CurrentUser<U> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
        // No type implements the bound, so this never runs; fail closed all the same.
        std::future::ready(Err(actix_web::error::ErrorInternalServerError("CurrentUser outside #[authenticate]")))
    }
}

/// Never implemented: it makes `CurrentUser: FromRequest` fail with a readable message when a
/// handler takes a user without `#[authenticate]`.
#[diagnostic::on_unimplemented(
    message = "`CurrentUser` is only available in handlers annotated with `#[authenticate(...)]`",
    label = "this user type is asked for by a handler that nothing authenticates",
    note = "add `#[authenticate(\"<strategy>\")]` to the handler; for optional authentication take `Option<CurrentUser>` under `#[authenticate(...)]`"
)]
pub trait AuthenticatedHandlerUser {}
