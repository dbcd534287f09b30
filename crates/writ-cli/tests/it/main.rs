//! The `writ` command, run as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agency;
mod bench;
mod cluster;
mod decide;
mod fetch;
mod log;
mod policy;
mod report;
mod serve;
mod ui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn writ(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
