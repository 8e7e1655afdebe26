//! OpenAPI (feature `openapi`): every operation's `security` derived from its handler's
//! `#[authenticate]`, through the route report, so the document cannot drift from the code.
//! LoopBack marks every operation secured; here login is public, todos are secured, optional
//! routes say so (`{}` among the alternatives).

use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};

use crate::route::{Requirement, RouteSpec, StrategyUse, UserParam};

/// A utoipa `Modify` that adds the security schemes and sets each operation's `security`.
///
/// Operations are matched to handlers by `operation_id` (utoipa's default is the function name)
/// and, when the attribute could read it, by method and path. The built-in strategies come
/// mapped: `"jwt"` is the HTTP bearer scheme `jwt`, `"basic"` the HTTP basic scheme `basic`
/// (LoopBack's names), `"api-key"` the `apiKey` scheme in header `X-API-Key`; map others (or a
/// renamed key header) with [`RouteSecurity::scheme`]. A scheme goes into `components` only
/// when an operation uses it.
///
/// ```
/// use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
///
/// let security = authn::openapi::RouteSecurity::new()
///     .scheme("api-key", "apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-service-key"))));
/// let mut doc = utoipa::openapi::OpenApiBuilder::new().build();
/// utoipa::Modify::modify(&security, &mut doc);
/// // No operation, no scheme.
/// assert!(doc.components.unwrap().security_schemes.is_empty());
/// ```
#[derive(Clone)]
pub struct RouteSecurity {
    schemes: Vec<(&'static str, String, SecurityScheme)>,
    /// What `#[authenticate(group)]` handlers are documented with: their group's strategies.
    group: Option<Vec<StrategyUse>>,
}

impl std::fmt::Debug for RouteSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.schemes.iter().map(|(strategy, name, _)| (strategy, name)).collect();
        f.debug_struct("RouteSecurity").field("schemes", &names).field("group", &self.group).finish()
    }
}

impl Default for RouteSecurity {
    fn default() -> Self {
        RouteSecurity::new()
    }
}

impl RouteSecurity {
    /// With the built-in strategies mapped.
    pub fn new() -> Self {
        let bearer =
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build());
        let basic = SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build());
        let api_key = SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key")));
        RouteSecurity {
            schemes: vec![
                ("jwt", "jwt".to_owned(), bearer),
                ("basic", "basic".to_owned(), basic),
                ("api-key", "apiKey".to_owned(), api_key),
            ],
            group: None,
        }
    }

    /// Documents `strategy` as the security scheme `name`.
    pub fn scheme(mut self, strategy: &'static str, name: impl Into<String>, scheme: SecurityScheme) -> Self {
        self.schemes.retain(|(s, _, _)| *s != strategy);
        self.schemes.push((strategy, name.into(), scheme));
        self
    }

    /// Documents `#[authenticate(group)]` handlers with `group`'s strategies: the router, not
    /// the document, knows which group wraps a handler, so the app says it. Without it such
    /// operations keep the document's global `security` (and a warning is logged).
    pub fn group(mut self, group: &crate::Group) -> Self {
        self.group = Some(group.strategies().to_vec());
        self
    }

    /// What a route's handler requires, as strategies; `None` when the document cannot know.
    fn uses<'s>(&'s self, spec: &RouteSpec) -> Option<&'s [StrategyUse]> {
        match spec.requirement() {
            Requirement::Skip => Some(&[]),
            Requirement::Strategies(uses) => Some(uses),
            Requirement::Group => self.group.as_deref(),
        }
    }

    /// The `security` of one route: one alternative per strategy with a scheme (its `scopes`
    /// option as the scopes), `{}` too when the user is optional, nothing for `skip`; for
    /// `group`, the strategies given to [`RouteSecurity::group`] (nothing without them).
    pub fn requirements(&self, spec: &RouteSpec) -> Vec<SecurityRequirement> {
        let uses = match self.uses(spec) {
            Some([]) | None => return Vec::new(),
            Some(uses) => uses,
        };
        let mut requirements: Vec<SecurityRequirement> = uses
            .iter()
            .filter_map(|u| {
                let (_, name, _) = self.schemes.iter().find(|(s, _, _)| *s == u.name)?;
                Some(SecurityRequirement::new(name.clone(), u.options.strings("scopes")))
            })
            .collect();
        if spec.user() == UserParam::Optional {
            requirements.push(SecurityRequirement::default());
        }
        requirements
    }
}

fn operations(item: &mut utoipa::openapi::path::PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("OPTIONS", item.options.as_mut()),
        ("HEAD", item.head.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("TRACE", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// The annotated handler documented by this operation: the only one of that name, or the one
/// whose own route fits.
fn handler_of(operation_id: &str, method: &str, path: &str) -> Option<&'static RouteSpec> {
    match crate::route::by_name(operation_id) {
        [only] => Some(only),
        _ => crate::route::bound(operation_id, method, path),
    }
}

impl utoipa::Modify for RouteSecurity {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut used = std::collections::BTreeSet::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                let Some(id) = operation.operation_id.as_deref() else { continue };
                match handler_of(id, method, path) {
                    Some(spec) => match self.uses(spec) {
                        Some(uses) => {
                            if !uses.is_empty() {
                                used.extend(uses.iter().map(|u| u.name));
                                document_refusals(operation, uses);
                            }
                            operation.security = Some(self.requirements(spec));
                        }
                        None => tracing::warn!(
                            operation = id,
                            %path,
                            "an #[authenticate(group)] handler: say which group with RouteSecurity::group(&group)"
                        ),
                    },
                    None => {
                        tracing::warn!(operation = id, %path, "no #[authenticate] handler documents this operation")
                    }
                }
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, scheme) in self.schemes.iter().filter(|(strategy, _, _)| used.contains(strategy)) {
            components.add_security_scheme(name.clone(), scheme.clone());
        }
        if !used.is_empty() {
            components.schemas.insert(ERROR_BODY.to_owned(), error_body_schema());
        }
    }
}

/// The name of the error body's schema in `components`: LoopBack's error envelope, which authn
/// answers with and apps may `$ref` for their own errors.
pub const ERROR_BODY: &str = "ErrorBody";

/// `{"error": {"statusCode", "name", "message", "code"?, "details"?}}`.
fn error_body_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let schema = serde_json::json!({
        "type": "object",
        "description": "LoopBack's error body: every authn refusal, and the app's own errors.",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["statusCode", "name", "message"],
            "properties": {
                "statusCode": {"type": "integer", "description": "The HTTP status, repeated."},
                "name": {"type": "string", "description": "`UnauthorizedError`, `ForbiddenError`, ..."},
                "message": {"type": "string"},
                "code": {"type": "string", "description": "A stable code, e.g. `USER_PROFILE_NOT_FOUND`."},
                "details": {"type": "array", "items": {"type": "object"}}
            }
        }}
    });
    serde_json::from_value(schema).expect("a valid schema")
}

/// The responses authn itself gives a secured operation, so no app writes them by hand: 401 with
/// `WWW-Authenticate` (no or bad credentials), and 403 when the route requires scopes.
fn document_refusals(operation: &mut Operation, uses: &[StrategyUse]) {
    let refusal = |description: &str| -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
        let response = serde_json::json!({
            "description": description,
            "headers": {"WWW-Authenticate": {
                "description": "Always sent: the challenge of every strategy tried (RFC 7235), with RFC 6750's `error` for bad bearer tokens.",
                "schema": {"type": "string"}
            }},
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{ERROR_BODY}")}}}
        });
        serde_json::from_value(response).expect("a valid response")
    };
    let responses = &mut operation.responses.responses;
    responses.insert("401".into(), refusal("Not authenticated: no credentials, or bad ones (answered by authn)."));
    if uses.iter().any(|u| u.options.strings("scopes").next().is_some()) {
        responses
            .insert("403".into(), refusal("Authenticated without a scope the route requires (answered by authn)."));
    }
}
