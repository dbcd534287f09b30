//! `writ decide`: one decision, printed as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use writ_model::{DecisionInput, Timestamp, parse};
use writ_policy::Pack;

use crate::input::{self, BadInput};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["case", "order"])))]
pub struct DecideArgs {
    /// A case file (order, registry, directory, prior holds and `now` in one).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["registry", "directory", "prior", "submitted_by", "now"])]
    case: Option<PathBuf>,
    /// An order (JSON).
    #[arg(long, value_name = "FILE", requires_all = ["registry", "directory"])]
    order: Option<PathBuf>,
    /// The agency registry: a JSON array of agencies.
    #[arg(long, value_name = "FILE")]
    registry: Option<PathBuf>,
    /// The account directory: a JSON array of accounts.
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
    /// Earlier preservation holds: a JSON array.
    #[arg(long, value_name = "FILE")]
    prior: Option<PathBuf>,
    /// The authenticated submitter (default: the order's `agency`).
    #[arg(long, value_name = "ID")]
    submitted_by: Option<String>,
    /// The decision time, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// A policy pack folder (default: the pack built into writ).
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
}

pub fn load_pack(dir: Option<&std::path::Path>) -> anyhow::Result<Pack> {
    let pack = match dir {
        Some(dir) => crate::policy_cmd::load_proven_pack(dir)?,
        None => Pack::embedded()?,
    };
    Ok(pack)
}

pub fn run(args: DecideArgs) -> anyhow::Result<ExitCode> {
    let pack = load_pack(args.policy.as_deref())?;
    let input = if let Some(case) = &args.case {
        input::parse(case, parse::case_file)?.input()
    } else {
        let order_path = args
            .order
            .as_ref()
            .ok_or_else(|| BadInput("give --case FILE or --order FILE".into()))?;
        let order = input::parse(order_path, parse::order)?;
        let agencies = match &args.registry {
            Some(p) => input::parse(p, parse::registry)?,
            None => Vec::new(),
        };
        let accounts = match &args.directory {
            Some(p) => input::parse(p, parse::directory)?,
            None => Vec::new(),
        };
        let prior = match &args.prior {
            Some(p) => input::parse(p, parse::prior)?,
            None => Vec::new(),
        };
        let now = match &args.now {
            Some(t) => Timestamp::parse(t).map_err(|e| BadInput(format!("--now: {e}")))?,
            None => Timestamp::now(),
        };
        DecisionInput {
            now,
            submitted_by: Some(
                args.submitted_by
                    .clone()
                    .unwrap_or_else(|| order.agency.to_string()),
            ),
            agencies,
            accounts,
            prior,
            order,
        }
    };
    let decision = writ_policy::decide(&pack, &input);
    println!("{}", serde_json::to_string_pretty(&decision)?);
    Ok(ExitCode::SUCCESS)
}
