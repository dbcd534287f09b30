//! The signed report (`docs/formats.md`, "Transparency report").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use writ_tlog::{NoteSigner, NoteVerifier};

use crate::{Figures, ReportError};

/// The report format version.
pub const REPORT_VERSION: u64 = 1;

/// What the signed bytes start with, so that a report signature can never
/// read as a checkpoint signature.
pub const SIGNATURE_CONTEXT: &[u8] = b"writ-report-v1\n";

/// The checkpoint a report covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRef {
    pub origin: String,
    pub size: u64,
    /// The root hash, base64 as in the checkpoint.
    pub root: String,
}

/// A transparency report: `{"v", "period", "checkpoint", "figures", "signature"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub v: u64,
    pub period: String,
    pub checkpoint: CheckpointRef,
    pub figures: Figures,
    /// The log key's Ed25519 signature (base64); `None` before signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Report {
    /// An unsigned report.
    pub fn new(period: &str, checkpoint: CheckpointRef, figures: Figures) -> Self {
        Report {
            v: REPORT_VERSION,
            period: period.to_owned(),
            checkpoint,
            figures,
            signature: None,
        }
    }

    /// The bytes the signature covers: the context line, then the canonical
    /// JSON (RFC 8785) of the report without `signature`.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, ReportError> {
        let mut value =
            serde_json::to_value(self).map_err(|e| ReportError::Malformed(e.to_string()))?;
        if let Value::Object(m) = &mut value {
            m.remove("signature");
        }
        let mut bytes = SIGNATURE_CONTEXT.to_vec();
        bytes.extend(writ_events::canonical::to_vec(&value));
        Ok(bytes)
    }

    /// Signs with the log key.
    pub fn sign(mut self, signer: &NoteSigner) -> Result<Self, ReportError> {
        self.signature = None;
        let signature = signer.sign_detached(&self.signed_bytes()?);
        self.signature = Some(BASE64.encode(signature));
        Ok(self)
    }

    /// Checks the version, the origin and the signature against the log's
    /// verifier key.
    pub fn verify_signature(&self, vkey: &NoteVerifier) -> Result<(), ReportError> {
        if self.v != REPORT_VERSION {
            return Err(ReportError::Malformed(format!(
                "unsupported version {}",
                self.v
            )));
        }
        if self.checkpoint.origin != vkey.name() {
            return Err(ReportError::Origin {
                expected: vkey.name().to_owned(),
                found: self.checkpoint.origin.clone(),
            });
        }
        let signature = self
            .signature
            .as_deref()
            .ok_or_else(|| ReportError::Malformed("no `signature`".into()))?;
        let signature = BASE64
            .decode(signature)
            .map_err(|_| ReportError::BadSignature)?;
        vkey.verify_detached(&self.signed_bytes()?, &signature)
            .map_err(|_| ReportError::BadSignature)
    }

    /// The report as pretty JSON, as `writ report --format json` writes it.
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| ReportError::Malformed(e.to_string()))
    }

    /// Checks that figures recomputed from the log are the report's, and
    /// names the first figure that differs.
    pub fn check_figures(&self, recomputed: &Figures) -> Result<(), ReportError> {
        if &self.figures == recomputed {
            return Ok(());
        }
        let a = serde_json::to_value(&self.figures)
            .map_err(|e| ReportError::Malformed(e.to_string()))?;
        let b =
            serde_json::to_value(recomputed).map_err(|e| ReportError::Malformed(e.to_string()))?;
        let (path, reported, recomputed) = first_difference("figures", &a, &b)
            .unwrap_or_else(|| ("figures".into(), "different".into(), "different".into()));
        Err(ReportError::FigureMismatch {
            path,
            reported,
            recomputed,
        })
    }
}

/// The path and both values of the first place where two JSON values differ.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<(String, String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(&p, va, vb) {
                            return Some(d);
                        }
                    }
                    None => return Some((p, va.to_string(), "absent".into())),
                }
            }
            y.iter()
                .find(|(k, _)| !x.contains_key(*k))
                .map(|(k, vb)| (format!("{path}.{k}"), "absent".into(), vb.to_string()))
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), va, vb) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| {
                (
                    format!("{path}.length"),
                    x.len().to_string(),
                    y.len().to_string(),
                )
            })
        }
        _ => (a != b).then(|| (path.to_owned(), a.to_string(), b.to_string())),
    }
}
