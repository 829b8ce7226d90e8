//! Lambda entry point: build dependencies once, then run the jobs of each batch.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use soraaya_core::config::ProcessEnv;

/// When the invocation must end, as an instant of this process.
fn deadline(context: &lambda_runtime::Context) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Instant::now() + Duration::from_millis(context.deadline.saturating_sub(now_ms))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    soraaya_core::telemetry::init();
    let app = lead_jobs::init(&ProcessEnv).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let app = &app;
        async move {
            let at = deadline(&event.context);
            Ok::<_, lambda_runtime::Error>(lead_jobs::handler(app, event.payload, Some(at)).await)
        }
    }))
    .await
}
