//! `soraaya`: run the whole product locally, manage organisations and users,
//! create DynamoDB tables.

mod cli;
mod serve;
mod stores;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    soraaya_core::telemetry::init();
    match cli::run(cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
