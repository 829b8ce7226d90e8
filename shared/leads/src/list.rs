//! Listing leads: filters, search, sort, pages and totals, planned onto the
//! narrowest index. Totals come from the counters when the filters are ones
//! the counters keep (none, one status, a campaign, or both); otherwise the
//! matching leads are counted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_core::validation::FieldErrors;
use soraaya_domain::moment::{parse_moment, parse_until};
use soraaya_domain::{CampaignId, Lead, LeadStatus, OrgId, Organisation, Priority, UserId};
use soraaya_store::{AttributeValue, Condition, Item, Key, Query, SortKeyCondition, StoreError};
use utoipa::ToSchema;

use crate::counters::Scope;
use crate::record::{campaign_partition, list_partition, status_partition};
use crate::repo::LeadsRepo;
use soraaya_core::keys::sortable;
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
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadPage {
    pub items: Vec<Lead>,
    /// Leads matching the filters, on every page.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub pages: u64,
}

/// A query against one index plus what the store filters, and where the
/// total can be read instead of counted.
pub struct Plan {
    pub query: Query,
    /// Where the total is counted on write: a scope, and a status or all leads.
    counted_total: Option<(Scope, Option<LeadStatus>)>,
}

impl LeadQuery {
    pub fn plan(&self, org: OrgId) -> Plan {
        let (mut query, by_status) = match (self.campaign_id, self.statuses.as_slice()) {
            (Some(campaign), _) => (
                Query::new(&LEADS, campaign_partition(org, campaign)).index("by_campaign"),
                false,
            ),
            (None, [status]) => (
                Query::new(&LEADS, status_partition(org, *status)).index("by_status"),
                true,
            ),
            (None, _) => (
                Query::new(&LEADS, list_partition(org)).index("by_created"),
                false,
            ),
        };
        // Listing sort keys are "{created}#{id}"; '~' sorts after '#'.
        let upper = |at: Timestamp| format!("{}~", sortable(at));
        query.sort = match (self.created_from, self.created_to) {
            (Some(from), Some(to)) => Some(SortKeyCondition::Between(sortable(from), upper(to))),
            (Some(from), None) => Some(SortKeyCondition::Ge(sortable(from))),
            (None, Some(to)) => Some(SortKeyCondition::Le(upper(to))),
            (None, None) => None,
        };
        query.forward = !(self.sort == SortField::CreatedAt && self.descending);

        let mut filters = Vec::new();
        if !by_status && !self.statuses.is_empty() {
            filters.push(Condition::is_in(
                "status",
                self.statuses.iter().map(|s| s.as_str()),
            ));
        }
        if !self.priorities.is_empty() {
            filters.push(Condition::is_in(
                "priority",
                self.priorities.iter().map(|p| p.as_str()),
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
        if let Some(term) = self
            .search
            .as_deref()
            .map(search_term)
            .filter(|t| !t.is_empty())
        {
            filters.push(Condition::contains("search_text", term));
        }
        let unfiltered = filters.is_empty() && query.sort.is_none();
        query.filter = filters.into_iter().reduce(Condition::and);

        let counted_total = unfiltered.then(|| {
            let status = match self.statuses.as_slice() {
                [status] => Some(*status),
                _ => None,
            };
            (Scope::of(self.campaign_id), status)
        });
        Plan {
            query,
            counted_total,
        }
    }
}

/// The text to look for: lower-case; a phone-like query as digits only.
fn search_term(query: &str) -> String {
    let query = query.trim();
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 4
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    if phone_like {
        digits
    } else {
        query.to_lowercase()
    }
}

/// A match with the value it sorts by, for a bounded heap of the best matches.
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

impl Ranked {
    fn from_item(item: &Item, field: SortField, descending: bool) -> Result<Self, StoreError> {
        let sort = match field {
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
                SortKey::Number(number(item, "qualification_score").unwrap_or(-1.0))
            }
            SortField::Budget => SortKey::Number(
                number(item, "budget_range_max")
                    .or_else(|| number(item, "budget_range_min"))
                    .unwrap_or(-1.0),
            ),
            SortField::Status => SortKey::Text(text(item, "status").unwrap_or_default().to_owned()),
        };
        Ok(Ranked {
            key: Key::of(item)?,
            sort,
            created_at: time(item, "created_at"),
            id: text(item, "id").unwrap_or_default().to_owned(),
            descending,
        })
    }

    /// Order of the results; ties broken by newest first, then id.
    fn result_order(&self, other: &Self) -> Ordering {
        let by_key = self
            .sort
            .partial_cmp(&other.sort)
            .unwrap_or(Ordering::Equal);
        let by_key = if self.descending {
            by_key.reverse()
        } else {
            by_key
        };
        by_key
            .then_with(|| other.created_at.cmp(&self.created_at))
            .then_with(|| self.id.cmp(&other.id))
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

/// Lists leads: the matches are scanned by key (and sort values), and only the
/// leads of the requested page are read in full.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    query: &LeadQuery,
) -> Result<LeadPage, ListError> {
    let Plan {
        query: base,
        counted_total,
    } = query.plan(org);
    let skip = u64::from(query.page.saturating_sub(1)) * u64::from(query.limit);
    let take = u64::from(query.limit);
    let index_ordered = query.sort == SortField::CreatedAt;
    if !index_ordered && skip + take > u64::from(MAX_SORTED_WINDOW) {
        return Err(ListError::WindowTooDeep);
    }
    let known_total = match &counted_total {
        Some((scope, status)) => Some(repo.counters(org, *scope).await?.leads(*status)),
        None => None,
    };
    let mut projection = vec!["pk", "sk"];
    if !index_ordered {
        projection.extend(["created_at", "id"]);
        projection.extend(sort_attributes(query.sort));
    }

    let mut window: Vec<Key> = Vec::new();
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::new();
    let mut matched: u64 = 0;
    let mut cursor = None;
    loop {
        // With the total known, index order needs no more than the page.
        let limit = match known_total {
            Some(_) if index_ordered => u32::try_from((skip + take).saturating_sub(matched))
                .unwrap_or(SCAN_BATCH)
                .clamp(1, SCAN_BATCH),
            _ => SCAN_BATCH,
        };
        let page = repo
            .query(
                base.clone()
                    .project(projection.iter().copied())
                    .limit(limit)
                    .after(cursor.take()),
            )
            .await?;
        for item in page.items {
            matched += 1;
            if index_ordered {
                if matched > skip && matched <= skip + take {
                    window.push(Key::of(&item)?);
                }
            } else {
                heap.push(Ranked::from_item(&item, query.sort, query.descending)?);
                if heap.len() as u64 > skip + take {
                    heap.pop();
                }
            }
        }
        cursor = page.cursor;
        let page_full = index_ordered && matched >= skip + take;
        if cursor.is_none() || (page_full && known_total.is_some()) {
            break;
        }
    }
    if !index_ordered {
        window = heap
            .into_sorted_vec()
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .map(|ranked| ranked.key)
            .collect();
    }
    let items = repo.leads_in_order(&window).await?;
    let total = known_total.unwrap_or(matched);
    Ok(LeadPage {
        items,
        total,
        page: query.page,
        limit: query.limit,
        pages: total.div_ceil(take.max(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_like_searches_look_for_digits() {
        assert_eq!(search_term("+91 98200-12345"), "919820012345");
        assert_eq!(search_term("Worli"), "worli");
        assert_eq!(search_term("Flat 12"), "flat 12");
    }

    #[test]
    fn plans_use_the_narrowest_index_and_counters_when_they_can() {
        let org = OrgId::new();
        let status = LeadQuery {
            statuses: vec![LeadStatus::Qualified],
            ..LeadQuery::default()
        };
        let plan = status.plan(org);
        assert_eq!(plan.query.index, Some("by_status"));
        assert_eq!(
            plan.counted_total,
            Some((Scope::All, Some(LeadStatus::Qualified)))
        );
        let searched = LeadQuery {
            search: Some("worli".into()),
            ..status
        };
        assert!(searched.plan(org).counted_total.is_none());
        let campaign = LeadQuery {
            campaign_id: Some(CampaignId::new()),
            ..LeadQuery::default()
        };
        assert_eq!(campaign.plan(org).query.index, Some("by_campaign"));
        let many = LeadQuery {
            statuses: vec![LeadStatus::Qualified, LeadStatus::FollowUp],
            ..LeadQuery::default()
        };
        let plan = many.plan(org);
        assert_eq!(plan.query.index, Some("by_created"));
        assert!(plan.query.filter.is_some());
        assert!(plan.counted_total.is_none());
    }
}
