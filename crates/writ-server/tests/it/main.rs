//! The server, driven in-process through its real router (and once over a
//! real socket).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod authz;
mod bad_input;
mod corpus;
mod hardening;
mod lifecycle;
mod mailbox;
mod notice;
mod pages;
mod socket;
mod support;
mod transparency;
