//! The DynamoDB tables of Soraaya: the one place their keys, indexes and TTL
//! attributes are defined. `template.yaml` must declare the same (a test checks).

use soraaya_store::{IndexDef, Projection, TableDef};

/// Organisations, users, login identities and throttles, sessions, reset links.
///
/// | item | pk | sk |
/// |---|---|---|
/// | organisation directory entry | `ORGS` | `ORG#{org}` |
/// | organisation | `ORG#{org}` | `PROFILE` |
/// | user | `ORG#{org}` | `USER#{user}` |
/// | session (refresh-token family) | `ORG#{org}` | `SESSION#{user}#{session}` |
/// | login identity (email → org, user) | `LOGIN#{email}` | `IDENTITY` |
/// | login throttle | `LOGIN#{email}` | `THROTTLE` |
/// | password reset link (one per user) | `ORG#{org}` | `RESET#{user}` |
/// | reset request throttle | `RESET#{email}`, `RESET_CLIENT#{ip}` | `THROTTLE` |
/// | API key (its secret's hash) | `ORG#{org}` | `APIKEY#{key}` |
/// | whose turn it is (escalations, qualified leads) | `ORG#{org}` | `TURN#{kind}` |
/// | audit entry | `ORG#{org}#AUDIT` | `{at}#{id}` |
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
/// | search word of a lead | `ORG#{org}#WORDS#{first letter}` | `{word}#{created}#{lead}` |
/// | intake answer kept for a retry (TTL 24 h) | `ORG#{org}#IDEMPOTENCY` | `INTAKE#{key}` |
///
/// Lead items carry index keys: `by_created` (`ORG#{org}`, `{created}#{lead}`),
/// `by_status` (`ORG#{org}#{status}`, same) and `by_campaign` (`ORG#{org}#{campaign}`,
/// same), `by_status_priority` (`ORG#{org}#{status}#{priority}`, same),
/// `by_status_budget` (`ORG#{org}#{status}`, `{budget}#{created}#{lead}`), and, while the scheduler has something to do for the lead (a call to
/// check, a queued dial to watch, a next call due), `by_due`
/// (`DUE#{shard}`, `{due}#{org}#{lead}`); while a queued dial waits in
/// its campaign's line for a free slot, `by_line`
/// (`ORG#{org}#LINE#{campaign}`, `{queued}#{created}#{lead}`: first
/// queued first, then as listed).
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
            name: "by_status_priority",
            pk: "status_priority_pk",
            sk: "status_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
        IndexDef {
            name: "by_status_budget",
            pk: "status_pk",
            sk: "budget_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
        IndexDef {
            name: "by_campaign",
            pk: "campaign_pk",
            sk: "campaign_sk",
            projection: Projection::Include(LEAD_LISTING),
        },
        IndexDef {
            name: "by_due",
            pk: "due_pk",
            sk: "due_sk",
            projection: Projection::KeysOnly,
        },
        IndexDef {
            name: "by_line",
            pk: "line_pk",
            sk: "line_sk",
            projection: Projection::KeysOnly,
        },
    ],
    ttl_attribute: Some("expires_at"),
};

/// How many partitions the scheduler's due index is spread over.
pub const DUE_SHARDS: u32 = 8;

/// Campaigns, agent personas, properties, and the live-call slots of each
/// campaign and organisation.
///
/// | item | pk | sk |
/// |---|---|---|
/// | campaign | `ORG#{org}#CAMPAIGN#{c}` | `CAMPAIGN` |
/// | live-call slots of a campaign | `ORG#{org}#CAMPAIGN#{c}` | `SLOTS` |
/// | live-call slots of the organisation | `ORG#{org}` | `SLOTS` |
/// | campaign name (unique per organisation) | `ORG#{org}#CAMPAIGN_NAME#{name}` | `NAME` |
/// | persona | `ORG#{org}#PERSONA#{p}` | `PERSONA` |
/// | property | `ORG#{org}#PROPERTY#{p}` | `PROPERTY` |
///
/// Campaigns, personas and properties are listed through `by_org`
/// (`ORG#{org}#CAMPAIGNS` and so on, by creation time).
pub static CAMPAIGNS: TableDef = TableDef {
    name: "campaigns",
    indexes: &[IndexDef {
        name: "by_org",
        pk: "org_pk",
        sk: "org_sk",
        projection: Projection::All,
    }],
    ttl_attribute: Some("expires_at"),
};

/// Call attempts, and the telephony provider's call ids.
///
/// | item | pk | sk |
/// |---|---|---|
/// | call attempt | `ORG#{org}#LEAD#{lead}` | `ATTEMPT#{n}` |
/// | telephony call (Twilio CallSid → attempt) | `TWILIO#{sid}` | `CALL` |
/// | voice call (VAPI call id → attempt) | `VAPI#{id}` | `CALL` |
///
/// Ended attempts are listed by campaign through `by_campaign_ended`
/// (`ORG#{org}#{campaign}`, `{ended}#{lead}#{n}`): the recent calls of a campaign.
pub static CALLS: TableDef = TableDef {
    name: "calls",
    indexes: &[IndexDef {
        name: "by_campaign_ended",
        pk: "campaign_pk",
        sk: "ended_sk",
        projection: Projection::All,
    }],
    ttl_attribute: Some("expires_at"),
};

/// Call transcripts.
///
/// | item | pk | sk |
/// |---|---|---|
/// | transcript | `ORG#{org}#LEAD#{lead}` | `CALL#{started}#{call}` |
/// | one transcript per call | `ORG#{org}#CALL#{call}` | `TRANSCRIPT` |
pub static TRANSCRIPTS: TableDef = TableDef {
    name: "transcripts",
    indexes: &[],
    ttl_attribute: Some("expires_at"),
};

/// Notifications, listed newest first through `by_org` (`ORG#{org}`, `{created}#{id}`).
///
/// | item | pk | sk |
/// |---|---|---|
/// | notification | `ORG#{org}#NOTIFICATION#{id}` | `NOTIFICATION` |
/// | a user's email digest (what it covered, when sent) | `ORG#{org}#DIGEST` | `USER#{user}` |
pub static NOTIFICATIONS: TableDef = TableDef {
    name: "notifications",
    indexes: &[IndexDef {
        name: "by_org",
        pk: "org_pk",
        sk: "org_sk",
        projection: Projection::All,
    }],
    ttl_attribute: Some("expires_at"),
};

/// Jobs: work bigger than one request (imports, bulk changes, exports),
/// listed newest first through `by_org` (`ORG#{org}`, `{created}#{id}`).
///
/// | item | pk | sk |
/// |---|---|---|
/// | job | `ORG#{org}#JOB#{job}` | `JOB` |
/// | one shard of its counts | `ORG#{org}#JOB#{job}` | `COUNT#{n}` |
/// | a batch done (its start in the file) | `ORG#{org}#JOB#{job}` | `BATCH#{offset}` |
/// | a row's errors | `ORG#{org}#JOB#{job}` | `ERROR#{line}` |
/// | a lead's result (bulk jobs) | `ORG#{org}#JOB#{job}` | `RESULT#{n}` |
///
/// Every item expires with its job.
pub static JOBS: TableDef = TableDef {
    name: "jobs",
    indexes: &[IndexDef {
        name: "by_org",
        pk: "org_pk",
        sk: "org_sk",
        projection: Projection::All,
    }],
    ttl_attribute: Some("expires_at"),
};

/// Every table, in creation order.
pub static ALL: &[&TableDef] = &[
    &ACCOUNTS,
    &LEADS,
    &CAMPAIGNS,
    &CALLS,
    &TRANSCRIPTS,
    &NOTIFICATIONS,
    &JOBS,
];

/// The TTL attribute name shared by every table that expires items.
pub const TTL_ATTRIBUTE: &str = "expires_at";
