//! Demo data for trying Soraaya locally: luxury leads in Mumbai and other
//! Indian cities, priced in crores, in every kind of status; regional agent
//! personas; properties; and a draft campaign of the Mumbai leads, ready to
//! start. Seeding is idempotent: what exists is left alone.

use serde_json::json;
use soraaya_domain::OrgId;
use tracing::info;

use soraaya_campaigns::service::{self as campaigns, CampaignError, PersonaInput, PropertyInput};
use soraaya_core::App;
use soraaya_core::validation::Patch;
use soraaya_leads::input::LeadInput;
use soraaya_leads::record::Actor;
use soraaya_leads::service::{self, LeadError};

/// What a seeding run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub leads_created: usize,
    pub leads_present: usize,
    pub personas_created: usize,
    pub properties_created: usize,
    /// The demo campaign, made now or before.
    pub campaign_id: Option<soraaya_domain::CampaignId>,
}

/// The name of the demo campaign.
pub const DEMO_CAMPAIGN: &str = "Mumbai Sea-Face Residences";

/// name, phone, email, property, type, location, budget, status, priority,
/// source, timeline, financing, notes
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Twenty ultra-luxury Mumbai leads (₹3.2 Cr to ₹45 Cr).
const MUMBAI: [Row; 20] = [
    (
        "Rohan Malhotra",
        "+91 98200 10001",
        "rohan.malhotra@example.in",
        "Aurelia Towers",
        "penthouse",
        "Worli",
        "₹38-45 Cr",
        "qualified",
        "high",
        "referral",
        "3_months",
        "cash_buyer",
        "Wants a full-floor penthouse with sea view; decision with spouse.",
    ),
    (
        "Ananya Desai",
        "+91 98200 10002",
        "ananya.desai@example.in",
        "The Sea Crest",
        "apartment",
        "Worli",
        "₹12-15 Cr",
        "to_call",
        "high",
        "website",
        "6_months",
        "pre_approved",
        "",
    ),
    (
        "Vikram Singhania",
        "+91 98200 10003",
        "vikram@example.in",
        "Malabar Mansions",
        "duplex",
        "Malabar Hill",
        "₹28 Cr",
        "callback_requested",
        "high",
        "walk-in",
        "immediate",
        "cash_buyer",
        "Asked to be called after his board meeting.",
    ),
    (
        "Priya Khanna",
        "+91 98200 10004",
        "priya.khanna@example.in",
        "Parel One Avenue",
        "apartment",
        "Lower Parel",
        "₹6.5-8 Cr",
        "follow_up",
        "medium",
        "99acres",
        "6_months",
        "needs_financing",
        "Did not pick up twice.",
    ),
    (
        "Arjun Mehra",
        "+91 98200 10005",
        "",
        "Juhu Sands Villa",
        "villa",
        "Juhu",
        "₹32 Cr",
        "to_call",
        "high",
        "instagram",
        "1_year",
        "",
        "",
    ),
    (
        "Kavya Reddy",
        "+91 98200 10006",
        "kavya.reddy@example.in",
        "Bandstand Bay",
        "apartment",
        "Bandra West",
        "₹9-11 Cr",
        "not_interested",
        "low",
        "website",
        "",
        "",
        "Bought elsewhere in Khar.",
    ),
    (
        "Siddharth Kapoor",
        "+91 98200 10007",
        "sid.kapoor@example.in",
        "Altamount Heights",
        "penthouse",
        "Altamount Road",
        "₹40-45 Cr",
        "human_follow_up",
        "high",
        "referral",
        "3_months",
        "cash_buyer",
        "NRI from Dubai; wants a private viewing in December.",
    ),
    (
        "Meera Iyer",
        "+91 98200 10008",
        "meera.iyer@example.in",
        "Carmichael Court",
        "apartment",
        "Cumballa Hill",
        "₹14 Cr",
        "to_call",
        "medium",
        "magicbricks",
        "6_months",
        "pre_approved",
        "",
    ),
    (
        "Aditya Bajaj",
        "+91 98200 10009",
        "",
        "Prabhadevi Skyline",
        "apartment",
        "Prabhadevi",
        "₹7.5 Cr",
        "unresponsive",
        "low",
        "website",
        "",
        "",
        "Five attempts, no answer.",
    ),
    (
        "Nisha Oberoi",
        "+91 98200 10010",
        "nisha.oberoi@example.in",
        "Pali Hill Residence",
        "bungalow",
        "Pali Hill, Bandra",
        "₹35 Cr",
        "qualified",
        "high",
        "referral",
        "immediate",
        "cash_buyer",
        "Ready to visit this weekend.",
    ),
    (
        "Karan Thakkar",
        "+91 98200 10011",
        "karan.t@example.in",
        "Worli Seaface Grand",
        "apartment",
        "Worli",
        "₹18-22 Cr",
        "to_call",
        "high",
        "walk-in",
        "3_months",
        "pre_approved",
        "",
    ),
    (
        "Tara Sethi",
        "+91 98200 10012",
        "tara.sethi@example.in",
        "Breach Candy Villas",
        "villa",
        "Breach Candy",
        "₹25 Cr",
        "human_input_needed",
        "medium",
        "website",
        "1_year",
        "",
        "Asked about NRI tax rules; needs an expert.",
    ),
    (
        "Rahul Jhaveri",
        "+91 98200 10013",
        "",
        "Kemps Corner Crest",
        "apartment",
        "Kemps Corner",
        "₹10.5 Cr",
        "call_failed",
        "medium",
        "99acres",
        "",
        "",
        "Number rang out with a network error.",
    ),
    (
        "Ishita Goenka",
        "+91 98200 10014",
        "ishita.goenka@example.in",
        "Napean Sea Court",
        "duplex",
        "Napean Sea Road",
        "₹30-34 Cr",
        "to_call",
        "high",
        "referral",
        "6_months",
        "cash_buyer",
        "",
    ),
    (
        "Dev Sharma",
        "+91 98200 10015",
        "dev.sharma@example.in",
        "Lokhandwala Luxe",
        "apartment",
        "Andheri West",
        "₹3.2 Cr",
        "to_call",
        "low",
        "facebook",
        "1_year",
        "needs_financing",
        "",
    ),
    (
        "Zara Merchant",
        "+91 98200 10016",
        "zara.m@example.in",
        "Juhu Tara Residences",
        "apartment",
        "Juhu",
        "₹16 Cr",
        "follow_up",
        "medium",
        "instagram",
        "6_months",
        "pre_approved",
        "Voicemail; call back in the evening.",
    ),
    (
        "Aman Chopra",
        "+91 98200 10017",
        "",
        "Powai Lakeside",
        "apartment",
        "Powai",
        "₹4.5-5 Cr",
        "to_call",
        "low",
        "website",
        "1_year",
        "needs_financing",
        "",
    ),
    (
        "Riya Shetty",
        "+91 98200 10018",
        "riya.shetty@example.in",
        "Marine Drive Mansion",
        "apartment",
        "Marine Drive",
        "₹24-27 Cr",
        "qualified",
        "high",
        "referral",
        "3_months",
        "cash_buyer",
        "Sea-facing only; budget confirmed.",
    ),
    (
        "Kunal Agarwal",
        "+91 98200 10019",
        "kunal.agarwal@example.in",
        "Lower Parel Signature",
        "penthouse",
        "Lower Parel",
        "₹20 Cr",
        "to_call",
        "medium",
        "99acres",
        "6_months",
        "pre_approved",
        "",
    ),
    (
        "Sana Kapadia",
        "+91 98200 10020",
        "sana.kapadia@example.in",
        "Carter Road Residency",
        "apartment",
        "Carter Road, Bandra",
        "₹11-13 Cr",
        "callback_requested",
        "high",
        "walk-in",
        "3_months",
        "cash_buyer",
        "Call back after Diwali travel.",
    ),
];

/// Fifteen leads across Delhi NCR, Bangalore, Pune, Hyderabad and Chennai.
const OTHER_CITIES: [Row; 15] = [
    (
        "Gaurav Bhatia",
        "+91 98100 20001",
        "gaurav.bhatia@example.in",
        "Golf Links Estate",
        "bungalow",
        "Golf Links, New Delhi",
        "₹45 Cr",
        "qualified",
        "high",
        "referral",
        "3_months",
        "cash_buyer",
        "Old-money family; wants a garden.",
    ),
    (
        "Simran Kaur",
        "+91 98100 20002",
        "simran.kaur@example.in",
        "DLF Camellias",
        "apartment",
        "Golf Course Road, Gurugram",
        "₹18-20 Cr",
        "to_call",
        "high",
        "website",
        "6_months",
        "pre_approved",
        "",
    ),
    (
        "Rajat Suri",
        "+91 98100 20003",
        "",
        "Aravali Farms",
        "farmhouse",
        "Chattarpur, New Delhi",
        "₹22 Cr",
        "follow_up",
        "medium",
        "walk-in",
        "1_year",
        "cash_buyer",
        "",
    ),
    (
        "Neha Arora",
        "+91 98100 20004",
        "neha.arora@example.in",
        "Noida Skycourt",
        "apartment",
        "Sector 150, Noida",
        "₹4 Cr",
        "not_interested",
        "low",
        "facebook",
        "",
        "",
        "Found the location too far.",
    ),
    (
        "Aditi Rao",
        "+91 98450 30001",
        "aditi.rao@example.in",
        "Lavelle Heights",
        "penthouse",
        "Lavelle Road, Bangalore",
        "₹15 Cr",
        "to_call",
        "high",
        "referral",
        "3_months",
        "pre_approved",
        "",
    ),
    (
        "Varun Hegde",
        "+91 98450 30002",
        "varun.hegde@example.in",
        "Whitefield Grove",
        "villa",
        "Whitefield, Bangalore",
        "₹7-8 Cr",
        "human_follow_up",
        "medium",
        "website",
        "6_months",
        "needs_financing",
        "Works in tech; wants a site visit with family.",
    ),
    (
        "Pooja Menon",
        "+91 98450 30003",
        "",
        "Koramangala Crest",
        "apartment",
        "Koramangala, Bangalore",
        "₹5.5 Cr",
        "to_call",
        "low",
        "99acres",
        "1_year",
        "needs_financing",
        "",
    ),
    (
        "Ameya Kulkarni",
        "+91 98220 40001",
        "ameya.k@example.in",
        "Koregaon Park Residences",
        "apartment",
        "Koregaon Park, Pune",
        "₹6 Cr",
        "qualified",
        "medium",
        "website",
        "3_months",
        "pre_approved",
        "",
    ),
    (
        "Sneha Joshi",
        "+91 98220 40002",
        "sneha.joshi@example.in",
        "Kalyani Nagar Villas",
        "villa",
        "Kalyani Nagar, Pune",
        "₹9 Cr",
        "unresponsive",
        "low",
        "instagram",
        "",
        "",
        "",
    ),
    (
        "Karthik Reddy",
        "+91 98480 50001",
        "karthik.reddy@example.in",
        "Jubilee Hills Palace",
        "bungalow",
        "Jubilee Hills, Hyderabad",
        "₹28 Cr",
        "to_call",
        "high",
        "referral",
        "6_months",
        "cash_buyer",
        "",
    ),
    (
        "Lakshmi Varma",
        "+91 98480 50002",
        "",
        "Banjara Crest",
        "apartment",
        "Banjara Hills, Hyderabad",
        "₹8.5 Cr",
        "callback_requested",
        "medium",
        "walk-in",
        "3_months",
        "pre_approved",
        "Prefers calls on Saturday morning.",
    ),
    (
        "Harsha Naidu",
        "+91 98480 50003",
        "harsha.naidu@example.in",
        "Gachibowli Towers",
        "apartment",
        "Gachibowli, Hyderabad",
        "₹3.5 Cr",
        "to_call",
        "low",
        "website",
        "1_year",
        "needs_financing",
        "",
    ),
    (
        "Vidya Subramanian",
        "+91 98400 60001",
        "vidya.s@example.in",
        "Boat Club Road Estate",
        "bungalow",
        "Boat Club Road, Chennai",
        "₹30 Cr",
        "human_input_needed",
        "high",
        "referral",
        "6_months",
        "cash_buyer",
        "Wants vastu details the agent could not answer.",
    ),
    (
        "Arvind Krishnan",
        "+91 98400 60002",
        "",
        "ECR Beach House",
        "villa",
        "East Coast Road, Chennai",
        "₹12 Cr",
        "to_call",
        "medium",
        "website",
        "1_year",
        "",
        "",
    ),
    (
        "Deepa Raman",
        "+91 98400 60003",
        "deepa.raman@example.in",
        "Poes Garden Residency",
        "apartment",
        "Poes Garden, Chennai",
        "₹10 Cr",
        "call_failed",
        "medium",
        "99acres",
        "",
        "",
        "",
    ),
];

fn input(row: &Row, tomorrow_evening: &str) -> LeadInput {
    let (
        name,
        phone,
        email,
        property,
        kind,
        location,
        budget,
        status,
        priority,
        source,
        timeline,
        financing,
        notes,
    ) = *row;
    let mut body = json!({
        "contact_person": name,
        "phone_number": phone,
        "property_name": property,
        "property_type": kind,
        "location": location,
        "price_range": budget,
        "status": status,
        "priority": priority,
        "lead_source": source,
        "consent_source": "enquiry form",
        "tags": if location.contains("Worli") || location.contains("Bandra") { json!(["sea view"]) } else { json!([]) },
    });
    for (field, value) in [
        ("email", email),
        ("purchase_timeline", timeline),
        ("financing_status", financing),
        ("notes", notes),
    ] {
        if !value.is_empty() {
            body[field] = json!(value);
        }
    }
    if status == "callback_requested" {
        body["callback_scheduled_at"] = json!(tomorrow_evening);
    }
    serde_json::from_value(body).expect("demo rows are valid lead input")
}

/// name, region, accent, style, traits, market knowledge, greeting
type PersonaRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const PERSONAS: [PersonaRow; 4] = [
    (
        "Aisha",
        "mumbai",
        "indian",
        "consultative",
        &["warm", "discreet", "knows South Mumbai by the lane"],
        "Sea-facing towers in Worli and Prabhadevi trade at ₹80,000-1,20,000 per sq ft; Malabar Hill and Altamount Road are the most exclusive addresses; Bandra West and Juhu suit film and business families; ready-to-move homes carry a premium over under-construction ones.",
        "Good evening {lead_name}, this is {agent_name} from {company}. Is this a good moment for two minutes about homes in Mumbai?",
    ),
    (
        "Arjun",
        "delhi",
        "indian",
        "formal",
        &["courteous", "precise", "North Indian warmth"],
        "Golf Course Road and DLF Phase 5 in Gurugram lead NCR luxury; Lutyens' bungalows rarely change hands; Noida's Sector 150 suits buyers wanting space and greenery.",
        "Namaste {lead_name}, this is {agent_name} calling from {company} about your enquiry for a home in the NCR.",
    ),
    (
        "Kavya",
        "bangalore",
        "indian",
        "casual",
        &["friendly", "tech-savvy", "quick with numbers"],
        "Hebbal lake-facing projects and Koramangala villas suit founders and senior tech leaders; the airport corridor (Devanahalli) is growing fastest; commute time to Whitefield and ORR matters most.",
        "Hi {lead_name}, {agent_name} here from {company} — you'd asked about homes in Bangalore. Got a minute?",
    ),
    (
        "Sophie",
        "mumbai",
        "uk",
        "formal",
        &["polished", "patient with NRI questions"],
        "NRI buyers need NRE/NRO accounts, may repatriate sale proceeds within limits, and pay TDS on resale; power of attorney lets family complete registration.",
        "Good day {lead_name}, this is {agent_name} from {company}, calling about residences in Mumbai for buyers abroad.",
    ),
];

/// name, type, location, price range, amenities, specifications
type PropertyRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const PROPERTIES: [PropertyRow; 6] = [
    (
        "Altamount Sky Villa",
        "penthouse",
        "Altamount Road, Mumbai",
        "₹38-45 Cr",
        &["private pool", "sky deck", "valet", "concierge"],
        &[
            ("bedrooms", "5"),
            ("carpet_area", "7,200 sq ft"),
            ("view", "Arabian Sea and Mahalaxmi racecourse"),
            ("possession", "ready"),
        ],
    ),
    (
        "Worli Sea-Face Residences, 5 BHK",
        "apartment",
        "Worli, Mumbai",
        "₹28-35 Cr",
        &["sea-facing deck", "spa", "4 car parks"],
        &[
            ("bedrooms", "5"),
            ("carpet_area", "4,800 sq ft"),
            ("floor", "52nd"),
            ("possession", "ready"),
        ],
    ),
    (
        "Bandra Bandstand Residences, 4 BHK",
        "apartment",
        "Bandra West, Mumbai",
        "₹12-16 Cr",
        &["clubhouse", "gym", "kids' play area"],
        &[
            ("bedrooms", "4"),
            ("carpet_area", "2,650 sq ft"),
            ("possession", "December 2027"),
        ],
    ),
    (
        "Juhu Beachfront Villa",
        "villa",
        "Juhu, Mumbai",
        "₹40-45 Cr",
        &["private garden", "home theatre", "staff quarters"],
        &[
            ("bedrooms", "6"),
            ("plot", "6,000 sq ft"),
            ("possession", "ready"),
        ],
    ),
    (
        "Golf Course Road Residences",
        "apartment",
        "Gurugram, Delhi NCR",
        "₹25-35 Cr",
        &["golf views", "private lift lobby"],
        &[("bedrooms", "4"), ("carpet_area", "6,000 sq ft")],
    ),
    (
        "Hebbal Lake Terraces",
        "apartment",
        "Hebbal, Bangalore",
        "₹8-12 Cr",
        &["lake views", "co-working lounge"],
        &[("bedrooms", "4"), ("carpet_area", "4,100 sq ft")],
    ),
];

fn persona_input(row: &PersonaRow) -> PersonaInput {
    let (name, region, accent, style, traits, knowledge, greeting) = *row;
    PersonaInput {
        name: Some(name.into()),
        region: Some(region.into()),
        accent: Some(accent.into()),
        communication_style: Some(style.into()),
        personality_traits: Some(traits.iter().map(|t| (*t).to_owned()).collect()),
        market_knowledge: Some(knowledge.into()),
        script_customizations: Some(soraaya_domain::ScriptCustomizations {
            greeting: Some(greeting.into()),
            escalation_triggers: vec![
                "tax or legal questions".into(),
                "asks for a senior advisor".into(),
            ],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn property_input(row: &PropertyRow) -> PropertyInput {
    let (name, kind, location, price, amenities, specifications) = *row;
    PropertyInput {
        name: Some(name.into()),
        property_type: Some(kind.into()),
        location: Some(location.into()),
        price_range: Patch::Set(price.into()),
        amenities: Some(amenities.iter().map(|a| (*a).to_owned()).collect()),
        specifications: Some(
            specifications
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..Default::default()
    }
}

/// Personas, properties and the draft campaign of the Mumbai leads.
async fn seed_campaign(
    app: &App,
    org: OrgId,
    defaults: soraaya_domain::CallingSettings,
    seeded: &mut Seeded,
) -> Result<(), CampaignError> {
    let mut personas = campaigns::list_personas(app, org).await?;
    if personas.is_empty() {
        for row in &PERSONAS {
            personas.push(campaigns::create_persona(app, org, &persona_input(row)).await?);
            seeded.personas_created += 1;
        }
    }
    let mut properties =
        campaigns::list_properties(app, org, &campaigns::PropertyFilter::default()).await?;
    if properties.is_empty() {
        for row in &PROPERTIES {
            properties.push(campaigns::create_property(app, org, &property_input(row)).await?);
            seeded.properties_created += 1;
        }
    }
    let existing = campaigns::list_campaigns(app, org, &campaigns::CampaignFilter::default())
        .await?
        .into_iter()
        .find(|c| c.name == DEMO_CAMPAIGN);
    let campaign = match existing {
        Some(campaign) => campaign,
        None => {
            let input: campaigns::CampaignInput = serde_json::from_value(json!({
                "name": DEMO_CAMPAIGN,
                "description": "Ultra-luxury buyers for ready sea-facing homes in South and Western Mumbai.",
                "campaign_type": "outbound",
                "priority_level": "high",
                "persona_id": personas.iter().find(|p| p.name == "Aisha").map(|p| p.id),
                "property_ids": properties.iter().filter(|p| p.location.ends_with("Mumbai")).map(|p| p.id).collect::<Vec<_>>(),
                "qualification_criteria": {
                    "budget_min": "3 Cr",
                    "timelines": ["immediate", "3_months", "6_months"],
                    "locations": ["Worli", "Bandra", "Juhu", "Lower Parel", "Malabar Hill", "Altamount", "Prabhadevi", "Powai"],
                    "financing": [],
                    "custom_questions": ["Is the home for the family to live in, or an investment?"],
                    "qualify_at": 70
                },
                "settings": {
                    "max_concurrent_calls": 5,
                    "window": { "start": "09:00", "end": "21:00" },
                    "max_attempts": 3
                }
            }))
            .map_err(|err| campaigns::CampaignError::Store(soraaya_store::StoreError::Invalid(err.to_string())))?;
            campaigns::create_campaign(app, org, None, defaults, &input).await?
        }
    };
    seeded.campaign_id = Some(campaign.id);
    Ok(())
}

/// Why the demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error(transparent)]
    Account(#[from] soraaya_accounts::AccountError),
}

/// Loads the demo data into an organisation.
pub async fn seed(app: &App, org: OrgId) -> Result<Seeded, DemoError> {
    let actor = Actor::system("demo data");
    let tomorrow = app.clock.now() + jiff::SignedDuration::from_hours(24);
    let tomorrow_evening = format!(
        "{} 18:30",
        jiff::tz::TimeZone::get("Asia/Kolkata")
            .map(|z| z.to_datetime(tomorrow).date())
            .unwrap_or_default()
    );
    let mut seeded = Seeded::default();
    let defaults = soraaya_accounts::org(app, org)
        .await?
        .settings
        .campaign_defaults;
    seed_campaign(app, org, defaults, &mut seeded).await?;
    let campaign = seeded.campaign_id;
    for (i, row) in MUMBAI.iter().chain(OTHER_CITIES.iter()).enumerate() {
        let mut lead = input(row, &tomorrow_evening);
        if i < MUMBAI.len()
            && let Some(campaign) = campaign
        {
            lead.campaign_id = Patch::Set(campaign.as_uuid());
        }
        match service::create(app, org, &actor, lead).await {
            Ok(_) => seeded.leads_created += 1,
            Err(LeadError::DuplicatePhone { .. }) => seeded.leads_present += 1,
            Err(err) => return Err(err.into()),
        }
    }
    info!(org_id = %org, leads = seeded.leads_created, personas = seeded.personas_created, properties = seeded.properties_created, "demo data loaded");
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mumbai_budgets_span_the_promised_range() {
        let budgets: Vec<soraaya_domain::BudgetRange> = MUMBAI
            .iter()
            .map(|row| soraaya_domain::BudgetRange::parse(row.6).unwrap())
            .collect();
        let lowest = budgets.iter().filter_map(|b| b.min).min().unwrap();
        let highest = budgets.iter().filter_map(|b| b.max).max().unwrap();
        assert_eq!(lowest.compact(), "₹3.2 Cr");
        assert_eq!(highest.compact(), "₹45 Cr");
    }
}
