//! The AI assistant for one call, built from the campaign's persona, its
//! properties and qualification criteria, and what is known of the lead: a
//! VAPI transient assistant with a system prompt, a first message, a voice,
//! and the schema of the structured data the call must yield.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use soraaya_core::voice::{Assistant, VoiceChoice};
use soraaya_domain::{
    Accent, AgentPersona, Campaign, CommunicationStyle, Lead, Organisation, Property,
    ScriptCustomizations, Variant, matching,
};

/// Properties the assistant's context describes: the ones that fit the lead best.
pub const PROPERTIES_PRESENTED: usize = 3;

/// Everything an assistant is built from.
pub struct AssistantContext<'a> {
    pub organisation: &'a Organisation,
    pub persona: Option<&'a AgentPersona>,
    pub campaign: &'a Campaign,
    /// The campaign's properties in its own order (which breaks ties of fit);
    /// sold and reserved ones are never presented.
    pub properties: &'a [Property],
    pub lead: &'a Lead,
    /// When the call is placed (the lead's local time is in the prompt).
    pub now: Timestamp,
    /// The campaign's A/B variant the lead is in: its script goes over the persona's.
    pub variant: Option<&'a Variant>,
}

/// The script of the call: the variant's greeting, pitch and closing where
/// it sets them, the persona's otherwise; the hand-over triggers of both.
fn script(ctx: &AssistantContext<'_>) -> ScriptCustomizations {
    let own = ctx
        .persona
        .map(|p| p.script_customizations.clone())
        .unwrap_or_default();
    let Some(variant) = ctx.variant else {
        return own;
    };
    let over = &variant.script;
    let mut triggers = own.escalation_triggers;
    for trigger in &over.escalation_triggers {
        if !triggers.contains(trigger) {
            triggers.push(trigger.clone());
        }
    }
    ScriptCustomizations {
        greeting: over.greeting.clone().or(own.greeting),
        pitch: over.pitch.clone().or(own.pitch),
        closing: over.closing.clone().or(own.closing),
        escalation_triggers: triggers,
    }
}

/// The fields the assistant must fill in; `outcome::Answers` reads them back.
pub fn structured_data_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "interested": { "type": "boolean", "description": "Whether the person is interested in buying now or soon." },
            "budget_min_inr": { "type": "number", "description": "Lowest budget mentioned, in rupees (3.2 crore = 32000000)." },
            "budget_max_inr": { "type": "number", "description": "Highest budget mentioned, in rupees." },
            "budget_text": { "type": "string", "description": "The budget as said, such as '3 to 4 crore'." },
            "purchase_timeline": { "type": "string", "enum": ["immediate", "3_months", "6_months", "1_year", "unknown"] },
            "property_type": { "type": "string", "description": "apartment, penthouse, villa, bungalow, duplex, plot or commercial." },
            "preferred_location": { "type": "string" },
            "bedrooms": { "type": "number" },
            "decision_maker": { "type": "boolean", "description": "Whether this person decides the purchase." },
            "financing": { "type": "string", "enum": ["pre_approved", "needs_financing", "cash_buyer", "unknown"] },
            "callback_requested": { "type": "boolean" },
            "callback_time": { "type": "string", "description": "When to call back, local to the person, as YYYY-MM-DDTHH:MM." },
            "do_not_call": { "type": "boolean", "description": "True if the person asked never to be called again." },
            "needs_human": { "type": "boolean", "description": "True if the person asked for a human or a question needs one." },
            "objections": { "type": "array", "items": { "type": "string" } },
            "sentiment": { "type": "string", "enum": ["positive", "neutral", "negative"] }
        },
        "required": ["interested", "callback_requested", "do_not_call", "needs_human"]
    })
}

/// `provider:voiceId`, or the persona's accent's default voice.
fn voice(persona: Option<&AgentPersona>) -> VoiceChoice {
    let configured = persona.and_then(|p| p.voice_model_id.split_once(':'));
    let (provider, voice_id) = match (configured, persona.map(|p| p.accent)) {
        (Some((provider, id)), _) if !provider.is_empty() && !id.is_empty() => (provider, id),
        (_, Some(Accent::Uk)) => ("azure", "en-GB-SoniaNeural"),
        (_, Some(Accent::Usa)) => ("azure", "en-US-JennyNeural"),
        _ => ("azure", "en-IN-NeerjaNeural"),
    };
    VoiceChoice {
        provider: provider.to_owned(),
        voice_id: voice_id.to_owned(),
    }
}

fn language(persona: Option<&AgentPersona>) -> &'static str {
    match persona.map(|p| p.accent) {
        Some(Accent::Uk) => "en-GB",
        Some(Accent::Usa) => "en-US",
        _ => "en-IN",
    }
}

fn fill(template: &str, ctx: &AssistantContext<'_>, agent: &str) -> String {
    let first_name = ctx
        .lead
        .contact_person
        .as_str()
        .split_whitespace()
        .next()
        .unwrap_or("there");
    template
        .replace("{lead_name}", first_name)
        .replace("{agent_name}", agent)
        .replace("{company}", ctx.organisation.name.as_str())
}

/// The system prompt of the call.
pub fn system_prompt(ctx: &AssistantContext<'_>) -> String {
    let persona = ctx.persona;
    let agent = persona.map_or("Aisha", |p| p.name.as_str());
    let style = match persona.map(|p| p.communication_style) {
        Some(CommunicationStyle::Formal) => "formal and courteous",
        Some(CommunicationStyle::Casual) => "warm and relaxed",
        _ => "consultative: ask, listen, then advise",
    };
    let mut prompt = format!(
        "You are {agent}, a luxury real-estate advisor calling on behalf of {company}. \
         Speak {style}, in short sentences, as a person would on the phone. \
         You are calling {lead}, who enquired about premium homes{location}.\n",
        company = ctx.organisation.name,
        lead = ctx.lead.contact_person,
        location = ctx
            .lead
            .location
            .as_deref()
            .map(|l| format!(" in {l}"))
            .unwrap_or_default(),
    );
    let local = ctx.lead.timezone.zone().to_datetime(ctx.now);
    prompt += &format!(
        "Where they are it is now {} ({}); say days and times in their local time.\n",
        local.strftime("%A %-d %B %Y, %H:%M"),
        ctx.lead.timezone,
    );
    if let Some(persona) = persona {
        if !persona.market_knowledge.is_empty() {
            prompt += &format!(
                "Market you know ({}): {}\n",
                persona.region, persona.market_knowledge
            );
        }
        if !persona.personality_traits.is_empty() {
            prompt += &format!("Your manner: {}.\n", persona.personality_traits.join(", "));
        }
    }
    let script = script(ctx);
    if let Some(pitch) = &script.pitch {
        prompt += &format!("Your pitch: {pitch}\n");
    }
    if let Some(closing) = &script.closing {
        prompt += &format!("Close the call with: {closing}\n");
    }
    let ranked = matching::rank(ctx.lead, ctx.properties);
    if !ranked.is_empty() {
        prompt += "Properties that fit this lead, best first (lead with the first unless the \
                   conversation points to another):\n";
        for (property, fit) in ranked.iter().take(PROPERTIES_PRESENTED) {
            let strengths = fit.strengths();
            prompt += &format!(
                "- {} ({}, {}){}{}{}\n",
                property.name,
                property.property_type.as_str(),
                property.location,
                property
                    .price_range
                    .as_deref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default(),
                if property.amenities.is_empty() {
                    String::new()
                } else {
                    format!("; {}", property.amenities.join(", "))
                },
                if strengths.is_empty() {
                    String::new()
                } else {
                    format!(". Why it suits them: {}", strengths.join("; "))
                },
            );
        }
        if ranked.len() > PROPERTIES_PRESENTED {
            prompt += &format!(
                "{} more of the campaign's properties can be offered on request.\n",
                ranked.len() - PROPERTIES_PRESENTED
            );
        }
    }
    let criteria = &ctx.campaign.qualification_criteria;
    prompt += "Learn, without interrogating: budget (in crores or lakhs), purchase timeline, property type, \
               preferred locations, whether they decide the purchase, and how they will pay.\n";
    for question in &criteria.custom_questions {
        prompt += &format!("Also ask: {question}\n");
    }
    if let Some(min) = criteria.budget_min {
        prompt += &format!("These homes start at {}.\n", min.compact());
    }
    let escalations = script.escalation_triggers;
    prompt += "Rules: if they ask never to be called again, apologise, confirm, and end the call. \
               If they ask to be called back, agree a day and time in their local time. \
               If they want a person, or ask something you cannot answer, say a colleague will call and end politely. \
               Never pressure, never promise discounts, never discuss other clients.\n";
    if !escalations.is_empty() {
        prompt += &format!("Hand over to a person when: {}.\n", escalations.join("; "));
    }
    prompt
}

/// The longest a qualification call may last.
const MAX_CALL: Duration = Duration::from_secs(900);

/// The assistant for the call.
pub fn assistant(ctx: &AssistantContext<'_>) -> Assistant {
    let persona = ctx.persona;
    let agent = persona.map_or("Aisha", |p| p.name.as_str());
    let greeting = script(ctx).greeting.unwrap_or_else(|| {
        "Hello, am I speaking with {lead_name}? This is {agent_name} from {company}.".to_owned()
    });
    Assistant {
        name: format!("{agent} – {}", ctx.campaign.name),
        first_message: fill(&greeting, ctx, agent),
        system_prompt: system_prompt(ctx),
        voice: voice(persona),
        language: language(persona).to_owned(),
        max_duration: MAX_CALL,
        summary_prompt: "Summarise the call for a sales manager in two sentences: interest, budget, timeline, next step.".to_owned(),
        structured_data_prompt: "Fill in what the conversation established. Use unknown or omit what was not said.".to_owned(),
        structured_data_schema: structured_data_schema(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soraaya_domain::{OrgName, Region, TimeZoneName};

    #[test]
    fn the_assistant_carries_the_lead_the_campaign_and_the_schema() {
        let org = Organisation {
            id: soraaya_domain::OrgId::new(),
            name: OrgName::parse("Skyline Estates").unwrap(),
            default_region: Region::INDIA,
            time_zone: TimeZoneName::india(),
            settings: Default::default(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let lead: Lead = serde_json::from_value(json!({
            "id": "01936f3a-1111-7000-8000-000000000002", "org_id": org.id, "contact_person": "Rohan Malhotra",
            "phone_number": "+919820012345", "email": null, "property_name": null, "property_type": null,
            "location": "Worli", "price_range": null, "budget_range_min": null, "budget_range_max": null, "status": "to_call",
            "priority": "high", "lead_source": null, "follow_up_count": 0, "callback_scheduled_at": null, "campaign_id": null,
            "agent_persona_id": null, "qualification_score": null, "last_call_transcript_id": null, "property_preferences": {},
            "purchase_timeline": null, "financing_status": null, "decision_maker_role": null, "notes": null,
            "timezone": "Asia/Kolkata", "timezone_source": "phone_country", "consent": null, "do_not_call": false,
            "assigned_agent_id": null, "tags": [], "call_attempts": 0, "version": 1,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        }))
        .unwrap();
        let campaign: Campaign = serde_json::from_value(json!({
            "id": "01936f3a-1111-7000-8000-000000000003", "org_id": org.id, "name": "Worli penthouses",
            "description": null, "start_date": null, "end_date": null, "campaign_type": "outbound", "priority_level": "high",
            "status": "active", "persona_id": null, "property_ids": [],
            "qualification_criteria": { "custom_questions": ["Do you need parking for three cars?"] },
            "settings": {}, "paused_reason": null, "created_by": null, "version": 1,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        }))
        .unwrap();
        let property = |n: u8,
                        name: &str,
                        location: &str,
                        crore: (u64, u64),
                        availability: &str|
         -> Property {
            serde_json::from_value(json!({
                "id": format!("01936f3a-1111-7000-8000-0000000001{n:02}"), "org_id": org.id,
                "name": name, "property_type": "penthouse", "location": location, "price_range": null,
                "price_min": crore.0 * 10_000_000, "price_max": crore.1 * 10_000_000,
                "amenities": [], "specifications": {}, "availability_status": availability, "version": 1,
                "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
            }))
            .unwrap()
        };
        // In the campaign's order: the lead (in Worli) is best served by the
        // second and fourth; the sold one is never presented.
        let properties = [
            property(
                1,
                "Hebbal Terraces",
                "Hebbal, Bangalore",
                (8, 12),
                "available",
            ),
            property(
                2,
                "Sea-Face Penthouse",
                "Worli, Mumbai",
                (30, 35),
                "available",
            ),
            property(3, "Sold Sky Villa", "Worli, Mumbai", (30, 35), "sold"),
            property(4, "Worli Crest", "Worli, Mumbai", (60, 70), "available"),
            property(
                5,
                "Golf Course Road",
                "Gurugram, Delhi NCR",
                (25, 35),
                "available",
            ),
        ];
        let body = assistant(&AssistantContext {
            organisation: &org,
            persona: None,
            campaign: &campaign,
            properties: &properties,
            lead: &lead,
            now: "2026-11-24T05:30:00Z".parse().unwrap(),
            variant: None,
        });
        assert_eq!(
            body.first_message,
            "Hello, am I speaking with Rohan? This is Aisha from Skyline Estates."
        );
        let prompt = &body.system_prompt;
        assert!(
            prompt.contains("Rohan Malhotra")
                && prompt.contains("Worli")
                && prompt.contains("parking for three cars")
        );
        assert!(
            prompt.contains("Tuesday 24 November 2026, 11:00 (Asia/Kolkata)"),
            "{prompt}"
        );
        let at = |name: &str| prompt.find(name);
        assert!(at("Sea-Face Penthouse") < at("Worli Crest"), "{prompt}");
        assert!(at("Worli Crest").is_some() && at("Hebbal Terraces").is_some());
        assert!(at("Sold Sky Villa").is_none() && at("Golf Course Road").is_none());
        assert!(prompt.contains("1 more of the campaign's properties"));
        assert!(prompt.contains("Why it suits them: Worli, Mumbai is in Worli"));
        assert_eq!(body.voice.voice_id, "en-IN-NeerjaNeural");
        assert_eq!(body.language, "en-IN");
        assert_eq!(
            body.structured_data_schema["properties"]["do_not_call"]["type"],
            "boolean"
        );

        // An A/B variant's script goes over the persona's.
        let variant = Variant {
            key: "warm".into(),
            description: None,
            persona_id: None,
            script: ScriptCustomizations {
                greeting: Some("Namaste {lead_name}, {agent_name} here from {company}.".into()),
                pitch: Some("Lead with the sea view.".into()),
                closing: Some("Offer a Saturday site visit.".into()),
                escalation_triggers: vec!["asks about NRI taxes".into()],
            },
            weight: 1,
        };
        let body = assistant(&AssistantContext {
            organisation: &org,
            persona: None,
            campaign: &campaign,
            properties: &properties,
            lead: &lead,
            now: "2026-11-24T05:30:00Z".parse().unwrap(),
            variant: Some(&variant),
        });
        assert_eq!(
            body.first_message,
            "Namaste Rohan, Aisha here from Skyline Estates."
        );
        assert!(
            body.system_prompt
                .contains("Your pitch: Lead with the sea view.")
        );
        assert!(
            body.system_prompt
                .contains("Close the call with: Offer a Saturday site visit.")
        );
        assert!(
            body.system_prompt
                .contains("Hand over to a person when: asks about NRI taxes.")
        );
    }
}
