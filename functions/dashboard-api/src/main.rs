//! Lambda entry point: build dependencies once, then serve events.

use soraaya_core::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    soraaya_core::telemetry::init();
    let app = dashboard_api::init(&ProcessEnv).await?;
    lambda_http::run(dashboard_api::handler(app)).await
}
