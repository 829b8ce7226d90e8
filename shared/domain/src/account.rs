//! Organisations (tenants), their users, and what each role may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::preferences::{DashboardPreferences, Language, NotificationPreferences, Theme};
use crate::{Email, OrgId, OrgName, PersonName, Region, TimeZoneName, Timestamp, UserId};

/// A customer organisation. All of its data is keyed by its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub id: OrgId,
    pub name: OrgName,
    /// Country assumed for phone numbers written without a country code.
    pub default_region: Region,
    pub time_zone: TimeZoneName,
    #[serde(default)]
    pub settings: crate::OrgSettings,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// What a user is to the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
}

/// One thing a role may do. The RBAC table in the docs is generated from
/// [`Role::permissions`], so this is the single source of truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    #[serde(rename = "users:manage")]
    UsersManage,
    #[serde(rename = "org:settings")]
    OrgSettings,
    #[serde(rename = "leads:read")]
    LeadsRead,
    #[serde(rename = "leads:write")]
    LeadsWrite,
    #[serde(rename = "leads:status")]
    LeadsStatus,
    #[serde(rename = "leads:notes")]
    LeadsNotes,
    #[serde(rename = "leads:import")]
    LeadsImport,
    #[serde(rename = "leads:export")]
    LeadsExport,
    #[serde(rename = "leads:delete")]
    LeadsDelete,
    #[serde(rename = "dnc:manage")]
    DncManage,
    #[serde(rename = "campaigns:read")]
    CampaignsRead,
    #[serde(rename = "campaigns:manage")]
    CampaignsManage,
    #[serde(rename = "calling:control")]
    CallingControl,
    #[serde(rename = "notifications:read")]
    NotificationsRead,
    #[serde(rename = "notifications:manage")]
    NotificationsManage,
    #[serde(rename = "dashboard:read")]
    DashboardRead,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::UsersManage,
        Permission::OrgSettings,
        Permission::LeadsRead,
        Permission::LeadsWrite,
        Permission::LeadsStatus,
        Permission::LeadsNotes,
        Permission::LeadsImport,
        Permission::LeadsExport,
        Permission::LeadsDelete,
        Permission::DncManage,
        Permission::CampaignsRead,
        Permission::CampaignsManage,
        Permission::CallingControl,
        Permission::NotificationsRead,
        Permission::NotificationsManage,
        Permission::DashboardRead,
    ];

    /// The wire name, such as `leads:import`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::UsersManage => "users:manage",
            Permission::OrgSettings => "org:settings",
            Permission::LeadsRead => "leads:read",
            Permission::LeadsWrite => "leads:write",
            Permission::LeadsStatus => "leads:status",
            Permission::LeadsNotes => "leads:notes",
            Permission::LeadsImport => "leads:import",
            Permission::LeadsExport => "leads:export",
            Permission::LeadsDelete => "leads:delete",
            Permission::DncManage => "dnc:manage",
            Permission::CampaignsRead => "campaigns:read",
            Permission::CampaignsManage => "campaigns:manage",
            Permission::CallingControl => "calling:control",
            Permission::NotificationsRead => "notifications:read",
            Permission::NotificationsManage => "notifications:manage",
            Permission::DashboardRead => "dashboard:read",
        }
    }

    /// What the permission allows, for the docs and the permissions endpoint.
    pub fn description(self) -> &'static str {
        match self {
            Permission::UsersManage => "create users, change roles, deactivate users",
            Permission::OrgSettings => "change organisation settings",
            Permission::LeadsRead => "list, view and search leads, transcripts and timelines",
            Permission::LeadsWrite => "create and edit leads, bulk updates, campaign assignment",
            Permission::LeadsStatus => "change a lead's status",
            Permission::LeadsNotes => "add notes to a lead",
            Permission::LeadsImport => "import leads from CSV",
            Permission::LeadsExport => "export leads to CSV",
            Permission::LeadsDelete => "erase leads, bulk delete",
            Permission::DncManage => "manage the do-not-call list",
            Permission::CampaignsRead => "view campaigns and their performance",
            Permission::CampaignsManage => "create, edit and delete campaigns and personas",
            Permission::CallingControl => "start, pause and stop calling",
            Permission::NotificationsRead => "view notifications",
            Permission::NotificationsManage => "act on, assign and resolve notifications",
            Permission::DashboardRead => "view dashboards and insights",
        }
    }
}

impl Role {
    pub const ALL: &'static [Role] = &[Role::Admin, Role::Manager, Role::Agent];

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => Permission::ALL,
            Role::Manager => &[
                LeadsRead,
                LeadsWrite,
                LeadsStatus,
                LeadsNotes,
                LeadsImport,
                LeadsExport,
                LeadsDelete,
                DncManage,
                CampaignsRead,
                CampaignsManage,
                CallingControl,
                NotificationsRead,
                NotificationsManage,
                DashboardRead,
            ],
            Role::Agent => &[
                LeadsRead,
                LeadsStatus,
                LeadsNotes,
                CampaignsRead,
                NotificationsRead,
                NotificationsManage,
                DashboardRead,
            ],
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .copied()
            .find(|role| role.as_str() == text.trim())
    }
}

/// An organisation's key for an integration (a portal, a website form): it
/// acts for the organisation within its scopes, never as a person, so it
/// cannot manage users or settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: crate::ApiKeyId,
    pub org_id: OrgId,
    /// What the key is for, such as `99acres portal`.
    pub name: String,
    /// What the key may do (a subset of [`Permission::FOR_KEYS`]).
    pub scopes: Vec<Permission>,
    /// The first characters of the key, to recognise it by.
    pub prefix: String,
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

impl Permission {
    /// What an API key may be given: reading and writing leads (the lead
    /// intake of a portal or website form among them); never people,
    /// settings, campaigns or calling control.
    pub const FOR_KEYS: &'static [Permission] = &[Permission::LeadsRead, Permission::LeadsWrite];

    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == text.trim())
    }
}

/// A person who signs in to an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub full_name: PersonName,
    pub role: Role,
    pub is_active: bool,
    #[serde(default)]
    pub time_zone: Option<TimeZoneName>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    #[serde(default)]
    pub notification_preferences: NotificationPreferences,
    #[serde(default)]
    pub dashboard_preferences: DashboardPreferences,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub theme: Theme,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub last_login_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl User {
    pub fn can(&self, permission: Permission) -> bool {
        self.is_active && self.role.can(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for permission in Permission::ALL {
            let json = serde_json::to_value(permission).unwrap();
            assert_eq!(json, permission.as_str());
        }
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
    }

    #[test]
    fn roles_nest() {
        for permission in Role::Agent.permissions() {
            assert!(Role::Manager.can(*permission), "{permission:?}");
        }
        for permission in Role::Manager.permissions() {
            assert!(Role::Admin.can(*permission), "{permission:?}");
        }
        assert!(!Role::Manager.can(Permission::UsersManage));
        assert!(!Role::Agent.can(Permission::LeadsImport));
        assert!(!Role::Agent.can(Permission::LeadsDelete));
    }
}
