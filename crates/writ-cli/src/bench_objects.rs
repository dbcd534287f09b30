//! `writ bench objects`: one large object, the size of a big sealed package,
//! through a deployment's object storage the way packages go: uploaded from
//! a local file (`put_file`, in parts on S3) and read back as a stream
//! (`get_stream`) while hashing it, as a download does. The baseline is a
//! plain copy of the same file on the local disk, in the same run; the peak
//! RSS of the process shows that the object never sits in memory whole.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use writ_connect::demo::parse_size;
use writ_objects::ObjectsLocation;

use crate::input::BadInput;

#[derive(Args, Debug)]
pub struct ObjectsArgs {
    /// The object storage: a folder, file://DIR or s3://bucket/prefix (the
    /// object goes under `bench/` there and is deleted afterwards).
    #[arg(long)]
    pub objects: String,
    /// The object's size (`200MB`, `1GiB`).
    #[arg(long, default_value = "1GiB")]
    pub size: String,
    /// Where to write the local file [default: a temporary folder].
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    objects: String,
    bytes: u64,
    local_copy_mb_s: f64,
    upload_mb_s: f64,
    download_mb_s: f64,
    upload_ratio: f64,
    download_ratio: f64,
    peak_rss_mib: f64,
}

pub async fn run(args: ObjectsArgs) -> anyhow::Result<ExitCode> {
    let bytes = parse_size(&args.size).ok_or_else(|| {
        BadInput(format!(
            "invalid size `{}`: expected for example 200MB or 1GiB",
            args.size
        ))
    })?;
    let location =
        ObjectsLocation::parse(&args.objects).map_err(|e| BadInput(format!("--objects: {e}")))?;
    let storage = location.open("bench")?;
    let work = match &args.work {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("cannot create a work folder")?;

    // The file, of bytes that do not compress, flushed to disk.
    eprintln!("writing a {} file...", args.size);
    let file = work.path().join("object.bin");
    let expected = {
        let mut out = fs::File::create(&file).context("cannot create the file")?;
        let mut hasher = Sha256::new();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = bytes;
        while left > 0 {
            for word in buf.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            out.write_all(&buf[..n])?;
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        out.sync_all()?;
        hex::encode(hasher.finalize())
    };
    let mb = bytes as f64 / 1e6;

    eprintln!("copying it on the local disk (the baseline)...");
    let copy = work.path().join("copy.bin");
    let t = Instant::now();
    fs::copy(&file, &copy).context("cannot copy the file")?;
    fs::File::open(&copy)?.sync_all()?;
    let local_copy = t.elapsed().as_secs_f64();
    fs::remove_file(&copy)?;

    let name = format!(
        "bench-{}.bin",
        hex::encode(writ_gateway::random_bytes::<6>()?)
    );
    eprintln!("uploading it to {location}...");
    let t = Instant::now();
    storage
        .put_file(name.clone(), file.clone())
        .await
        .context("upload")?;
    let upload = t.elapsed().as_secs_f64();

    eprintln!("reading it back...");
    let t = Instant::now();
    let mut reader = storage
        .get_stream(name.clone())
        .await?
        .context("the object is gone")?;
    let mut hasher = Sha256::new();
    let mut read = 0u64;
    while let Some(chunk) = reader.stream.next().await {
        let chunk = chunk?;
        read += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let download = t.elapsed().as_secs_f64();
    storage.delete(name).await?;
    if read != bytes || hex::encode(hasher.finalize()) != expected {
        bail!("the object read back differs from the file");
    }

    let report = Report {
        objects: location.to_string(),
        bytes,
        local_copy_mb_s: mb / local_copy,
        upload_mb_s: mb / upload,
        download_mb_s: mb / download,
        upload_ratio: local_copy / upload,
        download_ratio: local_copy / download,
        peak_rss_mib: crate::seal_cmd::peak_rss_kib()? as f64 / 1024.0,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("object of {:.1} MB at {}", mb, report.objects);
        println!(
            "  local copy (baseline): {:>8.1} MB/s",
            report.local_copy_mb_s
        );
        println!(
            "  upload (put_file):     {:>8.1} MB/s  ({:.2}x the copy)",
            report.upload_mb_s, report.upload_ratio
        );
        println!(
            "  download (get_stream): {:>8.1} MB/s  ({:.2}x the copy)",
            report.download_mb_s, report.download_ratio
        );
        println!("  peak RSS:              {:>8.1} MiB", report.peak_rss_mib);
    }
    Ok(ExitCode::SUCCESS)
}
