//! Objections the customer raises, in a fixed taxonomy, found by phrases and
//! by words said near each other ("the price is a bit high"), skipping what
//! is plainly negated ("price is not an issue").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Quote;
use crate::words::{find_affirmed, find_near};

/// What the customer objects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionKind {
    Price,
    Location,
    SizeLayout,
    PossessionTimeline,
    Financing,
    BuilderTrust,
    NotDecisionMaker,
    AlreadyBought,
    JustBrowsing,
    Other,
}

impl ObjectionKind {
    pub const ALL: [ObjectionKind; 10] = [
        ObjectionKind::Price,
        ObjectionKind::Location,
        ObjectionKind::SizeLayout,
        ObjectionKind::PossessionTimeline,
        ObjectionKind::Financing,
        ObjectionKind::BuilderTrust,
        ObjectionKind::NotDecisionMaker,
        ObjectionKind::AlreadyBought,
        ObjectionKind::JustBrowsing,
        ObjectionKind::Other,
    ];

    /// As written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionKind::Price => "price",
            ObjectionKind::Location => "location",
            ObjectionKind::SizeLayout => "size_layout",
            ObjectionKind::PossessionTimeline => "possession_timeline",
            ObjectionKind::Financing => "financing",
            ObjectionKind::BuilderTrust => "builder_trust",
            ObjectionKind::NotDecisionMaker => "not_decision_maker",
            ObjectionKind::AlreadyBought => "already_bought",
            ObjectionKind::JustBrowsing => "just_browsing",
            ObjectionKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ObjectionKind> {
        ObjectionKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            ObjectionKind::Price => "price",
            ObjectionKind::Location => "location",
            ObjectionKind::SizeLayout => "size or layout",
            ObjectionKind::PossessionTimeline => "possession timeline",
            ObjectionKind::Financing => "financing",
            ObjectionKind::BuilderTrust => "trust in the builder",
            ObjectionKind::NotDecisionMaker => "not the decision maker",
            ObjectionKind::AlreadyBought => "already bought",
            ObjectionKind::JustBrowsing => "just browsing",
            ObjectionKind::Other => "other",
        }
    }
}

/// One objection, in the customer's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Objection {
    pub kind: ObjectionKind,
    pub quote: Quote,
}

/// How an objection shows: phrases, and pairs of words close together.
struct Cues {
    kind: ObjectionKind,
    phrases: &'static [&'static str],
    near: &'static [(&'static [&'static str], &'static [&'static str])],
}

/// Words for the people a buyer consults.
pub(crate) const FAMILY: &[&str] = &[
    "wife",
    "husband",
    "father",
    "dad",
    "papa",
    "mother",
    "mom",
    "mummy",
    "family",
    "parents",
    "son",
    "daughter",
    "partner",
    "brother",
    "sister",
    "spouse",
    "boss",
    "cofounder",
];

const CONSULT: &[&[&str]] = &[
    &["ask"],
    &["consult"],
    &["discuss", "with"],
    &["check", "with"],
    &["talk", "to"],
    &["talk", "with"],
    &["speak", "to"],
    &["speak", "with"],
    &["confirm", "with"],
];

const TAXONOMY: &[Cues] = &[
    Cues {
        kind: ObjectionKind::Price,
        phrases: &[
            "too expensive",
            "very expensive",
            "quite expensive",
            "expensive",
            "overpriced",
            "over priced",
            "too costly",
            "costly",
            "pricey",
            "out of my budget",
            "out of budget",
            "out of our budget",
            "beyond my budget",
            "beyond our budget",
            "above my budget",
            "over my budget",
            "over budget",
            "exceeds my budget",
            "cant afford",
            "cannot afford",
            "not affordable",
            "unaffordable",
            "mehenga",
            "mehnga",
            "mahanga",
            "mehanga",
            "mehengi",
            "mahangi",
            "too much",
            "bahut zyada",
            "reduce the price",
            "any discount",
            "give a discount",
            "budget se bahar",
        ],
        near: &[(
            &["price*", "cost", "rate", "rates", "quote", "psf", "amount"],
            &[
                "high",
                "higher",
                "steep",
                "problem",
                "issue",
                "concern",
                "stretch",
                "unreasonable",
                "inflated",
                "too",
                "zyada",
            ],
        )],
    },
    Cues {
        kind: ObjectionKind::Location,
        phrases: &[
            "far from my office",
            "far from office",
            "far from work",
            "far from the office",
            "too far",
            "very far",
            "far away",
            "long commute",
            "bahut door",
            "door hai",
            "door padega",
            "dont like the location",
            "dont like the area",
            "location is not good",
            "area is not good",
            "not well connected",
            "poor connectivity",
        ],
        near: &[
            (
                &[
                    "location",
                    "area",
                    "locality",
                    "place",
                    "neighbourhood",
                    "neighborhood",
                ],
                &[
                    "far",
                    "bad",
                    "problem",
                    "issue",
                    "concern",
                    "remote",
                    "noisy",
                    "crowded",
                    "congested",
                    "unsafe",
                ],
            ),
            (
                &["traffic", "commute", "connectivity"],
                &[
                    "bad", "terrible", "problem", "issue", "horrible", "long", "heavy", "poor",
                ],
            ),
        ],
    },
    Cues {
        kind: ObjectionKind::SizeLayout,
        phrases: &[
            "too small",
            "very small",
            "quite small",
            "bit small",
            "small rooms",
            "cramped",
            "not spacious",
            "not enough space",
            "need more space",
            "need a bigger",
            "want a bigger",
            "layout is not good",
            "layout not good",
            "dont like the layout",
            "carpet area is less",
            "carpet area is low",
            "less carpet area",
            "low carpet area",
            "chhota hai",
            "chota hai",
        ],
        near: &[(
            &[
                "carpet",
                "size",
                "sizes",
                "layout",
                "rooms",
                "room",
                "bedroom",
                "bedrooms",
                "kitchen",
                "balcony",
                "sqft",
                "configuration",
            ],
            &[
                "small", "smaller", "less", "low", "tight", "compact", "problem", "issue", "bad",
                "poor", "awkward", "chhota", "chota",
            ],
        )],
    },
    Cues {
        kind: ObjectionKind::PossessionTimeline,
        phrases: &[
            "possession is too late",
            "possession is late",
            "late possession",
            "under construction",
            "not ready",
            "project is delayed",
            "project delay",
            "need ready to move",
            "want ready to move",
            "only ready to move",
            "need immediate possession",
            "cant wait that long",
            "cannot wait that long",
            "too long to wait",
        ],
        near: &[(
            &["possession", "handover", "delivery", "completion"],
            &[
                "late", "far", "long", "delay", "delayed", "too", "problem", "issue", "2028",
                "2029", "2030", "2031",
            ],
        )],
    },
    Cues {
        kind: ObjectionKind::Financing,
        phrases: &[
            "loan not approved",
            "loan is not approved",
            "loan got rejected",
            "loan rejected",
            "loan was rejected",
            "loan is not sanctioned",
            "not eligible for a loan",
            "not eligible for loan",
            "cibil",
            "credit score",
            "emi is too high",
            "emi too high",
            "need to arrange funds",
            "arranging funds",
            "funds are not ready",
            "waiting for my loan",
            "waiting for the loan",
        ],
        near: &[(
            &["loan", "emi", "emis", "financing", "funds", "interest"],
            &[
                "rejected",
                "problem",
                "issue",
                "difficult",
                "high",
                "pending",
                "stuck",
                "worried",
            ],
        )],
    },
    Cues {
        kind: ObjectionKind::BuilderTrust,
        phrases: &[
            "dont trust the builder",
            "dont trust this builder",
            "dont trust builder",
            "dont trust the developer",
            "cant trust",
            "builder reputation",
            "track record",
            "bad reviews",
            "delayed projects",
            "heard bad things",
            "rera",
            "legal issues",
            "litigation",
            "occupancy certificate",
            "fraud",
            "scam",
            "bharosa nahi",
            "trust issue",
            "trust issues",
        ],
        near: &[(
            &["builder", "developer", "builders", "developers"],
            &[
                "trust",
                "reputation",
                "delay",
                "delayed",
                "fraud",
                "bad",
                "reviews",
                "problem",
                "issue",
                "record",
            ],
        )],
    },
    Cues {
        kind: ObjectionKind::NotDecisionMaker,
        phrases: &[
            "not the decision maker",
            "im not the one who decides",
            "not my decision alone",
            "my wife decides",
            "my husband decides",
            "my father decides",
            "family decides",
            "family will decide",
            "family decision",
            "joint decision",
            "puchna padega",
            "poochna padega",
            "puchna hoga",
            "ghar pe baat",
            "family se baat",
        ],
        near: &[],
    },
    Cues {
        kind: ObjectionKind::AlreadyBought,
        phrases: &[
            "already bought",
            "already booked",
            "already purchased",
            "already finalised",
            "already finalized",
            "already taken",
            "bought a flat",
            "booked a flat",
            "bought elsewhere",
            "booked elsewhere",
            "booked another",
            "bought another",
            "went with another",
            "le liya",
            "book kar liya",
            "kharid liya",
        ],
        near: &[],
    },
    Cues {
        kind: ObjectionKind::JustBrowsing,
        phrases: &[
            "just looking !for",
            "just browsing",
            "just exploring",
            "only exploring",
            "only looking !for",
            "just checking",
            "just enquiring",
            "window shopping",
            "not serious",
            "not looking to buy",
            "not planning to buy",
            "no plans to buy",
            "abhi nahi",
            "not buying now",
            "not buying right now",
        ],
        near: &[],
    },
    Cues {
        kind: ObjectionKind::Other,
        phrases: &[
            "not interested",
            "dont call",
            "do not call",
            "stop calling",
            "wrong number",
            "vastu issue",
            "vastu problem",
            "vastu dosh",
            "not vastu compliant",
        ],
        near: &[],
    },
];

/// Whether the customer says they must consult someone (`ask my wife`).
pub(crate) fn consults_someone(tokens: &[String]) -> Option<(usize, usize)> {
    for verb in CONSULT {
        for person in FAMILY {
            for who in ["my", "the", "our"] {
                let phrase = format!("{} {who} {person}", verb.join(" "));
                if let Some(span) = find_affirmed(tokens, &phrase) {
                    return Some(span);
                }
            }
        }
    }
    None
}

/// The objections in one customer line, at most one of each kind.
pub(crate) fn objections_in(tokens: &[String], quote: &Quote) -> Vec<Objection> {
    let mut found = Vec::new();
    for cues in TAXONOMY {
        let by_phrase = cues
            .phrases
            .iter()
            .any(|p| find_affirmed(tokens, p).is_some());
        let by_near = || {
            cues.near
                .iter()
                .any(|(anchors, targets)| find_near(tokens, anchors, targets, 5).is_some())
        };
        let by_consulting =
            || cues.kind == ObjectionKind::NotDecisionMaker && consults_someone(tokens).is_some();
        if by_phrase || by_near() || by_consulting() {
            found.push(Objection {
                kind: cues.kind,
                quote: quote.clone(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokens;

    fn kinds(text: &str) -> Vec<ObjectionKind> {
        let quote = Quote {
            line: 0,
            seconds: 0.0,
            text: text.to_owned(),
        };
        objections_in(&tokens(text), &quote)
            .into_iter()
            .map(|o| o.kind)
            .collect()
    }

    #[test]
    fn the_taxonomy_reads_common_objections() {
        use ObjectionKind::*;
        assert_eq!(kinds("Bahut mehenga hai yaar"), [Price]);
        assert_eq!(kinds("That's out of my budget!"), [Price]);
        assert_eq!(kinds("The price is a bit high for us"), [Price]);
        assert_eq!(kinds("It's too far from my office in BKC"), [Location]);
        assert_eq!(kinds("The carpet area is too small"), [SizeLayout]);
        assert_eq!(
            kinds("Possession is too late, 2029 is far"),
            [PossessionTimeline]
        );
        assert_eq!(kinds("My loan is not approved yet"), [Financing]);
        assert_eq!(
            kinds("I don't trust the builder. Is it RERA registered?"),
            [BuilderTrust]
        );
        assert_eq!(kinds("I need to ask my wife first"), [NotDecisionMaker]);
        assert_eq!(
            kinds("We have already booked a flat in Powai"),
            [AlreadyBought]
        );
        assert_eq!(kinds("I'm just looking, not serious"), [JustBrowsing]);
        assert_eq!(kinds("Not interested, don't call again"), [Other]);
    }

    #[test]
    fn negated_objections_do_not_count() {
        assert!(kinds("Price is not a problem for me").is_empty());
        assert!(kinds("It's not too expensive, actually").is_empty());
        assert!(kinds("No issue with the price").is_empty());
        assert!(kinds("I don't need to ask my wife").is_empty());
        assert!(kinds("I'm just looking for a 4 BHK in Worli").is_empty());
        assert!(kinds("Mehenga nahi hai").is_empty());
    }
}
