//! The scheduler function, run by an EventBridge rule every minute.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use soraaya_app::App;
use soraaya_app::calling::CallingError;
use soraaya_app::calling::scheduler::{self, SchedulerRun};

/// The function's handler: one scheduler run at the service clock's now (the
/// event's own time is when EventBridge fired, which a retried event repeats).
pub async fn handler(
    app: &App,
    event: EventBridgeEvent<serde_json::Value>,
) -> Result<SchedulerRun, CallingError> {
    tracing::debug!(fired_at = ?event.time, "scheduler event");
    scheduler::run(app, app.clock.now()).await
}
