//! `POST /api/v1/leads/intake`: leads arriving from a portal or a website
//! form, one or a small batch, with an organisation's API key (or a
//! person's sign-in); new ones from a source a campaign calls are queued
//! at once (speed to lead).
//!
//! `Idempotency-Key` follows the IETF draft "The Idempotency-Key HTTP
//! Header Field" (draft-ietf-httpapi-idempotency-key-header): a retry with
//! the same key and body gets the first answer again, the same key with
//! another body gets 422.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soraaya_calling::membership::call_new_leads;
use soraaya_leads::intake::{
    self, Enquiry, IdempotencyError, IntakeOutcome, IntakeResult, MAX_BATCH,
};
use soraaya_leads::record::Actor;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiState, ErrorBody};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(intake_leads))
}

/// The source recorded for an enquiry that names none.
pub const DEFAULT_SOURCE: &str = "api";

/// One enquiry, a list of them, or `{"leads": [...]}`. (The request's
/// schema: `enquiries` reads the body, telling the shapes apart by their
/// names rather than by trying each.)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IntakeRequest {
    Batch {
        /// 1 to 100 enquiries.
        #[schema(min_items = 1, max_items = 100)]
        leads: Vec<EnquiryFields>,
    },
    /// 1 to 100 enquiries.
    List(Vec<EnquiryFields>),
    One(EnquiryFields),
}

/// One enquiry: these names or any other column name (or alias) the CSV
/// import takes for what a person tells about themself, such as
/// `contact_person`, `mobile`, `budget_min`, `bhk`, `locations`. What the
/// team decides (status, priority, campaign, assignee, score, do-not-call)
/// is not an enquiry's to set.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Asha Mehta", "phone": "+919820012345", "email": "asha@example.com",
    "budget": "3-5 Cr", "city": "Mumbai", "source": "website"
}))]
pub struct EnquiryFields {
    /// The person's name.
    pub name: String,
    /// In the organisation's region's format or `+E.164`.
    pub phone: String,
    pub email: Option<String>,
    /// As the person wrote it: `3-5 Cr`, `80 L`, `45000000`.
    pub budget: Option<String>,
    pub city: Option<String>,
    /// `apartment`, `villa`, `penthouse`, `plot`, `commercial`…
    pub property_type: Option<String>,
    /// When they mean to buy, such as `3 months`.
    pub timeline: Option<String>,
    pub notes: Option<String>,
    /// Where the enquiry came from (`api` when none is named).
    pub source: Option<String>,
}

/// What became of each enquiry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeResponse {
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    /// One per enquiry, in the request's order.
    pub results: Vec<IntakeResult>,
}

/// A request's answer as kept for its retries.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    status: u16,
    body: Value,
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(|k| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// The enquiries of a body, and whether it was a single one.
fn enquiries(body: &[u8]) -> Result<(Vec<Enquiry>, bool), ApiError> {
    let shape = || {
        ApiError::bad_request(
            "invalid_body",
            "the body must be a lead object, a list of them or {\"leads\": [...]}",
        )
    };
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        ApiError::bad_request("invalid_json", format!("the body is not JSON: {err}"))
    })?;
    let (items, single) = match value {
        Value::Array(items) => (items, false),
        Value::Object(mut object) if object.len() == 1 && object.contains_key("leads") => {
            match object.remove("leads") {
                Some(Value::Array(items)) => (items, false),
                _ => return Err(ApiError::field("leads", "must be a list of lead objects")),
            }
        }
        Value::Object(object) => return Ok((vec![object], true)),
        _ => return Err(shape()),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::field(
            "leads",
            format!("must hold 1 to {MAX_BATCH} leads"),
        ));
    }
    let mut enquiries = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(object) => enquiries.push(object),
            _ => errors.push(soraaya_core::validation::FieldError {
                field: format!("leads[{i}]"),
                message: "must be a lead object".into(),
            }),
        }
    }
    if errors.is_empty() {
        Ok((enquiries, single))
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Take leads from a portal or a form.
///
/// Each enquiry is checked as any lead is (the phone normalised in the
/// organisation's region); a repeat enquiry of a number already in the book
/// updates that lead and its timeline instead of adding a second. New leads
/// from a source a campaign is set to call (`auto_call_sources`) join it,
/// and while it is active are queued at once inside its calling window.
/// With `Idempotency-Key`, a retry within 24 hours is answered as the first
/// request was, and nothing is taken twice.
#[utoipa::path(
    post, path = "/api/v1/leads/intake", tag = "leads",
    request_body = IntakeRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
         description = "Makes a retry safe: the same key and body get the first answer again"),
    ),
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Taken; at least one new lead", body = IntakeResponse),
        (status = 200, description = "Taken; repeat enquiries of existing leads, or a batch of rejected ones", body = IntakeResponse),
        (status = 400, description = "Not JSON of that shape, or a malformed Idempotency-Key", body = ErrorBody),
        (status = 422, description = "A single enquiry's invalid fields, or an Idempotency-Key used with another body", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn intake_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsWrite>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let org = caller.org_id;
    let key = idempotency_key(&headers)?;
    let hash = intake::request_hash(&body);
    if let Some(key) = &key {
        match intake::recall(&app, org, key, &hash).await {
            Ok(Some(answer)) => return replayed(answer),
            Ok(None) => {}
            Err(IdempotencyError::KeyReused) => {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "was sent before with another request; use a new key for a new request",
                ));
            }
            Err(IdempotencyError::Store(err)) => return Err(err.into()),
        }
    }
    let (enquiries, single) = enquiries(&body)?;
    let actor = Actor::user(&caller);
    let mut results = Vec::with_capacity(enquiries.len());
    let mut created = Vec::new();
    for (index, enquiry) in enquiries.iter().enumerate() {
        let (result, lead) =
            intake::take(&app, org, &actor, DEFAULT_SOURCE, index, enquiry).await?;
        if let (IntakeOutcome::Created, Some(lead)) = (result.outcome, lead) {
            created.push(lead);
        }
        results.push(result);
    }
    for (lead, campaign) in call_new_leads(&app, org, &actor, &created).await? {
        if let Some(result) = results.iter_mut().find(|r| r.lead_id == Some(lead)) {
            result.campaign_id = Some(campaign);
        }
    }
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    let response = IntakeResponse {
        created: count(IntakeOutcome::Created),
        updated: count(IntakeOutcome::Updated),
        rejected: count(IntakeOutcome::Rejected),
        results,
    };
    if response.rejected > 0 {
        let first = response
            .results
            .iter()
            .find_map(|r| r.errors.first())
            .map(|e| format!(" ({} {})", e.field, e.message))
            .unwrap_or_default();
        let detail = format!(
            "{} of {} enquiries from {} were refused{first}.",
            response.rejected,
            response.results.len(),
            caller.name,
        );
        // One per request: a retry of it tells nothing new.
        let source = format!("intake:{hash}");
        soraaya_notifications::data_to_fix(&app, org, Some(caller.user_id), &detail, &source)
            .await?;
    }
    let answer = if single && response.rejected == 1 {
        let error = ApiError::Validation(response.results[0].errors.clone());
        Answer {
            status: error.status().as_u16(),
            body: serde_json::to_value(error.body()).map_err(ApiError::internal)?,
        }
    } else {
        Answer {
            status: if response.created > 0 { 201 } else { 200 },
            body: serde_json::to_value(&response).map_err(ApiError::internal)?,
        }
    };
    if let Some(key) = &key {
        let kept = serde_json::to_value(&answer).map_err(ApiError::internal)?;
        intake::remember(&app, org, key, &hash, &kept, app.clock.now()).await?;
    }
    Ok(respond(answer, false))
}

fn replayed(kept: Value) -> Result<Response, ApiError> {
    let answer: Answer = serde_json::from_value(kept).map_err(ApiError::internal)?;
    Ok(respond(answer, true))
}

fn respond(answer: Answer, replayed: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Json(answer.body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
