//! `writ`: the command line of the Writ lawful-request gateway.
//!
//! This binary only glues the library crates together: it parses arguments,
//! calls them, prints results on standard output and maps errors to exit
//! codes (0 success, 1 a check failed, 2 bad input or usage).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decide_cmd;
mod input;
mod policy_cmd;
mod seal_cmd;

#[derive(Parser)]
#[command(
    name = "writ",
    version,
    about = "Writ: answer government demands for user data lawfully, and prove it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide an order against the legal policy and print the decision JSON.
    Decide(decide_cmd::DecideArgs),
    /// Test and check policy packs.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Seal generated demo accounts and compare with the `age` CLI.
    Seal(seal_cmd::SealArgs),
    /// One sealing run, measured in its own process (used by `bench seal`).
    #[command(hide = true)]
    SealChild(seal_cmd::ChildArgs),
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
    let result = match cli.command {
        Command::Decide(args) => decide_cmd::run(args),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Bench(BenchCommand::Seal(args)) => seal_cmd::run(args),
        Command::Bench(BenchCommand::SealChild(args)) => seal_cmd::child(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(input::exit_code_of(&e))
        }
    }
}
