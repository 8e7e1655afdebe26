//! LoopBack's `UserIdentityService`: users who log in through another party (OAuth 2.0 / OpenID
//! Connect providers, LDAP, SAML), found or created locally and linked to that identity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::{AuthError, UserProfile};

/// Who a provider says the caller is.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    /// The provider's name in the app's configuration, e.g. `"github"`.
    pub provider: String,
    /// The provider's stable id for the user (OpenID Connect's `sub`). Emails change hands;
    /// this does not.
    pub subject: String,
    /// The email, as the provider reports it.
    pub email: Option<String>,
    /// Whether the provider says it verified the email (OpenID Connect's `email_verified`).
    pub email_verified: bool,
    /// A display name.
    pub name: Option<String>,
    /// Everything the provider's user-info endpoint answered.
    pub claims: Map<String, Value>,
}

/// Finds or creates the local user for an external identity (LoopBack's `UserIdentityService`).
pub trait UserIdentityService: Send + Sync + 'static {
    /// The local user already linked to `identity`, or a new one linked to it.
    fn find_or_create_user<'a>(
        &'a self,
        identity: &'a ExternalIdentity,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>>;
    /// Links `identity` to an existing local user (e.g. "connect your GitHub account" while
    /// logged in); a 409 when it already belongs to someone else.
    fn link_external_profile<'a>(
        &'a self,
        user_id: &'a str,
        identity: &'a ExternalIdentity,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>>;
}

/// Identities and their local users in memory, for tests and examples.
///
/// Users are matched by `(provider, subject)` only, never by email: linking by an email the
/// provider did not verify would hand an existing account to whoever registered that address
/// with the provider.
///
/// ```
/// use authn::users::{ExternalIdentity, MemoryUserIdentityService, UserIdentityService};
///
/// # futures_util::FutureExt::now_or_never(async {
/// let identities = MemoryUserIdentityService::new();
/// let ada = ExternalIdentity {
///     provider: "github".into(),
///     subject: "583231".into(),
///     email: Some("ada@example.com".into()),
///     email_verified: true,
///     name: Some("Ada".into()),
///     claims: Default::default(),
/// };
/// let first = identities.find_or_create_user(&ada).await.unwrap();
/// let again = identities.find_or_create_user(&ada).await.unwrap();
/// assert_eq!(first.id, again.id);
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct MemoryUserIdentityService {
    inner: Arc<Mutex<Links>>,
}

#[derive(Default)]
struct Links {
    /// (provider, subject) → local user id.
    by_identity: HashMap<(String, String), String>,
    /// local user id → profile.
    users: HashMap<String, UserProfile>,
    next: u64,
}

impl MemoryUserIdentityService {
    /// No users yet.
    pub fn new() -> Self {
        MemoryUserIdentityService::default()
    }

    fn links(&self) -> std::sync::MutexGuard<'_, Links> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a local user (one who signed up with a password, say) that identities may be linked to.
    pub fn add_user(&self, profile: UserProfile) {
        self.links().users.insert(profile.id.clone(), profile);
    }
}

fn profile_for(id: &str, identity: &ExternalIdentity) -> UserProfile {
    let mut profile = UserProfile::new(id);
    profile.name = identity.name.clone();
    profile.email = identity.email.clone().filter(|_| identity.email_verified);
    profile
}

impl UserIdentityService for MemoryUserIdentityService {
    fn find_or_create_user<'a>(
        &'a self,
        identity: &'a ExternalIdentity,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        let mut links = self.links();
        let key = (identity.provider.clone(), identity.subject.clone());
        let profile = match links.by_identity.get(&key).cloned() {
            Some(id) => links.users.get(&id).cloned().unwrap_or_else(|| profile_for(&id, identity)),
            None => {
                links.next += 1;
                let id = format!("{}-{}", identity.provider, links.next);
                let profile = profile_for(&id, identity);
                links.by_identity.insert(key, id.clone());
                links.users.insert(id, profile.clone());
                profile
            }
        };
        Box::pin(std::future::ready(Ok(profile)))
    }

    fn link_external_profile<'a>(
        &'a self,
        user_id: &'a str,
        identity: &'a ExternalIdentity,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        let mut links = self.links();
        let key = (identity.provider.clone(), identity.subject.clone());
        let result = match (links.users.get(user_id).cloned(), links.by_identity.get(&key)) {
            (None, _) => Err(AuthError::unauthorized("invalid User")),
            (Some(_), Some(owner)) if owner != user_id => {
                Err(AuthError::unauthorized("This external account is already linked to another user.")
                    .with_status(actix_web::http::StatusCode::CONFLICT))
            }
            (Some(profile), _) => {
                links.by_identity.insert(key, user_id.to_owned());
                Ok(profile)
            }
        };
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn identity(subject: &str) -> ExternalIdentity {
        ExternalIdentity {
            provider: "mock".into(),
            subject: subject.into(),
            email: Some("shared@example.com".into()),
            email_verified: false,
            name: None,
            claims: Map::new(),
        }
    }

    #[test]
    fn same_email_different_subject_is_another_user() {
        let ids = MemoryUserIdentityService::new();
        let a = ids.find_or_create_user(&identity("1")).now_or_never().unwrap().unwrap();
        let b = ids.find_or_create_user(&identity("2")).now_or_never().unwrap().unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.email, None, "an unverified email is not put on the profile");
    }

    #[test]
    fn linking_is_exclusive() {
        let ids = MemoryUserIdentityService::new();
        ids.add_user(UserProfile::new("u1"));
        ids.add_user(UserProfile::new("u2"));
        assert_eq!(ids.link_external_profile("u1", &identity("9")).now_or_never().unwrap().unwrap().id, "u1");
        assert_eq!(ids.find_or_create_user(&identity("9")).now_or_never().unwrap().unwrap().id, "u1");
        let taken = ids.link_external_profile("u2", &identity("9")).now_or_never().unwrap().unwrap_err();
        assert_eq!(taken.status(), 409);
        assert!(ids.link_external_profile("nobody", &identity("10")).now_or_never().unwrap().is_err());
    }
}
