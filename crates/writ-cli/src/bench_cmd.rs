//! `writ bench intake`: signed orders in, decisions out, events durable;
//! reports p50 and p99 latency and orders per second. `writ bench decide`:
//! the policy engine alone, on one core.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use writ_server::ServerConfig;
use writ_server::app::{App, AppOptions};

use crate::client::{self, Signer};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Decision latency of the policy engine for a case file, on one core.
    Decide(DecideArgs),
    /// Intake throughput and latency over HTTP.
    Intake(IntakeArgs),
    /// Compute a transparency report over a large log.
    Report(ReportArgs),
    /// Seal generated demo accounts and compare with the `age` CLI.
    Seal(crate::seal_cmd::SealArgs),
    /// A verified emergency from order to downloadable package (machine time).
    Emergency(crate::bench_emergency::EmergencyArgs),
    /// A large object through the object storage (upload, streamed read).
    Objects(crate::bench_objects::ObjectsArgs),
    /// One sealing run, measured in its own process (used by `bench seal`).
    #[command(hide = true)]
    SealChild(crate::seal_cmd::ChildArgs),
}

#[derive(Args, Debug)]
pub struct IntakeArgs {
    /// A running server (started with `--rate-limit 0`); without it, the
    /// benchmark starts a demo server of its own in a temporary folder.
    /// Several servers of one deployment (comma-separated, or the flag
    /// repeated) share the clients between them.
    #[arg(long, value_delimiter = ',')]
    pub server: Vec<String>,
    /// The server's data folder, to find the demo agency's key.
    #[arg(long, default_value = "./writ-data")]
    pub data: PathBuf,
    #[arg(long, default_value = "us-fbi-wfo")]
    pub agency: String,
    /// The agency's signing key [default: <data>/demo/agencies/<agency>/signing.key].
    #[arg(long)]
    pub key: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    #[arg(long, default_value_t = 10_000)]
    pub orders: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Decide(args) => decide(&args),
        BenchCommand::Intake(args) => client::runtime()?.block_on(intake(args)),
        BenchCommand::Report(args) => report(&args),
        BenchCommand::Seal(args) => crate::seal_cmd::run(args),
        BenchCommand::Emergency(args) => {
            client::runtime()?.block_on(crate::bench_emergency::run(args))
        }
        BenchCommand::Objects(args) => client::runtime()?.block_on(crate::bench_objects::run(args)),
        BenchCommand::SealChild(args) => crate::seal_cmd::child(args),
    }
}

/// A subpoena for a synthetic demo account's subscriber data.
fn order(agency: &str, run: &str, i: usize) -> Vec<u8> {
    let account = i % writ_gateway::demo::SYNTHETIC_ACCOUNTS + 1;
    serde_json::json!({
        "reference": format!("BENCH-{run}-{i}"),
        "agency": agency,
        "instrument": "subpoena",
        "legal_basis": "18 U.S.C. § 2703(c)(2)",
        "issued_by": {"kind": "prosecutor"},
        "issued_at": writ_model::Timestamp::now().plus_days(-1),
        "targets": [{"kind": "email", "value": format!("user{account:05}@demo.example")}],
        "categories": ["subscriber"],
    })
    .to_string()
    .into_bytes()
}

async fn intake(args: IntakeArgs) -> anyhow::Result<ExitCode> {
    let mut own = None;
    let mut _tmp = None;
    let (servers, data) = match args.server.first() {
        Some(_) => (args.server.clone(), args.data.clone()),
        None => {
            let dir = tempfile::tempdir().context("temporary folder")?;
            let options = AppOptions {
                demo: true,
                server: ServerConfig {
                    rate_limit: 0,
                    ..ServerConfig::default()
                },
                ..AppOptions::new(dir.path())
            };
            let app = App::start(options).await.context("starting a server")?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let state = app.state.clone();
            let handle = tokio::spawn(async move {
                let _ = writ_server::serve(listener, state, async move {
                    let _ = stopped.await;
                })
                .await;
            });
            let data = dir.path().to_path_buf();
            own = Some((app, stop, handle));
            _tmp = Some(dir);
            (vec![format!("http://{addr}")], data)
        }
    };
    let key = args.key.clone().unwrap_or_else(|| {
        writ_objects::layout::demo(&data)
            .join("agencies")
            .join(&args.agency)
            .join("signing.key")
    });
    let signer = Arc::new(Signer::load(&args.agency, &key)?);
    let run = hex_run()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients.max(1) {
        let (http, signer, next, server, agency, run) = (
            http.clone(),
            signer.clone(),
            next.clone(),
            servers[c % servers.len()].clone(),
            args.agency.clone(),
            run.clone(),
        );
        let total = args.orders;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = order(&agency, &run, i);
                let t = Instant::now();
                match client::send(
                    &http,
                    &server,
                    "POST",
                    "/v1/orders",
                    body,
                    Some(&signer),
                    None,
                )
                .await
                {
                    Ok(a) if a.status == 201 => latencies.push(t.elapsed()),
                    Ok(a) => {
                        if failures == 0 {
                            eprintln!("order {i}: {} {}", a.status, a.detail());
                        }
                        failures += 1;
                    }
                    Err(e) => {
                        if failures == 0 {
                            eprintln!("order {i}: {}", crate::input::message(&e));
                        }
                        failures += 1;
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(args.orders);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    if let Some((app, stop, handle)) = own {
        let _ = stop.send(());
        let _ = handle.await;
        app.shutdown().await?;
    }
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"orders": latencies.len(), "failed": failures, "clients": args.clients, "servers": servers.len(),
                "seconds": elapsed.as_secs_f64(), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "orders_per_second": rate})
        );
    } else {
        println!(
            "{} orders ({} failed), {} clients, {:.2} s: p50 {:.2} ms, p99 {:.2} ms, {:.0} orders/s",
            latencies.len(),
            failures,
            args.clients,
            elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            rate
        );
    }
    if failures > 0 {
        bail!("{failures} orders failed");
    }
    Ok(ExitCode::SUCCESS)
}

fn hex_run() -> anyhow::Result<String> {
    let b = writ_gateway::random_bytes::<4>()?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[derive(Args, Debug)]
pub struct DecideArgs {
    /// The case file to decide, again and again.
    #[arg(
        long,
        default_value = "corpus/public/010-us-warrant-mixed-locations.json"
    )]
    pub case: PathBuf,
    /// How many decisions to time.
    #[arg(long, default_value_t = 20_000)]
    pub decisions: usize,
    /// A policy pack folder (default: the pack built into writ).
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// Replace the order's targets by this many accounts of the directory's
    /// first target, one in seven with its data in Ireland (so that the
    /// order has two distinct sets of account facts, as a real one might).
    #[arg(long, value_name = "N")]
    pub targets: Option<usize>,
}

/// The case's order with `n` targets: copies of the account its first
/// target resolves to, each with its own id and e-mail address.
fn with_targets(
    mut input: writ_model::DecisionInput,
    n: usize,
) -> anyhow::Result<writ_model::DecisionInput> {
    let first = input
        .order
        .targets
        .first()
        .context("the case's order has no target to copy")?;
    let account = writ_policy::facts::resolve(first, &input.accounts)
        .account()
        .cloned()
        .context("the case's first target resolves to no account")?;
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("bench-{i}@example.com");
        let mut copy = serde_json::to_value(&account)?;
        copy["id"] = format!("acct-bench-{i}").into();
        copy["identifiers"] = serde_json::json!([{"kind": "email", "value": email}]);
        if i % 7 == 6 {
            copy["data_location"] = "IE".into();
        }
        input.accounts.push(serde_json::from_value(copy)?);
        targets.push(serde_json::from_value(
            serde_json::json!({"kind": "email", "value": email}),
        )?);
    }
    input.order.targets = targets;
    Ok(input)
}

/// Times single decisions of one case and prints the median, the 99th
/// percentile and decisions per second.
fn decide(args: &DecideArgs) -> anyhow::Result<ExitCode> {
    let pack = crate::decide_cmd::load_pack(args.policy.as_deref())?;
    let case = crate::input::parse(&args.case, writ_model::parse::case_file)?;
    let input = match args.targets {
        Some(n) => with_targets(case.input(), n)?,
        None => case.input(),
    };
    let n = args.decisions.max(1);
    for _ in 0..n.min(500) {
        std::hint::black_box(writ_policy::decide(&pack, &input));
    }
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(writ_policy::decide(&pack, std::hint::black_box(&input)));
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    samples.sort_unstable();
    let at = |q: f64| samples[((n as f64 * q) as usize).min(n - 1)].as_secs_f64() * 1e6;
    println!(
        "{}: {} targets x {} categories: median {:.1} µs, p99 {:.1} µs, {:.0} decisions/s",
        case.name,
        input.order.targets.len(),
        input.order.categories().len(),
        at(0.5),
        at(0.99),
        n as f64 / total.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A data folder with a log; without it, `--events` entries are
    /// simulated into a temporary folder first (not timed).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Entries to simulate when no `--data` is given.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// The period [default: the current half-year].
    #[arg(long)]
    pub period: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Times `writ report --data`: reading every entry bundle, counting, and
/// signing, at the folder's latest checkpoint.
fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let now = writ_model::Timestamp::now();
    let period = match &args.period {
        Some(p) => writ_report::Period::parse(p)
            .map_err(|e| crate::input::BadInput(format!("--period: {e}")))?,
        None => writ_report::Period::of(&now.to_string())?,
    };
    let temp;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            eprintln!(
                "simulating {} entries into {}",
                args.events,
                temp.path().display()
            );
            let started = Instant::now();
            client::runtime()?.block_on(crate::simulate_cmd::simulate(
                temp.path(),
                args.events,
                now,
            ))?;
            eprintln!("simulated in {:.1} s", started.elapsed().as_secs_f64());
            temp.path().to_path_buf()
        }
    };
    let started = Instant::now();
    let report = crate::report_cmd::local_report(&data, period, None)?;
    let elapsed = started.elapsed().as_secs_f64();
    let entries = report.checkpoint.size;
    let rate = entries as f64 / elapsed.max(1e-9);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "entries": entries,
                "requests": report.figures.totals.requests,
                "seconds": elapsed,
                "entries_per_second": rate,
            })
        );
    } else {
        println!(
            "report {period} over {entries} entries ({} requests): {elapsed:.2} s, {rate:.0} entries/s",
            report.figures.totals.requests
        );
    }
    Ok(ExitCode::SUCCESS)
}
