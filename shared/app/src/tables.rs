//! The DynamoDB tables of Soraaya: the one place their keys, indexes and TTL
//! attributes are defined. `template.yaml` must declare the same (a test checks).

use soraaya_store::{IndexDef, Projection, TableDef};

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

/// What the lead listing indexes hold besides keys: everything a listing
/// filters, searches or sorts by, so that listings never read whole leads.
pub const LEAD_LISTING: &[&str] = &[
    "id",
    "status",
    "priority",
    "created_at",
    "updated_at",
    "contact_person",
    "qualification_score",
    "budget_range_min",
    "budget_range_max",
    "assigned_agent_id",
    "do_not_call",
    "tags",
    "search_text",
    "campaign_id",
];

/// Leads and everything about them.
///
/// | item | pk | sk |
/// |---|---|---|
/// | lead | `ORG#{org}#LEAD#{lead}` | `LEAD` |
/// | timeline event | `ORG#{org}#LEAD#{lead}` | `EVENT#{at}#{event}` |
/// | phone guard (one lead per number) | `ORG#{org}#PHONE#{e164}` | `PHONE` |
/// | do-not-call entry | `ORG#{org}#DNC` | `{e164}` |
/// | counters (organisation, campaign, day) | `ORG#{org}#STATS` | `ALL`, `CAMPAIGN#{c}`, `DAY#{date}`, `DAY#{date}#CAMPAIGN#{c}` |
/// | audit record (no personal data) | `ORG#{org}#AUDIT` | `{at}#{id}` |
///
/// Lead items carry index keys: `by_created` (`ORG#{org}`, `{created}#{lead}`),
/// `by_status` (`ORG#{org}#{status}`, same) and `by_campaign` (`ORG#{org}#{campaign}`, same).
pub static LEADS: TableDef = TableDef {
    name: "leads",
    indexes: &[
        IndexDef {
            name: "by_created",
            pk: "list_pk",
            sk: "list_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
        IndexDef {
            name: "by_status",
            pk: "status_pk",
            sk: "status_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
        IndexDef {
            name: "by_campaign",
            pk: "campaign_pk",
            sk: "campaign_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
    ],
    ttl_attribute: Some("expires_at"),
};

/// Every table, in creation order.
pub static ALL: &[&TableDef] = &[&ACCOUNTS, &LEADS];

/// The TTL attribute name shared by every table that expires items.
pub const TTL_ATTRIBUTE: &str = "expires_at";
