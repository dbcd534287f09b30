//! The log's side of c2sp.org/tlog-witness: after each checkpoint the
//! sequencer publishes, ask every configured witness to cosign it, and keep
//! the newest checkpoint that a quorum of them cosigned.
//!
//! Witnessing runs beside the sequencer and never holds it up: appends are
//! acknowledged and checkpoints signed whatever the witnesses do. What waits
//! is only the *cosigned* checkpoint, which the server publishes at
//! `/log/checkpoint`; while no quorum is reached the previous cosigned one
//! stays published, and once that has lasted longer than the configured
//! bound the state says `degraded`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::cosignature::{AddCheckpoint, CosignatureVerifier, WitnessPolicy, parse_decimal};
use crate::log::{Published, Status};
use crate::note::NoteVerifier;
use crate::reader::Reader;
use crate::storage::ObjectStorage;

/// Where the last cosigned checkpoint is kept under the log's prefix, so
/// that a restarted server publishes it again at once.
pub const COSIGNED_PATH: &str = "cosigned-checkpoint";

/// One witness: its verifier key and its submission prefix.
#[derive(Clone, Debug)]
pub struct Witness {
    pub vkey: CosignatureVerifier,
    /// The submission prefix; requests go to `<url>/add-checkpoint`.
    pub url: String,
}

impl Witness {
    /// Reads `VKEY=URL` (`writ serve --witness`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (vkey, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("`{spec}`: expected VKEY=URL"))?;
        let vkey = CosignatureVerifier::parse(vkey).map_err(|e| e.to_string())?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "`{url}`: the witness URL must be http:// or https://"
            ));
        }
        Ok(Self {
            vkey,
            url: url.trim_end_matches('/').to_owned(),
        })
    }
}

/// How the log uses witnesses.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    pub witnesses: Vec<Witness>,
    /// How many cosignatures make a checkpoint publishable.
    pub quorum: usize,
    /// How long the newest checkpoint may go without a quorum before the
    /// state says `degraded`.
    pub bound: Duration,
    /// The longest one request to a witness may take.
    pub timeout: Duration,
}

impl WitnessConfig {
    /// Every witness must cosign; degraded after a minute.
    pub fn new(witnesses: Vec<Witness>) -> Self {
        Self {
            quorum: witnesses.len(),
            witnesses,
            bound: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }

    /// The policy a verifier of this log's cosigned checkpoints applies.
    pub fn policy(&self) -> WitnessPolicy {
        WitnessPolicy {
            witnesses: self.witnesses.iter().map(|w| w.vkey.clone()).collect(),
            quorum: self.quorum,
        }
    }
}

/// What one witness last did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessView {
    pub name: String,
    /// Its cosignature/v1 verifier key, as `--witness` takes it.
    pub vkey: String,
    /// The size it last cosigned for us.
    pub size: Option<u64>,
    /// Why its last request failed, if it did.
    pub error: Option<String>,
}

/// The state of witnessing, for `/log/checkpoint`, `/healthz` and `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct WitnessState {
    /// The newest checkpoint with a quorum of cosignatures: the log's note
    /// with the witnesses' signature lines appended.
    pub cosigned: Option<Published>,
    /// The size of the newest checkpoint the log signed.
    pub latest: u64,
    /// The quorum.
    pub quorum: usize,
    /// True when the newest checkpoint has waited longer than the bound.
    pub degraded: bool,
    pub witnesses: Vec<WitnessView>,
}

/// The outcome of one `add-checkpoint` request.
enum Reply {
    Cosigned(String),
    Conflict(u64),
    Refused(String),
}

fn post(url: &str, body: String, timeout: Duration) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let resp = agent
        .post(&format!("{url}/add-checkpoint"))
        .header("content-type", "text/plain; charset=utf-8")
        .send(body);
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => return Reply::Refused(format!("unreachable: {e}")),
    };
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    match status {
        200 => Reply::Cosigned(text),
        409 => match parse_decimal(text.trim_end_matches('\n')) {
            Some(size) => Reply::Conflict(size),
            None => Reply::Refused(format!("409 with a body that is not a size: `{text}`")),
        },
        _ => Reply::Refused(format!("{status}: {}", text.trim())),
    }
}

/// Asks one witness to cosign `latest`; returns its verified cosignature
/// lines and the size it now holds.
async fn submit(
    witness: &Witness,
    known: Option<u64>,
    latest: &Published,
    reader: &Reader,
    timeout: Duration,
) -> Result<String, (Option<u64>, String)> {
    let size = latest.checkpoint.size;
    let mut old = known.unwrap_or(0).min(size);
    // One try with what we believe, one with what the witness says (409).
    for _ in 0..2 {
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            reader
                .consistency_proof_at(old, size, size)
                .await
                .map_err(|e| (None, format!("consistency proof {old}..{size}: {e}")))?
        };
        let body = AddCheckpoint {
            old,
            proof,
            checkpoint: latest.note.clone(),
        }
        .to_body();
        let url = witness.url.clone();
        let reply = tokio::task::spawn_blocking(move || post(&url, body, timeout))
            .await
            .map_err(|e| (None, e.to_string()))?;
        match reply {
            Reply::Cosigned(lines) => {
                let prefix = format!("\u{2014} {} ", witness.vkey.name());
                let mine: String = lines
                    .split_inclusive('\n')
                    .filter(|l| l.starts_with(&prefix) && l.ends_with('\n'))
                    .collect();
                let joined = format!("{}{mine}", latest.note);
                return match witness.vkey.verify(&joined) {
                    Ok(Some(_)) => Ok(mine),
                    Ok(None) => Err((None, "the reply carries no cosignature by its key".into())),
                    Err(e) => Err((None, format!("the reply's cosignature: {e}"))),
                };
            }
            Reply::Conflict(theirs) if theirs > size => {
                return Err((
                    Some(theirs),
                    format!(
                        "the witness has cosigned size {theirs}, beyond the log's {size}: \
                         the log was rolled back or forked"
                    ),
                ));
            }
            Reply::Conflict(theirs) => old = theirs,
            Reply::Refused(why) => return Err((Some(old), why)),
        }
    }
    Err((Some(old), "the witness keeps answering 409".into()))
}

/// Reads the stored cosigned checkpoint, if it still satisfies the policy.
pub(crate) async fn load(
    objects: &dyn ObjectStorage,
    vkey: &NoteVerifier,
    policy: &WitnessPolicy,
) -> Option<Published> {
    let bytes = objects.get(COSIGNED_PATH.to_owned()).await.ok()??;
    let note = String::from_utf8(bytes).ok()?;
    let (checkpoint, _) = policy.open_checkpoint(vkey, &note).ok()?;
    Some(Published { checkpoint, note })
}

/// Runs witnessing until the log stops.
pub(crate) async fn run(
    config: WitnessConfig,
    reader: Reader,
    mut status: watch::Receiver<Status>,
    out: Arc<watch::Sender<WitnessState>>,
) {
    let objects = reader.objects().clone();
    let vkey = reader.vkey().clone();
    let policy = config.policy();
    let mut cosigned = load(objects.as_ref(), &vkey, &policy).await;
    let mut known: Vec<Option<u64>> = vec![None; config.witnesses.len()];
    let mut errors: Vec<Option<String>> = vec![None; config.witnesses.len()];
    let mut last_quorum = Instant::now();
    let retry = Duration::from_secs(1).min(config.bound);
    loop {
        let latest = status.borrow_and_update().published.clone();
        let behind = cosigned
            .as_ref()
            .is_none_or(|c| c.checkpoint.size < latest.checkpoint.size);
        if behind {
            let rounds = config.witnesses.iter().enumerate().map(|(i, w)| {
                let reader = &reader;
                let latest = &latest;
                let known = known[i];
                async move { submit(w, known, latest, reader, config.timeout).await }
            });
            let results = futures_util::future::join_all(rounds).await;
            let mut lines = String::new();
            let mut count = 0;
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Ok(mine) => {
                        lines.push_str(&mine);
                        count += 1;
                        known[i] = Some(latest.checkpoint.size);
                        errors[i] = None;
                    }
                    Err((size, why)) => {
                        if size.is_some() {
                            known[i] = size;
                        }
                        errors[i] = Some(why);
                    }
                }
            }
            if count >= config.quorum {
                let published = Published {
                    checkpoint: latest.checkpoint.clone(),
                    note: format!("{}{lines}", latest.note),
                };
                // Kept for a restart; serving does not depend on it.
                let _ = objects
                    .put(
                        COSIGNED_PATH.to_owned(),
                        published.note.clone().into_bytes(),
                    )
                    .await;
                cosigned = Some(published);
                last_quorum = Instant::now();
            }
        } else {
            last_quorum = Instant::now();
        }
        let still_behind = cosigned
            .as_ref()
            .is_none_or(|c| c.checkpoint.size < latest.checkpoint.size);
        out.send_replace(WitnessState {
            cosigned: cosigned.clone(),
            latest: latest.checkpoint.size,
            quorum: config.quorum,
            degraded: still_behind && last_quorum.elapsed() >= config.bound,
            witnesses: config
                .witnesses
                .iter()
                .zip(known.iter().zip(&errors))
                .map(|(w, (size, error))| WitnessView {
                    name: w.vkey.name().to_owned(),
                    vkey: w.vkey.to_string(),
                    size: *size,
                    error: error.clone(),
                })
                .collect(),
        });
        if status.borrow().failed.is_some() {
            return;
        }
        if still_behind {
            tokio::select! {
                r = status.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(retry) => {}
            }
        } else if status.changed().await.is_err() {
            return;
        }
    }
}
