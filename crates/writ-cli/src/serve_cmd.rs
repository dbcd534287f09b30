//! `writ serve`: the gateway server.
//!
//! Settings come from flags, then `WRIT_*` environment variables, then the
//! `--config` file (TOML), then the defaults of `docs/http.md`.

/// Writes a line to standard error; a failed write (a closed or full
/// stderr) is dropped: the server keeps serving.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use writ_gateway::notice::{NoticeConfig, SmtpConfig, WebhookConfig};
use writ_server::ServerConfig;
use writ_server::app::{App, AppOptions, ConnectorSpec, SHUTDOWN_GRACE};

use crate::client;
use crate::input::BadInput;

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Seed demo agencies, accounts, keys and console users on first start.
    #[arg(long)]
    pub demo: bool,
    /// The data folder [default: ./writ-data].
    #[arg(long, env = "WRIT_DATA")]
    pub data: Option<PathBuf>,
    /// The address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "WRIT_LISTEN")]
    pub listen: Option<String>,
    /// The case store [default: sqlite://<data>/writ.db].
    #[arg(long, env = "WRIT_DATABASE")]
    pub database: Option<String>,
    /// Where objects live: a folder, file://DIR, or s3://bucket/prefix (with
    /// the `s3` feature; endpoint and credentials from `AWS_*`)
    /// [default: file://<data>/objects].
    #[arg(long, env = "WRIT_OBJECTS")]
    pub objects: Option<String>,
    /// A TOML file with any of: data, listen, database, rate_limit, burst, body_limit,
    /// connector, package_ttl, secure_cookies, token_ttl, header_timeout,
    /// body_timeout, idle_timeout, max_connections.
    #[arg(long, env = "WRIT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Requests per second per agency, on every agency route and the portal
    /// (bursts of 10x); 0 turns every per-agency limit off [default: 50].
    #[arg(long, env = "WRIT_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// The log's signing key file, created with a new key if it does not
    /// exist; by default the key is kept in the case store. A log's key never
    /// changes: a file with another key than the log's is refused.
    #[arg(long, env = "WRIT_LOG_KEY")]
    pub log_key: Option<PathBuf>,
    /// Where collection reads the provider's data: `demo` (the demo mail
    /// service, the default with --demo), `sql:FILE` (queries per category)
    /// or an http(s) URL (NDJSON; bearer token from WRIT_CONNECTOR_TOKEN).
    /// Without one, nothing is collected.
    #[arg(long, env = "WRIT_CONNECTOR")]
    pub connector: Option<String>,
    /// How long a package may be downloaded once available, e.g. `30d`,
    /// `12h`, `90s` [default: 30d].
    #[arg(long, env = "WRIT_PACKAGE_TTL")]
    pub package_ttl: Option<String>,
    /// The server's public URL, named in user notices' receipts
    /// [default: http://<listen>].
    #[arg(long, env = "WRIT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Send user notices and agency notifications by e-mail through this
    /// SMTP server (`smtp://host:port`).
    #[arg(long, env = "WRIT_SMTP")]
    pub smtp: Option<String>,
    /// The sender address of notices [default: notices@<host of --public-url>].
    #[arg(long, env = "WRIT_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Also post notices to this URL, signed the Standard Webhooks way with
    /// WRIT_WEBHOOK_SECRET (`whsec_<base64>`).
    #[arg(long, env = "WRIT_WEBHOOK")]
    pub webhook: Option<String>,
    /// Who notices are from, as users read it, and whose records
    /// certificates of authenticity certify [default: Writ].
    #[arg(long, env = "WRIT_PROVIDER_NAME")]
    pub provider_name: Option<String>,
    /// The wording of certificates of authenticity, as TOML (keys `title`,
    /// `opening`, `statements`, `scope`, `inside_us`, `outside_us`; see
    /// docs/http.md, "Certificates of authenticity") [default: the federal
    /// wording, FRE 902(11), (13), (14) and 28 U.S.C. § 1746].
    #[arg(long, env = "WRIT_CERTIFICATE_TEMPLATE", value_name = "FILE")]
    pub certificate_template: Option<PathBuf>,
    /// Let admins point agency webhooks at loopback addresses (127.0.0.1,
    /// ::1): for tests and a demo on one machine only. Private, link-local
    /// and other non-public addresses stay refused.
    #[arg(long, env = "WRIT_WEBHOOK_ALLOW_LOOPBACK")]
    pub webhook_allow_loopback: bool,
    /// Mark the console's and portal's session cookies `Secure` (when TLS
    /// is terminated in front of the server).
    #[arg(long, env = "WRIT_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// How long a personal access token (other than a 12-hour console
    /// session) lasts from when it was minted, e.g. `90d` [default: 90d].
    #[arg(long, env = "WRIT_TOKEN_TTL")]
    pub token_ttl: Option<String>,
    /// How long a client may take to send a request's header, e.g. `30s`;
    /// also how long a keep-alive connection waits for its next request
    /// [default: 30s].
    #[arg(long, env = "WRIT_HEADER_TIMEOUT")]
    pub header_timeout: Option<String>,
    /// How long a client may take to send a request's body [default: 60s].
    #[arg(long, env = "WRIT_BODY_TIMEOUT")]
    pub body_timeout: Option<String>,
    /// How long a connection may stay open with nothing sent either way and
    /// no request being answered [default: 60s].
    #[arg(long, env = "WRIT_IDLE_TIMEOUT")]
    pub idle_timeout: Option<String>,
    /// The most connections open at once; more wait to be accepted
    /// [default: 1024].
    #[arg(long, env = "WRIT_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// A witness that cosigns the log's checkpoints, as `VKEY=URL` (its
    /// cosignature/v1 verifier key and submission prefix); repeatable.
    /// `/log/checkpoint` then serves the newest checkpoint cosigned by a
    /// quorum of them.
    #[arg(long = "witness", value_name = "VKEY=URL")]
    pub witnesses: Vec<String>,
    /// How many witnesses must cosign a checkpoint [default: all of them].
    #[arg(long)]
    pub witness_quorum: Option<usize>,
    /// How long the newest checkpoint may wait for a quorum before
    /// `/healthz` and `/metrics` say `degraded`, e.g. `60s` [default: 60s].
    #[arg(long)]
    pub witness_bound: Option<String>,
    /// With PostgreSQL: how long the sequencer may stop answering (a hung
    /// or frozen process) before PostgreSQL ends its lease and another
    /// server takes over, and how long any server's open transaction may
    /// wait for it before PostgreSQL rolls it back and frees its rows, e.g.
    /// `10s`; at least 2s [default: 10s].
    #[arg(long, env = "WRIT_LEASE_TIMEOUT")]
    pub lease_timeout: Option<String>,
    /// Read a legal-process mailbox: `imap://user:password@host:port/MAILBOX`
    /// (plain IMAP, for a server on a trusted network) or `imaps://...`
    /// (TLS, with the `tls` feature); MAILBOX defaults to INBOX. Each new
    /// message becomes a draft on the console's Mailbox page.
    #[arg(long, env = "WRIT_IMAP", value_name = "URL")]
    pub imap: Option<String>,
    /// The mailbox's password, read from this file's first line instead of
    /// the URL (so that it is not on the command line).
    #[arg(long, env = "WRIT_IMAP_PASSWORD_FILE", value_name = "FILE")]
    pub imap_password_file: Option<PathBuf>,
    /// How often the mailbox is read, in seconds [default: 60].
    #[arg(long, env = "WRIT_IMAP_INTERVAL", value_name = "SECONDS")]
    pub imap_interval: Option<u64>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<String>,
    database: Option<String>,
    rate_limit: Option<u32>,
    burst: Option<u32>,
    body_limit: Option<usize>,
    connector: Option<String>,
    package_ttl: Option<String>,
    secure_cookies: Option<bool>,
    token_ttl: Option<String>,
    header_timeout: Option<String>,
    body_timeout: Option<String>,
    idle_timeout: Option<String>,
    max_connections: Option<usize>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
            toml::from_str(&text).map_err(|e| BadInput(format!("{}: {e}", path.display())))?
        }
        None => FileConfig::default(),
    };
    let data = args
        .data
        .or(file.data)
        .unwrap_or_else(|| PathBuf::from("./writ-data"));
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let rate_limit = args.rate_limit.or(file.rate_limit).unwrap_or(50);
    let mut server = ServerConfig {
        rate_limit,
        burst: file.burst.unwrap_or(rate_limit.saturating_mul(10)),
        ..ServerConfig::default()
    };
    server.secure_cookies = args.secure_cookies || file.secure_cookies.unwrap_or(false);
    server.webhook_allow_loopback = args.webhook_allow_loopback;
    server.provider = args.provider_name.clone().unwrap_or_else(|| "Writ".into());
    if let Some(path) = &args.certificate_template {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BadInput(format!("--certificate-template `{}`: {e}", path.display())))?;
        server.certificate = writ_gateway::certificate::CertificateTemplate::from_toml(&text)
            .map_err(|e| BadInput(format!("--certificate-template `{}`: {e}", path.display())))?;
    }
    if let Some(limit) = file.body_limit {
        server.body_limit = limit;
    }
    let duration = |flag: &str, text: Option<String>| -> anyhow::Result<_> {
        text.map(|t| {
            parse_duration(&t).filter(|d| !d.is_zero()).ok_or_else(|| {
                BadInput(format!("--{flag} `{t}`: expected e.g. 30s, 15m, 12h, 90d"))
            })
        })
        .transpose()
        .map_err(Into::into)
    };
    if let Some(ttl) = duration("token-ttl", args.token_ttl.or(file.token_ttl))? {
        server.token_ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    }
    if let Some(t) = duration(
        "header-timeout",
        args.header_timeout.or(file.header_timeout),
    )? {
        server.conn.header_timeout = t;
    }
    if let Some(t) = duration("body-timeout", args.body_timeout.or(file.body_timeout))? {
        server.conn.body_timeout = t;
    }
    if let Some(t) = duration("idle-timeout", args.idle_timeout.or(file.idle_timeout))? {
        server.conn.idle_timeout = t;
    }
    if let Some(n) = args.max_connections.or(file.max_connections) {
        if n == 0 {
            return Err(BadInput("--max-connections must be at least 1".into()).into());
        }
        server.conn.max_connections = n;
    }
    let object_store = args
        .objects
        .as_deref()
        .map(writ_objects::ObjectsLocation::parse)
        .transpose()
        .map_err(|e| BadInput(format!("--objects: {e}")))?;
    let log_key = args.log_key.as_deref().map(load_log_key).transpose()?;
    let connector = args
        .connector
        .or(file.connector)
        .map(|c| {
            c.parse::<ConnectorSpec>()
                .map_err(|e| BadInput(format!("--connector: {e}")))
        })
        .transpose()?;
    let package_ttl = match args.package_ttl.or(file.package_ttl) {
        Some(text) => parse_duration(&text).ok_or_else(|| {
            BadInput(format!(
                "--package-ttl `{text}`: expected e.g. 30d, 12h, 90s"
            ))
        })?,
        None => std::time::Duration::from_secs(30 * 24 * 3600),
    };
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{listen}"));
    let public_url = public_url.trim_end_matches('/').to_owned();
    let smtp =
        match &args.smtp {
            None => None,
            Some(url) => {
                let host = public_url
                    .split("://")
                    .nth(1)
                    .and_then(|h| h.split([':', '/']).next())
                    .unwrap_or("localhost");
                let from = args
                    .smtp_from
                    .clone()
                    .unwrap_or_else(|| format!("notices@{host}"));
                Some(SmtpConfig::parse(url, &from).ok_or_else(|| {
                    BadInput(format!("--smtp `{url}`: expected smtp://host:port"))
                })?)
            }
        };
    let webhook =
        match &args.webhook {
            None => None,
            Some(url) => {
                let secret = std::env::var("WRIT_WEBHOOK_SECRET").map_err(|_| {
                    BadInput("--webhook needs WRIT_WEBHOOK_SECRET (whsec_<base64>)".into())
                })?;
                Some(WebhookConfig::new(url, &secret).ok_or_else(|| {
                    BadInput("WRIT_WEBHOOK_SECRET: expected whsec_<base64>".into())
                })?)
            }
        };
    let notice = NoticeConfig {
        outbox: None,
        smtp,
        webhook,
        provider: args.provider_name.clone().unwrap_or_else(|| "Writ".into()),
        log_url: format!("{public_url}/log"),
        vkey: String::new(),
        ..NoticeConfig::default()
    };
    let log_witness = witness_config(
        &args.witnesses,
        args.witness_quorum,
        args.witness_bound.as_deref(),
    )?;
    let lease_timeout = match duration("lease-timeout", args.lease_timeout)? {
        Some(t) if t < std::time::Duration::from_secs(2) => {
            return Err(BadInput("--lease-timeout must be at least 2s".into()).into());
        }
        Some(t) => t,
        None => std::time::Duration::from_secs(10),
    };
    let agency_notices = writ_gateway::agency_notice::AgencyNoticeConfig {
        outbox: None,
        smtp: notice.smtp.clone(),
        public_url: public_url.clone(),
        provider: notice.provider.clone(),
        allow_loopback: args.webhook_allow_loopback,
    };
    let imap = match &args.imap {
        None => {
            if args.imap_password_file.is_some() || args.imap_interval.is_some() {
                return Err(BadInput(
                    "--imap-password-file and --imap-interval need --imap URL".into(),
                )
                .into());
            }
            None
        }
        Some(url) => {
            let password = match &args.imap_password_file {
                Some(file) => Some(
                    std::fs::read_to_string(file)
                        .map_err(|e| {
                            BadInput(format!("--imap-password-file {}: {e}", file.display()))
                        })?
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                ),
                None => None,
            };
            Some(writ_server::app::ImapSpec::parse(url, password).map_err(BadInput)?)
        }
    };
    let imap_interval = match args.imap_interval {
        Some(0) => return Err(BadInput("--imap-interval must be at least 1".into()).into()),
        Some(n) => std::time::Duration::from_secs(n),
        None => std::time::Duration::from_secs(60),
    };
    let options = AppOptions {
        imap,
        imap_interval,
        lease_timeout,
        log_witness,
        notice,
        agency_notices,
        connector,
        package_ttl,
        database: args.database.or(file.database),
        demo: args.demo,
        object_store,
        server,
        log_key,
        ..AppOptions::new(&data)
    };
    let runtime = client::runtime()?;
    let served = runtime.block_on(serve(options, listen));
    // Blocking work still running (a file operation on a stuck disk) must
    // not hold the exit either.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

async fn serve(options: AppOptions, listen: String) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on `{listen}`"))?;
    let app = App::start(options).await.context("starting the server")?;
    if let Some(seeded) = &app.seeded {
        if seeded.fresh {
            let users = std::fs::read_to_string(&seeded.users_file).unwrap_or_default();
            say!(
                "demo console users (role name password otpauth-URI token), also in {}:",
                seeded.users_file.display()
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), users.as_bytes());
        } else if seeded.users_file.exists() {
            say!(
                "demo data already seeded; console users are in {}",
                seeded.users_file.display()
            );
        } else {
            // Another server on the same database seeded it (PostgreSQL).
            say!(
                "demo data already seeded by a server with another data folder: \
                 its demo/ folder has the console users and the agencies' keys"
            );
        }
    }
    say!("log verifier key: {}", app.log.vkey());
    let bound = listener.local_addr().context("reading the bound address")?;
    say!("listening on http://{bound}");
    // Requests in flight when the signal comes get the grace period to
    // finish, then the shutdown goes on without them.
    let signalled = std::sync::Arc::new(tokio::sync::Notify::new());
    let serving = writ_server::serve(listener, app.state.clone(), {
        let signalled = signalled.clone();
        async move {
            shutdown_signal().await;
            signalled.notify_one();
        }
    });
    tokio::select! {
        served = serving => served.context("serving")?,
        _ = async {
            signalled.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "requests still in flight after the grace period; closing them"
        ),
    }
    tracing::info!("shutting down");
    app.shutdown().await.context("shutting down")?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The log's witnesses from `--witness VKEY=URL`, `--witness-quorum` and
/// `--witness-bound`; `None` without witnesses.
fn witness_config(
    specs: &[String],
    quorum: Option<usize>,
    bound: Option<&str>,
) -> anyhow::Result<Option<writ_tlog::witnessing::WitnessConfig>> {
    if specs.is_empty() {
        if quorum.is_some() || bound.is_some() {
            return Err(
                BadInput("--witness-quorum and --witness-bound need --witness".into()).into(),
            );
        }
        return Ok(None);
    }
    let witnesses = specs
        .iter()
        .map(|s| {
            writ_tlog::witnessing::Witness::parse(s).map_err(|e| BadInput(format!("--witness {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = writ_tlog::witnessing::WitnessConfig::new(witnesses);
    if let Some(q) = quorum {
        if q == 0 || q > config.witnesses.len() {
            return Err(BadInput(format!(
                "--witness-quorum {q}: must be between 1 and the {} witnesses given",
                config.witnesses.len()
            ))
            .into());
        }
        config.quorum = q;
    }
    if let Some(text) = bound {
        config.bound = parse_duration(text)
            .ok_or_else(|| BadInput(format!("--witness-bound `{text}`: expected e.g. 60s, 5m")))?;
    }
    Ok(Some(config))
}

/// Reads the log key file, or creates it with a new key (readable by its
/// owner only) when it does not exist yet.
/// A duration such as `30d`, `12h`, `15m` or `90s`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let n: u64 = text.get(..text.len() - 1)?.parse().ok()?;
    Some(std::time::Duration::from_secs(n.checked_mul(scale)?))
}

fn load_log_key(path: &std::path::Path) -> anyhow::Result<writ_tlog::LogKey> {
    use std::io::Write as _;
    match std::fs::read_to_string(path) {
        Ok(text) => writ_tlog::LogKey::parse(&text).ok_or_else(|| {
            BadInput(format!(
                "--log-key {}: not a log key file (`writ-log-key-v1 <base64>`)",
                path.display()
            ))
            .into()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = writ_tlog::LogKey::generate()?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| BadInput(format!("--log-key {}: {e}", path.display())))?;
            file.write_all(key.to_file_text().as_bytes())?;
            file.sync_all()?;
            say!("created the log key file {}", path.display());
            Ok(key)
        }
        Err(e) => Err(BadInput(format!("--log-key {}: {e}", path.display())).into()),
    }
}
