//! writ-report's tests: figures of a hand-checked log, the three forms, and
//! verification against a log written to a folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod figures;
mod verify;

use writ_report::{Figures, Period, Tally};

/// The hand-checked log of `data/small-log.ndjson`, one canonical entry a
/// line; `figures.rs` tells its cases.
pub fn small_log() -> Vec<Vec<u8>> {
    include_str!("data/small-log.ndjson")
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

/// `n` restricted entries of one unit and period, as a batch pads them.
pub fn restricted(unit: &str, period: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let commitment = format!("{i:064x}");
            format!(
                r#"{{"commitment":"{commitment}","kind":"restricted","period":"{period}","unit":"{unit}","v":1}}"#
            )
            .into_bytes()
        })
        .collect()
}

pub fn tally(entries: &[Vec<u8>], period: &str) -> Figures {
    let mut t = Tally::new(Period::parse(period).unwrap());
    for e in entries {
        t.push(e).unwrap();
    }
    t.finish()
}
