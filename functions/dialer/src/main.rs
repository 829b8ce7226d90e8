//! Lambda entry point: build dependencies once, then handle SQS batches.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use soraaya_core::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    soraaya_core::telemetry::init();
    let dialer::Dialer { app, queue } = dialer::init(&ProcessEnv).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let (app, queue) = (&app, &queue);
        async move { Ok::<_, lambda_runtime::Error>(dialer::handler(app, queue, event.payload).await) }
    }))
    .await
}
