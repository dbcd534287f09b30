//! The log's tests, in one binary.

mod canonical;
mod common;
mod entry;
mod faults;
mod go;
mod kill;
mod log;
mod note;
mod proofs;
mod tiles;
