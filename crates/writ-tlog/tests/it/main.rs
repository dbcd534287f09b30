//! The log's tests, in one binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod faults;
mod go;
mod kill;
mod large;
mod log;
mod note;
mod pg;
mod proofs;
mod s3;
mod tiles;
