//! The authenticated principal.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Who a strategy says the caller is: LoopBack's `UserProfile`, typed.
///
/// `id` is the principal id (LoopBack's `securityId`); `claims` holds everything else the
/// strategy knows (roles, scopes, tenant...). The profile serializes flat, so a handler can ask
/// for `CurrentUser<MyClaims>` with any `Deserialize` type whose fields are among these. In the
/// flat form `id`, `name` and `email` are always the profile's own: a claim of the same name
/// is left out, so no token can make a handler see another identity than the one authenticated.
///
/// ```
/// use authn::UserProfile;
/// let p = UserProfile::new("42").with_name("Ada").with_email("ada@example.com").with_claim("role", "admin");
/// let json = serde_json::to_value(&p).unwrap();
/// assert_eq!(json, serde_json::json!({"id": "42", "name": "Ada", "email": "ada@example.com", "role": "admin"}));
/// assert_eq!(p.claim("role").and_then(|v| v.as_str()), Some("admin"));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserProfile {
    /// The principal id.
    pub id: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

/// The claims that name the profile's own fields.
pub(crate) fn is_reserved(key: &str) -> bool {
    matches!(key, "id" | "name" | "email")
}

impl Serialize for UserProfile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        if let Some(name) = &self.name {
            map.serialize_entry("name", name)?;
        }
        if let Some(email) = &self.email {
            map.serialize_entry("email", email)?;
        }
        for (key, value) in self.claims.iter().filter(|(key, _)| !is_reserved(key)) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl UserProfile {
    /// A profile with just an id.
    pub fn new(id: impl Into<String>) -> Self {
        UserProfile { id: id.into(), name: None, email: None, claims: Map::new() }
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Adds a claim. The reserved keys `id`, `name` and `email` go to their fields instead, so
    /// the flat form stays unambiguous.
    pub fn with_claim(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into();
        let value = value.into();
        match key.as_str() {
            "id" => self.id = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()),
            "name" => self.name = value.as_str().map(str::to_owned),
            "email" => self.email = value.as_str().map(str::to_owned),
            _ => {
                self.claims.insert(key, value);
            }
        }
        self
    }

    /// A claim other than id, name and email.
    pub fn claim(&self, key: &str) -> Option<&Value> {
        self.claims.get(key)
    }

    /// The scopes granted: the space-separated `scope` claim (RFC 8693 §4.2, RFC 9068 §2.2.3,
    /// as OAuth 2.0 access tokens carry them), `scp` (Entra ID's and Okta's name for it, a
    /// string or an array) and the `scopes` array, all read.
    ///
    /// ```
    /// use authn::UserProfile;
    /// let p = UserProfile::new("1").with_claim("scope", "todos:read todos:write").with_claim("scopes", ["admin"]);
    /// assert_eq!(p.scopes().collect::<Vec<_>>(), ["todos:read", "todos:write", "admin"]);
    /// assert!(p.has_scope("admin") && !p.has_scope("todos"));
    /// let entra = UserProfile::new("2").with_claim("scp", "Todo.Read Todo.Write");
    /// assert!(entra.has_scope("Todo.Write"));
    /// let okta = UserProfile::new("3").with_claim("scp", ["todo:read"]);
    /// assert!(okta.has_scope("todo:read"));
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        let spaced = |key| self.claim(key).and_then(Value::as_str).into_iter().flat_map(|s| s.split(' '));
        let listed = |key| self.claim(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
        spaced("scope").chain(spaced("scp")).chain(listed("scp")).chain(listed("scopes")).filter(|s| !s.is_empty())
    }

    /// Whether `scope` was granted (see [`UserProfile::scopes`]).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_claims_go_to_their_fields() {
        let p = UserProfile::new("1").with_claim("id", 7).with_claim("email", "e@x").with_claim("k", true);
        assert_eq!(p.id, "7");
        assert_eq!(p.email.as_deref(), Some("e@x"));
        assert_eq!(p.claims.len(), 1);
    }

    #[test]
    fn no_claim_shadows_the_identity_in_the_flat_form() {
        let mut p = UserProfile::new("alice");
        p.claims.insert("id".into(), "bob".into());
        p.claims.insert("email".into(), "bob@example.com".into());
        p.claims.insert("role".into(), "user".into());
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json, serde_json::json!({"id": "alice", "role": "user"}));
    }

    #[test]
    fn round_trips_through_json() {
        let p = UserProfile::new("1").with_name("n").with_claim("scopes", vec!["a", "b"]);
        let back: UserProfile = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
