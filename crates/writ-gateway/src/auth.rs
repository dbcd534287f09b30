//! Console users: Argon2id password hashes, a TOTP second factor (RFC 6238)
//! and personal access tokens, stored only as their SHA-256.
//!
//! Sign-in is throttled per user name: after [`MAX_FAILED_SIGN_INS`]
//! failures within [`THROTTLE_WINDOW_SECONDS`], `login` refuses the name,
//! right password or not, until the oldest of them leaves the window. The
//! failures are rows of the case store, so that every server counts them
//! alike, and names that exist are counted like names that do not.
//!
//! The attempt is recorded before the password is checked (in one
//! transaction with the count), so parallel guesses cannot all slip through
//! a check that none of them has been counted in yet.
//!
//! A TOTP code is good once (RFC 6238, section 5.2): the time step of the
//! last accepted code is kept per user in the case store, and a code of that
//! step or an earlier one is refused, on every server.
//!
//! A console session is a token labelled [`CONSOLE_SESSION`]; it lasts
//! [`CONSOLE_SESSION_SECONDS`] from sign-in, on the pages and as a bearer
//! token alike, and only such a token opens the console's pages. Tokens with
//! other labels (the API's, the command line's) expire too, by default
//! [`DEFAULT_TOKEN_SECONDS`] after they were minted.
//!
//! The agency portal's sign-in signs [`portal_sign_in_message`], a
//! domain-separated text that no RFC 9421 signature base can equal.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use serde_json::json;
use writ_model::Timestamp;
use writ_store::{StoreError, TokenRow, UserRow};

use crate::{Gateway, GatewayError, Result, canonical, random_bytes};

/// What a console user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Proposes review actions and records facts.
    Reviewer,
    /// Everything a reviewer does, and confirms another person's proposal.
    Approver,
    /// Registers agencies and users; takes no review action.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reviewer" => Some(Role::Reviewer),
            "approver" => Some(Role::Approver),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

/// An authenticated console user.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub role: Role,
}

/// A new user's secrets, shown once.
#[derive(Clone)]
pub struct NewUser {
    pub password: String,
    pub totp_secret: String,
    pub otpauth_uri: String,
    pub token: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewUser { .. }")
    }
}

/// The longest token label, in characters.
pub const MAX_LABEL: usize = 64;

/// A token's label names it in lists: 1 to [`MAX_LABEL`] characters, none
/// of them a control character.
fn check_label(label: &str) -> Result<()> {
    let chars = label.chars().count();
    let message = if label.trim().is_empty() {
        "a token needs a label".to_owned()
    } else if chars > MAX_LABEL {
        format!("{chars} characters: a label has at most {MAX_LABEL}")
    } else if label.chars().any(char::is_control) {
        "a label holds no control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(GatewayError::Input(writ_model::InputError {
        file: String::new(),
        path: "label".into(),
        message,
    }))
}

/// The label of the tokens that the console's sign-in mints.
pub const CONSOLE_SESSION: &str = "console session";
/// How long a console session lasts from sign-in: a working day, so that a
/// cookie left in a browser does not sign anyone in the next morning.
pub const CONSOLE_SESSION_SECONDS: i64 = 12 * 3600;
/// How long a personal access token other than a console session lasts by
/// default (`writ serve --token-ttl`).
pub const DEFAULT_TOKEN_SECONDS: i64 = 90 * 86_400;
/// What a portal challenge starts with.
pub const PORTAL_CHALLENGE_PREFIX: &str = "writ-portal-sign-in:";
/// The first line of what an officer's key signs to sign in to the portal.
/// An API request's signature base starts with `"@method"`, so neither can
/// stand for the other.
pub const PORTAL_SIGN_IN_CONTEXT: &str = "writ-portal-sign-in-v1";

/// What an officer signs to sign in to the portal with `challenge`: the
/// context line, then the challenge.
pub fn portal_sign_in_message(challenge: &str) -> String {
    format!("{PORTAL_SIGN_IN_CONTEXT}\n{challenge}")
}

/// Whether `text` has the shape of a portal challenge (the prefix, then
/// only the characters a challenge is made of, at most 200 of them): what
/// `writ agency sign` agrees to sign, so that an officer cannot be talked
/// into signing anything else with the agency's key.
pub fn is_portal_challenge(text: &str) -> bool {
    text.strip_prefix(PORTAL_CHALLENGE_PREFIX)
        .is_some_and(|rest| {
            !rest.is_empty()
                && text.len() <= 200
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        })
}

/// Failed sign-ins for one user name within [`THROTTLE_WINDOW_SECONDS`]
/// after which the name is refused.
pub const MAX_FAILED_SIGN_INS: i64 = 5;
/// The window in which failed sign-ins count.
pub const THROTTLE_WINDOW_SECONDS: i64 = 15 * 60;
/// Failures older than this are forgotten when a new one is recorded, so
/// that the table stays small whatever is tried.
const FAILURE_MEMORY_SECONDS: i64 = 24 * 3600;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(BASE32[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push(((buffer >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The RFC 6238 code (SHA-1, 6 digits, 30-second steps) at a time.
pub fn totp(secret_b32: &str, unix_seconds: i64) -> Option<String> {
    let key = unbase32(secret_b32)?;
    let counter = (unix_seconds.div_euclid(30) as u64).to_be_bytes();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(&counter);
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    Some(format!("{:06}", code % 1_000_000))
}

/// A fresh TOTP secret (160 bits, base32).
pub(crate) fn new_totp_secret() -> Result<String> {
    Ok(base32(&random_bytes::<20>()?))
}

/// The 30-second step at which `code` is the secret's code, allowing one
/// step of clock drift either way: the latest step it matches, so that the
/// step used up cannot be used again as an earlier one.
pub(crate) fn totp_step(secret_b32: &str, code: &str, now: i64) -> Option<i64> {
    [30, 0, -30]
        .iter()
        .map(|d| now + d)
        .find(|t| totp(secret_b32, *t).as_deref() == Some(code))
        .map(|t| t.div_euclid(30))
}

fn token_hash(token: &str) -> String {
    canonical::sha256_hex(token.as_bytes())
}

/// What the store keeps of a user name that failed to sign in: its hash,
/// since people sometimes type a password into the name field.
pub(crate) fn name_hash(name: &str) -> String {
    canonical::sha256_hex(format!("writ-sign-in\n{name}").as_bytes())
}

/// A hash to check passwords against when the name is unknown, so that an
/// unknown name takes as long to refuse as a wrong password.
fn decoy_hash() -> Result<&'static str> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h);
    }
    let h = hash_password(&random_text::<15>()?)?;
    Ok(DECOY.get_or_init(|| h))
}

fn random_text<const N: usize>() -> Result<String> {
    Ok(base32(&random_bytes::<N>()?).to_lowercase())
}

fn argon2() -> Argon2<'static> {
    Argon2::default()
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| GatewayError::Internal(format!("salt: {e}")))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| GatewayError::Internal(format!("argon2: {e}")))?
        .to_string())
}

impl Gateway {
    /// Creates a console user with a fresh password, TOTP secret and
    /// personal access token, and returns them once.
    pub async fn create_user(&self, name: &str, role: Role) -> Result<NewUser> {
        let password = random_text::<15>()?;
        let secret = new_totp_secret()?;
        let token = format!("writ_pat_{}", random_text::<20>()?);
        let now = Timestamp::now();
        let user = UserRow {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: hash_password(&password)?,
            totp_secret: secret.clone(),
            created_at: now.as_second(),
            disabled: false,
        };
        self.store().insert_user(&user).await.map_err(|e| match e {
            StoreError::Exists(_, n) => {
                GatewayError::Conflict(format!("user `{n}` already exists"))
            }
            other => other.into(),
        })?;
        self.store()
            .insert_token(&TokenRow {
                token_hash: token_hash(&token),
                user_name: name.to_owned(),
                label: "initial".into(),
                created_at: now.as_second(),
            })
            .await?;
        self.registry_event(
            "user_add",
            None,
            json!({"user": name, "role": role.as_str()}),
            now,
        )
        .await?;
        Ok(NewUser {
            otpauth_uri: format!(
                "otpauth://totp/Writ:{name}?secret={secret}&issuer=Writ&algorithm=SHA1&digits=6&period=30"
            ),
            password,
            totp_secret: secret,
            token,
        })
    }

    /// Signs in with password and TOTP code, and mints a personal access
    /// token. Every failure looks the same, and a name with too many
    /// failures lately is refused ([`GatewayError::Throttled`]).
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        code: &str,
        label: &str,
    ) -> Result<String> {
        self.login_at(name, password, code, label, Timestamp::now())
            .await
    }

    /// [`Gateway::login`] at a given time: the TOTP code, the throttle's
    /// window and the token's age all count from `now`.
    pub async fn login_at(
        &self,
        name: &str,
        password: &str,
        code: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<String> {
        check_label(label)?;
        let now = now.as_second();
        let key = name_hash(name);
        // The throttle comes first: a refused name costs no password check,
        // and tells nothing about the password.
        self.begin_sign_in(&key, now).await?;
        let Some(user) = self.check_credentials(name, password, code, now).await? else {
            return Err(GatewayError::Unauthorized(
                "wrong name, password or code".into(),
            ));
        };
        self.store().clear_sign_in_failures(&key).await?;
        let token = format!("writ_pat_{}", random_text::<20>()?);
        self.store()
            .insert_token(&TokenRow {
                token_hash: token_hash(&token),
                user_name: user.name.clone(),
                label: label.to_owned(),
                created_at: now,
            })
            .await?;
        Ok(token)
    }

    /// Counts a sign-in attempt for a name's hash, as a failure until it
    /// succeeds (the caller clears the failures then); refused with
    /// [`GatewayError::Throttled`] after too many failures lately.
    pub(crate) async fn begin_sign_in(&self, key: &str, now: i64) -> Result<()> {
        let attempt = self
            .store()
            .begin_sign_in(
                key,
                now,
                now - THROTTLE_WINDOW_SECONDS,
                MAX_FAILED_SIGN_INS,
                now - FAILURE_MEMORY_SECONDS,
            )
            .await?;
        if let writ_store::SignInAttempt::Throttled { oldest } = attempt {
            let retry_after = (oldest + THROTTLE_WINDOW_SECONDS - now).max(1);
            return Err(GatewayError::Throttled {
                retry_after: retry_after.unsigned_abs(),
            });
        }
        Ok(())
    }

    /// The user whose name, password and TOTP code these are, if any.
    async fn check_credentials(
        &self,
        name: &str,
        password: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<UserRow>> {
        let user = self.store().user(name).await?;
        let stored = match &user {
            Some(u) => u.password_hash.as_str(),
            None => decoy_hash()?,
        };
        let password_ok = PasswordHash::new(stored)
            .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        let Some(user) = user else { return Ok(None) };
        let step = totp_step(&user.totp_secret, code, now);
        let (Some(step), true, false) = (step, password_ok, user.disabled) else {
            return Ok(None);
        };
        // RFC 6238, section 5.2: the verifier must not accept a code a second
        // time. Recorded only for a right password, so that a guesser cannot
        // use up the owner's current code.
        if !self.store().accept_totp_step(&user.name, step).await? {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// The user a bearer token belongs to. A console session's token stops
    /// working [`CONSOLE_SESSION_SECONDS`] after sign-in; other tokens
    /// [`DEFAULT_TOKEN_SECONDS`] after they were minted.
    pub async fn user_for_token(&self, token: &str) -> Result<User> {
        self.user_for_token_within(token, DEFAULT_TOKEN_SECONDS)
            .await
    }

    /// [`Gateway::user_for_token`] with another lifetime than the default
    /// for tokens that are not console sessions.
    pub async fn user_for_token_within(&self, token: &str, lifetime: i64) -> Result<User> {
        self.token_holder(token, None, lifetime).await
    }

    /// The user of a console session token minted less than `max_age`
    /// seconds ago. Only a console session's token is one: a token minted
    /// for the API or the command line does not open the console's pages.
    pub async fn user_for_session(&self, token: &str, max_age: i64) -> Result<User> {
        self.token_holder(token, Some(max_age), DEFAULT_TOKEN_SECONDS)
            .await
    }

    async fn token_holder(
        &self,
        token: &str,
        session_max_age: Option<i64>,
        lifetime: i64,
    ) -> Result<User> {
        let denied = || GatewayError::Unauthorized("invalid or revoked token".into());
        let row = self
            .store()
            .token_user(&token_hash(token))
            .await?
            .ok_or_else(denied)?;
        if row.user.disabled {
            return Err(denied());
        }
        let session = row.label == CONSOLE_SESSION;
        if session_max_age.is_some() && !session {
            return Err(denied());
        }
        let max_age = match session_max_age {
            Some(max_age) => max_age,
            None if session => CONSOLE_SESSION_SECONDS,
            None => lifetime,
        };
        if Timestamp::now().as_second() - row.created_at >= max_age {
            return Err(GatewayError::Unauthorized(
                "the session has expired; sign in again".into(),
            ));
        }
        Ok(User {
            role: Role::parse(&row.user.role).ok_or_else(denied)?,
            name: row.user.name,
        })
    }

    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        Ok(self
            .store()
            .revoke_token(&token_hash(token), Timestamp::now().as_second())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238, appendix B, SHA-1 key "12345678901234567890".
        let secret = base32(b"12345678901234567890");
        assert_eq!(totp(&secret, 59).unwrap(), "287082");
        assert_eq!(totp(&secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(totp(&secret, 2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn base32_round_trips() {
        for n in 0..25u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(unbase32(&base32(&bytes)).unwrap(), bytes);
        }
    }
}
