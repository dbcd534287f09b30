//! `writ policy test` and `writ policy check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use writ_model::parse;
use writ_policy::runner;

use crate::decide_cmd::load_pack;
use crate::input::{self, BadInput};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Run every case file (`*.json`) in DIR; the last line is `N passed, M failed`.
    Test {
        /// A folder of case files.
        dir: PathBuf,
        /// A policy pack folder (default: the pack built into writ).
        #[arg(long, value_name = "DIR")]
        policy: Option<PathBuf>,
    },
    /// Validate a policy pack folder (Cedar files and policy.toml).
    Check {
        /// The pack folder.
        dir: PathBuf,
    },
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Test { dir, policy } => test(&dir, policy.as_deref()),
        PolicyCommand::Check { dir } => {
            let pack = load_pack(Some(&dir))?;
            println!(
                "{} version {}: {} rules, valid",
                pack.id,
                pack.version,
                pack.rules().len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The case files of a folder, in name order.
pub fn case_files(dir: &Path) -> Result<Vec<PathBuf>, BadInput> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| BadInput(format!("{}: cannot read folder: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn test(dir: &Path, policy: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pack = load_pack(policy)?;
    let files = case_files(dir)?;
    if files.is_empty() {
        return Err(BadInput(format!("{}: no case files (*.json)", dir.display())).into());
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        let case = match input::parse(file, parse::case_file) {
            Ok(case) => case,
            Err(e) => {
                failed += 1;
                println!("FAIL {}\n  {e}", file.display());
                continue;
            }
        };
        let result = runner::run_case(&pack, &case);
        if result.passed() {
            passed += 1;
        } else {
            failed += 1;
            println!("FAIL {} ({})", file.display(), result.name);
            for line in &result.differences {
                println!("  {line}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
