//! Headers a strategy adds to the response: strategies run before the handler and answer with
//! an outcome, not a response, so what they want on the response (a cookie to set or clear, as
//! session-like strategies and the OAuth2 callback need) is recorded on the request and applied
//! by the [`ResponseHeaders`] middleware once the response exists, whoever made it (the
//! handler, a rejection, a redirect).

use std::cell::RefCell;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// Applies the headers strategies asked for ([`append_header`]) to every response. Wrap the
/// app with it once; without it those headers are dropped (with one warning).
///
/// ```
/// use actix_web::App;
/// let app = App::new().wrap(authn::ResponseHeaders::new());
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseHeaders;

impl ResponseHeaders {
    /// The middleware.
    pub fn new() -> Self {
        ResponseHeaders
    }
}

/// The headers recorded for one request.
#[derive(Default)]
struct Pending(RefCell<Vec<(HeaderName, HeaderValue)>>);

/// Records a header for this request's response; `false` (and a warning, once per process) when
/// the app is not wrapped with [`ResponseHeaders`], so nothing would apply it.
///
/// ```
/// use actix_web::http::header::{HeaderValue, SET_COOKIE};
/// use actix_web::test::TestRequest;
/// // Outside the middleware nothing can apply it.
/// let request = TestRequest::default().to_http_request();
/// assert!(!authn::append_header(&request, SET_COOKIE, HeaderValue::from_static("a=; Max-Age=0")));
/// ```
pub fn append_header(request: &HttpRequest, name: HeaderName, value: HeaderValue) -> bool {
    static WARNED: AtomicBool = AtomicBool::new(false);
    match request.extensions().get::<Rc<Pending>>() {
        Some(pending) => {
            pending.0.borrow_mut().push((name, value));
            true
        }
        None => {
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    header = %name,
                    "a strategy set a response header, but the app is not wrapped with authn::ResponseHeaders: \
                     it is dropped"
                );
            }
            false
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for ResponseHeaders
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ResponseHeadersMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ResponseHeadersMiddleware { service }))
    }
}

/// The service [`ResponseHeaders`] wraps.
pub struct ResponseHeadersMiddleware<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for ResponseHeadersMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Nested: the outermost one applies; the others share its list.
        let existing = req.extensions().get::<Rc<Pending>>().cloned();
        let pending = match existing {
            Some(_) => None,
            None => {
                let pending = Rc::new(Pending::default());
                req.extensions_mut().insert(Rc::clone(&pending));
                Some(pending)
            }
        };
        let response = self.service.call(req);
        Box::pin(async move {
            let mut response = response.await?;
            if let Some(pending) = pending {
                let headers = response.headers_mut();
                for (name, value) in pending.0.borrow_mut().drain(..) {
                    headers.append(name, value);
                }
            }
            Ok(response)
        })
    }
}
