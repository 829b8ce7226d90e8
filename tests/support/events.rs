//! Sample events from `events/` fed through a function's handler as the
//! Lambda runtime passes them.

use axum::Router;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use serde_json::Value;
use tower::ServiceExt;

/// A sample event's text, from the repository's `events/` directory.
pub fn sample(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Fills `{{NAME}}` placeholders.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |text, (name, value)| {
        text.replace(&format!("{{{{{name}}}}}"), value)
    })
}

/// Sends an API Gateway HTTP API event through `router`; answers the status
/// and the JSON body (`null` when empty).
pub async fn api_gateway(router: Router, event: &str) -> (u16, Value) {
    let event: LambdaRequest = serde_json::from_str(event).expect("an API Gateway v2 event");
    let response = lambda_http::Adapter::from(router)
        .oneshot(LambdaEvent::new(event, Context::default()))
        .await
        .expect("the handler answers");
    let response = serde_json::to_value(&response).expect("a response");
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let body =
        serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (status, body)
}
