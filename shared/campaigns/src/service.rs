//! Campaigns, agent personas and properties: validation, and the rules that
//! tie them together (a campaign name is unique in its organisation; a
//! persona or property in use by a live campaign stays). Calling them, and
//! what that does to their leads, is the calling engine's.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use soraaya_domain::{
    Accent, AgentPersona, Availability, Campaign, CampaignId, CampaignStatus, CampaignType,
    CommunicationStyle, DailyWindow, FinancingStatus, Inr, OrgId, PersonaId, Priority, Property,
    PropertyId, PropertyType, PurchaseTimeline, QualificationCriteria, RetryDelays,
    ScriptCustomizations, UserId, Variant, legal_window,
};
use soraaya_store::{Delete, Key, Put, StoreError, WriteOp};
use tracing::info;
use utoipa::ToSchema;

use soraaya_core::App;
use soraaya_core::keys::keyed_item;
use soraaya_core::records::{Change, RecordError, Records};
use soraaya_core::tables::CAMPAIGNS;
use soraaya_core::validation::{Amount, FieldError, FieldErrors, Patch};

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("another campaign of the organisation is called {0:?}")]
    NameTaken(String),
    #[error("{0}")]
    InUse(String),
    #[error("the {kind} is at version {actual}, not {expected}")]
    VersionMismatch {
        kind: &'static str,
        expected: u64,
        actual: u64,
    },
    #[error("changed by someone else meanwhile; reload and try again")]
    ChangedConcurrently,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RecordError> for CampaignError {
    fn from(err: RecordError) -> Self {
        match err {
            RecordError::NotFound(kind) => CampaignError::NotFound(kind),
            RecordError::VersionMismatch {
                kind,
                expected,
                actual,
            } => CampaignError::VersionMismatch {
                kind,
                expected,
                actual,
            },
            RecordError::ChangedConcurrently => CampaignError::ChangedConcurrently,
            RecordError::Store(err) => CampaignError::Store(err),
        }
    }
}

impl From<FieldErrors> for CampaignError {
    fn from(errors: FieldErrors) -> Self {
        CampaignError::Invalid(errors.into_vec())
    }
}

fn check(errors: FieldErrors) -> Result<(), CampaignError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}

const MAX_NAME: usize = 120;
const MAX_TEXT: usize = 4000;
/// Most live calls one campaign may ask for.
pub const MAX_CAMPAIGN_CAP: u32 = 500;
/// Most attempts per lead a campaign may ask for.
pub const MAX_ATTEMPTS: u32 = 10;
/// Longest retry delay: 30 days.
const MAX_RETRY_MINUTES: u32 = 30 * 24 * 60;

/// `value` trimmed, if it is at most `max` characters as sent (the limit
/// the API document states: whitespace around it counts).
fn text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> Option<String> {
    if value.chars().count() > max {
        errors.add(field, format!("is longer than {max} characters"));
        return None;
    }
    Some(value.trim().to_owned())
}

fn required_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> Option<String> {
    match text(errors, field, value, max) {
        Some(v) if v.is_empty() => {
            errors.add(field, "must not be empty");
            None
        }
        other => other,
    }
}

fn amount(errors: &mut FieldErrors, field: &str, amount: &Amount) -> Option<Inr> {
    let parsed = match amount {
        Amount::Number(n) => n
            .as_u64()
            .map(Inr::rupees)
            .ok_or("must be a whole number of rupees".to_owned()),
        Amount::Text(t) => Inr::parse(t).map_err(|e| e.to_string()),
    };
    errors.check(field, parsed)
}

fn date(errors: &mut FieldErrors, field: &str, text: &str) -> Option<Date> {
    errors.check(
        field,
        text.trim()
            .parse::<Date>()
            .map_err(|_| "is not a date (use YYYY-MM-DD)"),
    )
}

fn choices<T>(
    errors: &mut FieldErrors,
    field: &str,
    texts: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let mut values = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        if let Some(value) = errors.check(&format!("{field}[{i}]"), parse(text)) {
            values.push(value);
        }
    }
    values
}

fn strings(
    errors: &mut FieldErrors,
    field: &str,
    texts: &[String],
    max_each: usize,
    max_count: usize,
) -> Vec<String> {
    if texts.len() > max_count {
        errors.add(field, format!("has more than {max_count} entries"));
    }
    texts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| text(errors, &format!("{field}[{i}]"), t, max_each))
        .filter(|t| !t.is_empty())
        .collect()
}

// ---------------------------------------------------------------- campaigns

/// Qualification criteria as sent. Amounts accept `₹10 Cr`, `85 lakh` or rupees.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CriteriaInput {
    #[schema(value_type = Option<Amount>, example = "10 Cr")]
    pub budget_min: Option<Amount>,
    #[schema(value_type = Option<Amount>, example = "40 Cr")]
    pub budget_max: Option<Amount>,
    /// `immediate`, `3_months`, `6_months`, `1_year`.
    pub timelines: Vec<String>,
    /// `apartment`, `villa`, `penthouse`, `commercial`...
    pub property_types: Vec<String>,
    pub locations: Vec<String>,
    pub decision_maker_required: bool,
    /// `pre_approved`, `needs_financing`, `cash_buyer`.
    pub financing: Vec<String>,
    pub custom_questions: Vec<String>,
    /// Score from 0 to 100 at which a lead counts as qualified (default 70).
    pub qualify_at: Option<u8>,
}

impl CriteriaInput {
    fn validate(&self, errors: &mut FieldErrors) -> QualificationCriteria {
        let f = |name: &str| format!("qualification_criteria.{name}");
        let budget_min = self
            .budget_min
            .as_ref()
            .and_then(|raw| amount(errors, &f("budget_min"), raw));
        let budget_max = self
            .budget_max
            .as_ref()
            .and_then(|raw| amount(errors, &f("budget_max"), raw));
        if let (Some(min), Some(max)) = (budget_min, budget_max)
            && min > max
        {
            errors.add(f("budget_max"), "is below budget_min");
        }
        let qualify_at = self.qualify_at.unwrap_or(70);
        if !(1..=100).contains(&qualify_at) {
            errors.add(f("qualify_at"), "must be from 1 to 100");
        }
        QualificationCriteria {
            budget_min,
            budget_max,
            timelines: choices(errors, &f("timelines"), &self.timelines, |t| {
                PurchaseTimeline::parse(t).map_err(|e| e.to_string())
            }),
            property_types: choices(errors, &f("property_types"), &self.property_types, |t| {
                PropertyType::parse(t).map_err(|e| e.to_string())
            }),
            locations: strings(errors, &f("locations"), &self.locations, 100, 50),
            decision_maker_required: self.decision_maker_required,
            financing: choices(errors, &f("financing"), &self.financing, |t| {
                FinancingStatus::parse(t).map_err(|e| e.to_string())
            }),
            custom_questions: strings(
                errors,
                &f("custom_questions"),
                &self.custom_questions,
                300,
                20,
            ),
            qualify_at,
        }
    }
}

/// Calling settings as sent; absent fields keep their value (or the default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SettingsInput {
    /// Most calls of this campaign live at once (1 to 500).
    pub max_concurrent_calls: Option<u32>,
    /// Local hours of the lead, such as `{"start": "10:00", "end": "19:00"}`;
    /// calls happen only where this meets the legal hours of the number's country.
    pub window: Option<DailyWindow>,
    /// Most calls per lead across every kind of retry (1 to 10).
    pub max_attempts: Option<u32>,
    /// Minutes before calling again, by how the last call ended.
    pub retry_delays: Option<RetryDelaysInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryDelaysInput {
    pub no_answer_minutes: Option<u32>,
    pub busy_minutes: Option<u32>,
    pub voicemail_minutes: Option<u32>,
    pub failed_minutes: Option<u32>,
}

impl SettingsInput {
    /// Applies the changes to `settings`, each refused one as an error on
    /// `{at}.{field}` (`settings` in a campaign, `campaign_defaults` in the
    /// organisation's settings).
    pub fn apply(
        &self,
        settings: &mut soraaya_domain::CallingSettings,
        errors: &mut FieldErrors,
        at: &str,
    ) {
        if let Some(cap) = self.max_concurrent_calls {
            if (1..=MAX_CAMPAIGN_CAP).contains(&cap) {
                settings.max_concurrent_calls = cap;
            } else {
                errors.add(
                    format!("{at}.max_concurrent_calls"),
                    format!("must be from 1 to {MAX_CAMPAIGN_CAP}"),
                );
            }
        }
        if let Some(window) = self.window {
            let widest_legal = legal_window(Some(soraaya_domain::Region::UNITED_STATES));
            if window.start >= window.end {
                errors.add(format!("{at}.window.end"), "must be after the start");
            } else if window.intersect(widest_legal).is_none() {
                errors.add(
                    format!("{at}.window"),
                    "lies wholly outside the legal calling hours (08:00-21:00 at the most)",
                );
            } else {
                settings.window = window;
            }
        }
        if let Some(attempts) = self.max_attempts {
            if (1..=MAX_ATTEMPTS).contains(&attempts) {
                settings.max_attempts = attempts;
            } else {
                errors.add(
                    format!("{at}.max_attempts"),
                    format!("must be from 1 to {MAX_ATTEMPTS}"),
                );
            }
        }
        if let Some(delays) = &self.retry_delays {
            let mut set = |name: &str, value: Option<u32>, target: &mut u32| {
                if let Some(minutes) = value {
                    if (1..=MAX_RETRY_MINUTES).contains(&minutes) {
                        *target = minutes;
                    } else {
                        errors.add(
                            format!("{at}.retry_delays.{name}"),
                            format!("must be from 1 to {MAX_RETRY_MINUTES} minutes"),
                        );
                    }
                }
            };
            let RetryDelays {
                no_answer_minutes,
                busy_minutes,
                voicemail_minutes,
                failed_minutes,
            } = &mut settings.retry_delays;
            set(
                "no_answer_minutes",
                delays.no_answer_minutes,
                no_answer_minutes,
            );
            set("busy_minutes", delays.busy_minutes, busy_minutes);
            set(
                "voicemail_minutes",
                delays.voicemail_minutes,
                voicemail_minutes,
            );
            set("failed_minutes", delays.failed_minutes, failed_minutes);
        }
    }
}

/// A campaign to create, or the fields to change (absent: unchanged; `null`: cleared).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignInput {
    #[schema(example = "Worli Sea-Face Penthouses, Q1")]
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Patch<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Patch<String>,
    /// `outbound` (default), `follow_up`, `re_engagement`.
    pub campaign_type: Option<String>,
    /// `high`, `medium` (default), `low`.
    pub priority_level: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub persona_id: Patch<PersonaId>,
    /// Properties the agent presents, in the order it presents them.
    pub property_ids: Option<Vec<PropertyId>>,
    pub qualification_criteria: Option<CriteriaInput>,
    pub settings: Option<SettingsInput>,
    /// An A/B test: 2 to 5 approaches its leads are split between at random
    /// (`[]` for none). Only while the campaign is a draft.
    pub variants: Option<Vec<VariantInput>>,
    /// Speed to lead: sources (such as `website`, `portal`) whose new leads
    /// arriving by API join this campaign and, while it is active, are
    /// called at once inside its window; up to 10 (`[]` for none).
    #[schema(max_items = 10)]
    pub auto_call_sources: Option<Vec<String>>,
}

/// One approach of an A/B test.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VariantInput {
    /// Unique in the campaign: letters, digits, `-` and `_`, up to 20.
    #[schema(
        example = "warm-opening",
        min_length = 1,
        max_length = 20,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    pub key: String,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// The persona of this variant's calls (the campaign's otherwise).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub persona_id: Option<PersonaId>,
    /// A greeting, pitch or closing here replaces the persona's.
    pub script: Option<ScriptCustomizations>,
    /// Share of the leads against the other variants' weights: 1 to 100 (default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub weight: Option<u8>,
}

/// Most variants of one A/B test.
pub const MAX_VARIANTS: usize = 5;

/// Most sources one campaign calls at once.
pub const MAX_AUTO_CALL_SOURCES: usize = 10;

/// The sources, trimmed, each once (without regard to case).
fn auto_call_sources(errors: &mut FieldErrors, inputs: &[String]) -> Vec<String> {
    if inputs.len() > MAX_AUTO_CALL_SOURCES {
        errors.add(
            "auto_call_sources",
            format!("has more than {MAX_AUTO_CALL_SOURCES} sources"),
        );
    }
    let mut found: Vec<String> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("auto_call_sources[{i}]");
        let Some(source) = required_text(errors, &field, input, 100) else {
            continue;
        };
        if found.iter().any(|s| s.eq_ignore_ascii_case(&source)) {
            errors.add(field, "is listed twice");
        } else {
            found.push(source);
        }
    }
    found
}

fn variants(errors: &mut FieldErrors, inputs: &[VariantInput]) -> Vec<Variant> {
    if inputs.len() == 1 || inputs.len() > MAX_VARIANTS {
        errors.add(
            "variants",
            format!("an A/B test needs 2 to {MAX_VARIANTS} variants (or none)"),
        );
    }
    let mut found: Vec<Variant> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = |name: &str| format!("variants[{i}].{name}");
        let key = input.key.trim();
        if key.is_empty()
            || key.chars().count() > 20
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errors.add(field("key"), "must be 1 to 20 letters, digits, '-' or '_'");
        } else if found.iter().any(|v| v.key.eq_ignore_ascii_case(key)) {
            errors.add(field("key"), "is the key of another variant");
        }
        let description = input
            .description
            .as_deref()
            .and_then(|d| text(errors, &field("description"), d, 200))
            .filter(|d| !d.is_empty());
        let weight = input.weight.unwrap_or(1);
        if !(1..=100).contains(&weight) {
            errors.add(field("weight"), "must be 1 to 100");
        }
        let script = input.script.clone().unwrap_or_default();
        for (name, value) in [
            ("script.greeting", &script.greeting),
            ("script.pitch", &script.pitch),
            ("script.closing", &script.closing),
        ] {
            if let Some(value) = value {
                text(errors, &field(name), value, 1000);
            }
        }
        strings(
            errors,
            &field("script.escalation_triggers"),
            &script.escalation_triggers,
            200,
            20,
        );
        found.push(Variant {
            key: key.to_owned(),
            description,
            persona_id: input.persona_id,
            script,
            weight,
        });
    }
    found
}

impl CampaignInput {
    /// What creating a campaign needs (changing one needs none).
    pub const REQUIRED_ON_CREATE: &'static [&'static str] = &["name"];
}

/// Checks `input` against `campaign` and applies it.
fn apply(
    campaign: &mut Campaign,
    input: &CampaignInput,
    creating: bool,
) -> Result<(), CampaignError> {
    let mut errors = FieldErrors::new();
    match &input.name {
        Some(name) => {
            if let Some(name) = required_text(&mut errors, "name", name, MAX_NAME) {
                campaign.name = name;
            }
        }
        None if creating && CampaignInput::REQUIRED_ON_CREATE.contains(&"name") => {
            errors.add("name", "is required")
        }
        None => {}
    }
    match &input.description {
        Patch::Set(d) => {
            campaign.description =
                text(&mut errors, "description", d, MAX_TEXT).filter(|d| !d.is_empty())
        }
        Patch::Clear => campaign.description = None,
        Patch::Absent => {}
    }
    for (field, patch, target) in [
        ("start_date", &input.start_date, &mut campaign.start_date),
        ("end_date", &input.end_date, &mut campaign.end_date),
    ] {
        match patch {
            Patch::Set(text) => *target = date(&mut errors, field, text),
            Patch::Clear => *target = None,
            Patch::Absent => {}
        }
    }
    if let (Some(start), Some(end)) = (campaign.start_date, campaign.end_date)
        && end < start
    {
        errors.add("end_date", "is before start_date");
    }
    if let Some(kind) = &input.campaign_type {
        match CampaignType::parse(kind) {
            Some(kind) => campaign.campaign_type = kind,
            None => errors.add(
                "campaign_type",
                "must be outbound, follow_up or re_engagement",
            ),
        }
    }
    if let Some(priority) = &input.priority_level
        && let Some(priority) = errors.check("priority_level", Priority::parse(priority))
    {
        campaign.priority_level = priority;
    }
    match &input.persona_id {
        Patch::Set(id) => campaign.persona_id = Some(*id),
        Patch::Clear => campaign.persona_id = None,
        Patch::Absent => {}
    }
    if let Some(ids) = &input.property_ids {
        if ids.len() > 50 {
            errors.add("property_ids", "has more than 50 properties");
        }
        let mut unique = Vec::new();
        for id in ids {
            if !unique.contains(id) {
                unique.push(*id);
            }
        }
        campaign.property_ids = unique;
    }
    if let Some(criteria) = &input.qualification_criteria {
        campaign.qualification_criteria = criteria.validate(&mut errors);
    }
    if let Some(settings) = &input.settings {
        settings.apply(&mut campaign.settings, &mut errors, "settings");
    }
    if let Some(inputs) = &input.variants {
        let new = variants(&mut errors, inputs);
        if new != campaign.variants && campaign.status != CampaignStatus::Draft {
            // Which lead is in which variant must not move once calls began.
            errors.add("variants", "can change only while the campaign is a draft");
        }
        campaign.variants = new;
    }
    if let Some(inputs) = &input.auto_call_sources {
        campaign.auto_call_sources = auto_call_sources(&mut errors, inputs);
    }
    check(errors)
}

/// The persona and properties a campaign names must be the organisation's.
async fn check_references(app: &App, campaign: &Campaign) -> Result<(), CampaignError> {
    let records = Records::new(app.store.as_ref());
    let mut errors = FieldErrors::new();
    if let Some(persona) = campaign.persona_id {
        match records
            .get::<AgentPersona>(campaign.org_id, &persona.to_string())
            .await?
        {
            None => errors.add("persona_id", "is not an agent persona of this organisation"),
            Some(p) if !p.is_active => errors.add("persona_id", "is an inactive persona"),
            Some(_) => {}
        }
    }
    for (i, variant) in campaign.variants.iter().enumerate() {
        let Some(persona) = variant.persona_id else {
            continue;
        };
        match records
            .get::<AgentPersona>(campaign.org_id, &persona.to_string())
            .await?
        {
            None => errors.add(
                format!("variants[{i}].persona_id"),
                "is not an agent persona of this organisation",
            ),
            Some(p) if !p.is_active => errors.add(
                format!("variants[{i}].persona_id"),
                "is an inactive persona",
            ),
            Some(_) => {}
        }
    }
    let ids: Vec<String> = campaign
        .property_ids
        .iter()
        .map(ToString::to_string)
        .collect();
    let found: Vec<Property> = records.many(campaign.org_id, &ids).await?;
    for (i, id) in campaign.property_ids.iter().enumerate() {
        if !found.iter().any(|p| p.id == *id) {
            errors.add(
                format!("property_ids[{i}]"),
                "is not a property of this organisation",
            );
        }
    }
    check(errors)
}

/// The item that keeps campaign names unique in an organisation.
fn name_key(org: OrgId, name: &str) -> Key {
    Key::new(
        format!("ORG#{org}#CAMPAIGN_NAME#{}", name.trim().to_lowercase()),
        "NAME",
    )
}

#[derive(Serialize)]
struct NameGuard {
    campaign_id: CampaignId,
}

fn claim_name(campaign: &Campaign) -> Result<WriteOp, StoreError> {
    Ok(Put::new(
        &CAMPAIGNS,
        keyed_item(
            &name_key(campaign.org_id, &campaign.name),
            &NameGuard {
                campaign_id: campaign.id,
            },
        )?,
    )
    .if_absent()
    .into())
}

fn release_name(campaign: &Campaign) -> WriteOp {
    Delete::new(&CAMPAIGNS, name_key(campaign.org_id, &campaign.name)).into()
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get_campaign(
    app: &App,
    org: OrgId,
    id: CampaignId,
) -> Result<Campaign, CampaignError> {
    Records::new(app.store.as_ref())
        .get::<Campaign>(org, &id.to_string())
        .await?
        .ok_or(CampaignError::NotFound("campaign"))
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
/// Creates a campaign from `input`, its calling settings starting from the
/// organisation's `defaults` (those `input` does not set).
pub async fn create_campaign(
    app: &App,
    org: OrgId,
    by: Option<UserId>,
    defaults: soraaya_domain::CallingSettings,
    input: &CampaignInput,
) -> Result<Campaign, CampaignError> {
    let now = app.clock.now();
    let mut campaign = Campaign {
        id: CampaignId::new(),
        org_id: org,
        name: String::new(),
        description: None,
        start_date: None,
        end_date: None,
        campaign_type: CampaignType::Outbound,
        priority_level: Priority::Medium,
        status: CampaignStatus::Draft,
        persona_id: None,
        property_ids: Vec::new(),
        qualification_criteria: QualificationCriteria::default(),
        settings: defaults,
        paused_reason: None,
        variants: Vec::new(),
        auto_call_sources: Vec::new(),
        created_by: by,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    apply(&mut campaign, input, true)?;
    check_references(app, &campaign).await?;
    match Records::new(app.store.as_ref())
        .create(&campaign, vec![claim_name(&campaign)?])
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { failed }) if failed.contains(&1) => {
            return Err(CampaignError::NameTaken(campaign.name));
        }
        Err(err) => return Err(err.into()),
    }
    info!(org_id = %org, campaign_id = %campaign.id, "campaign created");
    Ok(campaign)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn update_campaign(
    app: &App,
    org: OrgId,
    id: CampaignId,
    input: &CampaignInput,
    expected: Option<u64>,
) -> Result<Campaign, CampaignError> {
    Records::new(app.store.as_ref())
        .update(
            org,
            &id.to_string(),
            expected,
            app.clock.as_ref(),
            |before: Campaign| async move {
                let mut after = before.clone();
                apply(&mut after, input, false)?;
                if after == before {
                    return Ok(None);
                }
                check_references(app, &after).await?;
                let renamed = after.name.trim().to_lowercase() != before.name.trim().to_lowercase();
                Ok(Some(if renamed {
                    let taken = CampaignError::NameTaken(after.name.clone());
                    let extra = vec![claim_name(&after)?, release_name(&before)];
                    Change::to(after).with(extra, taken)
                } else {
                    Change::to(after)
                }))
            },
        )
        .await
}

/// Deletes a campaign that is neither calling nor holding queued leads (the
/// calling engine lets its leads go first); its leads stay, outside any
/// campaign.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_campaign(app: &App, campaign: &Campaign) -> Result<(), CampaignError> {
    match Records::new(app.store.as_ref())
        .remove(campaign, vec![release_name(campaign)])
        .await
    {
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Campaign listing filters.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
    pub campaign_type: Option<CampaignType>,
    pub search: Option<String>,
}

/// The organisation's campaigns, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list_campaigns(
    app: &App,
    org: OrgId,
    filter: &CampaignFilter,
) -> Result<Vec<Campaign>, CampaignError> {
    let search = filter.search.as_ref().map(|s| s.to_lowercase());
    let mut campaigns: Vec<Campaign> = Records::new(app.store.as_ref())
        .list::<Campaign>(org)
        .await?
        .into_iter()
        .filter(|c| filter.status.is_none_or(|s| c.status == s))
        .filter(|c| filter.campaign_type.is_none_or(|t| c.campaign_type == t))
        .filter(|c| {
            search
                .as_ref()
                .is_none_or(|s| c.name.to_lowercase().contains(s.as_str()))
        })
        .collect();
    campaigns.reverse();
    Ok(campaigns)
}

// ---------------------------------------------------------------- personas

/// An agent persona to create, or the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PersonaInput {
    #[schema(example = "Priya", max_length = 80, pattern = r"\S")]
    pub name: Option<String>,
    /// Market it knows: mumbai, delhi, bangalore, pune, chennai, hyderabad...
    #[schema(example = "mumbai", max_length = 80, pattern = r"\S")]
    pub region: Option<String>,
    #[schema(value_type = Option<Accent>)]
    pub accent: Option<String>,
    #[schema(value_type = Option<CommunicationStyle>)]
    pub communication_style: Option<String>,
    /// `provider:voice`, such as `azure:en-IN-NeerjaNeural`.
    #[schema(max_length = 120, pattern = r"^\s*[^:\s][^:]*:[\s\S]*\S\s*$")]
    pub voice_model_id: Option<String>,
    /// Up to 20, each up to 60 characters.
    #[schema(schema_with = soraaya_domain::schema::personality_traits)]
    pub personality_traits: Option<Vec<String>>,
    #[schema(max_length = 4000)]
    pub market_knowledge: Option<String>,
    pub script_customizations: Option<ScriptCustomizations>,
    pub is_active: Option<bool>,
}

impl PersonaInput {
    /// What creating a persona needs (changing one needs none).
    pub const REQUIRED_ON_CREATE: &'static [&'static str] = &["name", "region"];
}

fn parse_accent(text: &str) -> Option<Accent> {
    match text
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-', '_'], "")
        .as_str()
    {
        "indian" | "indianenglish" | "in" => Some(Accent::Indian),
        "uk" | "british" | "ukenglish" | "gb" => Some(Accent::Uk),
        "usa" | "us" | "american" | "usenglish" => Some(Accent::Usa),
        _ => None,
    }
}

fn parse_style(text: &str) -> Option<CommunicationStyle> {
    match text.trim().to_ascii_lowercase().as_str() {
        "formal" => Some(CommunicationStyle::Formal),
        "casual" => Some(CommunicationStyle::Casual),
        "consultative" => Some(CommunicationStyle::Consultative),
        _ => None,
    }
}

/// The default voice of an accent.
pub fn default_voice(accent: Accent) -> &'static str {
    match accent {
        Accent::Indian => "azure:en-IN-NeerjaNeural",
        Accent::Uk => "azure:en-GB-SoniaNeural",
        Accent::Usa => "azure:en-US-JennyNeural",
    }
}

fn apply_persona(
    persona: &mut AgentPersona,
    input: &PersonaInput,
    creating: bool,
) -> Result<(), CampaignError> {
    let mut errors = FieldErrors::new();
    for (field, value, target) in [
        ("name", &input.name, &mut persona.name),
        ("region", &input.region, &mut persona.region),
    ] {
        let required = PersonaInput::REQUIRED_ON_CREATE.contains(&field);
        match value {
            Some(v) => {
                if let Some(v) = required_text(&mut errors, field, v, 80) {
                    *target = v;
                }
            }
            None if creating && required => errors.add(field, "is required"),
            None => {}
        }
    }
    let accent_given = input.accent.is_some();
    if let Some(accent) = &input.accent {
        match parse_accent(accent) {
            Some(accent) => persona.accent = accent,
            None => errors.add("accent", "must be indian, uk or usa"),
        }
    }
    if let Some(style) = &input.communication_style {
        match parse_style(style) {
            Some(style) => persona.communication_style = style,
            None => errors.add(
                "communication_style",
                "must be formal, casual or consultative",
            ),
        }
    }
    match &input.voice_model_id {
        Some(voice) => {
            if let Some(voice) = required_text(&mut errors, "voice_model_id", voice, 120) {
                if voice
                    .split_once(':')
                    .is_none_or(|(p, v)| p.is_empty() || v.is_empty())
                {
                    errors.add(
                        "voice_model_id",
                        "must be provider:voice, such as azure:en-IN-NeerjaNeural",
                    );
                } else {
                    persona.voice_model_id = voice;
                }
            }
        }
        None if creating || accent_given => {
            persona.voice_model_id = default_voice(persona.accent).to_owned()
        }
        None => {}
    }
    if let Some(traits) = &input.personality_traits {
        persona.personality_traits = strings(&mut errors, "personality_traits", traits, 60, 20);
    }
    if let Some(knowledge) = &input.market_knowledge
        && let Some(knowledge) = text(&mut errors, "market_knowledge", knowledge, MAX_TEXT)
    {
        persona.market_knowledge = knowledge;
    }
    if let Some(script) = &input.script_customizations {
        for (field, value) in [
            ("script_customizations.greeting", &script.greeting),
            ("script_customizations.pitch", &script.pitch),
            ("script_customizations.closing", &script.closing),
        ] {
            if let Some(value) = value {
                text(&mut errors, field, value, 1000);
            }
        }
        strings(
            &mut errors,
            "script_customizations.escalation_triggers",
            &script.escalation_triggers,
            200,
            20,
        );
        persona.script_customizations = script.clone();
    }
    if let Some(active) = input.is_active {
        persona.is_active = active;
    }
    check(errors)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get_persona(
    app: &App,
    org: OrgId,
    id: PersonaId,
) -> Result<AgentPersona, CampaignError> {
    Records::new(app.store.as_ref())
        .get::<AgentPersona>(org, &id.to_string())
        .await?
        .ok_or(CampaignError::NotFound("agent persona"))
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list_personas(app: &App, org: OrgId) -> Result<Vec<AgentPersona>, CampaignError> {
    Ok(Records::new(app.store.as_ref())
        .list::<AgentPersona>(org)
        .await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn create_persona(
    app: &App,
    org: OrgId,
    input: &PersonaInput,
) -> Result<AgentPersona, CampaignError> {
    let now = app.clock.now();
    let mut persona = AgentPersona {
        id: PersonaId::new(),
        org_id: org,
        name: String::new(),
        region: String::new(),
        accent: Accent::Indian,
        communication_style: CommunicationStyle::Consultative,
        voice_model_id: String::new(),
        personality_traits: Vec::new(),
        market_knowledge: String::new(),
        script_customizations: ScriptCustomizations::default(),
        is_active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    apply_persona(&mut persona, input, true)?;
    Records::new(app.store.as_ref())
        .create(&persona, Vec::new())
        .await?;
    Ok(persona)
}

/// Campaigns still running (not completed or archived) that use `uses`.
async fn live_campaigns_using(
    app: &App,
    org: OrgId,
    uses: impl Fn(&Campaign) -> bool,
) -> Result<Vec<String>, CampaignError> {
    Ok(Records::new(app.store.as_ref())
        .list::<Campaign>(org)
        .await?
        .into_iter()
        .filter(|c| {
            matches!(
                c.status,
                CampaignStatus::Draft | CampaignStatus::Active | CampaignStatus::Paused
            )
        })
        .filter(|c| uses(c))
        .map(|c| c.name)
        .collect())
}

fn in_use(what: &str, campaigns: &[String]) -> CampaignError {
    CampaignError::InUse(format!(
        "the {what} is used by campaign(s) {}; change them first",
        campaigns.join(", ")
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn update_persona(
    app: &App,
    org: OrgId,
    id: PersonaId,
    input: &PersonaInput,
    expected: Option<u64>,
) -> Result<AgentPersona, CampaignError> {
    Records::new(app.store.as_ref())
        .update(
            org,
            &id.to_string(),
            expected,
            app.clock.as_ref(),
            |before: AgentPersona| async move {
                let mut after = before.clone();
                apply_persona(&mut after, input, false)?;
                if after == before {
                    return Ok(None);
                }
                if before.is_active && !after.is_active {
                    let users = live_campaigns_using(app, org, |c| c.uses_persona(id)).await?;
                    if !users.is_empty() {
                        return Err(in_use("persona", &users));
                    }
                }
                Ok(Some(Change::to(after)))
            },
        )
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn delete_persona(app: &App, org: OrgId, id: PersonaId) -> Result<(), CampaignError> {
    let persona = get_persona(app, org, id).await?;
    let users = live_campaigns_using(app, org, |c| c.uses_persona(id)).await?;
    if !users.is_empty() {
        return Err(in_use("persona", &users));
    }
    match Records::new(app.store.as_ref())
        .remove(&persona, Vec::new())
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(CampaignError::ChangedConcurrently),
        Err(err) => Err(err.into()),
    }
}

// ---------------------------------------------------------------- properties

/// A property to add, or the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PropertyInput {
    #[schema(
        example = "Lodha Trump Tower, Sky Residence",
        max_length = 160,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<PropertyType>, example = "penthouse")]
    pub property_type: Option<String>,
    #[schema(example = "Worli, Mumbai", max_length = 160, pattern = r"\S")]
    pub location: Option<String>,
    /// As shown to people, such as `₹28-35 Cr`; sets price_min and price_max when they are not given.
    #[schema(value_type = Option<String>, max_length = 80)]
    pub price_range: Patch<String>,
    #[schema(value_type = Option<Amount>, example = "28 Cr")]
    pub price_min: Patch<Amount>,
    #[schema(value_type = Option<Amount>, example = "35 Cr")]
    pub price_max: Patch<Amount>,
    /// Up to 50, each up to 80 characters.
    #[schema(schema_with = soraaya_domain::schema::amenities)]
    pub amenities: Option<Vec<String>>,
    /// Up to 50 names of 1-60 characters, values up to 300.
    #[schema(schema_with = soraaya_domain::schema::specifications)]
    pub specifications: Option<BTreeMap<String, String>>,
    #[schema(value_type = Option<Availability>)]
    pub availability_status: Option<String>,
}

impl PropertyInput {
    /// What creating a property needs (changing one needs none).
    pub const REQUIRED_ON_CREATE: &'static [&'static str] = &["name", "location", "property_type"];
}

fn parse_availability(text: &str) -> Option<Availability> {
    match text.trim().to_ascii_lowercase().as_str() {
        "available" => Some(Availability::Available),
        "reserved" => Some(Availability::Reserved),
        "sold" => Some(Availability::Sold),
        _ => None,
    }
}

fn apply_property(
    property: &mut Property,
    input: &PropertyInput,
    creating: bool,
) -> Result<(), CampaignError> {
    let mut errors = FieldErrors::new();
    for (field, value, target) in [
        ("name", &input.name, &mut property.name),
        ("location", &input.location, &mut property.location),
    ] {
        match value {
            Some(v) => {
                if let Some(v) = required_text(&mut errors, field, v, 160) {
                    *target = v;
                }
            }
            None if creating && PropertyInput::REQUIRED_ON_CREATE.contains(&field) => {
                errors.add(field, "is required")
            }
            None => {}
        }
    }
    match &input.property_type {
        Some(kind) => {
            if let Some(kind) = errors.check("property_type", PropertyType::parse(kind)) {
                property.property_type = kind;
            }
        }
        None if creating && PropertyInput::REQUIRED_ON_CREATE.contains(&"property_type") => {
            errors.add("property_type", "is required")
        }
        None => {}
    }
    match &input.price_range {
        Patch::Set(range) => {
            let range = text(&mut errors, "price_range", range, 80).filter(|r| !r.is_empty());
            if let Some(text) = &range {
                match soraaya_domain::BudgetRange::parse(text) {
                    Ok(parsed) => {
                        if input.price_min.is_absent() {
                            property.price_min = parsed.min;
                        }
                        if input.price_max.is_absent() {
                            property.price_max = parsed.max;
                        }
                    }
                    Err(err) => errors.add("price_range", err),
                }
            }
            property.price_range = range;
        }
        Patch::Clear => property.price_range = None,
        Patch::Absent => {}
    }
    for (field, patch, target) in [
        ("price_min", &input.price_min, &mut property.price_min),
        ("price_max", &input.price_max, &mut property.price_max),
    ] {
        match patch {
            Patch::Set(raw) => *target = amount(&mut errors, field, raw),
            Patch::Clear => *target = None,
            Patch::Absent => {}
        }
    }
    if let (Some(min), Some(max)) = (property.price_min, property.price_max)
        && min > max
    {
        errors.add("price_max", "is below price_min");
    }
    if property.price_range.is_none()
        && let Some(bound) = property.price_min.or(property.price_max)
    {
        let range = soraaya_domain::BudgetRange {
            min: property.price_min.or(Some(bound)),
            max: property.price_max.or(Some(bound)),
        };
        property.price_range = Some(range.describe());
    }
    if let Some(amenities) = &input.amenities {
        property.amenities = strings(&mut errors, "amenities", amenities, 80, 50);
    }
    if let Some(specifications) = &input.specifications {
        if specifications.len() > 50 {
            errors.add("specifications", "has more than 50 entries");
        }
        for (key, value) in specifications {
            if key.trim().is_empty() || key.chars().count() > 60 || value.chars().count() > 300 {
                errors.add(
                    format!("specifications.{key}"),
                    "needs a name of 1-60 characters and a value of at most 300",
                );
            }
        }
        property.specifications = specifications.clone();
    }
    if let Some(availability) = &input.availability_status {
        match parse_availability(availability) {
            Some(a) => property.availability_status = a,
            None => errors.add("availability_status", "must be available, reserved or sold"),
        }
    }
    check(errors)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get_property(
    app: &App,
    org: OrgId,
    id: PropertyId,
) -> Result<Property, CampaignError> {
    Records::new(app.store.as_ref())
        .get::<Property>(org, &id.to_string())
        .await?
        .ok_or(CampaignError::NotFound("property"))
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn create_property(
    app: &App,
    org: OrgId,
    input: &PropertyInput,
) -> Result<Property, CampaignError> {
    let now = app.clock.now();
    let mut property = Property {
        id: PropertyId::new(),
        org_id: org,
        name: String::new(),
        property_type: PropertyType::Apartment,
        location: String::new(),
        price_range: None,
        price_min: None,
        price_max: None,
        amenities: Vec::new(),
        specifications: BTreeMap::new(),
        availability_status: Availability::Available,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    apply_property(&mut property, input, true)?;
    Records::new(app.store.as_ref())
        .create(&property, Vec::new())
        .await?;
    Ok(property)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn update_property(
    app: &App,
    org: OrgId,
    id: PropertyId,
    input: &PropertyInput,
    expected: Option<u64>,
) -> Result<Property, CampaignError> {
    Records::new(app.store.as_ref())
        .update(
            org,
            &id.to_string(),
            expected,
            app.clock.as_ref(),
            |before: Property| async move {
                let mut after = before.clone();
                apply_property(&mut after, input, false)?;
                Ok((after != before).then(|| Change::to(after)))
            },
        )
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn delete_property(app: &App, org: OrgId, id: PropertyId) -> Result<(), CampaignError> {
    let property = get_property(app, org, id).await?;
    let users = live_campaigns_using(app, org, |c| c.property_ids.contains(&id)).await?;
    if !users.is_empty() {
        return Err(in_use("property", &users));
    }
    match Records::new(app.store.as_ref())
        .remove(&property, Vec::new())
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(CampaignError::ChangedConcurrently),
        Err(err) => Err(err.into()),
    }
}

/// Property listing filters.
#[derive(Debug, Clone, Default)]
pub struct PropertyFilter {
    pub property_type: Option<PropertyType>,
    /// Part of the location.
    pub location: Option<String>,
    /// Properties whose price range meets this one.
    pub price_min: Option<Inr>,
    pub price_max: Option<Inr>,
    pub availability: Option<Availability>,
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list_properties(
    app: &App,
    org: OrgId,
    filter: &PropertyFilter,
) -> Result<Vec<Property>, CampaignError> {
    let location = filter.location.as_ref().map(|l| l.to_lowercase());
    Ok(Records::new(app.store.as_ref())
        .list::<Property>(org)
        .await?
        .into_iter()
        .filter(|p| filter.property_type.is_none_or(|t| p.property_type == t))
        .filter(|p| {
            location
                .as_ref()
                .is_none_or(|l| p.location.to_lowercase().contains(l.as_str()))
        })
        .filter(|p| {
            filter
                .availability
                .is_none_or(|a| p.availability_status == a)
        })
        .filter(|p| {
            let low = p.price_min.or(p.price_max);
            let high = p.price_max.or(p.price_min);
            match (low, high) {
                (Some(low), Some(high)) => {
                    filter.price_max.is_none_or(|max| low <= max)
                        && filter.price_min.is_none_or(|min| high >= min)
                }
                _ => filter.price_min.is_none() && filter.price_max.is_none(),
            }
        })
        .collect())
}
