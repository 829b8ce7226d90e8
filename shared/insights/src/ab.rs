//! A campaign's A/B test read back: each variant's calls, connect rate,
//! qualification rate (each with its 95 % Wilson interval), average score,
//! cost and cost per qualified lead, from the campaign's all-time insight
//! item; and whether the leader's lead is significant yet.

use serde::Serialize;
use soraaya_domain::{Campaign, PersonaId};
use soraaya_store::{ItemStore, StoreError};
use utoipa::ToSchema;

use soraaya_core::tables::LEADS;

use crate::record::{InsightScope, names};
use crate::stats::compare;
use crate::tally::InsightTally;

/// A rate in percent, with its 95 % confidence interval (Wilson).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Rate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `hits` of `n` as a rate with its Wilson interval; `None` of nothing.
pub fn wilson(hits: u64, n: u64) -> Option<Rate> {
    if n == 0 {
        return None;
    }
    let (n, p) = (n as f64, hits as f64 / n as f64);
    let z = 1.96_f64;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    Some(Rate {
        value: round1(p * 100.0),
        low: round1((centre - half).max(0.0) * 100.0),
        high: round1((centre + half).min(1.0) * 100.0),
    })
}

/// One variant's results.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VariantResult {
    pub key: String,
    pub description: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub persona_id: Option<PersonaId>,
    pub weight: u8,
    pub calls: u64,
    pub connected: u64,
    pub connect_rate: Option<Rate>,
    pub qualified: u64,
    /// Qualified per connected call.
    pub qualification_rate: Option<Rate>,
    pub average_score: Option<f64>,
    /// US dollars.
    pub cost: f64,
    pub cost_per_qualified: Option<f64>,
}

/// The leader against another variant on one measure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VariantComparison {
    /// `qualification_rate` or `connect_rate`.
    pub metric: String,
    pub leader: String,
    pub other: String,
    /// In percentage points.
    pub difference: f64,
    /// At 95 % (two-proportion z-test, at least 10 calls each).
    pub significant: bool,
    /// When not: about how many more calls per variant would settle it.
    pub more_calls_needed: Option<u64>,
}

/// A campaign's A/B test.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AbTest {
    pub variants: Vec<VariantResult>,
    /// The variant with the best qualification rate so far.
    pub leader: Option<String>,
    pub comparisons: Vec<VariantComparison>,
    /// In words: who leads, and whether it is settled.
    pub verdict: String,
}

/// The campaign's A/B test, if it runs one.
pub async fn ab_test(
    store: &dyn ItemStore,
    campaign: &Campaign,
) -> Result<Option<AbTest>, StoreError> {
    if campaign.variants.len() < 2 {
        return Ok(None);
    }
    // The all-time item has no day; any date names it.
    let key = InsightScope::CampaignAll(campaign.id).key(campaign.org_id, jiff::civil::Date::MIN);
    let mut tally = InsightTally::default();
    if let Some(item) = store.get(&LEADS, key).await? {
        tally.add_item(&item, jiff::civil::Date::MIN);
    }
    Ok(Some(results(campaign, &tally)))
}

fn results(campaign: &Campaign, tally: &InsightTally) -> AbTest {
    let variants: Vec<VariantResult> = campaign
        .variants
        .iter()
        .map(|v| {
            let of = |prefix: &str| tally.of(prefix, &v.key);
            let (calls, connected, qualified) = (
                of(names::VARIANT_CALLS),
                of(names::VARIANT_CONNECTED),
                of(names::VARIANT_QUALIFIED),
            );
            let scored = of(names::VARIANT_SCORED);
            let cost = of(names::VARIANT_COST_CENTS) as f64 / 100.0;
            VariantResult {
                key: v.key.clone(),
                description: v.description.clone(),
                persona_id: v.persona_id.or(campaign.persona_id),
                weight: v.weight,
                calls,
                connected,
                connect_rate: wilson(connected, calls),
                qualified,
                qualification_rate: wilson(qualified, connected),
                average_score: (scored > 0)
                    .then(|| round1(of(names::VARIANT_SCORE_SUM) as f64 / scored as f64)),
                cost: (cost * 100.0).round() / 100.0,
                cost_per_qualified: (qualified > 0)
                    .then(|| (cost / qualified as f64 * 100.0).round() / 100.0),
            }
        })
        .collect();
    let rate = |r: Option<Rate>| r.map_or(-1.0, |r| r.value);
    let leader = variants
        .iter()
        .filter(|v| v.connected > 0)
        .max_by(|a, b| rate(a.qualification_rate).total_cmp(&rate(b.qualification_rate)));
    let mut comparisons = Vec::new();
    if let Some(leader) = leader {
        for other in variants.iter().filter(|v| v.key != leader.key) {
            for (metric, (lh, ln), (oh, on), (lr, or)) in [
                (
                    "qualification_rate",
                    (leader.qualified, leader.connected),
                    (other.qualified, other.connected),
                    (leader.qualification_rate, other.qualification_rate),
                ),
                (
                    "connect_rate",
                    (leader.connected, leader.calls),
                    (other.connected, other.calls),
                    (leader.connect_rate, other.connect_rate),
                ),
            ] {
                let (significant, more) = compare(lh, ln, oh, on);
                comparisons.push(VariantComparison {
                    metric: metric.to_owned(),
                    leader: leader.key.clone(),
                    other: other.key.clone(),
                    difference: round1(rate(lr).max(0.0) - rate(or).max(0.0)),
                    significant,
                    more_calls_needed: more,
                });
            }
        }
    }
    let verdict = match leader {
        None => "No connected calls yet: nothing to compare.".to_owned(),
        Some(leader) => {
            let on_qualification: Vec<&VariantComparison> = comparisons
                .iter()
                .filter(|c| c.metric == "qualification_rate")
                .collect();
            if on_qualification.iter().all(|c| c.significant) {
                format!(
                    "Variant {} qualifies more of its connected calls, and the difference is significant at 95 %.",
                    leader.key
                )
            } else {
                let more = on_qualification
                    .iter()
                    .filter_map(|c| c.more_calls_needed)
                    .max();
                match more {
                    Some(more) => format!(
                        "Variant {} leads, but it is not settled: about {more} more connected calls per variant would tell.",
                        leader.key
                    ),
                    None => format!(
                        "Variant {} leads by nothing yet: the variants qualify alike so far.",
                        leader.key
                    ),
                }
            }
        }
    };
    AbTest {
        leader: leader.map(|l| l.key.clone()),
        variants,
        comparisons,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_are_the_textbook_ones() {
        // 8 of 10: 80 % (49.0 % – 94.3 %).
        assert_eq!(
            wilson(8, 10),
            Some(Rate {
                value: 80.0,
                low: 49.0,
                high: 94.3
            })
        );
        let all = wilson(5, 5).unwrap();
        assert_eq!((all.value, all.high), (100.0, 100.0));
        assert_eq!(wilson(0, 0), None);
    }
}
