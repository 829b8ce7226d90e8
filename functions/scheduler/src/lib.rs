//! The scheduler function, run by an EventBridge rule every minute: due
//! calls, lost dials, silent calls, and notification digests by email.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use soraaya_aws::SesMailer;
use soraaya_calling::CallingError;
use soraaya_calling::scheduler::{self, SchedulerRun};
use soraaya_calling::sqs::SqsQueue;
use soraaya_calling::vapi::{VapiConfig, VapiVoice};
use soraaya_core::App;
use soraaya_core::config::{ConfigError, SchedulerFunctionConfig, Vars};
use soraaya_core::storage::deployed_store;

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<App, ConfigError> {
    let SchedulerFunctionConfig {
        calling: function,
        mail_from,
    } = SchedulerFunctionConfig::from_vars(vars)?;
    let voice = VapiVoice::new(VapiConfig::new(&function.vapi, &function.config)?)?;
    let store = deployed_store(&function.config).await;
    let queue = SqsQueue::at(&function.dial_queue_url, &function.config.aws).await;
    let mailer = SesMailer::at(&mail_from, &function.config.aws).await;
    Ok(App::new(function.config, store)
        .with_voice(Arc::new(voice))
        .with_queue(Arc::new(queue))
        .with_mailer(Arc::new(mailer)))
}

/// The function's handler: one scheduler run at the service clock's now (the
/// event's own time is when EventBridge fired, which a retried event repeats).
pub async fn handler(
    app: &App,
    event: EventBridgeEvent<serde_json::Value>,
) -> Result<SchedulerRun, CallingError> {
    tracing::debug!(fired_at = ?event.time, "scheduler event");
    scheduler::run(app, app.clock.now()).await
}
