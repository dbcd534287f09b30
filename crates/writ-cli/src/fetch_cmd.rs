//! `writ fetch`: download a case's sealed package; with the agency's age
//! identity, also decrypt it, check its manifest and unpack it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use clap::Args;
use sha2::{Digest, Sha256};
use writ_seal::Identity;

use crate::client::{self, Signer};
use crate::input::BadInput;

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "WRIT_SERVER")]
    pub server: String,
    /// The agency id the key belongs to.
    #[arg(long)]
    pub agency: String,
    /// The agency's signing key file (base64 Ed25519 seed).
    #[arg(long)]
    pub key: PathBuf,
    /// The agency's age identity file (`AGE-SECRET-KEY-1...`): decrypt,
    /// check the manifest and unpack into `<out>/<case>/`.
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// Where to save `<case>.age`.
    #[arg(long)]
    pub out: PathBuf,
    /// The case id.
    pub case: String,
}

/// Reads an age identity file: the first `AGE-SECRET-KEY-1` line.
pub fn read_identity(path: &Path) -> anyhow::Result<Identity> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .ok_or_else(|| {
            BadInput(format!(
                "{}: no age identity (AGE-SECRET-KEY-1...) in it",
                path.display()
            ))
        })?;
    line.parse::<Identity>()
        .map_err(|e| BadInput(format!("{}: not an age identity: {e}", path.display())).into())
}

pub fn run(args: FetchArgs) -> anyhow::Result<ExitCode> {
    if args.case.is_empty()
        || !args
            .case
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(BadInput(format!("`{}` is not a case id", args.case)).into());
    }
    let signer = Signer::load(&args.agency, &args.key)?;
    let identity = args.identity.as_deref().map(read_identity).transpose()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))?;
    let dest = args.out.join(format!("{}.age", args.case));
    let saved = client::runtime()?.block_on(download(&args, &signer, &dest))?;
    let Some((size, sha256)) = saved else {
        return Ok(ExitCode::from(1));
    };
    println!("saved {} ({size} bytes, sha256 {sha256})", dest.display());
    if let Some(identity) = identity {
        let folder = args.out.join(&args.case);
        let manifest = writ_seal::open(&dest, &identity, &folder)
            .with_context(|| format!("cannot open `{}`", dest.display()))?;
        if manifest.case != args.case {
            anyhow::bail!(
                "the package is for case `{}`, not `{}`",
                manifest.case,
                args.case
            );
        }
        let records: u64 = manifest.files.iter().map(|f| f.records).sum();
        println!(
            "opened into {}: manifest checked, {} files, {records} records",
            folder.display(),
            manifest.files.len()
        );
        for f in &manifest.files {
            println!("  {}  {} records  sha256 {}", f.path, f.records, f.sha256);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `preserve_until` of a case whose decision preserves and grants nothing
/// (a preservation order), asked of the server.
async fn preserved_only(args: &FetchArgs, signer: &Signer) -> Option<String> {
    let path = format!("/v1/cases/{}", args.case);
    let answer = client::send(
        &reqwest::Client::new(),
        &args.server,
        "GET",
        &path,
        Vec::new(),
        Some(signer),
        None,
    )
    .await
    .ok()?;
    let v: serde_json::Value = serde_json::from_str(&answer.body).ok()?;
    let d = &v["decision"];
    let grants = d["decisions"]
        .as_array()?
        .iter()
        .any(|p| p["status"] == "grant");
    match d["preserve_until"].as_str() {
        Some(t) if !grants => Some(t.to_owned()),
        _ => None,
    }
}

/// Streams the package into a temporary file beside `dest`, checks it
/// against the `Content-Digest` the server sent, and renames it into
/// place. `None` when the server refused (the reason is printed).
async fn download(
    args: &FetchArgs,
    signer: &Signer,
    dest: &Path,
) -> anyhow::Result<Option<(u64, String)>> {
    let path = format!("/v1/cases/{}/package", args.case);
    let url = format!("{}{path}", args.server.trim_end_matches('/'));
    let mut request = reqwest::Client::new().get(&url);
    for (k, v) in signer.headers("GET", &path, &[])? {
        request = request.header(k, v);
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("cannot reach `{url}`"))?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let answer = client::Answer { status, body };
        if status == 404
            && let Some(until) = preserved_only(args, signer).await
        {
            eprintln!(
                "case {} is a preservation order: its data is held until {until} and never \
                 disclosed, so it never gets a package",
                args.case
            );
            return Ok(None);
        }
        eprintln!("error: server answered {status}: {}", answer.detail());
        return Ok(None);
    }
    let expected = response
        .headers()
        .get("content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha-256=:"))
        .and_then(|v| v.strip_suffix(':'))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(hex::encode)
        .context("the server sent no sha-256 Content-Digest for the package")?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut part = tempfile::Builder::new()
        .prefix(".writ-fetch-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in `{}`", dir.display()))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = response.chunk().await.context("reading the package")? {
        hasher.update(&chunk);
        size += chunk.len() as u64;
        part.write_all(&chunk).context("writing the package")?;
    }
    let got = hex::encode(hasher.finalize());
    if got != expected {
        anyhow::bail!("the package's SHA-256 is {got}, but the server announced {expected}");
    }
    part.as_file().sync_all().context("syncing the package")?;
    part.persist(dest)
        .with_context(|| format!("cannot save `{}`", dest.display()))?;
    Ok(Some((size, got)))
}
