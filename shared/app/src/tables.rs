//! The DynamoDB tables of Soraaya: the one place their keys, indexes and TTL
//! attributes are defined. `template.yaml` must declare the same (a test checks).

use soraaya_store::TableDef;

/// Organisations, users, login identities and throttles, sessions.
///
/// | item | pk | sk |
/// |---|---|---|
/// | organisation directory entry | `ORGS` | `ORG#{org}` |
/// | organisation | `ORG#{org}` | `PROFILE` |
/// | user | `ORG#{org}` | `USER#{user}` |
/// | session (refresh-token family) | `ORG#{org}` | `SESSION#{user}#{session}` |
/// | login identity (email → org, user) | `LOGIN#{email}` | `IDENTITY` |
/// | login throttle | `LOGIN#{email}` | `THROTTLE` |
///
/// Login identities and throttles are the only items found before a tenant is
/// known: they hold pointers, not tenant data.
pub static ACCOUNTS: TableDef = TableDef {
    name: "accounts",
    indexes: &[],
    ttl_attribute: Some("expires_at"),
};

/// Every table, in creation order.
pub static ALL: &[&TableDef] = &[&ACCOUNTS];

/// The TTL attribute name shared by every table that expires items.
pub const TTL_ATTRIBUTE: &str = "expires_at";
