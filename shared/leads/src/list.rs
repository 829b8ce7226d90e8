//! Listing leads: filters, search, sort, pages and totals, planned onto the
//! narrowest index. Totals come from the counters when the filters are ones
//! the counters keep (none, one status, a campaign, or both); otherwise the
//! matching leads are counted.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_core::validation::FieldErrors;
use soraaya_domain::moment::{parse_moment, parse_until};
use soraaya_domain::{CampaignId, Lead, LeadStatus, OrgId, Organisation, Priority, UserId};
use soraaya_store::{
    AttributeValue, Condition, Cursor, Item, Key, Query, SortKeyCondition, StoreError,
};
use utoipa::ToSchema;

use crate::counters::{Scope, Tally};
use crate::record::{
    campaign_partition, lead_key, list_partition, status_partition, status_priority_partition,
};
use crate::repo::LeadsRepo;
use crate::words::{self, query_words, search_words};
use soraaya_core::keys::sortable;
use soraaya_core::renderings::{Rendered, Renderings};
use soraaya_core::tables::LEADS;

/// Most matches a page may lie behind when sorting by anything but creation time.
pub const MAX_SORTED_WINDOW: u32 = 10_000;

/// How many items each store read evaluates while scanning.
const SCAN_BATCH: u32 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    ContactPerson,
    Priority,
    QualificationScore,
    Budget,
    Status,
}

impl SortField {
    /// The names [`SortField::parse`] reads (besides a few aliases).
    pub const NAMES: &'static [&'static str] = &[
        "created_at",
        "updated_at",
        "contact_person",
        "priority",
        "qualification_score",
        "budget",
        "status",
    ];

    pub fn parse(text: &str) -> Option<SortField> {
        Some(match text {
            "created_at" => SortField::CreatedAt,
            "updated_at" => SortField::UpdatedAt,
            "contact_person" | "name" => SortField::ContactPerson,
            "priority" => SortField::Priority,
            "qualification_score" | "score" => SortField::QualificationScore,
            "budget" | "budget_range_max" => SortField::Budget,
            "status" => SortField::Status,
            _ => return None,
        })
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct LeadQuery {
    pub statuses: Vec<LeadStatus>,
    pub campaign_id: Option<CampaignId>,
    pub priorities: Vec<Priority>,
    pub search: Option<String>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub assigned_agent_id: Option<UserId>,
    pub do_not_call: Option<bool>,
    pub tag: Option<String>,
    pub sort: SortField,
    pub descending: bool,
    pub page: u32,
    pub limit: u32,
}

impl Default for LeadQuery {
    fn default() -> Self {
        LeadQuery {
            statuses: Vec::new(),
            campaign_id: None,
            priorities: Vec::new(),
            search: None,
            created_from: None,
            created_to: None,
            assigned_agent_id: None,
            do_not_call: None,
            tag: None,
            sort: SortField::CreatedAt,
            descending: true,
            page: 1,
            limit: 50,
        }
    }
}

/// The filters of a listing as a client writes them (the query parameters
/// of `GET /api/v1/leads`; the `filter` of a bulk job or an export).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LeadFilter {
    /// One status or several, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// `high`, `medium`, `low`, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Part of the name, phone, email, property or location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Created on or after (date or date-time; dates in the organisation's zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Created on or before (a date includes the whole day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub do_not_call: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

fn comma_list(text: &Option<String>) -> impl Iterator<Item = &str> {
    text.as_deref()
        .into_iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl LeadFilter {
    /// The query these filters make (sorted by creation, first page), with
    /// what does not read in `errors`, field by field.
    pub fn parse(&self, organisation: &Organisation, errors: &mut FieldErrors) -> LeadQuery {
        let zone = &organisation.time_zone;
        let mut query = LeadQuery::default();
        for status in comma_list(&self.status) {
            match LeadStatus::parse(status) {
                Some(status) => query.statuses.push(status),
                None => errors.add("status", format!("{status:?} is not a lead status")),
            }
        }
        for priority in comma_list(&self.priority) {
            if let Some(priority) = errors.check("priority", Priority::parse(priority)) {
                query.priorities.push(priority);
            }
        }
        if let Some(id) = &self.campaign_id {
            query.campaign_id = errors.check(
                "campaign_id",
                CampaignId::parse(id).map_err(|_| "is not a campaign id"),
            );
        }
        if let Some(id) = &self.assigned_agent_id {
            query.assigned_agent_id = errors.check(
                "assigned_agent_id",
                UserId::parse(id).map_err(|_| "is not a user id"),
            );
        }
        query.search = self.search.clone().filter(|s| !s.trim().is_empty());
        if query
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > 100)
        {
            errors.add("search", "is longer than 100 characters");
        }
        query.tag = self.tag.clone().filter(|t| !t.trim().is_empty());
        query.do_not_call = self.do_not_call;
        if let Some(from) = &self.created_from {
            query.created_from = errors.check("created_from", parse_moment(from, zone));
        }
        if let Some(to) = &self.created_to {
            query.created_to = errors.check("created_to", parse_until(to, zone));
        }
        if let (Some(from), Some(to)) = (query.created_from, query.created_to)
            && from > to
        {
            errors.add("created_to", "is before created_from");
        }
        query
    }
}

/// One page of leads.
// Its leads are as the API's JSON, rendered or kept by [`Renderings`].
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadPage {
    #[schema(value_type = Vec<Lead>)]
    pub items: Vec<Rendered>,
    /// Leads matching the filters, on every page.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub pages: u64,
}

/// Where a listing's total is counted on write: a scope, and the statuses
/// and priorities it covers (none: all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counted {
    scope: Scope,
    statuses: Vec<LeadStatus>,
    priorities: Vec<Priority>,
}

impl Counted {
    /// The total, where the counters know it.
    fn total(&self, tally: &Tally) -> Option<u64> {
        match (self.statuses.as_slice(), self.priorities.as_slice()) {
            ([], []) => Some(tally.total),
            (statuses, []) => Some(statuses.iter().map(|s| tally.status(*s)).sum()),
            (statuses, priorities) => {
                let statuses = if statuses.is_empty() {
                    &LeadStatus::ALL[..]
                } else {
                    statuses
                };
                statuses
                    .iter()
                    .map(|s| tally.status_priorities(*s, priorities))
                    .sum()
            }
        }
    }
}

/// How a listing reads: one query per partition of one index (their results
/// merged in the index's order), what the store filters, and where the
/// total can be read instead of counted.
pub struct Plan {
    pub queries: Vec<Query>,
    /// The index's sort-key attribute: what partitions merge by.
    order: &'static str,
    /// Whether the index's order is the listing's (else matches are ranked).
    index_ordered: bool,
    counted_total: Option<Counted>,
}

fn distinct<T: PartialEq + Copy>(values: &[T]) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(values.len());
    for value in values {
        if !kept.contains(value) {
            kept.push(*value);
        }
    }
    kept
}

impl LeadQuery {
    pub fn plan(&self, org: OrgId) -> Plan {
        let statuses = distinct(&self.statuses);
        let priorities = distinct(&self.priorities);
        let some_statuses = || {
            if statuses.is_empty() {
                LeadStatus::ALL.to_vec()
            } else {
                statuses.clone()
            }
        };
        let created_range = self.created_from.is_some() || self.created_to.is_some();
        let by_budget =
            self.sort == SortField::Budget && self.campaign_id.is_none() && !created_range;
        // (index, partitions, whether they cover the statuses, and the priorities)
        let (index, partitions, status_covered, priority_covered) =
            match (self.campaign_id, statuses.is_empty(), priorities.is_empty()) {
                (Some(campaign), _, _) => (
                    "by_campaign",
                    vec![campaign_partition(org, campaign)],
                    false,
                    false,
                ),
                (None, _, _) if by_budget => (
                    "by_status_budget",
                    some_statuses()
                        .into_iter()
                        .map(|s| status_partition(org, s))
                        .collect(),
                    true,
                    false,
                ),
                (None, _, false) => (
                    "by_status_priority",
                    some_statuses()
                        .into_iter()
                        .flat_map(|s| {
                            priorities
                                .iter()
                                .map(move |p| status_priority_partition(org, s, *p))
                        })
                        .collect(),
                    true,
                    true,
                ),
                (None, false, true) => (
                    "by_status",
                    statuses.iter().map(|s| status_partition(org, *s)).collect(),
                    true,
                    false,
                ),
                (None, true, true) => ("by_created", vec![list_partition(org)], false, false),
            };
        let order = LEADS.index(index).map_or("sk", |i| i.sk);
        let index_ordered = self.sort == SortField::CreatedAt || by_budget;

        // Listing sort keys are "{created}#{id}"; '~' sorts after '#'.
        let upper = |at: Timestamp| format!("{}~", sortable(at));
        let range = match (self.created_from, self.created_to) {
            (Some(from), Some(to)) => Some(SortKeyCondition::Between(sortable(from), upper(to))),
            (Some(from), None) => Some(SortKeyCondition::Ge(sortable(from))),
            (None, Some(to)) => Some(SortKeyCondition::Le(upper(to))),
            (None, None) => None,
        };
        let mut filters = Vec::new();
        if !status_covered && !statuses.is_empty() {
            filters.push(Condition::is_in(
                "status",
                statuses.iter().map(|s| s.as_str()),
            ));
        }
        if !priority_covered && !priorities.is_empty() {
            filters.push(Condition::is_in(
                "priority",
                priorities.iter().map(|p| p.as_str()),
            ));
        }
        if let Some(agent) = self.assigned_agent_id {
            filters.push(Condition::eq("assigned_agent_id", agent.to_string()));
        }
        if let Some(flag) = self.do_not_call {
            filters.push(Condition::eq("do_not_call", flag));
        }
        if let Some(tag) = &self.tag {
            filters.push(Condition::contains("tags", tag.trim().to_lowercase()));
        }
        let unfiltered = filters.is_empty() && range.is_none();
        let filter = filters.into_iter().reduce(Condition::and);
        let forward = !self.descending || !index_ordered;
        let queries = partitions
            .into_iter()
            .map(|partition| {
                let mut query = Query::new(&LEADS, partition).index(index);
                query.sort = range.clone();
                query.filter = filter.clone();
                query.forward = forward;
                query
            })
            .collect();
        let counted_total = unfiltered.then(|| Counted {
            scope: Scope::of(self.campaign_id),
            statuses: if status_covered {
                statuses.clone()
            } else {
                Vec::new()
            },
            priorities: if priority_covered {
                priorities.clone()
            } else {
                Vec::new()
            },
        });
        Plan {
            queries,
            order,
            index_ordered,
            counted_total,
        }
    }

    /// Whether a lead passes the filters (search aside), as the store's
    /// filters of [`LeadQuery::plan`] judge it.
    fn admits(&self, lead: &Lead) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&lead.status))
            && self.campaign_id.is_none_or(|c| lead.campaign_id == Some(c))
            && (self.priorities.is_empty() || self.priorities.contains(&lead.priority))
            && self
                .assigned_agent_id
                .is_none_or(|a| lead.assigned_agent_id == Some(a))
            && self.do_not_call.is_none_or(|d| lead.do_not_call == d)
            && self.tag.as_deref().is_none_or(|tag| {
                let tag = tag.trim().to_lowercase();
                lead.tags.as_slice().contains(&tag)
            })
            && self.created_from.is_none_or(|from| lead.created_at >= from)
            && self.created_to.is_none_or(|to| lead.created_at <= to)
    }

    /// The page's place among the matches: how many come before it, and
    /// how many it shows at most.
    fn window(&self) -> (u64, u64) {
        let take = u64::from(self.limit);
        (u64::from(self.page.saturating_sub(1)) * take, take)
    }

    /// Whether the listing is a search (it has words to look for).
    pub fn searches(&self) -> bool {
        self.search
            .as_deref()
            .is_some_and(|s| !query_words(s).is_empty())
    }

    /// Whether anything but the search narrows the listing.
    fn filters_besides_search(&self) -> bool {
        !self.statuses.is_empty()
            || self.campaign_id.is_some()
            || !self.priorities.is_empty()
            || self.assigned_agent_id.is_some()
            || self.do_not_call.is_some()
            || self.tag.is_some()
            || self.created_from.is_some()
            || self.created_to.is_some()
    }
}

/// A match with the value it sorts by, for ranking matches.
/// Only its key and sort values are read; the page's leads are fetched after.
struct Ranked {
    key: Key,
    sort: SortKey,
    created_at: Timestamp,
    id: String,
    descending: bool,
}

#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Text(String),
    Number(f64),
    Time(Timestamp),
}

/// Attributes a sort reads.
fn sort_attributes(field: SortField) -> &'static [&'static str] {
    match field {
        SortField::CreatedAt => &[],
        SortField::UpdatedAt => &["updated_at"],
        SortField::ContactPerson => &["contact_person"],
        SortField::Priority => &["priority"],
        SortField::QualificationScore => &["qualification_score"],
        SortField::Budget => &["budget_range_max", "budget_range_min"],
        SortField::Status => &["status"],
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

fn number(item: &Item, name: &str) -> Option<f64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn time(item: &Item, name: &str) -> Timestamp {
    text(item, name)
        .and_then(|t| t.parse().ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Where a lead without the value sorts: first ascending, last descending.
const NO_NUMBER: f64 = -1.0;

impl SortKey {
    /// From a listing index entry.
    fn of_item(field: SortField, item: &Item) -> SortKey {
        match field {
            SortField::CreatedAt => SortKey::Time(time(item, "created_at")),
            SortField::UpdatedAt => SortKey::Time(time(item, "updated_at")),
            SortField::ContactPerson => SortKey::Text(
                text(item, "contact_person")
                    .unwrap_or_default()
                    .to_lowercase(),
            ),
            SortField::Priority => SortKey::Number(
                text(item, "priority")
                    .and_then(|p| Priority::parse(p).ok())
                    .map_or(9.0, |p| f64::from(p.rank())),
            ),
            SortField::QualificationScore => {
                SortKey::Number(number(item, "qualification_score").unwrap_or(NO_NUMBER))
            }
            SortField::Budget => SortKey::Number(
                number(item, "budget_range_max")
                    .or_else(|| number(item, "budget_range_min"))
                    .unwrap_or(NO_NUMBER),
            ),
            SortField::Status => SortKey::Text(text(item, "status").unwrap_or_default().to_owned()),
        }
    }

    /// From the lead itself.
    fn of_lead(field: SortField, lead: &Lead) -> SortKey {
        match field {
            SortField::CreatedAt => SortKey::Time(lead.created_at),
            SortField::UpdatedAt => SortKey::Time(lead.updated_at),
            SortField::ContactPerson => SortKey::Text(lead.contact_person.as_str().to_lowercase()),
            SortField::Priority => SortKey::Number(f64::from(lead.priority.rank())),
            SortField::QualificationScore => {
                SortKey::Number(lead.qualification_score.map_or(NO_NUMBER, f64::from))
            }
            SortField::Budget => SortKey::Number(
                lead.budget_range_max
                    .or(lead.budget_range_min)
                    .map_or(NO_NUMBER, |b| b.as_rupees() as f64),
            ),
            SortField::Status => SortKey::Text(lead.status.as_str().to_owned()),
        }
    }
}

impl Ranked {
    fn from_item(item: &Item, field: SortField, descending: bool) -> Result<Self, StoreError> {
        Ok(Ranked {
            key: Key::of(item)?,
            sort: SortKey::of_item(field, item),
            created_at: time(item, "created_at"),
            id: text(item, "id").unwrap_or_default().to_owned(),
            descending,
        })
    }

    fn from_lead(lead: &Lead, field: SortField, descending: bool) -> Self {
        Ranked {
            key: lead_key(lead.org_id, lead.id),
            sort: SortKey::of_lead(field, lead),
            created_at: lead.created_at,
            id: lead.id.to_string(),
            descending,
        }
    }

    /// Order of the results; ties broken by creation, then id, in the same
    /// direction (as the indexes sorted by a value order them).
    fn result_order(&self, other: &Self) -> Ordering {
        let order = self
            .sort
            .partial_cmp(&other.sort)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.created_at.cmp(&other.created_at))
            .then_with(|| self.id.cmp(&other.id));
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.result_order(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
/// The heap's top is the worst kept result, so it is the one to drop.
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.result_order(other)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(
        "reaches past the first {MAX_SORTED_WINDOW} leads, as far as this order pages; sort by created_at or narrow the filters"
    )]
    WindowTooDeep,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One partition being read: what it has read and not yet given out.
struct Stream {
    query: Query,
    buffer: VecDeque<Item>,
    cursor: Option<Cursor>,
    done: bool,
}

impl Stream {
    fn new(query: Query) -> Self {
        Stream {
            query,
            buffer: VecDeque::new(),
            cursor: None,
            done: false,
        }
    }

    /// Reads pages until it holds an item or has none left.
    async fn fill(&mut self, repo: &LeadsRepo<'_>, limit: u32) -> Result<(), StoreError> {
        while self.buffer.is_empty() && !self.done {
            let page = repo
                .query(self.query.clone().limit(limit).after(self.cursor.take()))
                .await?;
            self.buffer.extend(page.items);
            self.cursor = page.cursor;
            self.done = self.cursor.is_none();
        }
        Ok(())
    }
}

/// The next item of the merged partitions, in the index's order.
async fn next_merged(
    repo: &LeadsRepo<'_>,
    streams: &mut [Stream],
    order: &str,
    forward: bool,
    limit: u32,
) -> Result<Option<Item>, StoreError> {
    futures::future::try_join_all(streams.iter_mut().map(|s| s.fill(repo, limit))).await?;
    fn head<'s>(stream: &'s Stream, order: &str) -> Option<&'s str> {
        stream.buffer.front().and_then(|item| text(item, order))
    }
    let mut best: Option<usize> = None;
    for (i, stream) in streams.iter().enumerate() {
        let Some(candidate) = head(stream, order) else {
            continue;
        };
        let better = match best.and_then(|b| head(&streams[b], order)) {
            None => true,
            Some(kept) if forward => candidate < kept,
            Some(kept) => candidate > kept,
        };
        if better {
            best = Some(i);
        }
    }
    Ok(best.and_then(|b| streams[b].buffer.pop_front()))
}

/// The leads of a page: their keys, or the leads themselves where finding
/// them read them.
enum Shown {
    Keys(Vec<Key>),
    Leads(Vec<Lead>),
}

/// Lists leads: the matches are read by key (and sort values), and only the
/// leads of the requested page are read in full, or written from
/// `renderings` where a lead has not changed since it was last shown.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
    renderings: &Renderings,
) -> Result<LeadPage, ListError> {
    let searched = query.search.as_deref().map(query_words).unwrap_or_default();
    let (shown, total) = if searched.is_empty() {
        listed(repo, org, query).await?
    } else {
        search(repo, org, query, &searched).await?
    };
    let items = match shown {
        Shown::Keys(keys) => repo.rendered_in_order(&keys, renderings).await?,
        Shown::Leads(leads) => leads.iter().map(Rendered::of).collect::<Result<_, _>>()?,
    };
    Ok(LeadPage {
        items,
        total,
        page: query.page,
        limit: query.limit,
        pages: total.div_ceil(u64::from(query.limit).max(1)),
    })
}

/// The page of a listing without search, and the total.
async fn listed(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
) -> Result<(Shown, u64), ListError> {
    let Plan {
        queries,
        order,
        index_ordered,
        counted_total,
    } = query.plan(org);
    let (skip, take) = query.window();
    if !index_ordered && skip + take > u64::from(MAX_SORTED_WINDOW) {
        return Err(ListError::WindowTooDeep);
    }
    let known_total = match &counted_total {
        Some(counted) => counted.total(&repo.counters(org, counted.scope).await?),
        None => None,
    };
    let mut projection = vec!["pk", "sk", order];
    if !index_ordered {
        projection.extend(["created_at", "id"]);
        projection.extend(sort_attributes(query.sort));
    }
    let forward = queries.first().is_none_or(|q| q.forward);
    let mut streams: Vec<Stream> = queries
        .into_iter()
        .map(|q| Stream::new(q.project(projection.iter().copied())))
        .collect();

    let mut window: Vec<Key> = Vec::new();
    let mut matched: u64 = 0;
    if index_ordered {
        loop {
            // With the total known, no partition need read past the page.
            let limit = match known_total {
                Some(_) => u32::try_from((skip + take).saturating_sub(matched))
                    .unwrap_or(SCAN_BATCH)
                    .clamp(1, SCAN_BATCH),
                None => SCAN_BATCH,
            };
            let Some(item) = next_merged(repo, &mut streams, order, forward, limit).await? else {
                break;
            };
            matched += 1;
            if matched > skip && matched <= skip + take {
                window.push(Key::of(&item)?);
            }
            if matched >= skip + take && known_total.is_some() {
                break;
            }
        }
    } else {
        let mut heap: BinaryHeap<Ranked> = BinaryHeap::new();
        for stream in &mut streams {
            loop {
                stream.fill(repo, SCAN_BATCH).await?;
                let Some(item) = stream.buffer.pop_front() else {
                    break;
                };
                matched += 1;
                heap.push(Ranked::from_item(&item, query.sort, query.descending)?);
                if heap.len() as u64 > skip + take {
                    heap.pop();
                }
            }
        }
        window = heap
            .into_sorted_vec()
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .map(|ranked| ranked.key)
            .collect();
    }
    Ok((Shown::Keys(window), known_total.unwrap_or(matched)))
}

/// The candidates that match the search and the filters, in the listing's order.
async fn checked(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
    searched: &[String],
    found: &[words::Found],
) -> Result<Vec<Ranked>, StoreError> {
    let mut ranked: Vec<Ranked> = Vec::new();
    for chunk in found.chunks(CHECK_BATCH) {
        let keys: Vec<Key> = chunk.iter().filter_map(|f| f.key(org)).collect();
        for lead in repo.leads_in_order(&keys).await? {
            if query.admits(&lead) && words::matches(&search_words(&lead), searched) {
                ranked.push(Ranked::from_lead(&lead, query.sort, query.descending));
            }
        }
    }
    ranked.sort_unstable();
    Ok(ranked)
}

/// Every lead a searching query matches, in its order (for exports).
pub async fn search_matches(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
) -> Result<Vec<Key>, StoreError> {
    let searched = query.search.as_deref().map(query_words).unwrap_or_default();
    let found = repo.search_candidates(org, &searched).await?;
    let ranked = checked(repo, org, query, &searched, &found).await?;
    Ok(ranked.into_iter().map(|r| r.key).collect())
}

/// How far a walk through the leads a listing selects has got: a partition
/// of its plan, and a place in it. Written `{partition}:{cursor}`; a bare
/// cursor (as jobs from before several partitions wrote) is the first
/// partition's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    partition: usize,
    cursor: Option<Cursor>,
}

impl Walk {
    pub fn parse(text: &str) -> Result<Walk, StoreError> {
        let (partition, cursor) = match text.split_once(':') {
            Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (n.parse().map_err(|_| StoreError::BadCursor)?, rest)
            }
            _ => (0, text),
        };
        let cursor = (!cursor.is_empty())
            .then(|| Cursor::parse(cursor))
            .transpose()?;
        Ok(Walk { partition, cursor })
    }
}

impl std::fmt::Display for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.partition)?;
        match &self.cursor {
            Some(cursor) => write!(f, "{cursor}"),
            None => Ok(()),
        }
    }
}

/// Up to `limit` of the leads a listing without search selects, partition
/// after partition in creation order (not merged: for exports and bulk
/// jobs, which take every one), and where the next page starts (`None`:
/// nothing is left).
pub async fn walk_selected(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
    walk: Walk,
    limit: u32,
) -> Result<(Vec<Key>, Option<Walk>), StoreError> {
    let partitions = query.plan(org).queries;
    let mut walk = walk;
    let mut keys: Vec<Key> = Vec::new();
    // A partition that ends before the page is full hands on to the next.
    while let Some(partition) = partitions.get(walk.partition) {
        let mut partition = partition
            .clone()
            .project(["pk", "sk"])
            .limit(limit.saturating_sub(keys.len() as u32).max(1))
            .after(walk.cursor.take());
        partition.forward = true;
        let page = repo.query(partition).await?;
        for item in &page.items {
            keys.push(Key::of(item)?);
        }
        match page.cursor {
            Some(cursor) => {
                walk.cursor = Some(cursor);
                if keys.len() as u32 >= limit {
                    return Ok((keys, Some(walk)));
                }
            }
            None => walk.partition += 1,
        }
    }
    Ok((keys, None))
}

/// Leads read at once while checking a search's candidates.
const CHECK_BATCH: usize = 100;

/// Reading a key from an index costs a small part of reading a lead: a
/// filtered search reads the keys its filters select when they are at most
/// this many times its candidates, else it reads every candidate.
const KEYS_PER_LEAD_READ: u64 = 20;

/// Keys read at once from an index partition.
const KEY_PAGE: u32 = 5_000;

/// The listing keys of every lead a query's filters select, when its plan
/// reads them in listing order straight from index partitions (nothing for
/// the store to filter, the total in the counters) and they are few enough
/// against `candidates`.
async fn selected_keys(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
    candidates: usize,
) -> Result<Option<HashSet<String>>, StoreError> {
    let plan = query.plan(org);
    let Some(counted) = &plan.counted_total else {
        return Ok(None);
    };
    let Some(total) = counted.total(&repo.counters(org, counted.scope).await?) else {
        return Ok(None);
    };
    if total > KEYS_PER_LEAD_READ.saturating_mul(candidates as u64) {
        return Ok(None);
    }
    let mut keys = HashSet::with_capacity(usize::try_from(total).unwrap_or(0));
    for partition in plan.queries {
        let mut cursor = None;
        loop {
            let page = repo
                .sort_keys(partition.clone().limit(KEY_PAGE).after(cursor.take()))
                .await?;
            keys.extend(page.keys);
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
    }
    Ok(Some(keys))
}

/// A search: the leads found by the narrowest word ([`words::candidates`]),
/// checked against the leads themselves. A one-word search in creation
/// order reads only the page's leads, its candidates narrowed to the keys
/// its filters select when it has filters and those are few enough
/// ([`selected_keys`]); anything else reads every candidate.
async fn search(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
    searched: &[String],
) -> Result<(Shown, u64), ListError> {
    let (skip, take) = query.window();
    let (skip, take) = (
        usize::try_from(skip).unwrap_or(usize::MAX),
        usize::try_from(take).unwrap_or(usize::MAX),
    );
    let mut found = repo.search_candidates(org, searched).await?;
    let narrowed = if searched.len() != 1 || query.sort != SortField::CreatedAt {
        false
    } else if !query.filters_besides_search() {
        true
    } else if let Some(selected) = selected_keys(repo, org, query, found.len()).await? {
        found.retain(|f| selected.contains(f.listed()));
        true
    } else {
        false
    };
    let (shown, total) = if narrowed {
        if query.descending {
            found.reverse();
        }
        let keys: Vec<Key> = found
            .iter()
            .skip(skip)
            .take(take)
            .filter_map(|f| f.key(org))
            .collect();
        let shown = keys.len();
        let mut items = repo.leads_in_order(&keys).await?;
        // Items a write left behind name leads that are gone or changed.
        items.retain(|lead| query.admits(lead) && words::matches(&search_words(lead), searched));
        let left_behind = shown - items.len();
        (Shown::Leads(items), found.len() - left_behind)
    } else {
        let ranked = checked(repo, org, query, searched, &found).await?;
        let total = ranked.len();
        let keys: Vec<Key> = ranked
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|r| r.key)
            .collect();
        (Shown::Keys(keys), total)
    };
    Ok((shown, total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_use_the_narrowest_index_and_counters_when_they_can() {
        let org = OrgId::new();
        let indexes = |plan: &Plan| -> Vec<Option<&str>> {
            let mut names: Vec<_> = plan.queries.iter().map(|q| q.index).collect();
            names.dedup();
            names
        };
        let status = LeadQuery {
            statuses: vec![LeadStatus::Qualified],
            ..LeadQuery::default()
        };
        let plan = status.plan(org);
        assert_eq!(indexes(&plan), [Some("by_status")]);
        assert_eq!(
            plan.counted_total,
            Some(Counted {
                scope: Scope::All,
                statuses: vec![LeadStatus::Qualified],
                priorities: vec![],
            })
        );
        let campaign = LeadQuery {
            campaign_id: Some(CampaignId::new()),
            statuses: vec![LeadStatus::Qualified],
            ..LeadQuery::default()
        };
        let plan = campaign.plan(org);
        assert_eq!(indexes(&plan), [Some("by_campaign")]);
        assert!(plan.queries[0].filter.is_some());
        assert!(plan.counted_total.is_none());

        // Several statuses merge their partitions, and are counted.
        let many = LeadQuery {
            statuses: vec![LeadStatus::Qualified, LeadStatus::FollowUp],
            ..LeadQuery::default()
        };
        let plan = many.plan(org);
        assert_eq!(plan.queries.len(), 2);
        assert_eq!(indexes(&plan), [Some("by_status")]);
        assert!(plan.queries.iter().all(|q| q.filter.is_none()));
        assert!(plan.counted_total.is_some());

        // A priority reads status-and-priority partitions.
        let prioritised = LeadQuery {
            statuses: vec![LeadStatus::ToCall],
            priorities: vec![Priority::High, Priority::Medium],
            ..LeadQuery::default()
        };
        let plan = prioritised.plan(org);
        assert_eq!(indexes(&plan), [Some("by_status_priority")]);
        assert_eq!(plan.queries.len(), 2);
        assert_eq!(plan.order, "status_sk");
        let any_status = LeadQuery {
            priorities: vec![Priority::High],
            ..LeadQuery::default()
        };
        assert_eq!(any_status.plan(org).queries.len(), LeadStatus::ALL.len());

        // Sorting by budget reads the budget index, in its order.
        let by_budget = LeadQuery {
            statuses: vec![LeadStatus::Qualified],
            sort: SortField::Budget,
            ..LeadQuery::default()
        };
        let plan = by_budget.plan(org);
        assert_eq!(indexes(&plan), [Some("by_status_budget")]);
        assert!(plan.index_ordered);
        assert!(!plan.queries[0].forward, "largest first");
        let ranked = LeadQuery {
            sort: SortField::QualificationScore,
            ..LeadQuery::default()
        };
        assert!(!ranked.plan(org).index_ordered);
    }
}
