//! Notifications by email: each user's new open notifications that their
//! email preference takes (by default, high priority), assigned to them,
//! sent as one digest at most every 15 minutes, through the email port.
//! The scheduler runs this every minute.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use soraaya_accounts as accounts;
use soraaya_core::App;
use soraaya_core::keys::{keyed_item, sortable};
use soraaya_core::mail::{Mail, MailError, escape_html};
use soraaya_core::paging::collect_all;
use soraaya_core::tables::NOTIFICATIONS;
use soraaya_domain::{Notification, NotificationStatus, OrgId, User, UserId};
use soraaya_store::{Condition, Key, Put, Query, SortKeyCondition, StoreError, from_item};
use tracing::{info, warn};

use crate::NotificationError;

/// At most one digest per user in this time.
pub const DIGEST_EVERY: SignedDuration = SignedDuration::from_mins(15);

/// How far back a user's first digest looks.
const FIRST_LOOK_BACK: SignedDuration = SignedDuration::from_hours(24);

/// What one user has been sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DigestState {
    /// The newest notification a digest has covered (later ones are new).
    covered_until: Timestamp,
    last_sent_at: Option<Timestamp>,
}

fn state_key(org: OrgId, user: UserId) -> Key {
    Key::new(format!("ORG#{org}#DIGEST"), format!("USER#{user}"))
}

/// What a run sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DigestRun {
    pub digests: usize,
    pub notifications: usize,
    /// Digests the mail service refused or failed (tried again next run).
    pub failed: usize,
}

/// Sends every due digest of every organisation.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn send_digests(app: &App, now: Timestamp) -> Result<DigestRun, NotificationError> {
    let mut run = DigestRun::default();
    for org in accounts::list_organisations(app).await? {
        if !send_org_digests(app, org.org_id, org.name.as_str(), now, &mut run).await? {
            // No mail service here: nothing can be sent this run.
            break;
        }
    }
    if run.digests > 0 || run.failed > 0 {
        info!(
            digests = run.digests,
            notifications = run.notifications,
            failed = run.failed,
            "notification digests"
        );
    }
    Ok(run)
}

async fn send_org_digests(
    app: &App,
    org: OrgId,
    org_name: &str,
    now: Timestamp,
    run: &mut DigestRun,
) -> Result<bool, NotificationError> {
    let users: Vec<User> = accounts::list_users(app, org)
        .await?
        .into_iter()
        .filter(|u| u.is_active && u.notification_preferences.email.enabled)
        .collect();
    if users.is_empty() {
        return Ok(true);
    }
    let states: Vec<(Option<DigestState>, &User)> = {
        let mut states = Vec::with_capacity(users.len());
        for user in &users {
            let state = app
                .store
                .get(&NOTIFICATIONS, state_key(org, user.id))
                .await?
                .map(from_item::<DigestState>)
                .transpose()?;
            states.push((state, user));
        }
        states
    };
    // Users whose last digest is recent wait; the others' new notifications
    // are read in one query from the earliest of their watermarks.
    let due: Vec<&(Option<DigestState>, &User)> = states
        .iter()
        .filter(|(s, _)| {
            s.as_ref()
                .and_then(|s| s.last_sent_at)
                .is_none_or(|at| now.duration_since(at) >= DIGEST_EVERY)
        })
        .collect();
    let Some(since) = due
        .iter()
        .map(|(s, _)| {
            s.as_ref()
                .map_or(now - FIRST_LOOK_BACK, |s| s.covered_until)
        })
        .min()
    else {
        return Ok(true);
    };
    let mut query = Query::new(&NOTIFICATIONS, format!("ORG#{org}"))
        .index("by_org")
        .sort(SortKeyCondition::Gt(format!("{}~", sortable(since))));
    query.filter = Some(Condition::ne(
        "status",
        NotificationStatus::Resolved.as_str(),
    ));
    let fresh: Vec<Notification> = collect_all(app.store.as_ref(), query).await?;
    for (state, user) in due {
        let covered = state
            .as_ref()
            .map_or(now - FIRST_LOOK_BACK, |s| s.covered_until);
        let mine: Vec<&Notification> = fresh
            .iter()
            .filter(|n| {
                n.assigned_to == Some(user.id)
                    && n.created_at > covered
                    && user
                        .notification_preferences
                        .email
                        .wants(n.kind, n.priority)
            })
            .collect();
        let Some(newest) = mine.iter().map(|n| n.created_at).max() else {
            continue;
        };
        let next = DigestState {
            covered_until: newest,
            last_sent_at: Some(now),
        };
        // Claimed before it is sent: two runs at once send it once.
        if !claim(app, org, user.id, state.as_ref(), &next).await? {
            continue;
        }
        let mail = digest_mail(app, org_name, user, &mine);
        match app.mailer.send(&mail).await {
            Ok(()) => {
                run.digests += 1;
                run.notifications += mine.len();
            }
            Err(err) => {
                run.failed += 1;
                warn!(org_id = %org, user_id = %user.id, error = %err, "digest not sent; tried again next run");
                // Give the claim back, so the next run sends these.
                let back = match state {
                    Some(previous) => previous.clone(),
                    None => DigestState {
                        covered_until: now - FIRST_LOOK_BACK,
                        last_sent_at: None,
                    },
                };
                if let Err(err) = claim(app, org, user.id, Some(&next), &back).await {
                    warn!(org_id = %org, user_id = %user.id, error = %err, "digest claim not given back");
                }
                if matches!(err, MailError::Unconfigured) {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// Writes `next` if the state is still `previous`.
async fn claim(
    app: &App,
    org: OrgId,
    user: UserId,
    previous: Option<&DigestState>,
    next: &DigestState,
) -> Result<bool, NotificationError> {
    let condition = match previous {
        None => Condition::not_exists("pk"),
        Some(previous) => Condition::eq("covered_until", previous.covered_until.to_string()),
    };
    let item = keyed_item(&state_key(org, user), next)?;
    match app
        .store
        .put(Put::new(&NOTIFICATIONS, item).when(condition))
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

fn digest_mail(app: &App, org: &str, user: &User, notifications: &[&Notification]) -> Mail {
    let count = notifications.len();
    let subject = if count == 1 {
        format!("{}: {}", org, notifications[0].title)
    } else {
        format!("{org}: {count} notifications need you")
    };
    let link = app
        .config
        .public_url()
        .ok()
        .map(|url| format!("{url}/notifications"));
    let mut text = format!("Hello {},\n\n", user.full_name.as_str());
    let mut items = String::new();
    for n in notifications {
        text.push_str(&format!(
            "- [{}] {}\n  {}\n  Next: {}\n\n",
            n.priority.as_str(),
            n.title,
            n.message,
            n.required_action
        ));
        items.push_str(&format!(
            "<li><strong>{}</strong> <span style=\"color:#a33\">{}</span><br>{}<br><em>Next: {}</em></li>",
            escape_html(&n.title),
            escape_html(n.priority.as_str()),
            escape_html(&n.message),
            escape_html(&n.required_action),
        ));
    }
    if let Some(link) = &link {
        text.push_str(&format!("Open them: {link}\n\n"));
    }
    text.push_str(&format!(
        "{org}, through Soraaya. You get these as your notification preferences ask; change them in Settings.\n"
    ));
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>Hello {name},</p><ul>{items}</ul>{open}\
         <p style=\"color:#667\">{org}, through Soraaya. You get these as your notification preferences ask; change them in Settings.</p></body></html>",
        name = escape_html(user.full_name.as_str()),
        open = link
            .as_deref()
            .map(|l| format!("<p><a href=\"{0}\">Open them</a></p>", escape_html(l)))
            .unwrap_or_default(),
        org = escape_html(org),
    );
    Mail {
        to: user.email.as_str().to_owned(),
        from_name: org.to_owned(),
        subject,
        text,
        html,
    }
}
