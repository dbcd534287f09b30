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
