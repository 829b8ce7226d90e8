//! `dashboard-api` starts with exactly the environment `template.yaml` gives it
//! (parameters resolved to sample values, on a fresh stack on the emulator)
//! and reaches its tables; without `SORAAYA_JWT_SECRET` it refuses to start
//! and names it.

#![allow(clippy::expect_used)] // test code

use soraaya_emulator::deployed::{reaches_its_tables, starts_as_deployed};

#[tokio::test]
async fn it_starts_with_the_environment_the_template_gives_it() {
    let Some(app) = starts_as_deployed("dashboard-api", "SORAAYA_JWT_SECRET", |vars| async move {
        dashboard_api::init(&vars).await
    })
    .await
    else {
        return;
    };
    reaches_its_tables(app.store.as_ref()).await;
}
