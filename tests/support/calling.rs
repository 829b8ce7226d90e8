//! A test app that calls: the simulator as voice, a dial queue (in-process,
//! or SQS on the emulator), and the local runtime that posts the simulator's
//! webhooks to the real handler, all on the hand-moved clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use soraaya_calling::vapi::{VapiConfig, VapiVoice};
use soraaya_core::queue::{DialMessage, DialQueue, QueueError};
use soraaya_core::voice::Voice;
use soraaya_core::{App, Config, ManualClock, SecretString};
use soraaya_domain::Timestamp;
use soraaya_local::queue::LocalQueue;
use soraaya_local::runtime::{Chaos, Consumer, LocalRuntime, Tick};
use soraaya_local::simulator::{Simulator, SimulatorConfig};
use soraaya_local::sqs_poller::SqsPoller;
use soraaya_store::ItemStore;

use crate::TestApp;
use crate::fake_vapi::{FakeVapi, FakeVapiOptions};

/// The webhook secret of calling test apps.
pub const WEBHOOK_SECRET: &str = "test-vapi-webhook-secret";
/// The Twilio auth token of calling test apps.
pub const TWILIO_AUTH_TOKEN: &str = "test-twilio-auth-token";
/// The public URL of calling test apps (Twilio signs requests to it).
pub const PUBLIC_URL: &str = "https://api.soraaya.example";

/// Sends every message twice, as SQS's at-least-once delivery may.
pub struct TwiceQueue(pub Arc<dyn DialQueue>);

#[async_trait]
impl DialQueue for TwiceQueue {
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        self.0.send(messages).await?;
        self.0.send(messages).await
    }
}

/// Where dial messages travel.
pub enum Transport {
    Local,
    /// An SQS queue (the emulator's) at this URL.
    Sqs {
        client: aws_sdk_sqs::Client,
        url: String,
    },
}

pub struct CallingOptions {
    pub simulator: SimulatorConfig,
    pub chaos: Chaos,
    /// Every dial message sent twice.
    pub duplicate_messages: bool,
    pub transport: Transport,
    /// Most live calls of the organisation.
    pub org_cap: u32,
    /// Calls through the real VAPI client to a fake VAPI (which plays them
    /// with the simulator), instead of through the simulator directly.
    pub fake_vapi: Option<FakeVapiOptions>,
}

impl CallingOptions {
    /// Simulated conversations of `call_seconds` (varied), from `seed`.
    pub fn simulated(call_seconds: u32, seed: u64) -> CallingOptions {
        CallingOptions {
            simulator: SimulatorConfig {
                call_seconds,
                seed,
                fixed_length: false,
            },
            ..CallingOptions::default()
        }
    }
}

/// The admin of [`CallingApp::skyline`].
pub const ADMIN_EMAIL: &str = "asha@skyline-estates.in";
pub const ADMIN_PASSWORD: &str = "sea-facing-4bhk";

impl Default for CallingOptions {
    fn default() -> Self {
        CallingOptions {
            simulator: SimulatorConfig::default(),
            chaos: Chaos::default(),
            duplicate_messages: false,
            transport: Transport::Local,
            org_cap: 100,
            fake_vapi: None,
        }
    }
}

pub struct CallingApp {
    pub api: TestApp,
    pub runtime: Arc<LocalRuntime>,
    pub simulator: Arc<Simulator>,
    pub clock: Arc<ManualClock>,
    /// The fake VAPI calls go through, when asked for.
    pub vapi: Option<FakeVapi>,
}

impl TestApp {
    /// An app that calls through the simulator, on `store`.
    pub async fn calling(store: Arc<dyn ItemStore>, options: CallingOptions) -> CallingApp {
        let clock = Arc::new(ManualClock::at(crate::start_time()));
        let mut config = Config::with_secret("integration-test-secret-".repeat(3)).expect("config");
        config.calling.vapi_webhook_secret = Some(SecretString::from(WEBHOOK_SECRET));
        config.calling.org_max_live_calls = options.org_cap;
        config.calling.twilio_auth_token = Some(SecretString::from(TWILIO_AUTH_TOKEN));
        config.calling.public_url = Some(PUBLIC_URL.to_owned());
        let simulator = Arc::new(Simulator::new(clock.clone(), options.simulator));
        let (queue, consumer): (Arc<dyn DialQueue>, Consumer) = match options.transport {
            Transport::Local => {
                let local = Arc::new(
                    LocalQueue::open(clock.clone(), Arc::clone(&store))
                        .await
                        .expect("dial queue"),
                );
                (local.clone(), Consumer::Local(local))
            }
            Transport::Sqs { client, url } => {
                let poller = Arc::new(SqsPoller::new(client, url, clock.clone()));
                (poller.clone(), Consumer::Sqs(poller))
            }
        };
        let queue: Arc<dyn DialQueue> = if options.duplicate_messages {
            Arc::new(TwiceQueue(queue))
        } else {
            queue
        };
        let (voice, vapi): (Arc<dyn Voice>, _) = match options.fake_vapi {
            Some(fake) => {
                let api_key = SecretString::from("vapi-private-key");
                let fake = FakeVapi::start(simulator.clone(), fake).await;
                let client = VapiVoice::new(VapiConfig {
                    base_url: fake.base_url.clone(),
                    api_key,
                    phone_number_id: "pn-mumbai-1".into(),
                    server_url: format!("{PUBLIC_URL}/api/v1/webhooks/vapi"),
                    server_secret: SecretString::from(WEBHOOK_SECRET),
                })
                .expect("a VAPI client");
                (Arc::new(client), Some(fake))
            }
            None => (simulator.clone(), None),
        };
        let app = App::with_clock(config, store, clock.clone())
            .with_voice(voice)
            .with_queue(queue);
        let app = Arc::new(app);
        let runtime = Arc::new(LocalRuntime::new(
            app.clone(),
            consumer,
            Some(simulator.clone()),
            options.chaos,
        ));
        CallingApp {
            api: TestApp::from_app(app, clock.clone()),
            runtime,
            simulator,
            clock,
            vapi,
        }
    }
}

impl CallingApp {
    /// Runs the calling engine, moving the clock from one due event to the
    /// next, up to `until`. After every step `check` sees the app (to assert
    /// invariants at every instant).
    pub async fn run_until(&self, until: Timestamp, mut check: impl FnMut(&Self)) -> Tick {
        self.runtime.set_fast_forward(true);
        let mut total = Tick::default();
        loop {
            let tick = self.runtime.settle().await;
            total.webhooks += tick.webhooks;
            total.dials += tick.dials;
            total.scheduler_runs += tick.scheduler_runs;
            check(self);
            match self.runtime.next_wakeup() {
                Some(at) if at <= until => {
                    if at > self.clock_now() {
                        self.clock.set(at);
                    }
                }
                _ => {
                    self.clock.set(until);
                    return total;
                }
            }
        }
    }

    pub fn clock_now(&self) -> Timestamp {
        use soraaya_core::Clock;
        self.clock.now()
    }
}

/// An organisation, a campaign of one lead (Rohan, `+91 98200 12345`, in
/// Mumbai), made through the API.
pub struct OneLead {
    pub org_id: soraaya_domain::OrgId,
    pub token: String,
    pub campaign_id: String,
    pub lead_id: String,
}

impl CallingApp {
    /// Skyline Estates, whose admin is [`ADMIN_EMAIL`]; its id and the admin's token.
    pub async fn skyline(&self) -> (soraaya_domain::OrgId, String) {
        self.api
            .organisation("Skyline Estates", ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
    }

    /// Imports `csv` (a header and its rows) as `token`.
    pub async fn import(&self, token: &str, csv: String) {
        self.api
            .post_raw("/api/v1/leads/import", token, "text/csv", csv)
            .await
            .expect(200);
    }

    /// Starts the campaign, runs the engine for `hours` of test clock, and
    /// answers a fresh token of the admin (the one given has expired).
    pub async fn run_campaign(&self, token: &str, campaign_id: &str, hours: i64) -> String {
        let start = self.clock_now();
        self.api
            .post(
                &format!("/api/v1/campaigns/{campaign_id}/start"),
                Some(token),
                serde_json::json!({}),
            )
            .await
            .expect(200);
        self.run_until(start + jiff::SignedDuration::from_hours(hours), |_| {})
            .await;
        self.api.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub async fn one_lead_campaign(&self) -> OneLead {
        let (org_id, token) = self.skyline().await;
        let campaign = self
            .api
            .post(
                "/api/v1/campaigns",
                Some(&token),
                serde_json::json!({ "name": "Worli Sea-Face Penthouses", "settings": { "max_concurrent_calls": 5, "window": { "start": "10:00", "end": "19:00" } } }),
            )
            .await;
        campaign.expect(201);
        let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
        let lead = self
            .api
            .lead(
                &token,
                serde_json::json!({ "contact_person": "Rohan Malhotra", "phone_number": "+91 98200 12345", "location": "Worli, Mumbai", "price_range": "12-15 Cr", "campaign_id": campaign_id }),
            )
            .await;
        OneLead {
            org_id,
            token,
            campaign_id,
            lead_id: lead["id"].as_str().expect("id").to_owned(),
        }
    }
}
