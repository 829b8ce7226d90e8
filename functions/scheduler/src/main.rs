//! Lambda entry point: build dependencies once, then run on every event.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use soraaya_core::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    soraaya_core::telemetry::init();
    let app = scheduler::init(&ProcessEnv).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let app = &app;
        async move { Ok::<_, lambda_runtime::Error>(scheduler::handler(app, event.payload).await?) }
    }))
    .await
}
