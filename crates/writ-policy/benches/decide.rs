//! Decision latency: a 1-target and a 10-target order.
//!
//! `cargo bench -p writ-policy` runs criterion (mean and median with
//! confidence intervals), then times 20,000 single decisions of each order
//! to report the median, the 99th percentile and decisions per second on one
//! core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use serde_json::json;
use writ_model::{DecisionInput, parse};
use writ_policy::{Pack, decide};

fn input(targets: usize, categories: &[&str]) -> DecisionInput {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/public/006-us-warrant-content.json"
    );
    let mut case: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let accounts = case["accounts"].as_array_mut().unwrap();
    for i in 0..200 {
        accounts.push(json!({
            "id": format!("acct-bench-{i}"),
            "identifiers": [{"kind": "email", "value": format!("user{i}@example.com")}],
            "data_location": if i % 7 == 0 { "IE" } else { "US" },
            "holder": {"us_person": true, "located_in": "US"},
            "status": "active"
        }));
    }
    case["order"]["targets"] = (0..targets)
        .map(|i| json!({"kind": "email", "value": format!("user{}@example.com", i * 13)}))
        .collect();
    case["order"]["categories"] = json!(categories);
    parse::case_file(case.to_string().as_bytes())
        .unwrap()
        .input()
}

fn percentiles(pack: &Pack, name: &str, input: &DecisionInput) {
    const N: usize = 20_000;
    let mut samples = Vec::with_capacity(N);
    for _ in 0..200 {
        black_box(decide(pack, input));
    }
    let start = Instant::now();
    for _ in 0..N {
        let t = Instant::now();
        black_box(decide(pack, black_box(input)));
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    samples.sort_unstable();
    let at = |q: f64| samples[((N as f64 * q) as usize).min(N - 1)];
    println!(
        "{name}: median {:.1} µs, p99 {:.1} µs, max {:.1} µs, {:.0} decisions/s on one core",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        samples[N - 1].as_secs_f64() * 1e6,
        N as f64 / total.as_secs_f64()
    );
}

fn main() {
    let pack = Pack::embedded().unwrap();
    let all = ["subscriber", "traffic", "content"];
    let one = input(1, &all);
    let ten = input(10, &all);
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("decide");
    group.bench_function("1-target", |b| b.iter(|| decide(&pack, black_box(&one))));
    group.bench_function("10-targets", |b| b.iter(|| decide(&pack, black_box(&ten))));
    group.finish();
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        let mut refused = input(1, &["subscriber"]);
        refused.order.assistance = vec!["provide_keys".into()];
        percentiles(&pack, "refused order (order-level rules only)", &refused);
        percentiles(
            &pack,
            "1-target order (1 category)",
            &input(1, &["subscriber"]),
        );
        percentiles(&pack, "1-target order (3 categories)", &one);
        percentiles(&pack, "10-target order (30 pairs)", &ten);
    }
}
