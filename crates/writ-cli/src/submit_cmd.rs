//! `writ submit`: sign and send an order, print the case and decision.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::client::{self, Signer};
use crate::input::{self, BadInput};

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "WRIT_SERVER")]
    pub server: String,
    /// The agency id the key belongs to.
    #[arg(long)]
    pub agency: String,
    /// The agency's signing key file (base64 Ed25519 seed).
    #[arg(long)]
    pub key: PathBuf,
    /// Print the API's answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// The order (docs/formats.md, "Order").
    pub order: PathBuf,
}

pub fn run(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let body = input::read(&args.order)?;
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Err(BadInput(format!("{}: not JSON", args.order.display())).into());
    }
    let signer = Signer::load(&args.agency, &args.key)?;
    let body_copy = body.clone();
    let answer = client::runtime()?.block_on(async {
        let http = reqwest::Client::new();
        client::send(
            &http,
            &args.server,
            "POST",
            "/v1/orders",
            body,
            Some(&signer),
            None,
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
    let case = v["case"].as_str().unwrap_or("?");
    if answer.status == 200 {
        println!(
            "Already submitted: this order (same reference, same content) is case {case}; \
             nothing new was filed. Its decision:"
        );
    } else {
        println!("Order received: case {case}.");
    }
    println!();
    client::print_answer(&answer.body)?;
    let order: serde_json::Value = serde_json::from_slice(&body_copy).unwrap_or_default();
    match order["instrument"].as_str() {
        Some("national_security_letter") => {
            println!();
            println!(
                "Log: this case's entries are deferred. A national security letter is \
                 published in the transparency log only after the half-year closes, and \
                 counted in bands."
            );
        }
        Some("preservation_request" | "epoc_pr") => {
            println!();
            println!(
                "Preservation: the data is frozen, never disclosed; no package is made. \
                 `writ fetch` has nothing to download for this case."
            );
        }
        _ => {}
    }
    if v["decision"]["outcome"] == "review" {
        println!();
        println!(
            "Next: a person at the provider reviews it; `writ fetch` downloads the package \
             once something is released."
        );
    }
    Ok(ExitCode::SUCCESS)
}
