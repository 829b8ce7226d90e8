//! Lambda entry point: build dependencies once, then handle SQS batches.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    soraaya_app::telemetry::init();
    let app = soraaya_app::App::from_env(soraaya_app::Needs {
        voice: true,
        queue: false,
    })
    .await?;
    let queue = soraaya_app::calling::sqs_queue_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let (app, queue) = (&app, &queue);
        async move { Ok::<_, lambda_runtime::Error>(dialer::handler(app, queue, event.payload).await) }
    }))
    .await
}
