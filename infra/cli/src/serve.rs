//! `soraaya serve`: every router in one process, with the first admin created
//! on first start.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use soraaya_app::http::{Area, router};
use soraaya_app::local::{FirstAdmin, bootstrap_if_empty};
use tracing::{info, warn};

use crate::stores::StoreArgs;

/// How often expired items are swept from the embedded store (DynamoDB does it itself).
const TTL_SWEEP_EVERY: Duration = Duration::from_secs(600);

pub async fn serve(addr: SocketAddr, demo: bool, stores: &StoreArgs) -> anyhow::Result<()> {
    let (app, opened) = stores.app().await?;
    let first = FirstAdmin::from_env()?;
    if let Some(created) = bootstrap_if_empty(&app, first).await? {
        println!(
            "First start: created organisation \"{}\" and admin {}",
            created.organisation.name, created.admin.email
        );
        if let Some(password) = created.generated_password {
            println!("  admin password: {password}");
            println!(
                "  (shown only this once; set SORAAYA_ADMIN_PASSWORD before the first start to choose it)"
            );
        }
    }

    if demo {
        for org in soraaya_app::accounts::list_organisations(&app)
            .await?
            .into_iter()
            .take(1)
        {
            let repo = soraaya_app::leads::repo::LeadsRepo::new(app.store.as_ref());
            let has_leads = repo
                .counters(org.org_id, "ALL")
                .await?
                .is_some_and(|c| soraaya_app::leads::record::counter(&c, "total") > 0);
            if !has_leads {
                let seeded = soraaya_app::demo::seed(&app, org.org_id).await?;
                println!(
                    "Demo data: {} leads loaded into \"{}\"",
                    seeded.leads_created, org.name
                );
            }
        }
    }

    if let Some(embedded) = opened.embedded.clone() {
        let clock = std::sync::Arc::clone(&app.clock);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TTL_SWEEP_EVERY);
            loop {
                every.tick().await;
                match embedded
                    .sweep_expired(soraaya_app::tables::ALL, clock.now().as_second())
                    .await
                {
                    Ok(0) => {}
                    Ok(removed) => info!(removed, "expired items swept"),
                    Err(err) => warn!(error = %err, "TTL sweep failed"),
                }
            }
        });
    }

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!(
        "Soraaya is serving http://{local} on the {}",
        opened.description
    );
    info!(addr = %local, store = %opened.description, "serving");
    axum::serve(listener, router(app, Area::ALL))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
