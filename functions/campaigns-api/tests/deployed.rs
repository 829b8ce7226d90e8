//! `campaigns-api` starts with exactly the environment `template.yaml` gives it
//! (parameters resolved to sample values, on a fresh stack on the emulator)
//! and reaches its tables; without `SORAAYA_DIAL_QUEUE_URL` it refuses to start
//! and names it.

#![allow(clippy::expect_used)] // test code

use soraaya_core::queue::DialMessage;
use soraaya_domain::{CampaignId, LeadId, OrgId};
use soraaya_emulator::deployed::{reaches_its_tables, starts_as_deployed};

#[tokio::test]
async fn it_starts_with_the_environment_the_template_gives_it() {
    let Some(app) = starts_as_deployed(
        "campaigns-api",
        "SORAAYA_DIAL_QUEUE_URL",
        |vars| async move { campaigns_api::init(&vars).await },
    )
    .await
    else {
        return;
    };
    reaches_its_tables(app.store.as_ref()).await;
    // Its dial queue is the template's, and reachable.
    let message = DialMessage {
        org_id: OrgId::new(),
        lead_id: LeadId::new(),
        campaign_id: CampaignId::new(),
        attempt: 1,
    };
    app.queue
        .send(&[(message, std::time::Duration::ZERO)])
        .await
        .expect("the dial queue takes a message");
}
