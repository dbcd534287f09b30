//! The agency portal's sign-in, sessions and read models (docs/http.md,
//! "Agency portal").
//!
//! An officer signs in by signing a one-time challenge with one of the
//! agency's registered request-signing keys. What the key signs is
//! domain-separated ([`crate::auth::portal_sign_in_message`]): a context line,
//! then the challenge, which no API signature base can equal.
//!
//! A challenge is stateless, so that an anonymous visitor writes nothing: a
//! random id and an expiry, with an HMAC-SHA-256 over both under a key that
//! every server of the deployment reads from the case store. It is good once:
//! the id of a redeemed challenge is recorded (until the challenge expires)
//! as a used nonce, only after the signature has verified, so nobody can
//! spend an officer's challenge for them. Sessions live in the case store
//! too (only the SHA-256 of their secret), so that with several servers
//! behind a load balancer any of them can answer any step; a suspension ends
//! the agency's sessions at their next request.

use base64::Engine as _;
use hmac::Mac as _;
use sha2::Digest as _;
use writ_store::PackageRow;

use crate::auth::{PORTAL_CHALLENGE_PREFIX, portal_sign_in_message};
use crate::intake::CaseView;
use crate::{Gateway, GatewayError, Result};

/// How long a challenge may be redeemed, in seconds.
pub const CHALLENGE_SECONDS: i64 = 600;
/// How long a portal session lasts, in seconds.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// The case store's `meta` key of the challenges' MAC key.
const CHALLENGE_KEY: &str = "portal_challenge_key";

/// One of the agency's cases as the portal shows it: the case and its
/// current package, if any.
#[derive(Debug, Clone)]
pub struct PortalCase {
    pub case: CaseView,
    pub package: Option<PackageRow>,
}

/// A session that a portal page was opened with.
#[derive(Debug, Clone)]
pub struct PortalSession {
    /// The agency signed in.
    pub agency: String,
    /// The officer signed in, when an officer opened the session (rather
    /// than the agency's key).
    pub officer: Option<writ_store::OfficerRow>,
    /// The session's secret (what the cookie holds).
    pub secret: String,
}

/// The challenge's MAC (`None` never happens: HMAC takes any key length).
fn challenge_mac(key: &[u8; 32], id: &str, expires: i64) -> Option<hmac::Hmac<sha2::Sha256>> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).ok()?;
    mac.update(format!("writ-portal-challenge-v1\n{id}\n{expires}").as_bytes());
    Some(mac)
}

/// A challenge this deployment issued and that has not expired: its id and
/// expiry. The MAC is compared in constant time.
pub fn check_challenge(key: &[u8; 32], challenge: &str, now: i64) -> Option<(String, i64)> {
    let rest = challenge.strip_prefix(PORTAL_CHALLENGE_PREFIX)?;
    let mut parts = rest.split('.');
    let (id, expires, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || id.len() != 32 {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    let tag = hex::decode(tag).ok()?;
    challenge_mac(key, id, expires)?.verify_slice(&tag).ok()?;
    (now < expires && expires <= now + CHALLENGE_SECONDS).then(|| (id.to_owned(), expires))
}

/// Whether `signature` (base64 Ed25519, as the sign-in form sends it) signs
/// the sign-in message of `challenge` under one of `keys`.
pub fn signed_by_any(
    challenge: &str,
    signature: &str,
    mut keys: impl Iterator<Item = ed25519_dalek::VerifyingKey>,
) -> bool {
    let Some(sig) = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .ok()
        .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
    else {
        return false;
    };
    let message = portal_sign_in_message(challenge);
    keys.any(|k| k.verify_strict(message.as_bytes(), &sig).is_ok())
}

/// What the store keeps of a redeemed challenge: a hash of its id, apart
/// from the API's nonces by its context.
fn redeemed_key(id: &str) -> String {
    hex::encode(sha2::Sha256::digest(
        format!("writ-portal-challenge-redeemed\n{id}").as_bytes(),
    ))
}

/// What the store keeps of a session's secret: its SHA-256, so that a copy
/// of the database does not sign anyone in.
pub(crate) fn secret_hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

impl Gateway {
    /// The deployment's challenge MAC key: created once by the first server
    /// that needs it (the first writer wins), read by every other.
    pub async fn portal_challenge_key(&self) -> Result<[u8; 32]> {
        let key = self
            .inner
            .portal_key
            .get_or_try_init(|| async {
                let fresh = hex::encode(crate::random_bytes::<32>()?);
                let stored = self
                    .store()
                    .meta_insert_if_absent(CHALLENGE_KEY, &fresh)
                    .await?;
                hex::decode(&stored)
                    .ok()
                    .and_then(|k| <[u8; 32]>::try_from(k).ok())
                    .ok_or_else(|| GatewayError::Internal("corrupt portal challenge key".into()))
            })
            .await?;
        Ok(*key)
    }

    /// Issues a challenge, valid once for ten minutes on any server; stores
    /// nothing.
    pub async fn portal_challenge(&self, now: i64) -> Result<String> {
        let key = self.portal_challenge_key().await?;
        let id = hex::encode(crate::random_bytes::<16>()?);
        let expires = now + CHALLENGE_SECONDS;
        let mac = challenge_mac(&key, &id, expires)
            .ok_or_else(|| GatewayError::Internal("challenge key".into()))?;
        let tag = hex::encode(mac.finalize().into_bytes());
        Ok(format!("{PORTAL_CHALLENGE_PREFIX}{id}.{expires}.{tag}"))
    }

    /// Signs an officer in: the challenge must be one this deployment issued
    /// and not yet redeemed, the signature (base64 Ed25519, strict) by one of
    /// the agency's keys that is not revoked, and the agency one that may be
    /// served. Returns the new session's secret, or `None` when any of that
    /// fails (the caller is told nothing more).
    pub async fn portal_sign_in(
        &self,
        agency: &str,
        challenge: &str,
        signature: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let key = self.portal_challenge_key().await?;
        let Some((id, expires)) = check_challenge(&key, challenge, now) else {
            return Ok(None);
        };
        let keys = self.store().agency_keys(agency).await?;
        let ok = signed_by_any(
            challenge,
            signature,
            keys.iter()
                .filter(|k| k.revoked_at.is_none())
                .filter_map(|k| crate::registry::parse_public_key(&k.public_key).ok()),
        );
        if !ok || !self.agency_may_be_served(agency).await? {
            return Ok(None);
        }
        // Single use, on every server: the first redemption records the id.
        if !self
            .store()
            .use_nonce(&redeemed_key(&id), expires, now)
            .await?
        {
            return Ok(None);
        }
        let secret = hex::encode(crate::random_bytes::<32>()?);
        self.store()
            .open_portal_session(
                &secret_hash(&secret),
                agency,
                None,
                now + SESSION_SECONDS,
                now,
            )
            .await?;
        Ok(Some(secret))
    }

    /// The session a secret opens, if it is live and its agency may still be
    /// served (a suspension ends the agency's sessions at its next request,
    /// on every server).
    pub async fn portal_session(&self, secret: &str, now: i64) -> Result<Option<PortalSession>> {
        let Some((agency, officer)) = self
            .store()
            .portal_session(&secret_hash(secret), now)
            .await?
        else {
            return Ok(None);
        };
        if !self.agency_may_be_served(&agency).await? {
            return Ok(None);
        }
        let officer = match officer {
            None => None,
            // A removed officer's sessions end with it; checked again here.
            Some(id) => match self.store().officer(&id).await? {
                Some(o) if o.removed_at.is_none() && o.agency_id == agency => Some(o),
                _ => return Ok(None),
            },
        };
        Ok(Some(PortalSession {
            agency,
            officer,
            secret: secret.to_owned(),
        }))
    }

    /// Ends a portal session.
    pub async fn portal_sign_out(&self, secret: &str) -> Result<()> {
        Ok(self
            .store()
            .close_portal_session(&secret_hash(secret))
            .await?)
    }

    /// The current packages of some of the agency's cases (as
    /// [`Gateway::agency_cases`] listed them), in the same order.
    pub async fn portal_packages(&self, cases: &[CaseView]) -> Result<Vec<Option<PackageRow>>> {
        let mut out = Vec::with_capacity(cases.len());
        for c in cases {
            out.push(self.store().package(&c.case).await?);
        }
        Ok(out)
    }

    /// One of the agency's own cases with its package; another agency's case
    /// is "not found".
    pub async fn portal_case(&self, agency: &str, case_id: &str) -> Result<PortalCase> {
        let case = self.agency_case(agency, case_id).await?;
        let package = self.store().package(case_id).await?;
        Ok(PortalCase { case, package })
    }

    /// Records a signed request's nonce until `expires`; `false` if it was
    /// seen before (a replay), on any server of the deployment.
    pub async fn use_nonce(&self, key: &str, expires: i64, now: i64) -> Result<bool> {
        Ok(self.store().use_nonce(key, expires, now).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_verifies_only_under_its_key_and_before_it_expires() {
        let key = [7u8; 32];
        let id = "0123456789abcdef0123456789abcdef";
        let expires = 1_000 + CHALLENGE_SECONDS;
        let tag = hex::encode(
            challenge_mac(&key, id, expires)
                .unwrap()
                .finalize()
                .into_bytes(),
        );
        let challenge = format!("{PORTAL_CHALLENGE_PREFIX}{id}.{expires}.{tag}");
        assert_eq!(
            check_challenge(&key, &challenge, 1_000),
            Some((id.to_owned(), expires))
        );
        assert_eq!(check_challenge(&[8u8; 32], &challenge, 1_000), None);
        assert_eq!(check_challenge(&key, &challenge, expires), None);
        // An expiry further out than a challenge lives was never issued.
        assert_eq!(check_challenge(&key, &challenge, 0), None);
        let forged = challenge.replace(&expires.to_string(), &(expires + 1).to_string());
        assert_eq!(check_challenge(&key, &forged, 1_000), None);
    }
}
