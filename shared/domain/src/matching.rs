//! How well a property fits a lead: five factors (budget, location, type,
//! size, amenities), each with its points, its maximum and the reason in
//! words, summing to a fit of 0–100. Sold and reserved properties never
//! match. Whatever the lead has not said scores half its factor, so a
//! property that fits everything known ranks above one that fits less, and
//! one judged on nothing ranks in the middle.

use serde::Serialize;
use utoipa::ToSchema;

use crate::{Availability, Inr, Lead, Property, PropertyId, PropertyType};

/// One reason a property fits a lead, or does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FitFactor {
    pub factor: FitKind,
    pub points: u8,
    pub max_points: u8,
    /// Why, in words (such as `₹28 Cr - ₹35 Cr is within the budget of ₹25 Cr - ₹35 Cr`).
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FitKind {
    Budget,
    Location,
    PropertyType,
    Size,
    Amenities,
}

/// How well one property fits one lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Fit {
    /// 0–100: the sum of the factors' points.
    pub score: u8,
    pub factors: Vec<FitFactor>,
}

impl Fit {
    /// The reasons that count for the property, best first (for the agent's context).
    pub fn strengths(&self) -> Vec<&str> {
        let mut strong: Vec<&FitFactor> = self
            .factors
            .iter()
            .filter(|f| u16::from(f.points) * 4 >= u16::from(f.max_points) * 3)
            .collect();
        strong.sort_by_key(|f| std::cmp::Reverse(f.max_points));
        strong.iter().map(|f| f.reason.as_str()).collect()
    }
}

pub const BUDGET_POINTS: u8 = 35;
pub const LOCATION_POINTS: u8 = 25;
pub const TYPE_POINTS: u8 = 20;
pub const SIZE_POINTS: u8 = 10;
pub const AMENITY_POINTS: u8 = 10;

/// The fit of `property` for `lead`; `None` for a sold or reserved property.
pub fn fit(lead: &Lead, property: &Property) -> Option<Fit> {
    if property.availability_status != Availability::Available {
        return None;
    }
    let factors = vec![
        budget(lead, property),
        location(lead, property),
        property_type(lead, property),
        size(lead, property),
        amenities(lead, property),
    ];
    let score = factors.iter().map(|f| f.points).sum();
    Some(Fit { score, factors })
}

/// The available properties ranked for `lead`, best fit first; ties keep
/// the order given (a campaign's own order of its properties).
pub fn rank<'p>(lead: &Lead, properties: &'p [Property]) -> Vec<(&'p Property, Fit)> {
    let mut ranked: Vec<(usize, &Property, Fit)> = properties
        .iter()
        .enumerate()
        .filter_map(|(i, p)| fit(lead, p).map(|f| (i, p, f)))
        .collect();
    ranked.sort_by_key(|(i, _, f)| (std::cmp::Reverse(f.score), *i));
    ranked.into_iter().map(|(_, p, f)| (p, f)).collect()
}

/// The ids of `properties` in the order they fit `lead`, unavailable ones last.
pub fn order_for(lead: &Lead, properties: &[Property]) -> Vec<PropertyId> {
    let mut ids: Vec<PropertyId> = rank(lead, properties).iter().map(|(p, _)| p.id).collect();
    ids.extend(
        properties
            .iter()
            .filter(|p| p.availability_status != Availability::Available)
            .map(|p| p.id),
    );
    ids
}

fn factor(factor: FitKind, points: u8, max_points: u8, reason: String) -> FitFactor {
    FitFactor {
        factor,
        points: points.min(max_points),
        max_points,
        reason,
    }
}

fn unknown(kind: FitKind, max_points: u8, what: &str) -> FitFactor {
    factor(
        kind,
        max_points / 2,
        max_points,
        format!("the lead has not said {what}"),
    )
}

fn describe(min: Option<Inr>, max: Option<Inr>) -> String {
    crate::BudgetRange { min, max }.describe()
}

fn budget(lead: &Lead, property: &Property) -> FitFactor {
    let kind = FitKind::Budget;
    let (Some(want_low), Some(want_high)) = (
        lead.budget_range_min.or(lead.budget_range_max),
        lead.budget_range_max.or(lead.budget_range_min),
    ) else {
        return unknown(kind, BUDGET_POINTS, "a budget");
    };
    let (Some(ask_low), Some(ask_high)) = (
        property.price_min.or(property.price_max),
        property.price_max.or(property.price_min),
    ) else {
        return factor(
            kind,
            BUDGET_POINTS / 2,
            BUDGET_POINTS,
            "the property has no price".to_owned(),
        );
    };
    let wanted = describe(lead.budget_range_min, lead.budget_range_max);
    let asked = describe(property.price_min, property.price_max);
    let (want_low, want_high) = (want_low.as_rupees(), want_high.as_rupees());
    let (ask_low, ask_high) = (ask_low.as_rupees(), ask_high.as_rupees());
    if ask_low <= want_high && want_low <= ask_high {
        return factor(
            kind,
            BUDGET_POINTS,
            BUDGET_POINTS,
            format!("{asked} is within the budget of {wanted}"),
        );
    }
    // Percent by which the nearer end of the price misses the budget.
    let percent =
        |far: u64, near: u64| (far.saturating_sub(near)).saturating_mul(100) / near.max(1);
    if ask_low > want_high {
        let over = percent(ask_low, want_high);
        let points = match over {
            0..=10 => 22,
            11..=25 => 10,
            _ => 0,
        };
        factor(
            kind,
            points,
            BUDGET_POINTS,
            format!("{asked} is {over}% above the budget of {wanted}"),
        )
    } else {
        let under = percent(want_low, ask_high);
        let points = match under {
            0..=25 => 25,
            26..=50 => 12,
            _ => 4,
        };
        factor(
            kind,
            points,
            BUDGET_POINTS,
            format!("{asked} is below the budget of {wanted}"),
        )
    }
}

/// Lower-case words of a place (`Bandra West, Mumbai` → `bandra`, `west`, `mumbai`).
fn place_words(place: &str) -> Vec<String> {
    place
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_all(haystack: &[String], needles: &[String]) -> bool {
    !needles.is_empty() && needles.iter().all(|n| haystack.contains(n))
}

fn location(lead: &Lead, property: &Property) -> FitFactor {
    let kind = FitKind::Location;
    let wanted: Vec<&str> = lead
        .location
        .iter()
        .map(String::as_str)
        .chain(
            lead.property_preferences
                .locations
                .iter()
                .map(String::as_str),
        )
        .filter(|p| !p.trim().is_empty())
        .collect();
    if wanted.is_empty() {
        return unknown(kind, LOCATION_POINTS, "where");
    }
    let parts: Vec<Vec<String>> = property
        .location
        .split(',')
        .map(place_words)
        .filter(|w| !w.is_empty())
        .collect();
    let all: Vec<String> = parts.concat();
    let area = parts.first().cloned().unwrap_or_default();
    let city = parts.last().cloned().unwrap_or_default();
    // A place the lead named that the property is in (the lead's `Mumbai`
    // holds `Worli, Mumbai`), or the property's own area named by the lead.
    if let Some(place) = wanted.iter().find(|place| {
        let words = place_words(place);
        contains_all(&all, &words) || contains_all(&words, &area)
    }) {
        return factor(
            kind,
            LOCATION_POINTS,
            LOCATION_POINTS,
            format!(
                "{} is in {place}, where the lead is looking",
                property.location
            ),
        );
    }
    if parts.len() > 1
        && let Some(place) = wanted
            .iter()
            .find(|place| contains_all(&place_words(place), &city))
    {
        return factor(
            kind,
            12,
            LOCATION_POINTS,
            format!(
                "{} is in the lead's city but not in {place}",
                property.location
            ),
        );
    }
    factor(
        kind,
        0,
        LOCATION_POINTS,
        format!(
            "{} is not where the lead is looking ({})",
            property.location,
            wanted.join(", ")
        ),
    )
}

/// Types a buyer of one often considers in place of the other.
fn kin(a: PropertyType, b: PropertyType) -> bool {
    use PropertyType::*;
    let family = |t| match t {
        Apartment | Penthouse | Duplex => 1,
        Villa | Bungalow | RowHouse | Farmhouse => 2,
        Plot => 3,
        Commercial => 4,
        Other => 5,
    };
    family(a) == family(b)
}

fn property_type(lead: &Lead, property: &Property) -> FitFactor {
    let kind = FitKind::PropertyType;
    let mut wanted: Vec<PropertyType> = lead.property_type.into_iter().collect();
    wanted.extend(&lead.property_preferences.property_types);
    wanted.retain(|t| *t != PropertyType::Other);
    let offered = property.property_type.as_str().replace('_', " ");
    if wanted.is_empty() {
        return unknown(kind, TYPE_POINTS, "what kind of home");
    }
    let names = wanted
        .iter()
        .map(|t| t.as_str().replace('_', " "))
        .collect::<Vec<_>>()
        .join(" or ");
    if wanted.contains(&property.property_type) {
        factor(
            kind,
            TYPE_POINTS,
            TYPE_POINTS,
            format!("a {offered}, as the lead wants"),
        )
    } else if wanted.iter().any(|t| kin(*t, property.property_type)) {
        factor(
            kind,
            TYPE_POINTS / 2,
            TYPE_POINTS,
            format!("a {offered}, close to the {names} the lead wants"),
        )
    } else {
        factor(
            kind,
            0,
            TYPE_POINTS,
            format!("a {offered}; the lead wants a {names}"),
        )
    }
}

/// The bedroom counts a property offers, from its `bedrooms`, `bhk` or
/// `configuration` detail, or its name (`4 BHK`).
fn bedrooms_offered(property: &Property) -> Vec<u8> {
    let detail = ["bedrooms", "bhk", "configuration"]
        .iter()
        .find_map(|k| property.specifications.get(*k))
        .map(String::as_str);
    let numbers = |text: &str| -> Vec<u8> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=20).contains(n))
            .collect()
    };
    if let Some(detail) = detail {
        return numbers(detail);
    }
    let name = property.name.to_lowercase();
    name.find("bhk")
        .map(|end| numbers(&name[..end]).last().copied().into_iter().collect())
        .unwrap_or_default()
}

fn size(lead: &Lead, property: &Property) -> FitFactor {
    let kind = FitKind::Size;
    let Some(wanted) = lead.property_preferences.bedrooms else {
        return unknown(kind, SIZE_POINTS, "how many bedrooms");
    };
    let offered = bedrooms_offered(property);
    let Some(nearest) = offered.iter().min_by_key(|n| n.abs_diff(wanted)).copied() else {
        return factor(
            kind,
            SIZE_POINTS / 2,
            SIZE_POINTS,
            "the property does not say its bedrooms".to_owned(),
        );
    };
    let (points, how) = match nearest.abs_diff(wanted) {
        0 => (SIZE_POINTS, "as wanted"),
        1 => (SIZE_POINTS / 2, "one off"),
        _ => (0, "far off"),
    };
    factor(
        kind,
        points,
        SIZE_POINTS,
        format!("{nearest} bedrooms for the {wanted} wanted ({how})"),
    )
}

/// Whether an amenity the lead wants is among the property's: every word
/// of the shorter name in the longer (`pool` in `private pool`).
fn has_amenity(offered: &[Vec<String>], wanted: &str) -> bool {
    let wanted = place_words(wanted);
    offered
        .iter()
        .any(|o| contains_all(o, &wanted) || contains_all(&wanted, o))
}

fn amenities(lead: &Lead, property: &Property) -> FitFactor {
    let kind = FitKind::Amenities;
    let wanted = &lead.property_preferences.amenities;
    if wanted.is_empty() {
        return unknown(kind, AMENITY_POINTS, "which amenities matter");
    }
    let offered: Vec<Vec<String>> = property
        .amenities
        .iter()
        .map(|a| place_words(a))
        .chain(property.specifications.values().map(|v| place_words(v)))
        .collect();
    let (has, lacks): (Vec<&String>, Vec<&String>) =
        wanted.iter().partition(|w| has_amenity(&offered, w));
    let points = (usize::from(AMENITY_POINTS) * has.len() / wanted.len()) as u8;
    let join = |list: &[&String]| {
        list.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let reason = match (has.is_empty(), lacks.is_empty()) {
        (false, true) => format!("has {}", join(&has)),
        (false, false) => format!("has {}; lacks {}", join(&has), join(&lacks)),
        _ => format!("lacks {}", join(&lacks)),
    };
    factor(kind, points, AMENITY_POINTS, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> Lead {
        serde_json::from_value(serde_json::json!({
            "id": "00000000-0000-4000-8000-000000000001",
            "org_id": "00000000-0000-4000-8000-000000000002",
            "contact_person": "Aarav Mehta", "phone_number": "+919820012345", "email": null,
            "property_name": null, "property_type": "apartment", "location": "Mumbai",
            "price_range": null, "budget_range_min": 250000000, "budget_range_max": 350000000,
            "status": "to_call", "priority": "high", "lead_source": null, "follow_up_count": 0,
            "callback_scheduled_at": null, "campaign_id": null, "agent_persona_id": null,
            "qualification_score": null, "last_call_transcript_id": null,
            "property_preferences": {"locations": ["Worli"], "bedrooms": 4, "amenities": ["sea view", "gym"]},
            "purchase_timeline": null, "financing_status": null, "decision_maker_role": null,
            "notes": null, "timezone": "Asia/Kolkata", "timezone_source": "phone_country",
            "consent": null, "do_not_call": false, "assigned_agent_id": null, "tags": [],
            "call_attempts": 0, "version": 1,
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn property(
        n: u8,
        kind: &str,
        location: &str,
        crore: (u64, u64),
        amenities: &[&str],
        bedrooms: &str,
    ) -> Property {
        serde_json::from_value(serde_json::json!({
            "id": format!("00000000-0000-4000-8000-0000000001{n:02}"),
            "org_id": "00000000-0000-4000-8000-000000000002",
            "name": format!("Property {n}"), "property_type": kind, "location": location,
            "price_range": null, "price_min": crore.0 * 10_000_000, "price_max": crore.1 * 10_000_000,
            "amenities": amenities, "specifications": {"bedrooms": bedrooms},
            "availability_status": "available", "version": 1,
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn points(fit: &Fit, kind: FitKind) -> u8 {
        fit.factors
            .iter()
            .find(|f| f.factor == kind)
            .unwrap()
            .points
    }

    #[test]
    fn a_property_that_fits_everything_scores_every_point_with_its_reasons() {
        let p = property(
            1,
            "apartment",
            "Worli, Mumbai",
            (28, 35),
            &["sea view deck", "gym"],
            "4",
        );
        let fit = fit(&lead(), &p).unwrap();
        assert_eq!(fit.score, 100, "{fit:?}");
        let budget = &fit.factors[0];
        assert_eq!(
            budget.reason,
            "₹28 Cr - ₹35 Cr is within the budget of ₹25 Cr - ₹35 Cr"
        );
        assert_eq!(fit.factors[4].reason, "has sea view, gym");
        assert_eq!(fit.strengths().len(), 5);
    }

    #[test]
    fn each_factor_falls_off_with_distance() {
        let l = lead();
        // 10% over budget, in the city but not the area, a kin type, one
        // bedroom off, half the amenities.
        let p = property(
            2,
            "penthouse",
            "Bandra West, Mumbai",
            (38, 45),
            &["gym"],
            "3, 5",
        );
        let f = fit(&l, &p).unwrap();
        assert_eq!(points(&f, FitKind::Budget), 22, "{f:?}");
        // `Mumbai` is a place the lead named, and the property is in it.
        assert_eq!(points(&f, FitKind::Location), LOCATION_POINTS);
        assert_eq!(points(&f, FitKind::PropertyType), TYPE_POINTS / 2);
        assert_eq!(points(&f, FitKind::Size), SIZE_POINTS / 2);
        assert_eq!(points(&f, FitKind::Amenities), AMENITY_POINTS / 2);

        let mut only_worli = l.clone();
        only_worli.location = Some("Worli, Mumbai".into());
        only_worli.property_preferences.locations.clear();
        let f = fit(&only_worli, &p).unwrap();
        assert_eq!(points(&f, FitKind::Location), 12, "{f:?}");
        let far = property(3, "villa", "Hebbal, Bangalore", (80, 90), &[], "6");
        let f = fit(&only_worli, &far).unwrap();
        assert_eq!(points(&f, FitKind::Location), 0);
        assert_eq!(points(&f, FitKind::Budget), 0);
        assert_eq!(points(&f, FitKind::PropertyType), 0);
        assert_eq!(points(&f, FitKind::Size), 0);
        assert_eq!(f.factors[4].reason, "lacks sea view, gym");
    }

    #[test]
    fn what_the_lead_has_not_said_scores_half_and_sold_never_matches() {
        let mut l = lead();
        l.property_type = None;
        l.location = None;
        l.budget_range_min = None;
        l.budget_range_max = None;
        l.property_preferences = Default::default();
        let mut p = property(4, "villa", "Juhu, Mumbai", (40, 45), &[], "6");
        let f = fit(&l, &p).unwrap();
        assert_eq!(f.score, 17 + 12 + 10 + 5 + 5);
        assert!(
            f.factors
                .iter()
                .all(|x| x.reason.starts_with("the lead has not said"))
        );
        p.availability_status = Availability::Sold;
        assert!(fit(&l, &p).is_none());
    }

    #[test]
    fn ranking_puts_the_best_fit_first_and_keeps_the_given_order_on_ties() {
        let l = lead();
        let far = property(5, "villa", "Hebbal, Bangalore", (8, 12), &[], "4");
        let near = property(6, "apartment", "Worli, Mumbai", (30, 34), &["gym"], "4");
        let twin = property(7, "apartment", "Worli, Mumbai", (30, 34), &["gym"], "4");
        let mut sold = near.clone();
        sold.availability_status = Availability::Reserved;
        let all = [far.clone(), near.clone(), sold.clone(), twin.clone()];
        let ranked: Vec<PropertyId> = rank(&l, &all).iter().map(|(p, _)| p.id).collect();
        assert_eq!(ranked, [near.id, twin.id, far.id]);
        assert_eq!(order_for(&l, &all), [near.id, twin.id, far.id, sold.id]);
    }

    #[test]
    fn bedrooms_come_from_the_details_or_the_name() {
        let mut p = property(8, "apartment", "Worli", (1, 2), &[], "");
        p.specifications.clear();
        p.name = "Sea-Face Residences, 5 BHK".into();
        assert_eq!(bedrooms_offered(&p), [5]);
        p.specifications
            .insert("configuration".into(), "3 & 4 BHK".into());
        assert_eq!(bedrooms_offered(&p), [3, 4]);
    }
}
