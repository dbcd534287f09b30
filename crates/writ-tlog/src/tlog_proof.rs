//! Offline proofs of inclusion (c2sp.org/tlog-proof): an entry's index, its
//! inclusion proof and the (cosigned) checkpoint, in one text that verifies
//! without reaching the log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the entry's bytes>
//! index <n>
//! <inclusion proof hashes, one per line, base64>
//!
//! <the checkpoint, verbatim, with its signatures>
//! ```
//!
//! Writ puts the logged entry itself in the `extra` line: the verifier
//! hashes it to get the leaf, and then reads it (its case, kind and
//! commitments) knowing that those are the bytes the log holds.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::cosignature::{PolicyError, WitnessPolicy, parse_decimal};
use crate::hash::{Hash, leaf_hash};
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::tree::{ProofError, verify_inclusion};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Why a proof is malformed or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Witnesses(#[from] PolicyError),
    #[error("entry {index} is not in the checkpoint's tree: {source}")]
    NotIncluded { index: u64, source: ProofError },
    #[error("the proof carries no entry bytes (no `extra` line)")]
    NoEntry,
}

/// A tlog-proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque data; Writ's proofs carry the entry's bytes here.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The checkpoint note, with its signatures.
    pub checkpoint: String,
}

impl TlogProof {
    /// The proof's text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Reads a proof's text.
    pub fn parse(text: &str) -> Result<Self, TlogProofError> {
        let bad = TlogProofError::Malformed;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line must be `c2sp.org/tlog-proof@v1`"));
        }
        let mut extra = None;
        if let Some(e) = lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(
                BASE64
                    .decode(e)
                    .map_err(|_| bad("the extra line is not base64"))?,
            );
            lines.next();
        }
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .and_then(parse_decimal)
            .ok_or(bad("missing `index <n>` line"))?;
        let proof = lines
            .map(|l| Hash::from_base64(l).map_err(|_| bad("a proof line is not a base64 hash")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies the proof offline: the checkpoint is signed by the log (and
    /// cosigned by a quorum of the policy's witnesses, when given), and the
    /// entry in `extra` is in its tree at `index`. Returns the checkpoint
    /// and the entry's bytes.
    pub fn verify(
        &self,
        log: &NoteVerifier,
        witnesses: Option<&WitnessPolicy>,
    ) -> Result<(Checkpoint, &[u8]), TlogProofError> {
        let checkpoint = match witnesses {
            Some(policy) => policy.open_checkpoint(log, &self.checkpoint)?.0,
            None => log.open_checkpoint(&self.checkpoint)?,
        };
        let entry = self.extra.as_deref().ok_or(TlogProofError::NoEntry)?;
        verify_inclusion(
            &leaf_hash(entry),
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )
        .map_err(|source| TlogProofError::NotIncluded {
            index: self.index,
            source,
        })?;
        Ok((checkpoint, entry))
    }
}
