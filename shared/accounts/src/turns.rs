//! Work handed out in turn: the next active user of some roles, by a
//! counter per organisation and kind of work (escalations, qualified leads),
//! so that each gets their share and a deactivated user none.

use soraaya_core::App;
use soraaya_core::tables::ACCOUNTS;
use soraaya_domain::{OrgId, Role, User, UserId};
use soraaya_store::{AttributeValue, Key, Update, UpdateItem};

use crate::repo::org_pk;
use crate::users::{AccountError, list_users};

/// A kind of work handed out in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Escalated notifications, to managers and admins.
    Escalation,
    /// Qualified leads, to agents.
    QualifiedLead,
}

impl Turn {
    fn key(self, org: OrgId) -> Key {
        let name = match self {
            Turn::Escalation => "ESCALATION",
            Turn::QualifiedLead => "QUALIFIED_LEAD",
        };
        Key::new(org_pk(org), format!("TURN#{name}"))
    }

    fn roles(self) -> &'static [Role] {
        match self {
            Turn::Escalation => &[Role::Manager, Role::Admin],
            Turn::QualifiedLead => &[Role::Agent],
        }
    }
}

/// The next active user whose turn it is, in a stable order (by id), other
/// than `skip` while someone else can take it; none when no one has the roles.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, turn = ?turn))]
pub async fn next_in_turn(
    app: &App,
    org: OrgId,
    turn: Turn,
    skip: Option<UserId>,
) -> Result<Option<User>, AccountError> {
    let mut users: Vec<User> = list_users(app, org)
        .await?
        .into_iter()
        .filter(|u| u.is_active && turn.roles().contains(&u.role))
        .collect();
    users.sort_by_key(|u| u.id);
    if users.len() > 1
        && let Some(skip) = skip
    {
        users.retain(|u| u.id != skip);
    }
    if users.len() <= 1 {
        return Ok(users.pop());
    }
    let counter = app
        .store
        .update(UpdateItem::new(
            &ACCOUNTS,
            turn.key(org),
            Update::new().add("turn", 1),
        ))
        .await?;
    let count = match counter.get("turn") {
        Some(AttributeValue::N(n)) => n.parse::<u64>().unwrap_or(1),
        _ => 1,
    };
    let at = (count.saturating_sub(1) % users.len() as u64) as usize;
    Ok(Some(users.swap_remove(at)))
}
