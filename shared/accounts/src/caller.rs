//! Who is asking: the authenticated user behind a request, and what their role allows.

use soraaya_domain::{OrgId, Permission, Role, SessionId, UserId};

/// The authenticated user behind a request. Its organisation comes from the
/// verified access token and is the only organisation the request can touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    /// The user's name as of sign-in, for activity records.
    pub name: String,
    pub session_id: SessionId,
}

impl Caller {
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }
}
