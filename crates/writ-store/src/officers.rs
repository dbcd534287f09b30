//! An agency's officers and their passkeys. Each change is written with the
//! agency's history row and its `registry` event, in one transaction.

use sqlx::Row;

use crate::{NewEvent, Result, Store, StoreError, history, insert_event};

/// An officer as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficerRow {
    pub id: String,
    pub agency_id: String,
    pub name: String,
    pub title: String,
    pub badge: String,
    pub email: String,
    pub phone: String,
    pub admin: bool,
    pub totp_secret: String,
    pub created_at: i64,
    pub created_by: String,
    pub removed_at: Option<i64>,
}

/// A registered passkey: its credential id and webauthn-rs's serialization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyRow {
    pub credential_id: String,
    pub officer_id: String,
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, agency_id, name, title, badge, email, phone, admin, \
         totp_secret, created_at, created_by, removed_at"
    };
}

fn officer_of(r: &sqlx::any::AnyRow) -> Result<OfficerRow> {
    Ok(OfficerRow {
        id: r.try_get(0)?,
        agency_id: r.try_get(1)?,
        name: r.try_get(2)?,
        title: r.try_get(3)?,
        badge: r.try_get(4)?,
        email: r.try_get(5)?,
        phone: r.try_get(6)?,
        admin: r.try_get::<i64, _>(7)? != 0,
        totp_secret: r.try_get(8)?,
        created_at: r.try_get(9)?,
        created_by: r.try_get(10)?,
        removed_at: r.try_get(11)?,
    })
}

fn passkey_of(r: &sqlx::any::AnyRow) -> Result<PasskeyRow> {
    Ok(PasskeyRow {
        credential_id: r.try_get(0)?,
        officer_id: r.try_get(1)?,
        passkey: r.try_get(2)?,
        created_at: r.try_get(3)?,
        last_used_at: r.try_get(4)?,
    })
}

impl Store {
    /// Adds an officer, with its history row and `registry` event. An
    /// officer of the agency with the same e-mail address is `Exists`.
    pub async fn insert_officer(&self, row: &OfficerRow, event: &NewEvent) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "SELECT 1 FROM officers WHERE agency_id = $1 AND email = $2 AND removed_at IS NULL",
        )
        .bind(&row.agency_id)
        .bind(&row.email)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(StoreError::Exists("officer", row.email.clone()));
        }
        sqlx::query(concat!(
            "INSERT INTO officers (",
            columns!(),
            ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&row.id)
        .bind(&row.agency_id)
        .bind(&row.name)
        .bind(&row.title)
        .bind(&row.badge)
        .bind(&row.email)
        .bind(&row.phone)
        .bind(i64::from(row.admin))
        .bind(&row.totp_secret)
        .bind(row.created_at)
        .bind(&row.created_by)
        .bind(row.removed_at)
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{} <{}>{}",
            row.name,
            row.email,
            if row.admin { ", officer-admin" } else { "" }
        );
        history(
            &mut tx,
            &row.agency_id,
            "officer-add",
            &detail,
            &row.created_by,
            row.created_at,
        )
        .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An officer by id, removed or not.
    pub async fn officer(&self, id: &str) -> Result<Option<OfficerRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM officers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(officer_of).transpose()
    }

    /// The agency's live officer with this e-mail address.
    pub async fn officer_by_email(
        &self,
        agency_id: &str,
        email: &str,
    ) -> Result<Option<OfficerRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM officers \
             WHERE agency_id = $1 AND email = $2 AND removed_at IS NULL"
        ))
        .bind(agency_id)
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(officer_of).transpose()
    }

    /// The agency's officers, live ones first, each group by name.
    pub async fn officers(&self, agency_id: &str) -> Result<Vec<OfficerRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM officers WHERE agency_id = $1 \
             ORDER BY (removed_at IS NOT NULL), name, id"
        ))
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(officer_of).collect()
    }

    /// Removes a live officer: its passkeys and sessions end with it, in
    /// one transaction with the history row and the `registry` event.
    pub async fn remove_officer(
        &self,
        id: &str,
        actor: &str,
        at: i64,
        event: &NewEvent,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM officers WHERE id = $1 AND removed_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row.as_ref().map(officer_of).transpose()? else {
            return Err(StoreError::NotFound("officer", id.to_owned()));
        };
        sqlx::query("UPDATE officers SET removed_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Self::end_officer_access(&mut tx, id).await?;
        let detail = format!("{} <{}>", row.name, row.email);
        history(
            &mut tx,
            &row.agency_id,
            "officer-remove",
            &detail,
            actor,
            at,
        )
        .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a live officer's sign-in after a callback: its passkeys and
    /// sessions end and `totp_secret` replaces the old one, with the history
    /// row (`detail` says who was called at which number) and the event.
    pub async fn reset_officer(
        &self,
        id: &str,
        totp_secret: &str,
        detail: &str,
        actor: &str,
        at: i64,
        event: &NewEvent,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let agency: Option<String> =
            sqlx::query("SELECT agency_id FROM officers WHERE id = $1 AND removed_at IS NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        let Some(agency) = agency else {
            return Err(StoreError::NotFound("officer", id.to_owned()));
        };
        sqlx::query("UPDATE officers SET totp_secret = $2 WHERE id = $1")
            .bind(id)
            .bind(totp_secret)
            .execute(&mut *tx)
            .await?;
        Self::end_officer_access(&mut tx, id).await?;
        sqlx::query("DELETE FROM totp_last_steps WHERE user_name = $1")
            .bind(format!("officer:{id}"))
            .execute(&mut *tx)
            .await?;
        history(&mut tx, &agency, "officer-reset", detail, actor, at).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_officer_access(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM officer_passkeys WHERE officer_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM portal_sessions WHERE officer_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Registers a passkey for a live officer.
    pub async fn insert_passkey(&self, row: &PasskeyRow) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let live =
            sqlx::query("SELECT agency_id FROM officers WHERE id = $1 AND removed_at IS NULL")
                .bind(&row.officer_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(live) = live else {
            return Err(StoreError::NotFound("officer", row.officer_id.clone()));
        };
        let agency: String = live.try_get(0)?;
        let done = sqlx::query(
            "INSERT INTO officer_passkeys (credential_id, officer_id, passkey, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(&row.credential_id)
        .bind(&row.officer_id)
        .bind(&row.passkey)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists("passkey", row.credential_id.clone()));
        }
        history(
            &mut tx,
            &agency,
            "passkey-add",
            &row.officer_id,
            &format!("officer:{}", row.officer_id),
            row.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A passkey by its credential id.
    pub async fn passkeys_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyRow>> {
        let row = sqlx::query(
            "SELECT credential_id, officer_id, passkey, created_at, last_used_at \
             FROM officer_passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(passkey_of).transpose()
    }

    /// An officer's passkeys, oldest first.
    pub async fn passkeys(&self, officer_id: &str) -> Result<Vec<PasskeyRow>> {
        let rows = sqlx::query(
            "SELECT credential_id, officer_id, passkey, created_at, last_used_at \
             FROM officer_passkeys WHERE officer_id = $1 ORDER BY created_at, credential_id",
        )
        .bind(officer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passkey_of).collect()
    }

    /// Stores a passkey's state after a sign-in (its counter) and when it
    /// was used.
    pub async fn update_passkey(&self, credential_id: &str, passkey: &str, at: i64) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "UPDATE officer_passkeys SET passkey = $2, last_used_at = $3 WHERE credential_id = $1",
        )
        .bind(credential_id)
        .bind(passkey)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
