//! Quick actions on a notification: one step that acts on its lead (call
//! back now, schedule a callback, mark qualified or not interested, hand to
//! an agent, add a note) and resolves the notification, saying what was done.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_accounts::AccountError;
use soraaya_campaigns::service::get_campaign;
use soraaya_core::App;
use soraaya_core::validation::{FieldErrors, Patch};
use soraaya_domain::{
    CampaignStatus, Lead, LeadStatus, Mover, Notification, NotificationId, NotificationStatus,
    OrgId, Permission, TimeZoneName, UserId,
};
use soraaya_leads::input::LeadInput;
use soraaya_leads::record::Actor;
use soraaya_leads::service::{self as leads, StatusChange};
use soraaya_notifications::{self as notifications, NotificationChange, NotificationError};
use tracing::info;
use utoipa::ToSchema;

use crate::CallingError;
use crate::call_now::{CallNowRequest, call_now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuickAction {
    /// Queue the lead's call now (in its campaign while that one is open;
    /// in "Direct calls" otherwise).
    CallBackNow,
    /// A callback at `at`.
    ScheduleCallback,
    MarkQualified,
    MarkNotInterested,
    /// Assign the lead to `user_id`.
    HandToAgent,
    /// Add `note` to the lead.
    AddNote,
}

impl QuickAction {
    /// What the person taking the action must be allowed besides acting on
    /// notifications.
    pub fn needs(self) -> Permission {
        match self {
            QuickAction::CallBackNow => Permission::CallingControl,
            QuickAction::ScheduleCallback
            | QuickAction::MarkQualified
            | QuickAction::MarkNotInterested => Permission::LeadsStatus,
            QuickAction::HandToAgent => Permission::LeadsWrite,
            QuickAction::AddNote => Permission::LeadsNotes,
        }
    }
}

/// A quick action and what it needs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickActionRequest {
    pub action: QuickAction,
    /// For `schedule_callback`: when, in the future (RFC 3339, or a local
    /// date and time in the organisation's zone).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub at: Option<String>,
    /// For `hand_to_agent`: an active user of the organisation.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// Required for `add_note`; for the others, kept as the resolution note.
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub note: Option<String>,
}

/// The lead as the action left it and the notification resolved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickActionOutcome {
    pub notification: Notification,
    pub lead: Lead,
}

/// What the request asks, checked: the callback's time, the note.
struct Checked {
    at: Option<Timestamp>,
    agent: Option<UserId>,
    note: Option<String>,
}

/// `zone`: where a time without an offset is read (the organisation's).
fn checked(
    request: &QuickActionRequest,
    zone: &TimeZoneName,
    now: Timestamp,
) -> Result<Checked, CallingError> {
    let mut errors = FieldErrors::new();
    let action = request.action;
    let at = match (&request.at, action) {
        (Some(at), QuickAction::ScheduleCallback) => {
            match soraaya_domain::moment::parse_moment(at, zone) {
                Ok(at) if at > now => Some(at),
                Ok(_) => {
                    errors.add("at", "must be in the future");
                    None
                }
                Err(err) => {
                    errors.add("at", err.to_string());
                    None
                }
            }
        }
        (None, QuickAction::ScheduleCallback) => {
            errors.add("at", "is required to schedule a callback");
            None
        }
        (Some(_), _) => {
            errors.add("at", "is for schedule_callback only");
            None
        }
        (None, _) => None,
    };
    match (request.user_id, action) {
        (None, QuickAction::HandToAgent) => {
            errors.add("user_id", "is required to hand to an agent")
        }
        (Some(_), a) if a != QuickAction::HandToAgent => {
            errors.add("user_id", "is for hand_to_agent only")
        }
        _ => {}
    }
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        errors.add("note", "is longer than 2000 characters");
    }
    if action == QuickAction::AddNote && note.is_none() {
        errors.add("note", "is required to add a note");
    }
    errors
        .finish()
        .map_err(|fields| CallingError::Notification(NotificationError::Invalid(fields)))?;
    Ok(Checked {
        at,
        agent: request.user_id,
        note: note.map(str::to_owned),
    })
}

/// Takes a quick action on the notification's lead, then resolves the
/// notification with what was done. Nothing is resolved when the action
/// fails (a lead that cannot be called now, a move its status forbids).
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, id = %id))]
pub async fn take_quick_action(
    app: &App,
    org: OrgId,
    actor: &Actor,
    by: UserId,
    id: NotificationId,
    request: &QuickActionRequest,
) -> Result<QuickActionOutcome, CallingError> {
    let now = app.clock.now();
    let organisation = soraaya_accounts::org(app, org).await?;
    let checked = checked(request, &organisation.time_zone, now)?;
    let notification = notifications::get(app, org, id).await?;
    if notification.status == NotificationStatus::Resolved {
        return Err(NotificationError::Resolved.into());
    }
    let Some(lead_id) = notification.lead_id else {
        return Err(NotificationError::Invalid(FieldErrors::one(
            "action",
            "this notification is about no lead; resolve it instead",
        ))
        .into());
    };
    let status = |to: LeadStatus, callback_at: Option<Timestamp>| StatusChange {
        to,
        reason: Some(format!("from the notification \"{}\"", notification.title)),
        callback_at,
    };
    let (lead, done) = match request.action {
        QuickAction::CallBackNow => {
            let lead = leads::get(app, org, lead_id).await?;
            let open = match lead.campaign_id.or(notification.campaign_id) {
                Some(campaign) => match get_campaign(app, org, campaign).await {
                    Ok(c)
                        if !matches!(
                            c.status,
                            CampaignStatus::Completed | CampaignStatus::Archived
                        ) =>
                    {
                        Some(c.id)
                    }
                    Ok(_) | Err(soraaya_campaigns::CampaignError::NotFound(_)) => None,
                    Err(err) => return Err(err.into()),
                },
                None => None,
            };
            let request = CallNowRequest {
                campaign_id: open,
                lead_ids: vec![lead_id],
                ..CallNowRequest::default()
            };
            call_now(app, org, actor, Some(by), &request).await?;
            let lead = leads::get(app, org, lead_id).await?;
            if lead.queued.is_none() && lead.live_call.is_none() && lead.next_call_at.is_none() {
                return Err(soraaya_campaigns::CampaignError::InUse(format!(
                    "the lead cannot be called now (it is {}{})",
                    lead.status,
                    if lead.do_not_call {
                        ", on the do-not-call list"
                    } else {
                        ""
                    }
                ))
                .into());
            }
            (lead, "called back now".to_owned())
        }
        QuickAction::ScheduleCallback => {
            let at = checked.at.unwrap_or(now);
            let change = status(LeadStatus::CallbackRequested, Some(at));
            let lead =
                leads::change_status(app, org, actor, lead_id, change, Mover::Person, None).await?;
            (lead, format!("callback scheduled for {at}"))
        }
        QuickAction::MarkQualified | QuickAction::MarkNotInterested => {
            let to = if request.action == QuickAction::MarkQualified {
                LeadStatus::Qualified
            } else {
                LeadStatus::NotInterested
            };
            let lead = leads::change_status(
                app,
                org,
                actor,
                lead_id,
                status(to, None),
                Mover::Person,
                None,
            )
            .await?;
            (lead, format!("marked {to}"))
        }
        QuickAction::HandToAgent => {
            let user = checked.agent.unwrap_or(by);
            let agent = match soraaya_accounts::get_user(app, org, user).await {
                Ok(u) if u.is_active => u,
                Ok(_) => {
                    return Err(NotificationError::Invalid(FieldErrors::one(
                        "user_id",
                        "is a deactivated user",
                    ))
                    .into());
                }
                Err(AccountError::UserNotFound) => {
                    return Err(NotificationError::Invalid(FieldErrors::one(
                        "user_id",
                        "is not a user of this organisation",
                    ))
                    .into());
                }
                Err(err) => return Err(err.into()),
            };
            let input = LeadInput {
                assigned_agent_id: Patch::Set(agent.id.as_uuid()),
                ..LeadInput::default()
            };
            let lead = leads::update(app, org, actor, lead_id, input, None).await?;
            (lead, format!("handed to {}", agent.full_name.as_str()))
        }
        QuickAction::AddNote => {
            let note = checked.note.clone().unwrap_or_default();
            leads::add_note(app, org, actor, lead_id, &note).await?;
            (
                leads::get(app, org, lead_id).await?,
                "note added".to_owned(),
            )
        }
    };
    let resolution = match &checked.note {
        Some(note) => format!("{done}: {note}"),
        None => done,
    };
    let resolved = notifications::update(
        app,
        org,
        id,
        NotificationChange {
            status: Some(NotificationStatus::Resolved.as_str().into()),
            resolution_note: Some(resolution),
            ..NotificationChange::default()
        },
    )
    .await?;
    info!(org_id = %org, notification_id = %id, lead_id = %lead.id, action = ?request.action, "quick action taken");
    Ok(QuickActionOutcome {
        notification: resolved,
        lead,
    })
}
