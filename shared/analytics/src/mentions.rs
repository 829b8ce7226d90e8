//! What the customer says about the home they want: budget, locations,
//! features, bedrooms, property type, timeline, financing and who decides,
//! each with the words it came from.

use serde::{Deserialize, Serialize};
use soraaya_domain::{BudgetRange, FinancingStatus, Inr, PropertyType, PurchaseTimeline};
use utoipa::ToSchema;

use crate::Quote;
use crate::objections::consults_someone;
use crate::words::{BREAK, find_affirmed, has_any, number_at};

/// Luxury localities of Mumbai, Pune, Bengaluru, Delhi NCR and Hyderabad,
/// matched besides the campaign's own locations.
pub const KNOWN_LOCALITIES: &[&str] = &[
    // Mumbai
    "Worli",
    "Bandra",
    "Juhu",
    "Lower Parel",
    "Powai",
    "Malabar Hill",
    "Prabhadevi",
    "Colaba",
    "Cuffe Parade",
    "Breach Candy",
    "Pali Hill",
    "Andheri",
    "Santacruz",
    "Khar",
    "Tardeo",
    "Mahalaxmi",
    "Peddar Road",
    "Altamount Road",
    "Napean Sea Road",
    "BKC",
    "Bandra Kurla Complex",
    "Dadar",
    "Chembur",
    "Thane",
    "Versova",
    // Pune
    "Koregaon Park",
    "Kalyani Nagar",
    "Baner",
    "Aundh",
    "Boat Club Road",
    "Viman Nagar",
    "Prabhat Road",
    "Kharadi",
    "Hinjewadi",
    // Bengaluru
    "Whitefield",
    "Indiranagar",
    "Koramangala",
    "Sadashivanagar",
    "Lavelle Road",
    "Hebbal",
    "Jayanagar",
    "Richmond Town",
    "Sarjapur Road",
    "Yelahanka",
    // Delhi NCR
    "Golf Course Road",
    "Golf Course Extension",
    "DLF Phase 5",
    "Vasant Vihar",
    "Greater Kailash",
    "Jor Bagh",
    "Golf Links",
    "Chanakyapuri",
    "Lutyens",
    "Sainik Farms",
    "Noida Expressway",
    "Dwarka Expressway",
    "Gurgaon",
    "Gurugram",
    "Noida",
    // Hyderabad
    "Jubilee Hills",
    "Banjara Hills",
    "Gachibowli",
    "Kokapet",
    "HITEC City",
    "Financial District",
    "Madhapur",
    "Kondapur",
];

/// Features and amenities, each with the phrases that name it.
const FEATURES: &[(&str, &[&str])] = &[
    (
        "sea view",
        &[
            "sea view",
            "sea facing",
            "seaview",
            "ocean view",
            "sea side view",
        ],
    ),
    (
        "gym",
        &["gym", "gymnasium", "fitness centre", "fitness center"],
    ),
    ("pool", &["pool", "swimming pool", "infinity pool"]),
    ("parking", &["parking", "car park", "car parks"]),
    ("clubhouse", &["clubhouse", "club house"]),
    ("terrace", &["terrace", "deck"]),
    ("garden", &["garden", "lawn", "green space", "landscaped"]),
    ("concierge", &["concierge"]),
    ("smart home", &["smart home", "home automation"]),
    (
        "servant quarters",
        &[
            "servant quarters",
            "servant quarter",
            "servant room",
            "maid room",
            "staff room",
        ],
    ),
    ("vastu", &["vastu"]),
    ("balcony", &["balcony", "balconies"]),
    ("security", &["security", "gated", "gated community"]),
    ("power backup", &["power backup", "backup"]),
    ("private lift", &["private lift", "private elevator"]),
    ("spa", &["spa"]),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetMention {
    pub range: BudgetRange,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LocationMention {
    pub location: String,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeatureMention {
    pub feature: String,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BedroomMention {
    pub bedrooms: u8,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PropertyTypeMention {
    pub property_type: PropertyType,
    pub quote: Quote,
}

/// A timeline said; `timeline` is empty when the customer is only exploring
/// or names a time the domain has no step for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineMention {
    pub timeline: Option<PurchaseTimeline>,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FinancingMention {
    pub financing: FinancingStatus,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionMakerMention {
    pub decision_maker: bool,
    pub quote: Quote,
}

/// Everything the customer said about what they want, in call order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Mentions {
    pub budgets: Vec<BudgetMention>,
    pub locations: Vec<LocationMention>,
    pub features: Vec<FeatureMention>,
    pub bedrooms: Vec<BedroomMention>,
    pub property_types: Vec<PropertyTypeMention>,
    pub timelines: Vec<TimelineMention>,
    pub financing: Vec<FinancingMention>,
    pub decision_maker: Vec<DecisionMakerMention>,
}

/// A unit of money at `tokens[i]`, in rupees.
fn money_unit(token: Option<&String>) -> Option<u64> {
    match token?.as_str() {
        "crore" | "crores" | "cr" | "crs" | "karod" => Some(10_000_000),
        "lakh" | "lakhs" | "lac" | "lacs" | "l" => Some(100_000),
        _ => None,
    }
}

/// An amount said at `i`: `4.5 crore`, `eighty five lakh`, `rs 3,20,00,000`;
/// the amount, its unit (if said) and the index after it.
fn amount_at(tokens: &[String], i: usize) -> Option<(Option<u64>, Option<u64>, u64, usize)> {
    let token = tokens.get(i)?;
    // Indian or international digit grouping: a plain rupee amount.
    if token.contains(',') {
        let amount = Inr::parse(token).ok()?;
        return Some((Some(amount.as_rupees()), Some(1), 0, i + 1));
    }
    let (hundredths, next) = number_at(tokens, i)?;
    match money_unit(tokens.get(next)) {
        Some(unit) => {
            let rupees = u128::from(hundredths) * u128::from(unit) / 100;
            let rupees = u64::try_from(rupees).ok()?;
            Some((Some(rupees), Some(unit), hundredths, next + 1))
        }
        None => {
            let rupee_word = i > 0 && tokens.get(i - 1).is_some_and(|t| t == "rs" || t == "inr");
            let rupees_after = tokens.get(next).is_some_and(|t| t == "rupees");
            if (rupee_word || rupees_after) && hundredths >= 100_000 * 100 {
                Some((Some(hundredths / 100), Some(1), hundredths, next))
            } else {
                // A bare number may borrow the unit of a range's other end.
                Some((None, None, hundredths, next))
            }
        }
    }
}

/// The budget said in one line, if any: a single amount, a range (`four to
/// five crore`, `between 3 and 4 crore`) or a bound (`two crore max`).
pub(crate) fn budget_in(tokens: &[String]) -> Option<BudgetRange> {
    let word = |k: usize| tokens.get(k).map(String::as_str);
    let mut i = 0;
    while i < tokens.len() {
        let Some((first, first_unit, first_hundredths, next)) = amount_at(tokens, i) else {
            i += 1;
            continue;
        };
        // A range: "X to Y", "X and Y" after "between", "X or Y".
        let joined = matches!(word(next), Some("to" | "or" | "se"))
            || (word(next) == Some("and") && i > 0 && word(i - 1) == Some("between"));
        if joined && let Some((Some(second), Some(unit), _, after)) = amount_at(tokens, next + 1) {
            let low = match (first, first_unit) {
                (Some(low), Some(_)) => Some(low),
                _ => u64::try_from(u128::from(first_hundredths) * u128::from(unit) / 100).ok(),
            };
            if let Some(low) = low {
                let (min, max) = if low <= second {
                    (low, second)
                } else {
                    (second, low)
                };
                let _ = after;
                return Some(BudgetRange {
                    min: Some(Inr::rupees(min)),
                    max: Some(Inr::rupees(max)),
                });
            }
        }
        let Some(amount) = first else {
            i = next.max(i + 1);
            continue;
        };
        let amount = Inr::rupees(amount);
        let before = |words: &[&str]| {
            (1..=2).any(|back| i >= back && word(i - back).is_some_and(|w| words.contains(&w)))
        };
        let after = |words: &[&str]| word(next).is_some_and(|w| words.contains(&w));
        let ceiling = before(&["max", "maximum", "upto", "under", "below", "within", "most"])
            || (i >= 2 && word(i - 2) == Some("up") && word(i - 1) == Some("to"))
            || after(&["max", "maximum", "tops", "tak", "only"]);
        let floor = before(&["above", "minimum", "min", "least", "over"])
            || (i >= 2 && word(i - 2) == Some("more") && word(i - 1) == Some("than"))
            || after(&["plus", "onwards", "upwards", "se"]);
        let range = if ceiling {
            BudgetRange {
                min: None,
                max: Some(amount),
            }
        } else if floor {
            BudgetRange {
                min: Some(amount),
                max: None,
            }
        } else {
            BudgetRange {
                min: Some(amount),
                max: Some(amount),
            }
        };
        return Some(range);
    }
    None
}

/// The locations named in a line: the campaign's first, then the built-in list.
fn locations_in(tokens: &[String], campaign_locations: &[String]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let names = campaign_locations
        .iter()
        .map(String::as_str)
        .chain(KNOWN_LOCALITIES.iter().copied());
    for name in names {
        let phrase = crate::words::tokens(name).join(" ");
        if phrase.is_empty() || phrase.split(' ').any(|w| w == BREAK) {
            continue;
        }
        let already = found.iter().any(|f| f.eq_ignore_ascii_case(name));
        if !already && find_affirmed(tokens, &phrase).is_some() {
            found.push(name.to_owned());
        }
    }
    found
}

fn bedrooms_in(tokens: &[String]) -> Option<u8> {
    (0..tokens.len()).find_map(|i| {
        let (hundredths, next) = number_at(tokens, i)?;
        let unit = tokens.get(next)?;
        let is_bhk = matches!(
            unit.as_str(),
            "bhk" | "bedroom" | "bedrooms" | "bed" | "bhks"
        );
        let whole = hundredths % 100 == 0;
        let count = u8::try_from(hundredths / 100)
            .ok()
            .filter(|n| (1..=20).contains(n))?;
        (is_bhk && whole && tokens.get(i).is_some_and(|t| t != "a")).then_some(count)
    })
}

fn property_type_in(tokens: &[String]) -> Option<PropertyType> {
    let table: &[(PropertyType, &[&str])] = &[
        (
            PropertyType::Penthouse,
            &["penthouse", "penthouses", "sky villa"],
        ),
        (PropertyType::Villa, &["villa", "villas"]),
        (
            PropertyType::Bungalow,
            &["bungalow", "bungalows", "independent house", "kothi"],
        ),
        (PropertyType::Duplex, &["duplex", "triplex"]),
        (
            PropertyType::RowHouse,
            &["row house", "rowhouse", "townhouse"],
        ),
        (PropertyType::Farmhouse, &["farmhouse", "farm house"]),
        (PropertyType::Plot, &["plot", "land parcel"]),
        (
            PropertyType::Commercial,
            &["office space", "shop", "showroom", "commercial"],
        ),
        (
            PropertyType::Apartment,
            &["apartment", "flat", "bhk", "condo", "residence"],
        ),
    ];
    table
        .iter()
        .find(|(_, words)| words.iter().any(|w| find_affirmed(tokens, w).is_some()))
        .map(|(kind, _)| *kind)
}

/// The timeline said in a line: `Some(None)` for "just exploring".
fn timeline_in(tokens: &[String]) -> Option<Option<PurchaseTimeline>> {
    const NOW: &[&str] = &[
        "immediately",
        "right away",
        "asap",
        "as soon as possible",
        "this month",
        "turant",
        "urgent",
        "urgently",
        "right now",
    ];
    const EXPLORING: &[&str] = &[
        "just exploring",
        "just looking !for",
        "no hurry",
        "not in a hurry",
        "no rush",
        "just browsing",
        "no timeline",
        "not sure when",
    ];
    if has_any(tokens, EXPLORING) {
        return Some(None);
    }
    if NOW.iter().any(|p| find_affirmed(tokens, p).is_some()) {
        return Some(Some(PurchaseTimeline::Immediate));
    }
    for (i, token) in tokens.iter().enumerate() {
        let months = match token.as_str() {
            "month" | "months" | "mahine" | "mahina" => 1,
            "year" | "years" | "saal" => 12,
            _ => continue,
        };
        let before = |k: usize| {
            i.checked_sub(k)
                .and_then(|j| tokens.get(j))
                .map(String::as_str)
        };
        let count = (1..=3).find_map(|back| {
            let start = i.checked_sub(back)?;
            number_at(tokens, start)
                .filter(|(_, next)| *next == i)
                .map(|(n, _)| n)
        });
        let count = match (count, before(1)) {
            (Some(n), _) => n,
            (None, Some("next" | "this" | "few" | "couple")) if months == 12 => 100,
            (None, Some("few")) => 600,
            (None, Some("of")) if before(2) == Some("couple") => 200,
            (None, _) => continue,
        };
        let total = u128::from(count) * months / 100;
        let timeline = PurchaseTimeline::parse(&format!("{total} months")).ok();
        return Some(timeline);
    }
    None
}

fn financing_in(tokens: &[String]) -> Option<FinancingStatus> {
    const PRE_APPROVED: &[&str] = &[
        "pre approved",
        "preapproved",
        "loan is approved",
        "loan approved",
        "loan is sanctioned",
        "loan sanctioned",
        "already approved",
    ];
    const CASH: &[&str] = &[
        "cash",
        "self funded",
        "self funding",
        "selffunded",
        "own funds",
        "own money",
        "full payment",
        "from my savings",
        "no loan",
        "dont need a loan",
        "dont need loan",
        "wont need a loan",
        "without a loan",
        "without loan",
        "sale of my",
        "selling my",
    ];
    const LOAN: &[&str] = &[
        "loan",
        "home loan",
        "financing",
        "mortgage",
        "emi",
        "emis",
        "bank finance",
    ];
    if PRE_APPROVED
        .iter()
        .any(|p| find_affirmed(tokens, p).is_some())
    {
        Some(FinancingStatus::PreApproved)
    } else if has_any(tokens, CASH) {
        Some(FinancingStatus::CashBuyer)
    } else if has_any(tokens, LOAN) {
        Some(FinancingStatus::NeedsFinancing)
    } else {
        None
    }
}

/// Whether the line says who decides: `prior_question` is set when the
/// agent's last line asked whether the customer decides.
fn decision_maker_in(tokens: &[String], prior_question: bool) -> Option<bool> {
    const YES: &[&str] = &[
        "i am the decision maker",
        "im the decision maker",
        "i decide",
        "i make the decision",
        "i take the decision",
        "i take the decisions",
        "i will decide",
        "my decision",
        "i am the one who decides",
        "im the one who decides",
        "i am the buyer",
        "main decide",
        "i make the decisions",
    ];
    if consults_someone(tokens).is_some()
        || has_any(
            tokens,
            &[
                "not the decision maker",
                "my wife decides",
                "my husband decides",
                "my father decides",
                "family will decide",
                "family decides",
                "joint decision",
                "puchna padega",
                "poochna padega",
                "not my decision alone",
            ],
        )
    {
        return Some(false);
    }
    if YES.iter().any(|p| find_affirmed(tokens, p).is_some()) {
        return Some(true);
    }
    let affirmative = tokens.first().is_some_and(|t| {
        matches!(
            t.as_str(),
            "yes" | "yeah" | "haan" | "ha" | "ji" | "yep" | "correct" | "bilkul"
        )
    });
    (prior_question && affirmative).then_some(true)
}

/// Adds what one customer line says.
pub(crate) fn collect(
    mentions: &mut Mentions,
    tokens: &[String],
    quote: &Quote,
    campaign_locations: &[String],
    asked_decision_maker: bool,
) {
    if let Some(range) = budget_in(tokens) {
        mentions.budgets.push(BudgetMention {
            range,
            quote: quote.clone(),
        });
    }
    for location in locations_in(tokens, campaign_locations) {
        mentions.locations.push(LocationMention {
            location,
            quote: quote.clone(),
        });
    }
    for (feature, phrases) in FEATURES {
        if phrases.iter().any(|p| find_affirmed(tokens, p).is_some()) {
            mentions.features.push(FeatureMention {
                feature: (*feature).to_owned(),
                quote: quote.clone(),
            });
        }
    }
    if let Some(bedrooms) = bedrooms_in(tokens) {
        mentions.bedrooms.push(BedroomMention {
            bedrooms,
            quote: quote.clone(),
        });
    }
    if let Some(property_type) = property_type_in(tokens) {
        mentions.property_types.push(PropertyTypeMention {
            property_type,
            quote: quote.clone(),
        });
    }
    if let Some(timeline) = timeline_in(tokens) {
        mentions.timelines.push(TimelineMention {
            timeline,
            quote: quote.clone(),
        });
    }
    if let Some(financing) = financing_in(tokens) {
        mentions.financing.push(FinancingMention {
            financing,
            quote: quote.clone(),
        });
    }
    if let Some(decision_maker) = decision_maker_in(tokens, asked_decision_maker) {
        mentions.decision_maker.push(DecisionMakerMention {
            decision_maker,
            quote: quote.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokens;

    fn budget(text: &str) -> Option<(Option<u64>, Option<u64>)> {
        budget_in(&tokens(text))
            .map(|r| (r.min.map(|m| m.as_rupees()), r.max.map(|m| m.as_rupees())))
    }

    const CR: u64 = 10_000_000;
    const L: u64 = 100_000;

    #[test]
    fn budgets_in_digits_words_and_hindi() {
        assert_eq!(
            budget("around four to five crore"),
            Some((Some(4 * CR), Some(5 * CR)))
        );
        assert_eq!(
            budget("between three and four crore"),
            Some((Some(3 * CR), Some(4 * CR)))
        );
        assert_eq!(budget("two crore max"), Some((None, Some(2 * CR))));
        assert_eq!(
            budget("dedh crore"),
            Some((Some(15 * CR / 10), Some(15 * CR / 10)))
        );
        assert_eq!(budget("dhai crore tak"), Some((None, Some(25 * CR / 10))));
        assert_eq!(
            budget("eighty five lakh"),
            Some((Some(85 * L), Some(85 * L)))
        );
        assert_eq!(
            budget("one and a half crore"),
            Some((Some(15 * CR / 10), Some(15 * CR / 10)))
        );
        assert_eq!(
            budget("₹3.2 Cr"),
            Some((Some(32 * CR / 10), Some(32 * CR / 10)))
        );
        assert_eq!(
            budget("3,20,00,000"),
            Some((Some(32 * CR / 10), Some(32 * CR / 10)))
        );
        assert_eq!(
            budget("50 lakh to 1.2 crore"),
            Some((Some(50 * L), Some(12 * CR / 10)))
        );
        assert_eq!(budget("4-5 Cr"), Some((Some(4 * CR), Some(5 * CR))));
        assert_eq!(budget("above 10 crore"), Some((Some(10 * CR), None)));
        assert_eq!(budget("a 3 BHK within 6 months"), None);
        assert_eq!(budget("99999999999999999999 crore"), None);
    }

    #[test]
    fn other_mentions() {
        let t = tokens("Looking for a three bhk penthouse in Worli, sea facing, with a pool");
        assert_eq!(bedrooms_in(&t), Some(3));
        assert_eq!(property_type_in(&t), Some(PropertyType::Penthouse));
        assert_eq!(locations_in(&t, &[]), ["Worli"]);
        assert_eq!(
            timeline_in(&tokens("within three months")),
            Some(Some(PurchaseTimeline::ThreeMonths))
        );
        assert_eq!(
            timeline_in(&tokens("in 6 months")),
            Some(Some(PurchaseTimeline::SixMonths))
        );
        assert_eq!(
            timeline_in(&tokens("maybe next year")),
            Some(Some(PurchaseTimeline::OneYear))
        );
        assert_eq!(
            timeline_in(&tokens("immediately")),
            Some(Some(PurchaseTimeline::Immediate))
        );
        assert_eq!(timeline_in(&tokens("just exploring")), Some(None));
        assert_eq!(
            financing_in(&tokens("self-funded, no loan")),
            Some(FinancingStatus::CashBuyer)
        );
        assert_eq!(
            financing_in(&tokens("my loan is pre-approved")),
            Some(FinancingStatus::PreApproved)
        );
        assert_eq!(
            financing_in(&tokens("will take a home loan")),
            Some(FinancingStatus::NeedsFinancing)
        );
        assert_eq!(
            decision_maker_in(&tokens("Yes, I decide"), false),
            Some(true)
        );
        assert_eq!(decision_maker_in(&tokens("Yes"), true), Some(true));
        assert_eq!(decision_maker_in(&tokens("Yes"), false), None);
        assert_eq!(
            decision_maker_in(&tokens("I need to ask my husband"), false),
            Some(false)
        );
    }
}
