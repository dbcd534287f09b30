//! `writ token revoke`: withdraw a console user's personal access token, on
//! the case store directly (an admin's command, run beside the server).

use std::process::ExitCode;

use clap::Subcommand;

use crate::agency_cmd::{StoreArgs, gateway};
use crate::client;
use crate::input::BadInput;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Revoke a personal access token: from now on it authenticates nobody.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The token, as its user received it.
        token: String,
    },
}

pub fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Revoke { store, token } = cmd;
    client::runtime()?.block_on(async {
        let gateway = gateway(&store).await?;
        if gateway.revoke_token(token.trim()).await? {
            eprintln!("revoked");
            Ok(ExitCode::SUCCESS)
        } else {
            Err(BadInput("no such active token".into()).into())
        }
    })
}
