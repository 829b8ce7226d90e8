//! Lambda entry point: build dependencies once, then serve events.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    soraaya_app::telemetry::init();
    let app = soraaya_app::App::from_env(soraaya_app::Needs::STORE_ONLY).await?;
    lambda_http::run(leads_api::handler(app)).await
}
