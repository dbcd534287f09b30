//! Finding and starting the SMT solver.

use std::path::{Path, PathBuf};

use cedar_policy_symcc::solver::LocalSolver;
use tokio::process::Command;

/// Why the solver cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    #[error(
        "the cvc5 SMT solver was not found: set WRIT_CVC5 to its path or put `cvc5` on PATH \
         (Debian: `apt-get install cvc5`; see docs/policy-proofs.md)"
    )]
    Missing,
    #[error("WRIT_CVC5 names `{0}`, which is not a file")]
    NotAFile(PathBuf),
    #[error("the solver `{path}` could not be started: {message}")]
    Start { path: PathBuf, message: String },
}

/// The solver executable: anything that reads SMT-LIB 2 on standard input
/// and answers on standard output as `cvc5 --lang smt` does.
#[derive(Clone, Debug)]
pub struct Solver {
    path: PathBuf,
}

/// How long one query may run, in milliseconds. The default pack's queries
/// take a small fraction of this; a query that runs out is an error, never a
/// proof.
const TIME_LIMIT_MS: u32 = 60_000;

impl Solver {
    /// `WRIT_CVC5` if set, else `cvc5` on `PATH`.
    pub fn locate() -> Result<Self, SolverError> {
        if let Some(path) = std::env::var_os("WRIT_CVC5").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(Solver { path })
            } else {
                Err(SolverError::NotAFile(path))
            };
        }
        let path_var = std::env::var_os("PATH").ok_or(SolverError::Missing)?;
        std::env::split_paths(&path_var)
            .map(|dir| dir.join("cvc5"))
            .find(|p| p.is_file())
            .map(|path| Solver { path })
            .ok_or(SolverError::Missing)
    }

    /// A solver at a given path.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Solver { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts one solver process (inside a Tokio runtime).
    pub(crate) fn start(&self) -> Result<LocalSolver, SolverError> {
        LocalSolver::from_command(Command::new(&self.path).args([
            "--lang".to_owned(),
            "smt".to_owned(),
            format!("--tlimit={TIME_LIMIT_MS}"),
        ]))
        .map_err(|e| SolverError::Start {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }
}
