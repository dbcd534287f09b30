//! The witness's tests, in one binary: the protocol over real HTTP on
//! 127.0.0.1, against real logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod proofs;
mod protocol;
mod spec;
mod witnessed;
