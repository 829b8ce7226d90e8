//! The lead fields a person or a file can set: their names, the CSV header
//! aliases that mean them, and how each is written out again. Import, export,
//! the API and validation all go through this one list.

use soraaya_domain::Lead;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeadField {
    ContactPerson,
    PhoneNumber,
    Email,
    PropertyName,
    PropertyType,
    Location,
    PriceRange,
    BudgetMin,
    BudgetMax,
    Status,
    Priority,
    LeadSource,
    CampaignId,
    AgentPersonaId,
    QualificationScore,
    PurchaseTimeline,
    FinancingStatus,
    DecisionMakerRole,
    Notes,
    Timezone,
    ConsentSource,
    ConsentAt,
    DoNotCall,
    AssignedAgent,
    Tags,
    CallbackScheduledAt,
    PreferredPropertyTypes,
    PreferredLocations,
    Bedrooms,
    Amenities,
    PreferenceNotes,
}

impl LeadField {
    pub const ALL: [LeadField; 31] = [
        LeadField::ContactPerson,
        LeadField::PhoneNumber,
        LeadField::Email,
        LeadField::PropertyName,
        LeadField::PropertyType,
        LeadField::Location,
        LeadField::PriceRange,
        LeadField::BudgetMin,
        LeadField::BudgetMax,
        LeadField::Status,
        LeadField::Priority,
        LeadField::LeadSource,
        LeadField::CampaignId,
        LeadField::AgentPersonaId,
        LeadField::QualificationScore,
        LeadField::PurchaseTimeline,
        LeadField::FinancingStatus,
        LeadField::DecisionMakerRole,
        LeadField::Notes,
        LeadField::Timezone,
        LeadField::ConsentSource,
        LeadField::ConsentAt,
        LeadField::DoNotCall,
        LeadField::AssignedAgent,
        LeadField::Tags,
        LeadField::CallbackScheduledAt,
        LeadField::PreferredPropertyTypes,
        LeadField::PreferredLocations,
        LeadField::Bedrooms,
        LeadField::Amenities,
        LeadField::PreferenceNotes,
    ];

    /// The API field name and the CSV column written by export.
    pub fn name(self) -> &'static str {
        match self {
            LeadField::ContactPerson => "contact_person",
            LeadField::PhoneNumber => "phone_number",
            LeadField::Email => "email",
            LeadField::PropertyName => "property_name",
            LeadField::PropertyType => "property_type",
            LeadField::Location => "location",
            LeadField::PriceRange => "price_range",
            LeadField::BudgetMin => "budget_range_min",
            LeadField::BudgetMax => "budget_range_max",
            LeadField::Status => "status",
            LeadField::Priority => "priority",
            LeadField::LeadSource => "lead_source",
            LeadField::CampaignId => "campaign_id",
            LeadField::AgentPersonaId => "agent_persona_id",
            LeadField::QualificationScore => "qualification_score",
            LeadField::PurchaseTimeline => "purchase_timeline",
            LeadField::FinancingStatus => "financing_status",
            LeadField::DecisionMakerRole => "decision_maker_role",
            LeadField::Notes => "notes",
            LeadField::Timezone => "timezone",
            LeadField::ConsentSource => "consent_source",
            LeadField::ConsentAt => "consent_at",
            LeadField::DoNotCall => "do_not_call",
            LeadField::AssignedAgent => "assigned_agent_id",
            LeadField::Tags => "tags",
            LeadField::CallbackScheduledAt => "callback_scheduled_at",
            LeadField::PreferredPropertyTypes => "preferred_property_types",
            LeadField::PreferredLocations => "preferred_locations",
            LeadField::Bedrooms => "bedrooms",
            LeadField::Amenities => "amenities",
            LeadField::PreferenceNotes => "preference_notes",
        }
    }

    /// Other header names that mean this field (compared after lower-casing
    /// and dropping spaces, dashes, dots and underscores).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            LeadField::ContactPerson => &[
                "name",
                "fullname",
                "contact",
                "contactname",
                "leadname",
                "customername",
                "clientname",
                "customer",
                "client",
                "person",
            ],
            LeadField::PhoneNumber => &[
                "phone",
                "mobile",
                "mobilenumber",
                "mobileno",
                "phoneno",
                "contactnumber",
                "contactno",
                "cell",
                "cellphone",
                "whatsapp",
                "whatsappnumber",
                "telephone",
                "tel",
                "number",
            ],
            LeadField::Email => &["emailaddress", "mail", "emailid"],
            LeadField::PropertyName => {
                &["property", "project", "projectname", "listing", "building"]
            }
            LeadField::PropertyType => &["type", "unittype", "propertycategory", "configuration"],
            LeadField::Location => &[
                "city",
                "area",
                "locality",
                "address",
                "neighbourhood",
                "neighborhood",
            ],
            LeadField::PriceRange => &[
                "budget",
                "price",
                "pricerange",
                "budgetrange",
                "expectedbudget",
            ],
            LeadField::BudgetMin => &["budgetmin", "minbudget", "minimumbudget"],
            LeadField::BudgetMax => &["budgetmax", "maxbudget", "maximumbudget"],
            LeadField::Status => &["leadstatus", "stage"],
            LeadField::Priority => &["leadpriority"],
            LeadField::LeadSource => &["source", "channel", "leadchannel"],
            LeadField::CampaignId => &["campaign"],
            LeadField::AgentPersonaId => &["persona", "personaid", "agentpersona"],
            LeadField::QualificationScore => &["score", "leadscore"],
            LeadField::PurchaseTimeline => {
                &["timeline", "buyingtimeline", "purchasetime", "whentobuy"]
            }
            LeadField::FinancingStatus => &["financing", "finance", "paymentmode", "funding"],
            LeadField::DecisionMakerRole => &["decisionmaker", "designation", "role"],
            LeadField::Notes => &["note", "comments", "comment", "remarks", "remark"],
            LeadField::Timezone => &["tz", "zone"],
            LeadField::ConsentSource => &["consent", "optinsource"],
            LeadField::ConsentAt => &[
                "consentdate",
                "consentgivenat",
                "consenttime",
                "optinat",
                "optindate",
            ],
            LeadField::DoNotCall => &["dnc", "donotdisturb", "dnd"],
            LeadField::AssignedAgent => &[
                "assignedagent",
                "assignedto",
                "agent",
                "owner",
                "agentemail",
            ],
            LeadField::Tags => &["labels", "tag"],
            LeadField::CallbackScheduledAt => &["callbackat", "callback", "callbacktime"],
            LeadField::PreferredPropertyTypes => &["propertytypes", "preferredtypes"],
            LeadField::PreferredLocations => &["locations", "preferredareas"],
            LeadField::Bedrooms => &["bhk", "beds", "bedroom"],
            LeadField::Amenities => &["amenity", "features"],
            LeadField::PreferenceNotes => &["requirements", "requirement", "preferences"],
        }
    }

    /// The field a CSV header means, if any.
    pub fn from_header(header: &str) -> Option<LeadField> {
        let normal = normalise_header(header);
        LeadField::ALL.into_iter().find(|field| {
            normalise_header(field.name()) == normal || field.aliases().contains(&normal.as_str())
        })
    }

    /// The field written as text, as export writes it and import reads it back.
    pub fn export(self, lead: &Lead) -> String {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let join = |items: &[String]| items.join("|");
        match self {
            LeadField::ContactPerson => lead.contact_person.to_string(),
            LeadField::PhoneNumber => lead.phone_number.to_string(),
            LeadField::Email => lead
                .email
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            LeadField::PropertyName => text(&lead.property_name),
            LeadField::PropertyType => lead
                .property_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            LeadField::Location => text(&lead.location),
            LeadField::PriceRange => text(&lead.price_range),
            LeadField::BudgetMin => lead
                .budget_range_min
                .map(|b| b.as_rupees().to_string())
                .unwrap_or_default(),
            LeadField::BudgetMax => lead
                .budget_range_max
                .map(|b| b.as_rupees().to_string())
                .unwrap_or_default(),
            LeadField::Status => lead.status.to_string(),
            LeadField::Priority => lead.priority.as_str().to_owned(),
            LeadField::LeadSource => text(&lead.lead_source),
            LeadField::CampaignId => lead.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
            LeadField::AgentPersonaId => lead
                .agent_persona_id
                .map(|p| p.to_string())
                .unwrap_or_default(),
            LeadField::QualificationScore => lead
                .qualification_score
                .map(|s| s.to_string())
                .unwrap_or_default(),
            LeadField::PurchaseTimeline => lead
                .purchase_timeline
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            LeadField::FinancingStatus => lead
                .financing_status
                .map(|f| f.as_str().to_owned())
                .unwrap_or_default(),
            LeadField::DecisionMakerRole => text(&lead.decision_maker_role),
            LeadField::Notes => text(&lead.notes),
            LeadField::Timezone => lead.timezone.to_string(),
            LeadField::ConsentSource => lead
                .consent
                .as_ref()
                .map(|c| c.source.clone())
                .unwrap_or_default(),
            LeadField::ConsentAt => lead
                .consent
                .as_ref()
                .map(|c| c.given_at.to_string())
                .unwrap_or_default(),
            LeadField::DoNotCall => if lead.do_not_call { "yes" } else { "no" }.to_owned(),
            LeadField::AssignedAgent => lead
                .assigned_agent_id
                .map(|u| u.to_string())
                .unwrap_or_default(),
            LeadField::Tags => join(lead.tags.as_slice()),
            LeadField::CallbackScheduledAt => lead
                .callback_scheduled_at
                .map(|t| t.to_string())
                .unwrap_or_default(),
            LeadField::PreferredPropertyTypes => lead
                .property_preferences
                .property_types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join("|"),
            LeadField::PreferredLocations => join(&lead.property_preferences.locations),
            LeadField::Bedrooms => lead
                .property_preferences
                .bedrooms
                .map(|b| b.to_string())
                .unwrap_or_default(),
            LeadField::Amenities => join(&lead.property_preferences.amenities),
            LeadField::PreferenceNotes => text(&lead.property_preferences.notes),
        }
    }
}

fn normalise_header(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '/' | '(' | ')'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_names_and_aliases() {
        assert_eq!(
            LeadField::from_header("Name"),
            Some(LeadField::ContactPerson)
        );
        assert_eq!(
            LeadField::from_header("Full Name"),
            Some(LeadField::ContactPerson)
        );
        assert_eq!(
            LeadField::from_header("contact_person"),
            Some(LeadField::ContactPerson)
        );
        assert_eq!(
            LeadField::from_header("MOBILE"),
            Some(LeadField::PhoneNumber)
        );
        assert_eq!(
            LeadField::from_header("Phone Number"),
            Some(LeadField::PhoneNumber)
        );
        assert_eq!(
            LeadField::from_header("Price Range"),
            Some(LeadField::PriceRange)
        );
        assert_eq!(LeadField::from_header("City"), Some(LeadField::Location));
        assert_eq!(
            LeadField::from_header("time_zone"),
            Some(LeadField::Timezone)
        );
        assert_eq!(LeadField::from_header("Favourite colour"), None);
    }

    #[test]
    fn names_and_aliases_are_unambiguous() {
        let mut seen = std::collections::HashMap::new();
        for field in LeadField::ALL {
            for name in std::iter::once(normalise_header(field.name()))
                .chain(field.aliases().iter().map(|a| a.to_string()))
            {
                if let Some(other) = seen.insert(name.clone(), field)
                    && other != field
                {
                    panic!("{name} means both {other:?} and {field:?}");
                }
            }
        }
    }
}
