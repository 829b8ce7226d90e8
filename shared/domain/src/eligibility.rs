//! Whether a lead may be dialled for a campaign now, later, or not at all:
//! membership, live calls, the do-not-call list, attempts, status, the
//! campaign's dates and the calling hours of the lead's own zone.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{CallingHours, Campaign, Lead, Phone};

/// Why a lead is not dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NotInCampaign,
    InCall,
    AlreadyQueued,
    DoNotCall,
    NoValidPhone,
    AttemptsExhausted,
    WrongStatus,
    NoCallingHours,
    CampaignEnded,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        use SkipReason::*;
        match self {
            NotInCampaign => "not_in_campaign",
            InCall => "in_call",
            AlreadyQueued => "already_queued",
            DoNotCall => "do_not_call",
            NoValidPhone => "no_valid_phone",
            AttemptsExhausted => "attempts_exhausted",
            WrongStatus => "wrong_status",
            NoCallingHours => "no_calling_hours",
            CampaignEnded => "campaign_ended",
        }
    }
}

/// What to do with a lead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    DialNow,
    /// Not yet: at this moment (its next calling hours, or a retry or callback time).
    Defer(Timestamp),
    Skip(SkipReason),
}

/// Decides whether `lead` may be dialled for `campaign` at `now`. A queued
/// lead counts as skipped unless `dialling` (the dialer deciding on it).
pub fn decide(
    lead: &Lead,
    campaign: &Campaign,
    org_zone: &jiff::tz::TimeZone,
    now: Timestamp,
    dialling: bool,
) -> Decision {
    use SkipReason::*;
    if lead.campaign_id != Some(campaign.id) {
        return Decision::Skip(NotInCampaign);
    }
    if lead.live_call.is_some() || lead.status.is_live() {
        return Decision::Skip(InCall);
    }
    if lead.queued.is_some() && !dialling {
        return Decision::Skip(AlreadyQueued);
    }
    if lead.do_not_call {
        return Decision::Skip(DoNotCall);
    }
    if Phone::parse_international(lead.phone_number.as_str()).is_err() {
        return Decision::Skip(NoValidPhone);
    }
    if !lead.status.is_diallable() {
        return Decision::Skip(WrongStatus);
    }
    if lead.call_attempts >= campaign.settings.max_attempts {
        return Decision::Skip(AttemptsExhausted);
    }
    let day_start = |date: jiff::civil::Date| {
        org_zone
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    };
    if let Some(end) = campaign.end_date
        && let Some(after_end) = end.tomorrow().ok().and_then(day_start)
        && now >= after_end
    {
        return Decision::Skip(CampaignEnded);
    }
    let Some(hours) = CallingHours::for_lead(
        &lead.timezone,
        lead.timezone_source,
        lead.phone_number.region(),
        campaign.settings.window,
    ) else {
        return Decision::Skip(NoCallingHours);
    };
    let mut earliest = now;
    if let Some(start) = campaign.start_date.and_then(day_start) {
        earliest = earliest.max(start);
    }
    if let Some(next) = lead.next_call_at {
        earliest = earliest.max(next);
    }
    match hours.next_opening(earliest) {
        Some(at) if at <= now => Decision::DialNow,
        Some(at) => Decision::Defer(at),
        None => Decision::Skip(NoCallingHours),
    }
}
