//! Thirty days of calling history for the demo, made the way real history
//! is made: on a clock that starts thirty days ago and is moved from one
//! due event to the next, leads arrive day by day, three campaigns start in
//! turn and are called by the simulator through the real dialer, webhooks,
//! outcomes, counters and insight aggregates. So every chart of the
//! dashboard and every insight has data on the first start, and the
//! figures agree with the leads and calls behind them. Repeatable by seed.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use soraaya_domain::{AgentPersona, CampaignAction, CampaignId, OrgId, Property};
use tracing::info;

use soraaya_campaigns::service::{self as campaigns, CampaignError};
use soraaya_core::{App, Clock, Config, ManualClock};
use soraaya_leads::input::LeadInput;
use soraaya_leads::record::Actor;
use soraaya_leads::service::{self as leads, LeadError};
use soraaya_store::ItemStore;

use crate::runtime::{LocalCalling, LocalFiles, LocalVoice, local_calling};
use crate::simulator::SimulatorConfig;

/// Days of history.
pub const DAYS: i64 = 30;

/// What the history holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct History {
    pub leads: usize,
    pub campaigns: usize,
    /// Calls that ended.
    pub calls: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error(transparent)]
    Calling(#[from] soraaya_calling::CallingError),
    #[error(transparent)]
    Store(#[from] soraaya_store::StoreError),
    #[error(transparent)]
    Account(#[from] soraaya_accounts::AccountError),
}

const FIRST_NAMES: [&str; 24] = [
    "Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Reyansh", "Sai", "Krishna", "Ishaan", "Rohan",
    "Ananya", "Diya", "Saanvi", "Aadhya", "Kiara", "Myra", "Pari", "Anika", "Navya", "Riya",
    "Kabir", "Zara", "Farhan", "Meher",
];
const LAST_NAMES: [&str; 16] = [
    "Mehta",
    "Shah",
    "Kapoor",
    "Malhotra",
    "Iyer",
    "Nair",
    "Reddy",
    "Rao",
    "Banerjee",
    "Chopra",
    "Khanna",
    "Desai",
    "Patel",
    "Singhania",
    "Goenka",
    "Bhatia",
];
const SOURCES: [&str; 6] = [
    "Website",
    "Referral",
    "99acres",
    "MagicBricks",
    "Walk-in",
    "Instagram",
];

/// A campaign of the history: name, the day it starts (days ago), its
/// leads at the start and the most that arrive on each later day, where
/// they live, their budgets in crore, which persona (index).
struct Planned {
    name: &'static str,
    starts: i64,
    first_leads: usize,
    daily_leads: usize,
    places: &'static [&'static str],
    budget: (u64, u64),
    persona: usize,
    mumbai: bool,
}

const PLANNED: [Planned; 3] = [
    Planned {
        name: "Worli & Lower Parel Launch",
        starts: 28,
        first_leads: 20,
        daily_leads: 4,
        places: &["Worli, Mumbai", "Lower Parel, Mumbai", "Prabhadevi, Mumbai"],
        budget: (8, 40),
        persona: 0,
        mumbai: true,
    },
    Planned {
        name: "Bandra & Juhu Family Homes",
        starts: 18,
        first_leads: 15,
        daily_leads: 3,
        places: &["Bandra West, Mumbai", "Juhu, Mumbai", "Khar, Mumbai"],
        budget: (6, 25),
        persona: 1,
        mumbai: true,
    },
    Planned {
        name: "NCR & Bangalore Investors",
        starts: 8,
        first_leads: 15,
        daily_leads: 3,
        places: &[
            "Gurugram, Delhi NCR",
            "Golf Course Road, Gurugram",
            "Hebbal, Bangalore",
        ],
        budget: (5, 30),
        persona: 2,
        mumbai: false,
    },
];

/// Numbers of history leads start here (the demo's own leads use others).
const FIRST_NUMBER: u64 = 9_833_000_000;

fn lead_input(n: u64, place: &str, budget: (u64, u64), rng: &mut ChaCha8Rng) -> LeadInput {
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let low = rng.random_range(budget.0..budget.1);
    let high = low + rng.random_range(1..=5);
    let kind = ["apartment", "penthouse", "villa"][rng.random_range(0..3)];
    let priority = ["high", "medium", "low"][rng.random_range(0..3)];
    let source = SOURCES[rng.random_range(0..SOURCES.len())];
    serde_json::from_value(json!({
        "contact_person": format!("{first} {last}"),
        "phone_number": format!("+91 {}", FIRST_NUMBER + n),
        "email": format!("{}.{}{n}@example.in", first.to_lowercase(), last.to_lowercase()),
        "location": place,
        "price_range": format!("₹{low}-{high} Cr"),
        "property_type": kind,
        "priority": priority,
        "lead_source": source,
    }))
    .expect("a lead input")
}

/// Runs the engine from the clock's time to `until`, event by event.
async fn run_until(calling: &LocalCalling, clock: &ManualClock, until: Timestamp) {
    calling.runtime.set_fast_forward(true);
    loop {
        calling.runtime.settle().await;
        match calling.runtime.next_wakeup() {
            Some(at) if at <= until => {
                if at > clock.now() {
                    clock.set(at);
                }
            }
            _ => {
                clock.set(until);
                return;
            }
        }
    }
}

/// Creates and starts a campaign of the history (its leads come after).
async fn start_campaign(
    app: &App,
    org: OrgId,
    planned: &Planned,
    personas: &[AgentPersona],
    properties: &[Property],
) -> Result<CampaignId, HistoryError> {
    let input: campaigns::CampaignInput = serde_json::from_value(json!({
        "name": planned.name,
        "campaign_type": "outbound",
        "priority_level": "high",
        "persona_id": personas.get(planned.persona % personas.len().max(1)).map(|p| p.id),
        "property_ids": properties
            .iter()
            .filter(|p| p.location.ends_with("Mumbai") == planned.mumbai)
            .map(|p| p.id)
            .collect::<Vec<_>>(),
        "qualification_criteria": {
            "budget_min": "5 Cr",
            "timelines": ["immediate", "3_months", "6_months"],
            "qualify_at": 70
        },
        "settings": {
            "max_concurrent_calls": 4,
            "window": { "start": "10:00", "end": "20:00" },
            "max_attempts": 3
        }
    }))
    .map_err(|err| CampaignError::Store(soraaya_store::StoreError::Invalid(err.to_string())))?;
    let campaign = campaigns::create_campaign(
        app,
        org,
        None,
        soraaya_accounts::org(app, org)
            .await?
            .settings
            .campaign_defaults,
        &input,
    )
    .await?;
    soraaya_calling::control::act(app, org, campaign.id, CampaignAction::Start, None).await?;
    Ok(campaign.id)
}

/// Makes the history of organisation `org` in `store`, ending at `now`.
pub async fn backfill(
    store: Arc<dyn ItemStore>,
    config: Config,
    org: OrgId,
    seed: u64,
    files: LocalFiles,
    now: Timestamp,
) -> Result<History, HistoryError> {
    let zone = TimeZone::get("Asia/Kolkata").unwrap_or(TimeZone::UTC);
    let today = zone.to_datetime(now).date();
    // 09:00 in Mumbai, `days` ago.
    let morning = |days: i64| -> Timestamp {
        let date = today
            .checked_sub(jiff::Span::new().days(days))
            .unwrap_or(today);
        zone.to_timestamp(date.at(9, 0, 0, 0))
            .unwrap_or(now - SignedDuration::from_hours(24 * days))
    };
    let clock = Arc::new(ManualClock::at(morning(DAYS)));
    let app = App::with_clock(config, store, Arc::clone(&clock) as Arc<dyn Clock>);
    let calling = local_calling(
        app,
        LocalVoice::Simulated(SimulatorConfig {
            call_seconds: 150,
            seed,
            fixed_length: false,
        }),
        files,
    )
    .await?;
    let app = Arc::clone(&calling.app);
    let actor = Actor::system("demo history");
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4157_0512);
    let personas = campaigns::list_personas(&app, org).await?;
    let properties =
        campaigns::list_properties(&app, org, &campaigns::PropertyFilter::default()).await?;
    let mut history = History::default();
    let mut number = 0u64;
    let mut started: [Option<CampaignId>; PLANNED.len()] = [None; PLANNED.len()];

    for days_ago in (1..=DAYS).rev() {
        let start = morning(days_ago);
        if start > clock.now() {
            clock.set(start);
        }
        // A few leads walk in every day.
        for _ in 0..rng.random_range(1..=4) {
            let place = ["Powai, Mumbai", "Malabar Hill, Mumbai", "Pune", "Hyderabad"]
                [rng.random_range(0..4)];
            let input = lead_input(number, place, (3, 20), &mut rng);
            number += 1;
            leads::create(&app, org, &actor, input).await?;
            history.leads += 1;
        }
        for (i, planned) in PLANNED.iter().enumerate() {
            if planned.starts < days_ago {
                continue;
            }
            let count = if planned.starts == days_ago {
                planned.first_leads
            } else {
                rng.random_range(0..=planned.daily_leads)
            };
            let mut created = Vec::with_capacity(count);
            for n in 0..count {
                let place = planned.places[n % planned.places.len()];
                let input = lead_input(number, place, planned.budget, &mut rng);
                number += 1;
                created.push(leads::create(&app, org, &actor, input).await?.id);
            }
            history.leads += count;
            if planned.starts == days_ago {
                let campaign = start_campaign(&app, org, planned, &personas, &properties).await?;
                started[i] = Some(campaign);
                history.campaigns += 1;
            }
            if let Some(campaign) = started[i] {
                // Assigned to a calling campaign, they are queued at once.
                soraaya_calling::membership::assign_leads(&app, org, &actor, campaign, &created)
                    .await?;
            }
        }
        calling.runtime.wake_scheduler();
        run_until(&calling, &clock, morning(days_ago - 1).min(now)).await;
    }
    run_until(&calling, &clock, now).await;
    history.calls = usize::try_from(
        soraaya_leads::repo::LeadsRepo::new(app.store.as_ref())
            .counters(org, soraaya_leads::counters::Scope::All)
            .await?
            .calls_ended,
    )
    .unwrap_or(usize::MAX);
    info!(org_id = %org, leads = history.leads, campaigns = history.campaigns, calls = history.calls, "demo history made");
    Ok(history)
}
