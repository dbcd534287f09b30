//! What taking a provider's record costs, one core: a line kept as sent
//! (`Json::line`: checked to be one JSON object, not rebuilt) against the
//! same line parsed into a `serde_json::Value` and written again, which is
//! what a connector that rebuilds values pays.
//!
//! The lines are demo records: message bodies (mostly base64 attachments)
//! and message headers. Also what generating those records costs, and the
//! base64 encoders' share of it. `cargo bench -p writ-connect --bench records`.

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

    // Generating a demo account's message bodies, as a collection does.
    let generated: usize = lines(&big, Category::Content, 8 << 20)
        .iter()
        .map(String::len)
        .sum();
    let mut group = c.benchmark_group("generating message bodies");
    group.throughput(Throughput::Bytes(generated as u64));
    group.bench_function("demo records", |b| {
        b.iter(|| black_box(lines(&big, Category::Content, 8 << 20)))
    });
    group.finish();

    // What the demo's attachments spend on base64: 48 KiB at a time, the
    // vectorized encoder it uses against the `base64` crate's.
    let raw: Vec<u8> = (0..3 * 16 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut group = c.benchmark_group("base64 of 48 KiB");
    group.throughput(Throughput::Bytes(raw.len() as u64));
    group.bench_function("base64-simd", |b| {
        let mut out = String::with_capacity(raw.len() / 3 * 4);
        b.iter(|| {
            out.clear();
            base64_simd::STANDARD.encode_append(&raw, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("base64", |b| {
        use base64::Engine;
        let mut out = String::with_capacity(raw.len() / 3 * 4);
        b.iter(|| {
            out.clear();
            base64::engine::general_purpose::STANDARD.encode_string(&raw, &mut out);
            black_box(out.len())
        })
    });
    group.finish();

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
