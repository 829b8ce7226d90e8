//! The calling engine in one process: the dial queue's consumer, the
//! simulator's webhooks posted to the real webhook handler, and the
//! scheduler every minute, all on the service clock. `soraaya serve` ticks it
//! a few times a second; tests tick it and move a hand-moved clock from event
//! to event.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use jiff::{SignedDuration, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tower::ServiceExt;
use tracing::warn;

use secrecy::{ExposeSecret, SecretString};
use soraaya_api::{router, webhooks};
use soraaya_calling::dialer::handle_batch;
use soraaya_calling::scheduler;
use soraaya_calling::vapi::VapiVoice;
use soraaya_core::queue::Disposition;
use soraaya_core::{App, AppState};

use crate::files::LocalBlobs;
use crate::jobs::LocalJobQueue;
use crate::queue::LocalQueue;
use crate::simulator::{Simulator, SimulatorConfig};
use crate::sqs_poller::SqsPoller;
use soraaya_jobs::RunOutcome;

/// Mistreatment of webhooks, to prove the handlers do not mind it.
#[derive(Debug, Clone, Default)]
pub struct Chaos {
    /// Deliver this share of webhooks twice (1.0: every one).
    pub duplicates: f64,
    /// Delay each delivery by up to this many seconds (so they arrive out of order).
    pub reorder_seconds: u32,
    /// Drop this share of end-of-call reports (the scheduler must find those calls).
    pub drop_reports: f64,
    /// Deliver no webhook at all for this share of calls (the scheduler must
    /// ask the voice provider how they ended).
    pub silent_calls: f64,
    pub seed: u64,
}

/// Where dial messages come from.
pub enum Consumer {
    Local(Arc<LocalQueue>),
    Sqs(Arc<SqsPoller>),
}

/// How often the scheduler runs.
const SCHEDULER_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub webhooks: usize,
    pub dials: usize,
    pub scheduler_runs: usize,
    /// Job runs that went well (a failed one is tried again on a later tick).
    pub jobs: usize,
}

impl Tick {
    pub fn is_idle(&self) -> bool {
        *self == Tick::default()
    }
}

pub struct LocalRuntime {
    app: AppState,
    consumer: Consumer,
    simulator: Option<Arc<Simulator>>,
    webhooks: Router,
    secret: String,
    chaos: Chaos,
    rng: Mutex<ChaCha8Rng>,
    inbox: Mutex<BinaryHeap<Reverse<(Timestamp, u64, String)>>>,
    sequence: AtomicU64,
    next_scheduler_run: Mutex<Option<Timestamp>>,
    /// On a hand-moved clock: skip the scheduler runs that would find
    /// nothing due, straight to the run at which something is.
    fast_forward: AtomicBool,
    /// Dial messages handled, in all.
    pub dials_handled: AtomicU64,
    /// Jobs to run, if this process runs them.
    jobs: Option<Arc<LocalJobQueue>>,
}

impl LocalRuntime {
    pub fn new(
        app: AppState,
        consumer: Consumer,
        simulator: Option<Arc<Simulator>>,
        chaos: Chaos,
    ) -> Self {
        let secret = app
            .config
            .calling
            .vapi_webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default();
        LocalRuntime {
            webhooks: router(Arc::clone(&app), webhooks::vapi_routes()),
            app,
            consumer,
            simulator,
            secret,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(chaos.seed)),
            chaos,
            inbox: Mutex::new(BinaryHeap::new()),
            sequence: AtomicU64::new(0),
            next_scheduler_run: Mutex::new(None),
            fast_forward: AtomicBool::new(false),
            dials_handled: AtomicU64::new(0),
            jobs: None,
        }
    }

    /// Runs the jobs of `queue` too.
    pub fn with_jobs(mut self, queue: Arc<LocalJobQueue>) -> Self {
        self.jobs = Some(queue);
        self
    }

    /// Runs every job waiting, each to its end (or, failing, once more later).
    async fn run_jobs(&self) -> usize {
        let Some(queue) = &self.jobs else {
            return 0;
        };
        let mut ran = 0;
        // Messages put back during this pass wait for the next tick.
        let waiting = std::iter::from_fn(|| queue.receive()).collect::<Vec<_>>();
        for delivery in waiting {
            match soraaya_jobs::runner::run(&self.app, &delivery.message, None, delivery.tries)
                .await
            {
                Ok(RunOutcome::Continue) => {
                    ran += 1;
                    queue.retry(delivery);
                }
                Ok(_) => ran += 1,
                Err(err) => {
                    warn!(error = %err, job_id = %delivery.message.job_id, "job failed; trying again");
                    queue.retry(delivery);
                }
            }
        }
        ran
    }

    fn hold(&self, at: Timestamp, body: String) {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        self.inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Reverse((at, seq, body)));
    }

    /// Takes the simulator's due webhooks into the inbox, mistreated as asked.
    fn collect_webhooks(&self, now: Timestamp) {
        let Some(simulator) = &self.simulator else {
            return;
        };
        for body in simulator.due_webhooks() {
            let is_report = body["message"]["type"] == "end-of-call-report";
            if self.is_silent(body["message"]["call"]["id"].as_str().unwrap_or_default()) {
                continue;
            }
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            if is_report
                && self.chaos.drop_reports > 0.0
                && rng.random_bool(self.chaos.drop_reports)
            {
                continue;
            }
            let twice =
                self.chaos.duplicates > 0.0 && rng.random_bool(self.chaos.duplicates.min(1.0));
            let copies = if twice { 2 } else { 1 };
            for _ in 0..copies {
                let delay = if self.chaos.reorder_seconds > 0 {
                    SignedDuration::from_millis(
                        rng.random_range(0..i64::from(self.chaos.reorder_seconds) * 1000),
                    )
                } else {
                    SignedDuration::ZERO
                };
                self.hold(now + delay, body.to_string());
            }
        }
    }

    /// Whether a call is one of the share whose webhooks never come: decided
    /// by its id and the seed, so every webhook of the call agrees.
    fn is_silent(&self, call_id: &str) -> bool {
        if self.chaos.silent_calls <= 0.0 {
            return false;
        }
        // FNV-1a over the seed and the id: stable across builds.
        let hash = self
            .chaos
            .seed
            .to_le_bytes()
            .iter()
            .chain(call_id.as_bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
        (hash as f64 / u64::MAX as f64) < self.chaos.silent_calls
    }

    async fn post_webhook(&self, body: String) {
        let request = axum::http::Request::post("/api/v1/webhooks/vapi")
            .header("content-type", "application/json")
            .header("x-vapi-secret", &self.secret)
            .body(Body::from(body.clone()));
        let Ok(request) = request else { return };
        match self.webhooks.clone().oneshot(request).await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) if response.status().is_server_error() => {
                // As VAPI would: try again shortly.
                self.hold(self.app.clock.now() + SignedDuration::from_secs(2), body);
            }
            Ok(response) => warn!(status = %response.status(), "webhook refused"),
            Err(never) => match never {},
        }
    }

    /// Does everything that is due now; says what it did.
    pub async fn tick(&self) -> Tick {
        let now = self.app.clock.now();
        let mut tick = Tick {
            jobs: self.run_jobs().await,
            ..Tick::default()
        };
        self.collect_webhooks(now);
        loop {
            let due = {
                let mut inbox = self.inbox.lock().unwrap_or_else(|p| p.into_inner());
                match inbox.peek() {
                    Some(Reverse((at, ..))) if *at <= now => inbox.pop(),
                    _ => None,
                }
            };
            let Some(Reverse((_, _, body))) = due else {
                break;
            };
            self.post_webhook(body).await;
            tick.webhooks += 1;
        }
        match &self.consumer {
            Consumer::Local(queue) => loop {
                let deliveries = queue.receive(50);
                if deliveries.is_empty() {
                    break;
                }
                tick.dials += deliveries.len();
                let by_id: std::collections::HashMap<String, _> = deliveries
                    .iter()
                    .map(|d| (d.id.clone(), d.clone()))
                    .collect();
                for (id, disposition) in handle_batch(&self.app, deliveries).await {
                    let Some(delivery) = by_id.get(&id) else {
                        continue;
                    };
                    let kept = match disposition {
                        Disposition::Done => queue.done(delivery).await,
                        Disposition::RetryAfter(wait) => {
                            queue.requeue(delivery.clone(), wait).await
                        }
                    };
                    if let Err(err) = kept {
                        // Still in the store: delivered again after a restart.
                        warn!(message_id = %id, error = %err, "could not record a dial message's outcome");
                    }
                }
            },
            Consumer::Sqs(poller) => {
                if let Err(err) = poller.release_due(now).await {
                    warn!(error = %err, "could not release held dial messages");
                }
                // Only when something can be there: an empty receive is a
                // request too, and moving the clock makes many ticks.
                if poller.take_fresh() {
                    loop {
                        match poller.poll(&self.app).await {
                            Ok(n) if n < SqsPoller::BATCH => {
                                // Fewer than asked for: nothing more is visible.
                                tick.dials += n;
                                break;
                            }
                            Ok(n) => tick.dials += n,
                            Err(err) => {
                                warn!(error = %err, "polling the dial queue failed");
                                break;
                            }
                        }
                    }
                }
            }
        }
        self.dials_handled
            .fetch_add(tick.dials as u64, Ordering::Relaxed);
        let scheduler_due = {
            let mut next = self
                .next_scheduler_run
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if !tick.is_idle() && self.fast_forward.load(Ordering::Relaxed) {
                // Something happened: back to a run every minute.
                *next = Some(next.map_or(now, |at| at.min(now + SCHEDULER_EVERY)));
            }
            match *next {
                Some(at) if at > now => false,
                _ => {
                    *next = Some(now + SCHEDULER_EVERY);
                    true
                }
            }
        };
        if scheduler_due {
            match scheduler::run(&self.app, now).await {
                Ok(run) => {
                    tick.scheduler_runs += usize::from(run.due > 0);
                    if run.due == 0 && tick.is_idle() {
                        self.skip_idle_runs(now, run.next_due);
                    }
                }
                Err(err) => warn!(error = %err, "scheduler run failed"),
            }
        }
        tick
    }

    /// Fast-forwards the clock past scheduler runs with nothing to do: on a
    /// hand-moved clock nothing but this runtime writes while it runs, so
    /// until a dial or a webhook comes, the next run that finds something is
    /// the first one at or after `next_due`.
    pub fn set_fast_forward(&self, on: bool) {
        self.fast_forward.store(on, Ordering::Relaxed);
    }

    /// Something outside the runtime wrote (a campaign started with its
    /// leads deferred to their calling hours): on a fast-forwarded clock the
    /// scheduler would not look again until a dial or a webhook, so it looks
    /// at the next tick.
    pub fn wake_scheduler(&self) {
        *self
            .next_scheduler_run
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn skip_idle_runs(&self, now: Timestamp, next_due: Option<Timestamp>) {
        if !self.fast_forward.load(Ordering::Relaxed) {
            return;
        }
        let mut next = self
            .next_scheduler_run
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *next = match next_due {
            Some(due) => {
                let every = SCHEDULER_EVERY.as_secs();
                let runs = ((due - now).as_secs() + every - 1) / every;
                Some(now + SCHEDULER_EVERY * i32::try_from(runs.max(1)).unwrap_or(i32::MAX))
            }
            // Nothing is due at all: only a dial or a webhook can change that.
            None => Some(Timestamp::MAX),
        };
    }

    /// Ticks until nothing more is due now.
    pub async fn settle(&self) -> Tick {
        let mut total = Tick::default();
        loop {
            let tick = self.tick().await;
            total.webhooks += tick.webhooks;
            total.dials += tick.dials;
            total.scheduler_runs += tick.scheduler_runs;
            total.jobs += tick.jobs;
            if tick.webhooks == 0 && tick.dials == 0 && tick.jobs == 0 {
                return total;
            }
        }
    }

    /// When something is next due: a webhook, a dial message, or the scheduler.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let inbox = self
            .inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at);
        let simulator = self.simulator.as_ref().and_then(|s| s.next_due());
        let queue = match &self.consumer {
            Consumer::Local(queue) => queue.next_due(),
            Consumer::Sqs(poller) => poller.next_due(),
        };
        let scheduler = *self
            .next_scheduler_run
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        [inbox, simulator, queue, scheduler]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs on the system clock until the process ends.
    pub async fn run(self: Arc<Self>, every: Duration) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            self.settle().await;
        }
    }
}

/// How the local process places calls.
pub enum LocalVoice {
    /// Pretend calls whose webhooks the runtime posts to the webhook handler.
    Simulated(SimulatorConfig),
    /// Real calls; VAPI posts its webhooks to the public URL.
    Vapi(VapiVoice),
}

/// The calling engine of one process, ready to run.
pub struct LocalCalling {
    pub app: AppState,
    pub runtime: Arc<LocalRuntime>,
    pub simulator: Option<Arc<Simulator>>,
    /// The blobs, whose signed URLs the local server answers.
    pub blobs: Arc<LocalBlobs>,
}

/// Where the process keeps files, and the URL it serves them at.
pub struct LocalFiles {
    pub dir: std::path::PathBuf,
    pub base_url: String,
}

/// Wires `app` for calling in one process: an in-process dial queue kept in
/// the app's store (resumed from it), the
/// voice asked for, and a webhook secret (generated when none is configured,
/// since the simulator's webhooks go through the same authenticated handler).
pub async fn local_calling(
    mut app: App,
    voice: LocalVoice,
    files: LocalFiles,
) -> Result<LocalCalling, soraaya_store::StoreError> {
    if app.config.calling.vapi_webhook_secret.is_none() {
        let mut bytes = [0u8; 24];
        rand::fill(&mut bytes);
        let secret = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        app.config.calling.vapi_webhook_secret = Some(SecretString::from(secret));
    }
    // Messages are kept in the store; a lost one (a store failure) is looked for soon.
    app.config.calling.resend_queued_after = app
        .config
        .calling
        .resend_queued_after
        .min(Duration::from_secs(120));
    let queue = Arc::new(LocalQueue::open(Arc::clone(&app.clock), Arc::clone(&app.store)).await?);
    let (app, simulator) = match voice {
        LocalVoice::Simulated(config) => {
            // Pretend calls are short; a call lost with a restart is noticed soon.
            let check =
                Duration::from_secs(u64::from(config.call_seconds).saturating_mul(3).max(120));
            app.config.calling.check_call_after = app.config.calling.check_call_after.min(check);
            app.config.calling.typical_call = Duration::from_secs(u64::from(config.call_seconds));
            let simulator = Arc::new(Simulator::new(Arc::clone(&app.clock), config));
            (app.with_voice(Arc::clone(&simulator) as _), Some(simulator))
        }
        LocalVoice::Vapi(vapi) => (app.with_voice(Arc::new(vapi)), None),
    };
    let jobs = Arc::new(LocalJobQueue::default());
    let blobs = Arc::new(LocalBlobs::new(
        files.dir,
        &files.base_url,
        Arc::clone(&app.clock),
    ));
    let app: AppState = Arc::new(
        app.with_queue(Arc::clone(&queue) as _)
            .with_jobs(Arc::clone(&jobs) as _)
            .with_blobs(Arc::clone(&blobs) as _),
    );
    let runtime = Arc::new(
        LocalRuntime::new(
            Arc::clone(&app),
            Consumer::Local(queue),
            simulator.clone(),
            Chaos::default(),
        )
        .with_jobs(jobs),
    );
    Ok(LocalCalling {
        app,
        runtime,
        simulator,
        blobs,
    })
}
