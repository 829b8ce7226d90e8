//! Calling now, from the leads page or the calling controls: the leads named
//! go into a campaign (the open "Direct calls" one unless one is named),
//! which starts or resumes; and stopping, which pauses.

use serde::Serialize;
use soraaya_campaigns::CampaignError;
use soraaya_campaigns::service::{self as campaigns, CampaignInput, SettingsInput, get_campaign};
use soraaya_core::App;
use soraaya_core::records::Records;
use soraaya_core::validation::{FieldErrors, Patch};
use soraaya_domain::{Campaign, CampaignId, CampaignStatus, LeadId, OrgId, PersonaId, UserId};
use soraaya_leads::record::Actor;
use utoipa::ToSchema;

use crate::CallingError;
use crate::control::{QueueReport, act};
use crate::membership::{Assignment, assign_leads};

/// The campaign leads called straight from the Leads page belong to.
pub const DIRECT_CALLS: &str = "Direct calls";

/// What calling a set of leads now did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallNow {
    pub campaign: Campaign,
    pub assignment: Option<Assignment>,
    /// What starting or resuming the campaign queued.
    pub queued: Option<QueueReport>,
}

/// How to call now: a campaign to start, leads to call, or both.
#[derive(Debug, Clone, Default)]
pub struct CallNowRequest {
    pub campaign_id: Option<CampaignId>,
    pub lead_ids: Vec<LeadId>,
    pub persona_id: Option<PersonaId>,
    pub max_concurrent_calls: Option<u32>,
}

/// The open "Direct calls" campaign, made when there is none.
async fn direct_campaign(
    app: &App,
    org: OrgId,
    by: Option<UserId>,
    persona: Option<PersonaId>,
) -> Result<Campaign, CallingError> {
    let open = Records::new(app.store.as_ref())
        .list::<Campaign>(org)
        .await?
        .into_iter()
        .rev()
        .find(|c| {
            c.name.starts_with(DIRECT_CALLS)
                && matches!(
                    c.status,
                    CampaignStatus::Draft | CampaignStatus::Active | CampaignStatus::Paused
                )
        });
    if let Some(campaign) = open {
        return Ok(campaign);
    }
    let persona = match persona {
        Some(p) => Some(p),
        None => campaigns::list_personas(app, org)
            .await?
            .into_iter()
            .find(|p| p.is_active)
            .map(|p| p.id),
    };
    let mut input = CampaignInput {
        name: Some(DIRECT_CALLS.to_owned()),
        description: Patch::Set("Leads called straight from the Leads page".into()),
        persona_id: persona.map_or(Patch::Absent, Patch::Set),
        ..CampaignInput::default()
    };
    let organisation = soraaya_accounts::org(app, org).await?;
    let defaults = organisation.settings.campaign_defaults;
    match campaigns::create_campaign(app, org, by, defaults, &input).await {
        // An earlier one was stopped: this one carries the date.
        Err(CampaignError::NameTaken(_)) => {
            let zone = organisation.time_zone.zone();
            input.name = Some(format!(
                "{DIRECT_CALLS} {}",
                zone.to_datetime(app.clock.now())
                    .strftime("%Y-%m-%d %H:%M:%S")
            ));
            Ok(campaigns::create_campaign(app, org, by, defaults, &input).await?)
        }
        other => Ok(other?),
    }
}

/// Starts calling: assigns the leads (to the campaign named, or to the
/// "Direct calls" campaign), applies the persona and cap asked for, and starts
/// or resumes the campaign.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn call_now(
    app: &App,
    org: OrgId,
    actor: &Actor,
    by: Option<UserId>,
    request: &CallNowRequest,
) -> Result<CallNow, CallingError> {
    if request.campaign_id.is_none() && request.lead_ids.is_empty() {
        return Err(CampaignError::Invalid(FieldErrors::one(
            "lead_ids",
            "name the leads to call, or give a campaign_id",
        ))
        .into());
    }
    let mut campaign = match request.campaign_id {
        Some(id) => get_campaign(app, org, id).await?,
        None => direct_campaign(app, org, by, request.persona_id).await?,
    };
    let change = CampaignInput {
        persona_id: request.persona_id.map_or(Patch::Absent, Patch::Set),
        settings: request.max_concurrent_calls.map(|cap| SettingsInput {
            max_concurrent_calls: Some(cap),
            ..SettingsInput::default()
        }),
        ..CampaignInput::default()
    };
    if !change.persona_id.is_absent() || change.settings.is_some() {
        campaign = campaigns::update_campaign(app, org, campaign.id, &change, None).await?;
    }
    let assignment = if request.lead_ids.is_empty() {
        None
    } else {
        Some(assign_leads(app, org, actor, campaign.id, &request.lead_ids).await?)
    };
    let action = match campaign.status {
        CampaignStatus::Draft => Some(soraaya_domain::CampaignAction::Start),
        CampaignStatus::Paused => Some(soraaya_domain::CampaignAction::Resume),
        CampaignStatus::Active => None,
        status => {
            return Err(
                CampaignError::InUse(format!("a {status} campaign cannot call again")).into(),
            );
        }
    };
    let queued = match action {
        Some(action) => {
            let (moved, report) = act(app, org, campaign.id, action, None).await?;
            campaign = moved;
            report
        }
        None => None,
    };
    Ok(CallNow {
        campaign,
        assignment,
        queued,
    })
}

/// Pauses one campaign, or every active one; answers the campaigns paused.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn stop_calling(
    app: &App,
    org: OrgId,
    campaign: Option<CampaignId>,
) -> Result<Vec<Campaign>, CallingError> {
    pause_calling(app, org, campaign, "stopped from the calling controls").await
}

/// Pauses one campaign, or every active one, saying why.
pub async fn pause_calling(
    app: &App,
    org: OrgId,
    campaign: Option<CampaignId>,
    reason: &str,
) -> Result<Vec<Campaign>, CallingError> {
    let targets: Vec<Campaign> = match campaign {
        Some(id) => vec![get_campaign(app, org, id).await?],
        None => Records::new(app.store.as_ref())
            .list::<Campaign>(org)
            .await?
            .into_iter()
            .filter(|c| c.status == CampaignStatus::Active)
            .collect(),
    };
    let mut paused = Vec::new();
    for target in targets {
        match act(
            app,
            org,
            target.id,
            soraaya_domain::CampaignAction::Pause,
            Some(reason.to_owned()),
        )
        .await
        {
            Ok((campaign, _)) => paused.push(campaign),
            Err(CallingError::CampaignAction(_)) if campaign.is_none() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(paused)
}
