//! Notifications as a team's work queue: the counts behind the badge, bulk
//! changes answered id by id, and escalation to a manager or an admin by
//! round robin.

use std::collections::HashSet;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use soraaya_accounts::{self as accounts, Caller, Turn};
use soraaya_core::App;
use soraaya_core::paging::query_all;
use soraaya_core::tables::NOTIFICATIONS;
use soraaya_core::validation::{FieldErrors, Patch};
use soraaya_domain::{
    Escalation, Notification, NotificationId, NotificationStatus, OrgId, Priority, UserId,
};
use soraaya_store::{Condition, Query, StoreError, Update, UpdateItem, from_item, to_value};
use tracing::info;
use utoipa::ToSchema;

use crate::{NotificationChange, NotificationError, apply, check, delete, get, key};

/// How many of the organisation's notifications are in each state, for the
/// badge and the page's tabs (whatever the listing's filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationCounts {
    pub pending: u64,
    pub in_progress: u64,
    pub resolved: u64,
    /// Open ones (pending or in progress) by priority.
    pub open_high: u64,
    pub open_medium: u64,
    pub open_low: u64,
    /// Pending ones the caller has to see: assigned to them or to nobody.
    pub unread: u64,
    /// Open ones assigned to the caller.
    pub assigned_to_me: u64,
}

/// The counts over every notification of the organisation, as `user` sees them.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn counts(
    app: &App,
    org: OrgId,
    user: UserId,
) -> Result<NotificationCounts, NotificationError> {
    let query = Query::new(&NOTIFICATIONS, format!("ORG#{org}")).index("by_org");
    let mut pages = std::pin::pin!(query_all(app.store.as_ref(), query));
    let mut counts = NotificationCounts::default();
    while let Some(items) = pages.try_next().await? {
        for item in items {
            let n: Notification = from_item(item)?;
            let open = n.status != NotificationStatus::Resolved;
            match n.status {
                NotificationStatus::Pending => counts.pending += 1,
                NotificationStatus::InProgress => counts.in_progress += 1,
                NotificationStatus::Resolved => counts.resolved += 1,
            }
            if open {
                match n.priority {
                    Priority::High => counts.open_high += 1,
                    Priority::Medium => counts.open_medium += 1,
                    Priority::Low => counts.open_low += 1,
                }
                if n.assigned_to == Some(user) {
                    counts.assigned_to_me += 1;
                }
            }
            if n.status == NotificationStatus::Pending && n.assigned_to.is_none_or(|a| a == user) {
                counts.unread += 1;
            }
        }
    }
    Ok(counts)
}

/// Most notifications one bulk request names.
pub const MAX_BULK: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationBulkAction {
    /// To `user_id` (and in progress).
    Assign,
    /// With `resolution_note` if given.
    Resolve,
    Delete,
    /// To `priority`.
    SetPriority,
}

/// One change to many notifications.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBulkRequest {
    /// 1 to 100 notifications.
    #[schema(min_items = 1, max_items = 100, value_type = Vec<String>)]
    pub ids: Vec<NotificationId>,
    pub action: NotificationBulkAction,
    /// For `assign`: an active user of the organisation.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// For `set_priority`.
    #[schema(value_type = Option<Priority>)]
    #[serde(default)]
    pub priority: Option<String>,
    /// For `resolve`, up to 2,000 characters.
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub resolution_note: Option<String>,
}

/// What became of one id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationResult {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    pub ok: bool,
    /// `not_found` or `duplicate` when not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationBulkOutcome {
    pub done: usize,
    pub failed: usize,
    /// One per id, in the request's order.
    pub results: Vec<NotificationResult>,
}

/// The change a bulk request makes to each notification (none: deletion),
/// or what is wrong with the request as a whole.
fn bulk_change(
    request: &NotificationBulkRequest,
) -> Result<Option<NotificationChange>, NotificationError> {
    let mut errors = FieldErrors::new();
    if request.ids.is_empty() || request.ids.len() > MAX_BULK {
        errors.add("ids", format!("must name 1 to {MAX_BULK} notifications"));
    }
    let action = request.action;
    let mut needs = |field: &str, given: bool, wanted: bool, what: &str| {
        if given && !wanted {
            errors.add(field, format!("is for {what} only"));
        } else if wanted && !given {
            errors.add(field, format!("is required to {what}"));
        }
    };
    needs(
        "user_id",
        request.user_id.is_some(),
        action == NotificationBulkAction::Assign,
        "assign",
    );
    needs(
        "priority",
        request.priority.is_some(),
        action == NotificationBulkAction::SetPriority,
        "set_priority",
    );
    if request.resolution_note.is_some() && action != NotificationBulkAction::Resolve {
        errors.add("resolution_note", "is for resolve only");
    }
    errors.finish().map_err(NotificationError::Invalid)?;
    Ok(match action {
        NotificationBulkAction::Assign => Some(NotificationChange {
            assigned_to: request.user_id.map_or(Patch::Absent, Patch::Set),
            status: Some(NotificationStatus::InProgress.as_str().into()),
            ..NotificationChange::default()
        }),
        NotificationBulkAction::Resolve => Some(NotificationChange {
            status: Some(NotificationStatus::Resolved.as_str().into()),
            resolution_note: request.resolution_note.clone(),
            ..NotificationChange::default()
        }),
        NotificationBulkAction::SetPriority => Some(NotificationChange {
            priority: request.priority.clone(),
            ..NotificationChange::default()
        }),
        NotificationBulkAction::Delete => None,
    })
}

/// Applies one action to each notification named: a result per id, the
/// others untouched by a failure. A request wrong as a whole (an unknown or
/// deactivated user, no such priority) changes nothing.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, ids = request.ids.len()))]
pub async fn bulk(
    app: &App,
    org: OrgId,
    request: &NotificationBulkRequest,
) -> Result<NotificationBulkOutcome, NotificationError> {
    let change = match bulk_change(request)? {
        Some(change) => Some(check(app, org, change).await?),
        None => None,
    };
    let mut seen = HashSet::new();
    let mut results = Vec::with_capacity(request.ids.len());
    for &id in &request.ids {
        let outcome = if !seen.insert(id) {
            Err("duplicate")
        } else {
            let done = match &change {
                Some(change) => apply(app, org, id, change).await.map(drop),
                None => delete(app, org, id).await,
            };
            match done {
                Ok(()) => Ok(()),
                Err(NotificationError::NotFound) => Err("not_found"),
                Err(err) => return Err(err),
            }
        };
        results.push(NotificationResult {
            id,
            ok: outcome.is_ok(),
            error: outcome.err().map(str::to_owned),
        });
    }
    let done = results.iter().filter(|r| r.ok).count();
    info!(org_id = %org, action = ?request.action, done, failed = results.len() - done, "notifications changed in bulk");
    Ok(NotificationBulkOutcome {
        done,
        failed: results.len() - done,
        results,
    })
}

/// One step up: low → medium → high (high stays).
fn raised(priority: Priority) -> Priority {
    match priority {
        Priority::Low => Priority::Medium,
        Priority::Medium | Priority::High => Priority::High,
    }
}

/// Escalates an open notification: its priority raised, assigned to the
/// next manager or admin in turn, in progress, and who escalated it and why
/// recorded on it.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %by.org_id, id = %id))]
pub async fn escalate(
    app: &App,
    by: &Caller,
    id: NotificationId,
    reason: &str,
) -> Result<Notification, NotificationError> {
    let org = by.org_id;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(NotificationError::Invalid(FieldErrors::one(
            "reason",
            "must be 1 to 500 characters",
        )));
    }
    let before = get(app, org, id).await?;
    if before.status == NotificationStatus::Resolved {
        return Err(NotificationError::Resolved);
    }
    // An organisation always has an active admin (the last one cannot go).
    let owner = accounts::next_in_turn(app, org, Turn::Escalation, Some(by.user_id))
        .await?
        .map_or(by.user_id, |u| u.id);
    let now = app.clock.now();
    let escalation = Escalation {
        by: by.user_id,
        by_name: by.name.clone(),
        reason: reason.to_owned(),
        at: now,
    };
    let priority = raised(before.priority);
    let update = Update::new()
        .set("priority", priority.as_str())
        .set("assigned_to", owner.to_string())
        .set("status", NotificationStatus::InProgress.as_str())
        .set("escalation", to_value(&escalation)?)
        .set("updated_at", now.to_string());
    let written = app
        .store
        .update(UpdateItem::new(&NOTIFICATIONS, key(org, id), update).when(
            Condition::exists("pk").and(Condition::ne(
                "status",
                NotificationStatus::Resolved.as_str(),
            )),
        ))
        .await;
    match written {
        Ok(item) => {
            info!(org_id = %org, notification_id = %id, assigned_to = %owner, "notification escalated");
            Ok(from_item(item)?)
        }
        // Resolved or deleted meanwhile.
        Err(StoreError::Conflict { .. }) => match get(app, org, id).await {
            Ok(_) => Err(NotificationError::Resolved),
            Err(err) => Err(err),
        },
        Err(err) => Err(err.into()),
    }
}
