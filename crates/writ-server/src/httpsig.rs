//! HTTP Message Signatures (RFC 9421) with Ed25519, over `@method`, `@path`,
//! `content-digest` (RFC 9530, `sha-256`) and the `created` parameter.
//!
//! Agencies sign every request:
//!
//! ```text
//! Content-Digest: sha-256=:<base64 of SHA-256 of the body>:
//! Signature-Input: sig1=("@method" "@path" "content-digest");created=1764331200;keyid="us-fbi-wfo:0123456789abcdef";alg="ed25519";nonce="..."
//! Signature: sig1=:<base64 of the Ed25519 signature over the signature base>:
//! ```
//!
//! The signature base is RFC 9421, section 2.5: one line per covered
//! component, then `"@signature-params"`, joined by newlines.
//!
//! Every header and parameter has a length limit ([`MAX_SIGNATURE_INPUT`],
//! [`MAX_PARAM`], ...): longer ones are refused before anything is kept, so
//! that a client cannot grow the server's memory or the nonce table.
//!
//! Ed25519 verification is strict ([`verify_ed25519`]): the signature's
//! `R` and the public key `A` must be canonical encodings of points that
//! are not of small order, and `S` must be reduced; the check is the
//! cofactorless equation. Of the C2SP edge-case vectors
//! (`ed25519vectors.json`) it accepts exactly those whose only flags are
//! `low_order_component_A` or `low_order_component_R` (a point with both a
//! prime-order and a small-order part, which no blocklist can tell). Agency
//! request signatures, portal sign-ins and the log's checkpoints are checked
//! the same way.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The components every agency signature covers.
pub const COMPONENTS: [&str; 3] = ["@method", "@path", "content-digest"];

/// How far a signature's `created` may be from the server's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// The longest `Signature-Input` header accepted, in bytes.
pub const MAX_SIGNATURE_INPUT: usize = 1024;
/// The longest `Signature` header accepted (one Ed25519 signature is 88
/// characters of base64).
pub const MAX_SIGNATURE: usize = 256;
/// The longest `Content-Digest` header accepted (a SHA-256 is 44
/// characters of base64).
pub const MAX_CONTENT_DIGEST: usize = 256;
/// The longest signature label and parameter value (`keyid`, `nonce`,
/// `alg`, `created`) accepted.
pub const MAX_PARAM: usize = 128;

/// Checks an Ed25519 signature the strict way (RFC 8032 with small-order
/// points refused; `ed25519-dalek`'s `verify_strict`). Every Ed25519 check
/// of Writ's server goes through here.
pub fn verify_ed25519(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify_strict(message, signature).is_ok()
}

/// Why a signature was refused. The messages are safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("missing `{0}` header")]
    Missing(&'static str),
    #[error("malformed `{0}` header")]
    Malformed(&'static str),
    #[error("`{0}` is longer than {1} bytes")]
    TooLong(&'static str, usize),
    #[error("the signature must cover \"@method\", \"@path\" and \"content-digest\"")]
    Coverage,
    #[error("`content-digest` does not match the body")]
    Digest,
    #[error("signature created too far from the server's time (more than 5 minutes)")]
    Stale,
    #[error("unknown or revoked key")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("signature or nonce already used")]
    Replayed,
}

/// The `Content-Digest` value of a body.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(Sha256::digest(body)))
}

/// The headers a signer adds: `(content-digest, signature-input, signature)`.
pub fn sign(
    key: &SigningKey,
    key_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
    created: i64,
    nonce: &str,
) -> (String, String, String) {
    let digest = content_digest(body);
    let params = format!(
        "(\"@method\" \"@path\" \"content-digest\");created={created};keyid=\"{key_id}\";alg=\"ed25519\";nonce=\"{nonce}\""
    );
    let base = signature_base(method, path, &digest, &params);
    let signature = key.sign(base.as_bytes());
    (
        digest,
        format!("sig1={params}"),
        format!("sig1=:{}:", B64.encode(signature.to_bytes())),
    )
}

fn signature_base(method: &str, path: &str, digest: &str, params: &str) -> String {
    format!(
        "\"@method\": {method}\n\"@path\": {path}\n\"content-digest\": {digest}\n\"@signature-params\": {params}"
    )
}

/// A signature that parsed, before its key is known.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub key_id: String,
    pub created: i64,
    pub nonce: Option<String>,
    params: String,
    signature: Signature,
    digest: String,
}

impl Parsed {
    /// What marks this signature as used: a SHA-256 over its key id and
    /// nonce, else its bytes (the same size whatever the client sent).
    pub fn replay_key(&self) -> String {
        let text = match &self.nonce {
            Some(n) => format!("writ-api-nonce\n{}\nn\n{n}", self.key_id),
            None => format!(
                "writ-api-nonce\n{}\ns\n{}",
                self.key_id,
                B64.encode(self.signature.to_bytes())
            ),
        };
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// Until when this signature could be accepted: past that it is stale,
    /// and its nonce need not be remembered.
    pub fn replay_expiry(&self) -> i64 {
        self.created + MAX_SKEW_SECONDS + 1
    }

    /// Checks the signature against the key; `method` and `path` as the
    /// server received them.
    pub fn verify(&self, key: &VerifyingKey, method: &str, path: &str) -> Result<(), SigError> {
        let base = signature_base(method, path, &self.digest, &self.params);
        if verify_ed25519(key, base.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(SigError::BadSignature)
        }
    }
}

/// Reads the signature headers, checks coverage, the body digest and the
/// clock. The key and replay checks follow, by the caller.
pub fn parse(
    signature_input: Option<&str>,
    signature: Option<&str>,
    content_digest_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Parsed, SigError> {
    let input = signature_input.ok_or(SigError::Missing("signature-input"))?;
    let sig = signature.ok_or(SigError::Missing("signature"))?;
    let digest = content_digest_header.ok_or(SigError::Missing("content-digest"))?;
    for (name, value, max) in [
        ("signature-input", input, MAX_SIGNATURE_INPUT),
        ("signature", sig, MAX_SIGNATURE),
        ("content-digest", digest, MAX_CONTENT_DIGEST),
    ] {
        if value.len() > max {
            return Err(SigError::TooLong(name, max));
        }
    }

    // Signature-Input: label=(components);params — the first member only.
    let (label, rest) = input
        .split_once('=')
        .ok_or(SigError::Malformed("signature-input"))?;
    let label = label.trim();
    if label.len() > MAX_PARAM {
        return Err(SigError::TooLong("label", MAX_PARAM));
    }
    let rest = rest.trim();
    let rest = rest.split(", ").next().unwrap_or(rest);
    let close = rest
        .find(')')
        .ok_or(SigError::Malformed("signature-input"))?;
    if !rest.starts_with('(') {
        return Err(SigError::Malformed("signature-input"));
    }
    let components: Vec<&str> = rest[1..close]
        .split_whitespace()
        .map(|c| c.trim_matches('"'))
        .collect();
    if components != COMPONENTS {
        return Err(SigError::Coverage);
    }
    let mut created = None;
    let mut key_id = None;
    let mut nonce = None;
    let mut alg_ok = true;
    for param in rest[close + 1..].split(';').filter(|p| !p.is_empty()) {
        let (k, v) = param
            .split_once('=')
            .ok_or(SigError::Malformed("signature-input"))?;
        let unquoted = v.trim_matches('"');
        if v.len() > MAX_PARAM {
            return Err(SigError::TooLong(
                match k {
                    "keyid" => "keyid",
                    "nonce" => "nonce",
                    "created" => "created",
                    "alg" => "alg",
                    _ => "signature parameter",
                },
                MAX_PARAM,
            ));
        }
        match k {
            "created" => {
                created = Some(
                    v.parse::<i64>()
                        .map_err(|_| SigError::Malformed("signature-input"))?,
                )
            }
            "keyid" => key_id = Some(unquoted.to_owned()),
            "nonce" => nonce = Some(unquoted.to_owned()),
            "alg" => alg_ok = unquoted == "ed25519",
            _ => {}
        }
    }
    if !alg_ok {
        return Err(SigError::Malformed("signature-input"));
    }
    let created = created.ok_or(SigError::Malformed("signature-input"))?;
    let key_id = key_id.ok_or(SigError::Malformed("signature-input"))?;

    // Signature: label=:base64:
    let sig_value = sig
        .split(", ")
        .find_map(|m| m.trim().strip_prefix(&format!("{label}=")))
        .ok_or(SigError::Malformed("signature"))?;
    let b64 = sig_value
        .strip_prefix(':')
        .and_then(|s| s.strip_suffix(':'))
        .ok_or(SigError::Malformed("signature"))?;
    let bytes: [u8; 64] = B64
        .decode(b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SigError::Malformed("signature"))?;

    if digest.trim() != content_digest(body) {
        return Err(SigError::Digest);
    }
    if (now - created).abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Stale);
    }
    Ok(Parsed {
        key_id,
        created,
        nonce,
        params: rest.to_owned(),
        signature: Signature::from_bytes(&bytes),
        digest: digest.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let (d, i, s) = sign(&key, "k1", "POST", "/v1/orders", b"{}", 1000, "n1");
        let p = parse(Some(&i), Some(&s), Some(&d), b"{}", 1010).unwrap();
        assert_eq!(p.key_id, "k1");
        p.verify(&key.verifying_key(), "POST", "/v1/orders")
            .unwrap();
        assert_eq!(
            p.verify(&key.verifying_key(), "POST", "/v1/cases"),
            Err(SigError::BadSignature)
        );
        assert_eq!(
            parse(Some(&i), Some(&s), Some(&d), b"{ }", 1010).unwrap_err(),
            SigError::Digest
        );
        assert_eq!(
            parse(Some(&i), Some(&s), Some(&d), b"{}", 1000 + 301).unwrap_err(),
            SigError::Stale
        );
    }
}
