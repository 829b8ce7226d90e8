//! The command line.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use soraaya_accounts::{self as accounts, NewOrganisation, NewUser};
use soraaya_domain::{Email, OrgId, OrgName, Password, PersonName, Region, Role, TimeZoneName};

use crate::stores::StoreArgs;

#[derive(Debug, Parser)]
#[command(
    name = "soraaya",
    version,
    about = "Soraaya: AI lead qualification for luxury real estate"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole product in one process (API on the embedded store by default).
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000", env = "SORAAYA_ADDR")]
        addr: SocketAddr,
        /// Load the demo data (leads, personas, properties, a campaign) when the organisation has no leads yet.
        #[arg(long, env = "SORAAYA_DEMO")]
        demo: bool,
        #[command(flatten)]
        calling: crate::serve::CallingArgs,
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// Load the demo data (35 luxury leads across Indian cities, personas, properties, a campaign); idempotent.
    SeedDemo {
        /// Organisation id (may be left out when there is only one).
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// DynamoDB tables.
    Tables {
        #[command(subcommand)]
        command: TablesCommand,
    },
    /// Email `soraaya serve` sent (password reset links, notification digests), newest last.
    Outbox {
        /// Only the messages to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many of the latest messages to print.
        #[arg(long, default_value_t = 10)]
        last: usize,
        /// Directory of the embedded store, whose outbox is read.
        #[arg(long, default_value = ".soraaya", env = "SORAAYA_DATA_DIR")]
        data_dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Add an organisation with its first admin.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, env = "SORAAYA_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
        /// Country assumed for phone numbers without a country code.
        #[arg(long, default_value = "IN")]
        region: String,
        #[arg(long, default_value = "Asia/Kolkata")]
        time_zone: String,
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        stores: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user to an organisation.
    Add {
        /// Organisation id (may be left out when there is only one).
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager or agent.
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long, env = "SORAAYA_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        stores: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TablesCommand {
    /// Create every table (idempotent) on a DynamoDB endpoint, with TTL and
    /// point-in-time recovery, and wait until they are active.
    Create {
        /// DynamoDB endpoint, such as http://127.0.0.1:8000 [default: AWS].
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long, default_value = "soraaya-", env = "SORAAYA_TABLE_PREFIX")]
        prefix: String,
    },
}

fn field<T, E: std::fmt::Display>(name: &str, result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|err| anyhow::anyhow!("--{name} {err}"))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            addr,
            demo,
            calling,
            stores,
        } => crate::serve::serve(addr, demo, &calling, &stores).await,
        Command::SeedDemo { org, stores } => {
            let (app, _) = stores.app().await?;
            let org = only_or_named_org(&app, org).await?;
            let seeded = soraaya_local::demo::seed(&app, org).await?;
            println!(
                "demo data: {} leads created, {} already there",
                seeded.leads_created, seeded.leads_present
            );
            Ok(())
        }
        Command::Org {
            command:
                OrgCommand::Add {
                    name,
                    admin_email,
                    admin_password,
                    admin_name,
                    region,
                    time_zone,
                    stores,
                },
        } => {
            let admin_email = field("admin-email", Email::parse(&admin_email))?;
            let new = NewOrganisation {
                name: field("name", OrgName::parse(&name))?,
                default_region: field("region", Region::parse(&region))?,
                time_zone: field("time-zone", TimeZoneName::parse(&time_zone))?,
                admin_password: field(
                    "admin-password",
                    Password::for_account(&admin_password, &admin_email),
                )?,
                admin_email,
                admin_name: field("admin-name", PersonName::parse(&admin_name))?,
            };
            let (app, _) = stores.app().await?;
            let (organisation, admin) = accounts::create_organisation(&app, new).await?;
            println!("organisation {} ({})", organisation.id, organisation.name);
            println!("admin        {} ({})", admin.id, admin.email);
            Ok(())
        }
        Command::Org {
            command: OrgCommand::List { stores },
        } => {
            let (app, _) = stores.app().await?;
            for org in accounts::list_organisations(&app).await? {
                println!("{}  {}", org.org_id, org.name);
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    org,
                    email,
                    name,
                    role,
                    password,
                    stores,
                },
        } => {
            let email = field("email", Email::parse(&email))?;
            let new = NewUser {
                password: field("password", Password::for_account(&password, &email))?,
                email,
                full_name: field("name", PersonName::parse(&name))?,
                role: Role::parse(&role).with_context(|| {
                    format!("--role must be admin, manager or agent, not {role:?}")
                })?,
            };
            let (app, _) = stores.app().await?;
            let org = match org {
                Some(org) => field("org", OrgId::parse(&org))?,
                None => {
                    let orgs = accounts::list_organisations(&app).await?;
                    match orgs.as_slice() {
                        [only] => only.org_id,
                        [] => bail!(
                            "there is no organisation yet; run `soraaya serve` or `soraaya org add`"
                        ),
                        _ => bail!(
                            "there are several organisations; name one with --org (see `soraaya org list`)"
                        ),
                    }
                }
            };
            let user = accounts::create_user(&app, org, new).await?;
            println!("user {} ({}, {})", user.id, user.email, user.role.as_str());
            Ok(())
        }
        Command::Outbox { to, last, data_dir } => {
            let outbox = soraaya_local::outbox::Outbox::new(
                soraaya_local::outbox::outbox_dir(&data_dir),
                std::sync::Arc::new(soraaya_core::SystemClock),
            );
            let messages = match &to {
                Some(to) => outbox.to(to),
                None => outbox.messages(),
            }
            .with_context(|| format!("cannot read the outbox in {}", data_dir.display()))?;
            if messages.is_empty() {
                println!("the outbox is empty");
            }
            let skip = messages.len().saturating_sub(last);
            for sent in &messages[skip..] {
                println!("--- {}", sent.sent_at);
                println!("From:    {}", sent.mail.from_name);
                println!("To:      {}", sent.mail.to);
                println!("Subject: {}", sent.mail.subject);
                println!();
                println!("{}", sent.mail.text.trim_end());
            }
            Ok(())
        }
        Command::Tables {
            command: TablesCommand::Create { endpoint, prefix },
        } => {
            let client = soraaya_core::storage::dynamodb_client(endpoint.as_deref()).await;
            for table in
                soraaya_store::create_tables(&client, &prefix, soraaya_core::tables::ALL).await?
            {
                let state = if table.created { "created" } else { "exists " };
                println!("{state} {}", table.name);
            }
            Ok(())
        }
    }
}

/// The organisation named by `--org`, or the only one there is.
async fn only_or_named_org(app: &soraaya_core::App, org: Option<String>) -> anyhow::Result<OrgId> {
    if let Some(org) = org {
        return field("org", OrgId::parse(&org));
    }
    let orgs = accounts::list_organisations(app).await?;
    match orgs.as_slice() {
        [only] => Ok(only.org_id),
        [] => bail!("there is no organisation yet; run `soraaya serve` or `soraaya org add`"),
        _ => bail!("there are several organisations; name one with --org (see `soraaya org list`)"),
    }
}
