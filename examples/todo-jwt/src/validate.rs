//! Body validation with LoopBack's 422 `details`: every problem of a body at once.

use serde_json::{Map, Value};

use crate::db::TodoFields;
use crate::errors::{ApiError, Detail};

fn detail(path: &str, code: &'static str, message: impl Into<String>) -> Detail {
    Detail { path: format!("/{path}"), code, message: message.into() }
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        ApiError::Validation(vec![Detail { path: "".into(), code: "type", message: "must be object".into() }])
    })
}

/// A `Todo` body. `complete` requires a title (POST, PUT); otherwise fields are optional (PATCH).
pub fn todo(body: &Value, complete: bool) -> Result<TodoFields, ApiError> {
    let map = object(body)?;
    let mut details = Vec::new();
    let mut fields = TodoFields::default();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("title", Value::String(s)) if !s.is_empty() => fields.title = Some(s.clone()),
            ("title", Value::String(_)) => {
                details.push(detail("title", "minLength", "must NOT have fewer than 1 characters"))
            }
            ("title", _) => details.push(detail("title", "type", "must be string")),
            ("desc", Value::String(s)) => fields.desc = Some(Some(s.clone())),
            ("desc", Value::Null) => fields.desc = Some(None),
            ("desc", _) => details.push(detail("desc", "type", "must be string")),
            ("isComplete", Value::Bool(b)) => fields.is_complete = Some(Some(*b)),
            ("isComplete", Value::Null) => fields.is_complete = Some(None),
            ("isComplete", _) => details.push(detail("isComplete", "type", "must be boolean")),
            (other, _) => details.push(detail(other, "additionalProperties", "must NOT have additional properties")),
        }
    }
    if complete {
        if !map.contains_key("title") {
            details.push(detail("", "required", "must have required property 'title'"));
        }
        // A PUT replaces: absent optional fields are cleared.
        fields.desc.get_or_insert(None);
        fields.is_complete.get_or_insert(None);
    }
    if details.is_empty() { Ok(fields) } else { Err(ApiError::Validation(details)) }
}

/// Email and password, as LoopBack's `CredentialsSchema`: an email format, 8 characters at least.
/// `extra` names other properties allowed (signup's `username`).
pub fn credentials<'a>(body: &'a Value, extra: &[&str]) -> Result<(String, String, &'a Map<String, Value>), ApiError> {
    let map = object(body)?;
    let mut details = Vec::new();
    let email = required_string(map, "email", &mut details, |s| {
        (!looks_like_email(s)).then_some(("format", "must match format \"email\""))
    });
    let password = required_string(map, "password", &mut details, |s| {
        (s.chars().count() < 8).then_some(("minLength", "must NOT have fewer than 8 characters"))
    });
    for key in map.keys() {
        if key != "email" && key != "password" && !extra.contains(&key.as_str()) {
            details.push(detail(key, "additionalProperties", "must NOT have additional properties"));
        }
    }
    match (email, password) {
        (Some(email), Some(password)) if details.is_empty() => Ok((email, password, map)),
        _ => Err(ApiError::Validation(details)),
    }
}

/// A required string property; `invalid` names what is wrong with a string, if anything.
fn required_string(
    map: &Map<String, Value>,
    name: &str,
    details: &mut Vec<Detail>,
    invalid: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> Option<String> {
    match map.get(name) {
        Some(Value::String(s)) => match invalid(s) {
            None => Some(s.clone()),
            Some((code, message)) => {
                details.push(detail(name, code, message));
                None
            }
        },
        Some(_) => {
            details.push(detail(name, "type", "must be string"));
            None
        }
        None => {
            details.push(detail("", "required", format!("must have required property '{name}'")));
            None
        }
    }
}

/// Signup's optional `username`.
pub fn username(map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match map.get("username") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::Validation(vec![detail("username", "type", "must be string")])),
    }
}

/// The `{refreshToken}` body of `/refresh` and `/users/logout`, and nothing else.
pub fn refresh_token(body: &Value) -> Result<String, ApiError> {
    let map = object(body)?;
    let mut details: Vec<Detail> = map
        .keys()
        .filter(|key| *key != "refreshToken")
        .map(|key| detail(key, "additionalProperties", "must NOT have additional properties"))
        .collect();
    match map.get("refreshToken") {
        Some(Value::String(token)) if token.is_empty() => {
            details.push(detail("refreshToken", "minLength", "must NOT have fewer than 1 characters"))
        }
        Some(Value::String(token)) if details.is_empty() => return Ok(token.clone()),
        Some(Value::String(_)) => {}
        Some(_) => details.push(detail("refreshToken", "type", "must be string")),
        None => details.push(detail("", "required", "must have required property 'refreshToken'")),
    }
    Err(ApiError::Validation(details))
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}
