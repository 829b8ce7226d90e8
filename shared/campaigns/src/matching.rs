//! Property matching: the organisation's properties ranked for a lead, and
//! the leads a property suits, by the fit of [`soraaya_domain::matching`].
//!
//! A property's leads are looked for among the leads whose place names a
//! part of the property's location (its area or its city), through the
//! search words kept on write, never a scan of the lead book: the newest
//! [`MAX_CANDIDATES`] of them are read and ranked.

use std::collections::BTreeSet;

use serde::Serialize;
use soraaya_domain::matching::{self, FitFactor};
use soraaya_domain::{Lead, LeadId, LeadStatus, OrgId, Property, PropertyId};
use soraaya_store::Key;
use utoipa::ToSchema;

use soraaya_core::App;
use soraaya_core::records::Records;
use soraaya_leads::repo::LeadsRepo;
use soraaya_leads::words::{Found, query_words};

use crate::CampaignError;

/// Leads read and ranked at most for one property.
pub const MAX_CANDIDATES: usize = 2_000;

/// Leads read at once.
const READ_BATCH: usize = 100;

/// A property ranked for a lead.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PropertyMatch {
    pub property: Property,
    /// 0–100: the sum of the factors' points.
    pub score: u8,
    /// Budget, location, type, size and amenities: points, maximum and reason.
    pub factors: Vec<FitFactor>,
    /// Whether the property is one the lead's campaign presents.
    pub in_campaign: bool,
}

/// The organisation's available properties ranked for a lead, best first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PropertyMatches {
    pub items: Vec<PropertyMatch>,
    /// Sold and reserved properties left out.
    pub unavailable: usize,
}

/// A lead ranked for a property.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadMatch {
    pub lead: Lead,
    pub score: u8,
    pub factors: Vec<FitFactor>,
}

/// The leads a property suits best.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MatchingLeads {
    pub items: Vec<LeadMatch>,
    /// Leads whose place names a part of the property's location, read and ranked.
    pub considered: usize,
    /// Whether more leads named the place than were read (the newest are read first).
    pub truncated: bool,
}

/// The organisation's properties ranked for one of its leads.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn property_matches(
    app: &App,
    org: OrgId,
    lead: LeadId,
    limit: usize,
) -> Result<PropertyMatches, CampaignError> {
    let lead = LeadsRepo::new(app.store.as_ref())
        .lead(org, lead)
        .await?
        .ok_or(CampaignError::NotFound("lead"))?;
    let properties: Vec<Property> = Records::new(app.store.as_ref()).list(org).await?;
    let in_campaign: BTreeSet<PropertyId> = match lead.campaign_id {
        Some(id) => Records::new(app.store.as_ref())
            .get::<soraaya_domain::Campaign>(org, &id.to_string())
            .await?
            .map(|c| c.property_ids.into_iter().collect())
            .unwrap_or_default(),
        None => BTreeSet::new(),
    };
    let ranked = matching::rank(&lead, &properties);
    let unavailable = properties.len() - ranked.len();
    let items = ranked
        .into_iter()
        .take(limit)
        .map(|(property, fit)| PropertyMatch {
            in_campaign: in_campaign.contains(&property.id),
            property: property.clone(),
            score: fit.score,
            factors: fit.factors,
        })
        .collect();
    Ok(PropertyMatches { items, unavailable })
}

/// The leads one of the organisation's properties suits best: open leads
/// (not declined, not on the do-not-call list) scoring at least
/// `min_score`, best first, newest first on a tie.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn matching_leads(
    app: &App,
    org: OrgId,
    property: PropertyId,
    limit: usize,
    min_score: u8,
) -> Result<MatchingLeads, CampaignError> {
    let property: Property = Records::new(app.store.as_ref())
        .get(org, &property.to_string())
        .await?
        .ok_or(CampaignError::NotFound("property"))?;
    let repo = LeadsRepo::new(app.store.as_ref());
    if property.availability_status != soraaya_domain::Availability::Available {
        return Ok(MatchingLeads {
            items: Vec::new(),
            considered: 0,
            truncated: false,
        });
    }
    // Each comma-separated part of the location is one search (`Bandra
    // West` needs both words); a lead found by any part is a candidate.
    let mut found: Vec<Found> = Vec::new();
    for part in property.location.split(',') {
        let words = query_words(part);
        if !words.is_empty() {
            found.extend(repo.search_candidates(org, &words).await?);
        }
    }
    // Newest first, each lead once.
    found.sort_by(|a, b| b.listed().cmp(a.listed()));
    found.dedup_by(|a, b| a.listed() == b.listed());
    let truncated = found.len() > MAX_CANDIDATES;
    found.truncate(MAX_CANDIDATES);

    let mut ranked: Vec<(u8, usize, LeadMatch)> = Vec::new();
    let mut considered = 0;
    for chunk in found.chunks(READ_BATCH) {
        let keys: Vec<Key> = chunk.iter().filter_map(|f| f.key(org)).collect();
        for lead in repo.leads_in_order(&keys).await? {
            if lead.do_not_call || lead.status == LeadStatus::NotInterested {
                continue;
            }
            considered += 1;
            let Some(fit) = matching::fit(&lead, &property) else {
                continue;
            };
            if fit.score >= min_score {
                ranked.push((
                    fit.score,
                    ranked.len(),
                    LeadMatch {
                        lead,
                        score: fit.score,
                        factors: fit.factors,
                    },
                ));
            }
        }
    }
    ranked.sort_by_key(|(score, order, _)| (std::cmp::Reverse(*score), *order));
    Ok(MatchingLeads {
        items: ranked.into_iter().take(limit).map(|(_, _, m)| m).collect(),
        considered,
        truncated,
    })
}
