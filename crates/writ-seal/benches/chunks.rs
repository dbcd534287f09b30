//! The per-byte costs of sealing, one core: a 64 KiB STREAM chunk
//! encrypted with the cipher sealing uses (`ring`'s ChaCha20-Poly1305,
//! through `agev1::encrypt_chunk`) and with RustCrypto's (the header's
//! wrap), and the SHA-256 of a chunk (the package's hash), with `sha2` (what
//! sealing uses) and with `ring`.
//!
//! `cargo bench -p writ-seal --bench chunks` reports each as time per chunk
//! and throughput.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use criterion::{Criterion, Throughput};
use sha2::Digest;
use writ_seal::agev1::{CHUNK, encrypt_chunk, payload_cipher};
use zeroize::Zeroizing;

fn main() {
    let key = Zeroizing::new([7u8; 32]);
    let ring = payload_cipher(&key).unwrap();
    let rust_crypto =
        chacha20poly1305::ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key.as_slice()));
    let mut chunk = vec![0x5au8; CHUNK];
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("64 KiB chunk");
    group.throughput(Throughput::Bytes(CHUNK as u64));
    let mut counter = 0u64;
    group.bench_function("ChaCha20-Poly1305, ring (sealing)", |b| {
        b.iter(|| {
            counter += 1;
            black_box(encrypt_chunk(&ring, counter, false, &mut chunk).unwrap())
        })
    });
    group.bench_function("ChaCha20-Poly1305, RustCrypto", |b| {
        b.iter(|| {
            counter += 1;
            let mut nonce = [0u8; 12];
            nonce[3..11].copy_from_slice(&counter.to_be_bytes());
            black_box(
                rust_crypto
                    .encrypt_in_place_detached(
                        chacha20poly1305::Nonce::from_slice(&nonce),
                        b"",
                        &mut chunk,
                    )
                    .unwrap(),
            )
        })
    });
    group.bench_function("SHA-256", |b| {
        b.iter(|| black_box(sha2::Sha256::digest(black_box(&chunk))))
    });
    group.bench_function("SHA-256, ring", |b| {
        b.iter(|| {
            black_box(ring::digest::digest(
                &ring::digest::SHA256,
                black_box(&chunk),
            ))
        })
    });
    group.finish();
    c.final_summary();
}
