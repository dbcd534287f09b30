//! `writ receipt verify`: check a user's notice receipt against the public
//! log: each entry it names is in the signed checkpoint's tree (an inclusion
//! proof from the log's tiles), belongs to the receipt's case, and carries
//! the commitments the receipt opens.
//!
//! `writ receipt prove` adds to a receipt, under `proofs`, one
//! c2sp.org/tlog-proof per entry (the entry's bytes, its inclusion proof and
//! the cosigned checkpoint), so that `writ receipt verify --offline` needs
//! no server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use writ_events::Commitment;
use writ_gateway::notice::Receipt;
use writ_tlog::note::NoteVerifier;
use writ_tlog::tlog_proof::TlogProof;
use writ_tlog::verify::{proven_entries, proven_entries_noted};

use crate::input::BadInput;

mod mail;
use crate::log_cmd::UrlFetch;

#[derive(Subcommand, Debug)]
pub enum ReceiptCommand {
    /// Check a receipt against the public log (or, with --offline, against
    /// the proofs it carries).
    Verify(VerifyArgs),
    /// Print the receipt (receipt.json) attached to a notice e-mail (.eml),
    /// decoded from its MIME encoding.
    Extract(ExtractArgs),
    /// Add offline proofs (c2sp.org/tlog-proof) of a receipt's entries,
    /// fetched from the log, and print the receipt with them.
    Prove(ProveArgs),
}

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// The notice as received (an .eml file).
    pub notice: PathBuf,
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The receipt (receipt.json from the notice).
    pub receipt: PathBuf,
    /// The log's URL prefix, e.g. https://writ.example/log.
    #[arg(long)]
    pub url: String,
    /// The log's verifier key.
    #[arg(long)]
    pub vkey: String,
    #[command(flatten)]
    pub witnesses: crate::log_cmd::WitnessArgs,
    /// Write the receipt with proofs here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The receipt (receipt.json from the notice).
    pub receipt: PathBuf,
    /// The log's URL prefix, e.g. https://writ.example/log.
    #[arg(long, required_unless_present = "offline")]
    pub url: Option<String>,
    /// The log's verifier key.
    #[arg(long)]
    pub vkey: String,
    #[command(flatten)]
    pub witnesses: crate::log_cmd::WitnessArgs,
    /// Check the proofs the receipt carries (`writ receipt prove`) without
    /// reaching the log.
    #[arg(long, conflicts_with = "url")]
    pub offline: bool,
}

/// A receipt file: the receipt, and the offline proofs it may carry.
fn read_receipt(path: &std::path::Path) -> anyhow::Result<(Receipt, Vec<String>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| BadInput(format!("{}: not a receipt: {e}", path.display())))?;
    // The proofs sit beside the receipt's fields, which the notice's
    // receipt type reads strictly.
    let proofs = match value.as_object_mut().and_then(|o| o.remove("proofs")) {
        None => Vec::new(),
        Some(p) => serde_json::from_value(p)
            .map_err(|e| BadInput(format!("{}: `proofs`: {e}", path.display())))?,
    };
    let receipt: Receipt = serde_json::from_value(value)
        .map_err(|e| BadInput(format!("{}: not a receipt: {e}", path.display())))?;
    if receipt.entries.is_empty() {
        return Err(BadInput(format!("{}: names no log entry", path.display())).into());
    }
    Ok((receipt, proofs))
}

pub fn run(cmd: ReceiptCommand) -> anyhow::Result<ExitCode> {
    let args = match cmd {
        ReceiptCommand::Verify(args) => args,
        ReceiptCommand::Prove(args) => return prove(args),
        ReceiptCommand::Extract(args) => {
            let bytes = std::fs::read(&args.notice)
                .map_err(|e| BadInput(format!("{}: cannot read: {e}", args.notice.display())))?;
            let text = String::from_utf8_lossy(&bytes);
            let json = mail::extract(&text)
                .map_err(|e| BadInput(format!("{}: {e}", args.notice.display())))?;
            println!("{json}");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let (receipt, proofs) = read_receipt(&args.receipt)?;
    let vkey = NoteVerifier::parse(&args.vkey).map_err(|e| BadInput(format!("--vkey: {e}")))?;
    let policy = args.witnesses.policy()?;
    let result = match &args.url {
        _ if args.offline => offline(&receipt, &proofs, &vkey, policy.as_ref()),
        Some(url) => {
            let fetch = crate::log_cmd::witnessed(
                Box::new(UrlFetch {
                    prefix: url.trim_end_matches('/').to_owned(),
                    agent: ureq::Agent::new_with_defaults(),
                }),
                &vkey,
                policy,
            );
            let indexes: Vec<u64> = receipt.entries.iter().map(|e| e.index).collect();
            proven_entries(fetch.as_ref(), &vkey, &indexes)
                .map(|(c, e)| (c, e.into_iter().map(|p| p.entry).collect()))
                .map_err(|e| e.to_string())
        }
        None => return Err(BadInput("give --url, or --offline".into()).into()),
    };
    let (checkpoint, entries) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("receipt does not verify: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut opened = 0;
    for (claimed, proven) in receipt.entries.iter().zip(&entries) {
        if let Err(e) = check_entry(&receipt, claimed, proven) {
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

/// The entries of a receipt from the tlog-proofs it carries, one per entry
/// in order, all against one checkpoint.
fn offline(
    receipt: &Receipt,
    proofs: &[String],
    vkey: &NoteVerifier,
    policy: Option<&writ_tlog::cosignature::WitnessPolicy>,
) -> Result<(writ_tlog::Checkpoint, Vec<Vec<u8>>), String> {
    if proofs.len() != receipt.entries.len() {
        return Err(format!(
            "the receipt carries {} proofs for {} entries (add them with `writ receipt prove`)",
            proofs.len(),
            receipt.entries.len()
        ));
    }
    let mut checkpoint: Option<writ_tlog::Checkpoint> = None;
    let mut entries = Vec::new();
    for (claimed, text) in receipt.entries.iter().zip(proofs) {
        let proof = TlogProof::parse(text).map_err(|e| format!("entry {}: {e}", claimed.index))?;
        if proof.index != claimed.index {
            return Err(format!(
                "the proof for entry {} is about entry {}",
                claimed.index, proof.index
            ));
        }
        let (cp, entry) = proof
            .verify(vkey, policy)
            .map_err(|e| format!("entry {}: {e}", claimed.index))?;
        if checkpoint.as_ref().is_some_and(|c| *c != cp) {
            return Err("the proofs are against different checkpoints".into());
        }
        entries.push(entry.to_vec());
        checkpoint = Some(cp);
    }
    checkpoint
        .map(|c| (c, entries))
        .ok_or_else(|| "no proofs".to_owned())
}

/// `writ receipt prove`: fetch the (witnessed) checkpoint and the proofs of
/// the receipt's entries, check them, and print the receipt with them.
fn prove(args: ProveArgs) -> anyhow::Result<ExitCode> {
    let (receipt, _) = read_receipt(&args.receipt)?;
    let vkey = NoteVerifier::parse(&args.vkey).map_err(|e| BadInput(format!("--vkey: {e}")))?;
    let fetch = crate::log_cmd::witnessed(
        Box::new(UrlFetch {
            prefix: args.url.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_defaults(),
        }),
        &vkey,
        args.witnesses.policy()?,
    );
    let indexes: Vec<u64> = receipt.entries.iter().map(|e| e.index).collect();
    let (note, _, entries) = match proven_entries_noted(fetch.as_ref(), &vkey, &indexes) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cannot prove the receipt: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    for (claimed, proven) in receipt.entries.iter().zip(&entries) {
        if let Err(e) = check_entry(&receipt, claimed, &proven.entry) {
            eprintln!("cannot prove the receipt: entry {}: {e}", claimed.index);
            return Ok(ExitCode::from(1));
        }
    }
    let proofs: Vec<String> = entries
        .into_iter()
        .map(|p| {
            TlogProof {
                extra: Some(p.entry),
                index: p.index,
                proof: p.proof,
                checkpoint: note.clone(),
            }
            .to_text()
        })
        .collect();
    let mut value = serde_json::to_value(&receipt)?;
    if let Some(o) = value.as_object_mut() {
        o.insert("proofs".into(), serde_json::to_value(proofs)?);
    }
    let text = serde_json::to_string_pretty(&value)? + "\n";
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| BadInput(format!("--out {}: {e}", path.display())))?,
        None => print!("{text}"),
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
        let logged =
            Commitment::parse(logged).map_err(|e| format!("commitment {}: {e}", o.commitment))?;
        if !o.opening().verify(&logged) {
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
