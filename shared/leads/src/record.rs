//! How leads, their timeline and their counters are stored in the leads table.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_domain::{CampaignId, EventId, Lead, LeadId, LeadStatus, OrgId, Priority, UserId};
use soraaya_store::{AttributeValue, Item, Key, StoreError, to_item};
use utoipa::ToSchema;

use soraaya_core::keys::{keyed_item, sortable};

pub fn lead_pk(org: OrgId, lead: LeadId) -> String {
    format!("ORG#{org}#LEAD#{lead}")
}

pub fn lead_key(org: OrgId, lead: LeadId) -> Key {
    Key::new(lead_pk(org, lead), "LEAD")
}

/// The lead a lead item's key (or a listing index entry's) names.
pub fn lead_id_of(key: &Key) -> Option<LeadId> {
    let (_, id) = key.pk.rsplit_once("#LEAD#")?;
    LeadId::parse(id).ok()
}

pub fn phone_key(org: OrgId, e164: &str) -> Key {
    Key::new(format!("ORG#{org}#PHONE#{e164}"), "PHONE")
}

pub fn dnc_pk(org: OrgId) -> String {
    format!("ORG#{org}#DNC")
}

pub use soraaya_counters::stats_pk;

pub fn audit_pk(org: OrgId) -> String {
    format!("ORG#{org}#AUDIT")
}

/// Index partition of every lead of an organisation (`by_created`).
pub fn list_partition(org: OrgId) -> String {
    format!("ORG#{org}")
}

/// Index partition of the leads in one status (`by_status`).
pub fn status_partition(org: OrgId, status: LeadStatus) -> String {
    format!("ORG#{org}#{status}")
}

/// Index partition of the leads of one campaign (`by_campaign`).
pub fn campaign_partition(org: OrgId, campaign: CampaignId) -> String {
    format!("ORG#{org}#{campaign}")
}

/// Sort key of a lead in every listing index: newest last.
pub fn listing_sort_key(lead: &Lead) -> String {
    format!("{}#{}", sortable(lead.created_at), lead.id)
}

/// Index partition of the leads in one status with one priority (`by_status_priority`).
pub fn status_priority_partition(org: OrgId, status: LeadStatus, priority: Priority) -> String {
    format!("ORG#{org}#{status}#{}", priority.as_str())
}

/// Sort key of a lead in `by_status_budget`: leads without a budget first,
/// then by budget (its upper end, else its lower end), then as listed.
pub fn budget_sort_key(lead: &Lead) -> String {
    match lead.budget_range_max.or(lead.budget_range_min) {
        Some(budget) => format!("1{:020}#{}", budget.as_rupees(), listing_sort_key(lead)),
        None => format!("0#{}", listing_sort_key(lead)),
    }
}

/// The stored item of a lead: its fields, its key and its index keys.
pub fn lead_item(lead: &Lead) -> Result<Item, StoreError> {
    let mut item = to_item(lead)?;
    let key = lead_key(lead.org_id, lead.id);
    let sort = listing_sort_key(lead);
    let mut put = |name: &str, value: String| {
        item.insert(name.to_owned(), AttributeValue::S(value));
    };
    put("pk", key.pk);
    put("sk", key.sk);
    put("list_pk", list_partition(lead.org_id));
    put("list_sk", sort.clone());
    put("status_pk", status_partition(lead.org_id, lead.status));
    put("status_sk", sort.clone());
    put(
        "status_priority_pk",
        status_priority_partition(lead.org_id, lead.status, lead.priority),
    );
    put("budget_sk", budget_sort_key(lead));
    if let Some(campaign) = lead.campaign_id {
        put("campaign_pk", campaign_partition(lead.org_id, campaign));
        put("campaign_sk", sort);
    }
    if let Some(due) = lead.due_at() {
        put("due_pk", due_partition(lead.id));
        put(
            "due_sk",
            format!("{}#{}#{}", sortable(due), lead.org_id, lead.id),
        );
    }
    if let Some(queued) = lead.queued.as_ref().filter(|q| q.in_line) {
        put("line_pk", line_partition(lead.org_id, queued.campaign_id));
        put(
            "line_sk",
            format!("{}#{}", sortable(queued.queued_at), listing_sort_key(lead)),
        );
    }
    Ok(item)
}

/// The `by_line` partition of a campaign: its queued dials waiting for a slot.
pub fn line_partition(org: OrgId, campaign: CampaignId) -> String {
    format!("ORG#{org}#LINE#{campaign}")
}

/// The due-index partition of a lead: spread by lead id.
pub fn due_partition(lead: LeadId) -> String {
    let shard = lead.as_uuid().as_u128() % u128::from(soraaya_core::tables::DUE_SHARDS);
    format!("DUE#{shard}")
}

/// Who did something to a lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// `user` or `system`.
    pub kind: ActorKind,
    pub user_id: Option<UserId>,
    /// The user's name, or the system part (`dialer`, `vapi webhook`, `import`).
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    System,
}

impl Actor {
    pub fn user(caller: &soraaya_accounts::Caller) -> Actor {
        Actor {
            kind: ActorKind::User,
            user_id: Some(caller.user_id),
            name: caller.name.clone(),
        }
    }

    pub fn system(part: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            user_id: None,
            name: part.to_owned(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Imported,
    Updated,
    StatusChanged,
    Note,
    CallPlaced,
    CallEnded,
}

/// One entry of a lead's activity timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEvent {
    pub id: EventId,
    pub lead_id: LeadId,
    pub kind: EventKind,
    pub actor: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The status before, for status changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<LeadStatus>,
    /// The status after, for status changes and creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<LeadStatus>,
    /// Why: the reason given, the call outcome, the note's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Names of the fields an update changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl TimelineEvent {
    pub fn new(lead: &Lead, kind: EventKind, actor: &Actor, at: Timestamp) -> Self {
        TimelineEvent {
            id: EventId::new(),
            lead_id: lead.id,
            kind,
            actor: actor.clone(),
            at,
            from: None,
            to: None,
            reason: None,
            fields: Vec::new(),
        }
    }

    pub fn key(&self, org: OrgId) -> Key {
        Key::new(
            lead_pk(org, self.lead_id),
            format!("EVENT#{}#{}", sortable(self.at), self.id),
        )
    }

    /// The stored item of the event.
    pub fn item(&self, org: OrgId) -> Result<Item, StoreError> {
        keyed_item(&self.key(org), self)
    }
}

impl AuditRecord {
    pub fn item(&self, org: OrgId) -> Result<Item, StoreError> {
        keyed_item(
            &Key::new(audit_pk(org), format!("{}#{}", sortable(self.at), self.id)),
            self,
        )
    }
}

/// An entry of the audit trail: what was done, never to whom personally.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub id: EventId,
    pub action: String,
    pub lead_id: LeadId,
    pub actor: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
