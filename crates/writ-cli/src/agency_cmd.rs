//! `writ agency add | verify | suspend | key-add | show`: the registry, on the
//! case store directly (an admin's command, run beside the server).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine as _;
use clap::{Args, Subcommand};
use writ_gateway::Gateway;
use writ_store::Store;

use crate::client;
use crate::input::BadInput;

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// The data folder [default: ./writ-data].
    #[arg(long, env = "WRIT_DATA", default_value = "./writ-data")]
    pub data: PathBuf,
    /// The case store [default: sqlite://<data>/writ.db].
    #[arg(long, env = "WRIT_DATABASE")]
    pub database: Option<String>,
    /// Who is acting, for the registry's history.
    #[arg(long, env = "USER", default_value = "admin")]
    pub actor: String,
}

#[derive(Subcommand, Debug)]
pub enum AgencyCommand {
    /// Register an agency (pending until verified).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2.
        #[arg(long)]
        country: String,
        /// law_enforcement, prosecutor, court or designated_authority.
        #[arg(long, default_value = "law_enforcement")]
        kind: String,
        /// national_security_letter or uk_overseas_order; repeatable.
        #[arg(long)]
        power: Vec<String>,
        /// A number staff call back for emergencies (E.164); repeatable.
        #[arg(long)]
        callback: Vec<String>,
        /// The age recipient (`age1...`) packages are sealed to.
        #[arg(long)]
        age_recipient: Option<String>,
    },
    /// Mark an agency verified.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Suspend an agency: its orders are recorded and refused.
    Suspend {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Register a request-signing key: `--public-key BASE64`, or
    /// `--generate FILE` to create a key pair and write the private key there.
    KeyAdd {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        #[arg(long, conflicts_with = "generate")]
        public_key: Option<String>,
        #[arg(long)]
        generate: Option<PathBuf>,
    },
    /// Revoke a request-signing key: nothing it signs is accepted from now
    /// on, on every server, and the agency's portal sessions end.
    KeyRevoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The agency.
        id: String,
        /// The key id, as `writ agency key-add` printed it.
        key_id: String,
    },
    /// Sign an agency portal challenge with a request-signing key and print
    /// the signature (base64): how an officer signs in to the portal. Only a
    /// portal challenge (`writ-portal-sign-in:...`) is signed, and what the
    /// key signs is the line `writ-portal-sign-in-v1`, a newline, then the
    /// challenge, so that no API request can be made this way.
    Sign {
        /// The signing key file (base64 of the Ed25519 seed).
        #[arg(long)]
        key: PathBuf,
        /// The portal's challenge, exactly as shown.
        text: String,
    },
    /// Print an agency's registry entry as JSON.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
}

pub(crate) async fn gateway(store: &StoreArgs) -> anyhow::Result<Gateway> {
    std::fs::create_dir_all(&store.data)
        .with_context(|| format!("creating `{}`", store.data.display()))?;
    let url = store
        .database
        .clone()
        .unwrap_or_else(|| writ_objects::layout::database_url(&store.data));
    let s = Store::open(&url).await.context("opening the case store")?;
    let pack = std::sync::Arc::new(writ_policy::Pack::embedded().context("policy pack")?);
    Ok(Gateway::new(
        s,
        std::sync::Arc::new(move |i: &writ_model::DecisionInput| writ_policy::decide(&pack, i)),
    ))
}

pub fn run(cmd: AgencyCommand) -> anyhow::Result<ExitCode> {
    client::runtime()?.block_on(async move {
        match cmd {
            AgencyCommand::Add {
                store,
                id,
                name,
                country,
                kind,
                power,
                callback,
                age_recipient,
            } => {
                let agency: writ_model::Agency = serde_json::from_value(serde_json::json!({
                    "id": id, "name": name, "country": country, "kind": kind,
                    "status": "pending", "verified_since": null, "powers": power,
                }))
                .map_err(|e| BadInput(format!("agency: {e}")))?;
                let gw = gateway(&store).await?;
                gw.add_agency(&agency, &callback, age_recipient.as_deref(), &store.actor)
                    .await?;
                eprintln!("added agency `{id}` (pending)");
            }
            AgencyCommand::Verify { store, id } => {
                gateway(&store)
                    .await?
                    .set_agency_status(&id, writ_model::AgencyStatus::Verified, &store.actor)
                    .await?;
                eprintln!("agency `{id}` verified");
            }
            AgencyCommand::Suspend { store, id } => {
                gateway(&store)
                    .await?
                    .set_agency_status(&id, writ_model::AgencyStatus::Suspended, &store.actor)
                    .await?;
                eprintln!("agency `{id}` suspended");
            }
            AgencyCommand::KeyAdd {
                store,
                id,
                public_key,
                generate,
            } => {
                let public = match (public_key, generate) {
                    (Some(p), None) => p,
                    (None, Some(path)) => {
                        let (key, text) = writ_gateway::demo::new_signing_key()?;
                        std::fs::write(&path, text)
                            .with_context(|| format!("writing `{}`", path.display()))?;
                        base64::engine::general_purpose::STANDARD
                            .encode(key.verifying_key().as_bytes())
                    }
                    _ => return Err(BadInput("give --public-key or --generate".into()).into()),
                };
                let key = writ_gateway::registry::parse_public_key(&public)
                    .map_err(|e| BadInput(format!("--public-key: {e}")))?;
                let key_id = writ_gateway::demo::key_id(&id, &key);
                gateway(&store)
                    .await?
                    .add_agency_key(&id, &key_id, &public, &store.actor)
                    .await?;
                println!("{key_id}");
            }
            AgencyCommand::KeyRevoke { store, id, key_id } => {
                gateway(&store)
                    .await?
                    .revoke_agency_key(&id, &key_id, &store.actor)
                    .await?;
                eprintln!("key `{key_id}` of agency `{id}` revoked");
            }
            AgencyCommand::Sign { key, text } => {
                use ed25519_dalek::Signer;
                let text = text.trim();
                if !writ_gateway::auth::is_portal_challenge(text) {
                    return Err(BadInput(
                        "only an agency portal challenge (`writ-portal-sign-in:...`, as the portal's sign-in page shows it) can be signed"
                            .into(),
                    )
                    .into());
                }
                let message = writ_gateway::auth::portal_sign_in_message(text);
                let key_text = std::fs::read_to_string(&key)
                    .map_err(|e| BadInput(format!("{}: cannot read: {e}", key.display())))?;
                let key = writ_gateway::demo::read_signing_key(&key_text)
                    .ok_or_else(|| BadInput(format!("{}: not a signing key", key.display())))?;
                println!(
                    "{}",
                    base64::engine::general_purpose::STANDARD
                        .encode(key.sign(message.as_bytes()).to_bytes())
                );
            }
            AgencyCommand::Show { store, id } => {
                let view = gateway(&store).await?.agency_view(&id).await?;
                println!("{}", serde_json::to_string_pretty(&view)?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
