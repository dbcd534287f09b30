//! Reading files given on the command line, with errors that name them.

use std::path::Path;

use writ_model::InputError;

/// Bad input: exit code 2, with a message naming the file and field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl From<InputError> for BadInput {
    fn from(e: InputError) -> Self {
        BadInput(e.to_string())
    }
}

/// Reads a file, or fails with a message naming it.
pub fn read(path: &Path) -> Result<Vec<u8>, BadInput> {
    std::fs::read(path).map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))
}

/// Reads and parses a file with one of `writ_model::parse`'s functions.
pub fn parse<T>(
    path: &Path,
    parse: impl FnOnce(&[u8]) -> Result<T, InputError>,
) -> Result<T, BadInput> {
    let bytes = read(path)?;
    parse(&bytes).map_err(|e| BadInput(e.in_file(path.display().to_string()).to_string()))
}

/// 2 for bad input or usage, 1 for anything else that went wrong.
pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<BadInput>().is_some() || e.chain().any(|c| c.is::<BadInput>()) {
        2
    } else {
        1
    }
}

/// An error and its causes on one line (`outer: cause: cause`), each said
/// once. Many errors already quote their cause in their own message (`case
/// store: database: pool timed out`), and the chain as it is would repeat
/// it after them.
pub fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_quoted_by_its_error_is_said_once() {
        let sealing = writ_seal::SealError::Io {
            what: "cannot sync package",
            path: "p.age".into(),
            source: std::io::Error::other("disk on fire"),
        };
        let e = anyhow::Error::from(sealing).context("sealing case c-1");
        assert_eq!(
            message(&e),
            "sealing case c-1: cannot sync package `p.age`: disk on fire"
        );
        // What the chain alone would print.
        assert_eq!(
            format!("{e:#}"),
            "sealing case c-1: cannot sync package `p.age`: disk on fire: disk on fire"
        );
    }

    #[test]
    fn causes_not_quoted_are_kept_in_order() {
        let e = anyhow::anyhow!("connection refused")
            .context("cannot reach the server")
            .context("submitting order.json");
        assert_eq!(
            message(&e),
            "submitting order.json: cannot reach the server: connection refused"
        );
    }
}
