//! Notifications: qualified leads, people needed, technical problems, urgent
//! callbacks and self-paused campaigns, for people to act on.

pub mod digest;
pub mod workflow;

use jiff::Timestamp;
use serde::Deserialize;
use soraaya_accounts::{self as accounts, AccountError};
use soraaya_core::App;
use soraaya_core::keys::{keyed_item, sortable};
use soraaya_core::paging::collect_all;
use soraaya_core::tables::NOTIFICATIONS;
use soraaya_core::validation::{FieldError, FieldErrors, Patch};
use soraaya_domain::{
    Campaign, CampaignId, Lead, LeadId, Notification, NotificationId, NotificationKind,
    NotificationStatus, OrgId, Priority, UserId,
};
use soraaya_store::{
    BatchOp, Condition, Cursor, Delete, Item, ItemStore, Put, Query, SortKeyCondition, StoreError,
    Update, UpdateItem, WriteOp, from_item,
};
use utoipa::ToSchema;

fn key(org: OrgId, id: NotificationId) -> soraaya_store::Key {
    soraaya_store::Key::new(format!("ORG#{org}#NOTIFICATION#{id}"), "NOTIFICATION")
}

fn item(notification: &Notification) -> Result<Item, StoreError> {
    let mut item = keyed_item(&key(notification.org_id, notification.id), notification)?;
    item.insert(
        "org_pk".into(),
        soraaya_store::AttributeValue::S(format!("ORG#{}", notification.org_id)),
    );
    item.insert(
        "org_sk".into(),
        soraaya_store::AttributeValue::S(format!(
            "{}#{}",
            sortable(notification.created_at),
            notification.id
        )),
    );
    Ok(item)
}

/// A notification about what happened (`source` names the event, such as a
/// call id: the same source gives the same notification, so a replayed event
/// does not notify twice).
pub fn notification(
    kind: NotificationKind,
    org: OrgId,
    lead: Option<&Lead>,
    campaign: Option<&Campaign>,
    detail: &str,
    source: &str,
    now: Timestamp,
) -> Notification {
    let name = lead.map_or("A lead", |l| l.contact_person.as_str());
    let (priority, title, required_action) = match kind {
        NotificationKind::QualifiedLead => (
            Priority::High,
            format!("Qualified lead ready: {name}"),
            "Call the lead back and arrange a site visit".to_owned(),
        ),
        NotificationKind::HumanInputNeeded => (
            Priority::High,
            format!("Human input needed: {name}"),
            "Read the transcript and decide the next step".to_owned(),
        ),
        NotificationKind::TechnicalIssue => match (lead, campaign) {
            (None, Some(campaign)) => (
                Priority::High,
                format!("Calls refused in {}", campaign.name),
                "Fix what the voice provider refuses, then call the leads again".to_owned(),
            ),
            _ => (
                Priority::Medium,
                format!("Technical issue calling {name}"),
                "Check the number and the voice provider, then retry".to_owned(),
            ),
        },
        NotificationKind::UrgentCallback => (
            Priority::High,
            format!("Urgent callback: {name}"),
            "Make sure the promised callback happens".to_owned(),
        ),
        NotificationKind::CampaignPaused => (
            Priority::High,
            format!(
                "Campaign paused: {}",
                campaign.map_or("a campaign", |c| c.name.as_str())
            ),
            "Find why calls fail, then resume the campaign".to_owned(),
        ),
        NotificationKind::SystemAlert => (
            Priority::High,
            "Calling is stopped for the organisation".to_owned(),
            "Fix the cause, then resume the paused campaigns".to_owned(),
        ),
        NotificationKind::ReviewRequired => (
            Priority::Medium,
            format!("Review the call: {name}"),
            "Read the transcript, then qualify the lead or plan its follow-up".to_owned(),
        ),
        NotificationKind::DataValidation => (
            Priority::Medium,
            "Leads need fixing".to_owned(),
            "Correct the rejected rows and send them again".to_owned(),
        ),
        NotificationKind::CampaignAdjustment => (
            Priority::Medium,
            format!(
                "Campaign underperforms: {}",
                campaign.map_or("a campaign", |c| c.name.as_str())
            ),
            "Review its persona, script, calling hours and leads".to_owned(),
        ),
    };
    let namespace = org.as_uuid();
    Notification {
        id: NotificationId::from(uuid::Uuid::new_v5(
            &namespace,
            format!("{source}/{}", kind.as_str()).as_bytes(),
        )),
        org_id: org,
        kind,
        priority,
        title,
        message: detail.to_owned(),
        lead_id: lead.map(|l| l.id),
        campaign_id: campaign
            .map(|c| c.id)
            .or_else(|| lead.and_then(|l| l.campaign_id)),
        assigned_to: lead.and_then(|l| l.assigned_agent_id),
        status: NotificationStatus::Pending,
        required_action,
        resolution_note: None,
        created_at: now,
        updated_at: now,
        resolved_at: None,
        escalation: None,
    }
}

/// The write that records a notification (idempotent: same source, same item).
pub fn put_op(notification: &Notification) -> Result<WriteOp, StoreError> {
    Ok(Put::new(&NOTIFICATIONS, item(notification)?).into())
}

/// Records a notification unless its source already did (even if people
/// have resolved it since); whether it is new.
pub async fn record_once(
    store: &dyn ItemStore,
    notification: &Notification,
) -> Result<bool, StoreError> {
    match store
        .put(Put::new(&NOTIFICATIONS, item(notification)?).if_absent())
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("notification not found")]
    NotFound,
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the notification is resolved")]
    Resolved,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get(
    app: &App,
    org: OrgId,
    id: NotificationId,
) -> Result<Notification, NotificationError> {
    app.store
        .get(&NOTIFICATIONS, key(org, id))
        .await?
        .map(from_item)
        .transpose()?
        .ok_or(NotificationError::NotFound)
}

/// Whose notifications to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    User(UserId),
    Nobody,
}

/// What to show.
#[derive(Debug, Default, Clone)]
pub struct NotificationFilter {
    pub status: Option<NotificationStatus>,
    pub priority: Option<Priority>,
    pub kind: Option<NotificationKind>,
    pub assigned: Option<Assignee>,
    pub lead_id: Option<LeadId>,
    pub campaign_id: Option<CampaignId>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created at or before.
    pub created_to: Option<Timestamp>,
}

impl NotificationFilter {
    /// What the store cannot test: an attribute absent or null alike.
    fn keeps(&self, notification: &Notification) -> bool {
        self.assigned != Some(Assignee::Nobody) || notification.assigned_to.is_none()
    }

    /// The `by_org` sort-key range of the creation dates asked for.
    fn created_range(&self) -> Option<SortKeyCondition> {
        // Sort keys are `{created}#{id}`: `~` sorts after every `#{id}`.
        let end = |to: Timestamp| format!("{}~", sortable(to));
        match (self.created_from, self.created_to) {
            (Some(from), Some(to)) => Some(SortKeyCondition::Between(sortable(from), end(to))),
            (Some(from), None) => Some(SortKeyCondition::Ge(sortable(from))),
            (None, Some(to)) => Some(SortKeyCondition::Le(end(to))),
            (None, None) => None,
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list(
    app: &App,
    org: OrgId,
    filter: &NotificationFilter,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<Notification>, Option<Cursor>), NotificationError> {
    let mut conditions = Vec::new();
    if let Some(status) = filter.status {
        conditions.push(Condition::eq("status", status.as_str()));
    }
    if let Some(priority) = filter.priority {
        conditions.push(Condition::eq("priority", priority.as_str()));
    }
    if let Some(kind) = filter.kind {
        conditions.push(Condition::eq("type", kind.as_str()));
    }
    if let Some(Assignee::User(user)) = filter.assigned {
        conditions.push(Condition::eq("assigned_to", user.to_string()));
    }
    if let Some(lead) = filter.lead_id {
        conditions.push(Condition::eq("lead_id", lead.to_string()));
    }
    if let Some(campaign) = filter.campaign_id {
        conditions.push(Condition::eq("campaign_id", campaign.to_string()));
    }
    let range = filter.created_range();
    let wanted = filter;
    let filter = conditions.into_iter().reduce(Condition::and);
    // A filter may leave pages short; read on until the page is full.
    let mut items = Vec::new();
    let mut cursor = cursor;
    loop {
        let mut query = Query::new(&NOTIFICATIONS, format!("ORG#{org}"))
            .index("by_org")
            .backward()
            .limit(limit - items.len() as u32)
            .after(cursor.take());
        if let Some(range) = &range {
            query = query.sort(range.clone());
        }
        query.filter = filter.clone();
        let page = app.store.query(query).await?;
        for item in page.items {
            let notification: Notification = from_item(item)?;
            if wanted.keeps(&notification) {
                items.push(notification);
            }
        }
        cursor = page.cursor;
        if cursor.is_none() || items.len() as u32 >= limit {
            return Ok((items, cursor));
        }
    }
}

/// A person's change to a notification.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationChange {
    #[schema(value_type = Option<NotificationStatus>)]
    pub status: Option<String>,
    pub resolution_note: Option<String>,
    /// A user of the organisation, or `null` to unassign.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Patch<UserId>,
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
}

/// A change whose fields were checked, to apply to one notification or many.
#[derive(Debug, Clone)]
pub struct CheckedChange {
    status: Option<NotificationStatus>,
    resolution_note: Option<String>,
    assigned_to: Patch<UserId>,
    priority: Option<Priority>,
}

/// Checks a change's fields (an assignee must be an active user of the organisation).
pub async fn check(
    app: &App,
    org: OrgId,
    change: NotificationChange,
) -> Result<CheckedChange, NotificationError> {
    let mut errors = FieldErrors::new();
    let status = change.status.as_deref().and_then(|s| {
        errors.check(
            "status",
            NotificationStatus::parse(s).ok_or("must be pending, in_progress or resolved"),
        )
    });
    if change
        .resolution_note
        .as_ref()
        .is_some_and(|n| n.chars().count() > 2000)
    {
        errors.add("resolution_note", "is longer than 2000 characters");
    }
    let priority = change
        .priority
        .as_deref()
        .and_then(|p| errors.check("priority", Priority::parse(p)));
    if let Patch::Set(user) = change.assigned_to {
        match accounts::get_user(app, org, user).await {
            Ok(u) if u.is_active => {}
            Ok(_) => errors.add("assigned_to", "is a deactivated user"),
            Err(AccountError::UserNotFound) => {
                errors.add("assigned_to", "is not a user of this organisation")
            }
            Err(err) => return Err(err.into()),
        }
    }
    errors.finish().map_err(NotificationError::Invalid)?;
    Ok(CheckedChange {
        status,
        resolution_note: change.resolution_note.map(|n| n.trim().to_owned()),
        assigned_to: change.assigned_to,
        priority,
    })
}

/// Applies a checked change to one notification.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, id = %id))]
pub async fn apply(
    app: &App,
    org: OrgId,
    id: NotificationId,
    change: &CheckedChange,
) -> Result<Notification, NotificationError> {
    let now = app.clock.now();
    let mut update = Update::new().set("updated_at", now.to_string());
    if let Some(status) = change.status {
        update = update.set("status", status.as_str());
        update = if status == NotificationStatus::Resolved {
            update.set("resolved_at", now.to_string())
        } else {
            update.remove("resolved_at")
        };
    }
    if let Some(note) = &change.resolution_note {
        update = update.set("resolution_note", note);
    }
    if let Some(priority) = change.priority {
        update = update.set("priority", priority.as_str());
    }
    update = match change.assigned_to {
        Patch::Set(user) => update.set("assigned_to", user.to_string()),
        Patch::Clear => update.remove("assigned_to"),
        Patch::Absent => update,
    };
    match app
        .store
        .update(UpdateItem::new(&NOTIFICATIONS, key(org, id), update).if_present())
        .await
    {
        Ok(item) => Ok(from_item(item)?),
        Err(StoreError::Conflict { .. }) => Err(NotificationError::NotFound),
        Err(err) => Err(err.into()),
    }
}

/// Checks a change and applies it to one notification.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn update(
    app: &App,
    org: OrgId,
    id: NotificationId,
    change: NotificationChange,
) -> Result<Notification, NotificationError> {
    let change = check(app, org, change).await?;
    apply(app, org, id, &change).await
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn delete(app: &App, org: OrgId, id: NotificationId) -> Result<(), NotificationError> {
    match app
        .store
        .delete(Delete::new(&NOTIFICATIONS, key(org, id)).when(Condition::exists("pk")))
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(NotificationError::NotFound),
        Err(err) => Err(err.into()),
    }
}

/// Every notification about a lead, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn of_lead(
    store: &dyn ItemStore,
    org: OrgId,
    lead: LeadId,
) -> Result<Vec<Notification>, StoreError> {
    let mut query = Query::new(&NOTIFICATIONS, format!("ORG#{org}"))
        .index("by_org")
        .backward();
    query.filter = Some(Condition::eq("lead_id", lead.to_string()));
    collect_all(store, query).await
}

/// Deletes every notification about a lead (erasure: their titles and
/// messages name the person).
pub async fn erase_of_lead(
    store: &dyn ItemStore,
    org: OrgId,
    lead: LeadId,
) -> Result<usize, StoreError> {
    let found = of_lead(store, org, lead).await?;
    let ops = found
        .iter()
        .map(|n| BatchOp::Delete {
            table: &NOTIFICATIONS,
            key: key(org, n.id),
        })
        .collect();
    store.batch_write(ops).await?;
    Ok(found.len())
}

/// Records a data problem for `by` to fix (rows an import rejected,
/// enquiries refused), once per `source`.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn data_to_fix(
    app: &App,
    org: OrgId,
    by: Option<UserId>,
    detail: &str,
    source: &str,
) -> Result<Notification, StoreError> {
    let mut n = notification(
        NotificationKind::DataValidation,
        org,
        None,
        None,
        detail,
        source,
        app.clock.now(),
    );
    n.assigned_to = by;
    app.store.put(Put::new(&NOTIFICATIONS, item(&n)?)).await?;
    Ok(n)
}
