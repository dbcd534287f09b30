//! The agency registry: who may send orders, with which keys, and the
//! numbers staff call back. Every change is recorded in the agency's history
//! and as a `registry` event in the log.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::json;
use writ_model::{Agency, AgencyStatus, Timestamp};
use writ_store::{AgencyKeyRow, AgencyRow, StoreError};

use crate::{Gateway, GatewayError, Result, events, from_epoch};

/// Builds the engine's view of a registry row.
pub fn agency_of_row(row: &AgencyRow) -> Result<Agency> {
    let value = json!({
        "id": row.id,
        "name": row.name,
        "country": row.country,
        "kind": row.kind,
        "status": row.status,
        "verified_since": row.verified_since.map(from_epoch).transpose()?,
        "powers": serde_json::from_str::<serde_json::Value>(&row.powers)?,
    });
    Ok(serde_json::from_value(value)?)
}

/// A registry entry as admins see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgencyView {
    #[serde(flatten)]
    pub agency: Agency,
    pub callback_numbers: Vec<String>,
    pub age_recipient: Option<String>,
    pub keys: Vec<String>,
}

/// Reads a base64 Ed25519 public key (32 bytes).
pub fn parse_public_key(text: &str) -> Result<ed25519_dalek::VerifyingKey> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| GatewayError::Conflict("public key is not base64".into()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| GatewayError::Conflict("public key is not 32 bytes".into()))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| GatewayError::Conflict("public key is not an Ed25519 point".into()))
}

fn exists(e: StoreError) -> GatewayError {
    match e {
        StoreError::Exists(what, id) => {
            GatewayError::Conflict(format!("{what} `{id}` already exists"))
        }
        StoreError::NotFound(what, id) => GatewayError::NotFound(format!("{what} `{id}`")),
        other => other.into(),
    }
}

/// Where the log's witness set is kept (the `meta` table).
const WITNESSES: &str = "log_witnesses";

impl Gateway {
    /// Adds an agency (normally `pending` until an admin verifies it).
    pub async fn add_agency(
        &self,
        agency: &Agency,
        callback_numbers: &[String],
        age_recipient: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        let now = Timestamp::now();
        let row = AgencyRow {
            id: agency.id.as_str().to_owned(),
            name: agency.name.clone(),
            country: agency.country.as_str().to_owned(),
            kind: agency.kind.as_str().to_owned(),
            status: agency.status.as_str().to_owned(),
            verified_since: agency.verified_since.map(|t| t.as_second()),
            powers: serde_json::to_string(&agency.powers)?,
            callback_numbers: serde_json::to_string(callback_numbers)?,
            age_recipient: age_recipient.map(str::to_owned),
            created_at: now.as_second(),
            updated_at: now.as_second(),
        };
        self.store()
            .insert_agency(&row, actor)
            .await
            .map_err(exists)?;
        self.registry_event(
            "agency_add",
            Some(&row.country),
            json!({"agency": row.id, "by": actor}),
            now,
        )
        .await
    }

    /// Marks an agency verified (from now) or suspended.
    pub async fn set_agency_status(
        &self,
        id: &str,
        status: AgencyStatus,
        actor: &str,
    ) -> Result<()> {
        let now = Timestamp::now();
        let verified_since = (status == AgencyStatus::Verified).then(|| now.as_second());
        let row = self
            .store()
            .agency(id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("agency `{id}`")))?;
        // Re-verifying keeps the original date.
        let verified_since = row
            .verified_since
            .filter(|_| row.status == AgencyStatus::Verified.as_str())
            .or(verified_since);
        self.store()
            .set_agency_status(id, status.as_str(), verified_since, actor, now.as_second())
            .await
            .map_err(exists)?;
        let action = match status {
            AgencyStatus::Verified => "agency_verify",
            AgencyStatus::Suspended => "agency_suspend",
            AgencyStatus::Pending => "agency_status",
        };
        self.registry_event(
            action,
            Some(&row.country),
            json!({"agency": id, "by": actor}),
            now,
        )
        .await
    }

    /// Replaces the numbers staff call back to verify an emergency (E.164),
    /// recorded in the agency's history.
    pub async fn set_callback_numbers(
        &self,
        id: &str,
        numbers: &[String],
        actor: &str,
    ) -> Result<()> {
        for n in numbers {
            let digits = n.strip_prefix('+').unwrap_or_default();
            if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(GatewayError::Conflict(format!(
                    "callback number `{n}` is not in E.164 form (+ and 8 to 15 digits)"
                )));
            }
        }
        self.store()
            .set_agency_contacts(
                id,
                &serde_json::to_string(numbers)?,
                None,
                actor,
                Timestamp::now().as_second(),
            )
            .await
            .map_err(exists)?;
        self.registry_changed();
        Ok(())
    }

    /// Registers a request-signing key for an agency.
    pub async fn add_agency_key(
        &self,
        agency_id: &str,
        key_id: &str,
        public_key_b64: &str,
        actor: &str,
    ) -> Result<()> {
        let key = parse_public_key(public_key_b64)?;
        let now = Timestamp::now();
        let row = AgencyKeyRow {
            key_id: key_id.to_owned(),
            agency_id: agency_id.to_owned(),
            public_key: B64.encode(key.as_bytes()),
            created_at: now.as_second(),
            revoked_at: None,
        };
        self.store()
            .add_agency_key(&row, actor)
            .await
            .map_err(exists)?;
        let country = self.store().agency(agency_id).await?.map(|a| a.country);
        let fingerprint = crate::canonical::sha256_hex(key.as_bytes());
        self.registry_event(
            "key_add",
            country.as_deref(),
            json!({"agency": agency_id, "key_id": key_id, "fingerprint": fingerprint, "by": actor}),
            now,
        )
        .await
    }

    /// Revokes an agency's request-signing key: from this moment nothing it
    /// signs is accepted (keys are never cached), and the agency's portal
    /// sessions end, since one of them may have been opened with it.
    pub async fn revoke_agency_key(
        &self,
        agency_id: &str,
        key_id: &str,
        actor: &str,
    ) -> Result<()> {
        let key = self
            .store()
            .agency_key(key_id)
            .await?
            .filter(|k| k.agency_id == agency_id && k.revoked_at.is_none())
            .ok_or_else(|| {
                GatewayError::NotFound(format!(
                    "a key `{key_id}` of agency `{agency_id}` that is not revoked yet"
                ))
            })?;
        let now = Timestamp::now();
        self.store()
            .revoke_agency_key(key_id, actor, now.as_second())
            .await
            .map_err(exists)?;
        let country = self.store().agency(agency_id).await?.map(|a| a.country);
        let fingerprint =
            crate::canonical::sha256_hex(parse_public_key(&key.public_key)?.as_bytes());
        self.registry_event(
            "key_revoke",
            country.as_deref(),
            json!({"agency": agency_id, "key_id": key_id, "fingerprint": fingerprint, "by": actor}),
            now,
        )
        .await
    }

    /// The agency and verifying key behind a request-signing key id, if the
    /// key is registered and not revoked.
    pub async fn signing_key(
        &self,
        key_id: &str,
    ) -> Result<Option<(String, ed25519_dalek::VerifyingKey)>> {
        match self.store().agency_key(key_id).await? {
            Some(k) if k.revoked_at.is_none() => Ok(Some((
                k.agency_id.clone(),
                parse_public_key(&k.public_key)?,
            ))),
            _ => Ok(None),
        }
    }

    pub async fn agency_view(&self, id: &str) -> Result<AgencyView> {
        let row = self
            .store()
            .agency(id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("agency `{id}`")))?;
        let keys = self.store().agency_keys(id).await?;
        Ok(AgencyView {
            agency: agency_of_row(&row)?,
            callback_numbers: serde_json::from_str(&row.callback_numbers)?,
            age_recipient: row.age_recipient.clone(),
            keys: keys
                .into_iter()
                .filter(|k| k.revoked_at.is_none())
                .map(|k| k.key_id)
                .collect(),
        })
    }

    /// Records which witnesses cosign the log and how many must (their
    /// verifier keys, sorted, and the quorum): when that differs from what
    /// was recorded last, the new set is kept and a `registry` entry
    /// (`witnesses`) goes into the log, so that a change of witnesses is
    /// itself witnessed. Whether it changed.
    pub async fn record_witnesses(&self, vkeys: &[String], quorum: usize) -> Result<bool> {
        let mut sorted = vkeys.to_vec();
        sorted.sort();
        sorted.dedup();
        if sorted.is_empty() && self.store().meta(WITNESSES).await?.is_none() {
            // A deployment that never had witnesses has nothing to record.
            return Ok(false);
        }
        let set = json!({"witnesses": sorted, "quorum": quorum});
        let now = Timestamp::now();
        let event = events::registry("witnesses", None, set.clone(), now)?;
        let changed = self
            .store()
            .meta_change(WITNESSES, &set.to_string(), &[event])
            .await?;
        if changed {
            tracing::info!(
                witnesses = sorted.len(),
                quorum,
                "the log's witnesses changed"
            );
            self.events_written();
        }
        Ok(changed)
    }

    /// The witnesses recorded last (see [`Gateway::record_witnesses`]):
    /// their verifier keys and the quorum; empty with no witnesses.
    pub async fn witnesses(&self) -> Result<(Vec<String>, usize)> {
        let Some(text) = self.store().meta(WITNESSES).await? else {
            return Ok((Vec::new(), 0));
        };
        let v: serde_json::Value = serde_json::from_str(&text)?;
        let keys = v["witnesses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok((keys, v["quorum"].as_u64().unwrap_or(0) as usize))
    }

    pub(crate) async fn registry_event(
        &self,
        action: &str,
        country: Option<&str>,
        details: serde_json::Value,
        at: Timestamp,
    ) -> Result<()> {
        self.registry_changed();
        let event = events::registry(action, country, details, at)?;
        self.store().insert_events(&[event]).await?;
        self.events_written();
        Ok(())
    }
}
