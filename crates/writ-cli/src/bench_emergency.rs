//! `writ bench emergency`: a verified emergency for a demo account, from
//! `POST /v1/orders` through the recorded callback to the sealed package
//! being downloadable, over real HTTP against a demo server of its own.
//! The time a person takes to make the call is not counted: the clock stops
//! when the order is answered and starts again when the callback is sent.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use writ_server::ServerConfig;
use writ_server::app::{App, AppOptions};

use crate::client::{self, Signer};

#[derive(Args, Debug)]
pub struct EmergencyArgs {
    /// How many emergencies to time.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The case store of the benchmark's own demo server: an empty
    /// PostgreSQL database (`postgres://...`) to time that store
    /// [default: SQLite in a temporary folder].
    #[arg(long)]
    pub database: Option<String>,
}

struct Run {
    submit: Duration,
    callback: Duration,
    ready: Duration,
}

impl Run {
    fn total(&self) -> Duration {
        self.submit + self.callback + self.ready
    }
}

pub async fn run(args: EmergencyArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir().context("temporary folder")?;
    let options = AppOptions {
        demo: true,
        database: args.database.clone(),
        server: ServerConfig {
            rate_limit: 0,
            ..ServerConfig::default()
        },
        ..AppOptions::new(dir.path())
    };
    let app = App::start(options).await.context("starting a server")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = app.state.clone();
    let handle = tokio::spawn(async move {
        let _ = writ_server::serve(listener, state, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let agency = "us-fbi-wfo";
    let signer = Signer::load(
        agency,
        &writ_objects::layout::demo(dir.path())
            .join("agencies")
            .join(agency)
            .join("signing.key"),
    )?;
    let users =
        std::fs::read_to_string(writ_objects::layout::demo(dir.path()).join("console-users.txt"))?;
    let token = writ_gateway::demo::read_users(&users)
        .into_iter()
        .find(|(_, name, _)| name == "rita")
        .map(|(_, _, t)| t)
        .context("no demo reviewer")?;
    let http = reqwest::Client::new();
    let run_id = writ_gateway::random_bytes::<4>().map(hex::encode)?;
    let mut runs = Vec::new();
    for i in 0..args.runs.max(1) {
        let account = i % writ_gateway::demo::SYNTHETIC_ACCOUNTS + 1;
        let order = serde_json::json!({
            "reference": format!("BENCH-E-{run_id}-{i}"),
            "agency": agency,
            "instrument": "emergency_request",
            "legal_basis": "18 U.S.C. § 2702(c)(4)",
            "issued_by": {"kind": "agency_official"},
            "issued_at": writ_model::Timestamp::now(),
            "targets": [{"kind": "email", "value": format!("user{account:05}@demo.example")}],
            "categories": ["subscriber", "identification", "traffic"],
            "emergency": {"threat": "death", "facts": "A caller threatened to kill a hostage tonight."},
        })
        .to_string()
        .into_bytes();
        let t = Instant::now();
        let a = client::send(
            &http,
            &server,
            "POST",
            "/v1/orders",
            order,
            Some(&signer),
            None,
        )
        .await?;
        let submit = t.elapsed();
        if a.status != 201 {
            bail!("order {i}: {} {}", a.status, a.detail());
        }
        let case = serde_json::from_str::<serde_json::Value>(&a.body)?["case"]
            .as_str()
            .context("no case id")?
            .to_owned();
        // The person makes the call here; that time is not counted.
        let t = Instant::now();
        let body = br#"{"number_source": "registry", "verified": true}"#.to_vec();
        let a = client::send(
            &http,
            &server,
            "POST",
            &format!("/v1/review/cases/{case}/callback"),
            body,
            None,
            Some(&token),
        )
        .await?;
        let callback = t.elapsed();
        if a.status != 200 {
            bail!("callback {i}: {} {}", a.status, a.detail());
        }
        let t = Instant::now();
        let path = format!("/v1/cases/{case}/package");
        loop {
            let a = client::send(
                &http,
                &server,
                "GET",
                &path,
                Vec::new(),
                Some(&signer),
                None,
            )
            .await?;
            if a.status == 200 {
                break;
            }
            if a.status != 404 || t.elapsed() > Duration::from_secs(30) {
                bail!("package {i}: {} {}", a.status, a.detail());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        runs.push(Run {
            submit,
            callback,
            ready: t.elapsed(),
        });
    }
    let _ = stop.send(());
    let _ = handle.await;
    app.shutdown().await?;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut totals: Vec<f64> = runs.iter().map(|r| ms(r.total())).collect();
    totals.sort_by(f64::total_cmp);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let p50 = totals[totals.len() / 2];
    let max = totals[totals.len() - 1];
    let submit = median(runs.iter().map(|r| ms(r.submit)).collect());
    let callback = median(runs.iter().map(|r| ms(r.callback)).collect());
    let ready = median(runs.iter().map(|r| ms(r.ready)).collect());
    if args.json {
        println!(
            "{}",
            serde_json::json!({"runs": runs.len(), "median_ms": p50, "max_ms": max,
                "submit_ms": submit, "callback_ms": callback, "package_ready_ms": ready})
        );
    } else {
        println!(
            "{} verified emergencies: machine time median {p50:.1} ms, max {max:.1} ms \
             (order answered {submit:.1} ms, callback recorded {callback:.1} ms, package downloadable {ready:.1} ms; medians)",
            runs.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
