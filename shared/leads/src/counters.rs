//! The counters kept on write, in the same transaction as the lead changes
//! that move them, and read back as one typed [`Tally`] per [`Scope`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use soraaya_domain::{CallResult, CampaignId, Lead, LeadStatus, OrgId, Priority};
use soraaya_store::{AttributeValue, Item, Key, Update, UpdateItem, WriteOp};

use soraaya_core::tables::LEADS;

use crate::record::stats_pk;
use crate::repo::CallTally;

/// What a counters item counts: the organisation or one campaign, in all or on one day
/// (the organisation's calendar day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    All,
    Campaign(CampaignId),
    Day(Date),
    CampaignDay(Date, CampaignId),
}

impl Scope {
    /// The sort key of the counters item.
    pub fn key(&self) -> String {
        match self {
            Scope::All => "ALL".to_owned(),
            Scope::Campaign(c) => format!("CAMPAIGN#{c}"),
            Scope::Day(d) => format!("DAY#{d}"),
            Scope::CampaignDay(d, c) => format!("DAY#{d}#CAMPAIGN#{c}"),
        }
    }

    /// The campaign's scope, or the organisation's.
    pub fn of(campaign: Option<CampaignId>) -> Scope {
        campaign.map_or(Scope::All, Scope::Campaign)
    }

    /// The same scope on one day.
    fn on(self, day: Date) -> Scope {
        match self {
            Scope::All | Scope::Day(_) => Scope::Day(day),
            Scope::Campaign(c) | Scope::CampaignDay(_, c) => Scope::CampaignDay(day, c),
        }
    }
}

/// Where calls are counted: the organisation and the campaign, in all and by day.
fn call_scopes(campaign: CampaignId, day: Date) -> [Scope; 4] {
    [
        Scope::All,
        Scope::Campaign(campaign),
        Scope::Day(day),
        Scope::CampaignDay(day, campaign),
    ]
}

/// The generation of the indexes lead writes keep (2: search words, the
/// status-and-priority and budget indexes, counts by priority). Every
/// write records it on the organisation's counters if absent; see
/// [`crate::reindex`] for leads written before.
pub const INDEX_GENERATION: u64 = 2;

/// The counters' attribute names, shared by the writer and the reader.
pub(crate) mod names {
    use soraaya_domain::{LeadStatus, Priority};

    pub const TOTAL: &str = "total";
    pub const QUEUED: &str = "queued";
    pub const CREATED: &str = "created";
    pub const CALLS_PLACED: &str = "calls_placed";
    pub const CALLS_ENDED: &str = "calls_ended";
    pub const CALL_SECONDS: &str = "call_seconds";
    pub const CALL_COST_CENTS: &str = "call_cost_cents";
    pub const STATUS: &str = "status_";
    pub const ENTERED: &str = "entered_";
    pub const CALLS: &str = "calls_";
    pub const PRIORITY: &str = "pri_";
    /// Not a count: the index generation of the organisation's leads.
    pub const INDEX_GENERATION: &str = "index_generation";

    pub fn status(status: LeadStatus) -> String {
        format!("{STATUS}{status}")
    }

    pub fn entered(status: LeadStatus) -> String {
        format!("{ENTERED}{status}")
    }

    /// Leads in a status with a priority: `pri_{priority}_{status}`.
    pub fn status_priority(status: LeadStatus, priority: Priority) -> String {
        format!("{PRIORITY}{}_{status}", priority.as_str())
    }

    pub fn calls(result: &str) -> String {
        format!("{CALLS}{result}")
    }
}

/// Counter changes, merged per counter item, applied in the same transaction
/// as the lead changes that caused them.
#[derive(Debug, Default)]
pub struct Counters {
    by_item: BTreeMap<Scope, BTreeMap<String, i64>>,
}

impl Counters {
    fn add(&mut self, scope: Scope, counter: impl Into<String>, delta: i64) {
        if delta != 0 {
            *self
                .by_item
                .entry(scope)
                .or_default()
                .entry(counter.into())
                .or_default() += delta;
        }
    }

    /// Counts a lead change: `None` before means created, `None` after means erased.
    pub fn record(
        &mut self,
        before: Option<&Lead>,
        after: Option<&Lead>,
        zone: &TimeZone,
        at: Timestamp,
    ) {
        let day = zone.to_datetime(at).date();
        self.record_calls(before, after, day);
        let scopes = |lead: &Lead| {
            let mut scopes = vec![Scope::All];
            scopes.extend(lead.campaign_id.map(Scope::Campaign));
            scopes
        };
        if let Some(lead) = before {
            for scope in scopes(lead) {
                self.add(scope, names::TOTAL, -1);
                self.add(scope, names::status(lead.status), -1);
                self.add(
                    scope,
                    names::status_priority(lead.status, lead.priority),
                    -1,
                );
            }
        }
        if let Some(lead) = after {
            for scope in scopes(lead) {
                self.add(scope, names::TOTAL, 1);
                self.add(scope, names::status(lead.status), 1);
                self.add(scope, names::status_priority(lead.status, lead.priority), 1);
                let daily = scope.on(day);
                if before.is_none() {
                    self.add(daily, names::CREATED, 1);
                }
                if before.is_none_or(|b| b.status != lead.status) {
                    self.add(daily, names::entered(lead.status), 1);
                }
            }
        }
    }

    /// Counts calls and queued dials, from the lead's calling state.
    fn record_calls(&mut self, before: Option<&Lead>, after: Option<&Lead>, day: Date) {
        let queued =
            |lead: Option<&Lead>| lead.and_then(|l| l.queued.as_ref().map(|q| q.campaign_id));
        let live =
            |lead: Option<&Lead>| lead.and_then(|l| l.live_call.as_ref().map(|c| c.campaign_id));
        if queued(before) != queued(after) {
            for (campaign, delta) in [(queued(before), -1), (queued(after), 1)] {
                if let Some(campaign) = campaign {
                    self.add(Scope::All, names::QUEUED, delta);
                    self.add(Scope::Campaign(campaign), names::QUEUED, delta);
                }
            }
        }
        match (live(before), live(after)) {
            (None, Some(campaign)) => {
                for scope in call_scopes(campaign, day) {
                    self.add(scope, names::CALLS_PLACED, 1);
                }
            }
            // The attempt was taken back: the call was never placed.
            (Some(campaign), None)
                if after
                    .is_some_and(|a| before.is_some_and(|b| a.call_attempts < b.call_attempts)) =>
            {
                for scope in call_scopes(campaign, day) {
                    self.add(scope, names::CALLS_PLACED, -1);
                }
            }
            (Some(campaign), None) => {
                let result = after
                    .and_then(|l| l.last_call_result.clone())
                    .unwrap_or_else(|| "ended".into());
                for scope in call_scopes(campaign, day) {
                    self.add(scope, names::CALLS_ENDED, 1);
                    self.add(scope, names::calls(&result), 1);
                }
            }
            _ => {}
        }
    }

    /// Adds an ended call's length and cost.
    pub fn record_call(
        &mut self,
        campaign: CampaignId,
        tally: CallTally,
        zone: &TimeZone,
        at: Timestamp,
    ) {
        let day = zone.to_datetime(at).date();
        let seconds = tally.seconds.max(0.0).round() as i64;
        let cents = i64::try_from(tally.cost_cents).unwrap_or(i64::MAX);
        for scope in call_scopes(campaign, day) {
            self.add(scope, names::CALL_SECONDS, seconds);
            self.add(scope, names::CALL_COST_CENTS, cents);
        }
    }

    /// Net-zero counters are dropped; items left without a change too.
    pub fn into_ops(self, org: OrgId) -> Vec<WriteOp> {
        self.by_item
            .into_iter()
            .filter_map(|(scope, counters)| {
                let mut update = counters
                    .into_iter()
                    .filter(|(_, delta)| *delta != 0)
                    .fold(Update::new(), |update, (name, delta)| {
                        update.add(&name, delta)
                    });
                if scope == Scope::All && !update.is_empty() {
                    update = update.set_if_absent(names::INDEX_GENERATION, INDEX_GENERATION);
                }
                (!update.is_empty()).then(|| {
                    UpdateItem::new(&LEADS, Key::new(stats_pk(org), scope.key()), update).into()
                })
            })
            .collect()
    }

    pub fn item_count(&self) -> usize {
        self.by_item.len()
    }
}

/// One counters item read back. A counter never written reads 0; counts
/// that can only be positive are never reported below 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Leads in the scope.
    pub total: u64,
    /// Leads waiting for the dialer.
    pub queued: u64,
    /// Leads created (daily scopes).
    pub created: u64,
    pub calls_placed: u64,
    /// Calls that ended, whatever the result.
    pub calls_ended: u64,
    pub call_seconds: u64,
    /// US cents.
    pub call_cost_cents: u64,
    by_status: BTreeMap<LeadStatus, u64>,
    by_status_priority: BTreeMap<(LeadStatus, Priority), u64>,
    entered: BTreeMap<LeadStatus, u64>,
    calls_by_result: BTreeMap<String, u64>,
}

impl Tally {
    /// Reads every counter of an item; attributes that are no counter are ignored.
    pub fn from_item(item: &Item) -> Tally {
        let mut tally = Tally::default();
        for (name, value) in item.iter() {
            let AttributeValue::N(n) = value else {
                continue;
            };
            let count = n.parse::<i64>().unwrap_or(0).max(0).unsigned_abs();
            let status = |prefix: &str| name.strip_prefix(prefix).and_then(LeadStatus::parse);
            match name.as_str() {
                names::TOTAL => tally.total = count,
                names::QUEUED => tally.queued = count,
                names::CREATED => tally.created = count,
                names::CALLS_PLACED => tally.calls_placed = count,
                names::CALLS_ENDED => tally.calls_ended = count,
                names::CALL_SECONDS => tally.call_seconds = count,
                names::CALL_COST_CENTS => tally.call_cost_cents = count,
                _ => {
                    if let Some(s) = status(names::STATUS) {
                        tally.by_status.insert(s, count);
                    } else if let Some(s) = status(names::ENTERED) {
                        tally.entered.insert(s, count);
                    } else if let Some((priority, status)) = name
                        .strip_prefix(names::PRIORITY)
                        .and_then(|rest| rest.split_once('_'))
                    {
                        if let (Ok(priority), Some(status)) =
                            (Priority::parse(priority), LeadStatus::parse(status))
                        {
                            tally.by_status_priority.insert((status, priority), count);
                        }
                    } else if let Some(result) = name.strip_prefix(names::CALLS) {
                        tally.calls_by_result.insert(result.to_owned(), count);
                    }
                }
            }
        }
        tally
    }

    /// Leads now in a status.
    pub fn status(&self, status: LeadStatus) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Leads in a status with one of the priorities, where the counters
    /// know it: `None` when the per-priority counts do not add up to the
    /// status's (counters kept before they were counted by priority).
    pub fn status_priorities(&self, status: LeadStatus, priorities: &[Priority]) -> Option<u64> {
        let count = |p: &Priority| {
            self.by_status_priority
                .get(&(status, *p))
                .copied()
                .unwrap_or(0)
        };
        let all: u64 = Priority::ALL.iter().map(count).sum();
        (all == self.status(status)).then(|| priorities.iter().map(count).sum())
    }

    /// Leads that entered a status (daily scopes).
    pub fn entered(&self, status: LeadStatus) -> u64 {
        self.entered.get(&status).copied().unwrap_or(0)
    }

    /// Ended calls with a result.
    pub fn calls(&self, result: CallResult) -> u64 {
        self.calls_by_result
            .get(result.as_str())
            .copied()
            .unwrap_or(0)
    }

    /// Leads in the scope, or in one status.
    pub fn leads(&self, status: Option<LeadStatus>) -> u64 {
        status.map_or(self.total, |s| self.status(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_typed() {
        let item = Item::from(
            [
                ("pk", AttributeValue::S("ORG#x#STATS".into())),
                ("total", AttributeValue::N("7".into())),
                ("queued", AttributeValue::N("-1".into())),
                ("status_qualified", AttributeValue::N("3".into())),
                ("entered_follow_up", AttributeValue::N("2".into())),
                ("calls_no_answer", AttributeValue::N("4".into())),
                ("calls_placed", AttributeValue::N("9".into())),
                ("pri_high_qualified", AttributeValue::N("2".into())),
                ("pri_low_qualified", AttributeValue::N("1".into())),
                ("pri_high_follow_up", AttributeValue::N("1".into())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<std::collections::HashMap<_, _>>(),
        );
        let tally = Tally::from_item(&item);
        assert_eq!(tally.total, 7);
        assert_eq!(tally.queued, 0, "a count below zero reads as none");
        assert_eq!(tally.status(LeadStatus::Qualified), 3);
        assert_eq!(tally.status(LeadStatus::ToCall), 0);
        assert_eq!(tally.entered(LeadStatus::FollowUp), 2);
        assert_eq!(tally.calls(CallResult::NoAnswer), 4);
        assert_eq!(tally.calls_placed, 9);
        assert_eq!(tally.leads(Some(LeadStatus::Qualified)), 3);
        assert_eq!(tally.leads(None), 7);
        assert_eq!(
            tally.status_priorities(LeadStatus::Qualified, &[Priority::High]),
            Some(2)
        );
        assert_eq!(
            tally.status_priorities(LeadStatus::Qualified, &Priority::ALL),
            Some(3)
        );
        assert_eq!(
            tally.status_priorities(LeadStatus::FollowUp, &[Priority::High]),
            None,
            "counts by priority that do not add up to the status's are not trusted"
        );
    }

    #[test]
    fn scopes_name_their_items() {
        let c = CampaignId::new();
        let day = Date::constant(2026, 3, 29);
        assert_eq!(Scope::All.key(), "ALL");
        assert_eq!(Scope::Campaign(c).key(), format!("CAMPAIGN#{c}"));
        assert_eq!(Scope::All.on(day).key(), "DAY#2026-03-29");
        assert_eq!(
            Scope::Campaign(c).on(day).key(),
            format!("DAY#2026-03-29#CAMPAIGN#{c}")
        );
    }
}
