//! Lambda entry point: build dependencies once, then run on every event.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    soraaya_app::telemetry::init();
    let app = soraaya_app::App::from_env(soraaya_app::Needs::VOICE_AND_QUEUE).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let app = &app;
        async move { Ok::<_, lambda_runtime::Error>(scheduler::handler(app, event.payload).await?) }
    }))
    .await
}
