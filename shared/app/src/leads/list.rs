//! Listing leads: filters, search, sort, pages and totals, planned onto the
//! narrowest index. Totals come from the counters when the filters are ones
//! the counters keep (none, one status, a campaign, or both); otherwise the
//! matching leads are counted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use jiff::Timestamp;
use serde::Serialize;
use soraaya_domain::{CampaignId, Lead, LeadStatus, OrgId, Priority, UserId};
use soraaya_store::{Condition, Query, SortKeyCondition, StoreError, from_item};
use utoipa::ToSchema;

use super::record::{campaign_partition, counter, list_partition, sortable, status_partition};
use super::repo::LeadsRepo;
use crate::tables::LEADS;

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
    counted_total: Option<(String, String)>,
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
            let scope = self
                .campaign_id
                .map_or_else(|| "ALL".to_owned(), |c| format!("CAMPAIGN#{c}"));
            let name = match self.statuses.as_slice() {
                [status] => format!("status_{status}"),
                _ => "total".to_owned(),
            };
            (scope, name)
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

/// A lead with the value it sorts by, for a bounded heap of the best matches.
struct Ranked {
    key: SortKey,
    lead: Lead,
    descending: bool,
}

#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Text(String),
    Number(f64),
}

impl Ranked {
    fn new(lead: Lead, field: SortField, descending: bool) -> Self {
        let key = match field {
            SortField::CreatedAt => SortKey::Text(sortable(lead.created_at)),
            SortField::UpdatedAt => SortKey::Text(sortable(lead.updated_at)),
            SortField::ContactPerson => SortKey::Text(lead.contact_person.as_str().to_lowercase()),
            SortField::Priority => SortKey::Number(f64::from(lead.priority.rank())),
            SortField::QualificationScore => {
                SortKey::Number(lead.qualification_score.map_or(-1.0, f64::from))
            }
            SortField::Budget => SortKey::Number(
                lead.budget_range_max
                    .or(lead.budget_range_min)
                    .map_or(-1.0, |b| b.as_rupees() as f64),
            ),
            SortField::Status => SortKey::Text(lead.status.as_str().to_owned()),
        };
        Ranked {
            key,
            lead,
            descending,
        }
    }

    /// Order of the results; ties broken by creation, then id.
    fn result_order(&self, other: &Self) -> Ordering {
        let by_key = self.key.partial_cmp(&other.key).unwrap_or(Ordering::Equal);
        let by_key = if self.descending {
            by_key.reverse()
        } else {
            by_key
        };
        by_key
            .then_with(|| other.lead.created_at.cmp(&self.lead.created_at))
            .then_with(|| self.lead.id.cmp(&other.lead.id))
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
        "pages beyond {MAX_SORTED_WINDOW} results cannot be sorted this way; narrow the filters"
    )]
    WindowTooDeep,
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
        Some((scope, name)) => Some(
            repo.counters(org, scope)
                .await?
                .map_or(0, |item| counter(&item, name).max(0).unsigned_abs()),
        ),
        None => None,
    };

    let mut items = Vec::new();
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::new();
    let mut matched: u64 = 0;
    let mut cursor = None;
    loop {
        let page = repo
            .query(base.clone().limit(SCAN_BATCH).after(cursor.take()))
            .await?;
        for item in page.items {
            matched += 1;
            if index_ordered {
                if matched > skip && matched <= skip + take {
                    items.push(from_item::<Lead>(item)?);
                }
            } else {
                heap.push(Ranked::new(
                    from_item::<Lead>(item)?,
                    query.sort,
                    query.descending,
                ));
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
        let mut best = heap.into_sorted_vec();
        items = best
            .drain(..)
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .map(|ranked| ranked.lead)
            .collect();
    }
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
            Some(("ALL".into(), "status_qualified".into()))
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
