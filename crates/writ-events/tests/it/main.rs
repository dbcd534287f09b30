//! The event model's tests, in one binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod canonical;
mod entry;
