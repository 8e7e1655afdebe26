//! Request helpers: run a request through a full actix `App` and read what came back.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{TestRequest, read_body, try_call_service};

/// Status, `WWW-Authenticate` lines, `Location` and body of a response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenges: Vec<String>,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not JSON: a test failure).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// `error.message` of a LoopBack-style error body.
    pub fn message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or_default().to_owned()
    }

    /// `error.code` of a LoopBack-style error body.
    pub fn code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }
}

/// Sends `request` through `app` and collects the answer. A service error becomes the response
/// actix's server would send for it.
pub async fn send<S, B>(app: &S, request: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    match try_call_service(app, request.to_request()).await {
        Ok(response) => answer(response).await,
        Err(error) => {
            answer(ServiceResponse::new(TestRequest::default().to_http_request(), error.error_response())).await
        }
    }
}

async fn answer<B: MessageBody>(response: ServiceResponse<B>) -> Answer {
    let status = response.status().as_u16();
    let challenges = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap_or("<non-ascii>").to_owned())
        .collect();
    let text =
        |name| response.headers().get(name).map(|v: &header::HeaderValue| v.to_str().unwrap_or_default().to_owned());
    let (location, retry_after) = (text(header::LOCATION), text(header::RETRY_AFTER));
    let body = String::from_utf8_lossy(&read_body(response).await).into_owned();
    Answer { status, challenges, location, retry_after, body }
}

/// A GET to `path`.
pub fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

/// Starts `app` on a free loopback port with one worker, inside the current actix system, for
/// tests that need a real socket. Stop it with the returned handle.
pub fn serve<F, I, S, B>(app: F) -> (std::net::SocketAddr, actix_web::dev::ServerHandle)
where
    F: Fn() -> I + Send + Clone + 'static,
    I: actix_service::IntoServiceFactory<S, actix_http::Request>,
    S: actix_web::dev::ServiceFactory<actix_http::Request, Config = actix_web::dev::AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<actix_http::Response<B>> + 'static,
    <S::Service as Service<actix_http::Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let server =
        actix_web::HttpServer::new(app).workers(1).disable_signals().bind(("127.0.0.1", 0)).expect("a loopback port");
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (address, handle)
}

/// The median and quartiles of per-round ratios: how the benchmarks report on a noisy machine.
pub fn quartiles(mut ratios: Vec<f64>) -> (f64, f64, f64) {
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    (ratios[n / 2], ratios[n / 4], ratios[3 * n / 4])
}
