//! The log's benchmarks (`docs/product.md`, "Performance targets"):
//!
//! - appends per second, batched and as concurrent single appends sharing
//!   group commits, durable (SQLite `synchronous=FULL`, files flushed);
//! - inclusion proof generation in trees of 1M and 10M entries, through
//!   the `Log` a server holds (tiles read from local disk);
//! - a full audit (`writ log verify --dir`) of the 10M-entry log in entries
//!   per second, beside the core's raw SHA-256 rate for the same work.
//!
//! The 10M-entry log is generated once into `WRIT_BENCH_DIR` (default: a
//! folder in the system's temp dir) and reused by later runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use writ_tlog::builder::TreeBuilder;
use writ_tlog::hash::{Hash, leaf_hash, leaf_hashes, node_hash, root_of};
use writ_tlog::storage::LocalDir;
use writ_tlog::trusted::{SqliteStore, StoredCheckpoint, TrustedStore as _};
use writ_tlog::verify::{DirFetch, verify_log};
use writ_tlog::{Checkpoint, Config, Log};

/// Entries about the size of a `decided` event with two commitments.
const ENTRY_SIZE: usize = 256;
const BIG: u64 = 10_000_000;

fn bench_entry(i: u64) -> Vec<u8> {
    let mut e = format!("{{\"i\":{i},\"pad\":\"").into_bytes();
    e.resize(ENTRY_SIZE - 2, b'x');
    e.extend_from_slice(b"\"}");
    e
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn appends(c: &mut Criterion) {
    let rt = runtime();
    let tmp = tempfile::tempdir().unwrap();
    let log = rt
        .block_on(Log::open_dir(tmp.path(), Config::default()))
        .unwrap();
    let mut g = c.benchmark_group("append");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for batch in [1_000u64, 10_000] {
        g.throughput(Throughput::Elements(batch));
        g.bench_with_input(BenchmarkId::new("batched", batch), &batch, |b, &batch| {
            let entries: Vec<Vec<u8>> = (0..batch).map(bench_entry).collect();
            b.iter(|| rt.block_on(log.append_batch(entries.clone())).unwrap());
        });
    }
    for clients in [1u64, 64, 512] {
        g.throughput(Throughput::Elements(clients));
        g.bench_with_input(
            BenchmarkId::new("concurrent_single", clients),
            &clients,
            |b, &clients| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut tasks = Vec::new();
                        for i in 0..clients {
                            let log = log.clone();
                            tasks.push(tokio::spawn(
                                async move { log.append(bench_entry(i)).await },
                            ));
                        }
                        for t in tasks {
                            t.await.unwrap().unwrap();
                        }
                    })
                });
            },
        );
    }
    g.finish();
    rt.block_on(log.close()).unwrap();
}

/// The 10M-entry log, generated once: tiles and bundles straight from the
/// tree builder (unflushed: it is test data), then a signed checkpoint in
/// the trusted store and in public, as the sequencer leaves them.
fn big_log(rt: &tokio::runtime::Runtime) -> PathBuf {
    let dir = std::env::var_os("WRIT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("writ-tlog-bench-10m"));
    let done = dir.join("complete");
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("generating a {BIG}-entry log in {} (once)", dir.display());
    let started = Instant::now();
    let objects = LocalDir::new(writ_tlog::objects_dir(&dir)).without_fsync();
    let mut builder = TreeBuilder::new();
    let chunk = 1u64 << 16;
    let mut i = 0;
    while i < BIG {
        let n = chunk.min(BIG - i);
        let entries: Vec<Vec<u8>> = (i..i + n).map(bench_entry).collect();
        let before = builder.size();
        let mut out = Vec::new();
        builder
            .push(entries.iter().map(Vec::as_slice), &mut |id, data| {
                out.push((id.path(), data))
            })
            .unwrap();
        out.extend(
            builder
                .partials(before)
                .into_iter()
                .map(|(id, d)| (id.path(), d)),
        );
        objects.put_once_blocking(&out).unwrap();
        i += n;
    }
    rt.block_on(async {
        let store = SqliteStore::open(&writ_tlog::database_path(&dir))
            .await
            .unwrap();
        let signer = writ_tlog::identity(&store, None, None).await.unwrap();
        let cp = Checkpoint::new(signer.name(), builder.size(), builder.root());
        let note = signer.sign(&cp.to_text()).unwrap();
        store
            .compare_and_swap(
                None,
                StoredCheckpoint {
                    size: cp.size,
                    root: cp.root,
                    note: note.clone(),
                },
            )
            .await
            .unwrap();
        objects.put_blocking("checkpoint", note.as_bytes()).unwrap();
    });
    std::fs::write(&done, b"").unwrap();
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
    dir
}

fn proofs(c: &mut Criterion) {
    let rt = runtime();
    let dir = big_log(&rt);
    let config = Config {
        period: Duration::from_secs(3600),
        ..Config::default()
    };
    let log = rt.block_on(Log::open_dir(&dir, config)).unwrap();
    let size = log.checkpoint().checkpoint.size;
    let mut g = c.benchmark_group("inclusion_proof");
    for tree in [1_000_000u64, size] {
        g.bench_with_input(BenchmarkId::from_parameter(tree), &tree, |b, &tree| {
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            b.iter(|| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let index = x % tree;
                black_box(rt.block_on(log.inclusion_proof(index, tree)).unwrap())
            });
        });
    }
    g.finish();
}

fn audit(c: &mut Criterion) {
    let rt = runtime();
    let dir = big_log(&rt);
    let log = rt
        .block_on(Log::open_dir(
            &dir,
            Config {
                period: Duration::from_secs(3600),
                ..Config::default()
            },
        ))
        .unwrap();
    let vkey = log.vkey().clone();
    let size = log.checkpoint().checkpoint.size;
    drop(log);
    let fetch = DirFetch(writ_tlog::objects_dir(&dir));

    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Elements(size));
    g.bench_function(BenchmarkId::new("verify_log", size), |b| {
        b.iter(|| verify_log(&fetch, &vkey, None, &mut |_, _| {}).unwrap())
    });
    g.finish();
}

/// The hashing an audit does, alone, on one core: a leaf hash of every entry
/// and an interior node per entry (a tree of n leaves has n - 1 nodes), one
/// at a time and then as the audit and the report do it (bundles of 256,
/// several hashes at once).
fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("sha256");
    let entries: Vec<Vec<u8>> = (0..4096).map(bench_entry).collect();
    // Entries of a real log differ in length: 200 to 455 bytes here.
    let varied: Vec<Vec<u8>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            e.resize(200 + i * 37 % 256, b'x');
            e
        })
        .collect();
    g.throughput(Throughput::Elements(entries.len() as u64));
    for (suffix, entries) in [("", &entries), ("_varied", &varied)] {
        g.bench_function(format!("leaf_and_node_per_entry{suffix}"), |b| {
            b.iter(|| {
                let mut acc = leaf_hash(b"");
                for e in entries {
                    let l = leaf_hash(e);
                    acc = node_hash(&acc, &l);
                }
                black_box(acc)
            })
        });
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        g.bench_function(format!("batched_per_bundle{suffix}"), |b| {
            let mut leaves = Vec::new();
            b.iter(|| {
                let roots: Vec<Hash> = slices
                    .chunks(256)
                    .map(|bundle| {
                        leaf_hashes(bundle, &mut leaves);
                        root_of(&leaves)
                    })
                    .collect();
                black_box(root_of(&roots))
            })
        });
    }
    let block = vec![0x5au8; 1 << 20];
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function("raw_1MiB", |b| {
        use sha2::Digest as _;
        b.iter(|| black_box(sha2::Sha256::digest(&block)))
    });
    g.finish();
}

criterion_group!(benches, hashing, appends, proofs, audit);
criterion_main!(benches);
