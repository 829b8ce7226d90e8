//! `soraaya serve`: every router, the dialer, the scheduler and the voice
//! simulator in one process, with the first admin created on first start.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use soraaya_api::{all_routes, router};
use soraaya_calling::vapi::{VapiConfig, VapiVoice};
use soraaya_core::ShiftedClock;
use soraaya_core::config::{ProcessEnv, VapiAccount};
use soraaya_local::bootstrap::{FirstAdmin, bootstrap_if_empty};
use soraaya_local::runtime::{LocalCalling, LocalFiles, LocalVoice, local_calling};
use soraaya_local::simulator::SimulatorConfig;
use tracing::{info, warn};

use crate::stores::StoreArgs;

/// How often expired items are swept from the embedded store (DynamoDB does it itself).
const TTL_SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How the local process calls.
#[derive(Debug, Clone, Args)]
pub struct CallingArgs {
    /// Length of a simulated connected call, in seconds (calls are simulated unless SORAAYA_VAPI_API_KEY is set).
    #[arg(long, default_value_t = 45, env = "SORAAYA_SIM_CALL_SECONDS", value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub sim_call_seconds: u32,
    /// Seed of the simulated conversations, to make a run repeatable [default: random].
    #[arg(long, env = "SORAAYA_SIM_SEED")]
    pub sim_seed: Option<u64>,
    /// Start the service clock at this moment (RFC 3339), to try calling outside
    /// calling hours; simulated calls only.
    #[arg(long, env = "SORAAYA_SIM_CLOCK_START")]
    pub sim_clock_start: Option<jiff::Timestamp>,
}

/// How often the local calling engine looks for work.
const CALLING_TICK: Duration = Duration::from_millis(200);

/// The demo history's seed when `--sim-seed` is not given (the same history on every first start).
const HISTORY_SEED: u64 = 2026;

pub async fn serve(
    addr: SocketAddr,
    demo: bool,
    calling: &CallingArgs,
    stores: &StoreArgs,
) -> anyhow::Result<()> {
    let (mut app, opened) = stores.app().await?;
    let voice = if std::env::var("SORAAYA_VAPI_API_KEY").is_ok_and(|k| !k.is_empty()) {
        if calling.sim_clock_start.is_some() {
            anyhow::bail!(
                "--sim-clock-start is for simulated calls; unset SORAAYA_VAPI_API_KEY to use it"
            );
        }
        println!("Calls go through VAPI; its webhooks must reach SORAAYA_PUBLIC_URL");
        let account = VapiAccount::from_vars(&ProcessEnv)?;
        LocalVoice::Vapi(VapiVoice::new(VapiConfig::new(&account, &app.config)?)?)
    } else {
        if let Some(start) = calling.sim_clock_start {
            app.clock = Arc::new(ShiftedClock::starting_at(start));
            println!("The service clock starts at {start}");
        }
        let seed = calling.sim_seed.unwrap_or_else(rand::random);
        println!(
            "Calls are simulated ({} s conversations, seed {seed}); set SORAAYA_VAPI_API_KEY for real calls",
            calling.sim_call_seconds
        );
        LocalVoice::Simulated(SimulatorConfig {
            call_seconds: calling.sim_call_seconds,
            seed,
            fixed_length: false,
        })
    };
    // Bound first: the local server's address is in its signed file URLs.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let files = LocalFiles {
        dir: soraaya_local::files::blobs_dir(&stores.data_dir),
        base_url: std::env::var("SORAAYA_PUBLIC_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("http://{local}")),
    };
    // Links in email (a password reset) point at this server unless told otherwise.
    if app.config.calling.public_url.is_none() {
        app.config.calling.public_url = Some(files.base_url.clone());
    }
    let outbox = soraaya_local::outbox::outbox_dir(&stores.data_dir);
    println!(
        "Email is written to {} (`soraaya outbox` lists it)",
        outbox.display()
    );
    app.mailer = Arc::new(soraaya_local::outbox::Outbox::new(
        outbox,
        Arc::clone(&app.clock),
    ));
    let LocalCalling {
        app,
        runtime,
        blobs,
        ..
    } = local_calling(app, voice, files)
        .await
        .context("cannot open the dial queue")?;
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

    // Leads written by an earlier version get this version's indexes, before
    // anything else writes them.
    for org in soraaya_accounts::list_organisations(&app).await? {
        let rewritten = soraaya_leads::reindex::bring_up_to_date(app.store.as_ref(), org.org_id)
            .await
            .with_context(|| format!("cannot reindex the leads of \"{}\"", org.name))?;
        if rewritten > 0 {
            println!(
                "Reindexed {rewritten} leads of \"{}\" for search and the new filters",
                org.name
            );
        }
    }

    if demo {
        for org in soraaya_accounts::list_organisations(&app)
            .await?
            .into_iter()
            .take(1)
        {
            let repo = soraaya_leads::repo::LeadsRepo::new(app.store.as_ref());
            let has_leads = repo
                .counters(org.org_id, soraaya_leads::counters::Scope::All)
                .await?
                .total
                > 0;
            if !has_leads {
                let seeded = soraaya_local::demo::seed(&app, org.org_id).await?;
                println!(
                    "Demo data: {} leads, {} personas, {} properties and the campaign \"{}\" loaded into \"{}\"",
                    seeded.leads_created,
                    seeded.personas_created,
                    seeded.properties_created,
                    soraaya_local::demo::DEMO_CAMPAIGN,
                    org.name
                );
                let history = soraaya_local::history::backfill(
                    Arc::clone(&app.store),
                    app.config.clone(),
                    org.org_id,
                    calling.sim_seed.unwrap_or(HISTORY_SEED),
                    LocalFiles {
                        dir: soraaya_local::files::blobs_dir(&stores.data_dir),
                        base_url: format!("http://{local}"),
                    },
                    app.clock.now(),
                )
                .await?;
                println!(
                    "Demo history: {} leads, {} campaigns and {} calls over the last {} days",
                    history.leads,
                    history.campaigns,
                    history.calls,
                    soraaya_local::history::DAYS
                );
            }
        }
    }

    if let Some(embedded) = opened.embedded.clone() {
        let clock = Arc::clone(&app.clock);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TTL_SWEEP_EVERY);
            loop {
                every.tick().await;
                match embedded
                    .sweep_expired(soraaya_core::tables::ALL, clock.now().as_second())
                    .await
                {
                    Ok(0) => {}
                    Ok(removed) => info!(removed, "expired items swept"),
                    Err(err) => warn!(error = %err, "TTL sweep failed"),
                }
            }
        });
    }

    // Calls that were live when the process last stopped hold no slot now.
    soraaya_calling::scheduler::settle_calls_after_restart(&app)
        .await
        .context("cannot settle the calls live at the last stop")?;
    tokio::spawn(Arc::clone(&runtime).run(CALLING_TICK));

    println!(
        "Soraaya is serving http://{local} on the {}",
        opened.description
    );
    info!(addr = %local, store = %opened.description, "serving");
    let routes =
        soraaya_local::files::routes(Arc::clone(&app), blobs).merge(router(app, all_routes()));
    // The peer's address is what the login limits per client count.
    axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
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
