//! `writ`: the command line of the Writ lawful-request gateway.
//!
//! This binary only glues the library crates together: it parses arguments,
//! calls them, prints results on standard output and maps errors to exit
//! codes (0 success, 1 a check failed, 2 bad input or usage).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agency_cmd;
mod backup_cmd;
mod bench_cmd;
mod bench_emergency;
mod bench_objects;
mod check_cmd;
mod client;
mod decide_cmd;
mod fetch_cmd;
mod input;
mod log_cmd;
mod migrate_cmd;
mod policy_cmd;
mod receipt_cmd;
mod report_cmd;
mod review_cmd;
mod seal_cmd;
mod serve_cmd;
mod simulate_cmd;
mod submit_cmd;
mod token_cmd;
mod watch_cmd;
mod witness_cmd;

#[derive(Parser)]
#[command(
    name = "writ",
    version,
    about = "Writ: answer government demands for user data lawfully, and prove it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines on standard error are written: `text` (one readable
    /// line per event) or `json` (one JSON object per line).
    #[arg(long, global = true, env = "WRIT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Which log lines are written: a level (`error`, `warn`, `info`,
    /// `debug`, `trace`) or a filter such as `info,writ_runtime=debug`.
    #[arg(long, global = true, env = "WRIT_LOG", default_value = "info")]
    log_level: String,
}

/// The format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Sends `tracing` events (the background workers' and the server's) to
/// standard error with their time, level and source; a failed write there is
/// dropped, never a crash.
fn init_logging(format: LogFormat, level: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| format!("--log-level `{level}`: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        // By default a failed write is reported with `eprintln!`, which
        // panics when standard error itself fails.
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}

#[derive(Subcommand)]
enum Command {
    /// Decide an order against the legal policy and print the decision JSON.
    Decide(decide_cmd::DecideArgs),
    /// Test, check, prove and compare policy packs.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// The transparency log: verifier key, verification, proofs.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Run the gateway server.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Sign and send an order; print the case and decision.
    Submit(submit_cmd::SubmitArgs),
    /// Download a case's sealed package; with --identity, decrypt and check it.
    Fetch(fetch_cmd::FetchArgs),
    /// Check a user's notice receipt against the public log.
    #[command(subcommand)]
    Receipt(receipt_cmd::ReceiptCommand),
    /// Manage the agency registry.
    #[command(subcommand)]
    Agency(agency_cmd::AgencyCommand),
    /// Act on cases as a console user.
    Review(review_cmd::ReviewArgs),
    /// Manage console users' personal access tokens.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// Transparency reports from the log's public fields, and their verification.
    Report(report_cmd::ReportArgs),
    /// Fill a data folder with a synthetic workload's log.
    Simulate(simulate_cmd::SimulateArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Move a single-machine deployment onto PostgreSQL (and S3), checked.
    Migrate(migrate_cmd::MigrateArgs),
    /// Run a transparency-log witness that cosigns consistent checkpoints.
    #[command(subcommand)]
    Witness(witness_cmd::WitnessCommand),
    /// Check a data folder's consistency: the log against its signed
    /// checkpoint, every case's events against the log, every package
    /// against its object (exit 1 naming each fault).
    Check(check_cmd::CheckArgs),
    /// Copy a running single-machine deployment's data folder, consistently,
    /// into one tar file with a manifest of SHA-256s.
    Backup(backup_cmd::BackupArgs),
    /// Restore a `writ backup` file into a new data folder, checked against
    /// its manifest.
    Restore(backup_cmd::RestoreArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    if let Err(e) = init_logging(cli.log_format, &cli.log_level) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Decide(args) => decide_cmd::run(args),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        // A log command reports a failed check with exit code 1 itself; an
        // error it returns is about its input (a data folder, a URL, a key).
        Command::Log(cmd) => {
            log_cmd::run(cmd).map_err(|e| e.context(input::BadInput("log".into())))
        }
        Command::Serve(args) => serve_cmd::run(*args),
        Command::Submit(args) => submit_cmd::run(args),
        Command::Fetch(args) => fetch_cmd::run(args),
        Command::Receipt(cmd) => receipt_cmd::run(cmd),
        Command::Agency(cmd) => agency_cmd::run(cmd),
        Command::Review(args) => review_cmd::run(args),
        Command::Token(cmd) => token_cmd::run(cmd),
        Command::Report(args) => report_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Bench(cmd) => bench_cmd::run(cmd),
        Command::Migrate(args) => migrate_cmd::run(args),
        Command::Witness(cmd) => witness_cmd::run(cmd),
        Command::Check(args) => check_cmd::run(args),
        Command::Backup(args) => backup_cmd::backup(args),
        Command::Restore(args) => backup_cmd::restore(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", input::message(&e));
            ExitCode::from(input::exit_code_of(&e))
        }
    }
}
