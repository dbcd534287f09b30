//! Integration tests of writ-report.
