//! Who is asking: the authenticated user behind a request, or an
//! organisation's API key, and what their role and scopes allow.

use soraaya_domain::{ApiKeyId, OrgId, Permission, Role, SessionId, UserId};

/// The authenticated user behind a request. Its organisation comes from the
/// verified access token (or API key) and is the only organisation the
/// request can touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The person, or for an API key the admin who created it (who answers
    /// for what it does).
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    /// The user's name as of sign-in (for a key, `API key <name>`), for activity records.
    pub name: String,
    pub session_id: SessionId,
    /// Set when an API key makes the request; its scopes bound what the role allows.
    pub api_key: Option<KeyGrant>,
}

/// What an API key brings to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub id: ApiKeyId,
    pub scopes: Vec<Permission>,
}

impl Caller {
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
            && self
                .api_key
                .as_ref()
                .is_none_or(|key| key.scopes.contains(&permission))
    }
}
