//! Recommendations from a period's insights: each says what to change,
//! the numbers and sample size behind it, and whether the sample is large
//! enough to conclude (a two-proportion z-test at 95 %), with how many more
//! calls would settle it when it is not.

use serde::Serialize;
use utoipa::ToSchema;

use crate::{ConversationAnalysis, InsightPeriod, InsightTrends, percent};

/// Fewest calls behind any recommendation's figure.
pub const MIN_SAMPLE: u64 = 30;

/// Smallest difference, in percentage points, worth a recommendation.
pub const MIN_DIFFERENCE: f64 = 5.0;

/// What a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    Script,
    Timing,
    Persona,
    QualificationCriteria,
    Callbacks,
}

/// One figure behind a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evidence {
    pub label: String,
    /// A percentage, or a count.
    pub value: f64,
    /// Calls the figure is computed from.
    pub sample: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Recommendation {
    pub kind: RecommendationKind,
    pub title: String,
    pub detail: String,
    pub evidence: Vec<Evidence>,
    /// Calls the recommendation rests on.
    pub sample_size: u64,
    /// Whether the difference behind it is significant at 95 % (or, for a
    /// share, whether it rests on at least 30 calls).
    pub conclusive: bool,
    /// When not conclusive: about how many more calls would settle it.
    pub more_calls_needed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Recommendations {
    pub period: InsightPeriod,
    pub calls: u64,
    pub calls_analysed: u64,
    /// False when there are too few calls to recommend anything yet.
    pub enough_calls: bool,
    /// Conclusive ones first.
    pub items: Vec<Recommendation>,
}

/// The z statistic of the difference between two proportions, if defined.
pub fn z_score(hits_a: u64, n_a: u64, hits_b: u64, n_b: u64) -> Option<f64> {
    if n_a == 0 || n_b == 0 {
        return None;
    }
    let (n_a, n_b) = (n_a as f64, n_b as f64);
    let (p_a, p_b) = (hits_a as f64 / n_a, hits_b as f64 / n_b);
    let pooled = (hits_a + hits_b) as f64 / (n_a + n_b);
    let se = (pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)).sqrt();
    (se > 0.0).then(|| (p_a - p_b) / se)
}

/// Calls per group that would show a difference of this size at 95 %
/// with 80 % power.
pub fn calls_per_group(p_a: f64, p_b: f64) -> Option<u64> {
    let d = (p_a - p_b).abs();
    (d > 0.0).then(|| {
        let z = 1.96 + 0.84;
        (z * z * (p_a * (1.0 - p_a) + p_b * (1.0 - p_b)) / (d * d)).ceil() as u64
    })
}

/// A comparison of two groups: significant, or how many more calls would tell.
pub(crate) fn compare(hits_a: u64, n_a: u64, hits_b: u64, n_b: u64) -> (bool, Option<u64>) {
    let significant = n_a >= 10
        && n_b >= 10
        && z_score(hits_a, n_a, hits_b, n_b).is_some_and(|z| z.abs() >= 1.96);
    if significant {
        return (true, None);
    }
    let rate = |h: u64, n: u64| if n == 0 { 0.0 } else { h as f64 / n as f64 };
    let needed = calls_per_group(rate(hits_a, n_a), rate(hits_b, n_b))
        .map(|per_group| per_group.saturating_sub(n_a.min(n_b)).max(1));
    (false, needed)
}

fn evidence(label: impl Into<String>, value: Option<f64>, sample: u64) -> Evidence {
    Evidence {
        label: label.into(),
        value: value.unwrap_or(0.0),
        sample,
    }
}

fn timing(trends: &InsightTrends) -> Option<Recommendation> {
    let best = trends
        .connect_rate_by_local_hour
        .iter()
        .filter(|h| h.calls >= 10)
        .max_by(|a, b| {
            a.connect_rate
                .unwrap_or(0.0)
                .total_cmp(&b.connect_rate.unwrap_or(0.0))
        })?;
    let rest_calls = trends.calls - best.calls;
    let rest_connected = trends.connected - best.connected;
    if rest_calls == 0 {
        return None;
    }
    let (conclusive, more) = compare(best.connected, best.calls, rest_connected, rest_calls);
    let rest_rate = percent(rest_connected, rest_calls);
    // A hair's difference is no advice.
    if best.connect_rate.unwrap_or(0.0) - rest_rate.unwrap_or(0.0) < MIN_DIFFERENCE {
        return None;
    }
    Some(Recommendation {
        kind: RecommendationKind::Timing,
        title: format!(
            "Call at {:02}:00–{:02}:00, the leads' own time",
            best.hour,
            (best.hour + 1) % 24
        ),
        detail: format!(
            "{:.1}% of calls placed then connected, against {:.1}% at other hours.",
            best.connect_rate.unwrap_or(0.0),
            rest_rate.unwrap_or(0.0)
        ),
        evidence: vec![
            evidence(
                format!("connect rate at {:02}:00", best.hour),
                best.connect_rate,
                best.calls,
            ),
            evidence("connect rate at other hours", rest_rate, rest_calls),
        ],
        sample_size: trends.calls,
        conclusive,
        more_calls_needed: more,
    })
}

fn persona(trends: &InsightTrends) -> Option<Recommendation> {
    if trends.personas.len() < 2 {
        return None;
    }
    let best = trends
        .personas
        .iter()
        .filter(|p| p.connected > 0)
        .max_by(|a, b| {
            a.qualification_rate
                .unwrap_or(0.0)
                .total_cmp(&b.qualification_rate.unwrap_or(0.0))
        })?;
    let (others_connected, others_qualified) = trends
        .personas
        .iter()
        .filter(|p| p.persona_id != best.persona_id)
        .fold((0, 0), |(c, q), p| (c + p.connected, q + p.qualified));
    if others_connected == 0 {
        return None;
    }
    let (conclusive, more) = compare(
        best.qualified,
        best.connected,
        others_qualified,
        others_connected,
    );
    let name = best
        .name
        .clone()
        .unwrap_or_else(|| "a deleted persona".into());
    let others_rate = percent(others_qualified, others_connected);
    Some(Recommendation {
        kind: RecommendationKind::Persona,
        title: format!("Give more campaigns to {name}"),
        detail: format!(
            "{:.1}% of {name}'s connected calls qualified, against {:.1}% for the other personas.",
            best.qualification_rate.unwrap_or(0.0),
            others_rate.unwrap_or(0.0)
        ),
        evidence: vec![
            evidence(
                format!("qualification rate, {name}"),
                best.qualification_rate,
                best.connected,
            ),
            evidence(
                "qualification rate, other personas",
                others_rate,
                others_connected,
            ),
        ],
        sample_size: best.connected + others_connected,
        conclusive,
        more_calls_needed: more,
    })
}

fn objection(analysis: &ConversationAnalysis) -> Option<Recommendation> {
    let top = analysis.objections.first().filter(|o| o.calls > 0)?;
    let share = top.share.unwrap_or(0.0);
    if share < 10.0 {
        return None;
    }
    let enough = analysis.calls_analysed >= MIN_SAMPLE;
    let mut evidence_list = vec![evidence(
        format!("calls raising {}", top.label),
        top.share,
        analysis.calls_analysed,
    )];
    if let Some(change) = top.change {
        evidence_list.push(evidence(
            "change against the previous period (points)",
            Some(change),
            analysis.previous_calls_analysed,
        ));
    }
    Some(Recommendation {
        kind: RecommendationKind::Script,
        title: format!("Answer the {} objection in the pitch", top.label),
        detail: format!(
            "{share:.1}% of analysed calls raised {} ({} calls); {} of them still qualified. \
             Give the agent an answer to it before the customer asks.",
            top.label, top.calls, top.qualified_anyway
        ),
        evidence: evidence_list,
        sample_size: analysis.calls_analysed,
        conclusive: enough,
        more_calls_needed: (!enough).then(|| MIN_SAMPLE - analysis.calls_analysed),
    })
}

fn pattern(analysis: &ConversationAnalysis) -> Option<Recommendation> {
    let best = analysis
        .qualification_patterns
        .iter()
        .filter(|p| p.difference.is_some_and(|d| d >= 15.0))
        .find(|p| p.qualified_calls > 0 && p.other_calls > 0)?;
    let (conclusive, more) = compare(
        best.qualified_calls_with,
        best.qualified_calls,
        best.other_calls_with,
        best.other_calls,
    );
    Some(Recommendation {
        kind: RecommendationKind::Script,
        title: format!("What qualified calls have in common: {}", best.description),
        detail: format!(
            "It happened in {:.1}% of qualified calls and {:.1}% of the others; \
             steer conversations towards it.",
            best.share_of_qualified.unwrap_or(0.0),
            best.share_of_others.unwrap_or(0.0)
        ),
        evidence: vec![
            evidence(
                "share of qualified calls",
                best.share_of_qualified,
                best.qualified_calls,
            ),
            evidence(
                "share of other calls",
                best.share_of_others,
                best.other_calls,
            ),
        ],
        sample_size: best.qualified_calls + best.other_calls,
        conclusive,
        more_calls_needed: more,
    })
}

fn question(trends: &InsightTrends) -> Option<Recommendation> {
    let weakest = trends
        .questions
        .iter()
        .filter(|q| q.asked >= 10 && q.answer_rate.is_some_and(|r| r < 50.0))
        .min_by(|a, b| {
            a.answer_rate
                .unwrap_or(0.0)
                .total_cmp(&b.answer_rate.unwrap_or(0.0))
        })?;
    let what = weakest
        .question
        .clone()
        .unwrap_or_else(|| format!("the {} question", weakest.key.replace('_', " ")));
    let enough = weakest.asked >= MIN_SAMPLE;
    Some(Recommendation {
        kind: RecommendationKind::QualificationCriteria,
        title: format!("Rephrase or drop: {what}"),
        detail: format!(
            "Customers answered it in {:.1}% of the {} calls that asked it.",
            weakest.answer_rate.unwrap_or(0.0),
            weakest.asked
        ),
        evidence: vec![
            evidence("answer rate", weakest.answer_rate, weakest.asked),
            evidence(
                "qualification rate when asked",
                weakest.qualification_rate_when_asked,
                weakest.asked,
            ),
        ],
        sample_size: weakest.asked,
        conclusive: enough,
        more_calls_needed: (!enough).then(|| MIN_SAMPLE - weakest.asked),
    })
}

fn callbacks(trends: &InsightTrends) -> Option<Recommendation> {
    let on_time = trends.callbacks.first()?;
    let (late, late_kept) = trends
        .callbacks
        .iter()
        .skip(1)
        .fold((0, 0), |(n, k), b| (n + b.callbacks, k + b.kept));
    if on_time.callbacks == 0 || late == 0 {
        return None;
    }
    let late_rate = percent(late_kept, late);
    if on_time.kept_rate.unwrap_or(0.0) <= late_rate.unwrap_or(0.0) {
        return None;
    }
    let (conclusive, more) = compare(on_time.kept, on_time.callbacks, late_kept, late);
    Some(Recommendation {
        kind: RecommendationKind::Callbacks,
        title: "Place promised callbacks on time".into(),
        detail: format!(
            "{:.1}% of callbacks placed within 5 minutes of the promise were answered, \
             against {:.1}% of later ones; keep slots free for them.",
            on_time.kept_rate.unwrap_or(0.0),
            late_rate.unwrap_or(0.0)
        ),
        evidence: vec![
            evidence("answered on time", on_time.kept_rate, on_time.callbacks),
            evidence("answered when late", late_rate, late),
        ],
        sample_size: on_time.callbacks + late,
        conclusive,
        more_calls_needed: more,
    })
}

/// Every recommendation the period supports.
pub fn recommend(analysis: ConversationAnalysis, trends: InsightTrends) -> Recommendations {
    let mut items: Vec<Recommendation> = [
        objection(&analysis),
        pattern(&analysis),
        timing(&trends),
        persona(&trends),
        question(&trends),
        callbacks(&trends),
    ]
    .into_iter()
    .flatten()
    .collect();
    items.sort_by_key(|r| !r.conclusive);
    Recommendations {
        enough_calls: trends.calls >= MIN_SAMPLE,
        calls: trends.calls,
        calls_analysed: analysis.calls_analysed,
        period: analysis.period,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_difference_is_significant_and_a_thin_one_asks_for_more_calls() {
        // 60 of 100 against 30 of 100: z ≈ 4.2.
        assert!(z_score(60, 100, 30, 100).unwrap() > 4.0);
        assert_eq!(compare(60, 100, 30, 100), (true, None));
        // 3 of 5 against 2 of 5: nothing can be said yet.
        let (conclusive, more) = compare(3, 5, 2, 5);
        assert!(!conclusive);
        // About 95 per group for 60 % against 40 %: 90 more than the 5 made.
        assert_eq!(calls_per_group(0.6, 0.4), Some(95));
        assert_eq!(more, Some(90));
        assert_eq!(z_score(0, 0, 1, 2), None);
        assert_eq!(calls_per_group(0.5, 0.5), None);
    }
}
