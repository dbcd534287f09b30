//! writ-connect tests.
