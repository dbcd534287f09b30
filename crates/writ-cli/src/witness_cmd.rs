//! `writ witness ...`: run a transparency-log witness (c2sp.org/tlog-witness)
//! for one or more logs, Writ's or anyone's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use writ_tlog::cosignature::CosignerKey;
use writ_tlog::note::NoteVerifier;

use crate::input::BadInput;

#[derive(Debug, clap::Subcommand)]
pub enum WitnessCommand {
    /// Create a witness key file; print its verifier key
    /// (`name+hash+base64(0x04 || key)`) as the last line.
    Key {
        /// The key file to create (it must not exist).
        #[arg(long)]
        out: PathBuf,
        /// The witness's name, a schema-less URL that identifies it.
        #[arg(long, default_value = "witness.example/writ")]
        name: String,
    },
    /// Serve `POST /add-checkpoint` and `GET /<origin hash>/checkpoint` for
    /// the given logs, keeping each log's latest cosigned checkpoint in
    /// `<data>/witness.db`.
    Serve {
        /// The witness key file (`writ witness key`).
        #[arg(long)]
        key: PathBuf,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// The witness's data folder.
        #[arg(long, default_value = "./writ-witness")]
        data: PathBuf,
        /// A log to witness, by its verifier key (`origin+hash+base64`);
        /// repeat for several logs.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

pub fn run(cmd: WitnessCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WitnessCommand::Key { out, name } => key(&out, &name),
        WitnessCommand::Serve {
            key,
            listen,
            data,
            logs,
        } => serve(&key, &listen, &data, &logs),
    }
}

fn key(out: &Path, name: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    let key = CosignerKey::generate(name).map_err(|e| BadInput(format!("--name: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .map_err(|e| BadInput(format!("--out {}: {e}", out.display())))?;
    file.write_all(key.to_file_text().as_bytes())?;
    file.sync_all()?;
    eprintln!("created the witness key file {}", out.display());
    println!("{}", key.verifier());
    Ok(ExitCode::SUCCESS)
}

fn serve(key: &Path, listen: &str, data: &Path, logs: &[String]) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(key)
        .map_err(|e| BadInput(format!("--key {}: {e}", key.display())))?;
    let key =
        CosignerKey::parse(&text).map_err(|e| BadInput(format!("--key {}: {e}", key.display())))?;
    let logs = logs
        .iter()
        .map(|v| NoteVerifier::parse(v).map_err(|e| BadInput(format!("--log: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let runtime = crate::client::runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| BadInput(format!("--listen `{listen}`: {e}")))?;
        let witness = writ_witness::Witness::open(key, data, logs.clone())
            .await
            .context("opening the witness's store")?;
        eprintln!("witness verifier key: {}", witness.vkey());
        for l in &logs {
            eprintln!("witnessing {}", l.name());
        }
        eprintln!(
            "listening on http://{}",
            listener.local_addr().context("reading the bound address")?
        );
        witness
            .serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
