//! `writ review`: a console user's actions through the review API.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use writ_model::{CaseStatus, Instrument, IssuerKind, Outcome, ProposalAction};

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
    if args.json {
        println!("{}", answer.body);
        return Ok(ExitCode::SUCCESS);
    }
    let v: serde_json::Value = serde_json::from_str(&answer.body)?;
    match &args.action {
        ReviewAction::List => print_queue(&v),
        ReviewAction::Show { .. } => print_case(&v)?,
        ReviewAction::Approve { case }
        | ReviewAction::Narrow { case, .. }
        | ReviewAction::Reject { case, .. } => {
            let what = match &args.action {
                ReviewAction::Approve { .. } => "approval",
                ReviewAction::Narrow { .. } => "narrowing",
                _ => "rejection",
            };
            println!(
                "Proposal recorded: {what} of case {case}. It waits for a different approver \
                 (two-person rule); nothing changes until one confirms with \
                 `writ review confirm {case}`."
            );
        }
        ReviewAction::Confirm { case } => {
            let status = v["status"].as_str().unwrap_or("?");
            println!(
                "Confirmed: case {case} is now {}.",
                CaseStatus::parse(status).map_or(status, |x| x.label())
            );
            println!();
            client::print_answer(&answer.body)?;
        }
        _ => {
            println!("Recorded.");
            println!();
            client::print_answer(&answer.body)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A flag's API name in words.
fn flag_words(flag: &str) -> String {
    match flag {
        "challenge_gag" => "gag to challenge".to_owned(),
        "emergency_unverified" => "unverified emergency".to_owned(),
        other => other.replace('_', " "),
    }
}

/// The queue as a table with a header row.
fn print_queue(v: &serde_json::Value) {
    let cases = v["cases"].as_array().cloned().unwrap_or_default();
    if cases.is_empty() {
        println!("No case is waiting for a person.");
        return;
    }
    let rows: Vec<[String; 6]> = cases
        .iter()
        .map(|c| {
            let status = c["status"].as_str().unwrap_or("?");
            let outcome = c["decision"]["outcome"].as_str().unwrap_or("?");
            let flags: Vec<String> = c["flags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .map(flag_words)
                .collect();
            [
                c["case"].as_str().unwrap_or("?").to_owned(),
                c["reference"].as_str().unwrap_or("?").to_owned(),
                CaseStatus::parse(status)
                    .map_or(status, |x| x.label())
                    .to_owned(),
                Outcome::parse(outcome)
                    .map_or(outcome, |x| x.label())
                    .to_owned(),
                c["decision"]["due_at"].as_str().unwrap_or("-").to_owned(),
                if flags.is_empty() {
                    "-".to_owned()
                } else {
                    flags.join(", ")
                },
            ]
        })
        .collect();
    client::print_table(
        &[
            "Case",
            "Reference",
            "Status",
            "Outcome",
            "Deadline",
            "Flags",
        ],
        &rows,
    );
    println!();
    println!("{} waiting. `writ review show CASE` shows one.", rows.len());
}

/// One case for a person: the order's key facts, the decision, open proposals.
fn print_case(v: &serde_json::Value) -> anyhow::Result<()> {
    let o = &v["order"];
    let text = |x: &serde_json::Value| x.as_str().unwrap_or("-").to_owned();
    let instrument = o["instrument"].as_str().unwrap_or("?");
    let issuer = |i: &serde_json::Value| {
        let kind = i["kind"].as_str().unwrap_or("?");
        let mut s = IssuerKind::parse(kind)
            .map_or(kind, |x| x.label())
            .to_owned();
        for k in ["name", "court"] {
            if let Some(n) = i[k].as_str() {
                s.push_str(", ");
                s.push_str(n);
            }
        }
        s
    };
    println!("Reference  {}", text(&o["reference"]));
    println!("Agency     {}", text(&v["agency"]));
    println!(
        "Instrument {}",
        Instrument::parse(instrument).map_or(instrument, |x| x.label())
    );
    println!("Legal basis {}", text(&o["legal_basis"]));
    println!("Issued by  {}", issuer(&o["issued_by"]));
    println!("Issued     {}", text(&o["issued_at"]));
    println!("Expires    {}", text(&o["expires_at"]));
    if o["date_range"].is_object() {
        println!(
            "Date range {} to {}",
            text(&o["date_range"]["from"]),
            text(&o["date_range"]["to"])
        );
    }
    match o["non_disclosure"].as_object() {
        Some(nd) => println!(
            "Secrecy    issued by {}, until {}",
            issuer(&nd["issued_by"]),
            nd.get("until")
                .and_then(|u| u.as_str())
                .unwrap_or("no end date")
        ),
        None => println!("Secrecy    none"),
    }
    println!();
    client::print_answer(&v.to_string())?;
    if let Some(ps) = v["proposals"].as_array().filter(|p| !p.is_empty()) {
        println!();
        println!("Waiting for a second person:");
        for p in ps {
            let action = p["action"].as_str().unwrap_or("?");
            println!(
                "  {} proposed by {} ({}) at {}; a different approver must confirm",
                ProposalAction::parse(action).map_or(action, |x| x.label()),
                text(&p["proposed_by"]),
                text(&p["role"]),
                text(&p["proposed_at"]),
            );
        }
    }
    Ok(())
}
