//! The counters kept on write, in the same transaction as the lead changes
//! that move them, and read back as one typed [`Tally`] per [`Scope`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use soraaya_domain::{CallResult, CampaignId, Lead, LeadStatus, OrgId, Priority};
use soraaya_store::{AttributeValue, Item, Key, Update, UpdateItem, WriteOp};

use soraaya_core::tables::LEADS;

/// The partition of an organisation's counters items (in the leads table).
pub fn stats_pk(org: OrgId) -> String {
    format!("ORG#{org}#STATS")
}

/// What an ended call adds to the counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallTally {
    pub seconds: f64,
    /// US cents.
    pub cost_cents: u64,
}

/// What a counters item counts: the organisation or one campaign, in all or on one day
/// (the organisation's calendar day), or its ended calls by hour of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    All,
    Campaign(CampaignId),
    Day(Date),
    CampaignDay(Date, CampaignId),
    /// Ended and connected calls by weekday and hour, in the organisation's time zone.
    Hours,
    CampaignHours(CampaignId),
}

impl Scope {
    /// The sort key of the counters item.
    pub fn key(&self) -> String {
        match self {
            Scope::All => "ALL".to_owned(),
            Scope::Campaign(c) => format!("CAMPAIGN#{c}"),
            Scope::Day(d) => format!("DAY#{d}"),
            Scope::CampaignDay(d, c) => format!("DAY#{d}#CAMPAIGN#{c}"),
            Scope::Hours => "HOURS".to_owned(),
            Scope::CampaignHours(c) => format!("HOURS#CAMPAIGN#{c}"),
        }
    }

    /// The campaign's hours, or the organisation's.
    pub fn hours_of(campaign: Option<CampaignId>) -> Scope {
        campaign.map_or(Scope::Hours, Scope::CampaignHours)
    }

    /// The campaign's (or the organisation's) scope on one day.
    pub fn day_of(campaign: Option<CampaignId>, day: Date) -> Scope {
        Scope::of(campaign).on(day)
    }

    /// The campaign's scope, or the organisation's.
    pub fn of(campaign: Option<CampaignId>) -> Scope {
        campaign.map_or(Scope::All, Scope::Campaign)
    }

    /// The same scope on one day.
    fn on(self, day: Date) -> Scope {
        match self {
            Scope::All | Scope::Day(_) | Scope::Hours => Scope::Day(day),
            Scope::Campaign(c) | Scope::CampaignDay(_, c) | Scope::CampaignHours(c) => {
                Scope::CampaignDay(day, c)
            }
        }
    }

    /// The organisation's or a campaign's scope the lead is counted in.
    fn holds(self, lead: &Lead) -> bool {
        match self {
            Scope::All => true,
            Scope::Campaign(c) => lead.campaign_id == Some(c),
            _ => false,
        }
    }
}

/// How a lead's source is counted: trimmed, lower case, inner spaces
/// collapsed, at most 40 characters; `unknown` when none is given.
pub fn source_name(source: Option<&str>) -> String {
    let words: Vec<&str> = source.unwrap_or("").split_whitespace().collect();
    if words.is_empty() {
        return "unknown".to_owned();
    }
    words.join(" ").to_lowercase().chars().take(40).collect()
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
/// status-and-priority and budget indexes, counts by priority; 3: counts by
/// source and of leads ever called, for the dashboard). Every
/// write records it on the organisation's counters if absent; see
/// [`crate::reindex`] for leads written before.
pub const INDEX_GENERATION: u64 = 3;

/// The counters' attribute names, shared by the writer and the reader.
pub mod names {
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
    /// Leads called at least once.
    pub const CALLED: &str = "called";
    /// Daily: leads that came into the scope (created or assigned to the campaign).
    pub const ARRIVED: &str = "arrived";
    /// Daily: leads that went out of it (erased or moved to another campaign).
    pub const DEPARTED: &str = "departed";
    /// Daily: leads called for the first time, less those whose only call was taken back.
    pub const NEWLY_CALLED: &str = "newly_called";
    pub const LEFT: &str = "left_";
    /// Leads by source, and qualified leads by source.
    pub const SOURCE: &str = "src_";
    pub const SOURCE_QUALIFIED: &str = "srcq_";
    /// Daily: leads created, by source.
    pub const NEW_FROM: &str = "new_from_";
    /// Hours scopes: ended and connected calls at `{weekday}_{hour}` (Monday 0).
    pub const CALLS_AT: &str = "calls_at_";
    pub const CONNECTED_AT: &str = "connected_at_";
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

    pub fn left(status: LeadStatus) -> String {
        format!("{LEFT}{status}")
    }

    pub fn source(source: &str) -> String {
        format!("{SOURCE}{source}")
    }

    pub fn source_qualified(source: &str) -> String {
        format!("{SOURCE_QUALIFIED}{source}")
    }

    pub fn new_from(source: &str) -> String {
        format!("{NEW_FROM}{source}")
    }

    pub fn calls_at(weekday: u8, hour: u8) -> String {
        format!("{CALLS_AT}{weekday}_{hour}")
    }

    pub fn connected_at(weekday: u8, hour: u8) -> String {
        format!("{CONNECTED_AT}{weekday}_{hour}")
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
    ///
    /// Counts of leads now (by status, priority, source, called) move with
    /// the lead; the day's counts record every move in and out of each
    /// scope and status, so that the counts at the end of any earlier day
    /// follow from today's and the days between.
    pub fn record(
        &mut self,
        before: Option<&Lead>,
        after: Option<&Lead>,
        zone: &TimeZone,
        at: Timestamp,
    ) {
        let moment = zone.to_datetime(at);
        let day = moment.date();
        self.record_calls(before, after, moment);
        let mut scopes = vec![Scope::All];
        for lead in before.iter().chain(after.iter()) {
            if let Some(c) = lead.campaign_id
                && !scopes.contains(&Scope::Campaign(c))
            {
                scopes.push(Scope::Campaign(c));
            }
        }
        for scope in scopes {
            let was = before.filter(|l| scope.holds(l));
            let is = after.filter(|l| scope.holds(l));
            for (lead, delta) in [(was, -1), (is, 1)] {
                if let Some(lead) = lead {
                    self.count_lead(scope, lead, delta);
                }
            }
            let daily = scope.on(day);
            match (was, is) {
                (None, Some(lead)) => {
                    self.add(daily, names::ARRIVED, 1);
                    if before.is_none() {
                        self.add(daily, names::CREATED, 1);
                        let source = source_name(lead.lead_source.as_deref());
                        self.add(daily, names::new_from(&source), 1);
                    }
                }
                (Some(_), None) => self.add(daily, names::DEPARTED, 1),
                _ => {}
            }
            let status = |lead: Option<&Lead>| lead.map(|l| l.status);
            if status(was) != status(is) {
                if let Some(s) = status(is) {
                    self.add(daily, names::entered(s), 1);
                }
                if let Some(s) = status(was) {
                    self.add(daily, names::left(s), 1);
                }
            }
            let called = |lead: Option<&Lead>| lead.is_some_and(|l| l.call_attempts > 0);
            match (called(was), called(is)) {
                (false, true) => self.add(daily, names::NEWLY_CALLED, 1),
                (true, false) => self.add(daily, names::NEWLY_CALLED, -1),
                _ => {}
            }
        }
    }

    /// Counts a lead into (`delta` 1) or out of (-1) a scope's counts of leads now.
    fn count_lead(&mut self, scope: Scope, lead: &Lead, delta: i64) {
        self.add(scope, names::TOTAL, delta);
        self.add(scope, names::status(lead.status), delta);
        self.add(
            scope,
            names::status_priority(lead.status, lead.priority),
            delta,
        );
        let source = source_name(lead.lead_source.as_deref());
        self.add(scope, names::source(&source), delta);
        if lead.status == LeadStatus::Qualified {
            self.add(scope, names::source_qualified(&source), delta);
        }
        if lead.call_attempts > 0 {
            self.add(scope, names::CALLED, delta);
        }
    }

    /// Counts calls and queued dials, from the lead's calling state.
    fn record_calls(
        &mut self,
        before: Option<&Lead>,
        after: Option<&Lead>,
        moment: jiff::civil::DateTime,
    ) {
        let day = moment.date();
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
                let weekday = moment.weekday().to_monday_zero_offset().unsigned_abs();
                let hour = moment.hour().unsigned_abs();
                for scope in [Scope::Hours, Scope::CampaignHours(campaign)] {
                    self.add(scope, names::calls_at(weekday, hour), 1);
                    if result == CallResult::Connected.as_str() {
                        self.add(scope, names::connected_at(weekday, hour), 1);
                    }
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
    /// Leads called at least once.
    pub called: u64,
    /// Leads that came into the scope, and that went out of it (daily scopes).
    pub arrived: u64,
    pub departed: u64,
    /// Leads called for the first time (daily scopes).
    pub newly_called: u64,
    by_status: BTreeMap<LeadStatus, u64>,
    by_status_priority: BTreeMap<(LeadStatus, Priority), u64>,
    entered: BTreeMap<LeadStatus, u64>,
    left: BTreeMap<LeadStatus, u64>,
    calls_by_result: BTreeMap<String, u64>,
    by_source: BTreeMap<String, u64>,
    qualified_by_source: BTreeMap<String, u64>,
    new_from: BTreeMap<String, u64>,
    calls_at: BTreeMap<(u8, u8), u64>,
    connected_at: BTreeMap<(u8, u8), u64>,
}

/// `{weekday}_{hour}` as written by [`names::calls_at`].
fn weekday_hour(text: &str) -> Option<(u8, u8)> {
    let (weekday, hour) = text.split_once('_')?;
    let (weekday, hour) = (weekday.parse().ok()?, hour.parse().ok()?);
    (weekday < 7 && hour < 24).then_some((weekday, hour))
}

fn merge_into<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (key, count) in from {
        *into.entry(key.clone()).or_default() += count;
    }
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
                names::CALLED => tally.called = count,
                names::ARRIVED => tally.arrived = count,
                names::DEPARTED => tally.departed = count,
                names::NEWLY_CALLED => tally.newly_called = count,
                _ => {
                    let text = |prefix: &str| name.strip_prefix(prefix).map(str::to_owned);
                    let at = |prefix: &str| name.strip_prefix(prefix).and_then(weekday_hour);
                    if let Some(s) = status(names::STATUS) {
                        tally.by_status.insert(s, count);
                    } else if let Some(s) = status(names::ENTERED) {
                        tally.entered.insert(s, count);
                    } else if let Some(s) = status(names::LEFT) {
                        tally.left.insert(s, count);
                    } else if let Some(source) = text(names::SOURCE) {
                        tally.by_source.insert(source, count);
                    } else if let Some(source) = text(names::SOURCE_QUALIFIED) {
                        tally.qualified_by_source.insert(source, count);
                    } else if let Some(source) = text(names::NEW_FROM) {
                        tally.new_from.insert(source, count);
                    } else if let Some(slot) = at(names::CALLS_AT) {
                        tally.calls_at.insert(slot, count);
                    } else if let Some(slot) = at(names::CONNECTED_AT) {
                        tally.connected_at.insert(slot, count);
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

    /// Leads that left a status (daily scopes).
    pub fn left(&self, status: LeadStatus) -> u64 {
        self.left.get(&status).copied().unwrap_or(0)
    }

    /// Leads now, by source: `(source, leads, qualified)`, sources without leads left out.
    pub fn sources(&self) -> impl Iterator<Item = (&str, u64, u64)> {
        self.by_source
            .iter()
            .filter(|(_, leads)| **leads > 0)
            .map(|(source, leads)| {
                let qualified = self.qualified_by_source.get(source).copied().unwrap_or(0);
                (source.as_str(), *leads, qualified)
            })
    }

    /// Leads created, by source (daily scopes).
    pub fn created_by_source(&self) -> &BTreeMap<String, u64> {
        &self.new_from
    }

    /// Calls that ended, and that connected, on a weekday (Monday 0) at an hour (hours scopes).
    pub fn calls_at(&self, weekday: u8, hour: u8) -> (u64, u64) {
        let get = |map: &BTreeMap<(u8, u8), u64>| map.get(&(weekday, hour)).copied().unwrap_or(0);
        (get(&self.calls_at), get(&self.connected_at))
    }

    /// Adds another item's counts to these: the sum of days is the period's.
    pub fn merge(&mut self, other: &Tally) {
        self.total += other.total;
        self.queued += other.queued;
        self.created += other.created;
        self.calls_placed += other.calls_placed;
        self.calls_ended += other.calls_ended;
        self.call_seconds += other.call_seconds;
        self.call_cost_cents += other.call_cost_cents;
        self.called += other.called;
        self.arrived += other.arrived;
        self.departed += other.departed;
        self.newly_called += other.newly_called;
        merge_into(&mut self.by_status, &other.by_status);
        merge_into(&mut self.by_status_priority, &other.by_status_priority);
        merge_into(&mut self.entered, &other.entered);
        merge_into(&mut self.left, &other.left);
        merge_into(&mut self.calls_by_result, &other.calls_by_result);
        merge_into(&mut self.by_source, &other.by_source);
        merge_into(&mut self.qualified_by_source, &other.qualified_by_source);
        merge_into(&mut self.new_from, &other.new_from);
        merge_into(&mut self.calls_at, &other.calls_at);
        merge_into(&mut self.connected_at, &other.connected_at);
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
