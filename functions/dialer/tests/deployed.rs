//! `dialer` starts with exactly the environment `template.yaml` gives it
//! (parameters resolved to sample values, on a fresh stack on the emulator)
//! and reaches its tables; without `SORAAYA_VAPI_API_KEY` it refuses to start
//! and names it.

#![allow(clippy::expect_used)] // test code

use soraaya_core::queue::DialMessage;
use soraaya_domain::{CampaignId, LeadId, OrgId};
use soraaya_emulator::deployed::{reaches_its_tables, starts_as_deployed};

#[tokio::test]
async fn it_starts_with_the_environment_the_template_gives_it() {
    let Some(dialer::Dialer { app, queue: _ }) =
        starts_as_deployed("dialer", "SORAAYA_VAPI_API_KEY", |vars| async move {
            dialer::init(&vars).await
        })
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
