//! The `writ` command's tests, in one binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod log;
