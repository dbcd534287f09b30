//! `writ policy test`, `check`, `prove` and `diff`, and the loading of
//! custom packs, which must pass their proofs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use writ_model::parse;
use writ_policy::{Pack, runner};
use writ_prove::{Direction, PackPolicies, Solver};

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
    /// Prove the rule book's absolute properties of a pack for every request,
    /// with the cvc5 solver (WRIT_CVC5, or `cvc5` on PATH); exit 1 with a
    /// counterexample when one does not hold.
    Prove {
        /// A policy pack folder (default: the pack built into writ).
        #[arg(long, value_name = "DIR")]
        pack: Option<PathBuf>,
    },
    /// The request shapes a new pack permits that the old one refused, and
    /// the reverse: the changes the two-person rule applies to.
    Diff {
        /// The pack in force.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The new pack.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
}

/// Set to `1` to load a custom pack whose proofs fail or cannot run
/// (development only; said loudly on standard error each time).
pub const ALLOW_UNPROVEN: &str = "WRIT_ALLOW_UNPROVEN_PACK";

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Test { dir, policy } => test(&dir, policy.as_deref()),
        PolicyCommand::Prove { pack } => prove(pack.as_deref()),
        PolicyCommand::Diff { from, to } => diff(&from, &to),
        PolicyCommand::Check { dir } => {
            // Validation only: `writ policy prove` runs the proofs.
            let pack = Pack::load_dir(&dir).map_err(|e| BadInput(format!("policy pack: {e}")))?;
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

fn pack_policies(dir: Option<&Path>) -> anyhow::Result<PackPolicies> {
    let policies = match dir {
        Some(dir) => PackPolicies::load_dir(dir),
        None => PackPolicies::embedded(),
    };
    policies.map_err(|e| BadInput(e.to_string()).into())
}

fn solver() -> anyhow::Result<Solver> {
    Solver::locate().map_err(|e| BadInput(e.to_string()).into())
}

fn prove(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pack = pack_policies(dir)?;
    let solver = solver()?;
    let started = std::time::Instant::now();
    let results = writ_prove::prove(&pack, &solver)?;
    println!(
        "{} version {}: {} properties, solver {}",
        pack.id,
        pack.version,
        results.len(),
        solver.path().display()
    );
    let (mut proven, mut engine, mut failed) = (0usize, 0usize, 0usize);
    for r in &results {
        let p = &r.property;
        match &r.outcome {
            writ_prove::Outcome::Proven => {
                proven += 1;
                println!("proven  {}: {}", p.id, p.statement);
            }
            writ_prove::Outcome::Engine(how) => {
                engine += 1;
                println!(
                    "engine  {}: {}\n        held by the engine, not the pack: {how}",
                    p.id, p.statement
                );
            }
            writ_prove::Outcome::Counterexample(request) => {
                failed += 1;
                println!(
                    "FAILED  {}: {}\n        counterexample (this request gets through):",
                    p.id, p.statement
                );
                for line in request.lines() {
                    println!("          {line}");
                }
            }
            writ_prove::Outcome::NotStated(why) => {
                failed += 1;
                println!(
                    "FAILED  {}: {}\n        the property cannot be stated against this schema: {why}",
                    p.id, p.statement
                );
            }
        }
    }
    println!(
        "{proven} proven, {engine} held by the engine, {failed} failed ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn diff(from: &Path, to: &Path) -> anyhow::Result<ExitCode> {
    let old = pack_policies(Some(from))?;
    let new = pack_policies(Some(to))?;
    let solver = solver()?;
    let started = std::time::Instant::now();
    let changes = writ_prove::diff(&old, &new, &solver)?;
    println!(
        "from {} version {} to {} version {}",
        old.id, old.version, new.id, new.version
    );
    for direction in [Direction::NewlyPermitted, Direction::NewlyRefused] {
        let of: Vec<_> = changes
            .iter()
            .filter(|c| c.direction == direction)
            .collect();
        if of.is_empty() {
            continue;
        }
        println!(
            "\n{}",
            match direction {
                Direction::NewlyPermitted => "Newly permitted (needs two people to adopt):",
                Direction::NewlyRefused => "Newly refused:",
            }
        );
        for change in of {
            println!("  {}", change.summary());
            if !change.for_every_request {
                for line in change.example.lines() {
                    println!("      {line}");
                }
            }
        }
    }
    println!(
        "\n{} changes ({:.1} s)",
        changes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a custom pack folder for deciding: only when every property of
/// `writ policy prove` holds, unless `WRIT_ALLOW_UNPROVEN_PACK=1`. The
/// embedded pack is not checked here: CI proves it.
pub fn load_proven_pack(dir: &Path) -> anyhow::Result<Pack> {
    let pack = Pack::load_dir(dir).map_err(|e| BadInput(format!("policy pack: {e}")))?;
    if std::env::var(ALLOW_UNPROVEN).is_ok_and(|v| v == "1") {
        eprintln!(
            "WARNING: {ALLOW_UNPROVEN}=1: the policy pack {} is loaded WITHOUT its proofs. \
             For development only: its absolute promises (no hacking help, no content on a \
             subpoena, ...) are not checked.",
            dir.display()
        );
        return Ok(pack);
    }
    let refuse = |why: String| {
        BadInput(format!(
            "policy pack {}: {why}; run `writ policy prove --pack {}` (for development only, \
             {ALLOW_UNPROVEN}=1 loads it unproven)",
            dir.display(),
            dir.display()
        ))
    };
    let policies = PackPolicies::load_dir(dir).map_err(|e| refuse(e.to_string()))?;
    let solver = Solver::locate().map_err(|e| refuse(format!("its proofs cannot run: {e}")))?;
    let results = writ_prove::prove(&policies, &solver).map_err(|e| refuse(e.to_string()))?;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.outcome.holds())
        .map(|r| r.property.id.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(refuse(format!(
            "refused: these properties do not hold: {}",
            failed.join(", ")
        ))
        .into());
    }
    Ok(pack)
}
