//! An agency's officers: people with portal accounts of their own
//! (docs/http.md, "Officers").
//!
//! An officer signs in with a passkey (WebAuthn, through `webauthn-rs`) or,
//! as the fallback, a TOTP code. The provider's admins add and remove
//! officers in the console, and so do the agency's own officer-admins in
//! the portal; each change is a `registry` entry in the log. A lost passkey
//! is never replaced on an e-mail's word: an admin calls the agency back on
//! a number from the registry, records that call, and reads the officer a
//! new TOTP secret, with which the officer signs in and registers a new
//! passkey.
//!
//! A passkey ceremony's state travels with the browser, sealed with an
//! HMAC under the deployment's portal key and good once, so that an
//! anonymous sign-in attempt writes nothing and any server of a deployment
//! can finish what another started.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::Mac as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use writ_model::{InputError, Timestamp};
use writ_store::{OfficerRow, PasskeyRow, StoreError};

use crate::auth::{Role, User};
use crate::{Gateway, GatewayError, Result, events};

/// How long a passkey ceremony may take, in seconds.
pub const CEREMONY_SECONDS: i64 = 300;

/// Who adds or removes an officer.
#[derive(Clone, Copy, Debug)]
pub enum OfficerAdmin<'a> {
    /// A provider's admin, in the console.
    Staff(&'a User),
    /// One of the agency's officer-admins, in the portal.
    Officer(&'a OfficerRow),
}

impl OfficerAdmin<'_> {
    fn name(&self) -> String {
        match self {
            OfficerAdmin::Staff(u) => u.name.clone(),
            OfficerAdmin::Officer(o) => officer_actor(o),
        }
    }

    /// May this admin manage `agency`'s officers?
    fn check(&self, agency: &str) -> Result<()> {
        match self {
            OfficerAdmin::Staff(u) if u.role == Role::Admin => Ok(()),
            OfficerAdmin::Staff(_) => Err(GatewayError::Forbidden(
                "only an admin adds or removes officers".into(),
            )),
            OfficerAdmin::Officer(o)
                if o.admin && o.agency_id == agency && o.removed_at.is_none() =>
            {
                Ok(())
            }
            OfficerAdmin::Officer(_) => Err(GatewayError::Forbidden(
                "only one of the agency's officer-admins adds or removes its officers".into(),
            )),
        }
    }
}

/// How an officer's actions are recorded: `officer:<id>`.
pub fn officer_actor(o: &OfficerRow) -> String {
    format!("officer:{}", o.id)
}

/// How an officer is named on pages and in letters: name, title and badge.
pub fn officer_label(o: &OfficerRow) -> String {
    let mut s = o.name.clone();
    if !o.title.is_empty() {
        s.push_str(&format!(", {}", o.title));
    }
    s.push_str(&format!(" (badge {})", o.badge));
    s
}

/// The details of an officer, as an admin enters them.
#[derive(Clone, Debug, Default)]
pub struct NewOfficer {
    pub name: String,
    pub title: String,
    pub badge: String,
    pub email: String,
    pub phone: String,
    /// An officer-admin adds and removes the agency's officers.
    pub admin: bool,
}

/// An officer's sign-in secret, shown once to the admin who added (or
/// reset) the officer, to be given to the officer by phone or in person.
#[derive(Clone)]
pub struct Enrolment {
    pub officer: OfficerRow,
    /// The TOTP secret (base32).
    pub totp_secret: String,
    /// The same as an `otpauth://` URI for an authenticator app.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("officer", &self.officer.id)
            .finish_non_exhaustive()
    }
}

fn bad(field: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::Input(InputError::at(field, message))
}

/// A line of text: trimmed, 1 to `max` characters, no control characters.
fn line(field: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(bad(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(bad(field, format!("is longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(bad(field, "holds a control character"));
    }
    Ok(v.to_owned())
}

/// Checks and normalizes what an admin entered: an e-mail address is
/// compared in lower case, a phone number keeps `+` and digits (spaces,
/// dots, dashes and brackets dropped) and must be in international form.
pub fn check_new_officer(n: &NewOfficer) -> Result<NewOfficer> {
    let email = line("email", n.email.as_str(), 254, true)?.to_lowercase();
    let shape = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    if !shape || email.chars().any(char::is_whitespace) {
        return Err(bad("email", "is not an e-mail address (name@example.org)"));
    }
    let phone: String = n
        .phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = phone.strip_prefix('+').unwrap_or("");
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "phone",
            "is not a phone number in international form (+ and 6 to 15 digits)",
        ));
    }
    Ok(NewOfficer {
        name: line("name", &n.name, 100, true)?,
        title: line("title", &n.title, 100, false)?,
        badge: line("badge", &n.badge, 50, true)?,
        email,
        phone,
        admin: n.admin,
    })
}

/// The WebAuthn user handle of an officer: the 16 random bytes of its id.
fn user_handle(o: &OfficerRow) -> Result<Uuid> {
    let hex = o.id.strip_prefix("o-").unwrap_or_default();
    let bytes = hex::decode(hex)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| GatewayError::Internal(format!("officer id `{}`", o.id)))?;
    Ok(Uuid::from_bytes(bytes))
}

/// The relying party for a public URL: its host (or `localhost` for an IP
/// address, which WebAuthn does not take as an id) with its scheme and port.
pub fn relying_party(public_url: &str) -> Result<webauthn_rs::Webauthn> {
    let url = Url::parse(public_url)
        .map_err(|e| GatewayError::Internal(format!("public URL `{public_url}`: {e}")))?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        _ => "localhost".to_owned(),
    };
    let mut origin = url.clone();
    origin
        .set_host(Some(&host))
        .map_err(|e| GatewayError::Internal(format!("public URL `{public_url}`: {e}")))?;
    origin.set_path("");
    let local = host == "localhost";
    webauthn_rs::WebauthnBuilder::new(&host, &origin)
        .map(|b| b.rp_name("Writ agency portal").allow_any_port(local))
        .and_then(|b| b.build())
        .map_err(|e| GatewayError::Internal(format!("passkeys for `{public_url}`: {e}")))
}

/// Seals a ceremony's state: `<base64url(json)>.<expires>.<hex hmac>`, the
/// MAC also covering what the state is for and whom it is bound to.
fn seal_state(
    key: &[u8; 32],
    kind: &str,
    bound: &str,
    state: &Value,
    expires: i64,
) -> Result<String> {
    let body = B64URL.encode(serde_json::to_vec(state)?);
    let tag = state_mac(key, kind, bound, &body, expires)?
        .finalize()
        .into_bytes();
    Ok(format!("{body}.{expires}.{}", hex::encode(tag)))
}

fn state_mac(
    key: &[u8; 32],
    kind: &str,
    bound: &str,
    body: &str,
    expires: i64,
) -> Result<hmac::Hmac<sha2::Sha256>> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .map_err(|_| GatewayError::Internal("state key".into()))?;
    mac.update(format!("writ-passkey-state-v1\n{kind}\n{bound}\n{expires}\n{body}").as_bytes());
    Ok(mac)
}

/// Opens a sealed state that has not expired: the JSON and its expiry.
fn open_state(
    key: &[u8; 32],
    kind: &str,
    bound: &str,
    sealed: &str,
    now: i64,
) -> Option<(Value, i64)> {
    let mut parts = sealed.trim().split('.');
    let (body, expires, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    let tag = hex::decode(tag).ok()?;
    state_mac(key, kind, bound, body, expires)
        .ok()?
        .verify_slice(&tag)
        .ok()?;
    if !(now < expires && expires <= now + CEREMONY_SECONDS) {
        return None;
    }
    let json = B64URL.decode(body).ok()?;
    Some((serde_json::from_slice(&json).ok()?, expires))
}

/// What the store keeps of a finished ceremony: a hash of its sealed state.
fn used_key(sealed: &str) -> String {
    hex::encode(sha2::Sha256::digest(
        format!("writ-passkey-state-used\n{sealed}").as_bytes(),
    ))
}

fn not_found(agency: &str, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("officer `{id}` of agency `{agency}`"))
}

impl Gateway {
    /// The relying party passkeys are registered with: the server's public
    /// URL ([`Gateway::set_public_url`]), `http://localhost` without one.
    fn relying_party(&self) -> Result<&webauthn_rs::Webauthn> {
        if let Some(rp) = self.inner.passkeys.get() {
            return Ok(rp);
        }
        let rp = relying_party("http://localhost")?;
        Ok(self.inner.passkeys.get_or_init(|| rp))
    }

    /// Sets the server's public URL, from which passkeys take their relying
    /// party; only the first call counts.
    pub fn set_public_url(&self, public_url: &str) -> Result<()> {
        let rp = relying_party(public_url)?;
        let _ = self.inner.passkeys.set(rp);
        Ok(())
    }

    /// The relying party's id (the host passkeys belong to).
    pub fn passkey_host(&self) -> Result<String> {
        let rp = self.relying_party()?;
        Ok(rp
            .get_allowed_origins()
            .first()
            .and_then(|u| u.host_str())
            .unwrap_or("localhost")
            .to_owned())
    }

    async fn state_key(&self) -> Result<[u8; 32]> {
        let portal = self.portal_challenge_key().await?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&portal)
            .map_err(|_| GatewayError::Internal("state key".into()))?;
        mac.update(b"writ-passkey-state-key");
        Ok(mac.finalize().into_bytes().into())
    }

    /// The agency's officers, live ones first.
    pub async fn officers(&self, agency: &str) -> Result<Vec<OfficerRow>> {
        Ok(self.store().officers(agency).await?)
    }

    /// One of the agency's officers (removed ones too).
    pub async fn officer(&self, agency: &str, id: &str) -> Result<OfficerRow> {
        self.store()
            .officer(id)
            .await?
            .filter(|o| o.agency_id == agency)
            .ok_or_else(|| not_found(agency, id))
    }

    /// The number of passkeys an officer has.
    pub async fn passkey_count(&self, officer: &str) -> Result<usize> {
        Ok(self.store().passkeys(officer).await?.len())
    }

    fn enrolment(officer: OfficerRow) -> Enrolment {
        let otpauth_uri = format!(
            "otpauth://totp/Writ%20portal:{}?secret={}&issuer=Writ%20portal&algorithm=SHA1&digits=6&period=30",
            url::form_urlencoded::byte_serialize(officer.email.as_bytes()).collect::<String>(),
            officer.totp_secret
        );
        Enrolment {
            totp_secret: officer.totp_secret.clone(),
            otpauth_uri,
            officer,
        }
    }

    /// Adds an officer to a registered agency, with a `registry` entry
    /// (`officer_add`). Returns the officer's TOTP secret, shown once.
    pub async fn add_officer(
        &self,
        by: OfficerAdmin<'_>,
        agency: &str,
        new: &NewOfficer,
    ) -> Result<Enrolment> {
        by.check(agency)?;
        let row = self
            .agency_row(agency)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("agency `{agency}`")))?;
        let n = check_new_officer(new)?;
        let now = Timestamp::now();
        let officer = OfficerRow {
            id: format!("o-{}", hex::encode(crate::random_bytes::<16>()?)),
            agency_id: agency.to_owned(),
            name: n.name,
            title: n.title,
            badge: n.badge,
            email: n.email,
            phone: n.phone,
            admin: n.admin,
            totp_secret: crate::auth::new_totp_secret()?,
            created_at: now.as_second(),
            created_by: by.name(),
            removed_at: None,
        };
        let event = events::registry(
            "officer_add",
            Some(&row.country),
            json!({"agency": agency, "officer": officer.id, "by": officer.created_by}),
            now,
        )?;
        self.store()
            .insert_officer(&officer, &event)
            .await
            .map_err(|e| match e {
                StoreError::Exists(..) => GatewayError::Conflict(format!(
                    "agency `{agency}` already has an officer with the e-mail address {}",
                    officer.email
                )),
                other => other.into(),
            })?;
        self.events_written();
        tracing::info!(agency, officer = %officer.id, "officer added");
        Ok(Self::enrolment(officer))
    }

    /// Removes an officer: its passkeys and sessions end at once; a
    /// `registry` entry (`officer_remove`). An officer-admin cannot remove
    /// itself (another admin must), so that an agency keeps one.
    pub async fn remove_officer(&self, by: OfficerAdmin<'_>, agency: &str, id: &str) -> Result<()> {
        by.check(agency)?;
        if let OfficerAdmin::Officer(me) = by
            && me.id == id
        {
            return Err(GatewayError::Conflict(
                "an officer-admin does not remove itself; ask another officer-admin or the provider".into(),
            ));
        }
        let officer = self.officer(agency, id).await?;
        if officer.removed_at.is_some() {
            return Err(GatewayError::Conflict(format!(
                "officer `{id}` was removed already"
            )));
        }
        let country = self.agency_row(agency).await?.map(|a| a.country);
        let now = Timestamp::now();
        let actor = by.name();
        let event = events::registry(
            "officer_remove",
            country.as_deref(),
            json!({"agency": agency, "officer": id, "by": actor}),
            now,
        )?;
        self.store()
            .remove_officer(id, &actor, now.as_second(), &event)
            .await?;
        self.events_written();
        tracing::info!(agency, officer = id, "officer removed");
        Ok(())
    }

    /// Replaces a live officer's sign-in after a callback: `called` must be
    /// one of the agency's registered callback numbers, on which the admin
    /// reached the agency and confirmed the officer. The officer's passkeys
    /// and sessions end and a new TOTP secret is returned (shown once);
    /// a `registry` entry (`officer_reset`). Only the provider's admins do
    /// this, never on an e-mail's word.
    pub async fn reset_officer(
        &self,
        by: &User,
        agency: &str,
        id: &str,
        called: &str,
    ) -> Result<Enrolment> {
        OfficerAdmin::Staff(by).check(agency)?;
        let row = self
            .agency_row(agency)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("agency `{agency}`")))?;
        let numbers: Vec<String> = serde_json::from_str(&row.callback_numbers)?;
        let called = called.trim();
        if !numbers.iter().any(|n| n == called) {
            return Err(bad(
                "called",
                "is not one of the agency's registered callback numbers: call the agency back on one of those, never on a number from an e-mail",
            ));
        }
        let mut officer = self.officer(agency, id).await?;
        if officer.removed_at.is_some() {
            return Err(GatewayError::Conflict(format!(
                "officer `{id}` was removed"
            )));
        }
        officer.totp_secret = crate::auth::new_totp_secret()?;
        let now = Timestamp::now();
        let event = events::registry(
            "officer_reset",
            Some(&row.country),
            json!({"agency": agency, "officer": id, "by": by.name, "called": called}),
            now,
        )?;
        let detail = format!(
            "{} <{}>: agency called back on {called}",
            officer.name, officer.email
        );
        self.store()
            .reset_officer(
                id,
                &officer.totp_secret,
                &detail,
                &by.name,
                now.as_second(),
                &event,
            )
            .await?;
        self.events_written();
        tracing::info!(
            agency,
            officer = id,
            "officer's sign-in replaced after a callback"
        );
        Ok(Self::enrolment(officer))
    }

    /// Signs an officer in with a TOTP code: the agency must be one that may
    /// be served, the officer live, the code right and not used before
    /// (RFC 6238, section 5.2). Failures count against the address like
    /// the console's. Returns the session's secret, or `None`.
    pub async fn officer_sign_in(
        &self,
        agency: &str,
        email: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let email = email.trim().to_lowercase();
        let key = crate::auth::name_hash(&format!("officer\n{agency}\n{email}"));
        self.begin_sign_in(&key, now).await?;
        let Some(officer) = self.store().officer_by_email(agency, &email).await? else {
            return Ok(None);
        };
        let Some(step) = crate::auth::totp_step(&officer.totp_secret, code.trim(), now) else {
            return Ok(None);
        };
        if !self.agency_may_be_served(agency).await?
            || !self
                .store()
                .accept_totp_step(&officer_actor(&officer), step)
                .await?
        {
            return Ok(None);
        }
        self.store().clear_sign_in_failures(&key).await?;
        self.open_officer_session(&officer, now).await.map(Some)
    }

    async fn open_officer_session(&self, officer: &OfficerRow, now: i64) -> Result<String> {
        let secret = hex::encode(crate::random_bytes::<32>()?);
        self.store()
            .open_portal_session(
                &crate::portal::secret_hash(&secret),
                &officer.agency_id,
                Some(&officer.id),
                now + crate::portal::SESSION_SECONDS,
                now,
            )
            .await?;
        tracing::info!(agency = %officer.agency_id, officer = %officer.id, "officer signed in");
        Ok(secret)
    }

    /// Starts a passkey sign-in: the options for
    /// `navigator.credentials.get` (discoverable credentials: no name is
    /// asked, so nothing tells whether an officer exists) and the sealed
    /// state to send back. Writes nothing.
    pub async fn passkey_sign_in_start(&self, now: i64) -> Result<(Value, String)> {
        let (options, state) = self
            .relying_party()?
            .start_discoverable_authentication()
            .map_err(|e| GatewayError::Internal(format!("passkey: {e}")))?;
        let mut options = serde_json::to_value(options)?;
        // A button press asks for a passkey at once (conditional mediation
        // needs an autofill field; a modal request works everywhere).
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        let sealed = seal_state(
            &self.state_key().await?,
            "sign-in",
            "",
            &serde_json::to_value(&state)?,
            now + CEREMONY_SECONDS,
        )?;
        Ok((options, sealed))
    }

    /// Finishes a passkey sign-in: the state must be one this deployment
    /// sealed, unexpired and not used before; the credential one of a live
    /// officer's passkeys, with user verification, on an agency that may be
    /// served. Returns the session's secret, or `None`.
    pub async fn passkey_sign_in_finish(
        &self,
        sealed: &str,
        credential: &Value,
        now: i64,
    ) -> Result<Option<String>> {
        let key = self.state_key().await?;
        let Some((state, expires)) = open_state(&key, "sign-in", "", sealed, now) else {
            return Ok(None);
        };
        let state: DiscoverableAuthentication = serde_json::from_value(state)?;
        let Ok(credential) = serde_json::from_value::<PublicKeyCredential>(credential.clone())
        else {
            return Ok(None);
        };
        let rp = self.relying_party()?;
        let Ok((handle, raw_id)) = rp.identify_discoverable_authentication(&credential) else {
            return Ok(None);
        };
        let credential_id = B64URL.encode(raw_id);
        let Some(stored) = self.store().passkeys_by_credential(&credential_id).await? else {
            return Ok(None);
        };
        let Some(officer) = self.store().officer(&stored.officer_id).await? else {
            return Ok(None);
        };
        if officer.removed_at.is_some() || user_handle(&officer)? != handle {
            return Ok(None);
        }
        let mut passkey: Passkey = serde_json::from_str(&stored.passkey)?;
        let Ok(result) = rp.finish_discoverable_authentication_v2(&credential, state, &passkey)
        else {
            return Ok(None);
        };
        if !result.user_verified() || !self.agency_may_be_served(&officer.agency_id).await? {
            return Ok(None);
        }
        // Good once, on every server.
        if !self
            .store()
            .use_nonce(&used_key(sealed), expires, now)
            .await?
        {
            return Ok(None);
        }
        passkey.update_credential(&result);
        self.store()
            .update_passkey(&credential_id, &serde_json::to_string(&passkey)?, now)
            .await?;
        self.open_officer_session(&officer, now).await.map(Some)
    }

    /// Starts registering a passkey for a signed-in officer: the options
    /// for `navigator.credentials.create` (a discoverable credential with
    /// user verification) and the sealed state, bound to the officer.
    pub async fn passkey_register_start(
        &self,
        officer: &OfficerRow,
        now: i64,
    ) -> Result<(Value, String)> {
        let existing = self.store().passkeys(&officer.id).await?;
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = self
            .relying_party()?
            .start_passkey_registration(
                user_handle(officer)?,
                &officer.email,
                &officer_label(officer),
                Some(exclude),
            )
            .map_err(|e| GatewayError::Internal(format!("passkey: {e}")))?;
        let mut options = serde_json::to_value(options)?;
        // A passkey the browser can offer without a name typed first.
        if let Some(sel) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            sel.insert("residentKey".into(), json!("required"));
            sel.insert("requireResidentKey".into(), json!(true));
        }
        let sealed = seal_state(
            &self.state_key().await?,
            "register",
            &officer.id,
            &serde_json::to_value(&state)?,
            now + CEREMONY_SECONDS,
        )?;
        Ok((options, sealed))
    }

    /// Finishes registering a passkey for the officer that started it.
    pub async fn passkey_register_finish(
        &self,
        officer: &OfficerRow,
        sealed: &str,
        credential: &Value,
        now: i64,
    ) -> Result<()> {
        let key = self.state_key().await?;
        let refused = || {
            bad(
                "credential",
                "the passkey could not be registered; start again",
            )
        };
        let (state, expires) =
            open_state(&key, "register", &officer.id, sealed, now).ok_or_else(refused)?;
        let state: PasskeyRegistration = serde_json::from_value(state)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|_| refused())?;
        let passkey = self
            .relying_party()?
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| bad("credential", format!("the passkey was refused: {e}")))?;
        if !self
            .store()
            .use_nonce(&used_key(sealed), expires, now)
            .await?
        {
            return Err(refused());
        }
        let credential_id = B64URL.encode(passkey.cred_id().as_slice());
        self.store()
            .insert_passkey(&PasskeyRow {
                credential_id,
                officer_id: officer.id.clone(),
                passkey: serde_json::to_string(&passkey)?,
                created_at: now,
                last_used_at: None,
            })
            .await
            .map_err(|e| match e {
                StoreError::Exists(..) => {
                    GatewayError::Conflict("this passkey is registered already".into())
                }
                other => other.into(),
            })?;
        tracing::info!(agency = %officer.agency_id, officer = %officer.id, "passkey registered");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officer_details_are_checked_and_normalized() {
        let n = NewOfficer {
            name: " Dana Reyes ".into(),
            title: "Special Agent".into(),
            badge: "4411".into(),
            email: "Dana.Reyes@FBI.example".into(),
            phone: "+1 (202) 555-0100".into(),
            admin: false,
        };
        let ok = check_new_officer(&n).unwrap();
        assert_eq!(ok.name, "Dana Reyes");
        assert_eq!(ok.email, "dana.reyes@fbi.example");
        assert_eq!(ok.phone, "+12025550100");
        for (field, bad) in [
            (
                "email",
                NewOfficer {
                    email: "dana".into(),
                    ..n.clone()
                },
            ),
            (
                "email",
                NewOfficer {
                    email: "a b@x.example".into(),
                    ..n.clone()
                },
            ),
            (
                "phone",
                NewOfficer {
                    phone: "202 555 0100".into(),
                    ..n.clone()
                },
            ),
            (
                "phone",
                NewOfficer {
                    phone: "+1 202 CALL ME".into(),
                    ..n.clone()
                },
            ),
            (
                "name",
                NewOfficer {
                    name: " ".into(),
                    ..n.clone()
                },
            ),
            (
                "badge",
                NewOfficer {
                    badge: "x".repeat(51),
                    ..n.clone()
                },
            ),
            (
                "name",
                NewOfficer {
                    name: "a\u{7}b".into(),
                    ..n.clone()
                },
            ),
        ] {
            match check_new_officer(&bad) {
                Err(GatewayError::Input(e)) => assert_eq!(e.path, field, "{e}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_sealed_state_opens_only_for_its_purpose_its_officer_and_in_time() {
        let key = [9u8; 32];
        let state = json!({"challenge": "abc"});
        let sealed = seal_state(&key, "register", "o-1", &state, 1_000 + CEREMONY_SECONDS).unwrap();
        assert_eq!(
            open_state(&key, "register", "o-1", &sealed, 1_000).map(|s| s.0),
            Some(state)
        );
        assert!(open_state(&key, "register", "o-2", &sealed, 1_000).is_none());
        assert!(open_state(&key, "sign-in", "o-1", &sealed, 1_000).is_none());
        assert!(open_state(&[8u8; 32], "register", "o-1", &sealed, 1_000).is_none());
        assert!(open_state(&key, "register", "o-1", &sealed, 1_000 + CEREMONY_SECONDS).is_none());
        let tampered = format!("{}{}", &sealed[..4], &sealed[5..]);
        assert!(open_state(&key, "register", "o-1", &tampered, 1_000).is_none());
    }

    #[test]
    fn the_relying_party_is_the_public_host_or_localhost() {
        let rp = relying_party("https://lawful.example.net/").unwrap();
        assert_eq!(
            rp.get_allowed_origins()[0].as_str(),
            "https://lawful.example.net/"
        );
        let rp = relying_party("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            rp.get_allowed_origins()[0].as_str(),
            "http://localhost:8080/"
        );
    }
}
