//! What taking a provider's record costs, one core: a line kept as sent
//! (`Json::line`: checked to be one JSON object, not rebuilt) against the
//! same line parsed into a `serde_json::Value` and written again, which is
//! what a connector that rebuilds values pays.
//!
//! The lines are demo records: message bodies (mostly base64 attachments)
//! and message headers. `cargo bench -p writ-connect --bench records`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use writ_connect::demo::{DemoData, bulk_account};
use writ_connect::{Connector, Json};
use writ_model::Category;

fn lines(account: &str, category: Category, bytes: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut total = 0;
    for r in DemoData.records(account, category, None).unwrap() {
        let line = r.unwrap().data.as_str().to_owned();
        total += line.len();
        out.push(line);
        if total >= bytes {
            break;
        }
    }
    out
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let big = bulk_account(64 * 1024 * 1024);
    for (name, lines) in [
        ("message bodies", lines(&big, Category::Content, 8 << 20)),
        ("message headers", lines(&big, Category::Traffic, 1 << 20)),
    ] {
        let bytes: usize = lines.iter().map(String::len).sum();
        let mut group = c.benchmark_group(format!("{name}, {} lines", lines.len()));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("kept as sent", |b| {
            b.iter(|| {
                for line in &lines {
                    black_box(Json::line(line).unwrap());
                }
            })
        });
        group.bench_function("parsed and written again", |b| {
            b.iter(|| {
                for line in &lines {
                    let value: serde_json::Value = serde_json::from_str(line).unwrap();
                    black_box(Json::of(&value).unwrap());
                }
            })
        });
        group.finish();
    }
}
