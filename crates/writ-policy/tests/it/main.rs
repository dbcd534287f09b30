//! Tests of the policy engine: the corpora, parsing, packs, and properties.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus;
mod docs;
mod generative;
mod pack;
mod parsing;
mod properties;

use std::path::PathBuf;

/// The repository's `corpus/` folder.
pub fn corpus_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(sub)
}

/// A well-formed case file of the corpus, as JSON, for tests to change.
pub fn sample_case() -> serde_json::Value {
    let path = corpus_dir("public").join("001-us-subpoena-subscriber.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn default_pack() -> &'static writ_policy::Pack {
    static PACK: std::sync::OnceLock<writ_policy::Pack> = std::sync::OnceLock::new();
    PACK.get_or_init(|| writ_policy::Pack::embedded().unwrap())
}
