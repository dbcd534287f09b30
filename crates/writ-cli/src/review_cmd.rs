//! `writ review`: a console user's actions through the review API.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::client;

#[derive(Args, Debug)]
pub struct ReviewArgs {
    #[arg(long, env = "WRIT_SERVER")]
    pub server: String,
    /// The console user's personal access token.
    #[arg(long, env = "WRIT_TOKEN")]
    pub token: String,
    /// Print the API's answer as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: ReviewAction,
}

#[derive(Subcommand, Debug)]
pub enum ReviewAction {
    /// The queue: cases waiting for a person.
    List,
    /// One case, with its order and open proposals.
    Show { case: String },
    /// Propose approval.
    Approve { case: String },
    /// Propose dropping pairs: `--drop TARGET CATEGORY`, repeated.
    Narrow {
        case: String,
        #[arg(long, num_args = 2, value_names = ["TARGET", "CATEGORY"], required = true)]
        drop: Vec<String>,
    },
    /// Propose rejection.
    Reject {
        case: String,
        #[arg(long)]
        reason: String,
    },
    /// Confirm another person's proposal (approvers only).
    Confirm { case: String },
    /// Record an emergency callback.
    Callback {
        case: String,
        #[arg(long, value_parser = ["registry", "request"])]
        number_source: String,
        /// `true` when the callback confirmed the request, `false` when not.
        #[arg(long, action = clap::ArgAction::Set, value_name = "true|false")]
        verified: bool,
    },
    /// A court extended (`--until`) or lifted (`--lifted`) a secrecy order.
    Secrecy {
        case: String,
        #[arg(long, conflicts_with = "lifted")]
        until: Option<String>,
        #[arg(long)]
        lifted: bool,
    },
    /// The emergency has passed.
    EmergencyOver { case: String },
    /// A production order was issued (Annex V).
    PreservationConfirmed { case: String },
}

pub fn run(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let (method, path, body) = match &args.action {
        ReviewAction::List => ("GET", "/v1/review/queue".to_owned(), None),
        ReviewAction::Show { case } => ("GET", format!("/v1/review/cases/{case}"), None),
        ReviewAction::Approve { case } => {
            ("POST", format!("/v1/review/cases/{case}/approve"), None)
        }
        ReviewAction::Narrow { case, drop } => {
            let pairs: Vec<_> = drop
                .chunks(2)
                .map(|p| json!({"target": p[0], "category": p.get(1)}))
                .collect();
            (
                "POST",
                format!("/v1/review/cases/{case}/narrow"),
                Some(json!({ "drop": pairs })),
            )
        }
        ReviewAction::Reject { case, reason } => (
            "POST",
            format!("/v1/review/cases/{case}/reject"),
            Some(json!({ "reason": reason })),
        ),
        ReviewAction::Confirm { case } => {
            ("POST", format!("/v1/review/cases/{case}/confirm"), None)
        }
        ReviewAction::Callback {
            case,
            number_source,
            verified,
        } => (
            "POST",
            format!("/v1/review/cases/{case}/callback"),
            Some(json!({ "number_source": number_source, "verified": verified })),
        ),
        ReviewAction::Secrecy {
            case,
            until,
            lifted,
        } => {
            let body = match until {
                Some(t) => json!({ "until": t }),
                None => json!({ "lifted": *lifted }),
            };
            (
                "POST",
                format!("/v1/review/cases/{case}/secrecy"),
                Some(body),
            )
        }
        ReviewAction::EmergencyOver { case } => (
            "POST",
            format!("/v1/review/cases/{case}/emergency-over"),
            None,
        ),
        ReviewAction::PreservationConfirmed { case } => (
            "POST",
            format!("/v1/review/cases/{case}/preservation-confirmed"),
            None,
        ),
    };
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let answer = client::runtime()?.block_on(async {
        let http = reqwest::Client::new();
        client::send(
            &http,
            &args.server,
            method,
            &path,
            body,
            None,
            Some(&args.token),
        )
        .await
    })?;
    if !answer.ok() {
        eprintln!(
            "error: server answered {}: {}",
            answer.status,
            answer.detail()
        );
        return Ok(ExitCode::from(1));
    }
    let is_action = !matches!(args.action, ReviewAction::List | ReviewAction::Show { .. });
    if args.json || !is_action {
        let v: serde_json::Value = serde_json::from_str(&answer.body)?;
        if args.json {
            println!("{}", answer.body);
        } else if let Some(cases) = v["cases"].as_array() {
            for c in cases {
                println!(
                    "{}  {}  {}  due {}  {}",
                    c["case"].as_str().unwrap_or("?"),
                    c["status"].as_str().unwrap_or("?"),
                    c["decision"]["outcome"].as_str().unwrap_or("?"),
                    c["decision"]["due_at"].as_str().unwrap_or("?"),
                    c["reference"].as_str().unwrap_or("?"),
                );
            }
        } else {
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    } else {
        client::print_answer(&answer.body)?;
    }
    Ok(ExitCode::SUCCESS)
}
