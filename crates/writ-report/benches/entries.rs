//! What reading an entry for a report costs, one core: `Parser::parse`
//! (the lean reading of the public fields) against SHA-256 of the same
//! entries as leaves (`writ_tlog::hash::leaf_hashes`), which a report pays
//! for every entry too, and against `serde_json` reading the same fields
//! (`EntryView::parse`).
//!
//! The entries are shaped as `writ simulate` writes them: a case's
//! `received`, `decided` and `disclosed` or `preserved` entries, with two
//! to six commitments each. `cargo bench -p writ-report --bench entries`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use writ_events::EntryView;
use writ_report::{Period, Tally};

/// 64 hex digits that differ from entry to entry.
fn commitment(seed: u64) -> String {
    (0..4)
        .map(|i| {
            format!(
                "{:016x}",
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i * 13)
            )
        })
        .collect()
}

fn entries(cases: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for case in 0..cases {
        let id = format!("c-{:016x}", case.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let targets = 1 + case % 6;
        let commitments = |kind: u64| {
            let list: Vec<String> = (0..=targets)
                .map(|i| format!("\"{}\"", commitment(case * 31 + kind * 7 + i)))
                .collect();
            list.join(",")
        };
        let country = ["US", "DE", "BR", "GB", "IN"][(case % 5) as usize];
        let instrument = [
            "subpoena",
            "court_order",
            "search_warrant",
            "preservation_request",
        ][(case % 4) as usize];
        out.push(format!(
            r#"{{"case":"{id}","commitments":[{}],"hour":"2026-07-02T20:00:00Z","kind":"received","public":{{"country":"{country}","emergency":false,"gag":false,"instrument":"{instrument}","targets":{targets}}},"v":1}}"#,
            commitments(0)
        ));
        out.push(format!(
            r#"{{"case":"{id}","commitments":[{}],"hour":"2026-07-02T20:00:00Z","kind":"decided","public":{{"accounts":{targets},"accounts_abroad":0,"due_hour":"2026-07-12T20:00:00Z","granted":{{"subscriber":{targets}}},"on_time":true,"outcome":"approve","reasons":[]}},"v":1}}"#,
            commitments(1)
        ));
        out.push(if instrument == "preservation_request" {
            format!(
                r#"{{"case":"{id}","commitments":[{}],"hour":"2026-07-09T20:00:00Z","kind":"preserved","public":{{"accounts":{targets},"on_time":true,"until_day":"2026-10-07"}},"v":1}}"#,
                commitments(2)
            )
        } else {
            format!(
                r#"{{"case":"{id}","commitments":[{}],"hour":"2026-07-14T11:00:00Z","kind":"disclosed","public":{{"disclosed":{{"subscriber":{targets}}},"on_time":false}},"v":1}}"#,
                commitments(2)
            )
        });
    }
    out.into_iter().map(String::into_bytes).collect()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let entries = entries(1000);
    let bytes: usize = entries.iter().map(Vec::len).sum();
    let parser = Tally::new(Period::parse("2026-H2").unwrap()).parser();
    // Every entry must read, or the benchmark measures the error path.
    for (i, e) in entries.iter().enumerate() {
        parser.parse(i as u64, e).unwrap();
    }
    let mut group = c.benchmark_group(format!("{} entries", entries.len()));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("Parser::parse", |b| {
        b.iter(|| {
            for (i, e) in entries.iter().enumerate() {
                black_box(parser.parse(i as u64, e).unwrap());
            }
        })
    });
    group.bench_function("leaf hashes (SHA-256)", |b| {
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let mut out = Vec::with_capacity(slices.len());
        b.iter(|| {
            writ_tlog::hash::leaf_hashes(black_box(&slices), &mut out);
            black_box(&out);
        })
    });
    group.bench_function("serde_json (EntryView::parse)", |b| {
        b.iter(|| {
            for e in &entries {
                black_box(EntryView::parse(e).unwrap());
            }
        })
    });
    group.finish();
    c.final_summary();
}
