//! `writ log watch`: a monitor. It follows a log's checkpoint, proves each
//! new one consistent with the last one it saw (from the log's hash
//! tiles), and compares it with the checkpoints the witnesses say they
//! cosigned (c2sp.org/tlog-witness, "Monitor Retrieval Mechanism"). Two
//! signed checkpoints that no consistency proof joins are a fork: the log
//! showed someone a different history. That is an alert: a line on
//! standard output, a POST to the webhook, and exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use writ_tlog::Checkpoint;
use writ_tlog::cosignature::CosignatureVerifier;
use writ_tlog::note::NoteVerifier;
use writ_tlog::tree::verify_consistency;
use writ_tlog::verify::{Fetch, consistency_from_tiles};

use crate::input::BadInput;
use crate::log_cmd::UrlFetch;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The log's URL prefix, for example `http://127.0.0.1:8080/log`.
    #[arg(long)]
    pub url: String,
    /// The log's verifier key.
    #[arg(long)]
    pub vkey: String,
    /// A witness as `VKEY` or `VKEY=URL` (its monitoring prefix, to compare
    /// what it cosigned with what the log shows); repeatable.
    #[arg(long = "witness", value_name = "VKEY[=URL]")]
    pub witnesses: Vec<String>,
    /// Post alerts (JSON) to this URL.
    #[arg(long)]
    pub webhook: Option<String>,
    /// Check once and exit (0: consistent, 1: fork).
    #[arg(long)]
    pub once: bool,
    /// A file keeping the last checkpoint seen, so that runs with --once
    /// compare with the previous run.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Seconds between checks.
    #[arg(long, default_value_t = 10)]
    pub interval: u64,
}

struct Watched {
    note: String,
    checkpoint: Checkpoint,
}

struct Monitor {
    fetch: UrlFetch,
    vkey: NoteVerifier,
    witnesses: Vec<(CosignatureVerifier, Option<String>)>,
    agent: ureq::Agent,
}

/// What one check found.
enum Finding {
    Fine(String),
    Fork(String),
}

impl Monitor {
    fn checkpoint(&self) -> Result<Watched, String> {
        let bytes = self
            .fetch
            .fetch(writ_tlog::CHECKPOINT_PATH)?
            .ok_or("the log has no checkpoint")?;
        let note = String::from_utf8(bytes).map_err(|_| "the checkpoint is not UTF-8")?;
        let checkpoint = self
            .vkey
            .open_checkpoint(&note)
            .map_err(|e| e.to_string())?;
        Ok(Watched { note, checkpoint })
    }

    /// Whether two signed checkpoints can both be honest: equal roots at
    /// equal sizes, or a consistency proof from the smaller to the larger.
    /// `Err` is a fork; `Ok(false)` means the proof could not be fetched.
    fn consistent(&self, a: &Checkpoint, b: &Checkpoint) -> Result<bool, String> {
        let (old, new) = if a.size <= b.size { (a, b) } else { (b, a) };
        if old.size == new.size {
            return if old.root == new.root {
                Ok(true)
            } else {
                Err(format!(
                    "two roots at size {}: {} and {}",
                    old.size,
                    old.root.to_base64(),
                    new.root.to_base64()
                ))
            };
        }
        let proof = match consistency_from_tiles(&self.fetch, old.size, new.size) {
            Ok(p) => p,
            Err(_) => return Ok(false),
        };
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
            .map(|()| true)
            .map_err(|e| {
                format!(
                    "size {} (root {}) is not a prefix of size {} (root {}): {e}",
                    old.size,
                    old.root.to_base64(),
                    new.size,
                    new.root.to_base64()
                )
            })
    }

    fn check(&self, previous: Option<&Watched>, now: &Watched) -> Finding {
        let mut notes = Vec::new();
        if let Some(prev) = previous {
            if now.checkpoint.size < prev.checkpoint.size {
                return Finding::Fork(format!(
                    "the log went back from size {} to {}",
                    prev.checkpoint.size, now.checkpoint.size
                ));
            }
            match self.consistent(&prev.checkpoint, &now.checkpoint) {
                Ok(true) => {}
                Ok(false) => notes.push(format!(
                    "could not fetch the proof from size {}",
                    prev.checkpoint.size
                )),
                Err(e) => return Finding::Fork(e),
            }
        }
        for (w, url) in &self.witnesses {
            match w.verify(&now.note) {
                Ok(Some(_)) => notes.push(format!("cosigned by {}", w.name())),
                Ok(None) => {}
                Err(e) => notes.push(format!("bad cosignature: {e}")),
            }
            let Some(url) = url else { continue };
            let hash = writ_witness::hex_sha256(&now.checkpoint.origin);
            let seen = match self
                .agent
                .get(&format!("{url}/{hash}/checkpoint"))
                .call()
                .map_err(|e| e.to_string())
                .and_then(|mut r| r.body_mut().read_to_string().map_err(|e| e.to_string()))
            {
                Ok(text) => text,
                Err(e) => {
                    notes.push(format!("witness {} unreachable: {e}", w.name()));
                    continue;
                }
            };
            // Only what the log signed and the witness cosigned counts.
            let theirs = match (self.vkey.open_checkpoint(&seen), w.verify(&seen)) {
                (Ok(cp), Ok(Some(_))) => cp,
                _ => {
                    notes.push(format!(
                        "witness {} serves a checkpoint it did not cosign",
                        w.name()
                    ));
                    continue;
                }
            };
            match self.consistent(&theirs, &now.checkpoint) {
                Ok(true) => notes.push(format!("{} saw size {}", w.name(), theirs.size)),
                Ok(false) => notes.push(format!(
                    "{} saw size {}, which the log's tiles do not reach yet",
                    w.name(),
                    theirs.size
                )),
                Err(e) => {
                    return Finding::Fork(format!(
                        "the log and witness {} disagree: {e}",
                        w.name()
                    ));
                }
            }
        }
        Finding::Fine(notes.join("; "))
    }

    fn alert(&self, webhook: Option<&str>, detail: &str, a: &str, b: &str) {
        println!("FORK: {detail}");
        if let Some(url) = webhook {
            let body = serde_json::json!({
                "alert": "fork",
                "origin": self.vkey.name(),
                "detail": detail,
                "checkpoints": [a, b],
            });
            if let Err(e) = self
                .agent
                .post(url)
                .header("content-type", "application/json")
                .send(body.to_string())
            {
                eprintln!("error: posting the alert to {url}: {e}");
            }
        }
    }
}

pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let vkey = NoteVerifier::parse(&args.vkey).map_err(|e| BadInput(format!("--vkey: {e}")))?;
    let witnesses = args
        .witnesses
        .iter()
        .map(|spec| {
            let (v, url) = match spec.split_once('=') {
                Some((v, u)) => (v, Some(u.trim_end_matches('/').to_owned())),
                None => (spec.as_str(), None),
            };
            CosignatureVerifier::parse(v)
                .map(|v| (v, url))
                .map_err(|e| BadInput(format!("--witness: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let monitor = Monitor {
        fetch: UrlFetch {
            prefix: args.url.trim_end_matches('/').to_owned(),
            agent: agent.clone(),
        },
        vkey,
        witnesses,
        agent,
    };
    let mut previous = match &args.state {
        Some(path) if path.exists() => {
            let note = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("--state {}: {e}", path.display())))?;
            let checkpoint = monitor
                .vkey
                .open_checkpoint(&note)
                .map_err(|e| BadInput(format!("--state {}: {e}", path.display())))?;
            Some(Watched { note, checkpoint })
        }
        _ => None,
    };
    loop {
        match monitor.checkpoint() {
            Err(e) => {
                eprintln!("error: reading the log's checkpoint: {e}");
                if args.once {
                    return Ok(ExitCode::from(2));
                }
            }
            Ok(now) => match monitor.check(previous.as_ref(), &now) {
                Finding::Fork(detail) => {
                    let before = previous.as_ref().map_or("", |p| p.note.as_str());
                    monitor.alert(args.webhook.as_deref(), &detail, before, &now.note);
                    return Ok(ExitCode::from(1));
                }
                Finding::Fine(notes) => {
                    println!(
                        "{} size {} root {}{}{}",
                        now.checkpoint.origin,
                        now.checkpoint.size,
                        now.checkpoint.root.to_base64(),
                        if notes.is_empty() { "" } else { ": " },
                        notes
                    );
                    if let Some(path) = &args.state {
                        std::fs::write(path, &now.note)
                            .map_err(|e| BadInput(format!("--state {}: {e}", path.display())))?;
                    }
                    previous = Some(now);
                }
            },
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}
