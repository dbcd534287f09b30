//! `writ receipt verify`: check a user's notice receipt against the public
//! log: each entry it names is in the signed checkpoint's tree (an inclusion
//! proof from the log's tiles), belongs to the receipt's case, and carries
//! the commitments the receipt opens.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use writ_gateway::notice::Receipt;
use writ_tlog::entry::{Salt, commit};
use writ_tlog::note::NoteVerifier;
use writ_tlog::verify::proven_entries;

use crate::input::BadInput;
use crate::log_cmd::UrlFetch;

#[derive(Subcommand, Debug)]
pub enum ReceiptCommand {
    /// Check a receipt against the public log.
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The receipt (receipt.json from the notice).
    pub receipt: PathBuf,
    /// The log's URL prefix, e.g. https://writ.example/log.
    #[arg(long)]
    pub url: String,
    /// The log's verifier key.
    #[arg(long)]
    pub vkey: String,
}

pub fn run(cmd: ReceiptCommand) -> anyhow::Result<ExitCode> {
    let ReceiptCommand::Verify(args) = cmd;
    let text = std::fs::read_to_string(&args.receipt)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", args.receipt.display())))?;
    let receipt: Receipt = serde_json::from_str(&text)
        .map_err(|e| BadInput(format!("{}: not a receipt: {e}", args.receipt.display())))?;
    let vkey = NoteVerifier::parse(&args.vkey).map_err(|e| BadInput(format!("--vkey: {e}")))?;
    if receipt.entries.is_empty() {
        return Err(BadInput(format!("{}: names no log entry", args.receipt.display())).into());
    }
    let fetch = UrlFetch {
        prefix: args.url.trim_end_matches('/').to_owned(),
        agent: ureq::Agent::new_with_defaults(),
    };
    let indexes: Vec<u64> = receipt.entries.iter().map(|e| e.index).collect();
    let (checkpoint, entries) = match proven_entries(&fetch, &vkey, &indexes) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("receipt does not verify: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut opened = 0;
    for (claimed, proven) in receipt.entries.iter().zip(&entries) {
        if let Err(e) = check_entry(&receipt, claimed, &proven.entry) {
            eprintln!("receipt does not verify: entry {}: {e}", claimed.index);
            return Ok(ExitCode::from(1));
        }
        opened += claimed.openings.len();
    }
    println!(
        "receipt verified: case {} account {}: {} log entries in {} size {} root {}, {opened} commitments opened",
        receipt.case,
        receipt.account,
        entries.len(),
        checkpoint.origin,
        checkpoint.size,
        checkpoint.root.to_base64()
    );
    for e in &receipt.entries {
        println!("  #{}  {}", e.index, e.kind);
    }
    Ok(ExitCode::SUCCESS)
}

fn check_entry(
    receipt: &Receipt,
    claimed: &writ_gateway::notice::ReceiptEntry,
    bytes: &[u8],
) -> Result<(), String> {
    let entry: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if entry["case"] != receipt.case.as_str() {
        return Err(format!(
            "it belongs to case {}, not {}",
            entry["case"], receipt.case
        ));
    }
    if entry["kind"] != claimed.kind.as_str() {
        return Err(format!(
            "it is a `{}` entry, not `{}`",
            entry["kind"], claimed.kind
        ));
    }
    for o in &claimed.openings {
        let logged = entry["commitments"][o.commitment]
            .as_str()
            .ok_or_else(|| format!("it has no commitment {}", o.commitment))?;
        let salt: [u8; 32] = hex::decode(&o.salt)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("opening {}: the salt is not 32 bytes of hex", o.commitment))?;
        let computed = commit(&Salt(salt), &o.details).to_string();
        if computed != logged {
            return Err(format!(
                "opening {} does not match the logged commitment",
                o.commitment
            ));
        }
        let about_account = o.details["pairs"].as_array().is_some_and(|pairs| {
            pairs
                .iter()
                .all(|p| p["account"] == receipt.account.as_str())
        });
        if !about_account {
            return Err(format!(
                "opening {} is not about account {}",
                o.commitment, receipt.account
            ));
        }
    }
    Ok(())
}
