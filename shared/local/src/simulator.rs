//! The voice simulator: places pretend calls and, as their conversations run
//! their course on the service clock, produces VAPI's webhooks (status
//! updates and end-of-call reports, in VAPI's own format) for the local
//! runtime to post to the webhook handler. Conversations are Indian-English
//! luxury-property calls: budgets in crores, objections, callbacks at a time,
//! voicemail, no answer, busy lines, failures, "please don't call me again".
//! A seed makes every run repeatable.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use soraaya_domain::LeadId;

use soraaya_calling::vapi::wire::{AssistantMetadata, Call};
use soraaya_core::Clock;
use soraaya_core::voice::{OutboundCall, PlacedCall, Voice, VoiceError};
use soraaya_domain::{CallMetadata, CallReport, TimeZoneName};

/// What the simulator needs of a call: who, where, and our ids.
#[derive(Debug, Clone)]
pub struct SimulatedCall {
    pub number: String,
    pub name: String,
    pub time_zone: TimeZoneName,
    pub metadata: CallMetadata,
}

impl From<&OutboundCall> for SimulatedCall {
    fn from(call: &OutboundCall) -> Self {
        SimulatedCall {
            number: call.customer_number.as_str().to_owned(),
            name: call.customer_name.clone(),
            time_zone: call.customer_time_zone.clone(),
            metadata: call.metadata.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Length of a connected call, in seconds.
    pub call_seconds: u32,
    pub seed: u64,
    /// Every call, answered or not, lasts `call_seconds` (for benchmarks).
    pub fixed_length: bool,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            call_seconds: 45,
            seed: 7,
            fixed_length: false,
        }
    }
}

/// How a simulated conversation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Qualified,
    NotInterested,
    Callback,
    Lukewarm,
    NeedsHuman,
    DoNotCall,
    Voicemail,
    NoAnswer,
    Busy,
    Failed,
}

const SCENARIOS: [(Scenario, u32); 10] = [
    (Scenario::Qualified, 18),
    (Scenario::NotInterested, 14),
    (Scenario::Callback, 12),
    (Scenario::Lukewarm, 10),
    (Scenario::NeedsHuman, 6),
    (Scenario::DoNotCall, 3),
    (Scenario::Voicemail, 9),
    (Scenario::NoAnswer, 15),
    (Scenario::Busy, 7),
    (Scenario::Failed, 6),
];

/// A placed call, as the simulator saw it (for tests and benchmarks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedRecord {
    pub call_id: String,
    /// The telephony call id (Twilio's CallSid).
    pub telephony_id: String,
    pub lead_id: LeadId,
    pub attempt: u32,
    pub number: String,
    pub at: Timestamp,
    pub scenario: Scenario,
}

struct Pending {
    body: Value,
    /// Delivering it ends the call.
    ends: Option<String>,
}

pub struct Simulator {
    clock: Arc<dyn Clock>,
    config: SimulatorConfig,
    sequence: AtomicU64,
    outbox: Mutex<BinaryHeap<Reverse<(Timestamp, u64, usize)>>>,
    pending: Mutex<HashMap<usize, Pending>>,
    ended: Mutex<HashMap<String, Value>>,
    live: AtomicUsize,
    max_live: AtomicUsize,
    placed: Mutex<Vec<PlacedRecord>>,
    /// Calls on the line, as `GET /call/{id}` shows them.
    live_calls: Mutex<HashMap<String, Value>>,
    /// Scenarios forced for the next calls (tests).
    forced: Mutex<Vec<Scenario>>,
}

fn pick(rng: &mut ChaCha8Rng) -> Scenario {
    let total: u32 = SCENARIOS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (scenario, weight) in SCENARIOS {
        if roll < weight {
            return scenario;
        }
        roll -= weight;
    }
    Scenario::Qualified
}

const PLACES: [&str; 8] = [
    "Worli",
    "Bandra West",
    "Juhu",
    "Lower Parel",
    "Malabar Hill",
    "Prabhadevi",
    "Altamount Road",
    "Powai",
];
const OBJECTIONS: [&str; 8] = [
    "we already booked a flat in Khar last month",
    "the budget is too high for us right now",
    "we are only browsing, not buying this year",
    "my family wants to stay in Pune",
    "we prefer under-construction projects with better payment plans",
    "the location is too far from my office",
    "I do not trust this builder after the delays on their last project",
    "the three BHK layout is too small for my family",
];
/// What buyers ask for, as they say it.
const FEATURES: [&str; 7] = [
    "sea view",
    "a private pool",
    "a gym",
    "parking for three cars",
    "a clubhouse",
    "a home office",
    "a terrace garden",
];
/// When a keen buyer means to buy: the words, and the structured value.
const TIMELINES: [(&str, &str); 3] = [
    ("Within three months.", "3_months"),
    ("As soon as possible, we are ready now.", "immediate"),
    ("In the next six months.", "6_months"),
];
/// How a keen buyer pays: the words, and the structured value.
const FINANCING: [(&str, &str); 3] = [
    ("we are paying cash", "cash_buyer"),
    ("our home loan is pre-approved", "pre_approved"),
    ("we will need a home loan", "needs_financing"),
];
/// Second thoughts of a buyer who is not ready.
const HESITATIONS: [&str; 3] = [
    "Honestly the prices feel a bit expensive for that area.",
    "The possession date is too far for us.",
    "I have to discuss it with my wife first.",
];

/// A small number as a buyer says it.
fn number_word(n: u8) -> &'static str {
    match n {
        3 => "three",
        4 => "four",
        5 => "five",
        _ => "six",
    }
}

impl Simulator {
    pub fn new(clock: Arc<dyn Clock>, config: SimulatorConfig) -> Self {
        Simulator {
            clock,
            config,
            sequence: AtomicU64::new(0),
            outbox: Mutex::new(BinaryHeap::new()),
            pending: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            max_live: AtomicUsize::new(0),
            placed: Mutex::new(Vec::new()),
            live_calls: Mutex::new(HashMap::new()),
            forced: Mutex::new(Vec::new()),
        }
    }

    /// Makes the next calls go these ways, in order (then chance again).
    pub fn force(&self, scenarios: impl IntoIterator<Item = Scenario>) {
        let mut forced = self.forced.lock().unwrap_or_else(|p| p.into_inner());
        forced.extend(scenarios);
    }

    fn schedule(&self, at: Timestamp, body: Value, ends: Option<String>) {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let slot = usize::try_from(seq).unwrap_or(usize::MAX);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slot, Pending { body, ends });
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Reverse((at, seq, slot)));
    }

    /// Webhook bodies whose time has come, in order.
    pub fn due_webhooks(&self) -> Vec<Value> {
        let now = self.clock.now();
        let mut out = Vec::new();
        loop {
            let next = {
                let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
                match outbox.peek() {
                    Some(Reverse((at, _, _))) if *at <= now => outbox.pop(),
                    _ => None,
                }
            };
            let Some(Reverse((_, _, slot))) = next else {
                break;
            };
            let Some(pending) = self
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&slot)
            else {
                continue;
            };
            if let Some(call_id) = pending.ends {
                self.live.fetch_sub(1, Ordering::Relaxed);
                self.live_calls
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&call_id);
                self.ended
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(call_id, pending.body["message"]["call"].clone());
            }
            out.push(pending.body);
        }
        out
    }

    /// When the next webhook is due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at)
    }

    /// Calls placed and not yet reported ended.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most calls ever live at once.
    pub fn max_live(&self) -> usize {
        self.max_live.load(Ordering::Relaxed)
    }

    pub fn placed(&self) -> Vec<PlacedRecord> {
        self.placed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The conversation: lines, structured data, summary, ended reason, talk time.
    fn conversation(
        &self,
        scenario: Scenario,
        call: &SimulatedCall,
        rng: &mut ChaCha8Rng,
        now: Timestamp,
    ) -> (Vec<(&'static str, String)>, Value, String, &'static str) {
        let first = call
            .name
            .split_whitespace()
            .next()
            .unwrap_or("there")
            .to_owned();
        let place = PLACES[rng.random_range(0..PLACES.len())];
        let low = rng.random_range(3..30);
        let high = low + rng.random_range(1..6);
        let greeting = format!(
            "Good evening, am I speaking with {first}? This is Aisha calling about luxury residences in {place}."
        );
        let mut lines = vec![
            ("assistant", greeting),
            ("customer", "Yes, speaking. Tell me.".to_owned()),
        ];
        let pitch = format!(
            "We have sea-facing four and five BHK homes in {place}, ready to move in. May I ask what you are looking for?"
        );
        // The details of a conversation have their own draws, so that the
        // call's other draws (its length) stay what they were for a seed.
        let mut detail = ChaCha8Rng::seed_from_u64(rng.random::<u64>() ^ 0x5eed_de7a);
        let (data, summary, reason) = match scenario {
            Scenario::Qualified => {
                let bedrooms = detail.random_range(3..=5);
                let wanted: Vec<&str> = (0..detail.random_range(0..=2))
                    .map(|_| FEATURES[detail.random_range(0..FEATURES.len())])
                    .collect();
                let with = match wanted.as_slice() {
                    [] => String::new(),
                    [one] => format!(" with {one}"),
                    [one, two, ..] => format!(" with {one} and {two}"),
                };
                let (when, timeline) = TIMELINES[detail.random_range(0..TIMELINES.len())];
                let (paying, financing) = FINANCING[detail.random_range(0..FINANCING.len())];
                lines.push(("assistant", pitch));
                lines.push(("assistant", "What budget do you have in mind?".to_owned()));
                lines.push(("customer", format!("We want a {} BHK{with}, budget around {low} to {high} crore, in {place} itself.", number_word(bedrooms))));
                lines.push((
                    "assistant",
                    "Wonderful. And when are you planning to buy?".to_owned(),
                ));
                lines.push((
                    "customer",
                    format!("{when} My wife and I decide together, and {paying}."),
                ));
                lines.push((
                    "assistant",
                    "Shall I arrange a site visit this Saturday?".to_owned(),
                ));
                lines.push((
                    "customer",
                    if detail.random_bool(0.5) {
                        "Yes, Saturday morning works. That sounds wonderful, thank you!"
                    } else {
                        "Saturday is fine, we can do the site visit."
                    }
                    .to_owned(),
                ));
                (
                    json!({
                        "interested": true, "budget_min_inr": low * 10_000_000, "budget_max_inr": high * 10_000_000,
                        "budget_text": format!("{low} to {high} crore"), "purchase_timeline": timeline,
                        "property_type": "apartment", "preferred_location": place, "bedrooms": bedrooms,
                        "decision_maker": true, "financing": financing, "callback_requested": false,
                        "do_not_call": false, "needs_human": false, "objections": [], "sentiment": "positive"
                    }),
                    format!(
                        "{first} wants a {bedrooms} BHK in {place} for ₹{low}-{high} Cr ({}), {paying}; site visit on Saturday.",
                        when.trim_end_matches('.').to_lowercase()
                    ),
                    "assistant-ended-call",
                )
            }
            Scenario::NotInterested => {
                let objection = OBJECTIONS[detail.random_range(0..OBJECTIONS.len())];
                lines.push(("assistant", pitch));
                lines.push(("customer", format!("Actually no, {objection}.")));
                lines.push((
                    "assistant",
                    "I understand, thank you for your time.".to_owned(),
                ));
                (
                    json!({ "interested": false, "callback_requested": false, "do_not_call": false, "needs_human": false,
                            "objections": [objection], "sentiment": "neutral" }),
                    format!("{first} is not interested: {objection}."),
                    "customer-ended-call",
                )
            }
            Scenario::Callback => {
                let zone = call.time_zone.zone();
                let tomorrow = zone
                    .to_datetime(now + SignedDuration::from_hours(24))
                    .date();
                let hour = [11, 16, 18][rng.random_range(0..3)];
                lines.push((
                    "customer",
                    "I am driving right now. Can you call me tomorrow?".to_owned(),
                ));
                lines.push(("assistant", "Of course. What time suits you?".to_owned()));
                lines.push(("customer", format!("Tomorrow at {hour}:00, that is fine.")));
                lines.push((
                    "assistant",
                    format!("Noted, I will call you tomorrow at {hour}:00. Drive safe!"),
                ));
                (
                    json!({ "interested": true, "callback_requested": true,
                            "callback_time": format!("{tomorrow}T{hour:02}:00"), "do_not_call": false,
                            "needs_human": false, "objections": [], "sentiment": "positive" }),
                    format!("{first} asked to be called back tomorrow at {hour}:00."),
                    "customer-ended-call",
                )
            }
            Scenario::Lukewarm => {
                let hesitation = HESITATIONS[detail.random_range(0..HESITATIONS.len())];
                lines.push(("assistant", pitch));
                lines.push((
                    "customer",
                    format!(
                        "Maybe next year. Somewhere around {low} crore, not more. {hesitation}"
                    ),
                ));
                lines.push((
                    "assistant",
                    "Understood, I will share some options on WhatsApp.".to_owned(),
                ));
                (
                    json!({ "interested": true, "budget_text": format!("{low} crore"), "purchase_timeline": "1_year",
                            "callback_requested": false, "do_not_call": false, "needs_human": false,
                            "objections": ["timing"], "sentiment": "neutral" }),
                    format!("{first} may buy next year, around ₹{low} Cr."),
                    "customer-ended-call",
                )
            }
            Scenario::NeedsHuman => {
                lines.push(("assistant", pitch));
                lines.push(("customer", "I am an NRI in Dubai. How does the TDS work if I sell later? Better I speak to someone senior.".to_owned()));
                lines.push((
                    "assistant",
                    "That is a good question for our advisor. I will have them call you."
                        .to_owned(),
                ));
                (
                    json!({ "interested": true, "callback_requested": false, "do_not_call": false, "needs_human": true,
                            "objections": [], "sentiment": "positive" }),
                    format!("{first}, an NRI, has tax questions for a person."),
                    "assistant-ended-call",
                )
            }
            Scenario::DoNotCall => {
                lines.push((
                    "customer",
                    "Please don't call me again. Remove my number.".to_owned(),
                ));
                lines.push((
                    "assistant",
                    "I am sorry for the trouble. Your number is removed. Have a good day."
                        .to_owned(),
                ));
                (
                    json!({ "interested": false, "callback_requested": false, "do_not_call": true, "needs_human": false,
                            "objections": ["does not want calls"], "sentiment": "negative" }),
                    format!("{first} asked never to be called again."),
                    "customer-ended-call",
                )
            }
            Scenario::Voicemail => (
                Value::Object(Default::default()),
                "Reached voicemail.".into(),
                "voicemail",
            ),
            Scenario::NoAnswer => (
                Value::Object(Default::default()),
                "No answer.".into(),
                "customer-did-not-answer",
            ),
            Scenario::Busy => (
                Value::Object(Default::default()),
                "The line was busy.".into(),
                "customer-busy",
            ),
            Scenario::Failed => (
                Value::Object(Default::default()),
                "The call failed.".into(),
                if rng.random_bool(0.5) {
                    "pipeline-error-openai-llm-failed"
                } else {
                    "twilio-failed-to-connect-call"
                },
            ),
        };
        if matches!(
            scenario,
            Scenario::Voicemail | Scenario::NoAnswer | Scenario::Busy | Scenario::Failed
        ) {
            lines.clear();
        }
        (lines, data, summary, reason)
    }
}

#[async_trait]
impl Voice for Simulator {
    async fn place_call(&self, call: &OutboundCall) -> Result<PlacedCall, VoiceError> {
        Ok(self.start(&SimulatedCall::from(call)))
    }

    async fn final_report(&self, call_id: &str) -> Result<Option<CallReport>, VoiceError> {
        match self.call_object(call_id) {
            Some(call) if call["status"] == "ended" => serde_json::from_value::<Call>(call)
                .map(|c| Some(c.report()))
                .map_err(|e| VoiceError::Transient(e.to_string())),
            Some(_) => Ok(None),
            // Placed by an earlier run of the process: that conversation is gone.
            None => Ok(Some(CallReport {
                call_id: call_id.to_owned(),
                ended_reason: CallReport::LOST_IN_RESTART.into(),
                summary: Some("the simulator restarted during the call".into()),
                ..CallReport::default()
            })),
        }
    }
}

impl Simulator {
    /// Starts a pretend call: its conversation runs on the service clock and
    /// its webhooks come due as it goes.
    pub fn start(&self, call: &SimulatedCall) -> PlacedCall {
        let now = self.clock.now();
        // Repeatable per seed, number and attempt, whatever the order of
        // calls and the ids the leads were given (FNV-1a of the number).
        let number_bits = call
            .number
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        let seed =
            self.config.seed ^ number_bits ^ u64::from(call.metadata.attempt).rotate_left(32);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let forced = {
            let mut forced = self.forced.lock().unwrap_or_else(|p| p.into_inner());
            (!forced.is_empty()).then(|| forced.remove(0))
        };
        let scenario = forced.unwrap_or_else(|| pick(&mut rng));
        let call_id = format!(
            "sim-{}",
            uuid::Builder::from_random_bytes(rng.random()).into_uuid()
        );
        let sid = format!("CA{:032x}", rng.random::<u128>());
        self.placed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(PlacedRecord {
                call_id: call_id.clone(),
                telephony_id: sid.clone(),
                lead_id: call.metadata.lead_id,
                attempt: call.metadata.attempt,
                number: call.number.clone(),
                at: now,
                scenario,
            });
        let live = self.live.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_live.fetch_max(live, Ordering::Relaxed);

        let (lines, data, summary, reason) = self.conversation(scenario, call, &mut rng, now);
        let talk = f64::from(self.config.call_seconds);
        let length = if self.config.fixed_length {
            talk
        } else {
            match scenario {
                Scenario::Busy => 4.0,
                Scenario::Failed => 3.0,
                Scenario::NoAnswer => talk.min(30.0),
                Scenario::Voicemail => talk.min(25.0),
                _ => talk * rng.random_range(0.8..1.2),
            }
        };
        let at = |seconds: f64| now + SignedDuration::from_secs_f64(seconds);
        let connected = !matches!(
            scenario,
            Scenario::Busy | Scenario::Failed | Scenario::NoAnswer
        );
        let ended_at = at(length);
        // As VAPI echoes a call: our ids are in the assistant's metadata.
        let assistant = json!({
            "name": "Soraaya simulated agent",
            "metadata": AssistantMetadata {
                call: call.metadata.clone(),
                customer_time_zone: call.time_zone.to_string(),
            },
        });
        let customer = json!({ "number": call.number, "name": call.name });
        let base = json!({
            "id": call_id,
            "orgId": "sim-org",
            "type": "outboundPhoneCall",
            "phoneCallProviderId": sid,
            "phoneNumberId": "sim-phone-number",
            "customer": customer,
            "assistant": assistant,
            "createdAt": now.to_string(),
        });
        let with = |status: &str, at: Timestamp| {
            let mut c = base.clone();
            c["status"] = json!(status);
            c["updatedAt"] = json!(at.to_string());
            c
        };
        let millis = |at: Timestamp| at.as_millisecond();
        let status_update = |status: &str, at: Timestamp, call: Value| {
            json!({ "message": {
                "type": "status-update", "status": status, "timestamp": millis(at),
                "call": call, "assistant": assistant, "customer": customer,
            } })
        };
        self.schedule(
            at(0.5),
            status_update("ringing", at(0.5), with("ringing", at(0.5))),
            None,
        );
        if connected {
            let answered = at(length.min(3.0));
            self.schedule(
                answered,
                status_update("in-progress", answered, with("in-progress", answered)),
                None,
            );
        }
        self.live_calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call_id.clone(), with("in-progress", now));
        let step = if lines.is_empty() {
            0.0
        } else {
            (length - 3.0).max(1.0) / lines.len() as f64
        };
        let messages: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, (role, text))| {
                let role = if *role == "assistant" { "bot" } else { "user" };
                let from_start = 3.0 + step * i as f64;
                json!({
                    "role": role, "message": text,
                    "time": millis(at(from_start)), "endTime": millis(at(from_start + step * 0.8)),
                    "secondsFromStart": from_start, "duration": step * 0.8,
                })
            })
            .collect();
        let transcript: Vec<String> = lines
            .iter()
            .map(|(role, text)| {
                format!(
                    "{}: {text}",
                    if *role == "assistant" { "AI" } else { "User" }
                )
            })
            .collect();
        let recording = format!("https://sim.soraaya.local/recordings/{call_id}.wav");
        let artifact = json!({
            "messages": messages,
            "transcript": transcript.join("\n"),
            "recording": { "mono": { "combinedUrl": recording } },
            "recordingUrl": recording,
        });
        let analysis = json!({ "summary": summary, "structuredData": data });
        let cost = ((length / 60.0) * 0.11 * 100.0).round() / 100.0;
        let mut ended_call = with("ended", ended_at);
        ended_call["endedReason"] = json!(reason);
        ended_call["startedAt"] = json!(now.to_string());
        ended_call["endedAt"] = json!(ended_at.to_string());
        ended_call["cost"] = json!(cost);
        ended_call["analysis"] = analysis.clone();
        ended_call["artifact"] = artifact.clone();
        let mut ended = status_update("ended", ended_at, ended_call.clone());
        ended["message"]["endedReason"] = json!(reason);
        self.schedule(ended_at, ended, None);
        let reported = at(length + 1.0);
        let report = json!({
            "message": {
                "type": "end-of-call-report",
                "endedReason": reason,
                "timestamp": millis(reported),
                "call": ended_call,
                "assistant": assistant,
                "customer": customer,
                "startedAt": now.to_string(),
                "endedAt": ended_at.to_string(),
                "durationSeconds": (length * 10.0).round() / 10.0,
                "cost": cost,
                "artifact": artifact,
                "analysis": analysis,
            }
        });
        self.schedule(reported, report, Some(call_id.clone()));
        PlacedCall { call_id }
    }

    /// The call as VAPI's `GET /call/{id}` would answer it: ended with its
    /// report once its time has come, in progress before; `None` if this
    /// simulator never placed it.
    pub fn call_object(&self, call_id: &str) -> Option<Value> {
        if let Some(call) = self
            .ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call_id)
        {
            return Some(call.clone());
        }
        self.live_calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call_id)
            .cloned()
    }
}
