//! `writ log ...`: the transparency log's commands (`docs/http.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use writ_objects::LocalDir;
use writ_tlog::cosignature::{CosignatureVerifier, WitnessPolicy};
use writ_tlog::trusted::{SqliteStore, TrustedStore as _};
use writ_tlog::verify::{DirFetch, Fetch, VerifyError, verify_log};
use writ_tlog::{NoteSigner, NoteVerifier, Reader};

use crate::input::BadInput;

/// The log's commands.
#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Print the log's signed-note verifier key (`origin+hash+base64`),
    /// creating the log's key on first use.
    Key {
        /// The data folder.
        #[arg(long, default_value = "./writ-data")]
        data: PathBuf,
        /// The log's origin, for a new log (an existing log keeps its own).
        #[arg(long, env = "WRIT_LOG_ORIGIN")]
        origin: Option<String>,
    },
    /// Verify a whole log: the checkpoint's signature, every entry bundle and
    /// tile, the root, and consistency with an earlier checkpoint. Prints the
    /// verified checkpoint, to keep for the next `--since`.
    Verify {
        /// The log's URL prefix, for example `http://127.0.0.1:8080/log`.
        #[arg(long, required_unless_present = "dir", conflicts_with = "dir")]
        url: Option<String>,
        /// A local copy of the prefix (`DIR/checkpoint`, `DIR/tile/...`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The verifier key text (`origin+hash+base64`).
        #[arg(long)]
        vkey: String,
        /// A checkpoint seen earlier (a signed note) that the log must extend.
        #[arg(long)]
        since: Option<PathBuf>,
        #[command(flatten)]
        witnesses: WitnessArgs,
    },
    /// Follow a log: check that each new checkpoint is consistent with the
    /// previous one and with what the witnesses cosigned; a fork is an alert
    /// (exit code 1, and a POST to --webhook).
    Watch(crate::watch_cmd::WatchArgs),
    /// Print an inclusion proof (JSON) of an entry against the latest
    /// published checkpoint.
    Prove {
        /// The data folder.
        #[arg(long, default_value = "./writ-data")]
        data: PathBuf,
        /// The entry's index.
        #[arg(long)]
        index: u64,
    },
}

/// Runs a log command. Exit codes: 0 success, 1 a check failed, 2 bad input.
pub fn run(cmd: LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::Key { data, origin } => key(&data, origin.as_deref()),
        LogCommand::Verify {
            url,
            dir,
            vkey,
            since,
            witnesses,
        } => verify(url, dir, &vkey, since.as_deref(), &witnesses),
        LogCommand::Prove { data, index } => prove(&data, index),
        LogCommand::Watch(args) => crate::watch_cmd::run(args),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn key(data: &Path, origin: Option<&str>) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create `{}`", data.display()))?;
    let signer: NoteSigner = runtime()?.block_on(async {
        let store = SqliteStore::open(&writ_tlog::database_path(data)).await?;
        writ_tlog::identity(&store, origin, None).await
    })?;
    println!("{}", signer.verifier());
    Ok(ExitCode::SUCCESS)
}

fn prove(data: &Path, index: u64) -> anyhow::Result<ExitCode> {
    let db = writ_tlog::database_path(data);
    if !db.exists() {
        bail!(
            "no log in `{}`: `{}` is missing",
            data.display(),
            db.display()
        );
    }
    let result = runtime()?.block_on(async {
        let store = SqliteStore::open(&db).await?;
        let identity = store
            .identity()
            .await?
            .with_context(|| format!("no log key in `{}`", db.display()))?;
        let vkey = NoteSigner::new(&identity.origin, &identity.seed)?.verifier();
        let reader = Reader::new(Arc::new(LocalDir::new(writ_tlog::objects_dir(data))), vkey);
        anyhow::Ok(reader.prove(index).await)
    })?;
    match result {
        Ok(proof) => {
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(writ_tlog::Error::NotPublished { published, .. }) => {
            eprintln!(
                "error: index {index} is not in the log: the published checkpoint has {published} entries"
            );
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads a log's prefix over HTTP.
pub(crate) struct UrlFetch {
    pub(crate) prefix: String,
    pub(crate) agent: ureq::Agent,
}

impl Fetch for UrlFetch {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{}/{path}", self.prefix);
        match self.agent.get(&url).call() {
            Ok(mut resp) => resp
                .body_mut()
                .with_config()
                // A full bundle of maximal entries is 256 * 65,537 bytes.
                .limit(32 * 1024 * 1024)
                .read_to_vec()
                .map(Some)
                .map_err(|e| e.to_string()),
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn verify(
    url: Option<String>,
    dir: Option<PathBuf>,
    vkey: &str,
    since: Option<&Path>,
    witnesses: &WitnessArgs,
) -> anyhow::Result<ExitCode> {
    let vkey = match NoteVerifier::parse(vkey) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: --vkey: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let policy = match witnesses.policy() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let since = match since {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                eprintln!("error: --since `{}`: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let fetch: Box<dyn Fetch> = match (url, dir) {
        (Some(url), None) => Box::new(UrlFetch {
            prefix: url.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_defaults(),
        }),
        (None, Some(dir)) => {
            if !dir.is_dir() {
                eprintln!("error: --dir `{}` is not a folder", dir.display());
                return Ok(ExitCode::from(2));
            }
            Box::new(DirFetch(dir))
        }
        _ => {
            eprintln!("error: give exactly one of --url and --dir");
            return Ok(ExitCode::from(2));
        }
    };
    let fetch = witnessed(fetch, &vkey, policy);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut last = 0u64;
    let result = verify_log(
        fetch.as_ref(),
        &vkey,
        since.as_deref(),
        &mut |done, total| {
            // Redraw at most every 64 bundles.
            if done - last >= 1 << 14 || done == total {
                bar.set_length(total);
                bar.set_position(done);
                last = done;
            }
        },
    );
    bar.finish_and_clear();
    match result {
        Ok(v) => {
            eprintln!(
                "verified: {} size {} root {} ({} objects)",
                v.checkpoint.origin,
                v.checkpoint.size,
                v.checkpoint.root.to_base64(),
                v.objects
            );
            print!("{}", v.note);
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Since(e)) => {
            eprintln!("error: --since: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("verification failed: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `--witness VKEY` (repeatable) and `--quorum N`: the witnesses whose
/// cosignatures a checkpoint must carry to be accepted.
#[derive(Debug, Default, clap::Args)]
pub struct WitnessArgs {
    /// A witness's cosignature/v1 verifier key (`name+hash+base64`);
    /// repeat for several. The checkpoint must carry a quorum of valid
    /// cosignatures by them.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// How many of the witnesses must have cosigned [default: all given].
    #[arg(long, requires = "witnesses")]
    pub quorum: Option<usize>,
}

impl WitnessArgs {
    /// The policy, or `None` without `--witness`.
    pub fn policy(&self) -> Result<Option<WitnessPolicy>, BadInput> {
        if self.witnesses.is_empty() {
            return Ok(None);
        }
        let witnesses = self
            .witnesses
            .iter()
            .map(|w| CosignatureVerifier::parse(w).map_err(|e| BadInput(format!("--witness: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = self.quorum.unwrap_or(witnesses.len());
        if quorum == 0 || quorum > witnesses.len() {
            return Err(BadInput(format!(
                "--quorum {quorum}: must be between 1 and the {} witnesses given",
                witnesses.len()
            )));
        }
        Ok(Some(WitnessPolicy { witnesses, quorum }))
    }
}

/// A log's objects through `inner`, refusing a checkpoint that does not
/// carry a quorum of the policy's cosignatures: whatever then verifies the
/// log (the whole log, a receipt's entries, a report) starts from a
/// witnessed checkpoint or not at all.
pub(crate) struct WitnessedFetch<'a> {
    inner: Box<dyn Fetch + 'a>,
    vkey: NoteVerifier,
    policy: WitnessPolicy,
}

impl Fetch for WitnessedFetch<'_> {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let found = self.inner.fetch(path)?;
        if path == writ_tlog::CHECKPOINT_PATH
            && let Some(bytes) = &found
        {
            let note =
                std::str::from_utf8(bytes).map_err(|_| "the checkpoint is not UTF-8".to_owned())?;
            self.policy
                .open_checkpoint(&self.vkey, note)
                .map_err(|e| format!("checkpoint refused: {e}"))?;
        }
        Ok(found)
    }
}

/// `fetch`, witnessed when there is a policy.
pub(crate) fn witnessed<'a>(
    fetch: Box<dyn Fetch + 'a>,
    vkey: &NoteVerifier,
    policy: Option<WitnessPolicy>,
) -> Box<dyn Fetch + 'a> {
    match policy {
        None => fetch,
        Some(policy) => Box::new(WitnessedFetch {
            inner: fetch,
            vkey: vkey.clone(),
            policy,
        }),
    }
}
