//! Lambda entry point: build dependencies once, then serve events. Starting
//! a campaign sends dial messages, so this function has the queue.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    soraaya_app::telemetry::init();
    let app = soraaya_app::App::from_env(soraaya_app::Needs::QUEUE).await?;
    lambda_http::run(campaigns_api::handler(app)).await
}
